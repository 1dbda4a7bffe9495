/* End-to-end tests: the real fetch_urls binary against the fixture. */

/*
 * Every test runs the binary named by the environment variable FETCH_URLS
 * (an instrumented build under make check-sanitize) with posix_spawn, feeds
 * its standard input, collects its standard output and error with a time
 * limit, and checks what it printed and how it exited against the contract
 * in the man page: line formats to the byte, arrival order, totals, every
 * option, every exit status, SIGINT and a reader that goes away.
 *
 * The helpers that run fetch_urls, ask the fixture for its counters and
 * keep what a test allocates until its teardown are in e2e.c, shared
 * with the other end-to-end test files.
 *
 * The fixture server (tests/fixture.py, found through FETCH_FIXTURE, next
 * to this source file, or in a tests/ folder above FETCH_URLS) is started
 * by each test's setup, because Check runs every test in a process of its
 * own, and stopped by its teardown.  A failed assertion ends the test
 * process without its teardown, but the fixture's standard input is a pipe
 * that only the test process holds (close-on-exec, so fetch_urls never
 * inherits it): when the test process ends, even by SIGKILL after a
 * timeout, the fixture sees end of file and exits.  It answers on
 * 127.0.0.1 only.
 *
 * Requests may carry ?key=K; the fixture counts them per key, so a test can
 * ask how many requests arrived and how many were in flight at once.  Keys
 * are unique per test process, so tests never see each other's requests.
 *
 * Timed assertions are tolerant bounds: lower bounds follow from the delays
 * the fixture imposes, upper bounds leave seconds of slack for a loaded
 * two-core machine and for ThreadSanitizer builds.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

/*
 * Standard error holds nothing but the summary lines that follow the
 * totals in text mode (issue 4; -q drops them, test_http.c checks
 * their counts).
 */
static void
expect_no_stderr(const struct proc *p)
{
	ck_assert_msg(p->ebuf.len == 0 || proc_match(proc_str(&p->ebuf),
	    "^(Summary: [0-9]+ succeeded, [0-9]+ got HTTP status >= 400, "
	    "[0-9]+ failed without a response\n)+$", NULL, 0),
	    "unexpected stderr:\n%s", proc_msg(&p->ebuf));
}

/*
 * Checks that line is exactly the success line for url,
 * "URL \t 0.26s \t 200", and returns its seconds and status.
 */
static void
ok_line(const char *line, const char *url, double *secs, int *status)
{
	size_t n = strlen(url);
	double v[2];

	ck_assert_msg(strncmp(line, url, n) == 0 && proc_match(line + n,
	    "^ \t ([0-9]+\\.[0-9]{2})s \t ([0-9]{3})$", v, 2),
	    "not a success line for %s: \"%s\"", url, line);
	if (secs != NULL)
		*secs = v[0];
	if (status != NULL)
		*status = (int)v[1];
}

/* Checks that line is "URL request encountered error: MESSAGE". */
static void
err_line(const char *line, const char *url)
{
	static const char mid[] = " request encountered error: ";
	size_t n = strlen(url);

	ck_assert_msg(strncmp(line, url, n) == 0 &&
	    strncmp(line + n, mid, sizeof(mid) - 1) == 0 &&
	    line[n + sizeof(mid) - 1] != '\0',
	    "not an error line for %s: \"%s\"", url, line);
}

/* Checks that line is "Total time: 1.23s" and returns the seconds. */
static double
total_line(const char *line)
{
	double t;

	ck_assert_msg(proc_match(line, "^Total time: ([0-9]+\\.[0-9]{2})s$",
	    &t, 1), "not a total line: \"%s\"", line);
	return t;
}

/* The index of the one line about url (url followed by a space). */
static size_t
line_for(const struct proc *p, const char *url)
{
	size_t n = strlen(url), found = p->nlines;

	for (size_t i = 0; i < p->nlines; i++) {
		if (strncmp(p->lines[i], url, n) != 0 ||
		    p->lines[i][n] != ' ')
			continue;
		ck_assert_msg(found == p->nlines, "two lines for %s:\n%s", url,
		    proc_msg(&p->obuf));
		found = i;
	}
	ck_assert_msg(found < p->nlines, "no line for %s:\n%s", url,
	    proc_msg(&p->obuf));
	return found;
}

static bool
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		size_t i;

		for (i = 0; i < n; i++)
			if (tolower((unsigned char)hay[i]) !=
			    tolower((unsigned char)needle[i]))
				break;
		if (i == n)
			return true;
	}
	return n == 0;
}

/* Output format, ordering and timing. */

START_TEST(line_format_to_the_byte)
{
	char *u = e2e_url("/delay/50");
	struct proc *p = e2e_run(NULL, 15, u, NULL);
	double secs, total;
	char *want;
	int status;

	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], u, &secs, &status);
	total = total_line(p->lines[1]);
	ck_assert_int_eq(status, 200);
	ck_assert_msg(secs >= 0.05 - E2E_ROUND && secs < 5, "secs %.2f", secs);
	ck_assert_msg(total >= secs - 0.01, "total %.2f < %.2f", total, secs);
	want = e2e_fmt("%s \t %.2fs \t 200\nTotal time: %.2fs\n", u, secs,
	    total);
	ck_assert_str_eq(proc_str(&p->obuf), want);
}
END_TEST

/*
 * CSV output is a header and a record per URL, also when no URL is left
 * to fetch: an empty list, or a shard that gets none of the URLs.
 */
START_TEST(csv_without_records_is_its_header)
{
	static const char header[] = "url,urlnum,status,seconds,error,bytes,"
	    "redirects,effective_url,http_version,retries,connects,file,dns,"
	    "connect,tls,ttfb,total\r\n";
	const char *empty = e2e_write_tmpfile("# nothing\n");
	char *u = e2e_url("/status/200");
	struct proc *p;

	p = e2e_run(NULL, 15, "-q", "--format", "csv", "-i", empty, NULL);
	e2e_expect_code(p, 0);
	ck_assert_str_eq(proc_str(&p->obuf), header);
	p = e2e_run(NULL, 15, "-q", "--format", "csv", "--shard", "1/2", u,
	    NULL);
	e2e_expect_code(p, 0);
	ck_assert_str_eq(proc_str(&p->obuf), header);
}
END_TEST

START_TEST(arrival_order_fast_listed_last_prints_first)
{
	char *slow = e2e_url("/delay/900");
	char *mid = e2e_url("/delay/450");
	char *fast = e2e_url("/delay/20");
	struct proc *p = e2e_run(NULL, 15, slow, mid, fast, NULL);

	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 4, "want 4 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], fast, NULL, NULL);
	ok_line(p->lines[1], mid, NULL, NULL);
	ok_line(p->lines[2], slow, NULL, NULL);
	(void)total_line(p->lines[3]);
}
END_TEST

START_TEST(concurrent_total_near_slowest)
{
	static const int ms[] = { 300, 500, 700, 900 };
	char *u[4];
	struct proc *p;
	double total, secs;
	int status;

	for (int i = 0; i < 4; i++)
		u[i] = e2e_url("/delay/%d", ms[i]);
	p = e2e_run(NULL, 15, u[0], u[1], u[2], u[3], NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 5, "want 5 lines:\n%s", proc_msg(&p->obuf));
	total = total_line(p->lines[4]);
	for (int i = 0; i < 4; i++) {
		ok_line(p->lines[line_for(p, u[i])], u[i], &secs,
		    &status);
		ck_assert_int_eq(status, 200);
		ck_assert_msg(secs >= ms[i] / 1000.0 - E2E_ROUND &&
		    secs <= total + 0.01, "%s took %.2f s of %.2f", u[i], secs,
		    total);
	}
	/* The slowest is 0.9 s, the sum 2.4 s. */
	ck_assert_msg(total >= 0.9 - E2E_ROUND && total < 1.8,
	    "concurrent total %.2f s, want about 0.9 s", total);
}
END_TEST

