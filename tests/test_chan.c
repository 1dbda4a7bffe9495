/* test_chan.c: unit tests of the channel library's contract in chan.h. */

/*
 * Linux only: the tests find out that a thread is blocked inside a channel
 * operation from /proc, which needs gettid and pread.
 */
#define _GNU_SOURCE

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "suites.h"

/* Time limit of every unit test, in seconds: a deadlock fails, not hangs. */
#define TLIMIT	20

/* Asserts that call fails with -1 and errno e. */
#define EXPECT_ERR(call, e) do {					\
	int rc_ = (call), err_ = errno;					\
	ck_assert_msg(rc_ == -1, "%s returned %d, expected -1", #call,	\
	    rc_);							\
	ck_assert_msg(err_ == (e), "%s: errno %d (%s), expected %s",	\
	    #call, err_, strerror(err_), strerror(e));			\
} while (0)

/* Asserts that call succeeds with 0. */
#define EXPECT_OK(call) do {						\
	int rc_ = (call), err_ = errno;					\
	ck_assert_msg(rc_ == 0, "%s returned %d (errno %s), expected 0", \
	    #call, rc_, rc_ == -1 ? strerror(err_) : "-");		\
} while (0)

/* An element bigger than a word, with padding: copies and zero fill. */
struct big {
	int	 a;
	char	 s[13];
	double	 d;
	long	 tail[5];
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static chan_t *
mkchan(size_t elem_size, size_t cap)
{
	chan_t *ch;

	ch = chan_new(elem_size, cap);
	ck_assert_msg(ch != NULL, "chan_new(%zu, %zu): %s", elem_size, cap,
	    strerror(errno));
	return ch;
}

/*
 * A worker runs one channel operation in a thread of its own, so that the
 * test can block it and then act on the channel from the main thread.  Its
 * phase says whether it has entered the operation and whether it has
 * returned; its results are read after joining it, except where a test
 * checks the library's own ordering guarantees.
 */
enum w_op {
	W_SEND, W_RECV, W_SEND_TMO, W_RECV_TMO, W_SELECT
};

enum { PH_NEW, PH_IN, PH_DONE };

struct worker {
	pthread_t	  thr;
	enum w_op	  op;
	chan_t		 *ch;
	long		  tmo;		/* For the timed and select ops. */
	int		  val;		/* Sent, or received into. */
	struct chan_case *cases;	/* For W_SELECT. */
	size_t		  ncases;
	const int	 *peek;		/* Read into peeked after the op. */
	int		  peeked;
	int		  rc;
	int		  err;
	atomic_int	  tid;
	atomic_int	  phase;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int rc = -1;

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	atomic_store(&w->phase, PH_IN);
	switch (w->op) {
	case W_SEND:
		rc = chan_send(w->ch, &w->val);
		break;
	case W_RECV:
		rc = chan_recv(w->ch, &w->val);
		break;
	case W_SEND_TMO:
		rc = chan_send_timeout(w->ch, &w->val, w->tmo);
		break;
	case W_RECV_TMO:
		rc = chan_recv_timeout(w->ch, &w->val, w->tmo);
		break;
	case W_SELECT:
		rc = chan_select(w->cases, w->ncases, w->tmo);
		break;
	}
	w->err = rc == -1 ? errno : 0;
	if (w->peek != NULL)
		w->peeked = *w->peek;
	w->rc = rc;
	atomic_store(&w->phase, PH_DONE);
	return NULL;
}

static void
worker_init(struct worker *w, enum w_op op, chan_t *ch, int val)
{
	memset(w, 0, sizeof(*w));
	w->op = op;
	w->ch = ch;
	w->val = val;
	w->tmo = -1;
	atomic_init(&w->tid, 0);
	atomic_init(&w->phase, PH_NEW);
}

static void
worker_start(struct worker *w)
{
	ck_assert_int_eq(pthread_create(&w->thr, NULL, worker_main, w), 0);
}

static void
worker_join(struct worker *w)
{
	ck_assert_int_eq(pthread_join(w->thr, NULL), 0);
}

/*
 * Returns whether the thread whose /proc stat and syscall files are open
 * at sfd and cfd is asleep in futex(2), where pthread_cond_wait() parks a
 * thread.
 */
static bool
task_in_futex(int sfd, int cfd)
{
	char buf[512], *p;
	ssize_t n;

	n = pread(sfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] != 'S')
		return false;
	n = pread(cfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return buf[0] >= '0' && buf[0] <= '9' &&
	    strtol(buf, NULL, 10) == SYS_futex;
}

/*
 * Waits until the worker is provably blocked inside its channel operation,
 * so that tests can order blocked threads without sleeping.  The public
 * API cannot show waiters, so the kernel is asked instead: the worker has
 * entered the operation (its phase), it has not returned (checked after the
 * kernel was asked), and it sleeps in futex(2).  Between entering and
 * parking nothing else in the test contends for a lock it needs, so the
 * only futex it can sleep on is its wait in the channel, which the library
 * registers under the channel's lock before it sleeps.  The state must hold
 * at three looks in a row, which rules out a passing wait on some lock
 * internal to a sanitizer runtime.  A worker that returns instead of
 * blocking fails the test.
 */
static void
wait_parked(struct worker *w)
{
	char path[64];
	int sfd, cfd, seen, tid;
	bool asleep;

	while (atomic_load(&w->phase) == PH_NEW)
		sched_yield();
	tid = atomic_load(&w->tid);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	sfd = open(path, O_RDONLY);
	ck_assert_msg(sfd != -1, "open %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	cfd = open(path, O_RDONLY);
	ck_assert_msg(cfd != -1, "open %s: %s", path, strerror(errno));
	for (seen = 0; seen < 3; sched_yield()) {
		asleep = task_in_futex(sfd, cfd);
		ck_assert_msg(atomic_load(&w->phase) == PH_IN,
		    "worker (op %d) returned %d (%s) instead of blocking",
		    (int)w->op, w->rc, strerror(w->err));
		seen = asleep ? seen + 1 : 0;
	}
	close(sfd);
	close(cfd);
}

static void
start_parked(struct worker *w)
{
	worker_start(w);
	wait_parked(w);
}

/* Asserts that the worker is still inside its operation. */
static void
assert_blocked(struct worker *w)
{
	ck_assert_msg(atomic_load(&w->phase) == PH_IN,
	    "worker (op %d) returned while it should block", (int)w->op);
}

/*
 * Creating channels, and what chan_len(), chan_cap() and chan_closed()
 * report.
 */

START_TEST(new_rejects_zero_elem_size)
{
	errno = 0;
	ck_assert_ptr_null(chan_new(0, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_new(0, 8));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(new_rejects_overflowing_buffer)
{
	errno = 0;
	ck_assert_ptr_null(chan_new(SIZE_MAX, 2));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_new(2, SIZE_MAX / 2 + 1));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_new(SIZE_MAX / 16 + 1, SIZE_MAX / 16 + 1));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(len_cap_closed)
{
	chan_t *b, *u;
	int v = 1;

	b = mkchan(sizeof(int), 3);
	u = mkchan(sizeof(int), 0);
	ck_assert_uint_eq(chan_cap(b), 3);
	ck_assert_uint_eq(chan_cap(u), 0);
	ck_assert_uint_eq(chan_len(b), 0);
	ck_assert_uint_eq(chan_len(u), 0);
	ck_assert(!chan_closed(b));
	ck_assert(!chan_closed(u));
	EXPECT_OK(chan_send(b, &v));
	EXPECT_OK(chan_send(b, &v));
	ck_assert_uint_eq(chan_len(b), 2);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_uint_eq(chan_len(b), 1);
	EXPECT_OK(chan_close(b));
	EXPECT_OK(chan_close(u));
	ck_assert(chan_closed(b));
	ck_assert(chan_closed(u));
	ck_assert_msg(chan_len(b) == 1, "closing must keep buffered values");
	ck_assert_uint_eq(chan_cap(b), 3);
	chan_free(b);
	chan_free(u);
}
END_TEST

START_TEST(len_of_unbuffered_is_zero_with_blocked_sender)
{
	struct worker w;
	chan_t *u;
	int v;

	u = mkchan(sizeof(int), 0);
	worker_init(&w, W_SEND, u, 5);
	start_parked(&w);
	ck_assert_uint_eq(chan_len(u), 0);
	EXPECT_OK(chan_recv(u, &v));
	ck_assert_int_eq(v, 5);
	worker_join(&w);
	chan_free(u);
}
END_TEST

/*
 * Unbuffered channels: a send and a receive meet, and each completes only
 * when the other has.
 */

START_TEST(unbuffered_send_returns_after_receive)
{
	static int marker;
	struct worker w;
	chan_t *u;
	int v = 0;

	u = mkchan(sizeof(int), 0);
	worker_init(&w, W_SEND, u, 42);
	w.peek = &marker;
	start_parked(&w);

	/*
	 * The sender is blocked with no receiver in sight.  The plain write
	 * below comes before the receive; the sender reads it after its send
	 * returns, so it must see it (the receive happens before the send
	 * completes, and TSan checks that the library orders the two).
	 */
	assert_blocked(&w);
	marker = 7;
	EXPECT_OK(chan_recv(u, &v));
	ck_assert_int_eq(v, 42);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_msg(w.peeked == 7, "send returned before the receive began");
	chan_free(u);
}
END_TEST

START_TEST(unbuffered_recv_has_value_when_send_returns)
{
	struct worker w;
	chan_t *u;
	int v = 43;

	u = mkchan(sizeof(int), 0);
	worker_init(&w, W_RECV, u, -1);
	start_parked(&w);
	EXPECT_OK(chan_send(u, &v));

	/*
	 * The receiver took the value before the send returned: it is in
	 * the receiver's variable already, though the receiver may not have
	 * been scheduled yet.
	 */
	ck_assert_msg(w.val == 43, "send returned before the receiver had it");
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	chan_free(u);
}
END_TEST

START_TEST(unbuffered_try_ops)
{
	struct worker w;
	chan_t *u;
	int v = 1;

	u = mkchan(sizeof(int), 0);

	/* Alone, neither side can proceed. */
	EXPECT_ERR(chan_try_send(u, &v), EAGAIN);
	EXPECT_ERR(chan_try_recv(u, &v), EAGAIN);

	/* A blocked receiver makes a try_send succeed. */
	worker_init(&w, W_RECV, u, -1);
	start_parked(&w);
	v = 11;
	EXPECT_OK(chan_try_send(u, &v));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_int_eq(w.val, 11);

	/* A blocked sender makes a try_recv succeed. */
	worker_init(&w, W_SEND, u, 12);
	start_parked(&w);
	v = 0;
	EXPECT_OK(chan_try_recv(u, &v));
	ck_assert_int_eq(v, 12);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);

	/* And no value stayed behind. */
	EXPECT_ERR(chan_try_recv(u, &v), EAGAIN);
	chan_free(u);
}
END_TEST

/* Buffered channels. */

START_TEST(buffered_fifo_and_try_when_full_or_empty)
{
	chan_t *b;
	int i, v;

	b = mkchan(sizeof(int), 4);
	for (i = 1; i <= 4; i++)
		EXPECT_OK(chan_send(b, &i));
	ck_assert_uint_eq(chan_len(b), 4);
	v = 5;
	EXPECT_ERR(chan_try_send(b, &v), EAGAIN);
	ck_assert_uint_eq(chan_len(b), 4);
	for (i = 1; i <= 4; i++) {
		EXPECT_OK(chan_recv(b, &v));
		ck_assert_int_eq(v, i);
	}
	EXPECT_ERR(chan_try_recv(b, &v), EAGAIN);
	ck_assert_uint_eq(chan_len(b), 0);
	chan_free(b);
}
END_TEST

START_TEST(buffered_fifo_across_wraparound)
{
	chan_t *b;
	int next_in = 0, next_out = 0, i, v;

	b = mkchan(sizeof(int), 3);
	for (i = 0; i < 200; i++) {
		/* Fill to a varying level, then drain part of it. */
		while (chan_len(b) < (size_t)(i % 3) + 1) {
			EXPECT_OK(chan_try_send(b, &next_in));
			next_in++;
		}
		EXPECT_OK(chan_try_recv(b, &v));
		ck_assert_msg(v == next_out, "got %d, expected %d", v,
		    next_out);
		next_out++;
	}
	while (chan_try_recv(b, &v) == 0) {
		ck_assert_int_eq(v, next_out);
		next_out++;
	}
	ck_assert_int_eq(next_out, next_in);
	chan_free(b);
}
END_TEST

START_TEST(buffered_send_blocks_while_full)
{
	struct worker w;
	chan_t *b;
	int i, v;

	b = mkchan(sizeof(int), 2);
	for (i = 1; i <= 2; i++)
		EXPECT_OK(chan_send(b, &i));
	worker_init(&w, W_SEND, b, 3);
	start_parked(&w);
	ck_assert_uint_eq(chan_len(b), 2);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 1);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_uint_eq(chan_len(b), 2);
	for (i = 2; i <= 3; i++) {
		EXPECT_OK(chan_recv(b, &v));
		ck_assert_int_eq(v, i);
	}
	chan_free(b);
}
END_TEST

START_TEST(buffered_recv_blocks_while_empty)
{
	struct worker w;
	chan_t *b;
	int v = 9;

	b = mkchan(sizeof(int), 2);
	worker_init(&w, W_RECV, b, -1);
	start_parked(&w);
	EXPECT_OK(chan_send(b, &v));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_int_eq(w.val, 9);
	ck_assert_msg(chan_len(b) == 0,
	    "the value was received twice or kept");
	chan_free(b);
}
END_TEST

START_TEST(values_are_copied_by_value)
{
	struct big in, out;
	chan_t *b;

	b = mkchan(sizeof(struct big), 2);
	memset(&in, 0, sizeof(in));
	in.a = 1;
	strcpy(in.s, "first");
	in.d = 2.5;
	in.tail[4] = 99;
	EXPECT_OK(chan_send(b, &in));

	/* The library copied the bytes: changing the source changes none. */
	in.a = 2;
	strcpy(in.s, "second");
	in.tail[4] = 100;
	EXPECT_OK(chan_send(b, &in));
	memset(&in, 0xff, sizeof(in));

	EXPECT_OK(chan_recv(b, &out));
	ck_assert_int_eq(out.a, 1);
	ck_assert_str_eq(out.s, "first");
	ck_assert_double_eq(out.d, 2.5);
	ck_assert_int_eq(out.tail[4], 99);
	EXPECT_OK(chan_recv(b, &out));
	ck_assert_int_eq(out.a, 2);
	ck_assert_str_eq(out.s, "second");
	ck_assert_int_eq(out.tail[4], 100);
	chan_free(b);
}
END_TEST

START_TEST(one_byte_elements)
{
	chan_t *b;
	char c;
	int i;

	b = mkchan(1, 5);
	for (i = 0; i < 5; i++) {
		c = (char)('a' + i);
		EXPECT_OK(chan_send(b, &c));
	}
	for (i = 0; i < 5; i++) {
		EXPECT_OK(chan_recv(b, &c));
		ck_assert_int_eq(c, 'a' + i);
	}
	chan_free(b);
}
END_TEST

START_TEST(recv_into_null_discards)
{
	struct worker w;
	chan_t *b, *u;
	int v;

	b = mkchan(sizeof(int), 3);
	for (v = 1; v <= 3; v++)
		EXPECT_OK(chan_send(b, &v));
	EXPECT_OK(chan_recv(b, NULL));
	EXPECT_OK(chan_try_recv(b, NULL));
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 3);
	chan_free(b);

