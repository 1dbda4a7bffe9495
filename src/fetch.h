/* fetch.h: worker threads that fetch URLs with libcurl and send results. */
#ifndef FETCH_H
#define FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "chan.h"

struct body_config;
struct fetch_opts;

/*
 * A run fetches a stream of URLs with a pool of worker threads.  The
 * caller submits URLs one at a time as it reads them; a worker is started
 * whenever a URL arrives and every worker started is busy, up to the
 * run's maximum, so a run never has more workers than URLs so far.  Each
 * worker owns one libcurl easy handle, takes URLs from a bounded queue,
 * runs each transfer on the run's transport (fetch_transport.h), whose
 * connections serve every worker (kept alive from one URL to the next
 * whoever fetches it, and shared as HTTP/2 streams), and sends one
 * struct fetch_result per URL on the results channel, which the
 * run closes once the input has ended (fetch_end_input() or
 * fetch_cancel()) and every result has been sent.  The caller receives
 * until then; results wait in the channel while it is behind, and the
 * queue holds at most as many URLs as the run may have workers, so memory
 * does not grow with the number of URLs.
 *
 * fetch_global_init() must have been called before fetch_start().
 */
struct fetch_run;

/*
 * What a run does for every URL.  A transient failure (a timeout, a
 * failed connection, or status 408, 429 or 5xx) is tried again up to
 * retries times, after 1, 2, 4... seconds (at most 30) or what the
 * response's Retry-After asks (at most 600); the waits end at once when
 * the run is cancelled.  rate and per_host limit every attempt, retries
 * included, and the wait for them before the first does not count in
 * secs; per_host counts an attempt from before its first byte is sent to
 * after its last is received, under the host name the URL gives
 * (redirects followed by libcurl count under the first host).
 */
struct fetch_config {
	size_t	 workers;		/* Threads at most; 0: as many as the
					   open-file limit allows. */
	long	 max_time_ms;		/* Per attempt. */
	long	 connect_timeout_ms;
	bool	 follow;		/* Follow redirects (http, https). */
	long	 max_redirs;		/* When following; -1: no limit. */
	const char *method;		/* NULL (GET) or borrowed. */
	bool	 head;			/* HEAD: status and headers only. */
	const char *const *headers;	/* NULL or borrowed, NULL-ended:
					   "Name: value" lines to send. */
	const char *user_agent;		/* NULL (fetch_urls/VERSION), or
					   borrowed. */
	const char *userpwd;		/* NULL or borrowed "user:password"
					   for HTTP Basic authentication. */
	bool	 insecure;		/* Do not verify TLS peers. */
	const struct fetch_opts *opts;	/* NULL or borrowed: TLS, names,
					   bodies, proxies, cookies
					   (fetch_opts.h). */
	bool	 skip_jar;		/* Do not write opts->cookie_jar
					   when the run ends: a later run
					   of the same cookies will. */
	const struct body_config *body;	/* NULL (bodies are discarded) or
					   borrowed: where each body is saved
					   (body.h); only a complete
					   response's is kept. */
	long	 retries;		/* Extra attempts; 0: none. */
	double	 rate;			/* Starts a second; 0: no limit. */
	size_t	 per_host;		/* In flight a host; 0: no limit. */
};

enum fetch_outcome {
	FETCH_OK,			/* An HTTP response arrived. */
	FETCH_ERROR,			/* No complete response; see
					   error (and status, if one
					   came). */
	FETCH_CANCELLED			/* Not fetched, or aborted. */
};

/*
 * libcurl's timings of the last attempt, in seconds from its start to
 * the end of each phase, as curl's --write-out reports them: name lookup,
 * TCP connect, TLS handshake (0 without TLS), first byte, and the whole
 * transfer.  All 0 when no attempt was made.
 */
struct fetch_timings {
	double	dns;
	double	connect;
	double	tls;
	double	ttfb;
	double	total;
};

