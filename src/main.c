/* main.c: fetch_urls: fetch many URLs at once and time each one. */

#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "chan.h"
#include "cli.h"
#include "fetch.h"
#include "fetch_opts.h"
#include "output.h"
#include "progress.h"
#include "urls.h"

/* How often the progress line is redrawn while nothing else happens. */
#define PROGRESS_TICK_MS	250

/*
 * How often, while waiting for results, the program looks whether the
 * reader of its standard output (a pipe or a socket) has gone.
 */
#define READER_TICK_MS		250

struct prog {
	struct cli	 cli;
	struct urls	 urls;
	struct output	 out;
	struct curl_slist *headers;	/* NULL or owned: the -H lines. */
	chan_t		*signals;	/* int: signals from signal_main(). */
	int		 signo;		/* The signal that stopped us, or 0. */
	bool		 output_failed;	/* Standard output is gone. */
	bool		 watch_reader;	/* Standard output is a pipe or a
					   socket, whose reader can leave. */
	bool		 any_failed;	/* An error, a status >= 400, or an
					   input line skipped. */
	size_t		 unfinished;	/* URLs an interruption cut short. */
};

/* What one run got, for the summary line. */
struct tally {
	size_t	ok;		/* A status below 400. */
	size_t	http_errors;	/* A status of 400 or more. */
	size_t	failed;		/* No response: an error, or cancelled. */
};

/* One run's results while they come in; only the main thread uses it. */
struct run {
	struct fetch_run	*fetch;
	struct fetch_result	*held;	/* --ordered: NULL or malloced, one
					   a URL; early results wait here. */
	bool			*have;	/* NULL or malloced: held[i] is set. */
	size_t			 next;	/* --ordered: the next to print. */
	struct progress		 progress;
	struct tally		 tally;
	const char		*why;	/* Why URLs are cancelled. */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Set before main sends the signal thread a SIGTERM of its own to end it. */
static atomic_bool signals_done;

/*
 * Waits for SIGINT and SIGTERM, which every other thread blocks, and
 * passes the first on to the main thread as a channel value; a second one
 * ends the process at once.  Returns on the SIGTERM that follows
 * signals_done.  (pthread_cancel() would load the unwinder, libgcc_s, with
 * dlopen() at exit: a fraction of a millisecond with libcurl's libraries.)
 */
static void *
signal_main(void *arg)
{
	chan_t *signals = arg;
	sigset_t set;
	int sig, count = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&signals_done))
			return NULL;
		if (++count > 1)
			_exit(128 + sig);
		(void)chan_try_send(signals, &sig);
	}
}

/* Standard output has failed, or its reader has gone: stops the run r. */
static void
stop_output(struct prog *pg, struct run *r)
{
	pg->output_failed = true;
	if (r != NULL) {
		r->why = "output closed";
		fetch_cancel(r->fetch);
	}
}

/*
 * Checks standard output after writes to it, flushing it first when flush
 * is set.  On its first failure, cancels the run r (if not NULL) and says
 * why, unless the reader went away (EPIPE): a closed pipe, as under
 * `| head`, ends the program quietly.  errno must be 0 before the writes
 * checked, so that it tells what failed.  Returns -1 once output has
 * failed, else 0.
 */
static int
check_output(struct prog *pg, struct run *r, bool flush)
{
	if (pg->output_failed)
		return -1;
	if (flush)
		errno = 0;
	if (!(flush && fflush(stdout) == EOF) && !ferror(stdout))
		return 0;
	if (errno != 0 && errno != EPIPE)
		fprintf(stderr, "fetch_urls: cannot write standard output: "
		    "%s\n", strerror(errno));
	stop_output(pg, r);
	return -1;
}

/*
 * Sees a reader of standard output that has gone before anything is
 * written to it, as `| head -1` does after its line: otherwise the program
 * would learn of it only when the next URL finishes, which may be many
 * seconds away.  Stops the run quietly, as a failed write to it would.
 */
static void
check_reader(struct prog *pg, struct run *r)
{
	struct pollfd pfd = { STDOUT_FILENO, 0, 0 };

	if (pg->watch_reader && !pg->output_failed && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLERR | POLLHUP)) != 0)
		stop_output(pg, r);
}

static void
draw_progress(struct run *r, size_t got)
{
	progress_draw(&r->progress, got, fetch_in_flight(r->fetch),
	    r->tally.http_errors + r->tally.failed, now());
}