	u = mkchan(sizeof(int), 0);
	worker_init(&w, W_SEND, u, 4);
	start_parked(&w);
	EXPECT_OK(chan_recv(u, NULL));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	chan_free(u);
}
END_TEST

START_TEST(free_with_buffered_values_and_null)
{
	chan_t *b;
	int v = 1;

	/* Leak checkers see the buffer go; NULL is a no-op. */
	b = mkchan(sizeof(int), 4);
	EXPECT_OK(chan_send(b, &v));
	EXPECT_OK(chan_send(b, &v));
	chan_free(b);
	chan_free(NULL);
}
END_TEST

/*
 * Closing: buffered values drain first, then EPIPE with a zero-filled
 * element; every blocked sender and receiver wakes.
 */

START_TEST(drains_buffered_values_then_epipe)
{
	struct big in, out;
	chan_t *b;
	int i;

	b = mkchan(sizeof(struct big), 4);
	memset(&in, 0, sizeof(in));
	for (i = 1; i <= 3; i++) {
		in.a = i;
		EXPECT_OK(chan_send(b, &in));
	}
	EXPECT_OK(chan_close(b));
	ck_assert(chan_closed(b));
	for (i = 1; i <= 3; i++) {
		memset(&out, 0xa5, sizeof(out));
		EXPECT_OK(chan_recv(b, &out));
		ck_assert_int_eq(out.a, i);
	}

	/* Drained: every receive fails at once, zero-filling the element. */
	memset(&out, 0xa5, sizeof(out));
	EXPECT_ERR(chan_recv(b, &out), EPIPE);
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");
	memset(&out, 0xa5, sizeof(out));
	EXPECT_ERR(chan_try_recv(b, &out), EPIPE);
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");
	memset(&out, 0xa5, sizeof(out));
	EXPECT_ERR(chan_recv_timeout(b, &out, 0), EPIPE);
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");
	memset(&out, 0xa5, sizeof(out));
	EXPECT_ERR(chan_recv_timeout(b, &out, 5000), EPIPE);
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");
	memset(&out, 0xa5, sizeof(out));
	EXPECT_ERR(chan_recv_timeout(b, &out, -1), EPIPE);
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");
	EXPECT_ERR(chan_recv(b, NULL), EPIPE);
	ck_assert_uint_eq(chan_len(b), 0);
	chan_free(b);
}
END_TEST

START_TEST(unbuffered_recv_on_closed_epipe)
{
	chan_t *u;
	int v = -1;

	u = mkchan(sizeof(int), 0);
	EXPECT_OK(chan_close(u));
	EXPECT_ERR(chan_recv(u, &v), EPIPE);
	ck_assert_int_eq(v, 0);
	v = -1;
	EXPECT_ERR(chan_try_recv(u, &v), EPIPE);
	ck_assert_int_eq(v, 0);
	chan_free(u);
}
END_TEST

START_TEST(send_on_closed_epipe_and_not_stored)
{
	chan_t *b, *u;
	int v = 1;

	b = mkchan(sizeof(int), 4);
	EXPECT_OK(chan_send(b, &v));
	EXPECT_OK(chan_close(b));
	v = 2;
	EXPECT_ERR(chan_send(b, &v), EPIPE);
	EXPECT_ERR(chan_try_send(b, &v), EPIPE);
	EXPECT_ERR(chan_send_timeout(b, &v, 0), EPIPE);
	EXPECT_ERR(chan_send_timeout(b, &v, 5000), EPIPE);
	EXPECT_ERR(chan_send_timeout(b, &v, -1), EPIPE);
	ck_assert_uint_eq(chan_len(b), 1);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 1);
	EXPECT_ERR(chan_recv(b, &v), EPIPE);
	chan_free(b);

	u = mkchan(sizeof(int), 0);
	EXPECT_OK(chan_close(u));
	EXPECT_ERR(chan_send(u, &v), EPIPE);
	EXPECT_ERR(chan_try_send(u, &v), EPIPE);
	EXPECT_ERR(chan_send_timeout(u, &v, 20), EPIPE);
	chan_free(u);
}
END_TEST

START_TEST(full_closed_channel_send_is_epipe)
{
	chan_t *b;
	int v = 1;

	/* Closed wins over full: EPIPE, not EAGAIN or ETIMEDOUT. */
	b = mkchan(sizeof(int), 1);
	EXPECT_OK(chan_send(b, &v));
	EXPECT_OK(chan_close(b));
	EXPECT_ERR(chan_try_send(b, &v), EPIPE);
	EXPECT_ERR(chan_send_timeout(b, &v, 10), EPIPE);
	EXPECT_ERR(chan_send(b, &v), EPIPE);
	chan_free(b);
}
END_TEST

START_TEST(close_of_closed_and_of_null)
{
	chan_t *u;

	u = mkchan(sizeof(int), 0);
	EXPECT_OK(chan_close(u));
	EXPECT_ERR(chan_close(u), EPIPE);
	EXPECT_ERR(chan_close(u), EPIPE);
	ck_assert(chan_closed(u));
	chan_free(u);
	EXPECT_ERR(chan_close(NULL), EINVAL);
}
END_TEST

