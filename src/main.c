/* main.c: fetch_urls: fetch many URLs at once and time each one. */

/*
 * The threads of a run, and the channels between them:
 *
 *   feed      reads the URLs (arguments, then -i's file, as they arrive)
 *             and submits them to the fetch run, whose bounded queue
 *             holds it back while every worker is busy;
 *   workers   (fetch.c) fetch and send a result each on the run's
 *             results channel, closed after the last;
 *   main      receives the results, prints them, and draws progress;
 *   signals   turns SIGINT, SIGTERM and SIGHUP into a cancellation of the
 *             run and a value on pg->signals, which wakes main;
 *   deadline  with --deadline, cancels the run when its time is up.
 *
 * Cancelling reaches every thread through fetch_cancel(): the feed's
 * submit fails, queued URLs come back as cancelled results, and the
 * results channel closes once they are all out.  Only main writes
 * output, so a cancellation never waits for a slow reader of it.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
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

#include "body.h"
#include "chan.h"
#include "cli.h"
#include "fetch.h"
#include "fetch_opts.h"
#include "output.h"
#include "progress.h"
#include "records.h"
#include "shard.h"
#include "stats.h"
#include "urls.h"

/* How often the progress line is redrawn while nothing else happens. */
#define PROGRESS_TICK_MS	250

/*
 * How often, while waiting for results, the program looks whether the
 * reader of its standard output (a pipe or a socket) has gone.
 */
#define READER_TICK_MS		250

/*
 * After a cancellation, how long main waits for the feed to see it: a
 * feed blocked reading a pipe that says nothing more is left behind.
 */
#define FEED_WAIT_MS		100

/*
 * --ordered holds at most this many results a worker while an earlier
 * URL is still in flight, and at least ORDER_MIN, at most ORDER_MAX.
 */
#define ORDER_PER_WORKER	4
#define ORDER_MIN		64
#define ORDER_MAX		65536

/* Exit statuses besides 0, 1 and 2 (usage): see the manual. */
#define EXIT_INCOMPLETE		3

struct prog {
	struct cli	 cli;
	struct output	 out;
	FILE		*rec;		/* Where records go: stdout, or the
					   file of --records. */
	char		*rec_tmp;	/* NULL, or malloced: the file that
					   becomes rec_target when the run
					   is complete.  Set before the
					   signal thread starts, then only
					   read; freed after it ends. */
	char		*rec_target;	/* NULL, or malloced: --records'
					   regular file (a link's target). */
	struct records_done *done;	/* NULL, or --resume's records. */
	FILE		*input;		/* NULL, or -i's (stdin for "-"). */
	struct urls	 held;		/* --compare: every URL, read first. */
	chan_t		*signals;	/* int: wakes main on a signal. */
	pthread_mutex_t	 active_mu;
	struct fetch_run *active;	/* The run a signal cancels; guarded
					   by active_mu. */
	pthread_mutex_t	 order_mu;
	struct run	*order;		/* NULL, or --ordered's run while
					   main receives its results: what
					   a second signal writes.  Guarded
					   by order_mu, as are its held
					   results. */
	atomic_int	 signo;		/* The signal that stopped us, or 0. */
	bool		 progress;	/* A progress line may be on standard
					   error, a terminal.  Set before the
					   signal thread starts, then only
					   read. */
	bool		 output_failed;	/* Records cannot be written. */
	bool		 watch_reader;	/* Records go to a pipe or a socket,
					   whose reader can leave. */
	bool		 any_failed;	/* An error, a status >= 400, or an
					   input line skipped. */
	bool		 incomplete;	/* A URL read was not fetched. */
	size_t		 submitted;	/* URLs of the last run. */
	size_t		 unfinished;	/* URLs an interruption cut short. */
	struct stats	*stats[2];	/* --stats: NULL or owned; a run's
					   figures, the serial run's first
					   with --compare. */
	struct stats	*counting;	/* NULL or the stats[] of the run
					   going on. */
	bool		 jar_later;	/* A later run writes the cookie
					   jar, not the one going on. */
};

/* What one run got, for the summary line. */
struct tally {
	size_t	ok;		/* A status below 400. */
	size_t	http_errors;	/* A status of 400 or more. */
	size_t	failed;		/* No response: an error, or cancelled. */
};

/* The feed thread's state; main reads it once the feed is over. */
struct feed {
	struct prog		*pg;
	struct fetch_run	*run;
	chan_t			*window;	/* NULL, or --ordered's
						   tokens: see run_urls(). */
	chan_t			*over;		/* Gets one value when the
						   feed is done with run. */
	size_t			 skipped;	/* Done before (--resume). */
	int			 read_errno;	/* 0, or the read's error. */
	bool			 start_failed;	/* No worker could start. */
	bool			 cut_short;	/* The run was cancelled
						   before the input ended. */
	char			 why[192];	/* Then the reason. */
	size_t			 nul_lines;
	size_t			 first_nul;
};

/* One run's results while they come in; only the main thread uses it. */
struct run {
	struct fetch_run	*fetch;
	struct fetch_result	*held;	/* --ordered: NULL, or malloced
					   with nheld slots, by seq. */
	bool			*have;	/* NULL or malloced: held[i] set. */
	size_t			 nheld;
	size_t			 next;	/* --ordered: the seq to print. */
	chan_t			*window;
	struct progress		 progress;
	struct tally		 tally;
	atomic_bool		 deadline_hit;
};

/*
 * A run whose feed is still blocked in a read when the run ends cannot be
 * freed; it stays here, reachable, until the process exits.
 */
static struct fetch_run *abandoned;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *cancel_why(const struct prog *, struct run *);

