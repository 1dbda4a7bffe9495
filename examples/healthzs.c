/* healthzs.c: polls health endpoints concurrently and collects verdicts. */

/*
 * usage: healthzs [-h] [-t secs] -s url [-s url ...]
 *
 * One thread per server (chan_go(), Go's go statement) does a blocking
 * libcurl GET and sends its verdict over one channel; main receives one
 * verdict per server.  Verdicts arrive in completion order, but main prints
 * them in the order the servers were given, each as soon as every server
 * before it is done: the output is the same from run to run and a slow
 * server holds back only the lines after its own.  Then a summary line.
 *
 * A server is failing when the request fails (no connection, timeout, TLS),
 * when its final status is 400 or more, or when its body is JSON with a
 * "summary" object whose "failed-count" is above 0 (a test report).  A
 * body that is not JSON, or JSON without such a summary, does not count.
 *
 * Exit status: 0 when every server is healthy, 1 when any is failing (or
 * the output could not be written), 2 on a usage error.
 */

#define _POSIX_C_SOURCE 200809L

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "chan.h"

#define PROG		"healthzs"
#define MARK_OK		"\u2714"	/* HEAVY CHECK MARK */
#define MARK_FAIL	"\u2718"	/* HEAVY BALLOT X */
#define DEFAULT_TIMEOUT	10.0		/* Seconds per request. */
#define MAX_BODY	(1024 * 1024)	/* Bigger bodies are not parsed. */
#define MAX_REDIRS	10L

/* What one probe found; sent by value over the verdicts channel. */
struct verdict {
	size_t	index;			/* Into the --server list. */
	bool	healthy;
	char	reason[CURL_ERROR_SIZE];	/* "" when healthy. */
};

/* One server's probe.  The thread reads it; main owns and frees it. */
struct probe {
	const char	*url;		/* Not owned: from argv. */
	long		 timeout_ms;
	size_t		 index;
	chan_t		*verdicts;	/* struct verdict; not owned. */
};

/* The first MAX_BODY bytes of a response body. */
struct body {
	char	*p;			/* NULL or malloced. */
	size_t	 len;
	size_t	 cap;
	bool	 truncated;		/* More arrived than was kept. */
};

struct opt {
	const char	*name;
	int		 has_arg;
	int		 val;
	const char	*arg;
	const char	*help;
};

/* Sorted by long name; the help text is printed in this order. */
static const struct opt opts[] = {
	{ "help", no_argument, 'h', NULL, "print this help and exit" },
	{ "server", required_argument, 's', "URL",
	    "poll URL (repeat for more servers)" },
	{ "timeout", required_argument, 't', "SECS",
	    "give up on a server after SECS (default 10)" },
};

#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

/* The leading colon makes a missing argument return ':'. */
static const char shortopts[] = ":hs:t:";

static void
usage(FILE *fp)
{
	char left[40];
	size_t i;

	fprintf(fp, "usage: " PROG " [-h] [-t secs] -s url [-s url ...]\n\n"
	    "Polls every server's health endpoint at once and prints\n"
	    MARK_OK " URL or " MARK_FAIL " URL: reason for each, in the order "
	    "given,\nthen a summary.  A server fails when the request fails, "
	    "its status\nis 400 or more, or it answers with a JSON test report "
	    "whose\nsummary has a failed-count above 0.\n\n");
	for (i = 0; i < NOPTS; i++) {
		snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].val,
		    opts[i].name, opts[i].arg ? " " : "",
		    opts[i].arg ? opts[i].arg : "");
		fprintf(fp, "  %-22s %s\n", left, opts[i].help);
	}
	fprintf(fp, "\nExit status: 0 when every server is healthy, 1 when "
	    "any is failing,\n2 on a usage error.\n");
}

/* Reports a usage error on stderr and exits 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
misuse(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try '" PROG " --help')\n", stderr);
	exit(2);
}

/* Parses positive seconds, decimals allowed, up to a day, into ms. */
static int
parse_secs(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) ||
	    v <= 0 || v > 86400)
		return -1;
	/* Whole milliseconds, rounded up: libm is not needed for that. */
	*ms = (long)(v * 1000);
	if (*ms < v * 1000)
		(*ms)++;
	return 0;
}