START_TEST(wakes_blocked_senders_unbuffered)
{
	struct worker w[3];
	chan_t *u;
	int i, v;

	u = mkchan(sizeof(int), 0);
	worker_init(&w[0], W_SEND, u, 1);
	worker_init(&w[1], W_SEND_TMO, u, 2);
	w[1].tmo = 60000;
	worker_init(&w[2], W_SEND_TMO, u, 3);
	w[2].tmo = -1;
	for (i = 0; i < 3; i++)
		start_parked(&w[i]);
	EXPECT_OK(chan_close(u));
	for (i = 0; i < 3; i++) {
		worker_join(&w[i]);
		ck_assert_msg(w[i].rc == -1, "sender %d: rc %d", i, w[i].rc);
		ck_assert_msg(w[i].err == EPIPE, "sender %d: %s", i,
		    strerror(w[i].err));
	}

	/* None of their values was delivered. */
	v = -1;
	EXPECT_ERR(chan_recv(u, &v), EPIPE);
	ck_assert_int_eq(v, 0);
	chan_free(u);
}
END_TEST

START_TEST(wakes_blocked_sender_buffered)
{
	struct worker w;
	chan_t *b;
	int v = 1;

	b = mkchan(sizeof(int), 1);
	EXPECT_OK(chan_send(b, &v));
	worker_init(&w, W_SEND, b, 2);
	start_parked(&w);
	EXPECT_OK(chan_close(b));
	worker_join(&w);
	ck_assert_int_eq(w.rc, -1);
	ck_assert_int_eq(w.err, EPIPE);

	/* The buffered value survives; the blocked sender's value does not. */
	ck_assert_uint_eq(chan_len(b), 1);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 1);
	EXPECT_ERR(chan_recv(b, &v), EPIPE);
	chan_free(b);
}
END_TEST

static void
check_close_wakes_receivers(size_t cap)
{
	struct chan_case cs[2];
	struct worker w[4];
	chan_t *ch, *other;
	int i;

	ch = mkchan(sizeof(int), cap);
	other = mkchan(sizeof(int), 0);
	worker_init(&w[0], W_RECV, ch, -1);
	worker_init(&w[1], W_RECV_TMO, ch, -1);
	w[1].tmo = 60000;
	worker_init(&w[2], W_RECV_TMO, ch, -1);
	w[2].tmo = -1;
	worker_init(&w[3], W_SELECT, NULL, -1);
	cs[0] = (struct chan_case){ other, CHAN_RECV, NULL, true };
	cs[1] = (struct chan_case){ ch, CHAN_RECV, &w[3].val, true };
	w[3].cases = cs;
	w[3].ncases = 2;
	for (i = 0; i < 4; i++)
		start_parked(&w[i]);
	EXPECT_OK(chan_close(ch));
	for (i = 0; i < 3; i++) {
		worker_join(&w[i]);
		ck_assert_msg(w[i].rc == -1, "receiver %d: rc %d", i, w[i].rc);
		ck_assert_msg(w[i].err == EPIPE, "receiver %d: %s", i,
		    strerror(w[i].err));
		ck_assert_msg(w[i].val == 0, "receiver %d: elem not zeroed",
		    i);
	}
	worker_join(&w[3]);
	ck_assert_msg(w[3].rc == 1, "select returned %d", w[3].rc);
	ck_assert(!cs[1].ok);
	ck_assert_int_eq(w[3].val, 0);
	chan_free(ch);
	chan_free(other);
}

START_TEST(wakes_blocked_receivers_unbuffered)
{
	check_close_wakes_receivers(0);
}
END_TEST

START_TEST(wakes_blocked_receivers_buffered)
{
	check_close_wakes_receivers(3);
}
END_TEST

START_TEST(wakes_blocked_select_sender)
{
	struct chan_case cs[2];
	struct worker w;
	chan_t *u, *other;
	int v = 5;

	u = mkchan(sizeof(int), 0);
	other = mkchan(sizeof(int), 0);
	worker_init(&w, W_SELECT, NULL, 0);
	cs[0] = (struct chan_case){ other, CHAN_RECV, NULL, true };
	cs[1] = (struct chan_case){ u, CHAN_SEND, &v, true };
	w.cases = cs;
	w.ncases = 2;
	start_parked(&w);
	EXPECT_OK(chan_close(u));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 1);
	ck_assert_msg(!cs[1].ok, "a send to a closed channel reported ok");
	EXPECT_ERR(chan_recv(u, &v), EPIPE);
	chan_free(u);
	chan_free(other);
}
END_TEST

/* The NULL channel is never ready. */

START_TEST(untimed_ops_edeadlk)
{
	int v = 1;

	EXPECT_ERR(chan_send(NULL, &v), EDEADLK);
	EXPECT_ERR(chan_recv(NULL, &v), EDEADLK);
	EXPECT_ERR(chan_recv(NULL, NULL), EDEADLK);
}
END_TEST

START_TEST(try_ops_eagain)
{
	int v = 1;

	EXPECT_ERR(chan_try_send(NULL, &v), EAGAIN);
	EXPECT_ERR(chan_try_recv(NULL, &v), EAGAIN);
	EXPECT_ERR(chan_send_timeout(NULL, &v, 0), EAGAIN);
	EXPECT_ERR(chan_recv_timeout(NULL, &v, 0), EAGAIN);
}
END_TEST

START_TEST(timed_ops_wait_out_timeout)
{
	double t0, dt;
	int v = 1;

	t0 = now_ms();
	EXPECT_ERR(chan_send_timeout(NULL, &v, 40), ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 39.0 && dt < 5000.0, "waited %.1f ms for 40", dt);
	t0 = now_ms();
	EXPECT_ERR(chan_recv_timeout(NULL, &v, 40), ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 39.0 && dt < 5000.0, "waited %.1f ms for 40", dt);
}
END_TEST

START_TEST(accessors)
{
	ck_assert_uint_eq(chan_len(NULL), 0);
	ck_assert_uint_eq(chan_cap(NULL), 0);
	ck_assert(!chan_closed(NULL));
	chan_free(NULL);
}
END_TEST

/* Timed operations: ETIMEDOUT after the time, 0 is a try, < 0 forever. */

START_TEST(recv_times_out)
{
	chan_t *chs[2];
	double t0, dt;
	int i, v;

	chs[0] = mkchan(sizeof(int), 0);
	chs[1] = mkchan(sizeof(int), 2);
	for (i = 0; i < 2; i++) {
		t0 = now_ms();
		EXPECT_ERR(chan_recv_timeout(chs[i], &v, 50), ETIMEDOUT);
		dt = now_ms() - t0;
		ck_assert_msg(dt >= 49.0 && dt < 5000.0,
		    "waited %.1f ms for 50", dt);
		chan_free(chs[i]);
	}
}
END_TEST

START_TEST(send_times_out_and_is_not_delivered)
{
	chan_t *u, *b;
	double t0, dt;
	int v = 1;

	u = mkchan(sizeof(int), 0);
	t0 = now_ms();
	EXPECT_ERR(chan_send_timeout(u, &v, 50), ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 49.0 && dt < 5000.0, "waited %.1f ms for 50", dt);
	EXPECT_ERR(chan_try_recv(u, &v), EAGAIN);
	chan_free(u);

	b = mkchan(sizeof(int), 1);
	EXPECT_OK(chan_send(b, &v));
	v = 2;
	t0 = now_ms();
	EXPECT_ERR(chan_send_timeout(b, &v, 50), ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 49.0 && dt < 5000.0, "waited %.1f ms for 50", dt);
	ck_assert_uint_eq(chan_len(b), 1);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 1);
	EXPECT_ERR(chan_try_recv(b, &v), EAGAIN);
	chan_free(b);
}
END_TEST

START_TEST(zero_timeout_is_a_try)
{
	struct worker w;
	chan_t *u, *b;
	int v = 1;

	b = mkchan(sizeof(int), 1);
	EXPECT_ERR(chan_recv_timeout(b, &v, 0), EAGAIN);
	EXPECT_OK(chan_send_timeout(b, &v, 0));
	EXPECT_ERR(chan_send_timeout(b, &v, 0), EAGAIN);
	v = 0;
	EXPECT_OK(chan_recv_timeout(b, &v, 0));
	ck_assert_int_eq(v, 1);
	chan_free(b);

	u = mkchan(sizeof(int), 0);
	EXPECT_ERR(chan_send_timeout(u, &v, 0), EAGAIN);
	EXPECT_ERR(chan_recv_timeout(u, &v, 0), EAGAIN);
	worker_init(&w, W_RECV, u, -1);
	start_parked(&w);
	v = 3;
	EXPECT_OK(chan_send_timeout(u, &v, 0));
	worker_join(&w);
	ck_assert_int_eq(w.val, 3);
	worker_init(&w, W_SEND, u, 4);
	start_parked(&w);
	EXPECT_OK(chan_recv_timeout(u, &v, 0));
	ck_assert_int_eq(v, 4);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	chan_free(u);
}
END_TEST

START_TEST(negative_timeout_waits_forever)
{
	struct worker w;
	chan_t *u;
	int v;

	u = mkchan(sizeof(int), 0);
	worker_init(&w, W_RECV_TMO, u, -1);
	w.tmo = -1;
	start_parked(&w);
	v = 21;
	EXPECT_OK(chan_send(u, &v));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_int_eq(w.val, 21);

	worker_init(&w, W_SEND_TMO, u, 22);
	w.tmo = -5;
	start_parked(&w);
	EXPECT_OK(chan_recv(u, &v));
	ck_assert_int_eq(v, 22);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	chan_free(u);
}
END_TEST

START_TEST(completes_before_deadline)
{
	struct worker w;
	chan_t *b;
	int v;

	b = mkchan(sizeof(int), 1);
	worker_init(&w, W_RECV_TMO, b, -1);
	w.tmo = 60000;
	start_parked(&w);
	v = 31;
	EXPECT_OK(chan_send(b, &v));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_int_eq(w.val, 31);

	EXPECT_OK(chan_send(b, &v));
	worker_init(&w, W_SEND_TMO, b, 32);
	w.tmo = 60000;
	start_parked(&w);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 31);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 32);
	chan_free(b);
}
END_TEST

/* chan_select. */