/* Set before main sends the signal thread a SIGTERM of its own to end it. */
static atomic_bool signals_done;

/*
 * How long, at most, a second signal waits for main to finish the line it
 * is writing, on standard output or error, before it ends the process.
 */
#define EXIT_LOCK_MS		100

/*
 * Takes fp's lock, if main lets it go within EXIT_LOCK_MS: main holds it
 * for the time it writes one record or one progress line, unless the
 * write blocks.  There is no flockfile() with a deadline; hence the ticks.
 * Returns whether the lock is taken.
 */
static bool
lock_soon(FILE *fp)
{
	struct timespec tick = { 0, 1000 * 1000 };
	int ms;

	for (ms = 0; ftrylockfile(fp) != 0; ms++) {
		if (ms == EXIT_LOCK_MS)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

/*
 * Writes, on a second signal, the results that --ordered holds back
 * behind a URL still in flight, in order, without that URL: it has no
 * result.  Gives up when main keeps the order lock, or the records'
 * stream, longer than EXIT_LOCK_MS, blocked writing; keeps both.
 * A --records file that is a temporary one is removed anyway.
 */
static void
write_held(struct prog *pg)
{
	struct timespec until;
	struct fetch_result *res;
	struct run *r;
	size_t i, slot;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += EXIT_LOCK_MS * 1000L * 1000L;
	until.tv_sec += until.tv_nsec / (1000L * 1000L * 1000L);
	until.tv_nsec %= 1000L * 1000L * 1000L;
	if (pthread_mutex_timedlock(&pg->order_mu, &until) != 0 ||
	    (r = pg->order) == NULL || pg->rec_tmp != NULL ||
	    !lock_soon(pg->rec))
		return;
	for (i = r->next; i < r->next + r->nheld; i++) {
		res = &r->held[slot = i % r->nheld];
		/* As emit(): --resume's file holds finished URLs only. */
		if (r->have[slot] && !(pg->done != NULL &&
		    res->outcome == FETCH_CANCELLED))
			output_result(pg->rec, &pg->out, res->url, res,
			    cancel_why(pg, r));
	}
	(void)fflush(pg->rec);
}

/*
 * Ends the process at once with the status of sig, on a second signal:
 * the run's cancellation may hang, since libcurl 7.88 cannot cancel the
 * resolution of a host name and waits for it (seconds, when DNS times
 * out).  Main may be stuck anywhere, so its locks are waited for only
 * briefly (lock_soon()), and those taken are kept until the end: main
 * writes nothing after.
 *
 * The progress line, if one may be on the terminal, is erased, unless
 * main is stuck drawing it.  Then the records in standard output's buffer
 * are written: output.c writes each record under the stream's lock, so
 * the output ends with a whole record.  When main keeps the lock, blocked
 * writing to a reader that does not read, they are lost, and that write
 * may have cut a record.  With --ordered, the results held back behind
 * a URL still in flight are written first (write_held()).  The writes
 * here may block too, on such a reader or on a stopped terminal.  Making
 * standard output non-blocking would change its open file description for
 * every process that shares it, so instead the signals of set are
 * unblocked first: a third ends the process, by their default action.
 *
 * A --records file is a temporary one until the run completes, and it is
 * removed, as after any incomplete run: FILE stays as it was.  Records
 * written in place to a device or a FIFO go through a stream that main
 * may be closing, so what its buffer holds is lost; with --resume each
 * line is written as it is formatted.
 */
static _Noreturn void
exit_now(struct prog *pg, int sig, const sigset_t *set)
{
	static const char erase[] = "\r\033[K";

	pthread_sigmask(SIG_UNBLOCK, set, NULL);
	if (pg->progress && lock_soon(stderr))
		(void)write(STDERR_FILENO, erase, sizeof(erase) - 1);
	write_held(pg);
	if (lock_soon(stdout))
		(void)fflush(stdout);
	if (pg->rec_tmp != NULL)
		(void)unlink(pg->rec_tmp);
	_exit(128 + sig);
}

/*
 * Fills set with the signals that stop a run: SIGTERM, which also ends the
 * signal thread; SIGINT; and SIGHUP, which a closed terminal or a lost ssh
 * session sends (its default action would leave --records' temporary file
 * behind).  SIGINT and SIGHUP stay ignored when we started with them
 * ignored, as a shell starts a background job and nohup(1) a command: a
 * blocked signal is queued for sigwait() even when ignored.
 */
static void
stop_signals(sigset_t *set)
{
	static const int optional[] = { SIGINT, SIGHUP };
	struct sigaction sa;
	size_t i;

	sigemptyset(set);
	sigaddset(set, SIGTERM);
	for (i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (sigaction(optional[i], NULL, &sa) != 0 ||
		    sa.sa_handler != SIG_IGN)
			sigaddset(set, optional[i]);
}

/*
 * Waits for the stop_signals(), which every other thread blocks.  The
 * first cancels the active run at once, even while main is blocked
 * writing, and wakes main through pg->signals; a second one ends the
 * process (exit_now()).  Returns on the SIGTERM that follows signals_done.
 * (pthread_cancel() would load the unwinder, libgcc_s, with dlopen() at
 * exit: a fraction of a millisecond with libcurl's libraries.)
 */
static void *
signal_main(void *arg)
{
	struct prog *pg = arg;
	sigset_t set;
	int sig, count = 0;

	stop_signals(&set);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&signals_done))
			return NULL;
		if (++count > 1)
			exit_now(pg, sig, &set);
		atomic_store(&pg->signo, sig);
		pthread_mutex_lock(&pg->active_mu);
		if (pg->active != NULL)
			fetch_cancel(pg->active);
		pthread_mutex_unlock(&pg->active_mu);
		(void)chan_try_send(pg->signals, &sig);
	}
}

