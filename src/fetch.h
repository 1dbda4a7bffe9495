/* fetch.h: worker threads that fetch URLs with libcurl and send results. */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

#include "chan.h"

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

struct fetch_config {
	size_t	 workers;		/* Threads at most; 0: one per URL. */
	long	 max_time_ms;		/* Per request. */
	long	 connect_timeout_ms;
};

enum fetch_outcome {
	FETCH_OK,			/* An HTTP response arrived. */
	FETCH_ERROR,			/* No response; see error. */
	FETCH_CANCELLED			/* Not fetched, or aborted. */
};

struct fetch_result {
	size_t			 index;	/* Into the run's URL list. */
	enum fetch_outcome	 outcome;
	long			 status; /* HTTP status; 0 without one. */
	double			 secs;	/* Time the request took. */
	char			*error;	/* NULL or malloced; receiver frees. */
};

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
