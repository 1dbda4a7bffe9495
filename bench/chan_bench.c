/* chan_bench.c: measures how fast libchan moves values between threads. */

/*
 * Each scenario sends a fixed number of 8-byte values through one channel,
 * or two, from some producer threads to some consumer threads and prints
 * one line:
 *
 *	unbuf_1p1c 2000000 msgs 312.4 ns/msg 3.20 Mmsg/s
 *
 * The time runs from creating the first thread until the last consumer has
 * seen the channel closed, on CLOCK_MONOTONIC.  Consumers check what they
 * received, so that a broken channel fails instead of looking fast: every
 * value arrives exactly once (a count and a checksum) and each producer's
 * values arrive in the order sent.  bench/chan_bench.go does the same with
 * Go's channels; bench/chan_bench.sh runs both and compares.
 */

#define _POSIX_C_SOURCE 200809L

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"

/*
 * How consumers receive: chan_recv() on the one channel, or chan_select()
 * over a receive case on each channel, without or with a timeout (one
 * second, which never runs out here; Go's time.After()).
 */
enum how { RECV, SELECT, SELECT_TIMEOUT };

/*
 * A scenario: nchan channels of the given capacity, nprod threads sending
 * (producer i on channel i % nchan) and ncons receiving msgs values in
 * all.  Keep this table in step with the one in chan_bench.go: same
 * names, same order, same default counts, chosen so that each scenario
 * takes a few tenths of a second in Go.
 */
struct scenario {
	const char	*name;
	size_t		 capacity;
	int		 nchan;
	enum how	 how;
	int		 nprod;
	int		 ncons;
	uint64_t	 msgs;
};

static const struct scenario scenarios[] = {
	{ "unbuf_1p1c",		0,	1, RECV, 1, 1, 2000000 },
	{ "buf1_1p1c",		1,	1, RECV, 1, 1, 2000000 },
	{ "buf128_1p1c",	128,	1, RECV, 1, 1, 8000000 },
	{ "buf128_4p4c",	128,	1, RECV, 4, 4, 8000000 },
	{ "unbuf_4p4c",		0,	1, RECV, 4, 4, 2000000 },
	{ "select2_buf128_2p1c", 128,	2, SELECT, 2, 1, 4000000 },
	{ "select2to_buf128_2p1c", 128,	2, SELECT_TIMEOUT, 2, 1, 4000000 },
};
#define NSCENARIOS	(sizeof(scenarios) / sizeof(scenarios[0]))
#define MAXTHREADS	4
#define MAXCHANS	2
#define SELECT_TIMEOUT_MS 1000

/*
 * Each value carries its producer in the top bits and a sequence number,
 * counting from 1, in the rest, so that a consumer can check that every
 * producer's values reach it in the order sent.
 */
#define SEQ_BITS	48
#define SEQ_MASK	((UINT64_C(1) << SEQ_BITS) - 1)
#define MAX_MSGS	SEQ_MASK

/*
 * One thread's part.  A producer sends count values tagged id on ch[0];
 * a consumer receives from its nchan channels, as how says, until they
 * are closed and drained, and fills in count, sum and, on the first
 * inconsistency, bad.  err is the errno of a channel call that failed, or
 * 0.
 */
struct worker {
	pthread_t	 thread;
	chan_t		*ch[MAXCHANS];
	int		 nchan;
	enum how	 how;
	int		 id;
	int		 nprod;
	uint64_t	 count;
	uint64_t	 sum;
	char		 bad[96];
	int		 err;
};

static void		*produce(void *);
static int		 take(struct worker *, chan_t **, uint64_t *);
static void		*consume(void *);
static uint64_t		 checksum(int, uint64_t);
static int		 run(const struct scenario *, uint64_t, double *);
static double		 now(void);
static const struct scenario *find(const char *);
_Noreturn static void	 usage(int);

static void *
produce(void *arg)
{
	struct worker	*w = arg;
	uint64_t	 seq, tag, v;

	tag = (uint64_t)w->id << SEQ_BITS;
	for (seq = 1; seq <= w->count; seq++) {
		v = tag | seq;
		if (chan_send(w->ch[0], &v) == -1) {
			w->err = errno;
			break;
		}
	}
	return NULL;
}

