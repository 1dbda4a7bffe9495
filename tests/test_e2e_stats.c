/* test_e2e_stats.c: end-to-end tests of --stats against the fixture. */

/*
 * Every test runs the binary named by FETCH_URLS against the fixture
 * (e2e.h) and hands what it printed to tests/check_stats.py, which parses
 * the JSON report with Python's json module and checks every figure
 * against the run's own --json records (exactly, or within the stated
 * relative error of the histograms) and against the delays the URLs ask
 * for: a request takes at least its delay, and less than E2E_SLACK more.
 * The text report is checked here, and its drawing under a pseudo-
 * terminal, in a UTF-8 locale and in the C locale.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

/*
 * Runs tests/check_stats.py with args (ended by NULL) and input on its
 * standard input, and fails the test unless it says "ok".
 */
static void
es_check(const char *input, ...)
{
	char *py[8];
	struct proc *c;
	va_list ap;
	size_t n = 0;

	py[n++] = "python3";
	py[n++] = e2e_test_file("check_stats.py");
	va_start(ap, input);
	while (n < 7 && (py[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	py[n] = NULL;
	c = e2e_exec(input, 30, py, false);
	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0 &&
	    strcmp(proc_str(&c->obuf), "ok\n") == 0, "%s rejected: %s%s\n"
	    "input's end:\n%s", py[2], proc_msg(&c->obuf),
	    proc_msg(&c->ebuf), input + (strlen(input) > PROC_MSG_MAX ?
	    strlen(input) - PROC_MSG_MAX : 0));
}

/* A run's standard output, "--stderr--", then its standard error. */
static const char *
es_both(const struct proc *p)
{
	return e2e_fmt("%s--stderr--\n%s", proc_str(&p->obuf),
	    proc_str(&p->ebuf));
}

/*
 * Puts /delay/10 ... /delay/(10 n) into args, the first, third... on
 * 127.0.0.1 and the others on localhost; returns n.
 */
static size_t
es_delays(char **args, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		args[i] = e2e_fmt("http://%s:%d/delay/%zu", i % 2 == 0 ?
		    "127.0.0.1" : "localhost", e2e_fx.http, 10 * (i + 1));
	return n;
}

/* The six times of a row of the text report: min ... mean. */
#define ES_TIMES	"( +[0-9]+\\.[0-9]{4}s){6}"

/* Fails the test unless whole lines of p's standard error match re. */
static void
es_expect_lines(const struct proc *p, const char *re)
{
	ck_assert_msg(proc_match(proc_str(&p->ebuf), e2e_fmt("(^|\n)%s(\n|$)",
	    re), NULL, 0), "no lines /%s/ in:\n%s", re, proc_msg(&p->ebuf));
}

START_TEST(delays_checked_against_records_and_known_delays)
{
	char *args[110];
	size_t n = 0;
	struct proc *p;

	args[n++] = "--json";
	args[n++] = "--stats=json";
	n += es_delays(args + n, 100);
	p = e2e_runv(NULL, 30, n, args);
	e2e_expect_code(p, 0);
	es_check(es_both(p), "delays", e2e_fmt("%g", E2E_SLACK), NULL);
}
END_TEST

/* One URL of each outcome, a secret in one; --deadline cancels /hang. */
static size_t
es_outcomes(char **args)
{
	size_t n = 0;

	args[n++] = "--deadline";
	args[n++] = "2";
	args[n++] = e2e_url("/status/200");
	args[n++] = e2e_url("/status/302");
	args[n++] = e2e_url("/status/404");
	args[n++] = e2e_url("/status/503");
	args[n++] = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	args[n++] = e2e_fmt("ftp://127.0.0.1:%d/", e2e_fx.http);
	args[n++] = e2e_url("/truncated");
	args[n++] = e2e_url("/hang");
	args[n++] = e2e_fmt("http://u:s3cret@127.0.0.1:%d/delay/300",
	    e2e_fx.http);
	return n;
}

START_TEST(outcomes_by_kind_in_json)
{
	char *args[16];
	size_t n = 0;
	struct proc *p;

	args[n++] = "--json";
	args[n++] = "--stats=json";
	n += es_outcomes(args + n);
	p = e2e_runv(NULL, 30, n, args);
	/* The deadline cancelled a URL: the run is incomplete. */
	e2e_expect_code(p, 3);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "s3cret") == NULL,
	    "a password in:\n%s", proc_msg(&p->ebuf));
	es_check(es_both(p), "outcomes", e2e_fmt("%g", E2E_SLACK), NULL);
}
END_TEST

START_TEST(outcomes_by_kind_in_text)
{
	static const char *const rows[] = { "URLs +9", "2xx +2",
	    "3xx +1", "4xx +1", "5xx +1", "errors +3",
	    "  Couldn't connect to server +1", "  unsupported scheme +1",
	    "  incomplete response +1", "cancelled +1",
	    " +min +p50 +p90 +p99 +max +mean",
	    "total +" ES_TIMES, "ttfb +" ES_TIMES,
	    "Slowest:\n +0\\.[3-9][0-9]{3}s  200  http://\\*\\*\\*@127\\.0\\."
	    "0\\.1:[0-9]+/delay/300",
	    "Hosts:\n +host +URLs +errors +p50 +p99\n"
	    "  127\\.0\\.0\\.1 +9 +5 +0\\.[0-9]{4}s +0\\.[0-9]{4}s",
	    "Summary: 3 succeeded, 2 got HTTP status >= 400, 4 failed "
	    "without a response\nStatistics" };
	char *args[16];
	size_t n = 0, i;
	struct proc *p;

	args[n++] = "--stats";
	n += es_outcomes(args + n);
	p = e2e_runv(NULL, 30, n, args);
	/* The deadline cancelled a URL: the run is incomplete. */
	e2e_expect_code(p, 3);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		es_expect_lines(p, rows[i]);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "s3cret") == NULL,
	    "a password in:\n%s", proc_msg(&p->ebuf));
	/* Standard output keeps only the records and the total. */
	ck_assert_msg(strstr(proc_str(&p->obuf), "Statistics") == NULL &&
	    p->nlines == 10, "stdout:\n%s", proc_msg(&p->obuf));
}
END_TEST

