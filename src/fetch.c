/* fetch.c: worker threads that fetch URLs with libcurl and send results. */

/*
 * The pool.  The submitter (one thread) queues struct job values on jobs
 * and starts a worker when the URLs submitted but not finished are at
 * least the workers started, up to max_workers.  Workers take jobs until
 * jobs is closed and drained, then exit; the last to exit after the input
 * ended closes results.
 *
 * Locks: pool_mu guards live and input_closed; multis_mu guards each
 * worker's multi member; share_locks[] are libcurl's share locks.  No
 * thread holds two of them at once.  nworkers only grows, is written by
 * the submitter and read by anyone (an atomic: see fetch_cancel()).
 */

#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS, MAP_NORESERVE, MAP_STACK */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "body.h"
#include "fetch_impl.h"
#include "limit.h"

/*
 * Waits before a retry: 1 s, then twice as long each time, at most
 * RETRY_WAIT_MAX; or what the response's Retry-After asks, at most
 * RETRY_AFTER_MAX.
 */
#define RETRY_WAIT_FIRST	1.0
#define RETRY_WAIT_MAX		30.0
#define RETRY_AFTER_MAX		600.0

/*
 * Descriptors a worker may hold at once: its connection (its multi
 * handle keeps no other: see worker_main()), the wakeup socket pair of
 * its multi handle, and a resolver's socket pair; and the ones kept back
 * for the rest of the process.
 */
#define FDS_PER_WORKER	5
#define FDS_RESERVED	32

/* Results that wait for the caller before workers wait to send theirs. */
#define RESULTS_HELD	1024

/* Workers never hold more than this many threads, whatever the limits. */
#define WORKERS_MAX	16384

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

struct worker {
	pthread_t		 tid;
	struct fetch_run	*run;
	CURL			*easy;		/* Owned; freed on exit. */
	CURLM			*multi;		/* Owned; freed on exit.  Set
						   and unset under multis_mu. */
	char			 errbuf[CURL_ERROR_SIZE];
	struct body_file	 file;		/* The body being saved, with
						   cfg.body. */
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
	char			*stacks;	/* NULL, or owned: see
						   stacks_new(). */
	size_t			 stack_slot;	/* A stack and its guard. */
	size_t			 stacks_len;
	pthread_mutex_t		 multis_mu;	/* Workers' multi handles. */
	pthread_attr_t		 attr;		/* For the workers' threads. */
	pthread_mutex_t		 share_locks[CURL_LOCK_DATA_LAST];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* Saves a piece of the body; a short count makes libcurl fail. */
static size_t
save_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct worker *w = arg;

	return body_write(&w->file, data, size * nmemb) == 0 ?
	    size * nmemb : 0;
}

/*
 * Watches the header blocks of a response (one for each redirect or
 * interim 1xx response): each starts with a status line and ends with a
 * blank line, which libcurl passes on for HTTP/2 and 3 too.  A block that
 * never ended means the connection closed inside the headers, which
 * libcurl 7.88 reports as a success.
 */
static size_t
header_seen(char *data, size_t size, size_t nmemb, void *arg)
{
	struct worker *w = arg;
	size_t len = size * nmemb;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		w->in_headers = true;
	else if ((len == 2 && data[0] == '\r' && data[1] == '\n') ||
	    (len == 1 && data[0] == '\n'))
		w->in_headers = false;
	return len;
}

/* Sets res to an error of the given kind (static), with its message. */
static void
fail(struct fetch_result *res, const char *kind, const char *fmt,
    const char *what)
{
	size_t len = strlen(fmt) + strlen(what);

	res->outcome = FETCH_ERROR;
	res->kind = kind;
	if ((res->error = malloc(len)) != NULL)
		snprintf(res->error, len, fmt, what);
}

/*
 * Tells whether url starts with a scheme as curl's tool sees one: letters,
 * digits, '+', '-' or '.' after a first letter, then ":/".  So
 * "host:8080/x" has none, and "file:/etc/passwd" has one.
 */