/* libcurl's write callback: keeps the first MAX_BODY bytes. */
static size_t
keep_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb, room;
	char *p;

	if (b->truncated)
		return n;
	if (b->len + n > MAX_BODY) {
		/* Reading on lets the status stand; the body is ignored. */
		b->truncated = true;
		return n;
	}
	if (b->len + n > b->cap) {
		room = b->cap ? b->cap : 4096;
		while (room < b->len + n)
			room *= 2;
		if ((p = realloc(b->p, room)) == NULL)
			return 0;	/* CURLE_WRITE_ERROR. */
		b->p = p;
		b->cap = room;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

/*
 * Reads a test report out of the body.  Returns true, and says why in the
 * why buffer, when the body is JSON with a "summary" object whose
 * "failed-count" is above 0 or is not a whole number; false otherwise,
 * including for a body that is not JSON at all.
 */
static bool
report_fails(const struct body *b, char *why, size_t len)
{
	json_t *doc, *summary, *failed;
	json_int_t n;
	bool fails = false;

	if (b->p == NULL || b->truncated)
		return false;
	if ((doc = json_loadb(b->p, b->len, 0, NULL)) == NULL)
		return false;	/* Not JSON: not a report. */
	summary = json_object_get(doc, "summary");
	failed = json_is_object(summary) ?
	    json_object_get(summary, "failed-count") : NULL;
	if (failed != NULL && !json_is_integer(failed)) {
		snprintf(why, len, "test report's failed-count is not a "
		    "whole number");
		fails = true;
	} else if (failed != NULL && (n = json_integer_value(failed)) > 0) {
		snprintf(why, len, "%" JSON_INTEGER_FORMAT " test%s failed",
		    n, n == 1 ? "" : "s");
		fails = true;
	}
	json_decref(doc);
	return fails;
}

/* Fetches p->url with a handle of its own and judges the answer. */
static void
judge(const struct probe *p, struct verdict *v)
{
	char errbuf[CURL_ERROR_SIZE] = "", why[64];
	struct body b = { NULL, 0, 0, false };
	CURLcode rc;
	CURL *e;
	long status = 0;
	size_t n;
	bool fails;

	if ((e = curl_easy_init()) == NULL) {
		snprintf(v->reason, sizeof(v->reason),
		    "cannot create a libcurl handle");
		return;
	}
	if ((rc = curl_easy_setopt(e, CURLOPT_URL, p->url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, &b)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->timeout_ms)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https")) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
	    "http,https")) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_USERAGENT, PROG "/1")) !=
	    CURLE_OK)
		goto fail;
	if ((rc = curl_easy_perform(e)) != CURLE_OK)
		goto fail;
	if ((rc = curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status)) !=
	    CURLE_OK)
		goto fail;
	/* "HTTP 500", "2 tests failed", or both: "HTTP 500, 2 tests...". */
	fails = report_fails(&b, why, sizeof(why));
	if (status >= 400)
		snprintf(v->reason, sizeof(v->reason), "HTTP %ld%s%s", status,
		    fails ? ", " : "", fails ? why : "");
	else if (fails)
		snprintf(v->reason, sizeof(v->reason), "%s", why);
	v->healthy = status < 400 && !fails;
	goto out;

fail:
	/* The error buffer has details; the code's text is the fallback. */
	n = strlen(errbuf);
	while (n > 0 && errbuf[n - 1] == '\n')
		errbuf[--n] = '\0';
	snprintf(v->reason, sizeof(v->reason), "%s",
	    n > 0 ? errbuf : curl_easy_strerror(rc));
out:
	curl_easy_cleanup(e);
	free(b.p);
}

/*
 * A probe's thread: judges its server and sends the verdict.  The send is
 * the thread's last use of anything main owns, so once main has received
 * every verdict it may free the probes and the channel.
 */
