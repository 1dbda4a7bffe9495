/* test_examples.c: every example program, run and judged by what it prints. */

/*
 * Each test runs one program from the directory named by the environment
 * variable EXAMPLES_DIR (make test sets it; under make check-sanitize it
 * names the instrumented build) through e2e.c, and checks its standard
 * output, standard error and exit status: to the byte where the program
 * makes them deterministic, by pattern where they hold a pointer, a time
 * or libcurl's wording.
 *
 * The healthzs tests start the fixture server (tests/fixture.py) in their
 * own process, since Check runs every test in a process of its own, and
 * the test case's teardown stops it (or end of file on its standard input
 * when a failed assertion ends the test first).  They talk to 127.0.0.1
 * only.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

/* A run still going after this many seconds is killed and fails. */
#define EX_LIMIT	20.0

#define EX_MAXARGS	16

/* What the healthzs output marks mean; the same bytes as in healthzs.c. */
#define EX_OK		"\u2714"
#define EX_FAIL		"\u2718"

static const char *ex_dir;			/* from EXAMPLES_DIR */

static void
ex_setup(void)
{
	struct rlimit none = { 0, 0 };

	proc_std_fds();
	/* A child that stops reading must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	/* The deadlock example aborts: no core file, no time spent on one. */
	(void)setrlimit(RLIMIT_CORE, &none);
	ex_dir = getenv("EXAMPLES_DIR");
	ck_assert_msg(ex_dir != NULL && access(ex_dir, X_OK) == 0,
	    "set EXAMPLES_DIR to the directory of the example programs "
	    "(got %s)", ex_dir ? ex_dir : "nothing");
}

/* Starts the fixture, e2e_fx, for this test; e2e_teardown() stops it. */
static void
ex_fixture(void)
{
	proc_fixture_start(&e2e_fx, ex_dir);
}

/*
 * Runs the example called name with the arguments that follow, up to a
 * NULL, and waits up to limit seconds for it.  Fails the test if it
 * overran or left a partial last line.
 */
static struct proc *
ex_run(double limit, const char *name, ...)
{
	char path[4096], *argv[EX_MAXARGS + 2];
	size_t n = 1;
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", ex_dir, name);
	ck_assert_msg(access(path, X_OK) == 0, "no example program %s", path);
	argv[0] = path;
	va_start(ap, name);
	while (n <= EX_MAXARGS && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return e2e_exec(NULL, limit, argv, true);
}

static void
ex_expect_exit(const struct proc *p, int code)
{
	ck_assert_msg(WIFEXITED(p->status) && WEXITSTATUS(p->status) == code,
	    "wanted exit status %d, got wait status 0x%x; stdout:\n%s\n"
	    "stderr:\n%s", code, p->status, proc_msg(&p->obuf),
	    proc_msg(&p->ebuf));
}

static void
ex_expect_out(const struct proc *p, const char *want)
{
	ck_assert_msg(strcmp(proc_str(&p->obuf), want) == 0,
	    "stdout:\n%s\nwanted:\n%s", proc_msg(&p->obuf), want);
}

static void
ex_expect_err(const struct proc *p, const char *want)
{
	ck_assert_msg(strcmp(proc_str(&p->ebuf), want) == 0,
	    "stderr:\n%s\nwanted:\n%s", proc_msg(&p->ebuf), want);
}

START_TEST(pingpong_alternates_and_returns_the_ball)
{
	struct proc *p = ex_run(EX_LIMIT, "pingpong", NULL);

	ex_expect_exit(p, 0);
	/* The rendezvous orders the two threads' lines without a lock. */
	ex_expect_out(p,
	    "ping 0\npong 0\nping 1\npong 1\nping 2\npong 2\n"
	    "ping 3\npong 3\nping 4\npong 4\nfinal ball 5\n");
	ex_expect_err(p, "");
}
END_TEST

START_TEST(buffered_fills_refuses_closes_and_drains)
{
	struct proc *p = ex_run(EX_LIMIT, "buffered", NULL);

	ex_expect_exit(p, 0);
	ex_expect_out(p,
	    "sent 1 (len 1, cap 3)\n"
	    "sent 2 (len 2, cap 3)\n"
	    "sent 3 (len 3, cap 3)\n"
	    "send 4 would block: buffer full\n"
	    "send after close: channel closed\n"
	    "received 1\n"
	    "received 2\n"
	    "received 3\n"
	    "received 0, ok=false: closed and drained\n");
	ex_expect_err(p, "");
}
END_TEST

/*
 * a arrives at 50 ms, b at 450 ms, and each select waits 250 ms: after a,
 * one select times out (at about 300 ms) and the next one gets b.
 */
START_TEST(select_timeout_gets_a_then_one_timeout_then_b)
{
	struct proc *p = ex_run(EX_LIMIT, "select_timeout", NULL);

	ex_expect_exit(p, 0);
	ex_expect_out(p, "from a: 1\ntimeout: nothing within 250 ms\n"
	    "from b: 2\n");
	ex_expect_err(p, "");
}
END_TEST

START_TEST(worker_pool_sums_the_squares)
{
	struct proc *p = ex_run(EX_LIMIT, "worker_pool", NULL);

	ex_expect_exit(p, 0);
	/* 1 + 4 + ... + 81. */
	ex_expect_out(p, "3 workers squared 9 jobs: sum 285\n");
	ex_expect_err(p, "");
}
END_TEST

START_TEST(nil_channel_fails_instead_of_hanging_and_says_so)
{
	struct proc *p = ex_run(EX_LIMIT, "nil_channel", NULL);

	ex_expect_exit(p, 0);
	ex_expect_out(p,
	    "send on a NULL channel: EDEADLK, it would block forever\n"
	    "timed receive on a NULL channel: ETIMEDOUT\n"
	    "select chose case 1 and received 42\n");
	/* The library's diagnostic, on with chan_debug(true). */
	ex_expect_err(p, "chan: chan send on a NULL channel would block "
	    "forever: failing with EDEADLK\n");
}
END_TEST

/*
 * The leak example never frees its channels, because its worker may still
 * be blocked on them; LeakSanitizer would rightly report them, so it is
 * off for this child (each Check test is a process of its own: the
 * setting reaches no other test).
 */
static void
ex_no_leak_checks(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char opts[1024];

	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0", old ? old : "",
	    old && *old ? ":" : "");
	ck_assert_msg(setenv("ASAN_OPTIONS", opts, 1) == 0, "setenv: %s",
	    strerror(errno));
}

