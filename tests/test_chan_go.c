/* test_chan_go.c: Go's own channel and select tests, ported to libchan. */

/*
 * Each test names the Go test it comes from: runtime/chan_test.go, or a
 * program of Go's test/chan directory.  What Go checks with a goroutine,
 * these check with a thread; a Go panic or t.Fatal is a failed assertion,
 * here or after joining.  Go waits with time.Sleep() for a goroutine to
 * block; these ask the library's own diagnostics (chan_debug_report())
 * how many operations are blocked, which lists an operation once it is
 * queued on its channels.  Where Go checks that a goroutine is blocked,
 * these check that a timed operation times out.  The Go tests about stack
 * shrinking, interfaces and the garbage collector have no counterpart in
 * C and are left out: TestShrinkStackDuringBlockedSend,
 * TestNoShrinkStackWhileParking, TestSelectStackAdjust and
 * TestChanSendInterface.
 */
#define _GNU_SOURCE

#include <check.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "proc.h"
#include "suites.h"

/* Time limit of each test, in seconds. */
#define GLIMIT	60

/* Asserts that a channel call returns 0, naming it and errno if not. */
#define MUST(call) do {							\
	int must_rc_ = (call);						\
	ck_assert_msg(must_rc_ == 0, "%s: %d (%s)", #call, must_rc_,	\
	    strerror(errno));						\
} while (0)

static chan_t *
new_chan(size_t cap)
{
	chan_t *ch = chan_new(sizeof(int), cap);

	ck_assert_msg(ch != NULL, "chan_new: %s", strerror(errno));
	return ch;
}

static void
spawn(pthread_t *thr, void *(*fn)(void *), void *arg)
{
	ck_assert_int_eq(pthread_create(thr, NULL, fn, arg), 0);
}

static void
join(pthread_t thr)
{
	ck_assert_int_eq(pthread_join(thr, NULL), 0);
}

/* How many channel operations are blocked now, by the diagnostics. */
static size_t
nblocked(void)
{
	char *buf = NULL, *p;
	size_t len = 0, n = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	chan_debug_report(fp);
	ck_assert_int_eq(fclose(fp), 0);
	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(buf);
	return n;
}

/* Waits until n operations are blocked; diagnostics must be on. */
static void
wait_blocked(size_t n)
{
	while (nblocked() < n)
		sched_yield();
}

/*
 * TestChan, for every capacity from 0 to 199 as in Go.
 */

struct recv_arg {
	chan_t		*ch;
	int		 v;
	int		 rc;
	int		 err;
	atomic_bool	 done;
};

static void *
recv_one(void *arg)
{
	struct recv_arg *r = arg;

	r->v = -1;
	r->rc = chan_recv(r->ch, &r->v);
	r->err = r->rc == -1 ? errno : 0;
	atomic_store(&r->done, true);
	return NULL;
}

struct send_arg {
	chan_t		*ch;
	int		 from;		/* Sends from, to from + n - 1. */
	int		 n;
	atomic_bool	 done;
	int		 err;
};

static void *
send_n(void *arg)
{
	struct send_arg *s = arg;
	int i, v;

	for (i = 0; i < s->n; i++) {
		v = s->from + i;
		if (chan_send(s->ch, &v) != 0) {
			s->err = errno;
			break;
		}
	}
	atomic_store(&s->done, true);
	return NULL;
}

#define TC_L	1000	/* Values per producer, as Go's L. */
#define TC_P	4	/* Producers and consumers, as Go's P. */

struct count_arg {
	chan_t		*ch;
	int		 counts[TC_L];
	int		 bad;		/* A value out of range, or 0. */
};

static void *
count_l(void *arg)
{
	struct count_arg *c = arg;
	int i, v;

	for (i = 0; i < TC_L; i++) {
		if (chan_recv(c->ch, &v) != 0 || v < 0 || v >= TC_L) {
			c->bad = -1;
			break;
		}
		c->counts[v]++;
	}
	return NULL;
}