static void
probe_main(void *arg)
{
	const struct probe *p = arg;
	struct verdict v;

	memset(&v, 0, sizeof(v));
	v.index = p->index;
	judge(p, &v);
	(void)chan_send(p->verdicts, &v);
}

static void
print_verdict(const char *url, const struct verdict *v)
{
	if (v->healthy)
		printf(MARK_OK " %s\n", url);
	else
		printf(MARK_FAIL " %s: %s\n", url, v->reason);
}

int
main(int argc, char **argv)
{
	struct option longopts[NOPTS + 1];
	struct probe *probes = NULL;
	struct verdict *verdicts = NULL, v;
	const char **urls = NULL, **grown;
	bool *done = NULL;
	chan_t *ch = NULL;
	long timeout_ms = (long)(DEFAULT_TIMEOUT * 1000);
	size_t nurls = 0, i, started = 0, received, next = 0, failing = 0;
	int c, status = 1;

	for (i = 0; i < NOPTS; i++)
		longopts[i] = (struct option){ opts[i].name, opts[i].has_arg,
		    NULL, opts[i].val };
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			free(urls);
			return 0;
		case 's':
			grown = realloc(urls, (nurls + 1) * sizeof(*urls));
			if (grown == NULL) {
				warnx("out of memory");
				free(urls);
				return 1;
			}
			urls = grown;
			urls[nurls++] = optarg;
			break;
		case 't':
			if (parse_secs(optarg, &timeout_ms) < 0)
				misuse("--timeout wants seconds above 0 (up "
				    "to 86400), not '%s'", optarg);
			break;
		case ':':
			misuse("option '%s' needs an argument",
			    argv[optind - 1]);
		default:
			if (optopt != 0 && optopt < 256)
				misuse("unknown option '-%c'", optopt);
			misuse("unknown option '%s'", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		misuse("unexpected argument '%s': servers come with --server",
		    argv[0]);
	if (nurls == 0)
		misuse("no server given: use --server URL");

	/* A server that drops the connection must not kill the collector. */
	signal(SIGPIPE, SIG_IGN);
	/* Both libraries set up their global state before any thread. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		warnx("cannot initialise libcurl");
		goto out_urls;
	}
	json_object_seed(0);
	probes = calloc(nurls, sizeof(*probes));
	verdicts = calloc(nurls, sizeof(*verdicts));
	done = calloc(nurls, sizeof(*done));
	/* Room for every verdict: no probe waits for main's printing. */
	ch = chan_new(sizeof(struct verdict), nurls);
	if (probes == NULL || verdicts == NULL || done == NULL || ch == NULL) {
		warnx("out of memory");
		goto out_mem;
	}

	for (i = 0; i < nurls; i++) {
		probes[i] = (struct probe){ urls[i], timeout_ms, i, ch };
		if (chan_go(probe_main, &probes[i]) == 0) {
			started++;
			continue;
		}
		/* The others still get polled; this one is failing. */
		verdicts[i].index = i;
		snprintf(verdicts[i].reason, sizeof(verdicts[i].reason),
		    "cannot start a thread: %s", strerror(errno));
		done[i] = true;
	}

	for (received = 0;; received++) {
		/* Print every verdict whose predecessors are all in. */
		for (; next < nurls && done[next]; next++) {
			print_verdict(urls[next], &verdicts[next]);
			if (!verdicts[next].healthy)
				failing++;
		}
		fflush(stdout);
		if (received == started)
			break;
		/* On failure probes still use ch and probes: free nothing. */
		if (chan_recv(ch, &v) < 0)
			err(1, "receiving a verdict");
		verdicts[v.index] = v;
		done[v.index] = true;
	}
	printf("%zu server%s: %zu healthy, %zu failing\n", nurls,
	    nurls == 1 ? "" : "s", nurls - failing, failing);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("writing the report");
		status = 1;
	} else
		status = failing > 0 ? 1 : 0;

out_mem:
	chan_free(ch);
	free(done);
	free(verdicts);
	free(probes);
	curl_global_cleanup();
out_urls:
	free(urls);
	return status;
}
