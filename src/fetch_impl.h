/*
 * fetch_impl.h: the fetch module's insides, shared by its files and seen
 * by nothing else: fetch.c (the pool and cancellation), fetch_transfer.c
 * (one transfer, its retries and its set-up), fetch_os.c (the process's
 * limits and the workers' stacks) and fetch_opts.c (the options the
 * configuration sets on each handle).
 */
#ifndef FETCH_IMPL_H
#define FETCH_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "body.h"
#include "fetch.h"
#include "fetch_opts.h"
#include "limit.h"
#include "fetch_transport.h"

/*
 * The libcurl lists a run builds once from its configuration's arrays of
 * strings and sets on every handle, which only reads them.  A zero struct
 * holds none.
 */
struct fetch_lists {
	struct curl_slist	*headers;	/* NULL or owned: -H. */
	struct curl_slist	*resolve;	/* NULL or owned: --resolve. */
	struct curl_slist	*connect_to;	/* NULL or owned:
						   --connect-to. */
};

/*
 * Builds in l the lists of cfg (and cfg->opts, if not NULL).  Returns
 * CURLE_OK, or CURLE_OUT_OF_MEMORY; l then holds what was built, for
 * fetch_lists_free().
 */
CURLcode	fetch_lists_build(struct fetch_lists *l,
		    const struct fetch_config *cfg);

/* Frees what l holds; idempotent. */
void		fetch_lists_free(struct fetch_lists *l);

/*
 * Sets on e every option that cfg (and cfg->opts, if not NULL) asks for,
 * with the lists l built from it, and the policy every handle follows
 * (http and https only).  cfg, l and what they point to must outlive e's
 * transfers.  Returns CURLE_OK, or the first libcurl error: out of
 * memory, or an option this libcurl lacks.
 */
CURLcode	fetch_opts_apply(CURL *e, const struct fetch_config *cfg,
		    const struct fetch_lists *l);

/*
 * Readies the share of a run's handles for o, before any handle uses it:
 * with cookie files or a jar, the handles share one cookie store (under
 * the share's lock), which starts with the cookies of the files.  Returns
 * CURLE_OK, or libcurl's error (out of memory).
 */
CURLcode	fetch_opts_share(CURLSH *sh, const struct fetch_opts *o);

/*
 * Writes the cookie store of the share sh to o's jar, if any, once no
 * handle uses the share.  libcurl writes a temporary file and renames it;
 * a failure is not reported (cli.c checks the jar's directory first).
 */
void		fetch_opts_save(CURLSH *sh, const struct fetch_opts *o);

/*
 * A worker's stack: libcurl and TLS need far less than the 8 MiB default,
 * which matters with thousands of threads.  A multiple of the page size.
 * The thread's static thread-local storage takes its room from it, and
 * ThreadSanitizer's alone takes 900 kB.
 */
#ifndef WORKER_STACK
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define WORKER_STACK	(2048 * 1024)
#else
#define WORKER_STACK	(256 * 1024)
#endif
#endif

/* A worker thread and its libcurl handle. */
struct worker {
	pthread_t		 tid;
	struct fetch_run	*run;
	CURL			*easy;		/* Owned; freed on exit. */
	struct transport_port	*port;		/* Owned; freed on exit. */
	struct transport	*own;		/* NULL, or owned: see
						   fetch_own_port().  Set and
						   unset under pool_mu. */
	struct transport_port	*own_port;	/* NULL, or owned: on own. */
	char			 errbuf[CURL_ERROR_SIZE];
	struct body_file	 file;		/* The body being saved, with
						   cfg.body. */
	bool			 ready;		/* easy and port are set up. */
	bool			 in_headers;	/* A response's header block
						   began and has not ended. */
};

/* A URL queued for the workers. */
struct job {
	size_t	 urlnum;
	size_t	 seq;		/* Submitted before it. */
	char	*url;		/* Malloced; whoever holds the job owns it. */
};

struct fetch_run {
	struct fetch_config	 cfg;
	struct fetch_lists	 lists;		/* cfg's, for libcurl. */
	chan_t			*jobs;		/* struct job; closed when the
						   input ends. */
	chan_t			*results;	/* struct fetch_result; closed
						   after the last. */
	struct worker		*workers;	/* max_workers of them. */
	size_t			 max_workers;
	atomic_size_t		 nworkers;	/* Started. */
	atomic_size_t		 submitted;
	atomic_size_t		 finished;	/* Results sent. */
	chan_t			*room;		/* Capacity 1: a token when a
						   URL finished while
						   room_wanted. */
	atomic_bool		 room_wanted;	/* The submitter waits. */
	atomic_size_t		 starting;	/* Workers started that have
						   not yet set up. */
	pthread_mutex_t		 pool_mu;
	size_t			 live;		/* Workers not yet exited. */
	bool			 input_closed;	/* jobs is closed. */
	atomic_bool		 cancelled;
	chan_t			*done;		/* Closed on cancel; never
						   carries a value. */
	atomic_size_t		 in_flight;	/* Transfers running now. */
	struct limit_rate	 rate;		/* With has_rate. */
	bool			 has_rate;
	struct limit_hosts	*hosts;		/* NULL or owned. */
	CURLSH			*share;		/* DNS cache, TLS sessions. */
	struct transport	*transport;	/* Every transfer's. */
	char			*stacks;	/* NULL, or owned: see
						   fetch_os_stacks_new(). */
	size_t			 stack_slot;	/* A stack and its guard. */
	size_t			 stacks_len;
	pthread_attr_t		 attr;		/* For the workers' threads. */
	pthread_mutex_t		 share_locks[CURL_LOCK_DATA_LAST];
};

/* fetch.c */

/*
 * The port of w's own transport, for a plain HTTP transfer, made on first
 * use; NULL when the pool is small enough to share a lane, or when it
 * cannot be made (the transfer then runs on w->port).  Worker only.
 */
struct transport_port *fetch_own_port(struct worker *w);

/* fetch_transfer.c */

/*
 * Sets the options of w's easy handle that stay the same for every URL
 * it fetches.  Returns 0, or -1 (out of memory, or an option this
 * libcurl lacks).
 */
int		fetch_transfer_setup(struct worker *w);

/*
 * Fetches job's URL on w, blocking until its last attempt ends, and fills
 * res, which takes the URL.  A worker that is not ready, or a cancelled
 * run, gets its error at once.
 */
void		fetch_transfer_one(struct worker *w, struct job *job,
		    struct fetch_result *res);

/*
 * The share of a run's handles (DNS cache, TLS sessions), with its locks
 * in run; NULL when out of memory, and the run goes on without one.
 */
CURLSH	       *fetch_transfer_share_new(struct fetch_run *run);

/* Frees run->share and its locks, once no handle uses it; NULL: no-op. */
void		fetch_transfer_share_free(struct fetch_run *run);

/* fetch_os.c */

/* The most workers a run may start when asked for workers (0: default). */
size_t		fetch_os_workers_max(size_t workers);

/*
 * Reserves the stacks of want workers in run->stacks; leaves it NULL
 * when it cannot, and the workers get the C library's stacks.
 */
void		fetch_os_stacks_new(struct fetch_run *run, size_t want);

/*
 * Sets attr to worker i's stack of run->stacks.  Returns 0, or an errno
 * value.
 */
int		fetch_os_stack_attr(struct fetch_run *run, size_t i,
		    pthread_attr_t *attr);

#endif /* FETCH_IMPL_H */