START_TEST(serial_in_input_order_total_near_sum)
{
	static const int ms[] = { 300, 100, 200 };
	char *key = e2e_key(), *u[3];
	struct e2e_counts c;
	struct proc *p;
	double total, secs, sum = 0;

	for (int i = 0; i < 3; i++)
		u[i] = e2e_url("/delay/%d?key=%s", ms[i], key);
	p = e2e_run(NULL, 15, "-s", u[0], u[1], u[2], NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 4, "want 4 lines:\n%s", proc_msg(&p->obuf));
	for (int i = 0; i < 3; i++) {
		ok_line(p->lines[i], u[i], &secs, NULL);
		ck_assert_msg(secs >= ms[i] / 1000.0 - E2E_ROUND, "%s: %.2f s",
		    u[i], secs);
		sum += secs;
	}
	total = total_line(p->lines[3]);
	ck_assert_msg(total >= 0.6 - E2E_ROUND && total >= sum - 0.02 &&
	    total < 0.6 + E2E_SLACK, "serial total %.2f s, sum %.2f s",
	    total, sum);
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, 3);
	ck_assert_msg(c.max_in_flight == 1, "serial run had %d in flight",
	    c.max_in_flight);
}
END_TEST

START_TEST(quiet_drops_total_line)
{
	char *a = e2e_url("/delay/10"), *b = e2e_url("/status/200");
	double sa, sb;
	struct proc *p;
	char *want;

	p = e2e_run(NULL, 15, "-s", "-q", a, b, NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], a, &sa, NULL);
	ok_line(p->lines[1], b, &sb, NULL);
	want = e2e_fmt("%s \t %.2fs \t 200\n%s \t %.2fs \t 200\n", a, sa, b,
	    sb);
	ck_assert_str_eq(proc_str(&p->obuf), want);

	p = e2e_run(NULL, 15, "--quiet", a, NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 1, "want 1 line:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], a, NULL, NULL);
}
END_TEST

/*
 * With -q, what goes to standard error after the records (here -c's
 * speedup, with -w) still comes after them where both go to one place.
 * The last records may be written without a wait that flushes them:
 * twenty runs.
 */
START_TEST(quiet_records_come_before_the_speedup)
{
	char *cmd = e2e_fmt("exec '%s' -q -c -w '%%{run} %%{urlnum}\\n' %s %s "
	    "2>&1", e2e_prog, e2e_url("/status/200"), e2e_url("/status/200"));
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct proc *p;

	for (int i = 0; i < 20; i++) {
		p = e2e_exec(NULL, 15, argv, true);
		ck_assert_msg(p->nlines == 5 && strncmp(p->lines[4], "Serial: ",
		    8) == 0, "the speedup is not last:\n%s",
		    proc_msg(&p->obuf));
		e2e_free(p);
	}
}
END_TEST

START_TEST(three_hundred_concurrent_urls_all_reported)
{
	enum { N = 300 };
	char *key = e2e_key(), *u[N];
	bool seen[N] = { false };
	struct e2e_counts c;
	struct proc *p;
	double total;
	int status;

	for (int i = 0; i < N; i++)
		u[i] = e2e_url("/delay/100?key=%s&n=%d", key, i);
	p = e2e_runv(NULL, 60, N, u);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == N + 1, "want %d lines, got %zu", N + 1,
	    p->nlines);
	for (int i = 0; i < N; i++) {
		size_t at = line_for(p, u[i]);

		ck_assert_msg(at < (size_t)N && !seen[at], "line %zu twice",
		    at);
		seen[at] = true;
		ok_line(p->lines[at], u[i], NULL, &status);
		ck_assert_msg(status == 200, "%s: status %d", u[i], status);
	}
	total = total_line(p->lines[N]);
	/* One at a time it would take 30 s. */
	ck_assert_msg(total >= 0.1 - E2E_ROUND && total < 10,
	    "total %.2f s for %d concurrent 0.1 s requests", total, N);
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, N);
	ck_assert_msg(c.max_in_flight > 10, "only %d in flight at once",
	    c.max_in_flight);
}
END_TEST

/* Options. */

static void
check_compare(bool quiet)
{
	static const int ms[] = { 400, 300, 100 };
	char *key = e2e_key(), *u[3], *scat, *ccat;
	struct e2e_counts c;
	struct proc *p;
	double ser, con, v[3], lo, hi;
	size_t l = 0;

	for (int i = 0; i < 3; i++)
		u[i] = e2e_url("/delay/%d?key=%s", ms[i], key);
	if (quiet)
		p = e2e_run(NULL, 20, "-q", "--compare", u[0], u[1], u[2],
		    NULL);
	else
		p = e2e_run(NULL, 20, "-c", u[0], u[1], u[2], NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == (quiet ? 7 : 9), "wrong line count:\n%s",
	    proc_msg(&p->obuf));
	/* Serial: input order.  Concurrent: completion order. */
	for (int i = 0; i < 3; i++)
		ok_line(p->lines[l++], u[i], NULL, NULL);
	scat = quiet ? NULL : p->lines[l++];
	for (int i = 2; i >= 0; i--)
		ok_line(p->lines[l++], u[i], NULL, NULL);
	ccat = quiet ? NULL : p->lines[l++];
	/* Times of 0.1 to 1 s have three decimals: three digits. */
	ck_assert_msg(proc_match(p->lines[l], "^Serial: ([0-9]+\\.[0-9]{2,3})s, "
	    "concurrent: ([0-9]+\\.[0-9]{3})s, speedup: ([0-9]+\\.[0-9]{2})x$",
	    v, 3), "bad comparison line: \"%s\"", p->lines[l]);
	ser = v[0];
	con = v[1];
	if (!quiet) {
		/*
		 * Half a hundredth apart at most; 1e-9 more, for 0.405 - 0.40
		 * in binary floating point is above 0.005.
		 */
		ck_assert_msg(fabs(total_line(scat) - ser) <= 0.005 + 1e-9 &&
		    fabs(total_line(ccat) - con) <= 0.005 + 1e-9,
		    "totals \"%s\", \"%s\" differ from \"%s\"", scat, ccat,
		    p->lines[l]);
	}
	ck_assert_msg(ser >= 0.8 - E2E_ROUND && ser < 0.8 + E2E_SLACK,
	    "serial %.2f s, want about 0.8", ser);
	ck_assert_msg(con >= 0.4 - E2E_ROUND && con < ser - 0.2,
	    "concurrent %.2f s, serial %.2f s", con, ser);
	/* The speedup is of the times measured, printed to 0.001 s. */
	lo = (ser - 0.0005) / (con + 0.0005) - 0.006;
	hi = (ser + 0.0005) / (con - 0.0005) + 0.006;
	ck_assert_msg(v[2] >= lo && v[2] <= hi,
	    "speedup %.2fx, but %.2f / %.2f is %.3f", v[2], ser, con,
	    ser / con);
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, 6);
	ck_assert_int_eq(c.max_in_flight, 3);
}

START_TEST(compare_serial_then_concurrent_then_speedup)
{
	check_compare(false);
}
END_TEST

START_TEST(compare_quiet_keeps_only_the_comparison)
{
	check_compare(true);
}
END_TEST

struct jobs_case {
	char	opt[8];
	int	jobs;
	int	urls;
};