/* What --deadline's thread needs. */
struct deadline {
	struct run	*r;
	chan_t		*stop;		/* Closed when the run is over. */
	long		 ms;
};

/* Cancels the run when the deadline passes before the run is over. */
static void *
deadline_main(void *arg)
{
	struct deadline *d = arg;

	if (chan_recv_timeout(d->stop, NULL, d->ms) < 0 &&
	    errno == ETIMEDOUT) {
		atomic_store(&d->r->deadline_hit, true);
		fetch_cancel(d->r->fetch);
	}
	return NULL;
}

/* Why the URLs of a run that was stopped are cancelled. */
static const char *
cancel_why(const struct prog *pg, struct run *r)
{
	if (atomic_load(&pg->signo) != 0)
		return "interrupted";
	if (atomic_load(&r->deadline_hit))
		return "deadline reached";
	if (pg->output_failed)
		return "output closed";
	return "cancelled";
}

/* Records cannot be written, or their reader has gone: stops the run r. */
static void
stop_output(struct prog *pg, struct run *r)
{
	pg->output_failed = true;
	if (r != NULL)
		fetch_cancel(r->fetch);
}

/*
 * Checks the records' stream after writes to it, flushing it first when
 * flush is set.  On its first failure, cancels the run r (if not NULL)
 * and says why, unless the reader went away (EPIPE): a closed pipe, as
 * under `| head`, ends the program quietly.  errno must be 0 before the
 * writes checked, so that it tells what failed.  Returns -1 once output
 * has failed, else 0.
 */
static int
check_output(struct prog *pg, struct run *r, bool flush)
{
	if (pg->output_failed)
		return -1;
	if (flush)
		errno = 0;
	if (!(flush && fflush(pg->rec) == EOF) && !ferror(pg->rec))
		return 0;
	if (errno != 0 && errno != EPIPE)
		fprintf(stderr, "fetch_urls: cannot write %s: %s\n",
		    pg->rec == stdout ? "standard output" : pg->cli.records,
		    strerror(errno));
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
	progress_draw(&r->progress, got, fetch_submitted(r->fetch),
	    fetch_in_flight(r->fetch), r->tally.http_errors + r->tally.failed,
	    now());
}

/*
 * Prints a result and frees it.  With --resume, a cancelled URL gets no
 * record: the records file holds finished URLs only, so that the next
 * run fetches it.
 */
static void
emit(struct prog *pg, struct run *r, struct fetch_result *res)
{
	if (!pg->output_failed && !(pg->done != NULL &&
	    res->outcome == FETCH_CANCELLED)) {
		progress_erase(&r->progress);
		errno = 0;
		output_result(pg->rec, &pg->out, res->url, res,
		    cancel_why(pg, r));
		/* Sees a failed write as soon as a full buffer is written. */
		(void)check_output(pg, r, false);
	}
	fetch_result_free(res);
}

/*
 * Prints a result now, or with --ordered once every earlier one has
 * printed: the results that came early wait in r->held, and each printed
 * in order gives the feed back a token of the window.
 */
static void
deliver(struct prog *pg, struct run *r, struct fetch_result *res)
{
	size_t slot;

	if (r->held == NULL) {
		emit(pg, r, res);
		return;
	}
	/* A second signal writes what is held (write_held()). */
	pthread_mutex_lock(&pg->order_mu);
	if (res->seq != r->next) {
		slot = res->seq % r->nheld;
		r->held[slot] = *res;
		r->have[slot] = true;
		pthread_mutex_unlock(&pg->order_mu);
		return;
	}
	emit(pg, r, res);
	(void)chan_try_recv(r->window, NULL);
	for (r->next++; r->have[slot = r->next % r->nheld]; r->next++) {
		r->have[slot] = false;
		emit(pg, r, &r->held[slot]);
		(void)chan_try_recv(r->window, NULL);
	}
	pthread_mutex_unlock(&pg->order_mu);
}

/* Makes r the run whose held results a second signal writes (NULL: none). */
static void
set_order(struct prog *pg, struct run *r)
{
	pthread_mutex_lock(&pg->order_mu);
	pg->order = r;
	pthread_mutex_unlock(&pg->order_mu);
}

static void
count(struct prog *pg, struct run *r, const struct fetch_result *res)
{
	if (res->outcome != FETCH_OK || res->status >= 400)
		pg->any_failed = true;
	if (res->outcome == FETCH_CANCELLED)
		pg->incomplete = true;
	if (atomic_load(&pg->signo) != 0 && res->outcome == FETCH_CANCELLED)
		pg->unfinished++;
	else if (res->outcome != FETCH_OK)
		r->tally.failed++;
	else if (res->status >= 400)
		r->tally.http_errors++;
	else
		r->tally.ok++;
	if (pg->counting != NULL)
		stats_add(pg->counting, res->url, res);
}

/*
 * Reads the URLs and submits them to the run: the arguments, then -i's
 * file line by line as it arrives; with --compare the list read first.
 * Other shards' URLs and --resume's finished ones are skipped, their
 * numbers kept.  With --ordered, each URL first takes a token of the
 * window, which main gives back when it prints a result in order.  Ends
 * the run's input, then sends on f->over: after that the feed no longer
 * uses the run.
 */
