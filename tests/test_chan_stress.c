/* test_chan_stress.c: stress tests of the channel library under contention. */

/*
 * Many producers and consumers move numbered messages through channels,
 * mixing blocking, timed, trying and selecting calls, closes and timeouts,
 * and the tests then check that every message sent was received exactly
 * once, in each producer's order as each consumer saw it, and that no
 * message whose send failed ever arrived.
 *
 * The normal build moves over a million messages in all.  Sanitizer builds
 * run slower (TSan up to 10-20 times), so they scale the counts down; the
 * environment variable CHAN_STRESS_SCALE (a factor such as 0.1 or 2)
 * overrides that.
 */
#define _GNU_SOURCE

#include <check.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "suites.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define STRESS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STRESS_ASAN 1
#endif

#if defined(STRESS_TSAN)
#define STRESS_SCALE	0.25
#elif defined(STRESS_ASAN)
#define STRESS_SCALE	0.5
#else
#define STRESS_SCALE	1.0
#endif

/* Time limit of each stress test, seconds. */
#define SLIMIT	120

/* Returns the factor applied to every message count. */
static double
stress_scale(void)
{
	const char *s;
	char *end;
	double f;

	if ((s = getenv("CHAN_STRESS_SCALE")) == NULL || *s == '\0')
		return STRESS_SCALE;
	f = strtod(s, &end);
	/* Checked without an assertion that passes: main.c calls this too. */
	if (*end != '\0' || !(f > 0.0 && f < 1000.0))
		ck_abort_msg("bad CHAN_STRESS_SCALE \"%s\"", s);
	return f;
}

static uint32_t
scaled(uint32_t n, uint32_t min)
{
	double v;

	v = n * stress_scale();
	return v < min ? min : (uint32_t)v;
}

/*
 * A message names its producer and its number in that producer's stream.
 * The check words catch a torn or mixed-up copy; via names the relay that
 * forwarded it, where there is one.
 */
struct msg {
	uint32_t	prod;
	uint32_t	seq;
	uint32_t	via;
	uint32_t	pad;
	uint64_t	check;
	uint64_t	ncheck;
};