/* One test per case: the loop test's _i indexes this. */
static struct jobs_case jobs_cases[] = {
	{ "-j", 1, 3 },
	{ "--jobs", 2, 5 },
	{ "-j", 3, 7 },
	{ "--jobs", 8, 3 },
};

START_TEST(jobs_bounds_requests_in_flight)
{
	struct jobs_case *jc = &jobs_cases[_i];
	char *key = e2e_key(), *args[16];
	int want = jc->jobs < jc->urls ? jc->jobs : jc->urls;
	int rounds = (jc->urls + jc->jobs - 1) / jc->jobs;
	struct e2e_counts c;
	struct proc *p;
	double total;

	args[0] = jc->opt;
	args[1] = e2e_fmt("%d", jc->jobs);
	for (int i = 0; i < jc->urls; i++)
		args[i + 2] = e2e_url("/delay/250?key=%s&n=%d", key, i);
	p = e2e_runv(NULL, 20, (size_t)jc->urls + 2, args);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == (size_t)jc->urls + 1,
	    "wrong line count:\n%s", proc_msg(&p->obuf));
	for (int i = 0; i < jc->urls; i++)
		ok_line(p->lines[line_for(p, args[i + 2])],
		    args[i + 2], NULL, NULL);
	total = total_line(p->lines[jc->urls]);
	ck_assert_msg(total >= rounds * 0.25 - E2E_ROUND,
	    "total %.2f s, but %d rounds of 0.25 s", total, rounds);
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, jc->urls);
	ck_assert_msg(c.max_in_flight == want, "%s %d: %d in flight, want %d",
	    jc->opt, jc->jobs, c.max_in_flight, want);
}
END_TEST

START_TEST(input_file_with_args_comments_and_blanks)
{
	char *key = e2e_key();
	char *a = e2e_url("/delay/10?key=%s&n=a", key);
	char *b = e2e_url("/delay/10?key=%s&n=b", key);
	char *x = e2e_url("/delay/10?key=%s&n=x", key);
	char *d = e2e_url("/delay/10?key=%s&n=d", key);
	const char *file;
	struct proc *p;

	/* Commented-out URLs carry the key: fetching them would show. */
	file = e2e_write_tmpfile(e2e_fmt("  %s  \n\n# %s\n   #%s\n\t\n%s",
	    b, x, x, d));
	p = e2e_run(NULL, 15, "-s", "-i", file, a, NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 4, "want 4 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], a, NULL, NULL);
	ok_line(p->lines[1], b, NULL, NULL);
	ok_line(p->lines[2], d, NULL, NULL);
	(void)total_line(p->lines[3]);
	ck_assert_int_eq(e2e_count(key, "").requests, 3);
}
END_TEST

START_TEST(input_from_stdin)
{
	char *key = e2e_key();
	char *a = e2e_url("/delay/10?key=%s&n=a", key);
	char *b = e2e_url("/status/200?key=%s&n=b", key);
	char *x = e2e_url("/delay/10?key=%s&n=x", key);
	char *in = e2e_fmt("%s\n\n# %s\n\t%s \r\n\n", a, x, b);
	struct proc *p;

	p = e2e_run(in, 15, "--serial", "--input", "-", NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 3, "want 3 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], a, NULL, NULL);
	ok_line(p->lines[1], b, NULL, NULL);
	(void)total_line(p->lines[2]);
	ck_assert_int_eq(e2e_count(key, "").requests, 2);
}
END_TEST

/*
 * With standard input closed, an option that reads it cannot: a usage
 * error naming it, with nothing fetched, as for a file that cannot be
 * opened; -i - too, though it reads once the run has started.
 */
START_TEST(closed_stdin_is_a_usage_error)
{
	static const char *const opts[][2] = {
		{ "-i", "-" }, { "-d", "@-" }, { "-b", "-" },
	};
	char *key = e2e_key(), *u = e2e_url("/status/200?key=%s", key);
	char *argv[] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" <&-",
	    (char *)e2e_prog, NULL, NULL, u, NULL };
	struct proc *p;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		argv[4] = (char *)opts[i][0];
		argv[5] = (char *)opts[i][1];
		p = e2e_exec(NULL, 15, argv, true);
		e2e_expect_code(p, 2);
		ck_assert_msg(p->obuf.len == 0 && proc_match(proc_str(&p->ebuf),
		    "^fetch_urls: [^\n]*'@?-': Bad file descriptor "
		    "\\(try 'fetch_urls --help'\\)\n$", NULL, 0),
		    "%s %s: stdout:\n%sstderr:\n%s", opts[i][0], opts[i][1],
		    proc_msg(&p->obuf), proc_msg(&p->ebuf));
	}
	ck_assert_int_eq(e2e_count(key, "").requests, 0);
}
END_TEST

START_TEST(max_time_cuts_a_hanging_request)
{
	char *key = e2e_key();
	char *u = e2e_url("/hang?key=%s", key);
	struct proc *p = e2e_run(NULL, 15, "-m", "0.5", u, NULL);
	double took = p->end - p->start;

	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	err_line(p->lines[0], u);
	(void)total_line(p->lines[1]);
	ck_assert_msg(took >= 0.45 && took < 0.5 + E2E_SLACK,
	    "-m 0.5 run took %.2f s", took);
	ck_assert_int_eq(e2e_count(key, "").requests, 1);
}
END_TEST

START_TEST(connect_timeout_accepted)
{
	char *u = e2e_url("/delay/10");
	struct proc *p;

	p = e2e_run(NULL, 15, "--connect-timeout", "2", u, NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], u, NULL, NULL);
}
END_TEST