START_TEST(performs_exactly_one_of_two_ready_recvs)
{
	struct chan_case cs[2];
	chan_t *a, *b;
	int i, va, vb, one = 1, two = 2, rc, seen[2] = { 0, 0 };

	a = mkchan(sizeof(int), 1);
	b = mkchan(sizeof(int), 1);
	for (i = 0; i < 200; i++) {
		if (chan_len(a) == 0)
			EXPECT_OK(chan_send(a, &one));
		if (chan_len(b) == 0)
			EXPECT_OK(chan_send(b, &two));
		va = vb = -1;
		cs[0] = (struct chan_case){ a, CHAN_RECV, &va, false };
		cs[1] = (struct chan_case){ b, CHAN_RECV, &vb, false };
		rc = chan_select(cs, 2, -1);
		ck_assert_msg(rc == 0 || rc == 1, "select returned %d", rc);
		seen[rc]++;
		ck_assert(cs[rc].ok);
		if (rc == 0) {
			ck_assert_int_eq(va, 1);
			ck_assert_msg(vb == -1,
			    "the other case was performed");
			ck_assert_uint_eq(chan_len(a), 0);
			ck_assert_uint_eq(chan_len(b), 1);
		} else {
			ck_assert_int_eq(vb, 2);
			ck_assert_msg(va == -1,
			    "the other case was performed");
			ck_assert_uint_eq(chan_len(a), 1);
			ck_assert_uint_eq(chan_len(b), 0);
		}
	}
	ck_assert_msg(seen[0] > 0 && seen[1] > 0, "always picked one case");
	chan_free(a);
	chan_free(b);
}
END_TEST

START_TEST(performs_exactly_one_of_send_and_recv)
{
	struct chan_case cs[2];
	chan_t *a, *b;
	int i, in, out, seven = 7, rc;

	a = mkchan(sizeof(int), 1);	/* Has room: the send is ready. */
	b = mkchan(sizeof(int), 1);	/* Has a value: the recv is ready. */
	for (i = 0; i < 100; i++) {
		EXPECT_OK(chan_send(b, &seven));
		in = 100 + i;
		out = -1;
		cs[0] = (struct chan_case){ a, CHAN_SEND, &in, false };
		cs[1] = (struct chan_case){ b, CHAN_RECV, &out, false };
		rc = chan_select(cs, 2, 0);
		ck_assert_msg(rc == 0 || rc == 1, "select returned %d", rc);
		ck_assert(cs[rc].ok);
		if (rc == 0) {
			ck_assert_uint_eq(chan_len(a), 1);
			ck_assert_msg(chan_len(b) == 1, "recv also performed");
			ck_assert_int_eq(out, -1);
			EXPECT_OK(chan_recv(a, &out));
			ck_assert_int_eq(out, 100 + i);
			EXPECT_OK(chan_recv(b, NULL));
		} else {
			ck_assert_int_eq(out, 7);
			ck_assert_msg(chan_len(a) == 0, "send also performed");
			ck_assert_uint_eq(chan_len(b), 0);
		}
	}
	chan_free(a);
	chan_free(b);
}
END_TEST

START_TEST(picks_the_only_ready_case)
{
	struct chan_case cs[5];
	chan_t *empty, *full, *ready;
	int i, v, x = 0, rc;

	empty = mkchan(sizeof(int), 1);
	full = mkchan(sizeof(int), 1);
	ready = mkchan(sizeof(int), 4);
	EXPECT_OK(chan_send(full, &x));
	for (i = 0; i < 50; i++) {
		EXPECT_OK(chan_send(ready, &i));
		v = -1;
		cs[0] = (struct chan_case){ empty, CHAN_RECV, &x, false };
		cs[1] = (struct chan_case){ NULL, CHAN_RECV, &x, false };
		cs[2] = (struct chan_case){ full, CHAN_SEND, &x, false };
		cs[3] = (struct chan_case){ NULL, CHAN_SEND, &x, false };
		cs[4] = (struct chan_case){ ready, CHAN_RECV, &v, false };
		rc = chan_select(cs, 5, i % 2 == 0 ? 0 : -1);
		ck_assert_msg(rc == 4, "select returned %d", rc);
		ck_assert(cs[4].ok);
		ck_assert_int_eq(v, i);
	}
	ck_assert_uint_eq(chan_len(full), 1);
	chan_free(empty);
	chan_free(full);
	chan_free(ready);
}
END_TEST

START_TEST(recv_on_closed_is_ready_zero_filled)
{
	struct chan_case cs[3];
	struct big out;
	chan_t *c, *idle;
	int rc;

	c = mkchan(sizeof(struct big), 2);
	idle = mkchan(sizeof(struct big), 0);
	EXPECT_OK(chan_close(c));
	memset(&out, 0xa5, sizeof(out));
	cs[0] = (struct chan_case){ idle, CHAN_RECV, NULL, true };
	cs[1] = (struct chan_case){ NULL, CHAN_RECV, NULL, true };
	cs[2] = (struct chan_case){ c, CHAN_RECV, &out, true };
	rc = chan_select(cs, 3, -1);
	ck_assert_msg(rc == 2, "select returned %d", rc);
	ck_assert_msg(!cs[2].ok, "ok true on a closed channel");
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");

	/* Also as a try. */
	memset(&out, 0xa5, sizeof(out));
	cs[2].ok = true;
	rc = chan_select(cs, 3, 0);
	ck_assert_int_eq(rc, 2);
	ck_assert(!cs[2].ok);
	ck_assert_msg(all_zero(&out, sizeof(out)), "elem not zero-filled");
	chan_free(c);
	chan_free(idle);
}
END_TEST

START_TEST(recv_on_closed_drains_buffer_first)
{
	struct chan_case cs[1];
	chan_t *c;
	int v = 8, rc;

	c = mkchan(sizeof(int), 2);
	EXPECT_OK(chan_send(c, &v));
	EXPECT_OK(chan_close(c));
	v = -1;
	cs[0] = (struct chan_case){ c, CHAN_RECV, &v, false };
	rc = chan_select(cs, 1, -1);
	ck_assert_int_eq(rc, 0);
	ck_assert(cs[0].ok);
	ck_assert_int_eq(v, 8);
	cs[0].ok = true;
	rc = chan_select(cs, 1, -1);
	ck_assert_int_eq(rc, 0);
	ck_assert(!cs[0].ok);
	ck_assert_int_eq(v, 0);
	chan_free(c);
}
END_TEST

START_TEST(send_on_closed_is_ready_nothing_sent)
{
	struct chan_case cs[2];
	chan_t *c, *idle;
	int v = 1, w = 2, rc;

	c = mkchan(sizeof(int), 4);
	idle = mkchan(sizeof(int), 0);
	EXPECT_OK(chan_send(c, &v));
	EXPECT_OK(chan_close(c));
	cs[0] = (struct chan_case){ idle, CHAN_RECV, NULL, true };
	cs[1] = (struct chan_case){ c, CHAN_SEND, &w, true };
	rc = chan_select(cs, 2, -1);
	ck_assert_msg(rc == 1, "select returned %d", rc);
	ck_assert_msg(!cs[1].ok, "ok true for a send to a closed channel");
	ck_assert_msg(chan_len(c) == 1,
	    "a value was sent to a closed channel");
	EXPECT_OK(chan_recv(c, &v));
	ck_assert_int_eq(v, 1);
	EXPECT_ERR(chan_recv(c, &v), EPIPE);
	chan_free(c);
	chan_free(idle);
}
END_TEST

START_TEST(ok_true_when_a_value_moves)
{
	struct chan_case cs[1];
	chan_t *c;
	int v = 3, rc;

	c = mkchan(sizeof(int), 1);
	cs[0] = (struct chan_case){ c, CHAN_SEND, &v, false };
	rc = chan_select(cs, 1, 0);
	ck_assert_int_eq(rc, 0);
	ck_assert(cs[0].ok);
	v = 0;
	cs[0] = (struct chan_case){ c, CHAN_RECV, &v, false };
	rc = chan_select(cs, 1, 0);
	ck_assert_int_eq(rc, 0);
	ck_assert(cs[0].ok);
	ck_assert_int_eq(v, 3);
	chan_free(c);
}
END_TEST

START_TEST(recv_case_with_null_elem_discards)
{
	struct chan_case cs[1];
	chan_t *c;
	int v = 3, rc;

	c = mkchan(sizeof(int), 2);
	EXPECT_OK(chan_send(c, &v));
	v = 4;
	EXPECT_OK(chan_send(c, &v));
	cs[0] = (struct chan_case){ c, CHAN_RECV, NULL, false };
	rc = chan_select(cs, 1, -1);
	ck_assert_int_eq(rc, 0);
	ck_assert(cs[0].ok);
	EXPECT_OK(chan_recv(c, &v));
	ck_assert_int_eq(v, 4);
	chan_free(c);
}
END_TEST

START_TEST(zero_timeout_eagain_when_nothing_ready)
{
	struct chan_case cs[4];
	chan_t *u, *empty, *full;
	int v = 0;

	u = mkchan(sizeof(int), 0);
	empty = mkchan(sizeof(int), 1);
	full = mkchan(sizeof(int), 1);
	EXPECT_OK(chan_send(full, &v));
	cs[0] = (struct chan_case){ u, CHAN_SEND, &v, false };
	cs[1] = (struct chan_case){ u, CHAN_RECV, &v, false };
	cs[2] = (struct chan_case){ empty, CHAN_RECV, &v, false };
	cs[3] = (struct chan_case){ full, CHAN_SEND, &v, false };
	EXPECT_ERR(chan_select(cs, 4, 0), EAGAIN);
	ck_assert_uint_eq(chan_len(full), 1);
	ck_assert_uint_eq(chan_len(empty), 0);

	/* All NULL with a zero timeout is a try too. */
	cs[0].ch = cs[1].ch = NULL;
	EXPECT_ERR(chan_select(cs, 2, 0), EAGAIN);
	chan_free(u);
	chan_free(empty);
	chan_free(full);
}
END_TEST