static uint64_t
msg_hash(uint32_t prod, uint32_t seq)
{
	uint64_t x;

	x = ((uint64_t)prod << 32 | seq) + 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
msg_make(struct msg *m, uint32_t prod, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->prod = prod;
	m->seq = seq;
	m->check = msg_hash(prod, seq);
	m->ncheck = ~m->check;
}

static bool
msg_intact(const struct msg *m)
{
	return m->check == msg_hash(m->prod, m->seq) && m->ncheck == ~m->check;
}

static bool
msg_zero(const struct msg *m)
{
	static const struct msg zero;

	return memcmp(m, &zero, sizeof(*m)) == 0;
}

static uint32_t
rnd(uint32_t *s)
{
	/* xorshift32: cheap per-thread randomness for picking modes. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * How a thread sends or receives: blocking, with a short timeout (0 to 2
 * ms, so 0 is a try), by trying and yielding, or by a select over the
 * channel, a channel that is never ready and a NULL case, with a random
 * short timeout or none, which a receiving select pairs with a send case
 * that is never ready.  Timeouts and EAGAIN are retried.  Threads only ever
 * receive from the idle channel and only ever send to the sink channel, so
 * that two selects never meet on either.
 */
enum mode { M_BLOCK, M_TIMED, M_SELECT, M_TRY, M_NMODES };

/* One many-to-many run over one channel. */
struct stress {
	chan_t		*ch;
	chan_t		*idle;		/* Only ever received from. */
	chan_t		*sink;		/* Only ever sent to. */
	uint32_t	 nprod;
	uint32_t	 ncons;
	uint32_t	 limit;		/* Most messages one producer sends. */
	bool		 mixed;		/* Modes by thread, else blocking. */

	/*
	 * Close-while-blocked: a consumer closes after threshold messages,
	 * or with pause every consumer stops there and the main thread
	 * closes while the producers block on the channel.  A threshold of
	 * 0 means the main thread closes once the producers are done.
	 */
	uint32_t	 threshold;
	bool		 pause;
	pthread_barrier_t bar;
	atomic_uint	 received;
};

struct prod {
	pthread_t	 thr;
	struct stress	*st;
	uint32_t	 id;
	uint32_t	 sent;		/* Sends that returned 0. */
	char		 fail[160];
};

struct cons {
	pthread_t	 thr;
	struct stress	*st;
	uint32_t	 id;
	uint8_t		*got;		/* Count per message, [prod][seq]. */
	uint32_t	*next;		/* Least seq allowed next, per prod. */
	uint64_t	 n;
	char		 fail[160];
};

static enum mode
mode_of(const struct stress *st, uint32_t id)
{
	return st->mixed ? (enum mode)(id % M_NMODES) : M_BLOCK;
}

/*
 * Sends m on ch in the given mode.  Returns 0 when sent, -1 with errno
 * EPIPE when the channel is closed, or -1 with another errno on any
 * failure the contract rules out.
 */
static int
put(chan_t *ch, chan_t *idle, enum mode mode, struct msg *m, uint32_t *rs)
{
	struct chan_case cs[3];
	int rc;

	for (;;) {
		switch (mode) {
		case M_BLOCK:
			return chan_send(ch, m);
		case M_TIMED:
			rc = chan_send_timeout(ch, m, (long)(rnd(rs) % 3));
			break;
		case M_TRY:
			rc = chan_try_send(ch, m);
			break;
		default:
			cs[0] = (struct chan_case){ idle, CHAN_RECV, NULL,
			    true };
			cs[1] = (struct chan_case){ NULL, CHAN_SEND, m, true };
			cs[2] = (struct chan_case){ ch, CHAN_SEND, m, false };
			rc = chan_select(cs, 3, rnd(rs) % 2 ? -1 :
			    (long)(rnd(rs) % 3));
			if (rc == 2) {
				if (cs[2].ok)
					return 0;
				errno = EPIPE;
				return -1;
			}
			if (rc >= 0) {
				errno = EPROTO;
				return -1;
			}
			break;
		}
		if (rc == 0)
			return 0;
		if (errno != EAGAIN && errno != ETIMEDOUT)
			return -1;
		sched_yield();
	}
}

/*
 * Receives into m from ch in the given mode.  Returns 0 when a value
 * arrived, -1 with errno EPIPE when the channel is closed and drained, or
 * -1 with another errno on any failure the contract rules out.
 */
static int
get(chan_t *ch, chan_t *sink, enum mode mode, struct msg *m, uint32_t *rs)
{
	struct chan_case cs[3];
	int rc;

	for (;;) {
		switch (mode) {
		case M_BLOCK:
			return chan_recv(ch, m);
		case M_TIMED:
			rc = chan_recv_timeout(ch, m, (long)(rnd(rs) % 3));
			break;
		case M_TRY:
			rc = chan_try_recv(ch, m);
			break;
		default:
			cs[0] = (struct chan_case){ sink, CHAN_SEND, m, true };
			cs[1] = (struct chan_case){ NULL, CHAN_RECV, m, true };
			cs[2] = (struct chan_case){ ch, CHAN_RECV, m, false };
			rc = chan_select(cs, 3, rnd(rs) % 2 ? -1 :
			    (long)(rnd(rs) % 3));
			if (rc == 2) {
				if (cs[2].ok)
					return 0;
				errno = EPIPE;
				return -1;
			}
			if (rc >= 0) {
				errno = EPROTO;
				return -1;
			}
			break;
		}
		if (rc == 0)
			return 0;
		if (errno != EAGAIN && errno != ETIMEDOUT)
			return -1;
		sched_yield();
	}
}

static void *
prod_main(void *arg)
{
	struct prod *p = arg;
	struct stress *st = p->st;
	struct msg m;
	uint32_t rs = 2654435761u * (p->id + 1);
	enum mode mode = mode_of(st, p->id);

	for (p->sent = 0; p->sent < st->limit; p->sent++) {
		msg_make(&m, p->id, p->sent);
		if (put(st->ch, st->idle, mode, &m, &rs) == -1) {
			if (errno != EPIPE)
				snprintf(p->fail, sizeof(p->fail),
				    "producer %u: send %u: %s", p->id,
				    p->sent, strerror(errno));
			else if (st->threshold == 0)
				snprintf(p->fail, sizeof(p->fail),
				    "producer %u: EPIPE before close",
				    p->id);
			break;
		}
	}
	if (p->sent == st->limit && st->threshold != 0)
		snprintf(p->fail, sizeof(p->fail),
		    "producer %u: sent %u without meeting the close",
		    p->id, p->sent);
	return NULL;
}

/* Checks and counts a message a consumer received; false on a bad one. */
static bool
cons_record(struct cons *c, const struct msg *m)
{
	struct stress *st = c->st;

	if (!msg_intact(m) || m->prod >= st->nprod || m->seq >= st->limit) {
		snprintf(c->fail, sizeof(c->fail),
		    "consumer %u: bad message %u/%u", c->id, m->prod, m->seq);
		return false;
	}
	if (m->seq < c->next[m->prod]) {
		snprintf(c->fail, sizeof(c->fail),
		    "consumer %u: producer %u's %u came after %u", c->id,
		    m->prod, m->seq, c->next[m->prod] - 1);
		return false;
	}
	c->next[m->prod] = m->seq + 1;
	c->got[(size_t)m->prod * st->limit + m->seq]++;
	c->n++;
	return true;
}

static void *
cons_main(void *arg)
{
	struct cons *c = arg;
	struct stress *st = c->st;
	struct msg m;
	uint32_t rs = 0x6c8e9cf5u * (c->id + 1), n;
	enum mode mode = mode_of(st, c->id + 1);
	bool paused = false;
	int rc;

	for (;;) {
		if (st->pause && !paused &&
		    atomic_load(&st->received) >= st->threshold) {
			/* Let the main thread close while nobody receives. */
			pthread_barrier_wait(&st->bar);
			pthread_barrier_wait(&st->bar);
			paused = true;
		}
		memset(&m, 0xa5, sizeof(m));
		if (get(st->ch, st->sink, mode, &m, &rs) == -1) {
			if (errno != EPIPE)
				snprintf(c->fail, sizeof(c->fail),
				    "consumer %u: recv: %s", c->id,
				    strerror(errno));
			else if (!msg_zero(&m))
				snprintf(c->fail, sizeof(c->fail),
				    "consumer %u: elem not zeroed at EPIPE",
				    c->id);
			break;
		}
		if (!cons_record(c, &m))
			break;
		n = atomic_fetch_add(&st->received, 1) + 1;
		if (st->threshold != 0 && !st->pause && n == st->threshold) {
			rc = chan_close(st->ch);
			if (rc != 0)
				snprintf(c->fail, sizeof(c->fail),
				    "consumer %u: close: %s", c->id,
				    strerror(errno));
		}
	}
	if (st->pause && !paused) {
		/* Closed before this one paused: still meet the others. */
		pthread_barrier_wait(&st->bar);
		pthread_barrier_wait(&st->bar);
	}
	return NULL;
}

/*
 * Runs producers and consumers over st->ch and checks the outcome: every
 * message a send reported sent was received exactly once, and no other.
 * Returns the number of messages received.
 */
static uint64_t
run_stress(struct stress *st)
{
	struct prod *ps;
	struct cons *cs;
	uint64_t total = 0, sent = 0;
	uint32_t i, p, s, c;
	unsigned sum;

	st->idle = chan_new(sizeof(struct msg), 0);
	st->sink = chan_new(sizeof(struct msg), 0);
	ck_assert(st->idle != NULL && st->sink != NULL);
	atomic_init(&st->received, 0);
	if (st->pause)
		ck_assert_int_eq(pthread_barrier_init(&st->bar, NULL,
		    st->ncons + 1), 0);
	ps = calloc(st->nprod, sizeof(*ps));
	cs = calloc(st->ncons, sizeof(*cs));
	ck_assert(ps != NULL && cs != NULL);
	for (i = 0; i < st->ncons; i++) {
		cs[i].st = st;
		cs[i].id = i;
		cs[i].got = calloc((size_t)st->nprod * st->limit, 1);
		cs[i].next = calloc(st->nprod, sizeof(uint32_t));
		ck_assert(cs[i].got != NULL && cs[i].next != NULL);
		ck_assert_int_eq(pthread_create(&cs[i].thr, NULL, cons_main,
		    &cs[i]), 0);
	}
	for (i = 0; i < st->nprod; i++) {
		ps[i].st = st;
		ps[i].id = i;
		ck_assert_int_eq(pthread_create(&ps[i].thr, NULL, prod_main,
		    &ps[i]), 0);
	}
	if (st->pause) {
		pthread_barrier_wait(&st->bar);
		ck_assert_int_eq(chan_close(st->ch), 0);
		pthread_barrier_wait(&st->bar);
	}
	for (i = 0; i < st->nprod; i++)
		ck_assert_int_eq(pthread_join(ps[i].thr, NULL), 0);
	if (st->threshold == 0)
		ck_assert_int_eq(chan_close(st->ch), 0);
	for (i = 0; i < st->ncons; i++)
		ck_assert_int_eq(pthread_join(cs[i].thr, NULL), 0);

	for (i = 0; i < st->nprod; i++)
		ck_assert_msg(ps[i].fail[0] == '\0', "%s", ps[i].fail);
	for (i = 0; i < st->ncons; i++)
		ck_assert_msg(cs[i].fail[0] == '\0', "%s", cs[i].fail);
	for (p = 0; p < st->nprod; p++) {
		for (s = 0; s < st->limit; s++) {
			sum = 0;
			for (c = 0; c < st->ncons; c++)
				sum += cs[c].got[(size_t)p * st->limit + s];
			if (s < ps[p].sent)
				ck_assert_msg(sum == 1, "producer %u's message"
				    " %u received %u times", p, s, sum);
			else
				ck_assert_msg(sum == 0, "producer %u's message"
				    " %u was not sent but received", p, s);
		}
		sent += ps[p].sent;
	}
	for (c = 0; c < st->ncons; c++)
		total += cs[c].n;
	ck_assert_uint_eq(total, sent);
	ck_assert_uint_eq(chan_len(st->ch), 0);

	for (i = 0; i < st->ncons; i++) {
		free(cs[i].got);
		free(cs[i].next);
	}
	free(ps);
	free(cs);
	if (st->pause)
		pthread_barrier_destroy(&st->bar);
	chan_free(st->idle);
	chan_free(st->sink);
	return total;
}

/* Runs nprod producers of n messages in all to ncons consumers. */
static void
mpmc(size_t cap, uint32_t nprod, uint32_t ncons, uint32_t n, bool mixed)
{
	struct stress st;

	memset(&st, 0, sizeof(st));
	st.ch = chan_new(sizeof(struct msg), cap);
	ck_assert_ptr_nonnull(st.ch);
	st.nprod = nprod;
	st.ncons = ncons;
	st.limit = scaled(n, 200 * nprod) / nprod;
	st.mixed = mixed;
	ck_assert_uint_eq(run_stress(&st), (uint64_t)st.limit * nprod);
	chan_free(st.ch);
}

START_TEST(unbuffered_4p4c_blocking)
{
	mpmc(0, 4, 4, 240000, false);
}
END_TEST

START_TEST(buffered_1_2p2c_blocking)
{
	mpmc(1, 2, 2, 100000, false);
}
END_TEST

START_TEST(buffered_8p8c_mixed)
{
	mpmc(32, 8, 8, 320000, true);
}
END_TEST

START_TEST(unbuffered_8p8c_mixed)
{
	mpmc(0, 8, 8, 160000, true);
}
END_TEST

/*
 * Closes a channel in the middle of traffic, over and over: either a
 * consumer closes it on receiving the threshold-th message while the
 * others and the producers block on it, or every consumer stops there and
 * the main thread closes it under producers blocked on the full or
 * unbuffered channel, the consumers then draining it.  Senders that fail
 * must not have their values delivered; everything sent before must
 * arrive exactly once.  With 128 slots most sends take the lock-free
 * path, and the close races with them rather than with blocked ones.
 */
START_TEST(close_while_blocked)
{
	static const size_t caps[] = { 0, 1, 8, 0, 3, 128 };
	struct stress st;
	uint64_t total = 0;
	uint32_t rounds = 42, r;

	for (r = 0; r < rounds; r++) {
		memset(&st, 0, sizeof(st));
		st.ch = chan_new(sizeof(struct msg), caps[r % 6]);
		ck_assert_ptr_nonnull(st.ch);
		st.nprod = 4;
		st.ncons = 4;
		st.mixed = r % 4 != 3;
		st.pause = r % 2 == 1;
		st.threshold = scaled(2500, 20) + r * 7;
		st.limit = 2 * st.threshold + 256;
		total += run_stress(&st);
		chan_free(st.ch);
	}
	ck_assert_uint_ge(total, (uint64_t)rounds * scaled(2500, 20));
}
END_TEST

/*
 * Select-heavy: producers select to send on their own channels; relays
 * select over receiving from every producer channel and sending on two
 * output channels at once, with timeouts; consumers select over both
 * outputs.  A relay keeps a small FIFO, so per (producer, relay) the
 * order must survive; unbuffered outputs keep it per consumer.
 */

#define SEL_PRODS	4
#define SEL_RELAYS	3
#define SEL_CONS	3
#define SEL_OUTS	2
#define SEL_QUEUE	8

struct sel {
	chan_t		*in[SEL_PRODS];
	chan_t		*out[SEL_OUTS];
	chan_t		*idle;		/* Only ever received from. */
	chan_t		*sink;		/* Only ever sent to. */
	uint32_t	 per_prod;
	atomic_uint	 relays_left;
};

struct sel_thread {
	pthread_t	 thr;
	struct sel	*sl;
	uint32_t	 id;
	uint64_t	 n;
	uint64_t	 timeouts;
	uint8_t		*got;				/* Consumers. */
	uint32_t	 next[SEL_PRODS][SEL_RELAYS];	/* Consumers. */
	char		 fail[160];
};

static void *
sel_prod_main(void *arg)
{
	struct sel_thread *t = arg;
	struct sel *sl = t->sl;
	struct chan_case cs[3];
	struct msg m;
	uint32_t seq, rs = 0x1234567u + t->id;
	int rc;

	for (seq = 0; seq < sl->per_prod; seq++) {
		msg_make(&m, t->id, seq);
		for (;;) {
			cs[0] = (struct chan_case){ NULL, CHAN_SEND, &m,
			    true };
			cs[1] = (struct chan_case){ sl->idle, CHAN_RECV, NULL,
			    true };
			cs[2] = (struct chan_case){ sl->in[t->id], CHAN_SEND,
			    &m, false };
			rc = chan_select(cs, 3, 1 + (long)(rnd(&rs) % 3));
			if (rc == 2 && cs[2].ok)
				break;
			if (rc == -1 && errno == ETIMEDOUT) {
				t->timeouts++;
				continue;
			}
			snprintf(t->fail, sizeof(t->fail),
			    "producer %u: select gave %d (%s)", t->id, rc,
			    rc == -1 ? strerror(errno) : "-");
			goto out;
		}
		t->n++;
	}
out:
	if (chan_close(sl->in[t->id]) != 0 && t->fail[0] == '\0')
		snprintf(t->fail, sizeof(t->fail), "producer %u: close: %s",
		    t->id, strerror(errno));
	return NULL;
}

static void *
sel_relay_main(void *arg)
{
	struct sel_thread *t = arg;
	struct sel *sl = t->sl;
	struct chan_case cs[SEL_PRODS + SEL_OUTS];
	struct msg q[SEL_QUEUE], in;
	bool open[SEL_PRODS];
	size_t head = 0, len = 0, nopen = SEL_PRODS, i;
	int rc;

	for (i = 0; i < SEL_PRODS; i++)
		open[i] = true;
	while (nopen > 0 || len > 0) {
		/* Unready cases stay in place as NULL channels. */
		for (i = 0; i < SEL_PRODS; i++)
			cs[i] = (struct chan_case){
			    open[i] && len < SEL_QUEUE ? sl->in[i] : NULL,
			    CHAN_RECV, &in, false };
		for (i = 0; i < SEL_OUTS; i++)
			cs[SEL_PRODS + i] = (struct chan_case){
			    len > 0 ? sl->out[i] : NULL, CHAN_SEND, &q[head],
			    false };
		memset(&in, 0xa5, sizeof(in));
		rc = chan_select(cs, SEL_PRODS + SEL_OUTS, 3);
		if (rc == -1 && errno == ETIMEDOUT) {
			t->timeouts++;
			continue;
		}
		if (rc < 0 || rc >= SEL_PRODS + SEL_OUTS) {
			snprintf(t->fail, sizeof(t->fail),
			    "relay %u: select gave %d (%s)", t->id, rc,
			    rc == -1 ? strerror(errno) : "-");
			break;
		}
		if (rc < SEL_PRODS && !cs[rc].ok) {
			if (!msg_zero(&in)) {
				snprintf(t->fail, sizeof(t->fail),
				    "relay %u: elem not zeroed", t->id);
				break;
			}
			open[rc] = false;
			nopen--;
		} else if (rc < SEL_PRODS) {
			in.via = t->id;
			q[(head + len) % SEL_QUEUE] = in;
			len++;
		} else if (!cs[rc].ok) {
			snprintf(t->fail, sizeof(t->fail),
			    "relay %u: output closed early", t->id);
			break;
		} else {
			head = (head + 1) % SEL_QUEUE;
			len--;
			t->n++;
		}
	}

	/* The last relay out closes the outputs. */
	if (atomic_fetch_sub(&sl->relays_left, 1) == 1)
		for (i = 0; i < SEL_OUTS; i++)
			chan_close(sl->out[i]);
	return NULL;
}

static void *
sel_cons_main(void *arg)
{
	struct sel_thread *t = arg;
	struct sel *sl = t->sl;
	struct chan_case cs[SEL_OUTS + 1];
	struct msg m;
	bool open[SEL_OUTS];
	size_t nopen = SEL_OUTS, i;
	int rc;

	for (i = 0; i < SEL_OUTS; i++)
		open[i] = true;
	while (nopen > 0) {
		for (i = 0; i < SEL_OUTS; i++)
			cs[i] = (struct chan_case){
			    open[i] ? sl->out[i] : NULL, CHAN_RECV, &m,
			    false };
		cs[SEL_OUTS] = (struct chan_case){ sl->sink, CHAN_SEND, &m,
		    true };
		memset(&m, 0xa5, sizeof(m));
		rc = chan_select(cs, SEL_OUTS + 1, 2);
		if (rc == -1 && errno == ETIMEDOUT) {
			t->timeouts++;
			continue;
		}
		if (rc < 0 || rc >= SEL_OUTS) {
			snprintf(t->fail, sizeof(t->fail),
			    "consumer %u: select gave %d (%s)", t->id, rc,
			    rc == -1 ? strerror(errno) : "-");
			break;
		}
		if (!cs[rc].ok) {
			open[rc] = false;
			nopen--;
			continue;
		}
		if (!msg_intact(&m) || m.prod >= SEL_PRODS ||
		    m.seq >= sl->per_prod || m.via >= SEL_RELAYS) {
			snprintf(t->fail, sizeof(t->fail),
			    "consumer %u: bad message", t->id);
			break;
		}
		if (m.seq < t->next[m.prod][m.via]) {
			snprintf(t->fail, sizeof(t->fail),
			    "consumer %u: producer %u's %u via %u came late",
			    t->id, m.prod, m.seq, m.via);
			break;
		}
		t->next[m.prod][m.via] = m.seq + 1;
		t->got[(size_t)m.prod * sl->per_prod + m.seq]++;
		t->n++;
	}
	return NULL;
}

START_TEST(select_relays)
{
	struct sel_thread prods[SEL_PRODS], relays[SEL_RELAYS];
	struct sel_thread conss[SEL_CONS];
	struct sel sl;
	uint64_t total = 0, relayed = 0;
	uint32_t i, p, s;
	unsigned sum;

	memset(&sl, 0, sizeof(sl));
	memset(prods, 0, sizeof(prods));
	memset(relays, 0, sizeof(relays));
	memset(conss, 0, sizeof(conss));
	sl.per_prod = scaled(200000, 400) / SEL_PRODS;
	for (i = 0; i < SEL_PRODS; i++) {
		sl.in[i] = chan_new(sizeof(struct msg), i % 2 ? 2 : 0);
		ck_assert_ptr_nonnull(sl.in[i]);
	}
	for (i = 0; i < SEL_OUTS; i++) {
		sl.out[i] = chan_new(sizeof(struct msg), 0);
		ck_assert_ptr_nonnull(sl.out[i]);
	}
	sl.idle = chan_new(sizeof(struct msg), 0);
	sl.sink = chan_new(sizeof(struct msg), 0);
	ck_assert(sl.idle != NULL && sl.sink != NULL);
	atomic_init(&sl.relays_left, SEL_RELAYS);

	for (i = 0; i < SEL_CONS; i++) {
		conss[i].sl = &sl;
		conss[i].id = i;
		conss[i].got = calloc((size_t)SEL_PRODS * sl.per_prod, 1);
		ck_assert_ptr_nonnull(conss[i].got);
		ck_assert_int_eq(pthread_create(&conss[i].thr, NULL,
		    sel_cons_main, &conss[i]), 0);
	}
	for (i = 0; i < SEL_RELAYS; i++) {
		relays[i].sl = &sl;
		relays[i].id = i;
		ck_assert_int_eq(pthread_create(&relays[i].thr, NULL,
		    sel_relay_main, &relays[i]), 0);
	}
	for (i = 0; i < SEL_PRODS; i++) {
		prods[i].sl = &sl;
		prods[i].id = i;
		ck_assert_int_eq(pthread_create(&prods[i].thr, NULL,
		    sel_prod_main, &prods[i]), 0);
	}
	for (i = 0; i < SEL_PRODS; i++)
		ck_assert_int_eq(pthread_join(prods[i].thr, NULL), 0);
	for (i = 0; i < SEL_RELAYS; i++)
		ck_assert_int_eq(pthread_join(relays[i].thr, NULL), 0);
	for (i = 0; i < SEL_CONS; i++)
		ck_assert_int_eq(pthread_join(conss[i].thr, NULL), 0);

	for (i = 0; i < SEL_PRODS; i++) {
		ck_assert_msg(prods[i].fail[0] == '\0', "%s", prods[i].fail);
		ck_assert_uint_eq(prods[i].n, sl.per_prod);
	}
	for (i = 0; i < SEL_RELAYS; i++) {
		ck_assert_msg(relays[i].fail[0] == '\0', "%s", relays[i].fail);
		relayed += relays[i].n;
	}
	for (i = 0; i < SEL_CONS; i++) {
		ck_assert_msg(conss[i].fail[0] == '\0', "%s", conss[i].fail);
		total += conss[i].n;
	}
	for (p = 0; p < SEL_PRODS; p++)
		for (s = 0; s < sl.per_prod; s++) {
			sum = 0;
			for (i = 0; i < SEL_CONS; i++)
				sum += conss[i].got[(size_t)p *
				    sl.per_prod + s];
			ck_assert_msg(sum == 1, "producer %u's message %u"
			    " received %u times", p, s, sum);
		}
	ck_assert_uint_eq(total, (uint64_t)SEL_PRODS * sl.per_prod);
	ck_assert_uint_eq(relayed, total);

	for (i = 0; i < SEL_CONS; i++)
		free(conss[i].got);
	for (i = 0; i < SEL_PRODS; i++)
		chan_free(sl.in[i]);
	for (i = 0; i < SEL_OUTS; i++)
		chan_free(sl.out[i]);
	chan_free(sl.idle);
	chan_free(sl.sink);
}
END_TEST

#if defined(STRESS_TSAN)
#define STRESS_UNDER	" under ThreadSanitizer"
#elif defined(STRESS_ASAN)
#define STRESS_UNDER	" under AddressSanitizer"
#else
#define STRESS_UNDER	""
#endif

/*
 * For main.c, once this suite alone has passed: prints how many channel
 * operations (a send and a receive are two) its tests asserted took place,
 * counted from the message counts of the tests above at the current scale,
 * and the seconds they took.  Sends refused by a close and retried
 * timeouts come on top.  Returns -1, saying so on standard error, when
 * the environment variable CHAN_STRESS_MIN_OPS asks for more; 0 otherwise.
 */
int
chan_stress_report(double seconds)
{
	/* The many-to-many tests: messages, producers. */
	static const uint32_t mpmc_n[][2] = {
		{ 240000, 4 }, { 100000, 2 }, { 320000, 8 }, { 160000, 8 },
	};
	uint64_t moved = 0, relayed, ops;
	unsigned long long min;
	const char *s;
	char *end;
	uint32_t i;

	for (i = 0; i < sizeof(mpmc_n) / sizeof(mpmc_n[0]); i++)
		moved += (uint64_t)(scaled(mpmc_n[i][0], 200 * mpmc_n[i][1]) /
		    mpmc_n[i][1]) * mpmc_n[i][1];
	/* close_while_blocked: each of its 42 rounds up to its threshold. */
	for (i = 0; i < 42; i++)
		moved += scaled(2500, 20) + i * 7;
	/* select_relays: each message sent, relayed and received. */
	relayed = (uint64_t)(scaled(200000, 400) / SEL_PRODS) * SEL_PRODS;
	ops = 2 * moved + 4 * relayed;
	printf("chan_stress%s: at least %llu channel operations "
	    "(CHAN_STRESS_SCALE=%g) in %.1f s\n", STRESS_UNDER,
	    (unsigned long long)ops, stress_scale(), seconds);
	if ((s = getenv("CHAN_STRESS_MIN_OPS")) == NULL || *s == '\0')
		return 0;
	min = strtoull(s, &end, 10);
	if (*end != '\0') {
		fprintf(stderr, "chan_stress: bad CHAN_STRESS_MIN_OPS "
		    "\"%s\"\n", s);
		return -1;
	}
	if (ops < min) {
		fprintf(stderr, "chan_stress: fewer than CHAN_STRESS_MIN_OPS="
		    "%llu; raise CHAN_STRESS_SCALE\n", min);
		return -1;
	}
	return 0;
}

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
chan_stress_suite(void)
{
	Suite *s = suite_create("chan_stress");
	TCase *tc = tcase_create("chan_stress");

	tcase_set_timeout(tc, SLIMIT);
	tcase_add_test(tc, unbuffered_4p4c_blocking);
	tcase_add_test(tc, buffered_1_2p2c_blocking);
	tcase_add_test(tc, buffered_8p8c_mixed);
	tcase_add_test(tc, unbuffered_8p8c_mixed);
	tcase_add_test(tc, close_while_blocked);
	tcase_add_test(tc, select_relays);
	suite_add_tcase(s, tc);
	return s;
}