START_TEST(deadline_cancels_hanging_urls)
{
	char *key = e2e_key();
	char *h1 = e2e_url("/hang?key=%s&n=1", key);
	char *h2 = e2e_url("/hang?key=%s&n=2", key);
	char *fast = e2e_url("/delay/10");
	struct proc *p;
	double took;

	p = e2e_run(NULL, 15, "--deadline", "1", h1, h2, fast, NULL);
	took = p->end - p->start;
	/* Cut short by the deadline: the run is incomplete. */
	e2e_expect_code(p, 3);
	ck_assert_msg(p->nlines == 4, "want 4 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[line_for(p, fast)], fast, NULL, NULL);
	ck_assert_str_eq(p->lines[line_for(p, h1)], e2e_fmt(
	    "%s request encountered error: cancelled (deadline reached)", h1));
	ck_assert_str_eq(p->lines[line_for(p, h2)], e2e_fmt(
	    "%s request encountered error: cancelled (deadline reached)", h2));
	(void)total_line(p->lines[3]);
	ck_assert_msg(took >= 1 - 0.05 && took < 1 + E2E_SLACK,
	    "--deadline 1 run took %.2f s", took);
	ck_assert_int_eq(e2e_count(key, "").requests, 2);
}
END_TEST

/*
 * --serial runs its transfers in the worker's own thread (a transport
 * for one caller): the deadline still ends the one in flight at once,
 * and the URL queued behind it is reported cancelled without a request.
 * Were the transfer not cut, it would hang past the test's time limit.
 */
START_TEST(deadline_cancels_a_serial_transfer_in_flight)
{
	char *key = e2e_key();
	char *h1 = e2e_url("/hang?key=%s&n=1", key);
	char *h2 = e2e_url("/hang?key=%s&n=2", key);
	char *fast = e2e_url("/delay/10");
	struct proc *p;

	p = e2e_run(NULL, 15, "--serial", "--deadline", "1", fast, h1, h2,
	    NULL);
	e2e_expect_code(p, 3);
	ck_assert_msg(p->nlines == 4, "want 4 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], fast, NULL, NULL);
	ck_assert_str_eq(p->lines[1], e2e_fmt(
	    "%s request encountered error: cancelled (deadline reached)", h1));
	ck_assert_str_eq(p->lines[2], e2e_fmt(
	    "%s request encountered error: cancelled (deadline reached)", h2));
	(void)total_line(p->lines[3]);
	ck_assert_int_eq(e2e_count(key, "").requests, 1);
}
END_TEST

/*
 * In a pool larger than a lane each worker runs its plain HTTP transfers
 * on a transport of its own: a cancellation reaches every one of them.
 * Once all N are in flight, SIGINT: each prints "cancelled" at once.  Were
 * one missed, its transfer would hang past the test's time limit.
 */
START_TEST(cancel_reaches_every_worker_of_a_large_pool)
{
	enum { N = 100 };
	char *key = e2e_key(), *argv[N + 2];
	struct proc *p;
	size_t i;

	argv[0] = (char *)e2e_prog;
	for (i = 0; i < N; i++)
		argv[i + 1] = e2e_url("/hang?key=%s&n=%zu", key, i);
	argv[N + 1] = NULL;
	p = e2e_track(proc_spawn(argv, NULL));
	ck_assert_int_eq(e2e_count(key, e2e_fmt("?until_in_flight=%d",
	    N)).in_flight, N);
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, proc_now() + 15);
	ck_assert_msg(!p->killed, "still running 15 s after SIGINT:\n%s",
	    proc_msg(&p->obuf));
	e2e_expect_code(p, 130);
	ck_assert_msg(p->nlines == N + 1, "want %d lines:\n%s", N + 1,
	    proc_msg(&p->obuf));
	for (i = 0; i < N; i++)
		ck_assert_msg(strstr(p->lines[i], "request encountered error: "
		    "cancelled (interrupted)") != NULL, "line %s", p->lines[i]);
	(void)total_line(p->lines[N]);
}
END_TEST

/*
 * The deadline holds while results come faster than they are printed and
 * the program never has to wait for the next one: 20,000 refused URLs on
 * 1,000 workers, cut short after 0.1 s, which is far less than their
 * connections take on two processors.
 */
START_TEST(deadline_holds_while_results_pour_in)
{
	enum { N = 20000 };
	int port = proc_dead_port();
	struct proc_buf in = { 0 };
	struct proc *p;
	char line[64], *seen;
	size_t i;

	for (i = 0; i < N; i++)
		proc_buf_add(&in, line, (size_t)snprintf(line, sizeof(line),
		    "http://127.0.0.1:%d/%zu\n", port, i));
	e2e_keep(in.p);
	p = e2e_run(in.p, 60, "-q", "-j", "1000", "--deadline", "0.1", "-i",
	    "-", NULL);
	/* Cut short by the deadline: the run is incomplete. */
	e2e_expect_code(p, 3);
	/*
	 * The input is a stream: the URLs never read print nothing, and
	 * each URL read prints one line, an error (refused, or cancelled
	 * if the deadline came first).  Which of them were cancelled
	 * depends on timing: refused connections may all finish first.
	 */
	ck_assert_msg(p->nlines < N, "all %d URLs ran", N);
	seen = calloc(N, 1);
	ck_assert_ptr_nonnull(seen);
	for (i = 0; i < p->nlines; i++) {
		const char *path = strrchr(p->lines[i], '/');
		size_t k;

		ck_assert_msg(strstr(p->lines[i], "request encountered error: ")
		    != NULL, "line %s", p->lines[i]);
		ck_assert_msg(path != NULL && sscanf(path, "/%zu", &k) == 1 &&
		    k < N, "line %s", p->lines[i]);
		ck_assert_msg(!seen[k], "URL %zu printed twice", k);
		seen[k] = 1;
	}
	free(seen);
}
END_TEST

START_TEST(help_lists_every_option)
{
	static const char *const opts[] = {
		"--serial", "--compare", "--jobs", "--input", "--max-time",
		"--connect-timeout", "--deadline", "--quiet", "--help",
		"--version",
	};
	static char *const flags[] = { "-h", "--help" };

	for (size_t f = 0; f < 2; f++) {
		struct proc *p = e2e_run(NULL, 10, flags[f], NULL);

		e2e_expect_code(p, 0);
		expect_no_stderr(p);
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			ck_assert_msg(strstr(proc_str(&p->obuf), opts[i]) !=
			    NULL, "%s does not mention %s:\n%s", flags[f],
			    opts[i], proc_msg(&p->obuf));
	}
}
END_TEST

START_TEST(version_names_program_and_libcurl)
{
	static char *const flags[] = { "-V", "--version" };

	for (size_t f = 0; f < 2; f++) {
		struct proc *p = e2e_run(NULL, 10, flags[f], NULL);

		e2e_expect_code(p, 0);
		expect_no_stderr(p);
		ck_assert_msg(proc_match(proc_str(&p->obuf), "^fetch_urls "
		    "[0-9]+\\.[0-9]+\\.[0-9]+ \\(libcurl/[0-9]+\\.[0-9]+"
		    "[^\n]*\\)\n$", NULL, 0), "%s printed:\n%s", flags[f],
		    proc_msg(&p->obuf));
	}
}
END_TEST

/*
 * GnuTLS, which Debian's libcurl loads for LDAP and RTMP, must find the
 * program's hook that skips its initialisation at load (src/fetch.c): the
 * dynamic linker's account of its bindings says where the hook bound.
 * Where libcurl does not load GnuTLS, there is nothing to skip.
 */
START_TEST(gnutls_is_not_initialised_at_start)
{
	struct proc *p;
	const char *err, *at;
	char *line;

	ck_assert_int_eq(setenv("LD_DEBUG", "bindings", 1), 0);
	p = e2e_run(NULL, 10, "--version", NULL);
	unsetenv("LD_DEBUG");
	e2e_expect_code(p, 0);
	err = proc_str(&p->ebuf);
	if (strstr(err, "libgnutls.so") == NULL)
		return;
	at = strstr(err, "`_gnutls_global_init_skip'");
	ck_assert_msg(at != NULL, "GnuTLS was loaded and never looked up "
	    "_gnutls_global_init_skip");
	while (at > err && at[-1] != '\n')
		at--;
	line = strndup(at, strcspn(at, "\n"));
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(proc_match(line, "binding file [^ ]*libgnutls\\.so[^ ]* "
	    "\\[0\\] to [^ ]*/fetch_urls \\[0\\]: normal symbol", NULL, 0),
	    "the hook did not bind to fetch_urls: %s", line);
	free(line);
}
END_TEST

/* Runs fetch_urls on u alone: one request under key, answered 200. */
static void
expect_fetched_once(const char *u, const char *key)
{
	struct proc *p = e2e_run(NULL, 15, u, NULL);
	int status;

	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], u, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(e2e_count(key, "").requests, 1);
}

START_TEST(schemeless_url_gets_http)
{
	char *key = e2e_key();

	expect_fetched_once(e2e_fmt("127.0.0.1:%d/delay/10?key=%s",
	    e2e_fx.http, key), key);
}
END_TEST

/*
 * A host name in the user's UTF-8 locale goes to the server in its ASCII
 * form, as curl sends it: ".localhost" names are the loopback's.
 */
START_TEST(international_host_name_in_utf8_locale)
{
	char *key = e2e_key();

	ck_assert_int_eq(setenv("LC_ALL", "C.UTF-8", 1), 0);
	expect_fetched_once(e2e_fmt("http://b\xc3\xbc" "cher.localhost:%d/"
	    "delay/10?key=%s", e2e_fx.http, key), key);
}
END_TEST

/* Failures that get an error line. */