static void *
feed_main(void *arg)
{
	struct feed *f = arg;
	struct prog *pg = f->pg;
	struct urls_reader rd;
	struct chan_case cases[2];
	size_t i = 0, urlnum = 0;
	char *url, token = 0;
	int rc, one = 1;

	if (pg->input != NULL && pg->cli.mode != CLI_COMPARE)
		urls_reader_init(&rd, pg->input);
	cases[0] = (struct chan_case){ f->window, CHAN_SEND, &token, false };
	cases[1] = (struct chan_case){ fetch_done(f->run), CHAN_RECV, NULL,
	    false };
	for (;; urlnum++) {
		errno = 0;
		if (pg->cli.mode == CLI_COMPARE)
			url = i < pg->held.n ? strdup(pg->held.v[i++]) : NULL;
		else if (i < pg->cli.nurls)
			url = strdup(pg->cli.urls[i++]);
		else if (pg->input == NULL ||
		    (rc = urls_next(&rd, &url)) == 0)
			break;
		else if (rc < 0)
			url = NULL;
		if (url == NULL) {
			/* The end of the held list, or a failure. */
			f->read_errno = errno;
			break;
		}
		/* Another shard's URL is skipped, its number kept. */
		if (!shard_mine(&pg->cli.shard, urlnum, url, strlen(url))) {
			free(url);
			continue;
		}
		if (pg->done != NULL &&
		    records_has(pg->done, &pg->out, urlnum, url)) {
			f->skipped++;
			free(url);
			continue;
		}
		if (f->window != NULL && (chan_select(cases, 2, -1) != 0 ||
		    !cases[0].ok)) {
			f->cut_short = true;
			free(url);
			break;
		}
		if (fetch_submit(f->run, urlnum, url, f->why,
		    sizeof(f->why)) < 0) {
			f->start_failed = errno == EAGAIN;
			f->cut_short = !f->start_failed;
			free(url);
			break;
		}
	}
	if (pg->input != NULL && pg->cli.mode != CLI_COMPARE) {
		f->nul_lines = rd.nul_lines;
		f->first_nul = rd.first_nul;
		urls_reader_free(&rd);
	}
	fetch_end_input(f->run);
	(void)chan_send(f->over, &one);
	return NULL;
}

/* Says msg on standard error, as a line of fetch_urls's, escaped. */
static void
say(const char *msg)
{
	fputs("fetch_urls: ", stderr);
	output_escaped(stderr, msg);
	putc('\n', stderr);
}

/*
 * Says what went wrong with the input, if anything: a read that failed
 * with read_errno (the URLs read before it still run, but the run is
 * incomplete), or nul_lines lines skipped for a NUL byte, the first of
 * them line first_nul (bad input, but the other URLs still run).
 */
static void
input_report(struct prog *pg, int read_errno, size_t nul_lines,
    size_t first_nul)
{
	const char *path = pg->cli.input;
	char err[PATH_MAX + 128];

	if (read_errno != 0) {
		snprintf(err, sizeof(err), "cannot read '%s': %s", path,
		    strerror(read_errno));
		pg->incomplete = true;
	} else if (nul_lines > 1)
		snprintf(err, sizeof(err), "%s: line %zu and %zu more skipped: "
		    "a NUL byte cannot be in a URL", path, first_nul,
		    nul_lines - 1);
	else if (nul_lines == 1)
		snprintf(err, sizeof(err), "%s: line %zu skipped: a NUL byte "
		    "cannot be in a URL", path, first_nul);
	else
		return;
	pg->any_failed = true;
	say(err);
}

/* Says what the feed could not do, once it is over. */
static void
feed_report(struct prog *pg, const struct feed *f)
{
	/* A URL the feed read or could still read was never fetched. */
	if (f->cut_short)
		pg->incomplete = true;
	if (f->read_errno == 0 && f->start_failed) {
		pg->incomplete = true;
		pg->any_failed = true;
		say(f->why);
		return;
	}
	input_report(pg, f->read_errno, f->nul_lines, f->first_nul);
}

/* Sets up cfg for a run with at most workers workers (0: the default). */
static void
run_config(const struct prog *pg, size_t workers, struct fetch_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = workers;
	cfg->max_time_ms = pg->cli.max_time_ms;
	cfg->connect_timeout_ms = pg->cli.connect_timeout_ms;
	cfg->follow = pg->cli.location;
	cfg->max_redirs = pg->cli.max_redirs;
	cfg->method = pg->cli.method;
	cfg->head = pg->cli.head;
	cfg->headers = pg->cli.headers;
	cfg->user_agent = pg->cli.user_agent;
	cfg->userpwd = pg->cli.user;
	cfg->insecure = pg->cli.insecure;
	cfg->opts = &pg->cli.opts;
	cfg->skip_jar = pg->jar_later;
	cfg->body = pg->cli.body.name != NULL ? &pg->cli.body : NULL;
	cfg->retries = pg->cli.retry;
	cfg->rate = pg->cli.rate;
	cfg->per_host = (size_t)pg->cli.per_host;
}

/* Makes r ready to print in order; returns 0, or -1 when out of memory. */
static int
order_init(struct run *r)
{
	size_t n = fetch_max_workers(r->fetch) * ORDER_PER_WORKER;

	r->nheld = n < ORDER_MIN ? ORDER_MIN : n > ORDER_MAX ? ORDER_MAX : n;
	if ((r->held = calloc(r->nheld, sizeof(*r->held))) == NULL ||
	    (r->have = calloc(r->nheld, sizeof(*r->have))) == NULL ||
	    (r->window = chan_new(1, r->nheld)) == NULL)
		return -1;
	return 0;
}

/*
 * Receives the run's results until its results channel closes, printing
 * each as it arrives (or in order); returns how many there were.
 */
