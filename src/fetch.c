/* fetch.c: the pool of workers that fetch a run's URLs, and its end. */

/*
 * The pool.  The submitter (one thread) queues struct job values on jobs
 * and starts a worker when the URLs submitted but not finished are at
 * least the workers started, up to max_workers, unless STARTING_MAX
 * workers are still setting up, or the transport runs every stream an
 * origin may have or is behind with the transfers handed to it
 * (fetch_transport_holds()): a new worker would then most likely queue
 * its transfer.  A thousand URLs to one HTTP/2 host started a thousand
 * threads, most of them waiting; now 110 to 145 (measured).
 * The submitter waits instead, on room, until a worker
 * finishes a URL or ends its set-up, or the hold lapses.  Workers take
 * jobs until jobs is closed and drained, then exit; the last to exit
 * after the input ended closes results.
 *
 * Locks: pool_mu guards live, input_closed and each worker's own member;
 * share_locks[] are libcurl's share locks.  No thread holds two of them
 * at once.  nworkers only grows, is written by the submitter and read by
 * anyone.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <curl/curl.h>

#include "fetch_impl.h"

/*
 * Idle connections the transport keeps beyond the workers' own: one
 * worker fetching from a few hosts in turn (--serial) keeps a connection
 * to each.
 */
#define IDLE		16

/* Idle connections a worker's own transport keeps: see fetch_own_port(). */
#define OWN_IDLE	1

/*
 * Workers that may be setting up at once.  Each takes about 0.1 ms of
 * processor time; more at once would not start them sooner, and the
 * submitter would run ahead of what the transport has seen.
 */
#define STARTING_MAX	8

/* Results that wait for the caller before workers wait to send theirs. */
#define RESULTS_HELD	1024

/*
 * Counts a worker out; the last one out after the input ended closes the
 * results, and so does the end of an input that started no worker.
 */
static void
close_results_if_done(struct fetch_run *run)
{
	if (run->live == 0 && run->input_closed)
		(void)chan_close(run->results);
}

static void
worker_gone(struct fetch_run *run)
{
	pthread_mutex_lock(&run->pool_mu);
	run->live--;
	close_results_if_done(run);
	pthread_mutex_unlock(&run->pool_mu);
}

/*
 * In a pool larger than a lane, plain HTTP transfers (which cannot be
 * multiplexed here) run on a transport of the worker's own, in its
 * thread, made for its first such URL: thousands of them at once would
 * otherwise all be one thread's work (10,000 at 200 ms: 25% more time,
 * 20% more memory, measured), and a lane shares little but its idle
 * connections.  The worker keeps its own connections for its next URLs.
 */
struct transport_port *
fetch_own_port(struct worker *w)
{
	struct fetch_run *run = w->run;
	struct transport *own;

	if (w->own_port != NULL || run->max_workers <= FETCH_TRANSPORT_LANE_PORTS)
		return w->own_port;
	if ((own = fetch_transport_new(1, OWN_IDLE)) == NULL)
		return NULL;
	if ((w->own_port = fetch_transport_port_new(own, w->easy)) == NULL) {
		fetch_transport_free(own);
		return NULL;
	}
	/*
	 * Published under pool_mu for fetch_cancel() to wake.  A cancel whose
	 * walk of the workers came first stored cancelled before taking
	 * pool_mu, so the load after it sees the flag.
	 */
	pthread_mutex_lock(&run->pool_mu);
	w->own = own;
	pthread_mutex_unlock(&run->pool_mu);
	if (atomic_load(&run->cancelled))
		fetch_transport_cancel(own);
	return w->own_port;
}

/*
 * Wakes the submitter if it waits in wait_for_room(), after the caller
 * has changed finished or starting.  Dekker, both sides sequentially
 * consistent: the submitter raises room_wanted and then reads the
 * counts, the caller changed a count and then reads room_wanted, so one
 * of the two sees the other's store.  A token nobody waits for any more
 * only ends the next wait early, and the submitter looks again.
 */