START_TEST(positive_timeout_etimedout)
{
	struct chan_case cs[3];
	chan_t *u, *empty;
	double t0, dt;
	int v = 0;

	u = mkchan(sizeof(int), 0);
	empty = mkchan(sizeof(int), 2);
	cs[0] = (struct chan_case){ u, CHAN_SEND, &v, false };
	cs[1] = (struct chan_case){ empty, CHAN_RECV, &v, false };
	cs[2] = (struct chan_case){ NULL, CHAN_RECV, &v, false };
	t0 = now_ms();
	EXPECT_ERR(chan_select(cs, 3, 50), ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 49.0 && dt < 5000.0, "waited %.1f ms for 50", dt);

	/* The timed-out send was not delivered later. */
	EXPECT_ERR(chan_try_recv(u, &v), EAGAIN);
	ck_assert_uint_eq(chan_len(empty), 0);

	/* Only NULL channels: the timeout is waited out. */
	t0 = now_ms();
	EXPECT_ERR(chan_select(&cs[2], 1, 40), ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_msg(dt >= 39.0 && dt < 5000.0, "waited %.1f ms for 40", dt);
	chan_free(u);
	chan_free(empty);
}
END_TEST

START_TEST(all_null_forever_edeadlk)
{
	struct chan_case cs[2];
	int v = 0;

	cs[0] = (struct chan_case){ NULL, CHAN_SEND, &v, false };
	cs[1] = (struct chan_case){ NULL, CHAN_RECV, &v, false };
	EXPECT_ERR(chan_select(cs, 2, -1), EDEADLK);
	EXPECT_ERR(chan_select(cs, 2, -100), EDEADLK);

	/* No case at all: every channel (none) is NULL. */
	EXPECT_ERR(chan_select(cs, 0, -1), EDEADLK);
}
END_TEST

START_TEST(null_cases_array_einval)
{
	EXPECT_ERR(chan_select(NULL, 1, -1), EINVAL);
	EXPECT_ERR(chan_select(NULL, 3, 0), EINVAL);
}
END_TEST

/*
 * A send has no value to copy from a NULL elem: every send, and a select
 * with such a case even when another case is ready, fails with EINVAL
 * and leaves the channel as it was.
 */
START_TEST(send_of_null_elem_einval)
{
	struct chan_case cs[2];
	chan_t *ch;
	int v = 7;

	for (size_t cap = 0; cap < 2; cap++) {
		ch = mkchan(sizeof(int), cap);
		EXPECT_ERR(chan_send(ch, NULL), EINVAL);
		EXPECT_ERR(chan_try_send(ch, NULL), EINVAL);
		EXPECT_ERR(chan_send_timeout(ch, NULL, 10), EINVAL);
		ck_assert_uint_eq(chan_len(ch), 0);
		chan_free(ch);
	}
	ch = mkchan(sizeof(int), 1);
	EXPECT_OK(chan_send(ch, &v));
	cs[0] = (struct chan_case){ ch, CHAN_RECV, &v, false };
	cs[1] = (struct chan_case){ ch, CHAN_SEND, NULL, false };
	EXPECT_ERR(chan_select(cs, 2, -1), EINVAL);
	ck_assert_uint_eq(chan_len(ch), 1);
	chan_free(ch);
}
END_TEST

/*
 * A count of cases whose arrays no size_t can measure fails with ENOMEM
 * before any case is read: sized with a wrapped product, the arrays were
 * a few bytes, and the select wrote past them.
 */
START_TEST(huge_case_count_enomem)
{
	struct chan_case c = { NULL, CHAN_RECV, NULL, false };

	EXPECT_ERR(chan_select(&c, SIZE_MAX / 16 + 2, 0), ENOMEM);
	EXPECT_ERR(chan_select(&c, SIZE_MAX, -1), ENOMEM);
}
END_TEST

/*
 * Runs trials selects over n cases on the channels in chs with the given
 * ops, and counts which index each one picks.  Before each trial every
 * case is made ready: a recv case's channel holds one value, a send case's
 * channel is empty; after it the performed case is checked and undone.
 */
static void
count_picks(chan_t **chs, const enum chan_op *ops, size_t n, int trials,
    int *count)
{
	struct chan_case cs[8];
	int vals[8], v = 1, rc, t;
	size_t i;

	ck_assert(n <= 8);
	for (i = 0; i < n; i++) {
		count[i] = 0;
		if (ops[i] == CHAN_RECV)
			EXPECT_OK(chan_send(chs[i], &v));
	}
	for (t = 0; t < trials; t++) {
		for (i = 0; i < n; i++) {
			vals[i] = (int)i;
			cs[i] = (struct chan_case){ chs[i], ops[i], &vals[i],
			    false };
		}
		rc = chan_select(cs, n, 0);
		ck_assert_msg(rc >= 0 && (size_t)rc < n, "select returned %d",
		    rc);
		ck_assert(cs[rc].ok);
		count[rc]++;
		for (i = 0; i < n; i++) {
			if (chs[i] == NULL)
				continue;
			if (ops[i] == CHAN_RECV)
				ck_assert_uint_eq(chan_len(chs[i]),
				    (size_t)i == (size_t)rc ? 0u : 1u);
			else
				ck_assert_uint_eq(chan_len(chs[i]),
				    (size_t)i == (size_t)rc ? 1u : 0u);
		}
		if (ops[rc] == CHAN_RECV) {
			ck_assert_int_eq(vals[rc], 1);
			EXPECT_OK(chan_send(chs[rc], &v));
		} else {
			EXPECT_OK(chan_recv(chs[rc], &v));
			ck_assert_int_eq(v, rc);
			v = 1;
		}
	}
}

/* Asserts each count lies within lo..hi and a chi-square bound. */
static void
assert_uniform(const int *count, size_t n, int trials, double lo, double hi)
{
	double expect, chi2 = 0.0, d;
	size_t i;

	expect = (double)trials / (double)n;
	for (i = 0; i < n; i++) {
		ck_assert_msg(count[i] >= lo * trials &&
		    count[i] <= hi * trials, "case %zu picked %d times of %d",
		    i, count[i], trials);
		d = count[i] - expect;
		chi2 += d * d / expect;
	}

	/* For 1 to 3 degrees of freedom, p < 1e-5 lies below 26. */
	ck_assert_msg(chi2 < 26.0, "chi-square %.1f: not uniform", chi2);
}

START_TEST(uniform_among_four_ready_recvs)
{
	static const enum chan_op ops[4] = {
		CHAN_RECV, CHAN_RECV, CHAN_RECV, CHAN_RECV
	};
	chan_t *chs[4];
	int count[4], i;

	for (i = 0; i < 4; i++)
		chs[i] = mkchan(sizeof(int), 1);
	count_picks(chs, ops, 4, 4000, count);
	assert_uniform(count, 4, 4000, 0.15, 0.35);
	for (i = 0; i < 4; i++)
		chan_free(chs[i]);
}
END_TEST

START_TEST(uniform_among_mixed_sends_and_recvs)
{
	static const enum chan_op ops[4] = {
		CHAN_SEND, CHAN_RECV, CHAN_SEND, CHAN_RECV
	};
	chan_t *chs[4];
	int count[4], i;

	for (i = 0; i < 4; i++)
		chs[i] = mkchan(sizeof(int), 1);
	count_picks(chs, ops, 4, 4000, count);
	assert_uniform(count, 4, 4000, 0.15, 0.35);
	for (i = 0; i < 4; i++)
		chan_free(chs[i]);
}
END_TEST

START_TEST(uniform_regardless_of_unready_neighbours)
{
	struct chan_case cs[6];
	chan_t *idle, *a, *b;
	int count[2] = { 0, 0 }, t, v = 1, x, rc;

	/*
	 * Two ready cases behind unready ones: picking a random start and
	 * scanning forward would favour the first ready case 5 to 1.
	 */
	idle = mkchan(sizeof(int), 0);
	a = mkchan(sizeof(int), 1);
	b = mkchan(sizeof(int), 1);
	EXPECT_OK(chan_send(a, &v));
	EXPECT_OK(chan_send(b, &v));
	for (t = 0; t < 2000; t++) {
		cs[0] = (struct chan_case){ idle, CHAN_RECV, &x, false };
		cs[1] = (struct chan_case){ NULL, CHAN_RECV, &x, false };
		cs[2] = (struct chan_case){ idle, CHAN_SEND, &x, false };
		cs[3] = (struct chan_case){ idle, CHAN_RECV, &x, false };
		cs[4] = (struct chan_case){ a, CHAN_RECV, &x, false };
		cs[5] = (struct chan_case){ b, CHAN_RECV, &x, false };
		rc = chan_select(cs, 6, 0);
		ck_assert_msg(rc == 4 || rc == 5, "select returned %d", rc);
		count[rc - 4]++;
		EXPECT_OK(chan_send(rc == 4 ? a : b, &v));
	}
	assert_uniform(count, 2, 2000, 0.40, 0.60);
	chan_free(idle);
	chan_free(a);
	chan_free(b);
}
END_TEST

START_TEST(many_cases_beyond_64)
{
	struct chan_case cs[100];
	chan_t *idle, *c;
	int count[100], v = 1, rc, i, t;

	idle = mkchan(sizeof(int), 0);
	c = mkchan(sizeof(int), 1);

	/* One ready case at the end of a long list. */
	EXPECT_OK(chan_send(c, &v));
	for (i = 0; i < 100; i++)
		cs[i] = (struct chan_case){ i % 2 ? idle : NULL, CHAN_RECV,
		    NULL, false };
	cs[99].ch = c;
	rc = chan_select(cs, 100, -1);
	ck_assert_msg(rc == 99, "select returned %d", rc);
	ck_assert(cs[99].ok);

	/* The same channel in all 100 cases: each index gets picked. */
	for (i = 0; i < 100; i++) {
		cs[i] = (struct chan_case){ c, CHAN_RECV, NULL, false };
		count[i] = 0;
	}
	for (t = 0; t < 4000; t++) {
		EXPECT_OK(chan_send(c, &v));
		rc = chan_select(cs, 100, 0);
		ck_assert_msg(rc >= 0 && rc < 100, "select returned %d", rc);
		ck_assert_msg(chan_len(c) == 0,
		    "more than one case performed");
		count[rc]++;
	}
	for (i = 0; i < 100; i++)
		ck_assert_msg(count[i] > 0, "case %d never picked", i);
	chan_free(idle);
	chan_free(c);
}
END_TEST

START_TEST(same_channel_in_two_recv_cases)
{
	struct chan_case cs[2];
	chan_t *c;
	int count[2] = { 0, 0 }, v, x, y, rc, t;

	c = mkchan(sizeof(int), 1);
	for (t = 0; t < 2000; t++) {
		v = t;
		EXPECT_OK(chan_send(c, &v));
		x = y = -1;
		cs[0] = (struct chan_case){ c, CHAN_RECV, &x, false };
		cs[1] = (struct chan_case){ c, CHAN_RECV, &y, false };
		rc = chan_select(cs, 2, -1);
		ck_assert_msg(rc == 0 || rc == 1, "select returned %d", rc);
		ck_assert_int_eq(rc == 0 ? x : y, t);
		ck_assert_msg((rc == 0 ? y : x) == -1, "both cases performed");
		count[rc]++;
	}
	assert_uniform(count, 2, 2000, 0.40, 0.60);
	chan_free(c);
}
END_TEST

START_TEST(same_channel_send_and_recv_buffered)
{
	struct chan_case cs[2];
	chan_t *c;
	int count[2] = { 0, 0 }, in, out, v = 5, rc, t;

	/* Capacity 2 holding 1 value: both the send and the recv are ready. */
	c = mkchan(sizeof(int), 2);
	EXPECT_OK(chan_send(c, &v));
	for (t = 0; t < 2000; t++) {
		in = 6;
		out = -1;
		cs[0] = (struct chan_case){ c, CHAN_SEND, &in, false };
		cs[1] = (struct chan_case){ c, CHAN_RECV, &out, false };
		rc = chan_select(cs, 2, 0);
		ck_assert_msg(rc == 0 || rc == 1, "select returned %d", rc);
		ck_assert(cs[rc].ok);
		count[rc]++;
		if (rc == 0) {
			ck_assert_msg(out == -1, "the recv was performed too");
			ck_assert_uint_eq(chan_len(c), 2);
			EXPECT_OK(chan_recv(c, &v));
			ck_assert_int_eq(v, 5);
			EXPECT_OK(chan_recv(c, &v));
			ck_assert_int_eq(v, 6);
		} else {
			ck_assert_int_eq(out, 5);
			ck_assert_msg(chan_len(c) == 0,
			    "the send was performed too");
		}
		v = 5;
		EXPECT_OK(chan_send(c, &v));
	}
	assert_uniform(count, 2, 2000, 0.40, 0.60);

	/* Full: only the recv is ready.  Empty: only the send is. */
	EXPECT_OK(chan_send(c, &v));
	cs[0] = (struct chan_case){ c, CHAN_SEND, &in, false };
	cs[1] = (struct chan_case){ c, CHAN_RECV, &out, false };
	ck_assert_int_eq(chan_select(cs, 2, 0), 1);
	EXPECT_OK(chan_recv(c, NULL));
	ck_assert_uint_eq(chan_len(c), 0);
	ck_assert_int_eq(chan_select(cs, 2, 0), 0);
	ck_assert_uint_eq(chan_len(c), 1);
	chan_free(c);
}
END_TEST

START_TEST(unbuffered_send_and_recv_never_meet_each_other)
{
	struct chan_case cs[2];
	chan_t *u;
	int in = 1, out = -1;

	/* One select cannot perform two cases by pairing with itself. */
	u = mkchan(sizeof(int), 0);
	cs[0] = (struct chan_case){ u, CHAN_SEND, &in, false };
	cs[1] = (struct chan_case){ u, CHAN_RECV, &out, false };
	EXPECT_ERR(chan_select(cs, 2, 0), EAGAIN);
	EXPECT_ERR(chan_select(cs, 2, 30), ETIMEDOUT);
	ck_assert_int_eq(out, -1);
	chan_free(u);
}
END_TEST

/*
 * A parked select with two send cases on one channel: the receiver that
 * wakes it takes either, at random, not always the one queued first.
 */
START_TEST(parked_select_picks_among_cases_on_one_channel)
{
	struct chan_case cs[2];
	struct worker w;
	chan_t *u = mkchan(sizeof(int), 0);
	int round, v, va = 1, vb = 2, seen[3] = { 0, 0, 0 };

	for (round = 0; round < 64; round++) {
		worker_init(&w, W_SELECT, NULL, 0);
		cs[0] = (struct chan_case){ u, CHAN_SEND, &va, false };
		cs[1] = (struct chan_case){ u, CHAN_SEND, &vb, false };
		w.cases = cs;
		w.ncases = 2;
		w.tmo = 60000;
		start_parked(&w);
		EXPECT_OK(chan_recv(u, &v));
		worker_join(&w);
		ck_assert_int_eq(w.rc, v - 1);
		seen[v]++;
	}
	/* Each at least once: fails by chance with probability 2^-63. */
	ck_assert_int_gt(seen[1], 0);
	ck_assert_int_gt(seen[2], 0);
	chan_free(u);
}
END_TEST

START_TEST(send_case_meets_blocked_receiver)
{
	struct chan_case cs[3];
	struct worker w;
	chan_t *u, *idle;
	int v = 55, x = 0, rc;

	u = mkchan(sizeof(int), 0);
	idle = mkchan(sizeof(int), 0);
	worker_init(&w, W_RECV, u, -1);
	start_parked(&w);
	cs[0] = (struct chan_case){ idle, CHAN_RECV, &x, false };
	cs[1] = (struct chan_case){ NULL, CHAN_SEND, &x, false };
	cs[2] = (struct chan_case){ u, CHAN_SEND, &v, false };
	rc = chan_select(cs, 3, 0);
	ck_assert_msg(rc == 2, "select returned %d", rc);
	ck_assert(cs[2].ok);
	ck_assert_msg(w.val == 55, "receiver had not got the value yet");
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	chan_free(u);
	chan_free(idle);
}
END_TEST

START_TEST(recv_case_meets_blocked_sender)
{
	struct chan_case cs[2];
	struct worker w;
	chan_t *u, *idle;
	int v = -1, rc;

	u = mkchan(sizeof(int), 0);
	idle = mkchan(sizeof(int), 0);
	worker_init(&w, W_SEND, u, 66);
	start_parked(&w);
	cs[0] = (struct chan_case){ idle, CHAN_SEND, &v, false };
	cs[1] = (struct chan_case){ u, CHAN_RECV, &v, false };
	rc = chan_select(cs, 2, 0);
	ck_assert_msg(rc == 1, "select returned %d", rc);
	ck_assert(cs[1].ok);
	ck_assert_int_eq(v, 66);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 0);
	chan_free(u);
	chan_free(idle);
}
END_TEST