static bool
has_scheme(const char *url)
{
	const char *p = url;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')
		p++;
	return p[0] == ':' && p[1] == '/';
}

/*
 * Parses the URL as curl would take it: without a scheme it is http.  Only
 * http and https pass, so no request is ever made for another scheme.
 * Returns the parsed URL, or NULL with the reason in res.
 */
static CURLU *
parse_url(const char *url, struct fetch_result *res)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL, *full = NULL;
	size_t len;

	if ((u = curl_url()) == NULL) {
		fail(res, "out of memory", "%s", "out of memory");
		return NULL;
	}
	if (!has_scheme(url)) {
		len = strlen(url) + sizeof("http://");
		if ((full = malloc(len)) == NULL) {
			fail(res, "out of memory", "%s", "out of memory");
			goto bad;
		}
		snprintf(full, len, "http://%s", url);
		url = full;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	free(full);
	if (uc != CURLUE_OK) {
		fail(res, "malformed URL", "malformed URL: %s",
		    curl_url_strerror(uc));
		goto bad;
	}
	if ((uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) !=
	    CURLUE_OK) {
		fail(res, "malformed URL", "malformed URL: %s",
		    curl_url_strerror(uc));
		goto bad;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		fail(res, "unsupported scheme",
		    "unsupported scheme '%s' (only http and https)", scheme);
		goto bad;
	}
	curl_free(scheme);
	return u;

bad:
	curl_free(scheme);
	curl_url_cleanup(u);
	return NULL;
}

/*
 * Runs the worker's one transfer to its end, or until the run is
 * cancelled.  The multi interface lets fetch_cancel() wake a transfer that
 * waits on the network; otherwise this is curl_easy_perform().
 */
static CURLcode
perform(struct worker *w, bool *aborted)
{
	CURLM *multi = w->multi;
	CURLMcode mc;
	CURLMsg *msg;
	CURLcode cc = CURLE_OK;
	int running = 1, left;

	*aborted = false;
	if ((mc = curl_multi_add_handle(multi, w->easy)) != CURLM_OK)
		goto multi_error;
	for (;;) {
		if ((mc = curl_multi_perform(multi, &running)) != CURLM_OK)
			break;
		if (running == 0)
			break;
		if (atomic_load(&w->run->cancelled)) {
			*aborted = true;
			break;
		}
		if ((mc = curl_multi_poll(multi, NULL, 0, 1000, NULL)) !=
		    CURLM_OK)
			break;
	}
	if (mc == CURLM_OK && !*aborted) {
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				cc = msg->data.result;
	}
	curl_multi_remove_handle(multi, w->easy);
	if (mc == CURLM_OK)
		return cc;
multi_error:
	snprintf(w->errbuf, sizeof(w->errbuf), "%s", curl_multi_strerror(mc));
	return CURLE_FAILED_INIT;
}

/*
 * Waits until the monotonic time until, or until the run is cancelled,
 * whichever comes first.  The worker's multi handle, with no transfer in
 * it, sleeps in curl_multi_poll(), which fetch_cancel() wakes with
 * curl_multi_wakeup(); a wakeup that comes before the poll is kept by
 * the handle, so none is missed.  Each poll lasts at most a second all
 * the same: at the open-file limit, libcurl makes a multi handle without
 * the socket pair that wakeups need.  Returns false when cancelled.
 */
static bool
pause_until(struct worker *w, double until)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	CURLM *multi = w->multi;
	double left;

	while (!atomic_load(&w->run->cancelled)) {
		if ((left = until - now()) <= 0)
			return true;
		if (curl_multi_poll(multi, NULL, 0, left < 1 ? (int)(left *
		    1000) + 1 : 1000, NULL) != CURLM_OK)
			nanosleep(&tick, NULL);
	}
	return false;
}

