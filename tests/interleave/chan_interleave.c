/*
 * chan_interleave.c: channel interleavings that the public API cannot
 * force, because they need a lock-free send or receive paused between
 * claiming a ring slot and filling or emptying it.  This program includes
 * libchan's sources themselves, with memcpy() hooked to park the calling
 * thread there when asked, and reads the channel's queue counts to know
 * when other threads have queued.  Each test failed before the fix it
 * names.
 */

#define _GNU_SOURCE

#include <check.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <string.h>

static _Thread_local bool pause_here;
static sem_t paused, resumed;

/* memcpy(), parking the thread first if it asked to be paused. */
static void *
hooked_memcpy(void *dst, const void *src, size_t n)
{
	if (pause_here) {
		pause_here = false;
		sem_post(&paused);
		while (sem_wait(&resumed) != 0)
			;
	}
	return memcpy(dst, src, n);
}

#define memcpy(dst, src, n)	hooked_memcpy(dst, src, n)
#include "../../src/chan.c"
#include "../../src/chan_debug.c"
#include "../../src/chan_park.c"
#include "../../src/chan_ring.c"
#undef memcpy

#define TLIMIT	10

struct op {
	pthread_t	 thr;
	chan_t		*ch;
	bool		 send;
	bool		 pause;		/* Park inside the ring operation. */
	int		 val;		/* Sent, or received into. */
	int		 rc;
	int		 err;
};

static void *
op_main(void *arg)
{
	struct op *o = arg;

	pause_here = o->pause;
	o->rc = o->send ? chan_send(o->ch, &o->val) : chan_recv(o->ch,
	    &o->val);
	o->err = o->rc < 0 ? errno : 0;
	return NULL;
}

static void
op_start(struct op *o, chan_t *ch, bool send, int val, bool pause)
{
	memset(o, 0, sizeof(*o));
	o->ch = ch;
	o->send = send;
	o->val = val;
	o->pause = pause;
	ck_assert_int_eq(pthread_create(&o->thr, NULL, op_main, o), 0);
	if (pause)
		while (sem_wait(&paused) != 0)
			;
}

static void
op_join(struct op *o)
{
	ck_assert_int_eq(pthread_join(o->thr, NULL), 0);
}

/* Waits until n threads are queued on q. */
static void
wait_queued(struct waitq *q, unsigned n)
{
	while (atomic_load(&q->n) < n)
		sched_yield();
}

static void
setup(void)
{
	sem_init(&paused, 0, 0);
	sem_init(&resumed, 0, 0);
}

/*
 * A send paused mid-slot, then two receivers and a sender queue.  When the
 * paused send finishes, its value goes to the first receiver and the
 * queued sender's into the ring: that one must reach the second receiver
 * too, not sit there while it waits for ever.
 */
START_TEST(settle_serves_receivers_after_senders)
{
	struct op f, r1, r2, s;
	chan_t *ch = chan_new(sizeof(int), 1);

	ck_assert_ptr_nonnull(ch);
	op_start(&f, ch, true, 1, true);
	op_start(&r1, ch, false, 0, false);
	wait_queued(&ch->recvq, 1);
	op_start(&r2, ch, false, 0, false);
	wait_queued(&ch->recvq, 2);
	op_start(&s, ch, true, 2, false);
	wait_queued(&ch->sendq, 1);
	sem_post(&resumed);
	op_join(&f);
	op_join(&s);
	op_join(&r1);
	op_join(&r2);
	ck_assert_int_eq(f.rc, 0);
	ck_assert_int_eq(s.rc, 0);
	ck_assert_int_eq(r1.rc, 0);
	ck_assert_int_eq(r2.rc, 0);
	ck_assert_int_eq(r1.val, 1);
	ck_assert_int_eq(r2.val, 2);
	chan_free(ch);
}
END_TEST

/*
 * A full ring's only value is being read; a sender queues for room, then
 * a receiver for a value.  A second sender must queue behind the first,
 * not hand its value straight to the receiver.
 */
START_TEST(handoff_does_not_pass_a_queued_sender)
{
	struct op g, s1, r, s2;
	chan_t *ch = chan_new(sizeof(int), 1);
	int v = 0;

	ck_assert_ptr_nonnull(ch);
	ck_assert_int_eq(chan_send(ch, &v), 0);
	op_start(&g, ch, false, -1, true);
	op_start(&s1, ch, true, 1, false);
	wait_queued(&ch->sendq, 1);
	op_start(&r, ch, false, -1, false);
	wait_queued(&ch->recvq, 1);
	op_start(&s2, ch, true, 2, false);
	wait_queued(&ch->sendq, 2);
	sem_post(&resumed);
	op_join(&g);
	op_join(&r);
	op_join(&s1);
	ck_assert_int_eq(g.val, 0);
	ck_assert_int_eq(r.val, 1);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 2);
	op_join(&s2);
	chan_free(ch);
}
END_TEST

