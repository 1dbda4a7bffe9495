/* main.c: fetch_urls: fetch many URLs at once and time each one. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "chan.h"
#include "cli.h"
#include "fetch.h"
#include "output.h"
#include "urls.h"

struct prog {
	struct cli	 cli;
	struct urls	 urls;
	chan_t		*signals;	/* int: signals from signal_main(). */
	int		 signo;		/* The signal that stopped us, or 0. */
	bool		 output_failed;	/* Standard output is gone. */
	bool		 any_failed;	/* An error, or a status >= 400. */
	size_t		 unfinished;	/* URLs an interruption cut short. */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Waits for SIGINT and SIGTERM, which every other thread blocks, and
 * passes the first on to the main thread as a channel value; a second one
 * ends the process at once.  Cancelled in sigwait() when no longer needed.
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
		if (++count > 1)
			_exit(128 + sig);
		(void)chan_try_send(signals, &sig);
	}
	return NULL;
}

static void
flush_output(struct prog *pg, struct fetch_run *run, const char **why)
{
	if (pg->output_failed)
		return;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		/* Like a closed pipe under `| head`: stop quietly. */
		pg->output_failed = true;
		*why = "output closed";
		fetch_cancel(run);
	}
}

/*
 * Fetches every URL with at most `workers` threads (0: one per URL),
 * printing each result as it arrives, and sets *total to the wall time.
 * Returns 0, or -1 when the run could not start (the reason printed).
 */
static int
run_urls(struct prog *pg, size_t workers, double *total)
{
	struct fetch_config cfg;
	struct fetch_run *run;
	struct fetch_result res;
	struct chan_case cases[2];
	const char *why = "cancelled";
	char err[256];
	double start, deadline = 0;
	long timeout;
	size_t got = 0;
	int i, sig;

	cfg.workers = workers;
	cfg.max_time_ms = pg->cli.max_time_ms;
	cfg.connect_timeout_ms = pg->cli.connect_timeout_ms;

	start = now();
	if (pg->cli.deadline_ms > 0)
		deadline = start + (double)pg->cli.deadline_ms / 1000;
	if ((run = fetch_start(&cfg, pg->urls.v, pg->urls.n, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fetch_urls: %s\n", err);
		return -1;
	}

	/* Go's select { case r := <-results: ...; case s := <-signals: }. */
	cases[0] = (struct chan_case){ fetch_results(run), CHAN_RECV, &res,
	    false };
	cases[1] = (struct chan_case){ pg->signals, CHAN_RECV, &sig, false };
	while (got < pg->urls.n) {
		timeout = -1;
		if (deadline > 0) {
			timeout = (long)ceil((deadline - now()) * 1000);
			if (timeout < 0)
				timeout = 0;
		}
		i = chan_select(cases, 2, 0);
		if (i < 0 && errno == EAGAIN) {
			/* Nothing more to print for now: show what we have. */
			flush_output(pg, run, &why);
			i = chan_select(cases, 2, timeout);
		}
		if (i < 0) {
			/* The deadline passed (ETIMEDOUT), or it is 0. */
			why = "deadline reached";
			deadline = 0;
			fetch_cancel(run);
			continue;
		}
		if (i == 1) {
			pg->signo = sig;
			why = "interrupted";
			cases[1].ch = NULL;
			fetch_cancel(run);
			continue;
		}
		got++;
		if (res.outcome != FETCH_OK || res.status >= 400)
			pg->any_failed = true;
		if (pg->signo != 0 && res.outcome == FETCH_CANCELLED)
			pg->unfinished++;
		else if (!pg->output_failed)
			output_result(stdout, pg->urls.v[res.index], &res, why);
		fetch_result_free(&res);
	}
	*total = now() - start;
	fetch_finish(run);
	return 0;
}

static void
print_total(struct prog *pg, double total)
{
	if (!pg->cli.quiet && !pg->output_failed)
		output_total(stdout, total);
}

/* Reads the URL arguments and the -i file.  Returns 0, or exits. */
static void
load_urls(struct prog *pg)
{
	const char *path = pg->cli.input;
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
			fprintf(stderr, "fetch_urls: cannot read '%s': %s "
			    "(try 'fetch_urls --help')\n", path,
			    strerror(errno));
			exit(2);
		}
		if (fp != stdin)
			fclose(fp);
	}
	if (pg->urls.n == 0) {
		fprintf(stderr, "fetch_urls: no URLs given "
		    "(try 'fetch_urls --help')\n");
		exit(2);
	}
	return;
nomem:
	fprintf(stderr, "fetch_urls: out of memory\n");
	exit(1);
}

/* Lets the run hold as many connections as the hard limit allows. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct prog pg;
	pthread_t sigthread;
	sigset_t set;
	char err[256];
	double serial = 0, concurrent = 0;
	int status = 1;

	memset(&pg, 0, sizeof(pg));
	switch (cli_parse(argc, argv, &pg.cli, err, sizeof(err))) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("fetch_urls %s (%s)\n", FETCH_VERSION, curl_version());
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "fetch_urls: %s (try 'fetch_urls --help')\n",
		    err);
		return 2;
	case CLI_RUN:
		break;
	}
	load_urls(&pg);

	/* A closed stdout is an error from write(), not a signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "fetch_urls: cannot initialise libcurl\n");
		goto out_urls;
	}
	if ((pg.signals = chan_new(sizeof(int), 1)) == NULL) {
		fprintf(stderr, "fetch_urls: out of memory\n");
		goto out_curl;
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

	switch (pg.cli.mode) {
	case CLI_SERIAL:
		if (run_urls(&pg, 1, &serial) < 0)
			goto out_thread;
		print_total(&pg, serial);
		break;
	case CLI_CONCURRENT:
		if (run_urls(&pg, (size_t)pg.cli.jobs, &concurrent) < 0)
			goto out_thread;
		print_total(&pg, concurrent);
		break;
	case CLI_COMPARE:
		if (run_urls(&pg, 1, &serial) < 0)
			goto out_thread;
		print_total(&pg, serial);
		if (pg.signo != 0 || pg.output_failed)
			break;
		if (run_urls(&pg, (size_t)pg.cli.jobs, &concurrent) < 0)
			goto out_thread;
		print_total(&pg, concurrent);
		if (!pg.output_failed)
			printf("Serial: %.2fs, concurrent: %.2fs, "
			    "speedup: %.2fx\n", serial, concurrent,
			    serial / (concurrent > 0.005 ? concurrent : 0.005));
		break;
	}
	if (fflush(stdout) == EOF)
		pg.output_failed = true;

	if (pg.signo != 0) {
		fprintf(stderr, "fetch_urls: interrupted: %zu of %zu URLs not "
		    "finished\n", pg.unfinished, pg.urls.n);
		status = 128 + pg.signo;
	} else
		status = pg.any_failed || pg.output_failed ? 1 : 0;

out_thread:
	pthread_cancel(sigthread);
	pthread_join(sigthread, NULL);
out_chan:
	chan_free(pg.signals);
out_curl:
	curl_global_cleanup();
out_urls:
	urls_free(&pg.urls);
	return status;
}