START_TEST(refused_connection)
{
	char *bad = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	char *good = e2e_url("/status/200");
	struct proc *p = e2e_run(NULL, 15, bad, good, NULL);

	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 3, "want 3 lines:\n%s", proc_msg(&p->obuf));
	err_line(p->lines[line_for(p, bad)], bad);
	ok_line(p->lines[line_for(p, good)], good, NULL, NULL);
	(void)total_line(p->lines[2]);
}
END_TEST

START_TEST(unresolvable_host)
{
	char *bad = "http://nonexistent.invalid/";
	struct proc *p = e2e_run(NULL, 25, bad, NULL);

	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	err_line(p->lines[0], bad);
	(void)total_line(p->lines[1]);
}
END_TEST

/*
 * Other schemes are refused before any request: the ones that name a host
 * point at a socket of ours that must see no connection.
 */
START_TEST(unsupported_schemes_refused_without_request)
{
	static const char *const schemes[] = { "ftp", "dict", "gopher" };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char *u[4], *good = e2e_url("/status/200");
	struct proc *p;
	int lfd, cfd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_msg(lfd != -1 && bind(lfd, (struct sockaddr *)&sa,
	    sizeof(sa)) == 0 && listen(lfd, 16) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sa, &len) == 0,
	    "listen: %s", strerror(errno));
	proc_cloexec(lfd);
	for (int i = 0; i < 3; i++)
		u[i] = e2e_fmt("%s://127.0.0.1:%d/x", schemes[i],
		    ntohs(sa.sin_port));
	u[3] = "file:///etc/passwd";
	p = e2e_run(NULL, 15, u[0], good, u[1], u[2], u[3], NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 6, "want 6 lines:\n%s", proc_msg(&p->obuf));
	for (int i = 0; i < 4; i++) {
		const char *scheme = i < 3 ? schemes[i] : "file";

		ck_assert_str_eq(p->lines[line_for(p, u[i])], e2e_fmt(
		    "%s request encountered error: unsupported scheme '%s' "
		    "(only http and https)", u[i], scheme));
	}
	ok_line(p->lines[line_for(p, good)], good, NULL, NULL);
	(void)total_line(p->lines[5]);
	ck_assert_msg(fcntl(lfd, F_SETFL, O_NONBLOCK) != -1, "fcntl");
	cfd = accept(lfd, NULL, NULL);
	ck_assert_msg(cfd == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "fetch_urls connected for an unsupported scheme");
	close(lfd);
}
END_TEST

START_TEST(https_self_signed_certificate_rejected)
{
	char *u = e2e_fmt("https://127.0.0.1:%d/status/200", e2e_fx.https);
	struct proc *p = e2e_run(NULL, 15, u, NULL);

	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	err_line(p->lines[0], u);
	(void)total_line(p->lines[1]);
}
END_TEST

/* Exit statuses 0 and 1; 2 is e2e_usage, 130 e2e_signal. */

START_TEST(zero_when_every_status_below_400)
{
	static const int codes[] = { 200, 204, 302, 399 };
	char *u[4];
	struct proc *p;
	int status;

	for (int i = 0; i < 4; i++)
		u[i] = e2e_url("/status/%d", codes[i]);
	p = e2e_run(NULL, 15, "-s", u[0], u[1], u[2], u[3], NULL);
	e2e_expect_code(p, 0);
	expect_no_stderr(p);
	ck_assert_msg(p->nlines == 5, "want 5 lines:\n%s", proc_msg(&p->obuf));
	for (int i = 0; i < 4; i++) {
		ok_line(p->lines[i], u[i], NULL, &status);
		ck_assert_int_eq(status, codes[i]);
	}
}
END_TEST

/* One test per status: the loop test's _i indexes this. */
static const int fail_codes[] = { 400, 404, 500, 599 };

START_TEST(one_when_a_status_is_400_or_more)
{
	const int *code = &fail_codes[_i];
	char *good = e2e_url("/status/200"), *bad = e2e_url("/status/%d",
	    *code);
	struct proc *p = e2e_run(NULL, 15, "-s", good, bad, NULL);
	int status;

	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 3, "want 3 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], good, NULL, &status);
	ck_assert_int_eq(status, 200);
	/* A response is a result, not an error, whatever its status. */
	ok_line(p->lines[1], bad, NULL, &status);
	ck_assert_int_eq(status, *code);
}
END_TEST

/* Usage errors: exit 2, one line on stderr, nothing on stdout. */

struct usage_case {
	char	args[4][48];	/* "" ends the list */
	char	needle[48];	/* the message must name this */
};

/*
 * One test per case: the loop test's _i indexes this.  Port 9 on
 * loopback: nothing listens, nothing may be fetched.
 */
#define PORT9 "http://127.0.0.1:9/"
static struct usage_case usage_cases[] = {
	{ { "--bogus", PORT9 }, "bogus" },
	{ { "-Z", PORT9 }, "Z" },
	{ { "-j", "0", PORT9 }, "0" },
	{ { "-j", "-1", PORT9 }, "-1" },
	{ { "-j", "abc", PORT9 }, "abc" },
	{ { "--jobs", "4x", PORT9 }, "4x" },
	{ { "-j", "99999999999999999999", PORT9 },
	    "99999999999999999999" },
	{ { "-j" }, "j" },
	{ { "--max-time", "-1", PORT9 }, "-1" },
	{ { "-m", "abc", PORT9 }, "abc" },
	{ { "-m", "0", PORT9 }, "0" },
	{ { "--connect-timeout", "0", PORT9 }, "0" },
	{ { "--connect-timeout", "x1", PORT9 }, "x1" },
	{ { "--deadline", "0", PORT9 }, "0" },
	{ { "--deadline", "soon", PORT9 }, "soon" },
	{ { "" }, "url" },
	{ { "-q", "-s" }, "url" },
	{ { "-i", "/nonexistent/e2e/urls.txt" },
	    "/nonexistent/e2e/urls.txt" },
	{ { "-i", "/proc" }, "/proc" },
	{ { "--resume", PORT9 }, "--records" },
	{ { "--records", "/tmp/x", "--resume", PORT9 }, "urlnum" },
	{ { "-w%{urlnum} %{http_code}\\n%{size_download}\\n",
	    "--records=/tmp/x", "--resume", PORT9 }, "one line" },
	{ { "-w%{urlnum}%{http_code}\\n", "--records=/tmp/x", "--resume",
	    PORT9 }, "no digit" },
	{ { "-w%{urlnum} %{http_code}", "--records=/tmp/x", "--resume",
	    PORT9 }, "one line" },
	{ { "-m", "0x1e", PORT9 }, "0x1e" },
	{ { "--shard", "3/3", PORT9 }, "3/3" },
	{ { "--shard", "1/0", PORT9 }, "1/0" },
	{ { "--shard", "x/2", PORT9 }, "x/2" },
	{ { "--shard", "1/2x", PORT9 }, "1/2x" },
	{ { "--shard", "-1/2", PORT9 }, "-1/2" },
	{ { "--shard", "99999999999999999999/1", PORT9 },
	    "99999999999999999999/1" },
	{ { "--shard", "0/2", "--shard-by", "dns" }, "dns" },
	{ { "--shard-by", "host", PORT9 }, "--shard" },
};
#undef PORT9