START_TEST(blocked_select_woken_by_send)
{
	struct chan_case cs[3];
	struct worker w;
	chan_t *a, *b;
	int va = -1, vb = -1, v = 77;

	a = mkchan(sizeof(int), 0);
	b = mkchan(sizeof(int), 1);
	worker_init(&w, W_SELECT, NULL, 0);
	cs[0] = (struct chan_case){ a, CHAN_RECV, &va, false };
	cs[1] = (struct chan_case){ NULL, CHAN_RECV, &va, false };
	cs[2] = (struct chan_case){ b, CHAN_RECV, &vb, false };
	w.cases = cs;
	w.ncases = 3;
	start_parked(&w);
	EXPECT_OK(chan_send(b, &v));
	worker_join(&w);
	ck_assert_int_eq(w.rc, 2);
	ck_assert(cs[2].ok);
	ck_assert_int_eq(vb, 77);
	ck_assert_int_eq(va, -1);
	ck_assert_uint_eq(chan_len(b), 0);
	chan_free(a);
	chan_free(b);
}
END_TEST

START_TEST(blocked_select_send_woken_by_recv)
{
	struct chan_case cs[2];
	struct worker w;
	chan_t *a, *b;
	int va = 1, vb = 2, v = -1;

	a = mkchan(sizeof(int), 0);
	b = mkchan(sizeof(int), 0);
	worker_init(&w, W_SELECT, NULL, 0);
	cs[0] = (struct chan_case){ a, CHAN_SEND, &va, false };
	cs[1] = (struct chan_case){ b, CHAN_SEND, &vb, false };
	w.cases = cs;
	w.ncases = 2;
	w.tmo = 60000;
	start_parked(&w);
	EXPECT_OK(chan_recv(b, &v));
	ck_assert_int_eq(v, 2);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 1);
	ck_assert(cs[1].ok);

	/* The other send was withdrawn: nothing waits on a any more. */
	EXPECT_ERR(chan_try_recv(a, &v), EAGAIN);
	chan_free(a);
	chan_free(b);
}
END_TEST

START_TEST(select_meets_select)
{
	struct chan_case ws[2], ms[3];
	struct worker w;
	chan_t *c1, *c2, *c3;
	int s1 = 5, s2 = 6, r2 = -1, r3 = -1, rc;

	c1 = mkchan(sizeof(int), 0);
	c2 = mkchan(sizeof(int), 0);
	c3 = mkchan(sizeof(int), 0);
	worker_init(&w, W_SELECT, NULL, 0);
	ws[0] = (struct chan_case){ c1, CHAN_SEND, &s1, false };
	ws[1] = (struct chan_case){ c2, CHAN_SEND, &s2, false };
	w.cases = ws;
	w.ncases = 2;
	start_parked(&w);
	ms[0] = (struct chan_case){ c2, CHAN_RECV, &r2, false };
	ms[1] = (struct chan_case){ c3, CHAN_RECV, &r3, false };
	ms[2] = (struct chan_case){ NULL, CHAN_RECV, &r3, false };
	rc = chan_select(ms, 3, -1);
	ck_assert_msg(rc == 0, "select returned %d", rc);
	ck_assert(ms[0].ok);
	ck_assert_int_eq(r2, 6);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 1);
	ck_assert(ws[1].ok);
	EXPECT_ERR(chan_try_recv(c1, &r3), EAGAIN);

	/* And the other way round: the receiving select blocks first. */
	worker_init(&w, W_SELECT, NULL, 0);
	r2 = r3 = -1;
	ms[0] = (struct chan_case){ c2, CHAN_RECV, &r2, false };
	ms[1] = (struct chan_case){ c3, CHAN_RECV, &r3, false };
	w.cases = ms;
	w.ncases = 2;
	start_parked(&w);
	ws[0] = (struct chan_case){ c1, CHAN_SEND, &s1, false };
	ws[1] = (struct chan_case){ c3, CHAN_SEND, &s2, false };
	rc = chan_select(ws, 2, 0);
	ck_assert_msg(rc == 1, "select returned %d", rc);
	ck_assert(ws[1].ok);
	worker_join(&w);
	ck_assert_int_eq(w.rc, 1);
	ck_assert(ms[1].ok);
	ck_assert_int_eq(r3, 6);
	ck_assert_int_eq(r2, -1);
	chan_free(c1);
	chan_free(c2);
	chan_free(c3);
}
END_TEST

/*
 * Order: blocked senders and receivers are served first come, first
 * served, whatever call they block in; one sender's values arrive in order.
 */

static void
init_kind(struct worker *w, int kind, enum chan_op op, chan_t *ch, int val,
    struct chan_case *cs, chan_t *idle)
{
	switch (kind % 4) {
	case 0:
		worker_init(w, op == CHAN_SEND ? W_SEND : W_RECV, ch, val);
		break;
	case 1:
		worker_init(w, W_SELECT, NULL, val);
		cs[0] = (struct chan_case){ idle, op, &w->val, false };
		cs[1] = (struct chan_case){ ch, op, &w->val, false };
		w->cases = cs;
		w->ncases = 2;
		break;
	case 2:
		worker_init(w, op == CHAN_SEND ? W_SEND_TMO : W_RECV_TMO, ch,
		    val);
		w->tmo = 60000;
		break;
	default:
		worker_init(w, op == CHAN_SEND ? W_SEND_TMO : W_RECV_TMO, ch,
		    val);
		w->tmo = -1;
		break;
	}
}

