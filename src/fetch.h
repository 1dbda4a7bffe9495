/* fetch.h: worker threads that fetch URLs with libcurl and send results. */
#ifndef FETCH_H
#define FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "chan.h"

struct curl_slist;
struct fetch_opts;

/*
 * A run fetches a list of URLs with a pool of worker threads.  Each worker
 * owns one libcurl handle, so its connections are kept alive from one URL
 * to the next; it takes URL indices from a jobs channel and sends one
 * struct fetch_result per URL on the results channel.  The caller receives
 * exactly as many results as there are URLs and must receive them all: the
 * results channel holds one per worker, so a worker waits only while the
 * caller is behind, and never for a result nobody will take.
 *
 * curl_global_init() must have been called before fetch_start().
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
	size_t	 workers;		/* Threads at most; 0: one per URL. */
	long	 max_time_ms;		/* Per attempt. */
	long	 connect_timeout_ms;
	bool	 follow;		/* Follow redirects (http, https). */
	long	 max_redirs;		/* When following; -1: no limit. */
	const char *method;		/* NULL (GET) or borrowed. */
	bool	 head;			/* HEAD: status and headers only. */
	struct curl_slist *headers;	/* NULL or borrowed; only read. */
	const char *user_agent;		/* NULL (fetch_urls/VERSION), or
					   borrowed. */
	const char *userpwd;		/* NULL or borrowed "user:password"
					   for HTTP Basic authentication. */
	bool	 insecure;		/* Do not verify TLS peers. */
	const struct fetch_opts *opts;	/* NULL or borrowed: TLS, name
					   resolution (fetch_opts.h). */
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
	size_t			 index;	/* Into the run's URL list. */
	enum fetch_outcome	 outcome;
	long			 status; /* The last HTTP status received,
					   also when an error followed it;
					   0 without one. */
	double			 secs;	/* All attempts and the waits. */
	char			*error;	/* NULL or malloced; receiver frees. */
	long long		 bytes;	/* Body bytes of the last attempt. */
	long			 redirects;	/* Followed. */
	char			*effective_url;	/* NULL or malloced; receiver
						   frees.  The last URL
						   fetched. */
	const char		*http_version;	/* NULL or static: "1.0",
						   "1.1", "2", "3". */
	long			 retries;	/* Attempts after the first. */
	struct fetch_timings	 timings;
};

/*
 * Readies the process for runs over at most n URLs with at most workers
 * workers each (0: one per URL): raises the open-file limit to its hard
 * limit, and grows the descriptor table to what those workers can open.
 * Call it while the process has one thread: a threaded process that grows
 * its table waits for an RCU grace period, several milliseconds, each time
 * the table doubles, and so does every thread opening a descriptor
 * meanwhile.  Nothing fails without it; runs only start slower.
 */
void		 fetch_prepare(size_t n, size_t workers);

/*
 * Starts the workers of a run over urls[0..n), which the run borrows until
 * fetch_finish().  The number of workers is cfg->workers (or n), at most
 * n, and at most what the open-file limit leaves room for.  Returns the run,
 * or NULL with a reason in err when not even one worker could start.
 */
struct fetch_run *fetch_start(const struct fetch_config *cfg,
		    char *const *urls, size_t n, char *err, size_t errlen);

/* The channel of struct fetch_result values; owned by the run. */
chan_t		*fetch_results(struct fetch_run *run);

/* How many workers the run started. */
size_t		 fetch_workers(const struct fetch_run *run);

/* How many transfers are in flight now; a snapshot, for progress. */
size_t		 fetch_in_flight(struct fetch_run *run);

/*
 * Cancels the run: transfers in flight are aborted within milliseconds and
 * URLs not yet started are not fetched; each still produces a result with
 * outcome FETCH_CANCELLED.  Safe from any thread; idempotent.
 */
void		 fetch_cancel(struct fetch_run *run);

/*
 * Waits for every worker to exit and frees the run.  Call it after
 * receiving all n results.
 */
void		 fetch_finish(struct fetch_run *run);

/* Frees what a result owns. */
void		 fetch_result_free(struct fetch_result *res);

#endif /* FETCH_H */