/* Prints a result, unless an interruption cut it short; frees it. */
static void
emit(struct prog *pg, struct run *r, struct fetch_result *res)
{
	if (!(pg->signo != 0 && res->outcome == FETCH_CANCELLED) &&
	    !pg->output_failed) {
		progress_erase(&r->progress);
		errno = 0;
		output_result(stdout, &pg->out, pg->urls.v[res->index], res,
		    r->why);
		/* Sees a failed write as soon as a full buffer is written. */
		(void)check_output(pg, r, false);
	}
	fetch_result_free(res);
}

/*
 * Prints a result now, or with --ordered once every earlier one has
 * printed: the results that came early wait in r->held.
 */
static void
deliver(struct prog *pg, struct run *r, struct fetch_result *res)
{
	if (r->held == NULL) {
		emit(pg, r, res);
		return;
	}
	if (res->index != r->next) {
		r->held[res->index] = *res;
		r->have[res->index] = true;
		return;
	}
	emit(pg, r, res);
	for (r->next++; r->next < pg->urls.n && r->have[r->next]; r->next++)
		emit(pg, r, &r->held[r->next]);
}

static void
count(struct prog *pg, struct run *r, const struct fetch_result *res)
{
	if (res->outcome != FETCH_OK || res->status >= 400)
		pg->any_failed = true;
	if (pg->signo != 0 && res->outcome == FETCH_CANCELLED)
		pg->unfinished++;
	else if (res->outcome != FETCH_OK)
		r->tally.failed++;
	else if (res->status >= 400)
		r->tally.http_errors++;
	else
		r->tally.ok++;
}

/*
 * Fetches every URL with at most `workers` threads (0: one per URL),
 * printing each result as it arrives (or in order), and sets *total to
 * the wall time and *tally to the counts.  Returns 0, or -1 when the run
 * could not start (the reason printed).
 */
static int
run_urls(struct prog *pg, size_t workers, double *total,
    struct tally *tally)
{
	struct fetch_config cfg;
	struct fetch_result res;
	struct chan_case cases[2];
	struct run r;
	char err[256];
	double start, deadline = 0;
	long timeout;
	size_t got = 0;
	int i, sig;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = workers;
	cfg.max_time_ms = pg->cli.max_time_ms;
	cfg.connect_timeout_ms = pg->cli.connect_timeout_ms;
	cfg.follow = pg->cli.location;
	cfg.max_redirs = pg->cli.max_redirs;
	cfg.method = pg->cli.method;
	cfg.head = pg->cli.head;
	cfg.headers = pg->headers;
	cfg.user_agent = pg->cli.user_agent;
	cfg.userpwd = pg->cli.user;
	cfg.insecure = pg->cli.insecure;
	cfg.opts = &pg->cli.opts;
	cfg.retries = pg->cli.retry;
	cfg.rate = pg->cli.rate;
	cfg.per_host = (size_t)pg->cli.per_host;