/*
 * Receives the next value into *v as w->how says, from the channels of
 * open that are not NULL yet; a select case whose channel is closed and
 * drained makes that entry NULL.  Returns 0, or -1 with errno EPIPE once
 * every channel is closed and drained, or another errno on failure.
 */
static int
take(struct worker *w, chan_t **open, uint64_t *v)
{
	struct chan_case	cs[MAXCHANS];
	int			i, r, left;

	if (w->how == RECV)
		return chan_recv(open[0], v);
	for (;;) {
		for (i = left = 0; i < w->nchan; i++) {
			cs[i] = (struct chan_case){ open[i], CHAN_RECV, v,
			    false };
			left += open[i] != NULL;
		}
		if (left == 0) {
			errno = EPIPE;
			return -1;
		}
		r = chan_select(cs, w->nchan, w->how == SELECT_TIMEOUT ?
		    SELECT_TIMEOUT_MS : -1);
		if (r == -1 && errno == ETIMEDOUT)
			continue;
		if (r == -1)
			return -1;
		if (cs[r].ok)
			return 0;
		open[r] = NULL;
	}
}

static void *
consume(void *arg)
{
	struct worker	*w = arg;
	chan_t		*open[MAXCHANS];
	uint64_t	 last[MAXTHREADS] = { 0 };
	uint64_t	 count = 0, sum = 0, v, seq, id;

	memcpy(open, w->ch, sizeof(open));
	/*
	 * Count in locals and store once at the end: the workers sit side by
	 * side, and updating them in the loop would share cache lines.
	 */
	for (;;) {
		if (take(w, open, &v) == -1) {
			if (errno != EPIPE)
				w->err = errno;
			break;
		}
		id = v >> SEQ_BITS;
		seq = v & SEQ_MASK;
		if (id >= (uint64_t)w->nprod) {
			if (w->bad[0] == '\0')
				snprintf(w->bad, sizeof(w->bad),
				    "value %#" PRIx64 " from no producer", v);
		} else if (seq <= last[id]) {
			if (w->bad[0] == '\0')
				snprintf(w->bad, sizeof(w->bad),
				    "producer %" PRIu64 ": %" PRIu64
				    " after %" PRIu64, id, seq, last[id]);
		} else
			last[id] = seq;
		count++;
		sum += v;
	}
	w->count = count;
	w->sum = sum;
	return NULL;
}

/*
 * Returns the sum, modulo 2^64, of the values producer id sends when it
 * sends count of them.  Halving the even factor first keeps the sum of
 * 1..count exact modulo 2^64.
 */
static uint64_t
checksum(int id, uint64_t count)
{
	uint64_t	seqsum;

	if (count % 2 == 0)
		seqsum = count / 2 * (count + 1);
	else
		seqsum = (count + 1) / 2 * count;
	return count * ((uint64_t)id << SEQ_BITS) + seqsum;
}

/* Returns CLOCK_MONOTONIC in seconds. */
static double
now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Runs one scenario with msgs values and stores the seconds it took in
 * *elapsed.  Returns 0, or -1 after printing what went wrong: a thread or
 * channel that could not be made, a channel call that failed, or values
 * lost, duplicated, invented or reordered.
 */
