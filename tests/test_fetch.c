/* test_fetch.c: unit tests of fetch.h: set-up, the pool, cancellation. */

#define _POSIX_C_SOURCE 200809L

#include <check.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../src/fetch.h"
#include "proc.h"
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
	fetch_prepare(1);
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
	size_t workers = (size_t)(4 * base - 32) / 6;
	int before = fds_open();

	set_nofile((rlim_t)(8 * base), (rlim_t)(8 * base));
	/* Each worker may hold 6 descriptors, and 32 are kept back. */
	fetch_prepare(workers);
	ck_assert_int_ge(fd_slots(), (long)(32 + 6 * workers));
	ck_assert_int_eq(fds_open(), before);
}
END_TEST

START_TEST(prepare_grows_no_more_than_workers_need)
{
	long base = fd_slots();

	set_nofile((rlim_t)(8 * base), (rlim_t)(8 * base));
	fetch_prepare(10);
	ck_assert_int_le(fd_slots(), base > 128 ? base : 128);
}
END_TEST

START_TEST(prepare_stays_within_the_limit)
{
	long base = fd_slots();

	set_nofile((rlim_t)(2 * base), (rlim_t)(2 * base));
	fetch_prepare(0);
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

/* Submits n copies of url to run, numbered from 0. */
static void
submit_n(struct fetch_run *run, const char *url, size_t n)
{
	char err[256];
	size_t i;

	for (i = 0; i < n; i++) {
		char *u = strdup(url);

		ck_assert_ptr_nonnull(u);
		ck_assert_msg(fetch_submit(run, i, u, err, sizeof(err)) == 0,
		    "submit %zu: %s", i, err);
	}
}

/*
 * Receives a run's results until its channel closes: n of them, numbered
 * 0 to n - 1 once each, all with outcome want.  Finishes the run.
 */
static void
finish_expecting(struct fetch_run *run, size_t n, enum fetch_outcome want)
{
	struct fetch_result res;
	bool seen[64] = { false };
	size_t got = 0;

	ck_assert_uint_le(n, 64);
	while (chan_recv(fetch_results(run), &res) == 0) {
		ck_assert_uint_lt(res.urlnum, n);
		ck_assert_msg(!seen[res.urlnum], "urlnum %zu twice",
		    res.urlnum);
		seen[res.urlnum] = true;
		ck_assert_int_eq(res.outcome, want);
		ck_assert_ptr_nonnull(res.url);
		fetch_result_free(&res);
		got++;
	}
	ck_assert_uint_eq(got, n);
	fetch_finish(run);
}

static struct fetch_run *
start_run(size_t workers)
{
	struct fetch_config cfg;
	struct fetch_run *run;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = workers;
	cfg.max_time_ms = 30000;
	cfg.connect_timeout_ms = 10000;
	run = fetch_start(&cfg, err, sizeof(err));
	ck_assert_msg(run != NULL, "%s", err);
	return run;
}

#define STACK_WORKERS	16

/*
 * The workers' stacks are the run's, mapped when it starts and unmapped
 * when it finishes.  Stacks of the C library's would not show: it keeps
 * them when their threads end, and a second run reuses the first's.
 */
START_TEST(run_maps_and_unmaps_its_worker_stacks)
{
	struct fetch_run *run;
	int before, during;

	ck_assert_int_eq(fetch_global_init(), 0);
	run = start_run(STACK_WORKERS);
	submit_n(run, "http://127.0.0.1:1/", STACK_WORKERS);
	fetch_end_input(run);
	finish_expecting(run, STACK_WORKERS, FETCH_ERROR);

	before = guarded_stacks();
	run = start_run(STACK_WORKERS);
	submit_n(run, "http://127.0.0.1:1/", STACK_WORKERS);
	during = guarded_stacks();
	ck_assert_int_ge(during - before, 1);
	ck_assert_int_eq(during - before, (int)fetch_workers(run));
	fetch_end_input(run);
	finish_expecting(run, STACK_WORKERS, FETCH_ERROR);
	ck_assert_int_eq(guarded_stacks(), before);
	fetch_global_cleanup();
}
END_TEST

/*
 * Workers start as URLs arrive, never more than there are URLs; the
 * results channel closes after the last result once the input ends, and
 * an empty input closes it at once.
 */
START_TEST(workers_start_as_urls_arrive)
{
	struct fetch_run *run;

	ck_assert_int_eq(fetch_global_init(), 0);
	run = start_run(STACK_WORKERS);
	ck_assert_uint_eq(fetch_workers(run), 0);
	submit_n(run, "http://127.0.0.1:1/", 3);
	ck_assert_uint_ge(fetch_workers(run), 1);
	ck_assert_uint_le(fetch_workers(run), 3);
	ck_assert_uint_eq(fetch_submitted(run), 3);
	fetch_end_input(run);
	finish_expecting(run, 3, FETCH_ERROR);

	run = start_run(STACK_WORKERS);
	fetch_end_input(run);
	finish_expecting(run, 0, FETCH_OK);
	fetch_global_cleanup();
}
END_TEST

/*
 * Cancelling reports every URL submitted, in flight or queued, as
 * cancelled, closes the results, and refuses what comes after.
 */
START_TEST(cancel_reports_every_url_submitted)
{
	struct fetch_run *run;
	char url[64], err[256], *u;
	int lfd, port;

	ck_assert_int_eq(fetch_global_init(), 0);
	lfd = proc_silent_listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	run = start_run(4);
	/* Four in flight, four queued: the queue holds one a worker. */
	submit_n(run, url, 8);
	ck_assert_uint_le(fetch_workers(run), 4);
	fetch_cancel(run);
	u = strdup(url);
	ck_assert_int_eq(fetch_submit(run, 8, u, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ECANCELED);
	free(u);
	finish_expecting(run, 8, FETCH_CANCELLED);
	close(lfd);
	fetch_global_cleanup();
}
END_TEST

Suite *
fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("prepare");

	tcase_add_test(tc, prepare_raises_the_soft_limit);
	tcase_add_test(tc, prepare_grows_the_table_for_every_worker);
	tcase_add_test(tc, prepare_grows_no_more_than_workers_need);
	tcase_add_test(tc, prepare_stays_within_the_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("stacks");
	tcase_add_test(tc, run_maps_and_unmaps_its_worker_stacks);
	tcase_add_test(tc, workers_start_as_urls_arrive);
	tcase_add_test(tc, cancel_reports_every_url_submitted);
	suite_add_tcase(s, tc);
	return s;
}