static void
check_fifo_receivers(size_t cap)
{
	struct chan_case cs[6][2];
	struct worker w[6];
	chan_t *ch, *idle;
	int i;

	ch = mkchan(sizeof(int), cap);
	idle = mkchan(sizeof(int), 0);
	for (i = 0; i < 6; i++) {
		init_kind(&w[i], i, CHAN_RECV, ch, -1, cs[i], idle);
		start_parked(&w[i]);
	}
	for (i = 0; i < 6; i++)
		EXPECT_OK(chan_send(ch, &i));
	for (i = 0; i < 6; i++) {
		worker_join(&w[i]);
		ck_assert_msg(w[i].op == W_SELECT ? w[i].rc == 1 :
		    w[i].rc == 0, "receiver %d: rc %d", i, w[i].rc);
		ck_assert_msg(w[i].val == i,
		    "receiver %d (blocked %dth) got value %d", i, i + 1,
		    w[i].val);
	}
	chan_free(ch);
	chan_free(idle);
}

START_TEST(blocked_receivers_fifo_unbuffered)
{
	check_fifo_receivers(0);
}
END_TEST

START_TEST(blocked_receivers_fifo_buffered)
{
	check_fifo_receivers(4);
}
END_TEST

static void
check_fifo_senders(size_t cap)
{
	struct chan_case cs[6][2];
	struct worker w[6];
	chan_t *ch, *idle;
	size_t k;
	int i, v;

	ch = mkchan(sizeof(int), cap);
	idle = mkchan(sizeof(int), 0);

	/* A buffered channel starts full, so that the senders block. */
	for (k = 0; k < cap; k++) {
		v = 100 + (int)k;
		EXPECT_OK(chan_send(ch, &v));
	}
	for (i = 0; i < 6; i++) {
		init_kind(&w[i], i, CHAN_SEND, ch, i, cs[i], idle);
		start_parked(&w[i]);
	}
	for (k = 0; k < cap; k++) {
		EXPECT_OK(chan_recv(ch, &v));
		ck_assert_int_eq(v, 100 + (int)k);
	}
	for (i = 0; i < 6; i++) {
		EXPECT_OK(chan_recv(ch, &v));
		ck_assert_msg(v == i, "value %d came %dth", v, i + 1);
	}
	for (i = 0; i < 6; i++) {
		worker_join(&w[i]);
		ck_assert_msg(w[i].op == W_SELECT ? w[i].rc == 1 :
		    w[i].rc == 0, "sender %d: rc %d", i, w[i].rc);
	}
	EXPECT_ERR(chan_try_recv(ch, &v), EAGAIN);
	chan_free(ch);
	chan_free(idle);
}

START_TEST(blocked_senders_fifo_unbuffered)
{
	check_fifo_senders(0);
}
END_TEST

START_TEST(blocked_senders_fifo_buffered)
{
	check_fifo_senders(2);
}
END_TEST

#define ORDER_N	20000

struct order_sender {
	pthread_t	 thr;
	chan_t		*ch;
	int		 id;
	int		 rc;
};

static void *
order_sender_main(void *arg)
{
	struct order_sender *s = arg;
	int i, v;

	s->rc = 0;
	for (i = 0; i < ORDER_N && s->rc == 0; i++) {
		v = s->id * ORDER_N + i;
		s->rc = chan_send(s->ch, &v);
	}
	return NULL;
}

static void
check_per_sender_order(size_t cap)
{
	struct order_sender s[3];
	int next[3] = { 0, 0, 0 }, i, v, id;
	chan_t *ch;

	ch = mkchan(sizeof(int), cap);
	for (i = 0; i < 3; i++) {
		s[i].ch = ch;
		s[i].id = i;
		ck_assert_int_eq(pthread_create(&s[i].thr, NULL,
		    order_sender_main, &s[i]), 0);
	}
	for (i = 0; i < 3 * ORDER_N; i++) {
		EXPECT_OK(chan_recv(ch, &v));
		id = v / ORDER_N;
		ck_assert_msg(id >= 0 && id < 3, "bad value %d", v);
		ck_assert_msg(v % ORDER_N == next[id],
		    "sender %d: got %d, expected %d", id, v % ORDER_N,
		    next[id]);
		next[id]++;
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(s[i].thr, NULL), 0);
		ck_assert_int_eq(s[i].rc, 0);
	}
	EXPECT_ERR(chan_try_recv(ch, &v), EAGAIN);
	chan_free(ch);
}

START_TEST(per_sender_order_unbuffered)
{
	check_per_sender_order(0);
}
END_TEST

START_TEST(per_sender_order_buffered)
{
	check_per_sender_order(3);
}
END_TEST

/*
 * No overtaking: a thread blocked on a full buffered channel keeps its
 * turn against newcomers.  A receive frees a slot; the blocked sender's
 * value must take it, not the value of a newcomer that tries to send
 * meanwhile, with chan_try_send() again and again or with one chan_send()
 * that polls the ring without the lock.  Go refills the buffer from the
 * blocked sender under the channel's lock, so it never does this.  The
 * race is narrow: each round gives the newcomer a fresh chance.  Before
 * the fix, the chan_try_send() newcomer won within 2,000 rounds in every
 * run we tried, the chan_send() one in some runs.
 */

#define OVERTAKE_ROUNDS	2000

struct newcomer {
	pthread_t	 thr;
	chan_t		*ch;
	int		 val;
	bool		 blocking;	/* chan_send(), or chan_try_send(). */
	atomic_bool	 started;
	int		 err;		/* Other than EAGAIN, or 0. */
};

/* Sends val: once, or with tries until one succeeds. */
static void *
newcomer_main(void *arg)
{
	struct newcomer *n = arg;
	int rc;

	atomic_store(&n->started, true);
	do
		rc = n->blocking ? chan_send(n->ch, &n->val) :
		    chan_try_send(n->ch, &n->val);
	while (rc == -1 && errno == EAGAIN);
	n->err = rc == -1 ? errno : 0;
	return NULL;
}

/* Starts a newcomer and waits until it is about to make its first try. */
static void
newcomer_start(struct newcomer *n, chan_t *ch, bool blocking, int val)
{
	memset(n, 0, sizeof(*n));
	n->ch = ch;
	n->blocking = blocking;
	n->val = val;
	atomic_init(&n->started, false);
	ck_assert_int_eq(pthread_create(&n->thr, NULL, newcomer_main, n), 0);
	while (!atomic_load(&n->started))
		sched_yield();
}

static void
check_blocked_sender_keeps_turn(bool blocking)
{
	struct newcomer n;
	struct worker w;
	chan_t *ch;
	int round, v;

	for (round = 0; round < OVERTAKE_ROUNDS; round++) {
		ch = mkchan(sizeof(int), 1);
		v = 1;
		EXPECT_OK(chan_send(ch, &v));
		worker_init(&w, W_SEND, ch, 2);
		start_parked(&w);
		newcomer_start(&n, ch, blocking, 3);
		EXPECT_OK(chan_recv(ch, &v));
		ck_assert_int_eq(v, 1);
		EXPECT_OK(chan_recv(ch, &v));
		ck_assert_msg(v == 2, "round %d: the newcomer's %d came "
		    "before the blocked sender's 2", round, v);
		worker_join(&w);
		ck_assert_int_eq(w.rc, 0);
		EXPECT_OK(chan_recv(ch, &v));
		ck_assert_int_eq(v, 3);
		ck_assert_int_eq(pthread_join(n.thr, NULL), 0);
		ck_assert_int_eq(n.err, 0);
		chan_free(ch);
	}
}

START_TEST(blocked_sender_not_overtaken_by_try_send)
{
	check_blocked_sender_keeps_turn(false);
}
END_TEST

START_TEST(blocked_sender_not_overtaken_by_send)
{
	check_blocked_sender_keeps_turn(true);
}
END_TEST

/*
 * The memory model: plain, non-atomic data written before a send is
 * visible after the receive, and so on.  The values checked here would
 * pass on most machines even with a broken library; ThreadSanitizer is
 * what makes these tests bite, by reporting the data race.
 */

#define PAYLOAD_N	256
#define PAYLOAD_MSGS	200

static void *
payload_sender_main(void *arg)
{
	chan_t *ch = arg;
	int *p, i, k;

	for (k = 0; k < PAYLOAD_MSGS; k++) {
		if ((p = malloc(PAYLOAD_N * sizeof(*p))) == NULL)
			return (void *)1;
		for (i = 0; i < PAYLOAD_N; i++)
			p[i] = k * 1000 + i;
		if (chan_send(ch, &p) == -1) {
			free(p);
			return (void *)1;
		}
	}
	return NULL;
}

static void
check_payload_visible(size_t cap)
{
	pthread_t thr;
	chan_t *ch;
	void *res;
	int *p, i, k;

	ch = mkchan(sizeof(int *), cap);
	ck_assert_int_eq(pthread_create(&thr, NULL, payload_sender_main, ch),
	    0);
	for (k = 0; k < PAYLOAD_MSGS; k++) {
		EXPECT_OK(chan_recv(ch, &p));
		for (i = 0; i < PAYLOAD_N; i++)
			ck_assert_int_eq(p[i], k * 1000 + i);

		/* The receiver owns the object now, and writes to it. */
		memset(p, 0, PAYLOAD_N * sizeof(*p));
		free(p);
	}
	ck_assert_int_eq(pthread_join(thr, &res), 0);
	ck_assert_ptr_null(res);
	chan_free(ch);
}

START_TEST(send_happens_before_recv_unbuffered)
{
	check_payload_visible(0);
}
END_TEST

START_TEST(send_happens_before_recv_buffered)
{
	check_payload_visible(8);
}
END_TEST

static int mem_plain;

static void *
plain_writer_main(void *arg)
{
	chan_t *ch = arg;
	int v = 1;

	/* Written after the thread started, ordered only by the channel. */
	mem_plain = 1234;
	if (chan_send(ch, &v) == -1)
		return (void *)1;
	return NULL;
}

START_TEST(plain_write_before_send_visible_after_recv)
{
	pthread_t thr;
	chan_t *ch;
	void *res;
	int v;

	ch = mkchan(sizeof(int), 0);
	ck_assert_int_eq(pthread_create(&thr, NULL, plain_writer_main, ch), 0);
	EXPECT_OK(chan_recv(ch, &v));
	ck_assert_int_eq(mem_plain, 1234);
	ck_assert_int_eq(pthread_join(thr, &res), 0);
	ck_assert_ptr_null(res);
	chan_free(ch);
}
END_TEST