/* Whether an attempt's outcome is worth another: see fetch.h. */
static bool
transient(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		return status == 408 || status == 429 ||
		    (status >= 500 && status <= 599);
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

/* Seconds to wait after failed attempt number attempt (from 0). */
static double
retry_wait(struct worker *w, long attempt)
{
	curl_off_t after = 0;
	double wait = RETRY_WAIT_FIRST;

	/* libcurl turns an HTTP date into seconds from now, too. */
	if (curl_easy_getinfo(w->easy, CURLINFO_RETRY_AFTER, &after) ==
	    CURLE_OK && after > 0)
		return (double)after < RETRY_AFTER_MAX ? (double)after :
		    RETRY_AFTER_MAX;
	while (attempt-- > 0 && wait < RETRY_WAIT_MAX)
		wait *= 2;
	return wait < RETRY_WAIT_MAX ? wait : RETRY_WAIT_MAX;
}

static double
info_secs(CURL *e, CURLINFO info)
{
	curl_off_t us = 0;

	if (curl_easy_getinfo(e, info, &us) != CURLE_OK || us < 0)
		return 0;
	return (double)us / 1e6;
}

static const char *
version_name(long v)
{
	switch (v) {
	case CURL_HTTP_VERSION_1_0:
		return "1.0";
	case CURL_HTTP_VERSION_1_1:
		return "1.1";
	case CURL_HTTP_VERSION_2_0:
		return "2";
	case CURL_HTTP_VERSION_3:
		return "3";
	default:
		return NULL;
	}
}

/* Forgets what an earlier attempt left in res. */
static void
clear_attempt(struct fetch_result *res)
{
	free(res->error);
	res->error = NULL;
	free(res->effective_url);
	res->effective_url = NULL;
	res->outcome = FETCH_OK;
	res->status = 0;
	res->bytes = 0;
	res->redirects = 0;
	res->http_version = NULL;
	res->kind = NULL;
	memset(&res->timings, 0, sizeof(res->timings));
}

/*
 * Fills res with the outcome of the attempt that just ended with cc.  The
 * last status received is kept also when an error followed it (a
 * redirect loop, a body cut short), as curl's %{http_code} keeps it.
 */
static void
collect(struct worker *w, CURLcode cc, struct fetch_result *res)
{
	CURL *e = w->easy;
	curl_off_t bytes = 0;
	char *url = NULL;
	long v = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &res->status);
	if (res->status != 0 && curl_easy_getinfo(e, CURLINFO_HTTP_VERSION,
	    &v) == CURLE_OK)
		res->http_version = version_name(v);
	if (cc == CURLE_OK && w->in_headers)
		fail(res, "incomplete response", "%s", "incomplete response: "
		    "the connection closed inside the headers");
	else if (cc == CURLE_OK)
		res->outcome = FETCH_OK;
	else
		fail(res, curl_easy_strerror(cc), "%s",
		    w->errbuf[0] != '\0' ? w->errbuf : curl_easy_strerror(cc));
	if (curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &bytes) ==
	    CURLE_OK)
		res->bytes = (long long)bytes;
	curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &res->redirects);
	if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK &&
	    url != NULL)
		res->effective_url = strdup(url);
	res->timings.dns = info_secs(e, CURLINFO_NAMELOOKUP_TIME_T);
	res->timings.connect = info_secs(e, CURLINFO_CONNECT_TIME_T);
	res->timings.tls = info_secs(e, CURLINFO_APPCONNECT_TIME_T);
	res->timings.ttfb = info_secs(e, CURLINFO_STARTTRANSFER_TIME_T);
	res->timings.total = info_secs(e, CURLINFO_TOTAL_TIME_T);
}

/*
 * Takes what the run's limits ask before an attempt: a slot of the
 * host's (into *slot, or NULL without a per-host limit), then a start
 * time.  Returns 0; or -1 when cancelled (*aborted) or out of memory (the
 * reason in res), holding no slot.
 */
static int
limits_take(struct worker *w, const char *host, chan_t **slot,
    struct fetch_result *res, bool *aborted)
{
	struct fetch_run *run = w->run;