static size_t
receive(struct prog *pg, struct run *r)
{
	struct fetch_result res;
	struct chan_case cases[2];
	long timeout;
	size_t got = 0;
	int i, sig;

	/* Go's select { case r, ok := <-results: ...; case <-signals: }. */
	cases[0] = (struct chan_case){ fetch_results(r->fetch), CHAN_RECV,
	    &res, false };
	cases[1] = (struct chan_case){ pg->signals, CHAN_RECV, &sig, false };
	for (;;) {
		timeout = -1;
		if (r->progress.on)
			timeout = PROGRESS_TICK_MS;
		if (pg->watch_reader && !pg->output_failed &&
		    (timeout < 0 || timeout > READER_TICK_MS))
			timeout = READER_TICK_MS;
		i = chan_select(cases, 2, 0);
		if (i < 0 && errno == EAGAIN) {
			/* Nothing more to print for now: show what we have. */
			(void)check_output(pg, r, true);
			if (!r->progress.shown)
				draw_progress(r, got);
			i = chan_select(cases, 2, timeout);
		}
		if (i < 0) {
			draw_progress(r, got);
			check_reader(pg, r);
			continue;
		}
		if (i == 1) {
			/* The signal thread has cancelled the run. */
			cases[1].ch = NULL;
			continue;
		}
		if (!cases[0].ok)
			return got;
		got++;
		count(pg, r, &res);
		deliver(pg, r, &res);
	}
}

/* Makes run the one a signal cancels (NULL: none). */
static void
set_active(struct prog *pg, struct fetch_run *run)
{
	pthread_mutex_lock(&pg->active_mu);
	pg->active = run;
	if (run != NULL && atomic_load(&pg->signo) != 0)
		fetch_cancel(run);
	pthread_mutex_unlock(&pg->active_mu);
}

/*
 * Prints the total time (after the records in text form to standard
 * output, where the Go program printed it; on standard error in the
 * machine-readable forms or when records go to a file) and the summary
 * (on standard error), unless -q.
 */
static void
print_total(struct prog *pg, double total, const struct tally *t)
{
	bool text = pg->out.format == OUTPUT_TEXT && pg->rec == stdout;

	if (pg->cli.quiet || pg->output_failed)
		return;
	if (text)
		output_total(stdout, total);
	/*
	 * Standard output is flushed first: the summary follows the lines on
	 * a terminal that shows both, and nothing follows output that failed.
	 */
	if (check_output(pg, NULL, true) < 0)
		return;
	if (!text)
		output_total(stderr, total);
	output_summary(stderr, t->ok, t->http_errors, t->failed);
}

/*
 * Fetches every URL with at most `workers` threads (0: the default),
 * printing each result as it arrives (or in order), then the total and
 * the summary, and sets *total to the wall time.  Returns 0, or -1 when
 * the run could not start (the reason printed).
 */