static int
run(const struct scenario *s, uint64_t msgs, double *elapsed)
{
	struct worker	 prod[MAXTHREADS], cons[MAXTHREADS];
	chan_t		*ch[MAXCHANS] = { NULL };
	uint64_t	 count, sum, want = 0;
	double		 start;
	int		 i, e, k, np = 0, nc = 0, ret = -1;

	memset(prod, 0, sizeof(prod));
	memset(cons, 0, sizeof(cons));
	for (k = 0; k < s->nchan; k++) {
		if ((ch[k] = chan_new(sizeof(uint64_t), s->capacity)) ==
		    NULL) {
			warn("%s: chan_new", s->name);
			while (k-- > 0)
				chan_free(ch[k]);
			return -1;
		}
	}

	start = now();
	for (; nc < s->ncons; nc++) {
		memcpy(cons[nc].ch, ch, sizeof(ch));
		cons[nc].nchan = s->nchan;
		cons[nc].how = s->how;
		cons[nc].nprod = s->nprod;
		if ((e = pthread_create(&cons[nc].thread, NULL, consume,
		    &cons[nc])) != 0) {
			warnx("%s: pthread_create: %s", s->name, strerror(e));
			goto join;
		}
	}
	for (; np < s->nprod; np++) {
		prod[np].ch[0] = ch[np % s->nchan];
		prod[np].id = np;
		prod[np].count = msgs / s->nprod +
		    ((uint64_t)np < msgs % s->nprod);
		want += checksum(np, prod[np].count);
		if ((e = pthread_create(&prod[np].thread, NULL, produce,
		    &prod[np])) != 0) {
			warnx("%s: pthread_create: %s", s->name, strerror(e));
			goto join;
		}
	}
	ret = 0;

join:
	/* Closing after the producers are done lets the consumers finish. */
	for (i = 0; i < np; i++)
		pthread_join(prod[i].thread, NULL);
	for (k = 0; k < s->nchan; k++) {
		if (chan_close(ch[k]) == -1) {
			warn("%s: chan_close", s->name);
			ret = -1;
		}
	}
	for (i = 0; i < nc; i++)
		pthread_join(cons[i].thread, NULL);
	*elapsed = now() - start;
	for (k = 0; k < s->nchan; k++)
		chan_free(ch[k]);
	if (ret == -1)
		return -1;

	count = sum = 0;
	for (i = 0; i < np; i++) {
		if (prod[i].err != 0) {
			warnx("%s: producer %d: chan_send: %s", s->name, i,
			    strerror(prod[i].err));
			ret = -1;
		}
	}
	for (i = 0; i < nc; i++) {
		if (cons[i].err != 0) {
			warnx("%s: consumer %d: chan_recv: %s", s->name, i,
			    strerror(cons[i].err));
			ret = -1;
		}
		if (cons[i].bad[0] != '\0') {
			warnx("%s: consumer %d: %s", s->name, i, cons[i].bad);
			ret = -1;
		}
		count += cons[i].count;
		sum += cons[i].sum;
	}
	if (count != msgs) {
		warnx("%s: received %" PRIu64 " values, sent %" PRIu64,
		    s->name, count, msgs);
		ret = -1;
	}
	if (sum != want) {
		warnx("%s: checksum %#" PRIx64 ", want %#" PRIx64, s->name,
		    sum, want);
		ret = -1;
	}
	return ret;
}

/* Returns the scenario called name, or NULL. */
static const struct scenario *
find(const char *name)
{
	size_t	i;

	for (i = 0; i < NSCENARIOS; i++)
		if (strcmp(name, scenarios[i].name) == 0)
			return &scenarios[i];
	return NULL;
}

_Noreturn static void
usage(int status)
{
	FILE	*fp = status == 0 ? stdout : stderr;
	size_t	 i;

	fprintf(fp, "usage: chan_bench [-h] [-n messages] [scenario ...]\n"
	    "scenarios:");
	for (i = 0; i < NSCENARIOS; i++)
		fprintf(fp, " %s", scenarios[i].name);
	fprintf(fp, "\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "messages",	required_argument,	NULL, 'n' },
		{ NULL,		0,			NULL, 0 }
	};
	const struct scenario	*s;
	unsigned long long	 n = 0;
	uint64_t		 msgs;
	size_t			 i, nrun;
	double			 elapsed;
	char			*end;
	int			 ch, j, status = 0;

	while ((ch = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'n':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    optarg[0] == '-' || n == 0 || n > MAX_MSGS) {
				warnx("-n %s: not a count from 1 to %" PRIu64
				    " (try --help)", optarg, MAX_MSGS);
				exit(2);
			}
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;

	/* Check every name first, so that a typo wastes no time. */
	for (j = 0; j < argc; j++) {
		if (find(argv[j]) == NULL) {
			warnx("%s: no such scenario (try --help)", argv[j]);
			exit(2);
		}
	}

	/* No name runs them all; a name given twice runs twice. */
	nrun = argc > 0 ? (size_t)argc : NSCENARIOS;
	for (i = 0; i < nrun; i++) {
		s = argc > 0 ? find(argv[i]) : &scenarios[i];
		msgs = n != 0 ? n : s->msgs;
		if (msgs < (uint64_t)s->nprod)
			msgs = s->nprod;
		if (run(s, msgs, &elapsed) == -1) {
			status = 1;
			continue;
		}
		printf("%s %" PRIu64 " msgs %.1f ns/msg %.2f Mmsg/s\n",
		    s->name, msgs, elapsed * 1e9 / msgs,
		    msgs / elapsed / 1e6);
		fflush(stdout);
	}
	return status;
}