	memset(&r, 0, sizeof(r));
	r.why = "cancelled";
	if (pg->cli.ordered && ((r.held = calloc(pg->urls.n,
	    sizeof(*r.held))) == NULL || (r.have = calloc(pg->urls.n,
	    sizeof(*r.have))) == NULL)) {
		fprintf(stderr, "fetch_urls: out of memory\n");
		goto fail;
	}
	start = now();
	if (pg->cli.deadline_ms > 0)
		deadline = start + (double)pg->cli.deadline_ms / 1000;
	if ((r.fetch = fetch_start(&cfg, pg->urls.v, pg->urls.n, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fetch_urls: %s\n", err);
		goto fail;
	}
	progress_init(&r.progress, stderr, !pg->cli.quiet &&
	    !pg->cli.no_progress, pg->urls.n, start);

	/* Go's select { case r := <-results: ...; case s := <-signals: }. */
	cases[0] = (struct chan_case){ fetch_results(r.fetch), CHAN_RECV,
	    &res, false };
	cases[1] = (struct chan_case){ pg->signals, CHAN_RECV, &sig, false };
	while (got < pg->urls.n) {
		timeout = -1;
		if (deadline > 0) {
			/*
			 * Looked at before every result: results that keep
			 * coming never let the wait below time out.
			 */
			timeout = (long)ceil((deadline - now()) * 1000);
			if (timeout <= 0) {
				r.why = "deadline reached";
				deadline = 0;
				timeout = -1;
				fetch_cancel(r.fetch);
			}
		}
		if (r.progress.on &&
		    (timeout < 0 || timeout > PROGRESS_TICK_MS))
			timeout = PROGRESS_TICK_MS;
		if (pg->watch_reader && !pg->output_failed &&
		    (timeout < 0 || timeout > READER_TICK_MS))
			timeout = READER_TICK_MS;
		i = chan_select(cases, 2, 0);
		if (i < 0 && errno == EAGAIN) {
			/* Nothing more to print for now: show what we have. */
			(void)check_output(pg, &r, true);
			if (!r.progress.shown)
				draw_progress(&r, got);
			i = chan_select(cases, 2, timeout);
		}
		if (i < 0) {
			/* A tick, or the deadline. */
			draw_progress(&r, got);
			check_reader(pg, &r);
			continue;
		}
		if (i == 1) {
			pg->signo = sig;
			r.why = "interrupted";
			cases[1].ch = NULL;
			fetch_cancel(r.fetch);
			continue;
		}
		got++;
		count(pg, &r, &res);
		deliver(pg, &r, &res);
	}
	progress_erase(&r.progress);
	*total = now() - start;
	*tally = r.tally;
	fetch_finish(r.fetch);
	free(r.held);
	free(r.have);
	return 0;

fail:
	free(r.held);
	free(r.have);
	return -1;
}

/*
 * Prints the total time (on standard output in text form, where the Go
 * program printed it; on standard error in the machine-readable forms)
 * and the summary (on standard error), unless -q.
 */
static void
print_total(struct prog *pg, double total, const struct tally *t)
{
	if (pg->cli.quiet || pg->output_failed)
		return;
	if (pg->out.format == OUTPUT_TEXT)
		output_total(stdout, total);
	/*
	 * Standard output is flushed first: the summary follows the lines on
	 * a terminal that shows both, and nothing follows output that failed.
	 */
	if (check_output(pg, NULL, true) < 0)
		return;
	if (pg->out.format != OUTPUT_TEXT)
		output_total(stderr, total);
	output_summary(stderr, t->ok, t->http_errors, t->failed);
}

/*
 * Reports a usage error and exits with status 2.  The reason quotes what
 * the user typed, so it is escaped like text output.
 */
static _Noreturn void
usage_error(const char *reason)
{
	fputs("fetch_urls: ", stderr);
	output_escaped(stderr, reason);
	fputs(" (try 'fetch_urls --help')\n", stderr);
	exit(2);
}

/* Reads the URL arguments and the -i file.  Returns 0, or exits. */
static void
load_urls(struct prog *pg)
{
	const char *path = pg->cli.input;
	char err[PATH_MAX + 128];
	FILE *fp;
	size_t i;

	urls_init(&pg->urls);
	for (i = 0; i < pg->cli.nurls; i++)
		if (urls_add(&pg->urls, pg->cli.urls[i],
		    strlen(pg->cli.urls[i])) < 0)
			goto nomem;
	if (path != NULL) {
		fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		if (fp == NULL || urls_read(&pg->urls, fp) < 0) {
			snprintf(err, sizeof(err), "cannot read '%s': %s", path,
			    strerror(errno));
			usage_error(err);
		}
		if (fp != stdin)
			fclose(fp);
		if (pg->urls.nul_lines > 0) {
			if (pg->urls.nul_lines > 1)
				snprintf(err, sizeof(err), "%s: line %zu and "
				    "%zu more skipped: a NUL byte cannot be in "
				    "a URL", path, pg->urls.first_nul,
				    pg->urls.nul_lines - 1);
			else
				snprintf(err, sizeof(err), "%s: line %zu "
				    "skipped: a NUL byte cannot be in a URL",
				    path, pg->urls.first_nul);
			/* One line for a usage error, as ever. */
			if (pg->urls.n == 0) {
				strncat(err, ", and no URL is left",
				    sizeof(err) - strlen(err) - 1);
				usage_error(err);
			}
			/* Bad input, but the other URLs still run. */
			fputs("fetch_urls: ", stderr);
			output_escaped(stderr, err);
			putc('\n', stderr);
			pg->any_failed = true;
		}
	}
	if (pg->urls.n == 0)
		usage_error("no URLs given");
	return;
nomem:
	fprintf(stderr, "fetch_urls: out of memory\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct prog pg;
	struct tally ts, tc;
	pthread_t sigthread;
	sigset_t set;
	struct stat st;
	struct curl_slist *l;
	char err[256];
	double serial = 0, concurrent = 0;
	size_t i;
	int status = 1;

	/*
	 * The character set of the user's locale, so that libcurl can turn
	 * international host names into their ASCII form; numbers and
	 * messages stay as in the C locale.
	 */
	setlocale(LC_CTYPE, "");
	memset(&pg, 0, sizeof(pg));
	switch (cli_parse(argc, argv, &pg.cli, err, sizeof(err))) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("fetch_urls %s (%s)\n", FETCH_VERSION, curl_version());
		return 0;
	case CLI_ERROR:
		usage_error(err);
	case CLI_RUN:
		break;
	}
	/* As curl does: the password leaves what ps(1) shows. */
	if (pg.cli.user_arg != NULL)
		memset(pg.cli.user_arg, '*', strlen(pg.cli.user_arg));
	if (pg.cli.bearer_arg != NULL)
		memset(pg.cli.bearer_arg, '*', strlen(pg.cli.bearer_arg));
	if (pg.cli.write_out != NULL && output_writeout_check(pg.cli.write_out,
	    err, sizeof(err)) < 0) {
		cli_free(&pg.cli);
		usage_error(err);
	}
	/* CURL_CA_BUNDLE and the like, read before any thread starts. */
	fetch_opts_env(&pg.cli.opts, pg.cli.insecure);
	output_init(&pg.out, pg.cli.write_out != NULL ? OUTPUT_WRITEOUT :
	    pg.cli.format == CLI_JSON ? OUTPUT_JSON :
	    pg.cli.format == CLI_CSV ? OUTPUT_CSV : OUTPUT_TEXT,
	    pg.cli.write_out);
	load_urls(&pg);

	/* A closed stdout is an error from write(), not a signal. */
	signal(SIGPIPE, SIG_IGN);
	/* Before any thread starts: see fetch.h. */
	fetch_prepare(pg.urls.n, pg.cli.mode == CLI_SERIAL ? 1 :
	    (size_t)pg.cli.jobs);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "fetch_urls: cannot initialise libcurl\n");
		goto out_urls;
	}
	/* Built once; every worker reads it and none changes it. */
	for (i = 0; i < pg.cli.nheaders; i++) {
		if ((l = curl_slist_append(pg.headers, pg.cli.headers[i])) ==
		    NULL) {
			fprintf(stderr, "fetch_urls: out of memory\n");
			goto out_headers;
		}
		pg.headers = l;
	}
	if ((pg.signals = chan_new(sizeof(int), 1)) == NULL) {
		fprintf(stderr, "fetch_urls: out of memory\n");
		goto out_headers;
	}
	/* Every thread started from here on inherits the blocked signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&sigthread, NULL, signal_main, pg.signals) != 0) {
		fprintf(stderr, "fetch_urls: cannot start a thread\n");
		goto out_chan;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	pg.watch_reader = fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));

	switch (pg.cli.mode) {
	case CLI_SERIAL:
		if (run_urls(&pg, 1, &serial, &ts) < 0)
			goto out_thread;
		print_total(&pg, serial, &ts);
		break;
	case CLI_CONCURRENT:
		if (run_urls(&pg, (size_t)pg.cli.jobs, &concurrent, &tc) < 0)
			goto out_thread;
		print_total(&pg, concurrent, &tc);
		break;
	case CLI_COMPARE:
		/* Each record says which run it is of. */
		pg.out.run = "serial";
		if (run_urls(&pg, 1, &serial, &ts) < 0)
			goto out_thread;
		print_total(&pg, serial, &ts);
		if (pg.signo != 0 || pg.output_failed)
			break;
		pg.out.run = "concurrent";
		if (run_urls(&pg, (size_t)pg.cli.jobs, &concurrent, &tc) < 0)
			goto out_thread;
		print_total(&pg, concurrent, &tc);
		if (pg.signo == 0 && !pg.output_failed)
			output_speedup(pg.out.format == OUTPUT_TEXT ? stdout :
			    stderr, serial, concurrent);
		break;
	}
	(void)check_output(&pg, NULL, true);

	if (pg.signo != 0) {
		fprintf(stderr, "fetch_urls: interrupted: %zu of %zu URLs not "
		    "finished\n", pg.unfinished, pg.urls.n);
		status = 128 + pg.signo;
	} else
		status = pg.any_failed || pg.output_failed ? 1 : 0;

out_thread:
	atomic_store(&signals_done, true);
	pthread_kill(sigthread, SIGTERM);
	pthread_join(sigthread, NULL);
out_chan:
	chan_free(pg.signals);
out_headers:
	curl_slist_free_all(pg.headers);
	curl_global_cleanup();
out_urls:
	urls_free(&pg.urls);
	cli_free(&pg.cli);
	return status;
}