static int
run_urls(struct prog *pg, size_t workers, double *total)
{
	struct fetch_config cfg;
	struct deadline dl = { NULL, NULL, 0 };
	struct feed f;
	struct run r;
	pthread_t feeder, timer;
	char err[256];
	double start;
	int one;

	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	atomic_init(&r.deadline_hit, false);
	run_config(pg, workers, &cfg);
	start = now();
	if ((r.fetch = fetch_start(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fetch_urls: %s\n", err);
		return -1;
	}
	f.pg = pg;
	f.run = r.fetch;
	if ((pg->cli.ordered && order_init(&r) < 0) ||
	    (f.over = chan_new(sizeof(int), 1)) == NULL ||
	    (pg->cli.deadline_ms > 0 && (dl.stop = chan_new(1, 0)) == NULL)) {
		fprintf(stderr, "fetch_urls: out of memory\n");
		goto fail;
	}
	f.window = r.window;
	progress_init(&r.progress, stderr, pg->progress, start);
	set_active(pg, r.fetch);
	dl.r = &r;
	dl.ms = pg->cli.deadline_ms;
	if (dl.stop != NULL && pthread_create(&timer, NULL, deadline_main,
	    &dl) != 0) {
		chan_free(dl.stop);
		dl.stop = NULL;
		fprintf(stderr, "fetch_urls: cannot start a thread\n");
		goto fail_active;
	}
	if (pthread_create(&feeder, NULL, feed_main, &f) != 0) {
		fprintf(stderr, "fetch_urls: cannot start a thread\n");
		if (dl.stop != NULL) {
			(void)chan_close(dl.stop);
			pthread_join(timer, NULL);
		}
		goto fail_active;
	}

	if (r.held != NULL)
		set_order(pg, &r);
	(void)receive(pg, &r);
	set_order(pg, NULL);
	progress_erase(&r.progress);
	/*
	 * The records are out before what follows them on standard error:
	 * the feed's report, the total and summary (which -q drops), or -c's
	 * speedup.
	 */
	(void)check_output(pg, NULL, true);
	*total = now() - start;
	pg->submitted = fetch_submitted(r.fetch);

	if (dl.stop != NULL) {
		(void)chan_close(dl.stop);
		pthread_join(timer, NULL);
		chan_free(dl.stop);
	}
	set_active(pg, NULL);
	/*
	 * Without a cancellation the results closed because the input
	 * ended, and the feed is about to say so.  After one, a feed
	 * blocked in a read is left behind with its run.
	 */
	if (chan_recv_timeout(f.over, &one, fetch_cancelled(r.fetch) ?
	    FEED_WAIT_MS : -1) == 0) {
		pthread_join(feeder, NULL);
		feed_report(pg, &f);
		fetch_finish(r.fetch);
		chan_free(f.over);
		chan_free(r.window);
	} else {
		pthread_detach(feeder);
		abandoned = r.fetch;
		pg->incomplete = true;
	}
	free(r.held);
	free(r.have);
	print_total(pg, *total, &r.tally);
	return 0;

fail_active:
	set_active(pg, NULL);
fail:
	fetch_end_input(r.fetch);
	fetch_finish(r.fetch);
	chan_free(f.over);
	chan_free(dl.stop);
	chan_free(r.window);
	free(r.held);
	free(r.have);
	return -1;
}

/*
 * --stats: the report of the runs done (times as their totals), on
 * standard error after their totals, unless output failed.
 */
static void
print_stats(struct prog *pg, double serial, double concurrent)
{
	struct stats_run runs[2] = {
		{ pg->stats[0], NULL, pg->cli.mode == CLI_SERIAL ? serial :
		    concurrent },
		{ pg->stats[1], "concurrent", concurrent },
	};
	size_t n = 1;

	if (pg->stats[0] == NULL || pg->output_failed)
		return;
	if (pg->cli.mode == CLI_COMPARE) {
		runs[0].name = "serial";
		runs[0].elapsed = serial;
		/* An interruption may leave the second run undone. */
		if (pg->counting == pg->stats[1])
			n = 2;
	}
	stats_print(stderr, pg->cli.stats == CLI_STATS_JSON ? STATS_JSON :
	    STATS_TEXT, runs, n);
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

/*
 * Opens -i's file, which the feed then reads as it goes; with --compare
 * reads every URL first, since both runs need them.  Exits on an error.
 */
static void
open_input(struct prog *pg)
{
	const char *path = pg->cli.input;
	char err[PATH_MAX + 128];
	struct stat st;
	FILE *fp = NULL;
	size_t i;
	int rc, e = 0;

	urls_init(&pg->held);
	if (pg->cli.nurls == 0 && path == NULL)
		usage_error("no URLs given");
	if (path != NULL) {
		fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		if (fp == NULL)
			e = errno;
		else if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode))
			e = EISDIR;
		/* Closed (hold_std_fds()) or write-only, stdin is unreadable. */
		else if (fp == stdin &&
		    (fcntl(STDIN_FILENO, F_GETFL) & O_ACCMODE) == O_WRONLY)
			e = EBADF;
		if (e != 0) {
			snprintf(err, sizeof(err), "cannot read '%s': %s", path,
			    strerror(e));
			usage_error(err);
		}
		pg->input = fp;
	}
	if (pg->cli.mode != CLI_COMPARE)
		return;
	for (i = 0; i < pg->cli.nurls; i++)
		if (urls_add(&pg->held, pg->cli.urls[i],
		    strlen(pg->cli.urls[i])) < 0)
			goto nomem;
	/*
	 * Said now, once for both runs, as the feed says it of a stream:
	 * the URLs read before an error still run.
	 */
	rc = fp != NULL ? urls_read(&pg->held, fp) : 0;
	if (rc < 0 && errno == ENOMEM)
		goto nomem;
	input_report(pg, rc < 0 ? errno : 0, pg->held.nul_lines,
	    pg->held.first_nul);
	return;
nomem:
	fprintf(stderr, "fetch_urls: out of memory\n");
	exit(1);
}

/*
 * Whether path names -i's file: a file written there, the records or the
 * cookie jar, would take the place of its URLs, or, a FIFO, be read back
 * as URLs.  A character device, a terminal or /dev/null, is read and
 * written in place without either taking the other's place.
 */
static bool
is_input(const struct prog *pg, const char *path)
{
	struct stat st;

	return pg->input != NULL && fstat(fileno(pg->input), &st) == 0 &&
	    !S_ISCHR(st.st_mode) &&
	    cli_names_fd(path, fileno(pg->input), false);
}

/*
 * Whether paths a and b name one regular file: the same file when both
 * exist, else the same name in the same directory, as a file to be made.
 * (A device, as /dev/null, is written in place: neither replaces it.)
 */
static bool
same_file(const char *a, const char *b)
{
	const char *path[2] = { a, b }, *name[2];
	char dir[2][PATH_MAX];
	struct stat st[2];
	int i;

	if (stat(a, &st[0]) == 0 && stat(b, &st[1]) == 0)
		return S_ISREG(st[0].st_mode) &&
		    st[0].st_dev == st[1].st_dev &&
		    st[0].st_ino == st[1].st_ino;
	for (i = 0; i < 2; i++) {
		name[i] = strrchr(path[i], '/');
		snprintf(dir[i], sizeof(dir[i]), "%.*s", name[i] == NULL ||
		    name[i] == path[i] ? 1 : (int)(name[i] - path[i]),
		    name[i] == NULL ? "." : path[i]);
		name[i] = name[i] == NULL ? path[i] : name[i] + 1;
		if (stat(dir[i], &st[i]) != 0)
			return false;
	}
	return strcmp(name[0], name[1]) == 0 && st[0].st_dev == st[1].st_dev &&
	    st[0].st_ino == st[1].st_ino;
}

/*
 * Exits on a body file that is -i's file, the records file or the cookie
 * jar: written when the run ends, the records or the jar would replace
 * the body, and a body would take the place of the URLs.  Only a name
 * without variables is known now; one that depends on the URL is not
 * checked (a body never replaces a file that exists, as the input does).
 */
static void
check_body_path(const struct prog *pg)
{
	const char *rec = pg->cli.records, *jar = pg->cli.opts.cookie_jar;
	const char *what = NULL;
	char err[2 * PATH_MAX + 128], *path;

	if (pg->cli.body.name == NULL ||
	    (path = body_fixed_path(&pg->cli.body)) == NULL)
		return;
	if (is_input(pg, path))
		what = "the input file";
	else if (rec != NULL && same_file(path, rec))
		what = "the --records file";
	else if (jar != NULL && strcmp(jar, "-") != 0 && same_file(path, jar))
		what = "the --cookie-jar file";
	if (what == NULL) {
		free(path);
		return;
	}
	snprintf(err, sizeof(err), "--output file '%s' is %s", path, what);
	free(path);
	usage_error(err);
}

/*
 * Opens where the records go.  Without --records, standard output.  With
 * it, a temporary file beside FILE that becomes FILE once the run is
 * complete; with --resume, FILE itself, after reading back the records it
 * has, written a line at a time so that a crash loses only the lines in
 * flight.  Exits on an error; first, on a cookie jar that is -i's file or
 * the records file, which the run would write over.
 */
static void
open_records(struct prog *pg)
{
	const char *path = pg->cli.records, *jar = pg->cli.opts.cookie_jar;
	/* "-" is standard output, not a file of that name. */
	bool jar_out = jar != NULL && strcmp(jar, "-") == 0;
	bool jar_file = jar != NULL && !jar_out;
	char err[PATH_MAX + 128];
	bool header;
	int rc;

	if (jar_file && is_input(pg, jar)) {
		snprintf(err, sizeof(err), "--cookie-jar '%s' is the input "
		    "file", jar);
		usage_error(err);
	}
	pg->rec = stdout;
	if (path == NULL)
		return;
	/* --cookie-jar - needs the records elsewhere (see cli_parse()). */
	if (jar_out && cli_names_fd(path, STDOUT_FILENO, false)) {
		snprintf(err, sizeof(err), "--records '%s' is standard output, "
		    "where --cookie-jar - writes", path);
		usage_error(err);
	}
	/* The jar, written when the run ends, would replace the records. */
	if (jar_file && same_file(jar, path)) {
		snprintf(err, sizeof(err), "--cookie-jar '%s' is the "
		    "--records file", jar);
		usage_error(err);
	}
	if (is_input(pg, path)) {
		snprintf(err, sizeof(err), "--records '%s' is the input file",
		    path);
		usage_error(err);
	}
	if (pg->cli.resume) {
		if (records_check(&pg->out, err, sizeof(err)) < 0 ||
		    (pg->done = records_load(path, &pg->out, &header, err,
		    sizeof(err))) == NULL)
			usage_error(err);
		/* One CSV header in the file, written by the first run. */
		pg->out.header_done = header;
		if ((pg->rec = fopen(path, "a")) == NULL) {
			snprintf(err, sizeof(err), "cannot write '%s': %s",
			    path, strerror(errno));
			usage_error(err);
		}
		setvbuf(pg->rec, NULL, _IOLBF, 1 << 16);
		return;
	}
	/* A device or a FIFO is written in place, never replaced. */
	rc = records_target(path, &pg->rec_target);
	pg->rec = rc < 0 ? NULL : rc == 0 ? fopen(path, "w") :
	    records_temp(pg->rec_target, "", &pg->rec_tmp);
	if (pg->rec == NULL) {
		snprintf(err, sizeof(err), "cannot write %s'%s': %s",
		    rc > 0 ? "next to " : "", path, strerror(errno));
		usage_error(err);
	}
	setvbuf(pg->rec, NULL, _IOFBF, 1 << 16);
}

/*
 * Closes the records file.  A complete run's temporary file becomes
 * --records' FILE; an incomplete one's is removed, so that FILE exists
 * only for a complete run.
 */
static void
close_records(struct prog *pg, bool complete)
{
	const char *path = pg->cli.records;
	int e;

	if (pg->rec == stdout)
		return;
	errno = 0;
	if (fflush(pg->rec) != 0 || ferror(pg->rec) ||
	    (complete && pg->rec_tmp != NULL && fsync(fileno(pg->rec)) != 0)) {
		e = errno;
		if (!pg->output_failed)
			fprintf(stderr, "fetch_urls: cannot write %s: %s\n",
			    path, strerror(e));
		pg->output_failed = true;
		complete = false;
	}
	fclose(pg->rec);
	pg->rec = stdout;
	if (pg->rec_tmp == NULL)
		return;
	if (complete && rename(pg->rec_tmp, pg->rec_target) != 0) {
		fprintf(stderr, "fetch_urls: cannot rename %s onto %s: %s\n",
		    pg->rec_tmp, path, strerror(errno));
		pg->output_failed = true;
		complete = false;
	}
	if (!complete) {
		(void)unlink(pg->rec_tmp);
		fprintf(stderr, "fetch_urls: the run is incomplete: %s not "
		    "written\n", path);
	}
	free(pg->rec_target);
	pg->rec_target = NULL;
}

/*
 * The exit status of --help and --version: 0, or 1 when their text could
 * not be written (a full disk, a reader gone).
 */
static int
printed(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "fetch_urls: cannot write standard output: %s\n",
	    strerror(errno));
	return 1;
}