	*slot = NULL;
	if (run->hosts != NULL && (*slot = limit_hosts_acquire(run->hosts,
	    host, run->done)) == NULL) {
		if (errno == ECANCELED)
			*aborted = true;
		else {
			clear_attempt(res);
			fail(res, "out of memory", "%s", "out of memory");
		}
		return -1;
	}
	if (run->has_rate &&
	    !pause_until(w, limit_rate_reserve(&run->rate, now()))) {
		*aborted = true;
		if (*slot != NULL)
			limit_hosts_release(*slot);
		*slot = NULL;
		return -1;
	}
	return 0;
}

/*
 * Names and opens the file the body of u (whose host is host) is saved
 * to.  Returns 0, or -1 with the reason in res.
 */
static int
open_body(struct worker *w, CURLU *u, const char *host,
    struct fetch_result *res)
{
	char err[512], *path = NULL, *name;
	CURLUcode uc;

	if ((uc = curl_url_get(u, CURLUPART_PATH, &path, 0)) != CURLUE_OK) {
		fail(res, "malformed URL", "malformed URL: %s",
		    curl_url_strerror(uc));
		return -1;
	}
	name = body_name(w->run->cfg.body, res->urlnum, host, path, err,
	    sizeof(err));
	curl_free(path);
	if (name == NULL) {
		fail(res, "bad file name", "%s", err);
		return -1;
	}
	if (body_open(&w->file, w->run->cfg.body, name, err,
	    sizeof(err)) < 0) {
		free(name);
		fail(res, "cannot write file", "%s", err);
		return -1;
	}
	free(name);
	return 0;
}

/*
 * Makes the attempt that could not write its body fail with the file's
 * reason rather than libcurl's "Failed writing body".
 */
static void
file_failed(struct worker *w, struct fetch_result *res)
{
	char ebuf[128], err[512];

	snprintf(err, sizeof(err), "cannot write %s: %s", w->file.path,
	    strerror_r(w->file.werr, ebuf, sizeof(ebuf)) == 0 ? ebuf :
	    "I/O error");
	free(res->error);
	res->error = NULL;
	fail(res, "cannot write file", "%s", err);
}

/*
 * Gives a complete response's body its name, or throws away the
 * temporary file of a failed, cancelled or unopened one.
 */
static void
close_body(struct worker *w, struct fetch_result *res, bool aborted)
{
	char err[512];

	if (aborted || res->outcome != FETCH_OK || w->file.fd < 0) {
		body_abort(&w->file);
		return;
	}
	if ((res->file = body_commit(&w->file, err, sizeof(err))) == NULL)
		fail(res, errno == EEXIST ? "file exists" :
		    "cannot write file", "%s", err);
}

/*
 * Fetches the job's URL, trying again after a transient failure as the
 * run's configuration allows (see fetch.h), and fills res, which takes
 * the URL.
 */