static void
room_made(struct fetch_run *run)
{
	char token = 0;

	if (atomic_load(&run->room_wanted))
		(void)chan_try_send(run->room, &token);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct fetch_run *run = w->run;
	struct fetch_result res;
	struct transport *own;
	struct job job;

	body_init(&w->file);
	if ((w->easy = curl_easy_init()) != NULL)
		w->port = fetch_transport_port_new(run->transport, w->easy);
	w->ready = w->port != NULL && fetch_transfer_setup(w) == 0;
	atomic_fetch_sub(&run->starting, 1);
	room_made(run);

	while (chan_recv(run->jobs, &job) == 0) {
		fetch_transfer_one(w, &job, &res);
		/*
		 * Counted before the send: the submitter then never starts
		 * a worker for a URL whose result is on its way.
		 */
		atomic_fetch_add(&run->finished, 1);
		room_made(run);
		/* Only a cancelled caller's close could refuse it. */
		if (chan_send(run->results, &res) < 0)
			fetch_result_free(&res);
	}
	pthread_mutex_lock(&run->pool_mu);
	own = w->own;
	w->own = NULL;
	pthread_mutex_unlock(&run->pool_mu);
	fetch_transport_port_free(w->own_port);
	fetch_transport_free(own);
	fetch_transport_port_free(w->port);
	curl_easy_cleanup(w->easy);
	worker_gone(run);
	return NULL;
}

/*
 * GnuTLS initialises itself in a constructor when it is loaded, unless the
 * program defines this hook (what its manual's GNUTLS_SKIP_GLOBAL_INIT
 * expands to).  Debian's libcurl does its TLS with OpenSSL and loads GnuTLS
 * only for LDAP and RTMP, which fetch_urls never allows
 * (CURLOPT_PROTOCOLS_STR); libldap and librtmp call gnutls_global_init()
 * themselves before they use it.  Skipping it saves 1 to 3 ms of the 14
 * to 16 ms of processor time that --version takes (perf stat, three times
 * 100 runs each, measured).  The name is GnuTLS's; the linker exports it
 * for libgnutls to bind to.
 */