/*
 * Blanks out, in place, the user information of the URL url, as
 * output_redact() finds it, so that no piece of a password with an '@',
 * a '/' or a '?' in it is left.
 */
static void
blank_userinfo(char *url)
{
	char *s = url + output_authority(url);
	size_t n;

	if ((n = output_userinfo_len(s)) > 1)
		memset(s, '*', n - 1);
}

/*
 * Fills a closed standard descriptor with /dev/null, opened the wrong way
 * round so that using it still fails with EBADF as a closed one does.
 * Otherwise the records file, a body or a socket would take the number,
 * and what is meant for standard output or error would land in it.
 */
static void
hold_std_fds(void)
{
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == STDIN_FILENO ? O_WRONLY :
		    O_RDONLY) != fd)
			exit(1);
}

int
main(int argc, char **argv)
{
	static struct prog pg;
	pthread_t sigthread;
	sigset_t set;
	struct stat st;
	char err[PATH_MAX + 128];
	double serial = 0, concurrent = 0;
	int status = 1, sig;

	hold_std_fds();
	/*
	 * The character set of the user's locale, so that libcurl can turn
	 * international host names into their ASCII form; numbers and
	 * messages stay as in the C locale.
	 */
	setlocale(LC_CTYPE, "");
	switch (cli_parse(argc, argv, &pg.cli, err, sizeof(err))) {
	case CLI_HELP:
		cli_usage(stdout);
		return printed();
	case CLI_VERSION:
		printf("fetch_urls %s (%s)\n", FETCH_VERSION, fetch_version());
		return printed();
	case CLI_ERROR:
		usage_error(err);
	case CLI_RUN:
		break;
	}
	/*
	 * As curl does: the password leaves what ps(1) shows; and so do a
	 * proxy's, which curl leaves there.
	 */
	if (pg.cli.user_arg != NULL)
		memset(pg.cli.user_arg, '*', strlen(pg.cli.user_arg));
	if (pg.cli.bearer_arg != NULL)
		memset(pg.cli.bearer_arg, '*', strlen(pg.cli.bearer_arg));
	if (pg.cli.proxy_arg != NULL)
		blank_userinfo(pg.cli.proxy_arg);
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
	open_input(&pg);
	check_body_path(&pg);
	open_records(&pg);
	if (pg.cli.stats != CLI_STATS_OFF && ((pg.stats[0] = stats_new()) ==
	    NULL || (pg.cli.mode == CLI_COMPARE && (pg.stats[1] =
	    stats_new()) == NULL))) {
		fprintf(stderr, "fetch_urls: out of memory\n");
		goto out_input;
	}
	pg.counting = pg.stats[0];

	/* A closed stdout is an error from write(), not a signal. */
	signal(SIGPIPE, SIG_IGN);
	/* Before any thread starts: see fetch.h. */
	fetch_prepare(pg.cli.mode == CLI_SERIAL ? 1 : (size_t)pg.cli.jobs);
	if (fetch_global_init() < 0) {
		fprintf(stderr, "fetch_urls: cannot initialise libcurl\n");
		goto out_input;
	}
	pthread_mutex_init(&pg.active_mu, NULL);
	pthread_mutex_init(&pg.order_mu, NULL);
	atomic_init(&pg.signo, 0);
	if ((pg.signals = chan_new(sizeof(int), 1)) == NULL) {
		fprintf(stderr, "fetch_urls: out of memory\n");
		goto out_curl;
	}
	/* Every thread started from here on inherits the blocked signals. */
	stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pg.progress = !pg.cli.quiet && !pg.cli.no_progress &&
	    progress_can_draw(stderr);
	if (pthread_create(&sigthread, NULL, signal_main, &pg) != 0) {
		fprintf(stderr, "fetch_urls: cannot start a thread\n");
		goto out_chan;
	}
	if (pg.rec == stdout)
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	pg.watch_reader = pg.rec == stdout &&
	    fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));

	switch (pg.cli.mode) {
	case CLI_SERIAL:
		if (run_urls(&pg, 1, &serial) < 0)
			goto out_fail;
		break;
	case CLI_CONCURRENT:
		if (run_urls(&pg, (size_t)pg.cli.jobs, &concurrent) < 0)
			goto out_fail;
		break;
	case CLI_COMPARE:
		/*
		 * Each record says which run it is of.  The jar is written
		 * once, with the concurrent run's cookies.
		 */
		pg.out.run = "serial";
		pg.jar_later = true;
		if (run_urls(&pg, 1, &serial) < 0)
			goto out_fail;
		pg.jar_later = false;
		if (atomic_load(&pg.signo) != 0 || pg.output_failed)
			break;
		pg.out.run = "concurrent";
		pg.counting = pg.stats[1];
		if (run_urls(&pg, (size_t)pg.cli.jobs, &concurrent) < 0)
			goto out_fail;
		if (atomic_load(&pg.signo) == 0 && !pg.output_failed)
			output_speedup(pg.out.format == OUTPUT_TEXT ? stdout :
			    stderr, serial, concurrent);
		break;
	}
	if (!pg.output_failed)
		output_finish(pg.rec, &pg.out);
	(void)check_output(&pg, NULL, true);
	sig = atomic_load(&pg.signo);
	close_records(&pg, sig == 0 && !pg.incomplete && !pg.output_failed);
	print_stats(&pg, serial, concurrent);
	if (sig != 0) {
		fprintf(stderr, "fetch_urls: interrupted: %zu of %zu URLs not "
		    "finished\n", pg.unfinished, pg.submitted);
		status = 128 + sig;
	} else if (pg.incomplete || pg.output_failed)
		status = EXIT_INCOMPLETE;
	else
		status = pg.any_failed ? 1 : 0;
	goto out_thread;

out_fail:
	/* The records are closed at out_input, as incomplete. */
	status = EXIT_INCOMPLETE;
out_thread:
	atomic_store(&signals_done, true);
	pthread_kill(sigthread, SIGTERM);
	pthread_join(sigthread, NULL);
out_chan:
	chan_free(pg.signals);
out_curl:
	fetch_global_cleanup();
out_input:
	/* Done already, unless the run never started: then incomplete. */
	close_records(&pg, false);
	if (pg.input != NULL && pg.input != stdin && abandoned == NULL)
		fclose(pg.input);
	stats_free(pg.stats[0]);
	stats_free(pg.stats[1]);
	records_free(pg.done);
	free(pg.rec_tmp);
	urls_free(&pg.held);
	cli_free(&pg.cli);
	return status;
}