/* Receive from an empty channel blocks; non-blocking receive does not. */
static void
tc_recv_blocks(size_t cap)
{
	struct recv_arg r[2];
	pthread_t thr[2];
	chan_t *c = new_chan(cap);
	int i, v = 0;

	for (i = 0; i < 2; i++) {
		r[i].ch = c;
		atomic_init(&r[i].done, false);
		spawn(&thr[i], recv_one, &r[i]);
	}
	ck_assert_int_eq(chan_recv_timeout(c, &v, 1), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(!atomic_load(&r[0].done) && !atomic_load(&r[1].done),
	    "chan[%zu]: receive from empty chan", cap);
	ck_assert_int_eq(chan_try_recv(c, &v), -1);
	ck_assert_int_eq(errno, EAGAIN);
	MUST(chan_send(c, &v));
	MUST(chan_send(c, &v));
	for (i = 0; i < 2; i++)
		join(thr[i]);
	chan_free(c);
}

/* Send to a full channel blocks; non-blocking send does not. */
static void
tc_send_blocks(size_t cap)
{
	struct send_arg s = { 0 };
	pthread_t thr;
	chan_t *c = new_chan(cap);
	int i, v = 0;

	for (i = 0; i < (int)cap; i++)
		MUST(chan_send(c, &i));
	s.ch = c;
	s.n = 1;
	atomic_init(&s.done, false);
	spawn(&thr, send_n, &s);
	ck_assert_int_eq(chan_send_timeout(c, &v, 1), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(!atomic_load(&s.done), "chan[%zu]: send to full chan",
	    cap);
	ck_assert_int_eq(chan_try_send(c, &v), -1);
	ck_assert_int_eq(errno, EAGAIN);
	MUST(chan_recv(c, &v));
	join(thr);
	ck_assert_int_eq(s.err, 0);
	chan_free(c);
}

/* A closed channel yields what it buffers, then zeros with ok false. */
static void
tc_closed_yields_zero(size_t cap)
{
	chan_t *c = new_chan(cap);
	int i, v;

	for (i = 0; i < (int)cap; i++)
		MUST(chan_send(c, &i));
	MUST(chan_close(c));
	for (i = 0; i < (int)cap; i++) {
		MUST(chan_recv(c, &v));
		ck_assert_msg(v == i, "chan[%zu]: received %d, expected %d",
		    cap, v, i);
	}
	v = -1;
	ck_assert_int_eq(chan_recv(c, &v), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(v, 0);
	chan_free(c);
}

/* Close unblocks a receive, which gets zero and ok false. */
static void
tc_close_unblocks_recv(size_t cap)
{
	pthread_t thr;
	struct recv_arg r;
	chan_t *c = new_chan(cap);

	r.ch = c;
	atomic_init(&r.done, false);
	spawn(&thr, recv_one, &r);
	wait_blocked(1);
	MUST(chan_close(c));
	join(thr);
	ck_assert_msg(r.rc == -1 && r.err == EPIPE && r.v == 0,
	    "chan[%zu]: received non zero from closed chan", cap);
	chan_free(c);
}

/* 100 values in FIFO order, then P producers and consumers of L each. */
static void
tc_fifo_and_many(size_t cap)
{
	struct count_arg *cons;
	struct send_arg s = { 0 }, ps[TC_P];
	pthread_t thr, pt[TC_P], ct[TC_P];
	chan_t *c = new_chan(cap);
	int i, k, v;

	s.ch = c;
	s.n = 100;
	atomic_init(&s.done, false);
	spawn(&thr, send_n, &s);
	for (i = 0; i < 100; i++) {
		MUST(chan_recv(c, &v));
		ck_assert_msg(v == i, "chan[%zu]: received %d, expected %d",
		    cap, v, i);
	}
	join(thr);

	cons = calloc(TC_P, sizeof(*cons));
	ck_assert_ptr_nonnull(cons);
	for (k = 0; k < TC_P; k++) {
		memset(&ps[k], 0, sizeof(ps[k]));
		ps[k].ch = c;
		ps[k].n = TC_L;
		atomic_init(&ps[k].done, false);
		spawn(&pt[k], send_n, &ps[k]);
		cons[k].ch = c;
		spawn(&ct[k], count_l, &cons[k]);
	}
	for (k = 0; k < TC_P; k++) {
		join(pt[k]);
		join(ct[k]);
		ck_assert_int_eq(ps[k].err, 0);
		ck_assert_int_eq(cons[k].bad, 0);
	}
	for (i = 0; i < TC_L; i++) {
		for (v = 0, k = 0; k < TC_P; k++)
			v += cons[k].counts[i];
		ck_assert_msg(v == TC_P, "chan[%zu]: value %d received %d "
		    "times, expected %d", cap, i, v, TC_P);
	}
	free(cons);
	chan_free(c);
}

/* chan_len() and chan_cap(). */
static void
tc_len_cap(size_t cap)
{
	chan_t *c = new_chan(cap);
	int i;

	ck_assert(chan_len(c) == 0 && chan_cap(c) == cap);
	for (i = 0; i < (int)cap; i++)
		MUST(chan_send(c, &i));
	ck_assert(chan_len(c) == cap && chan_cap(c) == cap);
	chan_free(c);
}

START_TEST(go_chan)
{
	size_t cap;

	chan_debug(true);
	for (cap = 0; cap < 200; cap++) {
		tc_recv_blocks(cap);
		tc_send_blocks(cap);
		tc_closed_yields_zero(cap);
		tc_close_unblocks_recv(cap);
		tc_fifo_and_many(cap);
		tc_len_cap(cap);
	}
}
END_TEST

/*
 * TestNonblockRecvRace: a non-blocking receive from a channel that holds
 * a value, or that is being closed, never reports "not ready", even while
 * another receive takes the value.
 */

#define RACE_ROUNDS	5000

struct try_arg {
	chan_t		*a;
	chan_t		*b;		/* NULL: try_recv on a alone. */
	int		 rc;
	int		 err;
};

static void *
try_recv_main(void *arg)
{
	struct try_arg *t = arg;
	struct chan_case cs[2];
	int v;

	if (t->b == NULL) {
		t->rc = chan_try_recv(t->a, &v);
	} else {
		cs[0] = (struct chan_case){ t->a, CHAN_RECV, &v, false };
		cs[1] = (struct chan_case){ t->b, CHAN_RECV, &v, false };
		t->rc = chan_select(cs, 2, 0);
	}
	t->err = t->rc == -1 ? errno : 0;
	return NULL;
}

START_TEST(go_nonblock_recv_race)
{
	struct try_arg t;
	pthread_t thr;
	chan_t *c;
	int i, v = 1;

	for (i = 0; i < RACE_ROUNDS; i++) {
		c = new_chan(1);
		MUST(chan_send(c, &v));
		t = (struct try_arg){ c, NULL, 0, 0 };
		spawn(&thr, try_recv_main, &t);
		MUST(chan_close(c));
		(void)chan_recv(c, &v);
		join(thr);
		ck_assert_msg(t.rc == 0 || t.err == EPIPE,
		    "round %d: chan is not ready (%s)", i, strerror(t.err));
		chan_free(c);
	}
}
END_TEST

/*
 * TestNonblockSelectRace and TestNonblockSelectRace2: a select acts on
 * the state of its channels at one moment.  From the time the thread is
 * made, c1 or c2 is always ready, so its non-blocking select must receive
 * from one of them and never report nothing ready.  In the second, a
 * close makes c2 ready instead of a value.
 */

static void
check_nonblock_select_race(bool close_c2)
{
	struct try_arg t;
	pthread_t thr;
	chan_t *c1, *c2;
	int i, v = 1;

	for (i = 0; i < RACE_ROUNDS; i++) {
		c1 = new_chan(1);
		c2 = new_chan(close_c2 ? 0 : 1);
		MUST(chan_send(c1, &v));
		t = (struct try_arg){ c1, c2, 0, 0 };
		spawn(&thr, try_recv_main, &t);
		if (close_c2)
			MUST(chan_close(c2));
		else
			MUST(chan_send(c2, &v));
		(void)chan_try_recv(c1, &v);
		join(thr);
		ck_assert_msg(t.rc == 0 || t.rc == 1,
		    "round %d: no chan is ready (%d, %s)", i, t.rc,
		    strerror(t.err));
		chan_free(c1);
		chan_free(c2);
	}
}

START_TEST(go_nonblock_select_race)
{
	check_nonblock_select_race(false);
}
END_TEST

START_TEST(go_nonblock_select_race2)
{
	check_nonblock_select_race(true);
}
END_TEST

/*
 * TestSelfSelect: two threads select between sending and receiving on one
 * channel, 1,000 times each; this must neither crash nor deadlock, and on
 * an unbuffered channel no select receives its own send.
 */

struct self_arg {
	chan_t		*ch;
	int		 p;
	int		 self;		/* Values of its own received. */
	int		 err;
};

static void *
self_select_main(void *arg)
{
	struct self_arg *s = arg;
	struct chan_case cs[2];
	int i, in, r;

	for (i = 0; i < 1000; i++) {
		/* Go lists the send first, or the receive first. */
		r = s->p == 0 || i % 2 == 0 ? 0 : 1;
		cs[r] = (struct chan_case){ s->ch, CHAN_SEND, &s->p, false };
		cs[1 - r] = (struct chan_case){ s->ch, CHAN_RECV, &in,
		    false };
		r = chan_select(cs, 2, -1);
		if (r < 0) {
			s->err = errno;
			break;
		}
		if (cs[r].op == CHAN_RECV && chan_cap(s->ch) == 0 &&
		    in == s->p)
			s->self++;
	}
	return NULL;
}

START_TEST(go_self_select)
{
	static const size_t caps[] = { 0, 10 };
	struct self_arg s[2];
	pthread_t thr[2];
	size_t k;
	int p;

	for (k = 0; k < 2; k++) {
		chan_t *c = new_chan(caps[k]);

		for (p = 0; p < 2; p++) {
			s[p] = (struct self_arg){ c, p, 0, 0 };
			spawn(&thr[p], self_select_main, &s[p]);
		}
		for (p = 0; p < 2; p++) {
			join(thr[p]);
			ck_assert_int_eq(s[p].err, 0);
			ck_assert_msg(s[p].self == 0, "cap %zu: self receive",
			    caps[k]);
		}
		chan_free(c);
	}
}
END_TEST

/*
 * TestSelectStress: four channels (two unbuffered, capacities 2 and 3),
 * four threads sending N values on each, four receiving N from each, one
 * sending N on each through one select and one receiving N from each
 * through one select, each dropping a channel (a NULL case) once done
 * with it.  All this must not deadlock, and every value must arrive.
 */

#define STRESS_N	10000

struct stress_arg {
	chan_t		**c;
	int		 k;		/* Channel, or -1: select on all. */
	bool		 send;
	int		 got[4];
	int		 err;
};

static void *
stress_main(void *arg)
{
	struct stress_arg *s = arg;
	struct chan_case cs[4];
	int i, j, r, n[4] = { 0 }, v = 0;

	if (s->k >= 0) {
		for (i = 0; i < STRESS_N; i++) {
			r = s->send ? chan_send(s->c[s->k], &v) :
			    chan_recv(s->c[s->k], &v);
			if (r != 0) {
				s->err = errno;
				return NULL;
			}
			s->got[s->k]++;
		}
		return NULL;
	}
	/* Go lists the send cases in the order 3, 2, 0, 1. */
	for (j = 0; j < 4; j++)
		cs[j] = (struct chan_case){ s->c[s->send ? (j < 2 ? 3 - j :
		    j - 2) : j], s->send ? CHAN_SEND : CHAN_RECV, &v, false };
	for (i = 0; i < 4 * STRESS_N; i++) {
		if ((r = chan_select(cs, 4, -1)) < 0) {
			s->err = errno;
			return NULL;
		}
		for (j = 0; s->c[j] != cs[r].ch; j++)
			;
		s->got[j]++;
		if (++n[j] == STRESS_N)
			cs[r].ch = NULL;
	}
	return NULL;
}

START_TEST(go_select_stress)
{
	static const size_t caps[4] = { 0, 0, 2, 3 };
	struct stress_arg s[10];
	pthread_t thr[10];
	chan_t *c[4];
	int i, k, sent, recvd;

	for (k = 0; k < 4; k++)
		c[k] = new_chan(caps[k]);
	for (i = 0; i < 10; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].c = c;
		s[i].k = i < 8 ? i / 2 : -1;
		s[i].send = i % 2 == 0;
		spawn(&thr[i], stress_main, &s[i]);
	}
	for (i = 0; i < 10; i++) {
		join(thr[i]);
		ck_assert_msg(s[i].err == 0, "thread %d: %s", i,
		    strerror(s[i].err));
	}
	for (k = 0; k < 4; k++) {
		for (sent = recvd = 0, i = 0; i < 10; i++)
			*(s[i].send ? &sent : &recvd) += s[i].got[k];
		ck_assert_int_eq(sent, 2 * STRESS_N);
		ck_assert_int_eq(recvd, 2 * STRESS_N);
		ck_assert_int_eq(chan_len(c[k]), 0);
		chan_free(c[k]);
	}
}
END_TEST

/*
 * TestSelectFairness: a select over two always-ready buffered channels
 * (and two never-ready unbuffered ones) picks each about half the time:
 * within 10 standard deviations over 10,000 trials, as in Go.
 */

#define FAIR_TRIALS	10000

struct fair_arg {
	chan_t		*c[4];		/* c3, c4, c1, c2, Go's case order. */
	chan_t		*out;
	chan_t		*done;
};

static void *
fair_main(void *arg)
{
	struct fair_arg *f = arg;
	struct chan_case cs[4], os[2];
	int b, j;

	for (;;) {
		for (j = 0; j < 4; j++)
			cs[j] = (struct chan_case){ f->c[j], CHAN_RECV, &b,
			    false };
		if (chan_select(cs, 4, -1) < 0)
			return NULL;
		os[0] = (struct chan_case){ f->out, CHAN_SEND, &b, false };
		os[1] = (struct chan_case){ f->done, CHAN_RECV, NULL, false };
		if (chan_select(os, 2, -1) != 0)
			return NULL;
	}
}

START_TEST(go_select_fairness)
{
	struct fair_arg f;
	pthread_t thr;
	int i, b, cnt1 = 0, cnt2 = 0, one = 1, two = 2;
	double mean = FAIR_TRIALS * 0.5;
	double stddev = sqrt(FAIR_TRIALS * 0.5 * 0.5);

	f.c[0] = new_chan(0);
	f.c[1] = new_chan(0);
	f.c[2] = new_chan(FAIR_TRIALS + 1);
	f.c[3] = new_chan(FAIR_TRIALS + 1);
	for (i = 0; i < FAIR_TRIALS + 1; i++) {
		MUST(chan_send(f.c[2], &one));
		MUST(chan_send(f.c[3], &two));
	}
	f.out = new_chan(0);
	f.done = new_chan(0);
	spawn(&thr, fair_main, &f);
	for (i = 0; i < FAIR_TRIALS; i++) {
		MUST(chan_recv(f.out, &b));
		ck_assert_msg(b == 1 || b == 2, "unexpected value %d", b);
		*(b == 1 ? &cnt1 : &cnt2) += 1;
	}
	ck_assert_msg(fabs(cnt1 - mean) <= 10 * stddev, "unfair select: in "
	    "%d trials, results were %d, %d", FAIR_TRIALS, cnt1, cnt2);
	MUST(chan_close(f.done));
	join(thr);
	for (i = 0; i < 4; i++)
		chan_free(f.c[i]);
	chan_free(f.out);
	chan_free(f.done);
}
END_TEST

/*
 * TestPseudoRandomSend: a select with two sends on one channel, of 1 and
 * of 0, sends each more than a tenth of the time, unbuffered and
 * buffered, to a receiver that yields before each receive.
 */

#define PRS_N	100

struct prs_arg {
	chan_t		*ch;
	int		 l[PRS_N];
	int		 err;
};

static void *
prs_recv_main(void *arg)
{
	struct prs_arg *p = arg;
	int i;

	for (i = 0; i < PRS_N; i++) {
		sched_yield();
		if (chan_recv(p->ch, &p->l[i]) != 0) {
			p->err = errno;
			break;
		}
	}
	return NULL;
}

START_TEST(go_pseudo_random_send)
{
	static const size_t caps[] = { 0, PRS_N };
	struct chan_case cs[2];
	struct prs_arg *p;
	pthread_t thr;
	size_t k;
	int i, n0, n1, zero = 0, one = 1;

	for (k = 0; k < 2; k++) {
		p = calloc(1, sizeof(*p));
		ck_assert_ptr_nonnull(p);
		p->ch = new_chan(caps[k]);
		spawn(&thr, prs_recv_main, p);
		for (i = 0; i < PRS_N; i++) {
			cs[0] = (struct chan_case){ p->ch, CHAN_SEND, &one,
			    false };
			cs[1] = (struct chan_case){ p->ch, CHAN_SEND, &zero,
			    false };
			ck_assert_int_ge(chan_select(cs, 2, -1), 0);
		}
		join(thr);
		ck_assert_int_eq(p->err, 0);
		for (n0 = n1 = 0, i = 0; i < PRS_N; i++) {
			n0 += (p->l[i] + 1) % 2;
			n1 += p->l[i];
		}
		ck_assert_msg(n0 > PRS_N / 10 && n1 > PRS_N / 10,
		    "want pseudorandom, got %d zeros and %d ones (cap %zu)",
		    n0, n1, caps[k]);
		chan_free(p->ch);
		free(p);
	}
}
END_TEST

/*
 * TestMultiConsumer: 23 workers take values from q until it is closed and
 * pass them to r, some yielding first to disturb the order; a feeder sends
 * 271,828 values and closes q, then r once the workers are done.  The
 * consumer must see every value once: the count and the sum.
 */

#define MC_NWORK	23
#define MC_NITER	271828

static const int mc_pn[] = { 2, 3, 7, 11, 13, 17, 19, 23, 27, 31 };
#define MC_NPN	(int)(sizeof(mc_pn) / sizeof(mc_pn[0]))

struct mc {
	chan_t		*q;
	chan_t		*r;
	pthread_t	 workers[MC_NWORK];
	int		 ids[MC_NWORK];
	long		 expect;
	atomic_int	 err;
};

static struct mc mc;

static void *
mc_worker(void *arg)
{
	int w = *(int *)arg, v;

	while (chan_recv(mc.q, &v) == 0) {
		if (mc_pn[w % MC_NPN] == v)
			sched_yield();
		if (chan_send(mc.r, &v) != 0)
			mc.err = errno;
	}
	return NULL;
}

static void *
mc_feeder(void *arg)
{
	int i, v;

	(void)arg;
	for (i = 0; i < MC_NITER; i++) {
		v = mc_pn[i % MC_NPN];
		mc.expect += v;
		if (chan_send(mc.q, &v) != 0)
			mc.err = errno;
	}
	chan_close(mc.q);
	for (i = 0; i < MC_NWORK; i++)
		pthread_join(mc.workers[i], NULL);
	chan_close(mc.r);
	return NULL;
}

START_TEST(go_multi_consumer)
{
	pthread_t feeder;
	long n = 0, s = 0;
	int i, v;

	mc.q = new_chan(MC_NWORK * 3);
	mc.r = new_chan(MC_NWORK * 3);
	for (i = 0; i < MC_NWORK; i++) {
		mc.ids[i] = i;
		spawn(&mc.workers[i], mc_worker, &mc.ids[i]);
	}
	spawn(&feeder, mc_feeder, NULL);
	while (chan_recv(mc.r, &v) == 0) {
		n++;
		s += v;
	}
	ck_assert_int_eq(errno, EPIPE);
	join(feeder);
	ck_assert_int_eq(mc.err, 0);
	ck_assert_msg(n == MC_NITER && s == mc.expect, "expected sum %ld "
	    "(got %ld) from %d iter (saw %ld)", mc.expect, s, MC_NITER, n);
	chan_free(mc.q);
	chan_free(mc.r);
}
END_TEST

/*
 * TestChanSendBarrier and TestChanSendSelectBarrier: many threads each
 * make request after request, a fresh unbuffered channel and a sender
 * thread each, the sender sending a pointer to a fresh reply by chan_send()
 * or by a select whose other case never fires.  Each reply must arrive
 * whole: the send hands its memory over (AddressSanitizer and
 * ThreadSanitizer check the hand-over).
 */

#define BARRIER_OUTER	8
#define BARRIER_INNER	200

struct reply {
	int		 err;
	char		 msg[24];
};

struct request {
	chan_t		*ch;
	chan_t		*done;		/* Never ready; NULL: no select. */
};

static void *
request_sender(void *arg)
{
	struct request *rq = arg;
	struct chan_case cs[2];
	struct reply *rp;

	if ((rp = malloc(sizeof(*rp))) == NULL)
		return NULL;
	rp->err = 42;
	snprintf(rp->msg, sizeof(rp->msg), "myError");
	if (rq->done != NULL) {
		cs[0] = (struct chan_case){ rq->ch, CHAN_SEND, &rp, false };
		cs[1] = (struct chan_case){ rq->done, CHAN_RECV, NULL, false };
		if (chan_select(cs, 2, -1) == 0)
			return NULL;
	} else if (chan_send(rq->ch, &rp) == 0)
		return NULL;
	free(rp);
	return NULL;
}

struct barrier_arg {
	bool		 use_select;
	int		 bad;
};

static void *
barrier_main(void *arg)
{
	struct barrier_arg *b = arg;
	struct request rq;
	struct reply *rp;
	pthread_t thr;
	int j;

	for (j = 0; j < BARRIER_INNER && b->bad == 0; j++) {
		rq.ch = chan_new(sizeof(rp), 0);
		rq.done = b->use_select ? chan_new(1, 0) : NULL;
		if (rq.ch == NULL || (b->use_select && rq.done == NULL) ||
		    pthread_create(&thr, NULL, request_sender, &rq) != 0) {
			b->bad = -1;
			break;
		}
		if (chan_recv(rq.ch, &rp) != 0)
			b->bad = -2;
		else if (rp->err != 42 || strcmp(rp->msg, "myError") != 0)
			b->bad = -3;
		else
			free(rp);
		sched_yield();
		pthread_join(thr, NULL);
		chan_free(rq.ch);
		chan_free(rq.done);
	}
	return NULL;
}

static void
check_send_barrier(bool use_select)
{
	struct barrier_arg b[BARRIER_OUTER];
	pthread_t thr[BARRIER_OUTER];
	int i;

	for (i = 0; i < BARRIER_OUTER; i++) {
		b[i] = (struct barrier_arg){ use_select, 0 };
		spawn(&thr[i], barrier_main, &b[i]);
	}
	for (i = 0; i < BARRIER_OUTER; i++) {
		join(thr[i]);
		ck_assert_msg(b[i].bad == 0, "thread %d: failure %d", i,
		    b[i].bad);
	}
}

START_TEST(go_chan_send_barrier)
{
	check_send_barrier(false);
}
END_TEST

START_TEST(go_chan_send_select_barrier)
{
	check_send_barrier(true);
}
END_TEST

/*
 * TestSelectDuplicateChannel: a select waits twice on c and once on d;
 * then a receive waits on c.  The select fires on d and leaves c: c's
 * queue must still hold the receive, which gets the next value sent.
 */

struct dup_arg {
	chan_t		*c;
	chan_t		*d;
	chan_t		*e;
	int		 got;
	int		 rc;
};

static void *
dup_select_main(void *arg)
{
	struct dup_arg *a = arg;
	struct chan_case cs[3];
	int v, nine = 9;

	cs[0] = (struct chan_case){ a->c, CHAN_RECV, &v, false };
	cs[1] = (struct chan_case){ a->c, CHAN_RECV, &v, false };
	cs[2] = (struct chan_case){ a->d, CHAN_RECV, &v, false };
	a->rc = chan_select(cs, 3, -1);
	(void)chan_send(a->e, &nine);
	return NULL;
}

static void *
dup_recv_main(void *arg)
{
	struct dup_arg *a = arg;

	a->rc = chan_recv(a->c, &a->got);
	return NULL;
}

START_TEST(go_select_duplicate_channel)
{
	struct dup_arg a, b;
	pthread_t ta, tb;
	int v = 7;

	chan_debug(true);
	a.c = b.c = new_chan(0);
	a.d = new_chan(0);
	a.e = new_chan(0);
	spawn(&ta, dup_select_main, &a);
	wait_blocked(1);
	spawn(&tb, dup_recv_main, &b);
	wait_blocked(2);
	MUST(chan_send(a.d, &v));
	MUST(chan_recv(a.e, &v));
	ck_assert_int_eq(v, 9);
	ck_assert_int_eq(a.rc, 2);
	v = 8;
	MUST(chan_send(a.c, &v));
	join(ta);
	join(tb);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(b.got, 8);
	chan_free(a.c);
	chan_free(a.d);
	chan_free(a.e);
}
END_TEST

/*
 * test/chan/select6.go (Go issue 2075): a select that fails on c1, where
 * another receive waits, and fires on c2 must leave c1's queue intact, so
 * that a later receive on c1 wakes too.
 */

struct s6_arg {
	chan_t		*c1;
	chan_t		*c2;
	chan_t		*c3;
	int		 rc;
};

static void *
s6_recv_c1(void *arg)
{
	struct s6_arg *a = arg;

	(void)chan_recv(a->c1, NULL);
	return NULL;
}

static void *
s6_select(void *arg)
{
	struct s6_arg *a = arg;
	struct chan_case cs[2];
	int t = 1;

	cs[0] = (struct chan_case){ a->c1, CHAN_RECV, NULL, false };
	cs[1] = (struct chan_case){ a->c2, CHAN_RECV, NULL, false };
	a->rc = chan_select(cs, 2, -1);
	if (a->rc == 1)
		(void)chan_send(a->c3, &t);
	(void)chan_recv(a->c1, NULL);
	return NULL;
}

static void *
s6_send_c2(void *arg)
{
	struct s6_arg *a = arg;
	int t = 1;

	(void)chan_send(a->c2, &t);
	return NULL;
}

START_TEST(go_select6_queue_after_failed_case)
{
	struct s6_arg a;
	pthread_t t1, t2, t3;
	int t = 1;

	a.c1 = new_chan(0);
	a.c2 = new_chan(0);
	a.c3 = new_chan(0);
	spawn(&t1, s6_recv_c1, &a);
	spawn(&t2, s6_select, &a);
	spawn(&t3, s6_send_c2, &a);
	MUST(chan_recv(a.c3, &t));
	ck_assert_int_eq(a.rc, 1);
	MUST(chan_send(a.c1, &t));
	MUST(chan_send(a.c1, &t));
	join(t1);
	join(t2);
	join(t3);
	chan_free(a.c1);
	chan_free(a.c2);
	chan_free(a.c3);
}
END_TEST

/*
 * test/chan/doubleselect.go: a select sends a counter on one of four
 * unbuffered channels; four relays pass what they get on to one channel.
 * If two cases of one select ever both ran, a value would arrive twice.
 */

#define DS_N	20000

struct ds {
	chan_t		*c[4];
	chan_t		*mux;
	atomic_int	 relays;	/* Relays still running. */
};

static void *
ds_sender(void *arg)
{
	struct ds *d = arg;
	struct chan_case cs[4];
	int i, j;

	for (i = 0; i < DS_N; i++) {
		for (j = 0; j < 4; j++)
			cs[j] = (struct chan_case){ d->c[j], CHAN_SEND, &i,
			    false };
		if (chan_select(cs, 4, -1) < 0)
			break;
	}
	for (j = 0; j < 4; j++)
		chan_close(d->c[j]);
	return NULL;
}

struct ds_relay {
	struct ds	*d;
	chan_t		*in;
};

static void *
ds_relay_main(void *arg)
{
	struct ds_relay *r = arg;
	int v;

	while (chan_recv(r->in, &v) == 0)
		if (chan_send(r->d->mux, &v) != 0)
			break;
	/* The last relay out closes the channel they share. */
	if (atomic_fetch_sub(&r->d->relays, 1) == 1)
		chan_close(r->d->mux);
	return NULL;
}

START_TEST(go_double_select)
{
	struct ds d;
	struct ds_relay r[4];
	pthread_t ts, tr[4];
	bool *seen;
	int j, v, n = 0;

	seen = calloc(DS_N, sizeof(*seen));
	ck_assert_ptr_nonnull(seen);
	for (j = 0; j < 4; j++)
		d.c[j] = new_chan(0);
	d.mux = new_chan(0);
	atomic_init(&d.relays, 4);
	spawn(&ts, ds_sender, &d);
	for (j = 0; j < 4; j++) {
		r[j] = (struct ds_relay){ &d, d.c[j] };
		spawn(&tr[j], ds_relay_main, &r[j]);
	}
	while (chan_recv(d.mux, &v) == 0) {
		ck_assert_msg(v >= 0 && v < DS_N, "bad value %d", v);
		ck_assert_msg(!seen[v], "got duplicate value: %d", v);
		seen[v] = true;
		n++;
	}
	ck_assert_int_eq(n, DS_N);
	join(ts);
	for (j = 0; j < 4; j++) {
		join(tr[j]);
		chan_free(d.c[j]);
	}
	chan_free(d.mux);
	free(seen);
}
END_TEST

/*
 * The diagnostics' deadlock report, as Go's runtime gives it ("all
 * goroutines are asleep") also after runtime.Goexit(), and their leak
 * report.  Each runs in a child process of its own, which the report
 * ends.
 */

/* Seconds a child may take before it counts as hung. */
#define DIAG_LIMIT	10

/*
 * Runs the case name (chan_diag_child()) in a process of its own, its
 * standard error into err (NUL-terminated); returns its wait status.  A
 * child still running after DIAG_LIMIT seconds is killed, and fails the
 * test.  The child does not check for leaks: a thread left blocked is the
 * point of one case.
 */
static int
diag_child(const char *name, char *err, size_t errlen)
{
	struct timespec t0, now;
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDERR_FILENO) < 0 ||
		    setenv("ASAN_OPTIONS", "detect_leaks=0", 1) != 0)
			_exit(99);
		execl("/proc/self/exe", "run_tests", CHAN_DIAG_CHILD, name,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= DIAG_LIMIT) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			ck_abort_msg("still running after %d s; stderr:\n%.*s",
			    DIAG_LIMIT, (int)len, err);
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(fds[0], err + len, errlen - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	err[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void
expect_deadlock_report(int status, const char *err)
{
	static const char want[] = "fatal error: all threads are asleep - "
	    "deadlock!\n";

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "wanted death by SIGABRT, got wait status 0x%x; stderr:\n%s",
	    status, err);
	ck_assert_msg(strncmp(err, want, sizeof(want) - 1) == 0,
	    "not the deadlock report:\n%s", err);
}

/*
 * The cases run outside Check's tests, in a process of their own: a
 * failed call ends it with status 98, which no test expects.
 */
static chan_t *
diag_chan(void)
{
	chan_t *c = chan_new(sizeof(int), 0);

	if (c == NULL)
		_exit(98);
	return c;
}

/* A thread of the process that could wake main, until it ends. */
static void *
diag_helper(void *arg)
{
	(void)chan_recv_timeout(arg, NULL, 200);
	return NULL;
}

static void
diag_helper_ends(void)
{
	chan_t *c = diag_chan();
	pthread_t thr;
	int v;

	if (pthread_create(&thr, NULL, diag_helper, diag_chan()) != 0 ||
	    pthread_detach(thr) != 0)
		_exit(98);
	/* The look at blocking sees the helper; only a later one can tell. */
	(void)chan_recv(c, &v);
}

/*
 * A thread that is no chan_go() thread can wake main while it runs: the
 * deadlock is there once it has ended, after main last looked.
 */
START_TEST(diag_deadlock_after_a_helper_ends)
{
	char err[4096];

	expect_deadlock_report(diag_child("helper_ends", err, sizeof(err)),
	    err);
}
END_TEST

static void
diag_exiting_worker(void *arg)
{
	(void)arg;
	pthread_exit(NULL);
}

static void
diag_goexit(void)
{
	chan_t *c = diag_chan();
	int v;

	if (chan_go(diag_exiting_worker, NULL) != 0)
		_exit(98);
	(void)chan_recv(c, &v);
}

/* A chan_go() thread that ends by pthread_exit() is gone all the same. */
START_TEST(diag_deadlock_after_pthread_exit)
{
	char err[4096];

	expect_deadlock_report(diag_child("goexit", err, sizeof(err)), err);
}
END_TEST

static void
diag_select(void)
{
	chan_t *c = diag_chan(), *d = chan_new(8, 2);
	struct chan_case cs[3];
	int v = 1;

	if (d == NULL)
		_exit(98);
	cs[0] = (struct chan_case){ c, CHAN_SEND, &v, false };
	cs[1] = (struct chan_case){ d, CHAN_RECV, NULL, false };
	cs[2] = (struct chan_case){ NULL, CHAN_RECV, NULL, false };
	(void)chan_select(cs, 3, -1);
}

/* A blocked select is reported with what each of its cases waits for. */
START_TEST(diag_select_report_names_its_channels)
{
	char err[4096];
	int status = diag_child("select", err, sizeof(err));

	expect_deadlock_report(status, err);
	ck_assert_msg(proc_match(err, "\nthread 1 \\(main\\) \\[select\\]: "
	    "3 cases \\(send on channel 0x[0-9a-f]+ "
	    "\\(4-byte values, cap 0\\), receive on channel 0x[0-9a-f]+ "
	    "\\(8-byte values, cap 2\\), receive on nil channel\\), "
	    "blocked [0-9.]+s\n$", NULL, 0),
	    "the select's cases are not listed:\n%s", err);
}
END_TEST

static void
diag_blocked_worker(void *arg)
{
	int v;

	(void)chan_recv(arg, &v);
}

static void
diag_switched_off(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if (chan_go(diag_blocked_worker, diag_chan()) != 0)
		_exit(98);
	/* Until the worker is blocked, as chan_debug_report() shows it. */
	while (len == 0) {
		if ((fp = open_memstream(&buf, &len)) == NULL)
			_exit(98);
		chan_debug_report(fp);
		fclose(fp);
		free(buf);
		sched_yield();
	}
	chan_debug(false);
}

/* Diagnostics switched off before exit report no leak at exit. */
START_TEST(diag_no_leak_report_once_off)
{
	char err[4096];
	int status = diag_child("switched_off", err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "wait status 0x%x; stderr:\n%s", status, err);
	ck_assert_msg(err[0] == '\0', "stderr:\n%s", err);
}
END_TEST

int
chan_diag_child(const char *name)
{
	static const struct {
		const char	*name;
		void		(*fn)(void);
	} cases[] = {
		{ "helper_ends", diag_helper_ends },
		{ "goexit", diag_goexit },
		{ "switched_off", diag_switched_off },
		{ "select", diag_select },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(name, cases[i].name) == 0) {
			chan_debug(true);
			cases[i].fn();
			exit(0);
		}
	fprintf(stderr, "run_tests: no diagnostics case %s\n", name);
	return 2;
}

/* For main.c: the ported Go tests, one test case with a long time limit. */
Suite *
chan_go_suite(void)
{
	Suite *s = suite_create("chan_go");
	TCase *tc = tcase_create("chan_go");

	tcase_set_timeout(tc, GLIMIT);
	tcase_add_test(tc, go_chan);
	tcase_add_test(tc, go_nonblock_recv_race);
	tcase_add_test(tc, go_nonblock_select_race);
	tcase_add_test(tc, go_nonblock_select_race2);
	tcase_add_test(tc, go_self_select);
	tcase_add_test(tc, go_select_stress);
	tcase_add_test(tc, go_select_fairness);
	tcase_add_test(tc, go_pseudo_random_send);
	tcase_add_test(tc, go_multi_consumer);
	tcase_add_test(tc, go_chan_send_barrier);
	tcase_add_test(tc, go_chan_send_select_barrier);
	tcase_add_test(tc, go_select_duplicate_channel);
	tcase_add_test(tc, go_select6_queue_after_failed_case);
	tcase_add_test(tc, go_double_select);
	suite_add_tcase(s, tc);

	tc = tcase_create("chan_diag");
	tcase_set_timeout(tc, 3 * DIAG_LIMIT);
	tcase_add_test(tc, diag_deadlock_after_a_helper_ends);
	tcase_add_test(tc, diag_deadlock_after_pthread_exit);
	tcase_add_test(tc, diag_no_leak_report_once_off);
	tcase_add_test(tc, diag_select_report_names_its_channels);
	suite_add_tcase(s, tc);
	return s;
}