START_TEST(leak_unbuffered_worker_stays_blocked_and_is_reported)
{
	struct proc *p;
	double blocked;

	ex_no_leak_checks();
	p = ex_run(EX_LIMIT, "leak", NULL);
	ex_expect_exit(p, 0);
	ex_expect_out(p, "answer channel capacity 0\n"
	    "query: gave up after 0.3 s\n"
	    "worker still blocked after 2 s: leaked\n");
	/*
	 * The worker is the first chan_go() thread, number 2.  It blocks
	 * 1 s after it starts and main leaves about 2.3 s after it started
	 * the worker, so the report shows it blocked for about 1.3 s.
	 */
	ck_assert_msg(proc_match(proc_str(&p->ebuf),
	    "^chan: 1 thread still blocked at exit \\(leaked\\):\n"
	    "chan:   thread 2 \\[chan send\\]: channel 0x[0-9a-f]+ "
	    "\\(4-byte values, cap 0\\), blocked ([0-9]+\\.[0-9]{2})s\n$",
	    &blocked, 1), "no leak report naming the blocked send:\n%s",
	    proc_msg(&p->ebuf));
	ck_assert_msg(blocked >= 0.5 && blocked < 1.3 + E2E_SLACK,
	    "blocked %.2f s, wanted about 1.3 s", blocked);
}
END_TEST

START_TEST(leak_buffered_worker_finishes_without_report)
{
	struct proc *p;

	ex_no_leak_checks();
	p = ex_run(EX_LIMIT, "leak", "-b", NULL);
	ex_expect_exit(p, 0);
	ex_expect_out(p, "answer channel capacity 1\n"
	    "query: gave up after 0.3 s\n"
	    "worker finished\n");
	ex_expect_err(p, "");
}
END_TEST

START_TEST(deadlock_aborts_with_gos_message)
{
	struct proc *p = ex_run(EX_LIMIT, "deadlock", NULL);

	ck_assert_msg(WIFSIGNALED(p->status) && WTERMSIG(p->status) == SIGABRT,
	    "wanted death by SIGABRT, got wait status 0x%x; stderr:\n%s",
	    p->status, proc_msg(&p->ebuf));
	ex_expect_out(p, "");
	/* Only main is left, blocked in its untimed receive. */
	ck_assert_msg(proc_match(proc_str(&p->ebuf),
	    "^fatal error: all threads are asleep - deadlock!\n\n"
	    "thread 1 \\(main\\) \\[chan receive\\]: channel 0x[0-9a-f]+ "
	    "\\(4-byte values, cap 0\\), blocked [0-9]+\\.[0-9]{2}s\n$",
	    NULL, 0), "not the deadlock report:\n%s", proc_msg(&p->ebuf));
}
END_TEST

