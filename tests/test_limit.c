/* test_limit.c: unit tests of the rate and per-host limits, limit.h. */

#define _POSIX_C_SOURCE 200809L

#include <check.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "chan.h"
#include "../src/limit.h"
#include "suites.h"

/* Time limit of every test, in seconds: a wait that never ends fails. */
#define LIM_TLIMIT	20

/* Reserves a start at now and expects it at want. */
static void
expect_slot(struct limit_rate *lr, double now, double want)
{
	double got = limit_rate_reserve(lr, now);

	ck_assert_msg(got > want - 1e-9 && got < want + 1e-9,
	    "reserved at %f for %f, want %f", got, now, want);
}

START_TEST(rate_spaces_starts)
{
	struct limit_rate lr;

	ck_assert_int_eq(limit_rate_init(&lr, 4), 0);
	expect_slot(&lr, 10.0, 10.0);
	expect_slot(&lr, 10.0, 10.25);
	expect_slot(&lr, 10.1, 10.5);
	/* A caller that comes late starts at once ... */
	expect_slot(&lr, 20.0, 20.0);
	/* ... and the idle time is not saved up for a burst. */
	expect_slot(&lr, 20.0, 20.25);
	limit_rate_destroy(&lr);
}
END_TEST

START_TEST(rate_slow_units)
{
	struct limit_rate lr;

	ck_assert_int_eq(limit_rate_init(&lr, 0.5), 0);
	expect_slot(&lr, 0, 0);
	expect_slot(&lr, 0, 2);
	limit_rate_destroy(&lr);
	errno = 0;
	ck_assert_int_eq(limit_rate_init(&lr, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

struct lim_rate_arg {
	struct limit_rate	*lr;
	double			 got[100];
};

static void *
lim_rate_thread(void *p)
{
	struct lim_rate_arg *a = p;

	for (int i = 0; i < 100; i++)
		a->got[i] = limit_rate_reserve(a->lr, 0);
	return NULL;
}

/* Threads that reserve at once get distinct slots, none skipped. */
START_TEST(rate_reservations_are_distinct_across_threads)
{
	static struct lim_rate_arg args[4];
	static bool seen[400];
	struct limit_rate lr;
	pthread_t t[4];

	ck_assert_int_eq(limit_rate_init(&lr, 1), 0);
	for (int i = 0; i < 4; i++) {
		args[i].lr = &lr;
		ck_assert_int_eq(pthread_create(&t[i], NULL, lim_rate_thread,
		    &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 100; j++) {
			double v = args[i].got[j];
			int k = (int)(v + 0.5);

			ck_assert_msg(k >= 0 && k < 400 && v == (double)k,
			    "slot %f", v);
			ck_assert_msg(!seen[k], "slot %d given twice", k);
			seen[k] = true;
		}
	limit_rate_destroy(&lr);
}
END_TEST

START_TEST(hosts_cap_each_host)
{
	struct limit_hosts *lh = limit_hosts_new(2);
	chan_t *done = chan_new(1, 0), *a, *b, *c, *x;

	ck_assert_ptr_nonnull(lh);
	ck_assert_ptr_nonnull(done);
	a = limit_hosts_acquire(lh, "example.com", done);
	b = limit_hosts_acquire(lh, "EXAMPLE.com", done);
	ck_assert_ptr_nonnull(a);
	ck_assert_msg(a == b, "host names differ only in case");
	/* Another host has slots of its own. */
	x = limit_hosts_acquire(lh, "other.test", done);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_ne(x, a);
	/* Both of example.com's are taken: only a closed done ends it. */
	ck_assert_int_eq(chan_close(done), 0);
	errno = 0;
	c = limit_hosts_acquire(lh, "Example.Com", done);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(errno, ECANCELED);
	limit_hosts_release(a);
	limit_hosts_release(b);
	limit_hosts_release(x);
	chan_free(done);
	limit_hosts_free(lh);
}
END_TEST

START_TEST(hosts_closed_done_takes_no_free_slot)
{
	struct limit_hosts *lh = limit_hosts_new(3);
	chan_t *done = chan_new(1, 0);

	ck_assert_int_eq(chan_close(done), 0);
	errno = 0;
	ck_assert_ptr_null(limit_hosts_acquire(lh, "h", done));
	ck_assert_int_eq(errno, ECANCELED);
	chan_free(done);
	limit_hosts_free(lh);
}
END_TEST

struct lim_waiter {
	struct limit_hosts	*lh;
	chan_t			*done;
	chan_t			*report;	/* int: 1 got a slot, 0 not */
	chan_t			*slot;
	int			 err;
};

static void *
lim_wait_thread(void *p)
{
	struct lim_waiter *w = p;
	int got;

	w->slot = limit_hosts_acquire(w->lh, "busy.test", w->done);
	w->err = w->slot == NULL ? errno : 0;
	got = w->slot != NULL;
	(void)chan_send(w->report, &got);
	return NULL;
}

/* A taker waits while the host is full and goes on when a slot frees. */
START_TEST(hosts_release_wakes_a_waiter)
{
	struct lim_waiter w = { 0 };
	chan_t *held;
	pthread_t t;
	int got;

	w.lh = limit_hosts_new(1);
	w.done = chan_new(1, 0);
	w.report = chan_new(sizeof(int), 1);
	held = limit_hosts_acquire(w.lh, "busy.test", w.done);
	ck_assert_ptr_nonnull(held);
	ck_assert_int_eq(pthread_create(&t, NULL, lim_wait_thread, &w), 0);
	/* Still waiting a while later: the one slot is ours. */
	ck_assert_int_eq(chan_recv_timeout(w.report, &got, 200), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	limit_hosts_release(held);
	ck_assert_int_eq(chan_recv_timeout(w.report, &got, 10000), 0);
	ck_assert_int_eq(got, 1);
	pthread_join(t, NULL);
	ck_assert_ptr_eq(w.slot, held);
	limit_hosts_release(w.slot);
	chan_free(w.report);
	chan_free(w.done);
	limit_hosts_free(w.lh);
}
END_TEST

/* Closing done, as fetch_cancel() does, ends the wait at once. */
START_TEST(hosts_closing_done_cancels_a_waiter)
{
	struct lim_waiter w = { 0 };
	chan_t *held;
	pthread_t t;
	int got;

	w.lh = limit_hosts_new(1);
	w.done = chan_new(1, 0);
	w.report = chan_new(sizeof(int), 1);
	held = limit_hosts_acquire(w.lh, "busy.test", w.done);
	ck_assert_int_eq(pthread_create(&t, NULL, lim_wait_thread, &w), 0);
	ck_assert_int_eq(chan_recv_timeout(w.report, &got, 100), -1);
	ck_assert_int_eq(chan_close(w.done), 0);
	ck_assert_int_eq(chan_recv_timeout(w.report, &got, 10000), 0);
	ck_assert_int_eq(got, 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.err, ECANCELED);
	limit_hosts_release(held);
	chan_free(w.report);
	chan_free(w.done);
	limit_hosts_free(w.lh);
}
END_TEST

struct lim_stress {
	struct limit_hosts	*lh;
	atomic_int		 in_use;
	atomic_int		 max_in_use;
};

static void *
lim_stress_thread(void *p)
{
	struct lim_stress *s = p;

	for (int i = 0; i < 2000; i++) {
		chan_t *slot = limit_hosts_acquire(s->lh, "h", NULL);
		int now, max;

		if (slot == NULL)
			return NULL;
		now = atomic_fetch_add(&s->in_use, 1) + 1;
		max = atomic_load(&s->max_in_use);
		while (now > max &&
		    !atomic_compare_exchange_weak(&s->max_in_use, &max, now))
			;
		atomic_fetch_sub(&s->in_use, 1);
		limit_hosts_release(slot);
	}
	return NULL;
}

/* Never more holders than slots, however the threads interleave. */
START_TEST(hosts_never_exceed_the_cap)
{
	static struct lim_stress s;
	pthread_t t[8];

	s.lh = limit_hosts_new(3);
	atomic_init(&s.in_use, 0);
	atomic_init(&s.max_in_use, 0);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, lim_stress_thread,
		    &s), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ck_assert_msg(atomic_load(&s.max_in_use) <= 3 &&
	    atomic_load(&s.max_in_use) >= 1, "%d held at once",
	    atomic_load(&s.max_in_use));
	limit_hosts_free(s.lh);
}
END_TEST

/* Enough hosts to grow the table several times; each keeps its slots. */
START_TEST(hosts_many)
{
	struct limit_hosts *lh = limit_hosts_new(1);
	chan_t *done = chan_new(1, 0), *slots[1000];
	char name[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.test", i);
		slots[i] = limit_hosts_acquire(lh, name, done);
		ck_assert_msg(slots[i] != NULL, "host %d", i);
	}
	/* Each host has its own slot, taken. */
	for (int i = 0; i < 1000; i++) {
		ck_assert_msg(chan_len(slots[i]) == 1, "host %d", i);
		ck_assert_msg(chan_cap(slots[i]) == 1, "host %d", i);
		limit_hosts_release(slots[i]);
		ck_assert_msg(chan_len(slots[i]) == 0, "host %d", i);
	}
	/* After the table grew, a host still finds its own slots. */
	for (int i = 0; i < 1000; i += 37) {
		chan_t *again;

		snprintf(name, sizeof(name), "HOST%d.test", i);
		again = limit_hosts_acquire(lh, name, done);
		ck_assert_msg(again == slots[i], "host %d", i);
		limit_hosts_release(again);
	}
	chan_free(done);
	limit_hosts_free(lh);
}
END_TEST

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
limit_suite(void)
{
	Suite *s = suite_create("limit");
	TCase *tc = tcase_create("limit");

	tcase_set_timeout(tc, LIM_TLIMIT);
	tcase_add_test(tc, rate_spaces_starts);
	tcase_add_test(tc, rate_slow_units);
	tcase_add_test(tc, rate_reservations_are_distinct_across_threads);
	tcase_add_test(tc, hosts_cap_each_host);
	tcase_add_test(tc, hosts_closed_done_takes_no_free_slot);
	tcase_add_test(tc, hosts_release_wakes_a_waiter);
	tcase_add_test(tc, hosts_closing_done_cancels_a_waiter);
	tcase_add_test(tc, hosts_never_exceed_the_cap);
	tcase_add_test(tc, hosts_many);
	suite_add_tcase(s, tc);
	return s;
}
