/* test_fetch.c: unit tests of fetch.h's set-up and tear-down of a run. */

#define _POSIX_C_SOURCE 200809L

#include <check.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../src/fetch.h"
#include "suites.h"

/* Descriptor slots the kernel has allocated to this process. */
static long
fd_slots(void)
{
	char line[256];
	long slots = -1;
	FILE *fp = fopen("/proc/self/status", "r");

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "FDSize:", 7) == 0)
			slots = strtol(line + 7, NULL, 10);
	fclose(fp);
	ck_assert_int_gt(slots, 0);
	return slots;
}

/* Descriptors open now. */
static int
fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Sets the open-file limits; the hard one only ever goes down. */
static void
set_nofile(rlim_t soft, rlim_t hard)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (hard > rl.rlim_max)
		hard = rl.rlim_max;
	rl.rlim_max = hard;
	rl.rlim_cur = soft < hard ? soft : hard;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

START_TEST(prepare_raises_the_soft_limit)
{
	struct rlimit rl;

	set_nofile(100, 2048);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, 100);
	fetch_prepare(1, 1);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, rl.rlim_max);
}
END_TEST

/*
 * The table a test starts with depends on the runner, so each test asks
 * for several times that.
 */
START_TEST(prepare_grows_the_table_for_every_worker)
{
	long base = fd_slots();
	size_t workers = (size_t)(4 * base - 32) / 5;
	int before = fds_open();

	set_nofile((rlim_t)(8 * base), (rlim_t)(8 * base));
	/* Each worker may hold 5 descriptors, and 32 are kept back. */
	fetch_prepare(workers, 0);
	ck_assert_int_ge(fd_slots(), (long)(32 + 5 * workers));
	ck_assert_int_eq(fds_open(), before);
}
END_TEST

START_TEST(prepare_counts_workers_not_urls)
{
	long base = fd_slots();

	set_nofile((rlim_t)(8 * base), (rlim_t)(8 * base));
	fetch_prepare(100000, 10);
	ck_assert_int_le(fd_slots(), base > 128 ? base : 128);
}
END_TEST

START_TEST(prepare_stays_within_the_limit)
{
	long base = fd_slots();

	set_nofile((rlim_t)(2 * base), (rlim_t)(2 * base));
	fetch_prepare(100000, 0);
	ck_assert_int_eq(fd_slots(), 2 * base);
}
END_TEST

/*
 * Thread stacks in this process's memory map: anonymous read-write regions
 * right above an inaccessible page, their guard.
 */
static int
guarded_stacks(void)
{
	char line[512], perms[5], below[5] = "";
	unsigned long lo, hi, below_lo = 0, below_hi = 0;
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	int n = 0, end;
	FILE *fp = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* Range, permissions, offset, device, inode; no path. */
		end = 0;
		ck_assert_int_eq(sscanf(line, "%lx-%lx %4s %*x %*s %*u %n", &lo,
		    &hi, perms, &end), 3);
		if (line[end] == '\0' && strcmp(perms, "rw-p") == 0 &&
		    strcmp(below, "---p") == 0 && below_hi == lo &&
		    below_hi - below_lo == page)
			n++;
		memcpy(below, perms, sizeof(below));
		below_lo = lo;
		below_hi = hi;
	}
	fclose(fp);
	return n;
}

/* Receives a run's n results, each a failure to connect, and finishes it. */
static void
finish_refused(struct fetch_run *run, size_t n)
{
	struct fetch_result res;
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(chan_recv(fetch_results(run), &res), 0);
		ck_assert_int_eq(res.outcome, FETCH_ERROR);
		fetch_result_free(&res);
	}
	fetch_finish(run);
}

#define STACK_WORKERS	16

/*
 * The workers' stacks are the run's, mapped when it starts and unmapped
 * when it finishes.  Stacks of the C library's would not show: it keeps
 * them when their threads end, and a second run reuses the first's.
 */
START_TEST(run_maps_and_unmaps_its_worker_stacks)
{
	char *urls[STACK_WORKERS];
	struct fetch_config cfg;
	struct fetch_run *run;
	char err[256];
	int before, during;
	size_t i;

	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	for (i = 0; i < STACK_WORKERS; i++)
		urls[i] = "http://127.0.0.1:1/";
	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = STACK_WORKERS;

	run = fetch_start(&cfg, urls, STACK_WORKERS, err, sizeof(err));
	ck_assert_msg(run != NULL, "%s", err);
	ck_assert_uint_eq(fetch_workers(run), STACK_WORKERS);
	finish_refused(run, STACK_WORKERS);

	before = guarded_stacks();
	run = fetch_start(&cfg, urls, STACK_WORKERS, err, sizeof(err));
	ck_assert_msg(run != NULL, "%s", err);
	during = guarded_stacks();
	ck_assert_int_eq(during - before, STACK_WORKERS);
	finish_refused(run, STACK_WORKERS);
	ck_assert_int_eq(guarded_stacks(), before);
	curl_global_cleanup();
}
END_TEST

Suite *
fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("prepare");

	tcase_add_test(tc, prepare_raises_the_soft_limit);
	tcase_add_test(tc, prepare_grows_the_table_for_every_worker);
	tcase_add_test(tc, prepare_counts_workers_not_urls);
	tcase_add_test(tc, prepare_stays_within_the_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("stacks");
	tcase_add_test(tc, run_maps_and_unmaps_its_worker_stacks);
	suite_add_tcase(s, tc);
	return s;
}
