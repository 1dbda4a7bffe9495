/* fetch_transfer.c: one URL's transfer, its retries and its set-up. */

/*
 * A worker fetches a URL here: the URL's policy (schemes, syntax), the
 * limits of --per-host and --rate, the attempts with their waits, and
 * what the result records of the last.  The transfer itself runs on the
 * run's transport (fetch_transport.h).  Everything here runs on the worker's
 * thread, except libcurl's callbacks, which run on the transport's while
 * the worker waits for it, and the share's locks.
 */

#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "fetch_impl.h"

/*
 * Waits before a retry: 1 s, then twice as long each time, at most
 * RETRY_WAIT_MAX; or what the response's Retry-After asks, at most
 * RETRY_AFTER_MAX.
 */
#define RETRY_WAIT_FIRST	1.0
#define RETRY_WAIT_MAX		30.0
#define RETRY_AFTER_MAX		600.0

/*
 * libcurl's receive buffer when bodies are saved, as curl's tool sets it:
 * a 100 kB body then takes two reads, not seven, in the thread that runs
 * every transfer of a pool of one lane (1,000 bodies at -j 50: 14% less
 * CPU).  Each handle keeps its buffer, so larger pools, of up to
 * thousands of workers, keep libcurl's 16 kB: the extra memory stays
 * under 64 times 84 kB.
 */
#define BODY_BUFFER_SIZE	(100L * 1024)

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

/*
 * Saves a piece of the body.  The transport's thread may call it, while
 * the worker waits for the transfer to end.  A short count makes libcurl
 * fail.
 */
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
 * Waits until the monotonic time until, or until the run is cancelled,
 * whichever comes first: fetch_cancel() closes run->done, which ends the
 * wait at once.  Returns false when cancelled.
 */
static bool
pause_until(struct worker *w, double until)
{
	double left;
	char c;

	while (!atomic_load(&w->run->cancelled)) {
		if ((left = until - now()) <= 0)
			return true;
		/* A day at a time: --rate 1e-20 waits longer than a long. */
		if (left > 86400)
			left = 86400;
		if (chan_recv_timeout(w->run->done, &c, (long)(left * 1000) +
		    1) < 0 && errno == EPIPE)
			return false;
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
	res->connects = 0;
	res->http_version = NULL;
	res->kind = NULL;
	memset(&res->timings, 0, sizeof(res->timings));
}

/*
 * Fills res for an attempt whose time ran out before it started
 * (fetch_transport_expired()), waiting for its origin (NULL: none) to
 * have a stream free or for the transport thread to take it: nothing was
 * sent, and the easy handle holds nothing of it.
 */
static void
expired(const struct fetch_run *run, const char *origin,
    struct fetch_result *res)
{
	char fmt[96];

	snprintf(fmt, sizeof(fmt), "Operation timed out after %ld "
	    "milliseconds waiting to be sent%s", run->cfg.max_time_ms,
	    origin != NULL ? " to %s" : "%s");
	fail(res, curl_easy_strerror(CURLE_OPERATION_TIMEDOUT), fmt,
	    origin != NULL ? origin : "");
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
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &res->connects);
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
void
fetch_transfer_one(struct worker *w, struct job *job,
    struct fetch_result *res)
{
	struct fetch_run *run = w->run;
	const struct body_config *body = run->cfg.body;
	CURLU *u;
	CURLUcode uc;
	chan_t *slot;
	char *host = NULL, *full = NULL, *origin = NULL;
	struct transport_port *port;
	CURLcode cc;
	double start;
	bool aborted = false;
	long attempt;

	memset(res, 0, sizeof(*res));
	res->urlnum = job->urlnum;
	res->seq = job->seq;
	res->url = job->url;
	if (!w->ready) {
		fail(res, "out of memory", "%s",
		    "cannot set up libcurl: out of memory");
		return;
	}
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
	/*
	 * Over TLS, a transfer to a host whose first connection is still
	 * being made waits to learn from its handshake (ALPN) whether it
	 * speaks HTTP/2, and rides it as a stream if so, rather than opening
	 * a connection of its own; and the transport, told its origin
	 * (fetch_transport.h), holds back what one connection's streams cannot
	 * carry.  Plain http is always HTTP/1.1 here, and would wait for a
	 * whole first response to learn it.
	 */
	if ((origin = fetch_transport_origin(full)) == NULL && errno != 0) {
		fail(res, "out of memory", "%s", "out of memory");
		goto out_url;
	}
	curl_easy_setopt(w->easy, CURLOPT_PIPEWAIT, origin != NULL ? 1L : 0L);
	if (origin != NULL || (port = fetch_own_port(w)) == NULL)
		port = w->port;
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
		cc = fetch_transport_perform(port, origin,
		    run->cfg.max_time_ms, &aborted);
		atomic_fetch_sub(&run->in_flight, 1);
		if (slot != NULL)
			limit_hosts_release(slot);
		if (aborted)
			break;
		if (fetch_transport_expired(port))
			expired(run, origin, res);
		else
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
	free(origin);
	curl_free(full);
	curl_free(host);
	curl_url_cleanup(u);
	if (body != NULL)
		close_body(w, res, aborted);
	if (aborted) {
		/*
		 * What an earlier attempt got is not the answer: neither its
		 * status nor its bytes, timings or connections.
		 */
		clear_attempt(res);
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
 * negotiated by every new connection to it.  (Connections need no
 * sharing: the transport's multi handle keeps them for every worker.)
 * Returns NULL when out of memory, and the run goes on without sharing.
 */
CURLSH *
fetch_transfer_share_new(struct fetch_run *run)
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

void
fetch_transfer_share_free(struct fetch_run *run)
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
int
fetch_transfer_setup(struct worker *w)
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
	if (w->run->cfg.body != NULL &&
	    w->run->max_workers <= FETCH_TRANSPORT_LANE_PORTS &&
	    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, BODY_BUFFER_SIZE) !=
	    CURLE_OK)
		return -1;
	return 0;
}