static void
fetch_one(struct worker *w, struct job *job, struct fetch_result *res)
{
	struct fetch_run *run = w->run;
	const struct body_config *body = run->cfg.body;
	CURLU *u;
	CURLUcode uc;
	chan_t *slot;
	char *host = NULL, *full = NULL;
	CURLcode cc;
	double start;
	bool aborted = false;
	long attempt;

	memset(res, 0, sizeof(*res));
	res->urlnum = job->urlnum;
	res->seq = job->seq;
	res->url = job->url;
	if (atomic_load(&run->cancelled)) {
		res->outcome = FETCH_CANCELLED;
		return;
	}
	start = now();
	if ((u = parse_url(res->url, res)) == NULL)
		goto done;
	if (((run->hosts != NULL || body != NULL) && (uc = curl_url_get(u,
	    CURLUPART_HOST, &host, 0)) != CURLUE_OK) ||
	    (uc = curl_url_get(u, CURLUPART_URL, &full, 0)) != CURLUE_OK) {
		fail(res, "malformed URL", "malformed URL: %s",
		    curl_url_strerror(uc));
		goto out_url;
	}
	if (body != NULL && open_body(w, u, host, res) < 0)
		goto out_url;
	/*
	 * The URL goes to libcurl as the string parse_url() checked.  (With
	 * CURLOPT_CURLU instead, libcurl 7.88 goes on reporting a reused
	 * handle's first URL as CURLINFO_EFFECTIVE_URL.)
	 */
	curl_easy_setopt(w->easy, CURLOPT_URL, full);
	for (attempt = 0;; attempt++) {
		if (limits_take(w, host, &slot, res, &aborted) < 0)
			break;
		clear_attempt(res);
		w->errbuf[0] = '\0';
		w->in_headers = false;
		if (body != NULL && body_rewind(&w->file) < 0) {
			file_failed(w, res);
			if (slot != NULL)
				limit_hosts_release(slot);
			break;
		}
		/* The time waited for the limits before the first is not. */
		if (attempt == 0)
			start = now();
		atomic_fetch_add(&run->in_flight, 1);
		cc = perform(w, &aborted);
		atomic_fetch_sub(&run->in_flight, 1);
		if (slot != NULL)
			limit_hosts_release(slot);
		if (aborted)
			break;
		collect(w, cc, res);
		if (body != NULL && w->file.werr != 0) {
			file_failed(w, res);
			break;
		}
		if (attempt >= run->cfg.retries || !transient(cc, res->status))
			break;
		if (!pause_until(w, now() + retry_wait(w, attempt))) {
			aborted = true;
			break;
		}
		res->retries++;
	}
out_url:
	curl_free(full);
	curl_free(host);
	curl_url_cleanup(u);
	if (body != NULL)
		close_body(w, res, aborted);
	if (aborted) {
		/* What an earlier attempt got is not the answer. */
		free(res->error);
		res->error = NULL;
		res->status = 0;
		res->http_version = NULL;
		res->kind = NULL;
		res->outcome = FETCH_CANCELLED;
	}
done:
	res->secs = now() - start;
}

static void
share_lock(CURL *easy, curl_lock_data data, curl_lock_access access,
    void *arg)
{
	struct fetch_run *run = arg;

	(void)easy;
	(void)access;
	pthread_mutex_lock(&run->share_locks[data]);
}

static void
share_unlock(CURL *easy, curl_lock_data data, void *arg)
{
	struct fetch_run *run = arg;

	(void)easy;
	pthread_mutex_unlock(&run->share_locks[data]);
}

/*
 * Makes the run's workers share one DNS cache and TLS session cache, so
 * that a host is resolved once and a TLS session resumed rather than
 * negotiated by every worker.  Connections stay per worker: a connection
 * belongs to one thread at a time.  Returns NULL when out of memory, and
 * the run goes on without sharing.
 */
static CURLSH *
share_new(struct fetch_run *run)
{
	CURLSH *sh;
	size_t i;

	if ((sh = curl_share_init()) == NULL)
		return NULL;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&run->share_locks[i], NULL);
	if (curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) !=
	    CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) !=
	    CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_USERDATA, run) != CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
	    CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		curl_share_cleanup(sh);
		return NULL;
	}
	return sh;
}

static void
share_free(struct fetch_run *run)
{
	size_t i;

	if (run->share == NULL)
		return;
	curl_share_cleanup(run->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&run->share_locks[i]);
}

/*
 * Sets the options that stay the same for every URL a worker fetches:
 * the worker's own, then the run's (fetch_opts.c).
 */