/*
 * Healthy: a 2xx body that is not JSON, a test report with no failures,
 * and JSON that is not a test report.
 */
START_TEST(healthzs_all_healthy_exits_0)
{
	char *a, *b, *c, want[1024];
	struct proc *p;

	ex_fixture();
	a = e2e_url("/status/200");
	b = e2e_url("/report/0");
	c = e2e_url("/headers");
	p = ex_run(EX_LIMIT, "healthzs", "--server", a, "-s", b,
	    "--server", c, NULL);
	ex_expect_exit(p, 0);
	snprintf(want, sizeof(want), EX_OK " %s\n" EX_OK " %s\n" EX_OK " %s\n"
	    "3 servers: 3 healthy, 0 failing\n", a, b, c);
	ex_expect_out(p, want);
	ex_expect_err(p, "");
}
END_TEST

/*
 * Every kind of failure, listed after a slow healthy server: the lines
 * come in the order given although the slow one finishes last.
 */
START_TEST(healthzs_failures_in_given_order_exit_1)
{
	char *u[7], want[8][256];
	struct proc *p;

	ex_fixture();
	u[0] = e2e_url("/delay/600");
	u[1] = e2e_url("/status/404");
	u[2] = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	u[3] = e2e_url("/report/2");
	u[4] = e2e_url("/report/1");
	u[5] = e2e_url("/report/1?status=500");
	u[6] = e2e_url("/report/3?quoted=1");
	p = ex_run(EX_LIMIT, "healthzs", "-s", u[0], "-s", u[1], "-s", u[2],
	    "-s", u[3], "-s", u[4], "-s", u[5], "-s", u[6], NULL);
	ex_expect_exit(p, 1);
	ex_expect_err(p, "");
	ck_assert_msg(p->nlines == 8, "wanted 8 lines:\n%s",
	    proc_msg(&p->obuf));
	snprintf(want[0], sizeof(want[0]), EX_OK " %s", u[0]);
	snprintf(want[1], sizeof(want[1]), EX_FAIL " %s: HTTP 404", u[1]);
	/* The refused connection's reason is libcurl's own wording. */
	snprintf(want[2], sizeof(want[2]), EX_FAIL " %s: ", u[2]);
	snprintf(want[3], sizeof(want[3]), EX_FAIL " %s: 2 tests failed",
	    u[3]);
	snprintf(want[4], sizeof(want[4]), EX_FAIL " %s: 1 test failed",
	    u[4]);
	snprintf(want[5], sizeof(want[5]), EX_FAIL " %s: HTTP 500, 1 test "
	    "failed", u[5]);
	snprintf(want[6], sizeof(want[6]), EX_FAIL " %s: test report's "
	    "failed-count is not a whole number", u[6]);
	snprintf(want[7], sizeof(want[7]), "7 servers: 1 healthy, 6 failing");
	for (size_t i = 0; i < 8; i++) {
		if (i == 2)
			ck_assert_msg(strncmp(p->lines[i], want[i],
			    strlen(want[i])) == 0 && strstr(p->lines[i] +
			    strlen(want[i]), "onnect") != NULL,
			    "line 3 is \"%s\", wanted a refused connection "
			    "for %s", p->lines[i], u[2]);
		else
			ck_assert_msg(strcmp(p->lines[i], want[i]) == 0,
			    "line %zu is \"%s\", wanted \"%s\"", i + 1,
			    p->lines[i], want[i]);
	}
}
END_TEST

/*
 * Concurrency without a stopwatch: each of the three servers answers only
 * once the fixture has seen all three requests (or after 20 s), so the
 * first two answer only while the third is in flight too.  Polled one at
 * a time, the first two would wait past healthzs's 5 s timeout and fail.
 */
START_TEST(healthzs_polls_every_server_at_once)
{
	char *u[3], want[1024];
	struct proc *p;

	ex_fixture();
	for (int i = 0; i < 3; i++)
		u[i] = e2e_url("/count/hz%ld?until_requests=3&timeout=20&"
		    "key=hz%ld&n=%d", (long)getpid(), (long)getpid(), i);
	p = ex_run(EX_LIMIT, "healthzs", "-t", "5", "-s", u[0], "-s", u[1],
	    "-s", u[2], NULL);
	ex_expect_exit(p, 0);
	snprintf(want, sizeof(want), EX_OK " %s\n" EX_OK " %s\n" EX_OK " %s\n"
	    "3 servers: 3 healthy, 0 failing\n", u[0], u[1], u[2]);
	ex_expect_out(p, want);
	ex_expect_err(p, "");
}
END_TEST