START_TEST(exits_2_with_one_line)
{
	struct usage_case *uc = &usage_cases[_i];
	char *args[4], shown[256] = "", *reason;
	struct proc *p;
	size_t n = 0;

	while (n < 4 && uc->args[n][0] != '\0') {
		args[n] = uc->args[n];
		strncat(shown, " ", sizeof(shown) - strlen(shown) - 1);
		strncat(shown, args[n], sizeof(shown) - strlen(shown) - 1);
		n++;
	}
	p = e2e_runv(NULL, 10, n, args);
	ck_assert_msg(e2e_code(p) == 2, "fetch_urls%s: exit %d, want 2", shown,
	    e2e_code(p));
	ck_assert_msg(p->obuf.len == 0, "fetch_urls%s: stdout:\n%s", shown,
	    proc_msg(&p->obuf));
	ck_assert_msg(proc_match(proc_str(&p->ebuf), "^fetch_urls: [^\n]+ "
	    "\\(try 'fetch_urls --help'\\)\n$", NULL, 0),
	    "fetch_urls%s: stderr is not one usage line:\n%s", shown,
	    proc_msg(&p->ebuf));
	/* The reason: between "fetch_urls: " and " (try". */
	reason = e2e_fmt("%s", proc_str(&p->ebuf) + strlen("fetch_urls: "));
	*strstr(reason, " (try 'fetch_urls --help')") = '\0';
	ck_assert_msg(contains_ci(reason, uc->needle),
	    "fetch_urls%s: message does not name '%s': %s", shown,
	    uc->needle, proc_msg(&p->ebuf));
}
END_TEST

/* A long argument leaves room for the reason after it. */
START_TEST(long_argument_keeps_the_reason)
{
	char path[400] = "/nonexistent/";
	struct proc *p;

	memset(path + strlen(path), 'd', 300);
	p = e2e_run(NULL, 10, "--cookie", path, "http://127.0.0.1:9/", NULL);
	e2e_expect_code(p, 2);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "': No such file or directory "
	    "(try 'fetch_urls --help')\n") != NULL, "stderr:\n%s",
	    proc_msg(&p->ebuf));
}
END_TEST

/* Signals and readers that leave. */

START_TEST(sigint_prints_what_arrived_and_exits_130)
{
	char *key = e2e_key(), *argv[7];
	struct e2e_counts c;
	struct proc *p;
	double sent;

	for (int i = 0; i < 3; i++)
		argv[i + 1] = e2e_url("/hang?key=%s&n=%d", key, i);
	argv[4] = e2e_url("/delay/10?n=4");
	argv[5] = e2e_url("/status/200?n=5");
	argv[6] = NULL;
	p = e2e_spawn(argv, NULL);
	ck_assert_msg(proc_pump(p, p->start + 10, proc_has_lines, 2),
	    "the two fast lines did not arrive:\n%s", proc_msg(&p->obuf));
	c = e2e_count(key, "?until_in_flight=3");
	ck_assert_msg(c.in_flight == 3, "hanging requests not in flight");
	sent = proc_now();
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, sent + 5);
	ck_assert_msg(!p->killed, "still running 5 s after SIGINT");
	e2e_expect_code(p, 130);
	ck_assert_msg(p->end - sent < E2E_SLACK,
	    "exit took %.2f s after SIGINT", p->end - sent);
	/* The three cut short are reported once each, as cancelled. */
	ck_assert_msg(p->nlines == 6, "want 6 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[line_for(p, argv[4])], argv[4], NULL, NULL);
	ok_line(p->lines[line_for(p, argv[5])], argv[5], NULL, NULL);
	for (int i = 1; i < 4; i++)
		ck_assert_str_eq(p->lines[line_for(p, argv[i])], e2e_fmt("%s "
		    "request encountered error: cancelled (interrupted)",
		    argv[i]));
	(void)total_line(p->lines[5]);
	ck_assert_str_eq(proc_str(&p->ebuf),
	    "Summary: 2 succeeded, 0 got HTTP status >= 400, 0 failed "
	    "without a response\n"
	    "fetch_urls: interrupted: 3 of 5 URLs not finished\n");
}
END_TEST

/* Removes the directory dir, failing if anything was left in it. */
static void
expect_empty_dir(const char *dir)
{
	struct dirent *de;
	char *left = e2e_fmt("");
	DIR *d;

	ck_assert((d = opendir(dir)) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			left = e2e_fmt("%s %s", left, de->d_name);
			(void)unlinkat(dirfd(d), de->d_name, 0);
		}
	closedir(d);
	ck_assert_msg(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
	ck_assert_msg(*left == '\0', "left in %s:%s", dir, left);
}

/*
 * SIGHUP, which a closed terminal or a lost ssh session sends, is a
 * cancellation as SIGINT is: what was read gets its line, and the run,
 * incomplete, leaves no --records file, neither FILE nor the temporary
 * file the records went to.  Its default action left the latter.
 */
START_TEST(sighup_cancels_and_leaves_no_records_file)
{
	char dir[] = "/tmp/fetch_urls_e2e.XXXXXX", *key = e2e_key(), *argv[5];
	char *records;
	struct proc *p;

	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	records = e2e_fmt("%s/records", dir);
	argv[1] = "--records";
	argv[2] = records;
	argv[3] = e2e_url("/hang?key=%s", key);
	argv[4] = NULL;
	p = e2e_spawn(argv, NULL);
	ck_assert_msg(e2e_count(key, "?until_in_flight=1").in_flight == 1,
	    "the request is not in flight");
	ck_assert_msg(kill(p->pid, SIGHUP) == 0, "kill: %s", strerror(errno));
	proc_reap(p, proc_now() + 5);
	ck_assert_msg(!p->killed, "still running 5 s after SIGHUP");
	e2e_expect_code(p, 129);
	ck_assert_msg(strstr(proc_str(&p->ebuf), e2e_fmt("fetch_urls: the run "
	    "is incomplete: %s not written\nfetch_urls: interrupted: 1 of 1 "
	    "URLs not finished\n", records)) != NULL, "stderr:\n%s",
	    proc_msg(&p->ebuf));
	expect_empty_dir(dir);
}
END_TEST

/*
 * SIGINT and SIGHUP ignored when fetch_urls starts, as a shell starts a
 * background job and nohup(1) a command, stay ignored: SIGTERM, sent after
 * one of them, is the first signal, which cancels the run.  Were the other
 * taken, the run would end with its status, or SIGTERM, a second signal,
 * would end it at once, without the note.
 */
START_TEST(ignored_sigint_and_sighup_stay_ignored)
{
	static const int sigs[] = { SIGINT, SIGHUP };
	char *key, *argv[6];
	struct proc *p;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		key = e2e_key();
		/* As a shell's trap '' does, the disposition survives exec. */
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = "trap '' INT HUP && exec \"$0\" \"$@\"";
		argv[3] = (char *)e2e_prog;
		argv[4] = e2e_url("/hang?key=%s", key);
		argv[5] = NULL;
		p = e2e_track(proc_spawn(argv, NULL));
		ck_assert_msg(e2e_count(key, "?until_in_flight=1").in_flight ==
		    1, "the request is not in flight");
		ck_assert_msg(kill(p->pid, sigs[i]) == 0 &&
		    kill(p->pid, SIGTERM) == 0, "kill: %s", strerror(errno));
		proc_reap(p, proc_now() + 5);
		ck_assert_msg(!p->killed, "still running 5 s after SIGTERM");
		e2e_expect_code(p, 143);
		ck_assert_msg(strstr(proc_str(&p->ebuf), "fetch_urls: "
		    "interrupted: 1 of 1 URLs not finished\n") != NULL,
		    "stderr:\n%s", proc_msg(&p->ebuf));
	}
}
END_TEST