START_TEST(compare_side_by_side)
{
	static const char *const rows[] = {
	    "Statistics +serial +concurrent", "URLs +10 +10",
	    "2xx +10 +10", "errors +0 +0",
	    "total +serial" ES_TIMES "\n +concurrent" ES_TIMES,
	    "Slowest \\(serial\\):", "Slowest \\(concurrent\\):",
	    "Hosts \\(serial\\):", "Hosts \\(concurrent\\):" };
	char *args[16];
	size_t n = 0, i;
	struct proc *p;

	args[n++] = "--compare";
	args[n++] = "--json";
	args[n++] = "--stats=json";
	n += es_delays(args + n, 10);
	p = e2e_runv(NULL, 30, n, args);
	e2e_expect_code(p, 0);
	es_check(es_both(p), "compare", e2e_fmt("%g", E2E_SLACK), NULL);

	args[2] = "--stats";
	p = e2e_runv(NULL, 30, n, args);
	e2e_expect_code(p, 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		es_expect_lines(p, rows[i]);
}
END_TEST

/*
 * The report drawn on a terminal 70 columns wide (or as wide as COLUMNS
 * says), in block characters in a UTF-8 locale and in '#' in the C one.
 */
START_TEST(drawn_on_a_terminal_in_utf8_and_ascii)
{
	static const struct {
		const char	*locale;
		const char	*columns;	/* NULL: the terminal's. */
		const char	*cols;		/* What the drawing gets. */
		const char	*mode;
	} runs[] = {
		{ "C.UTF-8", NULL, "70", "utf8" },
		{ "C", NULL, "70", "ascii" },
		{ "C.UTF-8", "50", "50", "utf8" },
	};
	char *args[32];
	size_t n = 0, i;
	struct proc *p;

	args[n++] = "--stats";
	args[n++] = "--no-progress";
	/* Delays of 1, 4, 9 ... 400 ms: rows from full to nearly empty. */
	for (i = 1; i <= 20; i++)
		args[n++] = e2e_url("/delay/%zu", i * i);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		setenv("LC_ALL", runs[i].locale, 1);
		if (runs[i].columns != NULL)
			setenv("COLUMNS", runs[i].columns, 1);
		else
			unsetenv("COLUMNS");
		p = e2e_run_pty(false, 70, 30, n, args);
		e2e_expect_code(p, 0);
		es_check(proc_str(&p->ebuf), "drawing", runs[i].cols, "20",
		    runs[i].mode, NULL);
	}
}
END_TEST

/*
 * SIGINT during --compare's serial run: the JSON report keeps the shape
 * the man page gives with -c, the run done under "serial", and no
 * "concurrent" run, which never started.
 */
START_TEST(compare_interrupted_keeps_its_json_shape)
{
	char *key = e2e_key(), *argv[6];
	struct proc *p;

	argv[0] = (char *)e2e_prog;
	argv[1] = "--compare";
	argv[2] = "--stats=json";
	argv[3] = e2e_url("/delay/10");
	argv[4] = e2e_url("/hang?key=%s", key);
	argv[5] = NULL;
	p = e2e_spawn(argv, NULL);
	ck_assert_int_eq(e2e_count(key, "?until_in_flight=1").in_flight, 1);
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, proc_now() + 15);
	e2e_expect_code(p, 130);
	es_expect_lines(p, "\\{\"serial\":\\{\"seconds\":[^\n]*,"
	    "\"urls\":2,[^\n]*,\"cancelled\":1,[^\n]*\\}\\}");
	ck_assert_msg(strstr(proc_str(&p->ebuf), "concurrent") == NULL,
	    "stderr:\n%s", proc_msg(&p->ebuf));
}
END_TEST

START_TEST(stats_wants_text_or_json)
{
	struct proc *p = e2e_run(NULL, 15, "--stats=xml", "http://x/", NULL);

	e2e_expect_code(p, 2);
	ck_assert_msg(proc_match(proc_str(&p->ebuf), "^fetch_urls: --stats "
	    "wants nothing, =text or =json, not 'xml' \\(try", NULL, 0),
	    "stderr:\n%s", proc_msg(&p->ebuf));
}
END_TEST

Suite *
e2e_stats_suite(void)
{
	Suite *s = suite_create("e2e_stats");
	TCase *tc = tcase_create("e2e_stats");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, delays_checked_against_records_and_known_delays);
	tcase_add_test(tc, outcomes_by_kind_in_json);
	tcase_add_test(tc, outcomes_by_kind_in_text);
	tcase_add_test(tc, compare_side_by_side);
	tcase_add_test(tc, compare_interrupted_keeps_its_json_shape);
	tcase_add_test(tc, drawn_on_a_terminal_in_utf8_and_ascii);
	tcase_add_test(tc, stats_wants_text_or_json);
	suite_add_tcase(s, tc);
	return s;
}