struct fetch_result {
	size_t			 urlnum; /* As given to fetch_submit(). */
	size_t			 seq;	/* URLs submitted before it. */
	char			*url;	/* Malloced; the receiver frees it
					   with fetch_result_free(). */
	enum fetch_outcome	 outcome;
	long			 status; /* The last HTTP status received,
					   also when an error followed it;
					   0 without one. */
	double			 secs;	/* All attempts and the waits. */
	char			*error;	/* NULL or malloced; receiver frees. */
	const char		*kind;	/* NULL, or static with error: the
					   kind of error, a short phrase
					   such as "malformed URL" or
					   libcurl's "Timeout was
					   reached", for --stats. */
	long long		 bytes;	/* Body bytes of the last attempt. */
	long			 redirects;	/* Followed. */
	char			*effective_url;	/* NULL or malloced; receiver
						   frees.  The last URL
						   fetched. */
	const char		*http_version;	/* NULL or static: "1.0",
						   "1.1", "2", "3". */
	long			 retries;	/* Attempts after the first. */
	long			 connects;	/* New connections the last
						   attempt made: 0 when it
						   reused one. */
	char			*file;	/* NULL or malloced; receiver frees.
					   The path the body was saved to. */
	struct fetch_timings	 timings;
};

/*
 * Readies the process for runs with at most workers workers each (0: the
 * default): raises the open-file limit to its hard limit, and grows the
 * descriptor table to what those workers can open.  Call it while the
 * process has one thread: a threaded process that grows its table waits
 * for an RCU grace period, several milliseconds, each time the table
 * doubles, and so does every thread opening a descriptor meanwhile.
 * Nothing fails without it; runs only start slower.
 */
void		 fetch_prepare(size_t workers);

/*
 * Sets up libcurl for the process; call it once, before any thread
 * starts.  Returns 0, or -1 when libcurl cannot be initialised.
 */
int		 fetch_global_init(void);

/* Undoes fetch_global_init() once no run is left. */
void		 fetch_global_cleanup(void);

/* libcurl's version line, as "libcurl/7.88.1 OpenSSL/3.0.15 ...". */
const char	*fetch_version(void);

/*
 * Starts a run with no worker yet: workers start as URLs are submitted.
 * Its maximum of workers is cfg->workers, or what the open-file limit
 * leaves room for.  Returns the run, or NULL with a reason in err.
 */
struct fetch_run *fetch_start(const struct fetch_config *cfg, char *err,
		    size_t errlen);

/*
 * Submits url (malloced; the run takes it) as URL number urlnum.  Blocks
 * while the queue is full.  Starts a worker when every worker started is
 * busy and the maximum is not reached, unless workers enough are still
 * setting up, the transfers in flight already take every stream of an
 * HTTP/2 connection, or the transport thread is behind with the transfers
 * handed to it: then it blocks until a worker is free or set up, or for
 * at most 100 ms while none of those moves.  Only one thread may submit.
 * Returns 0; or -1, url still the caller's, with errno ECANCELED when the
 * run was cancelled (before or while waiting), or EAGAIN when no worker
 * could be started and none runs (the reason, from pthread_create(), in
 * err).
 */
int		 fetch_submit(struct fetch_run *run, size_t urlnum, char *url,
		    char *err, size_t errlen);

/* Says that no more URLs will be submitted.  Idempotent. */
void		 fetch_end_input(struct fetch_run *run);

/* The channel of struct fetch_result values; owned by the run. */
chan_t		*fetch_results(struct fetch_run *run);

/*
 * A channel that is closed when the run is cancelled and never carries a
 * value: a thread waiting for something else can select on it too.
 */
chan_t		*fetch_done(struct fetch_run *run);

/* How many workers the run started so far. */
size_t		 fetch_workers(struct fetch_run *run);

/* The most workers the run will start. */
size_t		 fetch_max_workers(const struct fetch_run *run);

/* How many URLs were submitted so far; a snapshot, for progress. */
size_t		 fetch_submitted(struct fetch_run *run);

/* How many transfers are in flight now; a snapshot, for progress. */
size_t		 fetch_in_flight(struct fetch_run *run);

/*
 * Cancels the run: transfers in flight are aborted within milliseconds,
 * URLs queued are not fetched, and no more are taken; each URL submitted
 * still produces a result, with outcome FETCH_CANCELLED.  Ends the input
 * too.  Safe from any thread; idempotent.
 */
void		 fetch_cancel(struct fetch_run *run);

/* Whether fetch_cancel() was called. */
bool		 fetch_cancelled(struct fetch_run *run);

/*
 * Waits for every worker to exit and frees the run.  Call it once the
 * results channel is closed and drained, and no thread submits any more.
 */
void		 fetch_finish(struct fetch_run *run);

/* Frees what a result owns. */
void		 fetch_result_free(struct fetch_result *res);

#endif /* FETCH_H */