/* -c prints no speedup when its concurrent run was cut short. */
START_TEST(sigint_in_concurrent_run_of_compare_prints_no_speedup)
{
	char *key = e2e_key(), *argv[6];
	struct e2e_counts c;
	struct proc *p;

	argv[1] = "-c";
	argv[2] = "-m1";
	argv[3] = e2e_url("/hang?key=%s", key);
	argv[4] = e2e_url("/status/200");
	argv[5] = NULL;
	p = e2e_spawn(argv, NULL);
	/* The serial run's two lines and its total. */
	ck_assert_msg(proc_pump(p, p->start + 10, proc_has_lines, 3),
	    "the serial run did not end:\n%s", proc_msg(&p->obuf));
	c = e2e_count(key, "?until_requests=2");
	ck_assert_msg(c.requests == 2, "the concurrent run did not start");
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, proc_now() + 5);
	ck_assert_msg(!p->killed, "still running 5 s after SIGINT");
	e2e_expect_code(p, 130);
	ck_assert_msg(strstr(proc_str(&p->obuf), "speedup") == NULL,
	    "a speedup after an interrupted run:\n%s", proc_msg(&p->obuf));
}
END_TEST

/*
 * The host name whose resolution hang_resolve() makes hang: its transfer's
 * cancellation then waits for the resolution, as libcurl 7.88's does.
 */
#define HANG_HOST	"hang-resolve.test"

/*
 * Makes the runs of fetch_urls the test starts from now on hang in
 * resolving HANG_HOST (tests/preload/hang_resolve.c, built in TEST_BUILD),
 * and returns the test's end of the socket the preloaded library reports
 * on: it gets a byte once a resolution is under way, which lasts until
 * the test closes that end or ends.
 */
static int
hang_resolve(void)
{
	const char *build = getenv("TEST_BUILD");
	const char *asan = getenv("ASAN_OPTIONS");
	int sv[2];

	ck_assert_msg(build != NULL, "set TEST_BUILD to the build directory");
	ck_assert_msg(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) == 0, "socketpair: %s", strerror(errno));
	/* fetch_urls inherits sv[1]; the test keeps sv[0] to itself. */
	ck_assert(fcntl(sv[1], F_SETFD, 0) == 0);
	ck_assert(setenv("LD_PRELOAD", e2e_fmt("%s/tests/hang_resolve.so",
	    build), 1) == 0);
	ck_assert(setenv("HANG_RESOLVE_HOST", HANG_HOST, 1) == 0);
	ck_assert(setenv("HANG_RESOLVE_FD", e2e_fmt("%d", sv[1]), 1) == 0);
	/*
	 * AddressSanitizer wants its runtime first among the libraries, where
	 * the preloaded one is, which needs no instrumentation: the check is
	 * turned off.  Programs without AddressSanitizer ignore the variable.
	 */
	ck_assert(setenv("ASAN_OPTIONS", e2e_fmt("%s%s%s",
	    asan != NULL ? asan : "", asan != NULL && *asan != '\0' ? ":" :
	    "", "verify_asan_link_order=0"), 1) == 0);
	return sv[0];
}

/* Waits up to 10 s for the byte on hang_resolve()'s socket fd. */
static void
wait_resolving(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char c;

	ck_assert_msg(poll(&pfd, 1, 10 * 1000) == 1 && read(fd, &c, 1) == 1,
	    "no resolution of %s under way", HANG_HOST);
}

/*
 * Waits up to 10 s until process pid has taken the signal sig, which is
 * pending until then (ShdPnd in /proc/PID/status): a second sig sent
 * before would merge with the first.
 */
static void
wait_signal_taken(pid_t pid, int sig)
{
	const char *path = e2e_fmt("/proc/%d/status", (int)pid);
	struct timespec tick = { 0, 1000 * 1000 };
	double limit = proc_now() + 10;
	unsigned long long pending;
	char line[256];
	FILE *fp;

	for (;;) {
		ck_assert_msg((fp = fopen(path, "r")) != NULL, "%s: %s", path,
		    strerror(errno));
		pending = 0;
		while (fgets(line, sizeof(line), fp) != NULL &&
		    sscanf(line, "ShdPnd: %llx", &pending) != 1)
			continue;
		fclose(fp);
		if ((pending >> (sig - 1) & 1) == 0)
			return;
		ck_assert_msg(proc_now() < limit,
		    "signal %d not taken in 10 s", sig);
		nanosleep(&tick, NULL);
	}
}

/*
 * Sends p SIGINT, and once it is taken a second one, and checks that p
 * then ends at once with status 130.
 */
static void
interrupt_twice(struct proc *p)
{
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	wait_signal_taken(p->pid, SIGINT);
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, proc_now() + 5);
	ck_assert_msg(!p->killed, "still running 5 s after a second SIGINT");
	e2e_expect_code(p, 130);
}

/*
 * A second SIGINT while the cancellation hangs, here in a host name's
 * resolution, ends the program at once with status 130, and leaves what
 * it had: the records on the pipe, the one the first signal cancelled
 * among them, and no progress line on the terminal.  (Main writes its
 * records out whenever it waits, so they were out before the second
 * signal; the progress line is what a bare _exit() left.)
 */
START_TEST(second_sigint_while_cancel_hangs_keeps_records)
{
	/* How a progress line ends, and how it is erased. */
	static const char drawn[] = "/s\033[K", erase[] = "\r\033[K";
	char *key = e2e_key(), *args[3];
	const char *last = NULL, *q;
	struct proc *p;
	int fd = hang_resolve();

	args[0] = e2e_url("/status/200");
	args[1] = e2e_url("/hang?key=%s", key);
	args[2] = e2e_fmt("http://%s:%d/", HANG_HOST, e2e_fx.http);
	p = e2e_spawn_pty(false, 80, 3, args);
	wait_resolving(fd);
	ck_assert_msg(proc_pump(p, p->start + 10, proc_has_lines, 1),
	    "the fast line did not arrive:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(e2e_count(key, "?until_in_flight=1").in_flight == 1,
	    "/hang not in flight");
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	/* /hang's line says the first signal has cancelled the run. */
	ck_assert_msg(proc_pump(p, proc_now() + 10, proc_has_lines, 2),
	    "no line for /hang after SIGINT:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, proc_now() + 5);
	ck_assert_msg(!p->killed, "still running 5 s after a second SIGINT");
	e2e_expect_code(p, 130);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], args[0], NULL, NULL);
	ck_assert_str_eq(p->lines[1], e2e_fmt("%s request encountered error: "
	    "cancelled (interrupted)", args[1]));
	/*
	 * The last progress line drawn is erased.  A ThreadSanitizer build
	 * then reports the threads that the exit left unjoined.
	 */
	for (q = proc_str(&p->ebuf); (q = strstr(q, drawn)) != NULL; q++)
		last = q + sizeof(drawn) - 1;
	ck_assert_msg(last != NULL && strncmp(last, erase,
	    sizeof(erase) - 1) == 0,
	    "the last progress line drawn is not erased:\n%s",
	    proc_msg(&p->ebuf));
}
END_TEST

/*
 * A second SIGINT while the cancellation hangs leaves no --records file:
 * neither FILE, which only a complete run writes, nor the temporary file
 * the records went to.
 */
START_TEST(second_sigint_while_cancel_hangs_leaves_no_records_file)
{
	char dir[] = "/tmp/fetch_urls_e2e.XXXXXX", *argv[6];
	struct proc *p;
	int fd = hang_resolve();

	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	argv[1] = "--records";
	argv[2] = e2e_fmt("%s/records", dir);
	argv[3] = e2e_url("/status/200");
	argv[4] = e2e_fmt("http://%s:%d/", HANG_HOST, e2e_fx.http);
	argv[5] = NULL;
	p = e2e_spawn(argv, NULL);
	wait_resolving(fd);
	interrupt_twice(p);
	expect_empty_dir(dir);
}
END_TEST