static int
setup_easy(struct worker *w)
{
	CURL *e = w->easy;

	if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, w->run->cfg.body !=
	    NULL ? save_body : discard) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, w) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_seen) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, w) != CURLE_OK ||
	    fetch_opts_apply(e, &w->run->cfg, &w->run->lists) != CURLE_OK)
		return -1;
	if (w->run->share != NULL &&
	    curl_easy_setopt(e, CURLOPT_SHARE, w->run->share) != CURLE_OK)
		return -1;
	return 0;
}

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

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct fetch_run *run = w->run;
	struct fetch_result res;
	struct job job;
	CURLM *multi;
	bool ready;

	body_init(&w->file);
	w->easy = curl_easy_init();
	/*
	 * One connection kept for the next URL, the last one used: by
	 * default libcurl keeps several, one per host a redirect led to,
	 * beyond the descriptors FDS_PER_WORKER allows for.
	 */
	if ((multi = curl_multi_init()) != NULL &&
	    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1L) != CURLM_OK) {
		curl_multi_cleanup(multi);
		multi = NULL;
	}
	pthread_mutex_lock(&run->multis_mu);
	w->multi = multi;
	pthread_mutex_unlock(&run->multis_mu);
	ready = w->easy != NULL && multi != NULL && setup_easy(w) == 0;

	while (chan_recv(run->jobs, &job) == 0) {
		if (ready)
			fetch_one(w, &job, &res);
		else {
			memset(&res, 0, sizeof(res));
			res.urlnum = job.urlnum;
			res.seq = job.seq;
			res.url = job.url;
			fail(&res, "out of memory", "%s",
			    "cannot set up libcurl: out of memory");
		}
		/*
		 * Counted before the send: the submitter then never starts
		 * a worker for a URL whose result is on its way.
		 */
		atomic_fetch_add(&run->finished, 1);
		/* Only a cancelled caller's close could refuse it. */
		if (chan_send(run->results, &res) < 0)
			fetch_result_free(&res);
	}
	/*
	 * Closing connections costs system calls: done here, in parallel,
	 * rather than by the caller after the last result.
	 */
	pthread_mutex_lock(&run->multis_mu);
	w->multi = NULL;
	pthread_mutex_unlock(&run->multis_mu);
	curl_easy_cleanup(w->easy);
	curl_multi_cleanup(multi);
	worker_gone(run);
	return NULL;
}

/* How many workers the open-file limit leaves room for. */
static size_t
fd_room(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return WORKERS_MAX;
	if (rl.rlim_cur <= FDS_RESERVED + FDS_PER_WORKER)
		return 1;
	return (size_t)(rl.rlim_cur - FDS_RESERVED) / FDS_PER_WORKER;
}

/* The most workers a run starts when asked for workers (0: default). */
static size_t
workers_max(size_t workers)
{
	size_t want = workers, room = fd_room();

	if (want == 0 || want > room)
		want = room;
	if (want > WORKERS_MAX)
		want = WORKERS_MAX;
	return want == 0 ? 1 : want;
}

