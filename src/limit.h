/* limit.h: limits on when requests start: a rate, and a cap per host. */
#ifndef LIMIT_H
#define LIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "chan.h"

/*
 * A rate limit over a whole run: starts are spaced 1/rate seconds apart,
 * the first at once; time left unused is not saved up for a burst later.
 * A caller reserves a start time and then waits for it by whatever means
 * it can cancel.  Safe from any thread between init and destroy.
 */
struct limit_rate {
	pthread_mutex_t	 mu;
	double		 interval;	/* Seconds between starts. */
	double		 next;		/* Earliest free start; under mu. */
	bool		 started;	/* next is set; guarded by mu. */
};

/* Sets up *lr for per_sec starts a second (> 0).  Returns 0 or -1. */
int	limit_rate_init(struct limit_rate *lr, double per_sec);

/*
 * Reserves the earliest free start at or after now (seconds on any clock
 * the caller always uses) and returns it.
 */
double	limit_rate_reserve(struct limit_rate *lr, double now);

void	limit_rate_destroy(struct limit_rate *lr);

/*
 * A cap on the requests in flight per host name (compared without regard
 * to case).  Each host gets a buffered channel of capacity per_host used
 * as a counting semaphore: a slot is taken by sending into it and given
 * back by receiving, so a full channel makes takers wait.
 */
struct limit_hosts;

/*
 * Creates the caps, per_host slots a host (>= 1).  Returns NULL with
 * errno set when out of memory.
 */
struct limit_hosts *limit_hosts_new(size_t per_host);

/*
 * Takes one of host's slots, waiting while they are all taken, until
 * done is closed: Go's select { case sem <- x: case <-done: }.  Returns
 * the slot's channel, to hand to limit_hosts_release() when the request
 * is over; or NULL with errno ECANCELED when done was closed first (also
 * when it already was), ENOMEM when out of memory.  The channel belongs
 * to lh.  Safe from any thread.
 */
chan_t	*limit_hosts_acquire(struct limit_hosts *lh, const char *host,
	    chan_t *done);

/* Gives back a slot taken with limit_hosts_acquire(); never blocks. */
void	 limit_hosts_release(chan_t *slot);

/* Frees the caps; no slot may be in use.  NULL is a no-op. */
void	 limit_hosts_free(struct limit_hosts *lh);

#endif /* LIMIT_H */