START_TEST(healthzs_timeout_fails_a_hanging_server)
{
	char *hang, *ok, want[512];
	struct proc *p;
	double took;

	ex_fixture();
	hang = e2e_url("/hang");
	ok = e2e_url("/status/200");
	p = ex_run(EX_LIMIT, "healthzs", "--timeout", "0.5", "-s", hang,
	    "-s", ok, NULL);
	took = p->end - p->start;
	ex_expect_exit(p, 1);
	ex_expect_err(p, "");
	ck_assert_msg(p->nlines == 3, "wanted 3 lines:\n%s",
	    proc_msg(&p->obuf));
	snprintf(want, sizeof(want), EX_FAIL " %s: ", hang);
	ck_assert_msg(strncmp(p->lines[0], want, strlen(want)) == 0 &&
	    strstr(p->lines[0], "timed out") != NULL,
	    "not a timeout line for %s: %s", hang, p->lines[0]);
	snprintf(want, sizeof(want), EX_OK " %s", ok);
	ck_assert_str_eq(p->lines[1], want);
	ck_assert_str_eq(p->lines[2], "2 servers: 1 healthy, 1 failing");
	ck_assert_msg(took >= 0.45 && took < 0.5 + E2E_SLACK,
	    "--timeout 0.5 run took %.2f s", took);
}
END_TEST

START_TEST(healthzs_usage_errors_exit_2)
{
	/* Port 9 on loopback: nothing listens, nothing may be fetched. */
	static char *const cases[][4] = {
		{ NULL },
		{ "--bogus", "-s", "http://127.0.0.1:9/", NULL },
		{ "-x", NULL },
		{ "-s", NULL },
		{ "-t", "0", "-s", "http://127.0.0.1:9/" },
		{ "--timeout", "abc", "-s", "http://127.0.0.1:9/" },
		{ "-t", "5s", "-s", "http://127.0.0.1:9/" },
		{ "http://127.0.0.1:9/", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *const *a = cases[i];
		struct proc *p;

		p = ex_run(EX_LIMIT, "healthzs", a[0], a[0] ? a[1] : NULL,
		    a[0] && a[1] ? a[2] : NULL,
		    a[0] && a[1] && a[2] ? a[3] : NULL, NULL);
		ex_expect_exit(p, 2);
		ex_expect_out(p, "");
		ck_assert_msg(proc_match(proc_str(&p->ebuf), "^healthzs: "
		    "[^\n]+ \\(try 'healthzs --help'\\)\n$", NULL, 0),
		    "case %zu: stderr is not one usage line:\n%s", i,
		    proc_msg(&p->ebuf));
		e2e_free(p);
	}
}
END_TEST

START_TEST(healthzs_help_lists_every_option)
{
	static char *const flags[] = { "-h", "--help" };
	static const char *const opts[] = { "--help", "--server",
	    "--timeout" };

	for (size_t f = 0; f < 2; f++) {
		struct proc *p = ex_run(EX_LIMIT, "healthzs", flags[f], NULL);

		ex_expect_exit(p, 0);
		ex_expect_err(p, "");
		ck_assert_msg(strncmp(proc_str(&p->obuf), "usage: healthzs ",
		    16) == 0, "%s: no synopsis:\n%s", flags[f],
		    proc_msg(&p->obuf));
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			ck_assert_msg(strstr(proc_str(&p->obuf), opts[i]) !=
			    NULL, "%s does not mention %s", flags[f], opts[i]);
	}
}
END_TEST

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
examples_suite(void)
{
	Suite *s = suite_create("examples");
	TCase *tc = tcase_create("examples");

	tcase_add_checked_fixture(tc, ex_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, pingpong_alternates_and_returns_the_ball);
	tcase_add_test(tc, buffered_fills_refuses_closes_and_drains);
	tcase_add_test(tc, select_timeout_gets_a_then_one_timeout_then_b);
	tcase_add_test(tc, worker_pool_sums_the_squares);
	tcase_add_test(tc, nil_channel_fails_instead_of_hanging_and_says_so);
	tcase_add_test(tc,
	    leak_unbuffered_worker_stays_blocked_and_is_reported);
	tcase_add_test(tc, leak_buffered_worker_finishes_without_report);
	tcase_add_test(tc, deadlock_aborts_with_gos_message);
	tcase_add_test(tc, healthzs_all_healthy_exits_0);
	tcase_add_test(tc, healthzs_failures_in_given_order_exit_1);
	tcase_add_test(tc, healthzs_polls_every_server_at_once);
	tcase_add_test(tc, healthzs_timeout_fails_a_hanging_server);
	tcase_add_test(tc, healthzs_usage_errors_exit_2);
	tcase_add_test(tc, healthzs_help_lists_every_option);
	suite_add_tcase(s, tc);
	return s;
}
