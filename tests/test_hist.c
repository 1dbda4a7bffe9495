/* test_hist.c: unit tests of the log-linear histogram, hist.h. */

#define _POSIX_C_SOURCE 200809L

#include <check.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/hist.h"
#include "suites.h"

/* A deterministic generator, so that a failure can be reproduced. */
static uint64_t
lcg(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

static int
by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Adds v[0..n) to a histogram of the given precision and checks every
 * figure against the exact one from the sorted values: min, max and mean
 * exactly, each quantile within the relative error 2^-bits of the value
 * of nearest rank.
 */
static void
check_against_exact(int bits, uint64_t *v, size_t n)
{
	static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9,
	    0.99, 0.999, 1 };
	struct hist *h = hist_new(bits);
	double sum = 0, err = ldexp(1, -bits);
	uint64_t exact, got;
	size_t i, rank;

	ck_assert_ptr_nonnull(h);
	for (i = 0; i < n; i++) {
		hist_add(h, v[i]);
		sum += (double)v[i];
	}
	qsort(v, n, sizeof(v[0]), by_value);
	ck_assert_uint_eq(hist_count(h), n);
	ck_assert_uint_eq(hist_min(h), v[0]);
	ck_assert_uint_eq(hist_max(h), v[n - 1]);
	ck_assert_msg(fabs(hist_mean(h) - sum / (double)n) <=
	    1e-9 * sum / (double)n, "mean %f, want %f", hist_mean(h),
	    sum / (double)n);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		rank = (size_t)ceil(qs[i] * (double)n);
		exact = v[(rank < 1 ? 1 : rank) - 1];
		got = hist_quantile(h, qs[i]);
		ck_assert_msg(fabs((double)got - (double)exact) <=
		    err * (double)exact, "%d bits, q %g of %zu: got %llu, "
		    "exact %llu", bits, qs[i], n, (unsigned long long)got,
		    (unsigned long long)exact);
	}
	hist_free(h);
}

START_TEST(quantiles_within_the_relative_error)
{
	static const int bits[] = { 5, 10 };
	size_t n = 100000, i, b;
	uint64_t *v = malloc(n * sizeof(*v)), seed = 1;

	ck_assert_ptr_nonnull(v);
	for (b = 0; b < 2; b++) {
		/* Uniform from 0 to 2 s. */
		for (i = 0; i < n; i++)
			v[i] = lcg(&seed) % 2000000;
		check_against_exact(bits[b], v, n);
		/* Spread over nine orders of magnitude, 1 us to 19 hours. */
		for (i = 0; i < n; i++)
			v[i] = (uint64_t)exp((double)(lcg(&seed) % 1000000) /
			    1000000 * log((double)HIST_MAX_US - 1));
		check_against_exact(bits[b], v, n);
		/* A few values: each quantile is one of them. */
		for (i = 0; i < 7; i++)
			v[i] = 1000 + 997 * i * i;
		check_against_exact(bits[b], v, 7);
		/* One value. */
		v[0] = 123456;
		check_against_exact(bits[b], v, 1);
	}
	free(v);
}
END_TEST

/* The 100 delays of the end-to-end test, 10 ms to 1 s, exactly. */
START_TEST(known_delays)
{
	struct hist *h = hist_new(10);
	uint64_t us, n, seen = 0;
	size_t pos = 0, i;

	ck_assert_ptr_nonnull(h);
	for (i = 1; i <= 100; i++)
		hist_add(h, i * 10000);
	ck_assert_uint_eq(hist_min(h), 10000);
	ck_assert_uint_eq(hist_max(h), 1000000);
	ck_assert(fabs(hist_mean(h) - 505000) < 1e-6);
	ck_assert(llabs((long long)hist_quantile(h, 0.5) - 500000) <= 488);
	ck_assert(llabs((long long)hist_quantile(h, 0.9) - 900000) <= 878);
	ck_assert(llabs((long long)hist_quantile(h, 0.99) - 990000) <= 966);
	/* Each delay has a bucket of its own, in order. */
	for (i = 1; hist_next(h, &pos, &us, &n); i++) {
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(fabs((double)us - (double)i * 10000) <=
		    (double)i * 10000 / 1024, "bucket %zu stands for %llu", i,
		    (unsigned long long)us);
		seen += n;
	}
	ck_assert_uint_eq(seen, 100);
	ck_assert(!hist_next(h, &pos, &us, &n));
	hist_free(h);
}
END_TEST

/* Small values are exact; huge ones share the last bucket. */
START_TEST(extremes)
{
	struct hist *h = hist_new(10);

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(hist_quantile(h, 0.5), 0);
	ck_assert_uint_eq(hist_min(h), 0);
	ck_assert(hist_mean(h) == 0);
	hist_add(h, 0);
	hist_add(h, 1023);
	ck_assert_uint_eq(hist_quantile(h, 0.5), 0);
	ck_assert_uint_eq(hist_quantile(h, 1), 1023);
	hist_add(h, UINT64_MAX / 2);
	hist_add(h, HIST_MAX_US * 4);
	ck_assert_uint_eq(hist_max(h), UINT64_MAX / 2);
	ck_assert(hist_quantile(h, 0.75) >= HIST_MAX_US);
	hist_reset(h);
	ck_assert_uint_eq(hist_count(h), 0);
	hist_add(h, 5);
	ck_assert_uint_eq(hist_min(h), 5);
	ck_assert_uint_eq(hist_max(h), 5);
	hist_free(h);
	errno = 0;
	ck_assert_ptr_null(hist_new(1));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(hist_new(17));
}
END_TEST

/* Ten million values later, the histogram holds what it held empty. */
START_TEST(memory_does_not_grow)
{
	struct hist *h = hist_new(10);
	size_t bytes, i;
	uint64_t seed = 7;

	ck_assert_ptr_nonnull(h);
	bytes = hist_bytes(h);
	/* 14337 counters: 1024 exact values, then 512 a power of two. */
	ck_assert_msg(bytes < 130 * 1024, "%zu bytes", bytes);
	for (i = 0; i < 10000000; i++)
		hist_add(h, lcg(&seed) % (HIST_MAX_US * 2));
	ck_assert_uint_eq(hist_count(h), 10000000);
	ck_assert_uint_eq(hist_bytes(h), bytes);
	hist_free(h);
}
END_TEST

Suite *
hist_suite(void)
{
	Suite *s = suite_create("hist");
	TCase *tc = tcase_create("hist");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, quantiles_within_the_relative_error);
	tcase_add_test(tc, known_delays);
	tcase_add_test(tc, extremes);
	tcase_add_test(tc, memory_does_not_grow);
	suite_add_tcase(s, tc);
	return s;
}