/*
 * A send claims its slot, then the channel is closed.  Receivers must wait
 * for the value still being written instead of reporting the channel
 * drained; the one that does not get it then reports it closed.
 */
START_TEST(close_waits_for_a_send_in_flight)
{
	struct op f, r1, r2;
	chan_t *ch = chan_new(sizeof(int), 4);

	ck_assert_ptr_nonnull(ch);
	op_start(&f, ch, true, 7, true);
	ck_assert_int_eq(chan_close(ch), 0);
	op_start(&r1, ch, false, -1, false);
	wait_queued(&ch->recvq, 1);
	op_start(&r2, ch, false, -1, false);
	wait_queued(&ch->recvq, 2);
	sem_post(&resumed);
	op_join(&f);
	op_join(&r1);
	op_join(&r2);
	ck_assert_int_eq(f.rc, 0);
	ck_assert_int_eq(r1.rc, 0);
	ck_assert_int_eq(r1.val, 7);
	ck_assert_int_eq(r2.rc, -1);
	ck_assert_int_eq(r2.err, EPIPE);
	chan_free(ch);
}
END_TEST

/*
 * The same with three receivers queued in turn: the close must not make
 * them queue again in another order; the first gets the value.
 */
START_TEST(close_keeps_receivers_in_order)
{
	struct op f, r[3];
	chan_t *ch = chan_new(sizeof(int), 4);
	unsigned i;

	ck_assert_ptr_nonnull(ch);
	op_start(&f, ch, true, 7, true);
	for (i = 0; i < 3; i++) {
		op_start(&r[i], ch, false, -1, false);
		wait_queued(&ch->recvq, i + 1);
	}
	ck_assert_int_eq(chan_close(ch), 0);
	sem_post(&resumed);
	op_join(&f);
	for (i = 0; i < 3; i++)
		op_join(&r[i]);
	ck_assert_int_eq(r[0].rc, 0);
	ck_assert_int_eq(r[0].val, 7);
	for (i = 1; i < 3; i++) {
		ck_assert_int_eq(r[i].rc, -1);
		ck_assert_int_eq(r[i].err, EPIPE);
		ck_assert_int_eq(r[i].val, 0);
	}
	chan_free(ch);
}
END_TEST

/*
 * A newcomer's chan_try_recv() must not take a value that a queued
 * receiver is due.  A send is paused mid-slot; a receiver queues for its
 * value; a newcomer keeps trying to receive while the send finishes and
 * hands the value over.  The race is narrow, so it runs many rounds;
 * before the fix the newcomer won some in every run.
 */

#define OVERTAKE_ROUNDS	300

struct tryer {
	pthread_t	 thr;
	chan_t		*ch;
	atomic_bool	 started;
	atomic_bool	 stop;
	int		 got;		/* The value received, or -1. */
};

/*
 * Tries to receive until told to stop.  A value received was the queued
 * receiver's: closing the channel then lets that receiver return.
 */
static void *
tryer_main(void *arg)
{
	struct tryer *t = arg;

	atomic_store(&t->started, true);
	while (!atomic_load(&t->stop))
		if (chan_try_recv(t->ch, &t->got) == 0) {
			chan_close(t->ch);
			break;
		}
	return NULL;
}

START_TEST(queued_receiver_not_overtaken_by_try_recv)
{
	struct op f, r;
	struct tryer t;
	chan_t *ch;
	int round;

	for (round = 0; round < OVERTAKE_ROUNDS; round++) {
		ch = chan_new(sizeof(int), 1);
		ck_assert_ptr_nonnull(ch);
		op_start(&f, ch, true, 7, true);
		op_start(&r, ch, false, -1, false);
		wait_queued(&ch->recvq, 1);
		memset(&t, 0, sizeof(t));
		t.ch = ch;
		t.got = -1;
		ck_assert_int_eq(pthread_create(&t.thr, NULL, tryer_main, &t),
		    0);
		while (!atomic_load(&t.started))
			sched_yield();
		sem_post(&resumed);
		op_join(&f);
		op_join(&r);
		atomic_store(&t.stop, true);
		ck_assert_int_eq(pthread_join(t.thr, NULL), 0);
		ck_assert_int_eq(f.rc, 0);
		ck_assert_msg(r.rc == 0 && r.val == 7, "round %d: the newcomer "
		    "took %d, the queued receiver got %d (%s)", round, t.got,
		    r.val, strerror(r.err));
		chan_free(ch);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chan_interleave");
	TCase *tc = tcase_create("chan_interleave");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, TLIMIT);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, settle_serves_receivers_after_senders);
	tcase_add_test(tc, handoff_does_not_pass_a_queued_sender);
	tcase_add_test(tc, close_waits_for_a_send_in_flight);
	tcase_add_test(tc, close_keeps_receivers_in_order);
	tcase_add_test(tc, queued_receiver_not_overtaken_by_try_recv);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