START_TEST(recv_happens_before_unbuffered_send_completes)
{
	static int marker;
	struct worker w;
	chan_t *u;
	int v;

	/* The receiver is the main thread here, and the receive comes late. */
	u = mkchan(sizeof(int), 0);
	worker_init(&w, W_SEND, u, 3);
	w.peek = &marker;
	worker_start(&w);
	marker = 99;
	EXPECT_OK(chan_recv(u, &v));
	worker_join(&w);
	ck_assert_int_eq(w.peeked, 99);
	chan_free(u);
}
END_TEST

START_TEST(close_happens_before_closed_recv)
{
	static int marker;
	struct worker w;
	chan_t *b;

	b = mkchan(sizeof(int), 2);
	worker_init(&w, W_RECV, b, -1);
	w.peek = &marker;
	start_parked(&w);
	marker = 4321;
	EXPECT_OK(chan_close(b));
	worker_join(&w);
	ck_assert_int_eq(w.rc, -1);
	ck_assert_int_eq(w.err, EPIPE);
	ck_assert_int_eq(w.peeked, 4321);
	chan_free(b);
}
END_TEST

struct free_sender {
	pthread_t	 thr;
	chan_t		*ch;
	int		 val;
};

static void *
free_sender_main(void *arg)
{
	struct free_sender *fs = arg;

	(void)chan_send(fs->ch, &fs->val);
	return NULL;
}

/*
 * A receiver that has every value it waits for may free the channel at
 * once, though a sender may not have returned from chan_send() yet: a
 * send can hand its value over and still look for waiters or hold the
 * lock, and with diagnostics on a woken sender's blocked time is counted
 * on the channel.  The sanitizer builds catch any touch of the freed
 * channel.
 */
START_TEST(receiver_frees_after_last_value)
{
	static const size_t caps[] = { 0, 1, 4, 128 };
	struct free_sender fs[4];
	chan_t *ch;
	int round, i, v, sum;

	for (round = 0; round < 400; round++) {
		if (round == 200)
			chan_debug(true);
		ch = mkchan(sizeof(int), caps[round % 4]);
		for (i = 0; i < 4; i++) {
			fs[i].ch = ch;
			fs[i].val = i + 1;
			ck_assert_int_eq(pthread_create(&fs[i].thr, NULL,
			    free_sender_main, &fs[i]), 0);
		}
		for (i = sum = 0; i < 4; i++) {
			EXPECT_OK(chan_recv(ch, &v));
			sum += v;
		}
		chan_free(ch);
		ck_assert_int_eq(sum, 1 + 2 + 3 + 4);
		for (i = 0; i < 4; i++)
			ck_assert_int_eq(pthread_join(fs[i].thr, NULL), 0);
	}
}
END_TEST

/*
 * The same for a sender blocked in a select, with a second case on the
 * same channel and one on another: once its case has fired, the select
 * must not come back to the channel the receiver has freed.
 */
START_TEST(receiver_frees_after_select_sent)
{
	static const size_t caps[] = { 0, 1, 4 };
	struct chan_case cs[3];
	struct worker w;
	chan_t *ch, *other;
	int i, v, va = 1, vb = 2, x = -1;
	size_t c;

	for (c = 0; c < 3; c++) {
		ch = mkchan(sizeof(int), caps[c]);
		other = mkchan(sizeof(int), 0);
		for (i = 0; i < (int)caps[c]; i++)
			EXPECT_OK(chan_send(ch, &x));
		worker_init(&w, W_SELECT, NULL, 0);
		cs[0] = (struct chan_case){ ch, CHAN_SEND, &va, false };
		cs[1] = (struct chan_case){ other, CHAN_RECV, &v, false };
		cs[2] = (struct chan_case){ ch, CHAN_SEND, &vb, false };
		w.cases = cs;
		w.ncases = 3;
		w.tmo = 60000;
		start_parked(&w);
		for (i = 0; i <= (int)caps[c]; i++)
			EXPECT_OK(chan_recv(ch, &v));
		chan_free(ch);
		ck_assert(v == 1 || v == 2);
		worker_join(&w);
		ck_assert_int_eq(w.rc, v == 1 ? 0 : 2);
		chan_free(other);
	}
}
END_TEST

/* For main.c: the suites of this file, a test case per time limit. */
Suite *
chan_suite(void)
{
	Suite *s = suite_create("chan");
	TCase *tc = tcase_create("chan");

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, new_rejects_zero_elem_size);
	tcase_add_test(tc, new_rejects_overflowing_buffer);
	tcase_add_test(tc, len_cap_closed);
	tcase_add_test(tc, len_of_unbuffered_is_zero_with_blocked_sender);
	tcase_add_test(tc, unbuffered_send_returns_after_receive);
	tcase_add_test(tc, unbuffered_recv_has_value_when_send_returns);
	tcase_add_test(tc, unbuffered_try_ops);
	tcase_add_test(tc, buffered_fifo_and_try_when_full_or_empty);
	tcase_add_test(tc, buffered_fifo_across_wraparound);
	tcase_add_test(tc, buffered_send_blocks_while_full);
	tcase_add_test(tc, buffered_recv_blocks_while_empty);
	tcase_add_test(tc, values_are_copied_by_value);
	tcase_add_test(tc, one_byte_elements);
	tcase_add_test(tc, recv_into_null_discards);
	tcase_add_test(tc, free_with_buffered_values_and_null);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
chan_close_suite(void)
{
	Suite *s = suite_create("chan_close");
	TCase *tc = tcase_create("chan_close");

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, drains_buffered_values_then_epipe);
	tcase_add_test(tc, unbuffered_recv_on_closed_epipe);
	tcase_add_test(tc, send_on_closed_epipe_and_not_stored);
	tcase_add_test(tc, full_closed_channel_send_is_epipe);
	tcase_add_test(tc, close_of_closed_and_of_null);
	tcase_add_test(tc, wakes_blocked_senders_unbuffered);
	tcase_add_test(tc, wakes_blocked_sender_buffered);
	tcase_add_test(tc, wakes_blocked_receivers_unbuffered);
	tcase_add_test(tc, wakes_blocked_receivers_buffered);
	tcase_add_test(tc, wakes_blocked_select_sender);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
chan_null_suite(void)
{
	Suite *s = suite_create("chan_null");
	TCase *tc = tcase_create("chan_null");

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, untimed_ops_edeadlk);
	tcase_add_test(tc, try_ops_eagain);
	tcase_add_test(tc, timed_ops_wait_out_timeout);
	tcase_add_test(tc, accessors);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
chan_timeout_suite(void)
{
	Suite *s = suite_create("chan_timeout");
	TCase *tc = tcase_create("chan_timeout");

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, recv_times_out);
	tcase_add_test(tc, send_times_out_and_is_not_delivered);
	tcase_add_test(tc, zero_timeout_is_a_try);
	tcase_add_test(tc, negative_timeout_waits_forever);
	tcase_add_test(tc, completes_before_deadline);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
chan_select_suite(void)
{
	Suite *s = suite_create("chan_select");
	TCase *tc = tcase_create("chan_select");

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, performs_exactly_one_of_two_ready_recvs);
	tcase_add_test(tc, performs_exactly_one_of_send_and_recv);
	tcase_add_test(tc, picks_the_only_ready_case);
	tcase_add_test(tc, recv_on_closed_is_ready_zero_filled);
	tcase_add_test(tc, recv_on_closed_drains_buffer_first);
	tcase_add_test(tc, send_on_closed_is_ready_nothing_sent);
	tcase_add_test(tc, ok_true_when_a_value_moves);
	tcase_add_test(tc, recv_case_with_null_elem_discards);
	tcase_add_test(tc, zero_timeout_eagain_when_nothing_ready);
	tcase_add_test(tc, positive_timeout_etimedout);
	tcase_add_test(tc, all_null_forever_edeadlk);
	tcase_add_test(tc, null_cases_array_einval);
	tcase_add_test(tc, send_of_null_elem_einval);
	tcase_add_test(tc, huge_case_count_enomem);
	tcase_add_test(tc, uniform_among_four_ready_recvs);
	tcase_add_test(tc, uniform_among_mixed_sends_and_recvs);
	tcase_add_test(tc, uniform_regardless_of_unready_neighbours);
	tcase_add_test(tc, many_cases_beyond_64);
	tcase_add_test(tc, same_channel_in_two_recv_cases);
	tcase_add_test(tc, same_channel_send_and_recv_buffered);
	tcase_add_test(tc, unbuffered_send_and_recv_never_meet_each_other);
	tcase_add_test(tc, parked_select_picks_among_cases_on_one_channel);
	tcase_add_test(tc, send_case_meets_blocked_receiver);
	tcase_add_test(tc, recv_case_meets_blocked_sender);
	tcase_add_test(tc, blocked_select_woken_by_send);
	tcase_add_test(tc, blocked_select_send_woken_by_recv);
	tcase_add_test(tc, select_meets_select);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
chan_order_suite(void)
{
	Suite *s = suite_create("chan_order");
	TCase *tc;

	tc = tcase_create("chan_order");
	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, blocked_receivers_fifo_unbuffered);
	tcase_add_test(tc, blocked_receivers_fifo_buffered);
	tcase_add_test(tc, blocked_senders_fifo_unbuffered);
	tcase_add_test(tc, blocked_senders_fifo_buffered);
	tcase_add_test(tc, blocked_sender_not_overtaken_by_try_send);
	tcase_add_test(tc, blocked_sender_not_overtaken_by_send);
	suite_add_tcase(s, tc);

	tc = tcase_create("chan_order_slow");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, per_sender_order_unbuffered);
	tcase_add_test(tc, per_sender_order_buffered);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
chan_mem_suite(void)
{
	Suite *s = suite_create("chan_mem");
	TCase *tc = tcase_create("chan_mem");

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_test(tc, send_happens_before_recv_unbuffered);
	tcase_add_test(tc, send_happens_before_recv_buffered);
	tcase_add_test(tc, plain_write_before_send_visible_after_recv);
	tcase_add_test(tc, recv_happens_before_unbuffered_send_completes);
	tcase_add_test(tc, close_happens_before_closed_recv);
	tcase_add_test(tc, receiver_frees_after_last_value);
	tcase_add_test(tc, receiver_frees_after_select_sent);
	suite_add_tcase(s, tc);
	return s;
}