/* For proc_pump(): the progress line on p's terminal says n/3 done. */
static bool
three_progress_done(const struct proc *p, size_t n)
{
	return strstr(proc_str(&p->ebuf), e2e_fmt("\r%zu/3 done", n)) !=
	    NULL;
}

/*
 * A second SIGINT while the cancellation of a URL hangs, with --ordered,
 * writes the results held back behind it, in order: they are finished.
 * The hung URL itself has no result, so it has no line.
 */
START_TEST(second_sigint_writes_what_ordered_holds)
{
	char *args[4];
	struct proc *p;
	int fd = hang_resolve(), status;

	args[0] = "--ordered";
	args[1] = e2e_fmt("http://%s:%d/", HANG_HOST, e2e_fx.http);
	args[2] = e2e_url("/status/201");
	args[3] = e2e_url("/status/200");
	p = e2e_spawn_pty(false, 80, 4, args);
	wait_resolving(fd);
	/* Both results are in, held behind the first URL. */
	ck_assert_msg(proc_pump(p, p->start + 10, three_progress_done, 2),
	    "no 2/3 done on the terminal:\n%s", proc_msg(&p->ebuf));
	ck_assert_msg(p->obuf.len == 0, "printed before the first URL:\n%s",
	    proc_msg(&p->obuf));
	interrupt_twice(p);
	ck_assert_msg(p->nlines == 2, "want 2 lines:\n%s", proc_msg(&p->obuf));
	ok_line(p->lines[0], args[2], NULL, &status);
	ck_assert_int_eq(status, 201);
	ok_line(p->lines[1], args[3], NULL, &status);
	ck_assert_int_eq(status, 200);
}
END_TEST

/*
 * Runs fetch_urls with argv as "fetch_urls ... | head -1" would: the
 * reader leaves after the first line.  Fails unless the program then
 * ends, within 10 s, with status 3 (the run is incomplete) and nothing on
 * standard error.
 */
static struct proc *
leave_after_one_line(char **argv)
{
	struct proc *p = e2e_spawn(argv, NULL);

	ck_assert_msg(proc_pump(p, p->start + 10, proc_has_lines, 1),
	    "no first line:\n%s", proc_msg(&p->obuf));
	proc_close(&p->out);
	proc_reap(p, proc_now() + 10);
	ck_assert_msg(!p->killed, "still running 10 s after its reader left");
	e2e_expect_code(p, 3);
	expect_no_stderr(p);
	return p;
}

START_TEST(reader_closing_pipe_after_one_line)
{
	char *argv[6];
	struct proc *p;

	argv[1] = e2e_url("/delay/10");
	for (int i = 2; i < 5; i++)
		argv[i] = e2e_url("/delay/400?n=%d", i);
	argv[5] = NULL;
	p = leave_after_one_line(argv);
	ck_assert_msg(p->end - p->start < 0.4 + E2E_SLACK + 2,
	    "took %.2f s", p->end - p->start);
}
END_TEST

/*
 * A reader that leaves is seen while the other URLs still run, not only
 * when the next one finishes: here that would be after 30 s, -m's default.
 */
START_TEST(reader_leaving_seen_while_a_url_hangs)
{
	char *argv[4];

	argv[1] = e2e_url("/delay/10");
	argv[2] = e2e_url("/hang");
	argv[3] = NULL;
	(void)leave_after_one_line(argv);
}
END_TEST

/* For main.c: the suites of this file, a test case per time limit. */
Suite *
e2e_output_suite(void)
{
	Suite *s = suite_create("e2e_output");
	TCase *tc;

	tc = tcase_create("e2e_output");
	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, line_format_to_the_byte);
	tcase_add_test(tc, csv_without_records_is_its_header);
	tcase_add_test(tc, arrival_order_fast_listed_last_prints_first);
	tcase_add_test(tc, concurrent_total_near_slowest);
	tcase_add_test(tc, serial_in_input_order_total_near_sum);
	tcase_add_test(tc, quiet_drops_total_line);
	tcase_add_test(tc, quiet_records_come_before_the_speedup);
	suite_add_tcase(s, tc);

	tc = tcase_create("e2e_output_slow");
	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, three_hundred_concurrent_urls_all_reported);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
e2e_options_suite(void)
{
	Suite *s = suite_create("e2e_options");
	TCase *tc = tcase_create("e2e_options");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, compare_serial_then_concurrent_then_speedup);
	tcase_add_test(tc, compare_quiet_keeps_only_the_comparison);
	tcase_add_loop_test(tc, jobs_bounds_requests_in_flight, 0,
	    (int)(sizeof(jobs_cases) / sizeof(jobs_cases[0])));
	tcase_add_test(tc, input_file_with_args_comments_and_blanks);
	tcase_add_test(tc, input_from_stdin);
	tcase_add_test(tc, closed_stdin_is_a_usage_error);
	tcase_add_test(tc, max_time_cuts_a_hanging_request);
	tcase_add_test(tc, connect_timeout_accepted);
	tcase_add_test(tc, deadline_cancels_hanging_urls);
	tcase_add_test(tc, deadline_holds_while_results_pour_in);
	tcase_add_test(tc, deadline_cancels_a_serial_transfer_in_flight);
	tcase_add_test(tc, cancel_reaches_every_worker_of_a_large_pool);
	tcase_add_test(tc, help_lists_every_option);
	tcase_add_test(tc, version_names_program_and_libcurl);
	tcase_add_test(tc, gnutls_is_not_initialised_at_start);
	tcase_add_test(tc, schemeless_url_gets_http);
	tcase_add_test(tc, international_host_name_in_utf8_locale);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
e2e_errors_suite(void)
{
	Suite *s = suite_create("e2e_errors");
	TCase *tc = tcase_create("e2e_errors");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, refused_connection);
	tcase_add_test(tc, unresolvable_host);
	tcase_add_test(tc, unsupported_schemes_refused_without_request);
	tcase_add_test(tc, https_self_signed_certificate_rejected);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
e2e_exit_suite(void)
{
	Suite *s = suite_create("e2e_exit");
	TCase *tc = tcase_create("e2e_exit");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, zero_when_every_status_below_400);
	tcase_add_loop_test(tc, one_when_a_status_is_400_or_more, 0,
	    (int)(sizeof(fail_codes) / sizeof(fail_codes[0])));
	suite_add_tcase(s, tc);
	return s;
}

Suite *
e2e_usage_suite(void)
{
	Suite *s = suite_create("e2e_usage");
	TCase *tc = tcase_create("e2e_usage");

	tcase_add_checked_fixture(tc, e2e_setup_prog, e2e_teardown);
	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, long_argument_keeps_the_reason);
	tcase_add_loop_test(tc, exits_2_with_one_line, 0,
	    (int)(sizeof(usage_cases) / sizeof(usage_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

Suite *
e2e_signal_suite(void)
{
	Suite *s = suite_create("e2e_signal");
	TCase *tc = tcase_create("e2e_signal");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sigint_prints_what_arrived_and_exits_130);
	tcase_add_test(tc, sigint_in_concurrent_run_of_compare_prints_no_speedup);
	tcase_add_test(tc, sighup_cancels_and_leaves_no_records_file);
	tcase_add_test(tc, ignored_sigint_and_sighup_stay_ignored);
	tcase_add_test(tc, second_sigint_while_cancel_hangs_keeps_records);
	tcase_add_test(tc,
	    second_sigint_while_cancel_hangs_leaves_no_records_file);
	tcase_add_test(tc, second_sigint_writes_what_ordered_holds);
	tcase_add_test(tc, reader_closing_pipe_after_one_line);
	tcase_add_test(tc, reader_leaving_seen_while_a_url_hangs);
	suite_add_tcase(s, tc);
	return s;
}