void
fetch_prepare(size_t workers)
{
	struct rlimit rl;
	size_t top;
	int fd, high;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/*
	 * The kernel never shrinks a descriptor table: duplicating a
	 * descriptor to the highest number the workers may reach grows it
	 * once, now, for good.  A new table has room for 64 already.
	 */
	top = FDS_RESERVED + workers_max(workers) * FDS_PER_WORKER;
	if (top <= 64 || top > INT_MAX ||
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	high = fcntl(fd, F_DUPFD_CLOEXEC, (int)top - 1);
	if (high >= 0)
		close(high);
	close(fd);
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

/*
 * Reserves the stacks of a run's workers in one mapping, a slot each: a
 * guard page, then WORKER_STACK bytes.  A thread on a stack of its own
 * (pthread_attr_setstack) spares pthread_create() a mapping of its own,
 * and its exit the madvise() that returns the pages of a stack the C
 * library keeps.  Each of those takes the process's memory-map lock, which
 * the page faults of running workers need too: a hundred starting workers
 * queued on it.  Pages are only used as the stacks grow.  Leaves
 * run->stacks NULL when the mapping fails, and the workers get stacks
 * from the C library.
 */
static void
stacks_new(struct fetch_run *run, size_t want)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (page <= 0 || WORKER_STACK % page != 0)
		return;
	run->stack_slot = (size_t)page + WORKER_STACK;
	if (want > SIZE_MAX / run->stack_slot)
		return;
	p = mmap(NULL, want * run->stack_slot, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return;
	/*
	 * Until the next slot's guard page is made, a stack is part of one
	 * large region, which could otherwise be given huge pages by the
	 * kernel (before Linux 6.7, MAP_STACK alone does not prevent it) and
	 * kept resident in full.
	 */
	(void)madvise(p, want * run->stack_slot, MADV_NOHUGEPAGE);
	run->stacks = p;
	run->stacks_len = want * run->stack_slot;
}

/*
 * Sets attr to worker i's stack, making its guard page inaccessible first.
 * Returns 0, or an errno value.
 */
static int
stack_attr(struct fetch_run *run, size_t i, pthread_attr_t *attr)
{
	char *slot = run->stacks + i * run->stack_slot;
	size_t guard = run->stack_slot - WORKER_STACK;

	if (mprotect(slot, guard, PROT_NONE) != 0)
		return errno;
	return pthread_attr_setstack(attr, slot + guard, WORKER_STACK);
}

/* Frees what a run owns once no worker runs; every member may be unset. */
static void
run_free(struct fetch_run *run)
{
	if (run->stacks != NULL)
		munmap(run->stacks, run->stacks_len);
	share_free(run);
	if (run->has_rate)
		limit_rate_destroy(&run->rate);
	limit_hosts_free(run->hosts);
	fetch_lists_free(&run->lists);
	chan_free(run->done);
	free(run->workers);
	chan_free(run->results);
	chan_free(run->jobs);
	pthread_attr_destroy(&run->attr);
	pthread_mutex_destroy(&run->pool_mu);
	pthread_mutex_destroy(&run->multis_mu);
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
	atomic_init(&run->in_flight, 0);
	pthread_mutex_init(&run->pool_mu, NULL);
	pthread_mutex_init(&run->multis_mu, NULL);
	pthread_attr_init(&run->attr);
	pthread_attr_setstacksize(&run->attr, WORKER_STACK);
	run->max_workers = workers_max(cfg->workers);

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
	    (run->done = chan_new(1, 0)) == NULL)
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
	run->share = share_new(run);
	if (run->share != NULL && cfg->opts != NULL &&
	    fetch_opts_share(run->share, cfg->opts) != CURLE_OK)
		goto nomem;
	stacks_new(run, run->max_workers);
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
	w->run = run;
	if ((run->stacks == NULL || (e = stack_attr(run, i, &run->attr)) ==
	    0) && (e = pthread_create(&w->tid, &run->attr, worker_main, w)) ==
	    0) {
		/* Read by fetch_cancel() and fetch_finish(): see above. */
		atomic_store(&run->nworkers, i + 1);
		return 0;
	}
	worker_gone(run);
	if (strerror_r(e, why, sizeof(why)) != 0)
		snprintf(why, sizeof(why), "error %d", e);
	snprintf(err, errlen, "cannot start a worker thread: %s", why);
	errno = EAGAIN;
	return -1;
}

int
fetch_submit(struct fetch_run *run, size_t urlnum, char *url, char *err,
    size_t errlen)
{
	struct job job = { urlnum, 0, url };
	size_t n = atomic_load(&run->nworkers), pending;

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
	pending = job.seq + 1 - atomic_load(&run->finished);
	if (pending > n && n < run->max_workers &&
	    start_worker(run, err, errlen) < 0 && (errno == ECANCELED ||
	    n == 0))
		goto refused;
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
	/* Wakes the workers that wait for a host's slot. */
	(void)chan_close(run->done);
	/* Queued URLs still reach a worker, which reports them cancelled. */
	fetch_end_input(run);
	/*
	 * A worker publishes its multi handle before it checks the flag, so
	 * a worker whose handle is not seen here will see the flag.
	 */
	n = atomic_load(&run->nworkers);
	pthread_mutex_lock(&run->multis_mu);
	for (i = 0; i < n; i++)
		if (run->workers[i].multi != NULL)
			curl_multi_wakeup(run->workers[i].multi);
	pthread_mutex_unlock(&run->multis_mu);
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
	if (run->share != NULL && run->cfg.opts != NULL)
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