int	_gnutls_global_init_skip(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

int
fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

const char *
fetch_version(void)
{
	return curl_version();
}

/* Frees what a run owns once no worker runs; every member may be unset. */
static void
run_free(struct fetch_run *run)
{
	if (run->stacks != NULL)
		munmap(run->stacks, run->stacks_len);
	/* Its connections may use the share's TLS sessions: freed first. */
	fetch_transport_free(run->transport);
	fetch_transfer_share_free(run);
	if (run->has_rate)
		limit_rate_destroy(&run->rate);
	limit_hosts_free(run->hosts);
	fetch_lists_free(&run->lists);
	chan_free(run->done);
	chan_free(run->room);
	free(run->workers);
	chan_free(run->results);
	chan_free(run->jobs);
	pthread_attr_destroy(&run->attr);
	pthread_mutex_destroy(&run->pool_mu);
	free(run);
}

struct fetch_run *
fetch_start(const struct fetch_config *cfg, char *err, size_t errlen)
{
	struct fetch_run *run;

	if ((run = calloc(1, sizeof(*run))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	run->cfg = *cfg;
	atomic_init(&run->cancelled, false);
	atomic_init(&run->nworkers, 0);
	atomic_init(&run->submitted, 0);
	atomic_init(&run->finished, 0);
	atomic_init(&run->room_wanted, false);
	atomic_init(&run->starting, 0);
	atomic_init(&run->in_flight, 0);
	pthread_mutex_init(&run->pool_mu, NULL);
	pthread_attr_init(&run->attr);
	pthread_attr_setstacksize(&run->attr, WORKER_STACK);
	run->max_workers = fetch_os_workers_max(cfg->workers);

	/*
	 * The queue holds as many URLs as there may be workers, curl's
	 * choice too; results are held for at most RESULTS_HELD workers,
	 * which then wait for the caller.
	 */
	if ((run->jobs = chan_new(sizeof(struct job), run->max_workers)) ==
	    NULL || (run->results = chan_new(sizeof(struct fetch_result),
	    run->max_workers < RESULTS_HELD ? run->max_workers :
	    RESULTS_HELD)) == NULL || (run->workers = calloc(run->max_workers,
	    sizeof(*run->workers))) == NULL ||
	    (run->done = chan_new(1, 0)) == NULL ||
	    (run->room = chan_new(1, 1)) == NULL)
		goto nomem;
	if (fetch_lists_build(&run->lists, cfg) != CURLE_OK)
		goto nomem;
	/* A cap no smaller than the number of workers never binds. */
	if (cfg->per_host > 0 && cfg->per_host < run->max_workers &&
	    (run->hosts = limit_hosts_new(cfg->per_host)) == NULL)
		goto nomem;
	if (cfg->rate > 0) {
		if (limit_rate_init(&run->rate, cfg->rate) < 0) {
			snprintf(err, errlen, "cannot set up --rate");
			goto fail;
		}
		run->has_rate = true;
	}
	run->share = fetch_transfer_share_new(run);
	if (run->share != NULL && cfg->opts != NULL &&
	    fetch_opts_share(run->share, cfg->opts) != CURLE_OK)
		goto nomem;
	if ((run->transport = fetch_transport_new(run->max_workers, IDLE)) == NULL) {
		snprintf(err, errlen, "cannot start the transport: %s",
		    strerror(errno));
		goto fail;
	}
	fetch_os_stacks_new(run, run->max_workers);
	return run;

nomem:
	snprintf(err, errlen, "out of memory");
fail:
	run_free(run);
	return NULL;
}

/*
 * Starts the next worker.  Only the submitter calls it.  Returns 0, or -1
 * with errno ECANCELED (the input has ended) or EAGAIN (the reason in
 * err).
 */
static int
start_worker(struct fetch_run *run, char *err, size_t errlen)
{
	size_t i = atomic_load(&run->nworkers);
	struct worker *w = &run->workers[i];
	char why[128];
	int e;

	pthread_mutex_lock(&run->pool_mu);
	if (run->input_closed) {
		pthread_mutex_unlock(&run->pool_mu);
		errno = ECANCELED;
		return -1;
	}
	run->live++;
	pthread_mutex_unlock(&run->pool_mu);
	atomic_fetch_add(&run->starting, 1);
	w->run = run;
	if ((run->stacks == NULL || (e = fetch_os_stack_attr(run, i, &run->attr)) ==
	    0) && (e = pthread_create(&w->tid, &run->attr, worker_main, w)) ==
	    0) {
		/* Read by fetch_cancel() and fetch_finish(): see above. */
		atomic_store(&run->nworkers, i + 1);
		return 0;
	}
	atomic_fetch_sub(&run->starting, 1);
	worker_gone(run);
	if (strerror_r(e, why, sizeof(why)) != 0)
		snprintf(why, sizeof(why), "error %d", e);
	snprintf(err, errlen, "cannot start a worker thread: %s", why);
	errno = EAGAIN;
	return -1;
}

/*
 * Waits until a worker finishes a URL or ends its start after the
 * submitter read finished and starting (seen: the one less the other),
 * until the run is cancelled, or for at most ms milliseconds.  Only the
 * submitter calls it.
 */
static void
wait_for_room(struct fetch_run *run, size_t seen, long ms)
{
	struct chan_case cases[2];
	char token;

	/* See room_made(). */
	atomic_store(&run->room_wanted, true);
	if (atomic_load(&run->finished) - atomic_load(&run->starting) ==
	    seen) {
		cases[0] = (struct chan_case){ run->room, CHAN_RECV, &token,
		    false };
		cases[1] = (struct chan_case){ run->done, CHAN_RECV, NULL,
		    false };
		(void)chan_select(cases, 2, ms);
	}
	atomic_store(&run->room_wanted, false);
}

int
fetch_submit(struct fetch_run *run, size_t urlnum, char *url, char *err,
    size_t errlen)
{
	struct job job = { urlnum, 0, url };
	size_t n, pending, finished, starting;
	long ms;

	if (atomic_load(&run->cancelled)) {
		errno = ECANCELED;
		return -1;
	}
	/*
	 * URLs queued or in flight, this one included: when they are more
	 * than the workers, one of them would wait.  finished never passes
	 * submitted, which counts a URL before it is queued.
	 */
	job.seq = atomic_fetch_add(&run->submitted, 1);
	for (;;) {
		n = atomic_load(&run->nworkers);
		starting = atomic_load(&run->starting);
		finished = atomic_load(&run->finished);
		pending = job.seq + 1 - finished;
		if (pending <= n || n == run->max_workers)
			break;
		ms = FETCH_TRANSPORT_HOLD_MS;
		if (n == 0 || (starting < STARTING_MAX &&
		    !fetch_transport_holds(run->transport, n, &ms))) {
			if (start_worker(run, err, errlen) < 0 &&
			    (errno == ECANCELED || n == 0))
				goto refused;
			break;
		}
		wait_for_room(run, finished - starting, ms);
		if (atomic_load(&run->cancelled)) {
			errno = ECANCELED;
			goto refused;
		}
	}
	if (chan_send(run->jobs, &job) == 0)
		return 0;
	errno = ECANCELED;
refused:
	atomic_fetch_sub(&run->submitted, 1);
	return -1;
}

/* Closes the input once: no more jobs, and no more workers. */
void
fetch_end_input(struct fetch_run *run)
{
	pthread_mutex_lock(&run->pool_mu);
	if (!run->input_closed) {
		run->input_closed = true;
		(void)chan_close(run->jobs);
		close_results_if_done(run);
	}
	pthread_mutex_unlock(&run->pool_mu);
}

chan_t *
fetch_results(struct fetch_run *run)
{
	return run->results;
}

chan_t *
fetch_done(struct fetch_run *run)
{
	return run->done;
}

size_t
fetch_workers(struct fetch_run *run)
{
	return atomic_load(&run->nworkers);
}

size_t
fetch_max_workers(const struct fetch_run *run)
{
	return run->max_workers;
}

size_t
fetch_submitted(struct fetch_run *run)
{
	return atomic_load(&run->submitted);
}

size_t
fetch_in_flight(struct fetch_run *run)
{
	return atomic_load(&run->in_flight);
}

void
fetch_cancel(struct fetch_run *run)
{
	size_t i, n;

	if (atomic_exchange(&run->cancelled, true))
		return;
	/* Wakes the workers that wait for a host's slot, or pause. */
	(void)chan_close(run->done);
	fetch_transport_cancel(run->transport);
	/*
	 * A worker publishes its own transport under pool_mu and then looks
	 * at cancelled (fetch_own_port()): one not seen here sees the flag.
	 */
	n = atomic_load(&run->nworkers);
	pthread_mutex_lock(&run->pool_mu);
	for (i = 0; i < n; i++)
		if (run->workers[i].own != NULL)
			fetch_transport_cancel(run->workers[i].own);
	pthread_mutex_unlock(&run->pool_mu);
	/* Queued URLs still reach a worker, which reports them cancelled. */
	fetch_end_input(run);
}

bool
fetch_cancelled(struct fetch_run *run)
{
	return atomic_load(&run->cancelled);
}

void
fetch_finish(struct fetch_run *run)
{
	size_t i, n;

	if (run == NULL)
		return;
	n = atomic_load(&run->nworkers);
	for (i = 0; i < n; i++)
		pthread_join(run->workers[i].tid, NULL);
	if (run->share != NULL && run->cfg.opts != NULL && !run->cfg.skip_jar)
		fetch_opts_save(run->share, run->cfg.opts);
	run_free(run);
}

void
fetch_result_free(struct fetch_result *res)
{
	free(res->url);
	res->url = NULL;
	free(res->error);
	res->error = NULL;
	free(res->effective_url);
	res->effective_url = NULL;
	free(res->file);
	res->file = NULL;
}
