/* End-to-end tests of the output formats, HTTP options, limits, progress. */

/*
 * Like test_e2e.c, every test runs the binary named by FETCH_URLS against
 * the fixture (tests/fixture.py, started by each test's setup through
 * e2e.h) and checks what it printed.  Machine-readable output is checked
 * by a real parser: tests/check_records.py, which uses Python's json and
 * csv modules.  The fixture counts requests per ?key=K (/count/K), keeps
 * the last request /headers saw under a key (/seen/K), and answers
 * /flaky/N with failures N times before it recovers.
 *
 * Timed assertions are tolerant bounds: lower bounds follow from the
 * delays the fixture or the options impose, upper bounds leave seconds of
 * slack for a loaded two-core machine and for sanitizer builds.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

static bool
eh_has(const struct proc_buf *b, const char *needle)
{
	return strstr(proc_str(b), needle) != NULL;
}

/* Output formats. */

/* The URLs check_records.py knows the answers for, in its order. */
static size_t
eh_record_urls(char **args, int dead)
{
	size_t n = 0;

	args[n++] = e2e_fmt("http://us\"er:p,w@127.0.0.1:%d/status/200?"
	    "q=\"a,b\"&c=\xff\xfe\\&d=\xc3\xa9", e2e_fx.http);
	args[n++] = e2e_fmt("http://u:p@127.0.0.1:%d/x?c=\x01\x1b[31m",
	    e2e_fx.http);
	args[n++] = e2e_url("/status/404");
	args[n++] = e2e_fmt("http://127.0.0.1:%d/", dead);
	args[n++] = e2e_fmt("ftp://127.0.0.1:%d/", e2e_fx.http);
	args[n++] = e2e_url("/redirect/2");
	args[n++] = e2e_url("/bytes/1234");
	return n;
}

static void
eh_check_records(const char *mode, const char *opt, const char *optarg)
{
	char *args[16], *py[6];
	int dead = proc_dead_port();
	struct proc *p, *c;
	size_t n = 0;

	args[n++] = (char *)opt;
	if (optarg != NULL)
		args[n++] = (char *)optarg;
	args[n++] = "-L";
	n += eh_record_urls(args + n, dead);
	p = e2e_rawv(20, n, args);
	e2e_expect_code(p, 1);
	/* Standard output holds the records and nothing else. */
	ck_assert_msg(!eh_has(&p->obuf, "Total time") &&
	    !eh_has(&p->obuf, "Summary"), "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(proc_match(proc_str(&p->ebuf), "^Total time: "
	    "[0-9]+\\.[0-9]{2}s\nSummary: 3 succeeded, 1 got HTTP status >= "
	    "400, 3 failed without a response\n$", NULL, 0), "stderr:\n%s",
	    proc_msg(&p->ebuf));
	py[0] = "python3";
	py[1] = e2e_test_file("check_records.py");
	py[2] = (char *)mode;
	py[3] = e2e_fmt("%d", e2e_fx.http);
	py[4] = e2e_fmt("%d", dead);
	py[5] = NULL;
	c = e2e_exec(proc_str(&p->obuf), 20, py, false);
	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0 &&
	    strcmp(proc_str(&c->obuf), "ok 7\n") == 0,
	    "%s output rejected: %s%s\noutput:\n%s", mode, proc_msg(&c->obuf),
	    proc_msg(&c->ebuf), proc_msg(&p->obuf));
}

START_TEST(json_parsed_by_python)
{
	eh_check_records("json", "--json", NULL);
}
END_TEST

START_TEST(format_json_parsed_by_python)
{
	eh_check_records("json", "--format", "json");
}
END_TEST

START_TEST(csv_parsed_by_python)
{
	eh_check_records("csv", "--format", "csv");
}
END_TEST

/* jq, the tool the NDJSON is meant for, reads it too. */
START_TEST(json_lines_read_by_jq)
{
	char *args[16], *jq[4];
	struct proc *p, *c;
	size_t n = 0;

	args[n++] = "--json";
	args[n++] = "--ordered";
	args[n++] = "-L";
	n += eh_record_urls(args + n, proc_dead_port());
	p = e2e_rawv(20, n, args);
	jq[0] = "jq";
	jq[1] = "-r";
	jq[2] = "[.urlnum, .status, .redirects, .bytes] | @tsv";
	jq[3] = NULL;
	c = e2e_exec(proc_str(&p->obuf), 20, jq, false);
	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0,
	    "jq failed: %s", proc_msg(&c->ebuf));
	ck_assert_str_eq(proc_str(&c->obuf), "0\t200\t0\t11\n1\t0\t0\t0\n"
	    "2\t404\t0\t11\n3\t0\t0\t0\n4\t0\t0\t0\n5\t200\t2\t20\n"
	    "6\t200\t0\t1234\n");
}
END_TEST

/* Text stays as it was, but credentials are never shown. */
START_TEST(text_redacts_credentials)
{
	char *u = e2e_fmt("http://alice:s3cret@127.0.0.1:%d/status/200",
	    e2e_fx.http);
	char *shown = e2e_fmt("http://***@127.0.0.1:%d/status/200",
	    e2e_fx.http);
	char *plain = e2e_url("/status/200");
	struct proc *p = e2e_raw(15, "-s", u, plain, NULL);

	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 3, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(proc_match(p->lines[0], "^http://\\*\\*\\*@"
	    "127\\.0\\.0\\.1:[0-9]+/status/200 \t [0-9]+\\.[0-9]{2}s \t 200$",
	    NULL, 0),
	    "line \"%s\", want %s", p->lines[0], shown);
	ck_assert_msg(strncmp(p->lines[1], plain, strlen(plain)) == 0 &&
	    proc_match(p->lines[1] + strlen(plain), "^ \t [0-9]+\\.[0-9]{2}s "
	    "\t 200$", NULL, 0), "line \"%s\"", p->lines[1]);
	ck_assert(!eh_has(&p->obuf, "s3cret") && !eh_has(&p->ebuf, "s3cret"));
}
END_TEST

START_TEST(summary_on_stderr_silenced_by_quiet)
{
	char *ok = e2e_url("/status/200"), *nf = e2e_url("/status/404");
	char *dead = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	struct proc *p;

	p = e2e_raw(15, ok, nf, dead, NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 4, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(proc_match(p->lines[3],
	    "^Total time: [0-9]+\\.[0-9]{2}s$", NULL, 0), "last line \"%s\"",
	    p->lines[3]);
	ck_assert_str_eq(proc_str(&p->ebuf), "Summary: 1 succeeded, 1 got "
	    "HTTP status >= 400, 1 failed without a response\n");

	p = e2e_raw(15, "-q", ok, nf, dead, NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 3, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_str_eq(proc_str(&p->ebuf), "");
	p = e2e_raw(15, "-q", "--json", ok, NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 1, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_str_eq(proc_str(&p->ebuf), "");
}
END_TEST

/* curl's variables, against what the fixture is known to answer. */
START_TEST(write_out_variables)
{
	char *redir = e2e_url("/redirect/2"), *bytes = e2e_url("/bytes/1234");
	char *dead = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	char *slow = e2e_url("/delay/200");
	struct proc *p;
	double t[5];

	p = e2e_raw(15, "--ordered", "-L", "-w", "%{urlnum} %{http_code} "
	    "%{size_download} %{num_redirects} %{num_retries} "
	    "%{http_version} %{url_effective} %{url}|%{errormsg}|%%\\t.\\n",
	    redir, bytes, dead, NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 3, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_str_eq(p->lines[0],
	    e2e_fmt("0 200 20 2 0 1.1 %s %s||%%\t.", e2e_url("/redirect/0"),
	    redir));
	ck_assert_str_eq(p->lines[1],
	    e2e_fmt("1 200 1234 0 0 1.1 %s %s||%%\t.", bytes, bytes));
	ck_assert_msg(strncmp(p->lines[2], e2e_fmt("2 000 0 0 0 0 %s %s|",
	    dead, dead), strlen(e2e_fmt("2 000 0 0 0 0 %s %s|", dead,
	    dead))) == 0 &&
	    strlen(p->lines[2]) > strlen(e2e_fmt("2 000 0 0 0 0 %s %s||%%\t.",
	    dead, dead)), "line \"%s\"", p->lines[2]);
	/* The total and summary go to stderr, as for the other forms. */
	ck_assert_msg(eh_has(&p->ebuf, "Total time: ") &&
	    eh_has(&p->ebuf, "Summary: "), "stderr:\n%s", proc_msg(&p->ebuf));

	p = e2e_raw(15, "-q", "-w", "%{time_namelookup} %{time_connect} "
	    "%{time_appconnect} %{time_starttransfer} %{time_total}\\n", slow,
	    NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 1 && proc_match(p->lines[0],
	    "^([0-9]+\\.[0-9]{6}) ([0-9]+\\.[0-9]{6}) ([0-9]+\\.[0-9]{6}) "
	    "([0-9]+\\.[0-9]{6}) ([0-9]+\\.[0-9]{6})$", t, 5), "stdout:\n%s",
	    proc_msg(&p->obuf));
	ck_assert_msg(t[0] <= t[1] && t[1] <= t[3] && t[3] <= t[4],
	    "timings out of order: %s", p->lines[0]);
	ck_assert_msg(t[2] == 0, "TLS time %f for plain HTTP", t[2]);
	ck_assert_msg(t[3] >= 0.2 - 0.001 && t[4] < 0.2 + E2E_SLACK,
	    "a 0.2 s answer: %s", p->lines[0]);
}
END_TEST

/* One worker reuses its handle: each URL still reports its own. */
START_TEST(effective_url_of_each_url_on_a_reused_handle)
{
	char *a = e2e_url("/status/404"), *b = e2e_url("/redirect/1");
	char *c = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	char *d = e2e_fmt("127.0.0.1:%d/status/201", e2e_fx.http);
	struct proc *p;

	p = e2e_raw(15, "-s", "-q", "-L", "-w", "%{url_effective}\\n", a, b,
	    c, d, NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), e2e_fmt("%s\n%s\n%s\nhttp://%s\n",
	    a, e2e_url("/redirect/0"), c, d));
}
END_TEST

START_TEST(write_out_unknown_variable_is_a_usage_error)
{
	struct proc *p = e2e_raw(10, "-w", "%{http_code} %{bogus_var}",
	    e2e_url("/status/200"), NULL);

	e2e_expect_code(p, 2);
	ck_assert_str_eq(proc_str(&p->obuf), "");
	ck_assert_msg(proc_match(proc_str(&p->ebuf),
	    "^fetch_urls: [^\n]*bogus_var[^\n]* \\(try 'fetch_urls --help'\\)"
	    "\n$", NULL, 0),
	    "stderr:\n%s", proc_msg(&p->ebuf));
}
END_TEST

/* --ordered. */

/* Arrival order is reversed by the delays; printing is in input order. */
START_TEST(ordered_prints_in_input_order)
{
	char *key = e2e_key(), *u[3];
	static const int ms[] = { 900, 450, 20 };
	struct proc *p;
	double total;

	for (int i = 0; i < 3; i++)
		u[i] = e2e_url("/delay/%d?key=%s&n=%d", ms[i], key, i);
	p = e2e_raw(15, "--ordered", u[0], u[1], u[2], NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 4, "stdout:\n%s", proc_msg(&p->obuf));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(strncmp(p->lines[i], u[i], strlen(u[i])) == 0 &&
		    p->lines[i][strlen(u[i])] == ' ', "line %d is \"%s\", "
		    "want %s", i, p->lines[i], u[i]);
	ck_assert_msg(proc_match(p->lines[3], "^Total time: ([0-9.]+)s$",
	    &total, 1), "last line \"%s\"", p->lines[3]);
	/* Still fetched at once: about the slowest, not the sum (1.37 s). */
	ck_assert_msg(total >= 0.9 - E2E_ROUND && total < 1.3,
	    "total %.2f s", total);
	ck_assert_int_eq(e2e_count(key, "").max_in_flight, 3);
}
END_TEST

/* Each line prints as soon as the ones before it have, not at the end. */
START_TEST(ordered_prints_each_line_when_it_can)
{
	char *first = e2e_url("/delay/100"), *slow = e2e_url("/delay/2500");
	char *fast = e2e_url("/delay/10");
	char *argv[6] = { (char *)e2e_prog, "--ordered", first, slow, fast,
	    NULL };
	struct proc *p = e2e_track(proc_spawn(argv, NULL));
	double seen;

	ck_assert_msg(proc_pump(p, p->start + 2.0, proc_has_lines, 1),
	    "the first line did not come before the slow URL finished:\n%s",
	    proc_msg(&p->obuf));
	seen = proc_now() - p->start;
	/* The fast third URL finished long ago, but it waits its turn. */
	ck_assert_msg(strncmp(proc_str(&p->obuf), first, strlen(first)) == 0 &&
	    !proc_has_lines(p, 2), "after %.2f s:\n%s", seen,
	    proc_msg(&p->obuf));
	proc_reap(p, p->start + 15);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 4, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(strncmp(p->lines[1], slow, strlen(slow)) == 0 &&
	    strncmp(p->lines[2], fast, strlen(fast)) == 0,
	    "stdout:\n%s", proc_msg(&p->obuf));
}
END_TEST

/* HTTP options. */

START_TEST(redirects_followed_counted_and_capped)
{
	char *key = e2e_key(), *wo = "%{urlnum} %{http_code} "
	    "%{num_redirects} %{errormsg}\\n";
	char *three = e2e_url("/redirect/3?key=%s", key);
	char *four = e2e_url("/redirect/4?key=%s", key);
	struct proc *p;

	p = e2e_raw(15, "--ordered", "-L", "--max-redirs", "3", "-w", wo,
	    three, four, NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_str_eq(p->lines[0], "0 200 3 ");
	/* The last status received stays next to the error, as in curl. */
	ck_assert_msg(proc_match(p->lines[1], "^1 302 3 .*[Mm]aximum.*3.*"
	    "redirects", NULL, 0), "line \"%s\"", p->lines[1]);
	/* 4 requests for the first, 4 before the cap stopped the second. */
	ck_assert_int_eq(e2e_count(key, "").requests, 8);

	/* Without -L a redirect is an answer like any other. */
	p = e2e_raw(15, "-w", wo, e2e_url("/redirect/2"), NULL);
	e2e_expect_code(p, 0);
	ck_assert_str_eq(p->lines[0], "0 302 0 ");

	/* The default cap is 10. */
	p = e2e_raw(15, "--ordered", "-L", "-w", wo, e2e_url("/redirect/10"),
	    e2e_url("/redirect/11"), NULL);
	ck_assert_str_eq(p->lines[0], "0 200 10 ");
	ck_assert_msg(proc_match(p->lines[1], "^1 302 10 .", NULL, 0),
	    "line \"%s\"", p->lines[1]);
}
END_TEST

START_TEST(redirect_to_another_scheme_refused)
{
	char *u = e2e_url("/redirect-to?url=file:///etc/passwd");
	struct proc *p = e2e_raw(15, "-L", "--json", u, NULL);

	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 1, "stdout:\n%s", proc_msg(&p->obuf));
	/* The redirect's status is kept beside the error, as curl does. */
	ck_assert_msg(proc_match(p->lines[0],
	    "\"status\":302,.*\"error\":\"[^\"]*[Pp]rotocol[^\"]*\"", NULL, 0),
	    "record %s", p->lines[0]);
	ck_assert_msg(!eh_has(&p->obuf, "root:"), "file read: %s",
	    p->lines[0]);
}
END_TEST

START_TEST(method_headers_and_agent_seen_by_the_fixture)
{
	char *key = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "-X", "PUT", "-H", "X-One: 1", "--header",
	    "X-Two: two words", "-A", "probe/9",
	    e2e_url("/headers?key=%s", key), NULL);
	e2e_expect_code(p, 0);
	seen = e2e_get(e2e_fmt("/seen/%s", key));
	ck_assert_msg(strstr(seen, "\"method\": \"PUT\"") != NULL &&
	    strstr(seen, "[\"X-One\", \"1\"]") != NULL &&
	    strstr(seen, "[\"X-Two\", \"two words\"]") != NULL &&
	    strstr(seen, "[\"User-Agent\", \"probe/9\"]") != NULL,
	    "fixture saw %s", seen);

	/* Defaults: GET, and fetch_urls/VERSION as the agent. */
	p = e2e_raw(15, e2e_url("/headers?key=%s", key), NULL);
	e2e_expect_code(p, 0);
	seen = e2e_get(e2e_fmt("/seen/%s", key));
	ck_assert_msg(strstr(seen, "\"method\": \"GET\"") != NULL &&
	    proc_match(seen, "\\[\"User-Agent\", \"fetch_urls/[0-9]+\\.[0-9]+"
	    "\\.[0-9]+\"\\]", NULL, 0) && strstr(seen, "X-One") == NULL,
	    "fixture saw %s", seen);

	p = e2e_raw(15, "--request", "DELETE", e2e_url("/headers?key=%s", key),
	    NULL);
	e2e_expect_code(p, 0);
	seen = e2e_get(e2e_fmt("/seen/%s", key));
	ck_assert_msg(strstr(seen, "\"method\": \"DELETE\"") != NULL,
	    "fixture saw %s", seen);
}
END_TEST

/*
 * -u sends HTTP Basic credentials, not a User-Agent, and never shows them
 * in any output.
 */
START_TEST(user_sends_basic_auth)
{
	char *key = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "--user", "alice:s3cret", "-w", "%{url} %{errormsg}"
	    "\\n", e2e_url("/headers?key=%s", key), NULL);
	e2e_expect_code(p, 0);
	seen = e2e_get(e2e_fmt("/seen/%s", key));
	/* base64("alice:s3cret") */
	ck_assert_msg(strstr(seen, "[\"Authorization\", \"Basic "
	    "YWxpY2U6czNjcmV0\"]") != NULL && strstr(seen, "s3cret") == NULL &&
	    proc_match(seen, "\\[\"User-Agent\", \"fetch_urls/", NULL, 0),
	    "fixture saw %s", seen);
	ck_assert_msg(!eh_has(&p->obuf, "s3cret") &&
	    !eh_has(&p->ebuf, "s3cret"), "shows the password:\n%s%s",
	    proc_msg(&p->obuf), proc_msg(&p->ebuf));
}
END_TEST

START_TEST(head_fetches_no_body)
{
	char *key = e2e_key();
	struct proc *p;

	p = e2e_raw(15, "-I", "-w", "%{http_code} %{size_download}\\n",
	    e2e_url("/headers?key=%s", key), e2e_url("/bytes/5000"), NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 2, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_str_eq(p->lines[0], "200 0");
	ck_assert_str_eq(p->lines[1], "200 0");
	ck_assert(strstr(e2e_get(e2e_fmt("/seen/%s", key)),
	    "\"method\": \"HEAD\"") != NULL);
}
END_TEST

/* Secret headers are sent, but never appear in any output. */
START_TEST(secret_headers_never_printed)
{
	static const char *const forms[][2] = {
		{ "--format", "text" }, { "--format", "json" },
		{ "--format", "csv" }, { "-w", "%{url} %{errormsg}\\n" },
	};
	char *key = e2e_key(), *dead = e2e_fmt("http://127.0.0.1:%d/",
	    proc_dead_port());

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct proc *p = e2e_raw(15, forms[i][0], forms[i][1], "-H",
		    "Authorization: Bearer s3cret-token", "-H",
		    "Cookie: sid=s3cret-cookie",
		    e2e_url("/headers?key=%s", key), dead, NULL);

		e2e_expect_code(p, 1);
		ck_assert_msg(!eh_has(&p->obuf, "s3cret") &&
		    !eh_has(&p->ebuf, "s3cret"), "%s %s shows a secret:\n%s%s",
		    forms[i][0], forms[i][1], proc_msg(&p->obuf),
		    proc_msg(&p->ebuf));
	}
	ck_assert_msg(strstr(e2e_get(e2e_fmt("/seen/%s", key)),
	    "[\"Authorization\", \"Bearer s3cret-token\"]") != NULL,
	    "the header was not sent");
}
END_TEST

START_TEST(insecure_accepts_a_self_signed_certificate)
{
	char *u = e2e_fmt("https://127.0.0.1:%d/status/200", e2e_fx.https);
	struct proc *p;
	double v[2];

	p = e2e_raw(15, "-k", "-w", "%{http_code} %{time_appconnect} "
	    "%{time_total}\\n", u, NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 1 && proc_match(p->lines[0],
	    "^200 ([0-9.]+) ([0-9.]+)$", v, 2) && v[0] > 0 && v[0] <= v[1],
	    "stdout:\n%s", proc_msg(&p->obuf));
	/* Verification stays on without -k. */
	p = e2e_raw(15, "--insecure", u, NULL);
	e2e_expect_code(p, 0);
	p = e2e_raw(15, u, NULL);
	e2e_expect_code(p, 1);
}
END_TEST

/* --retry. */

/* A JSON record's number field, by a plain text search. */
static double
eh_field(const char *rec, const char *name)
{
	const char *s = strstr(rec, e2e_fmt("\"%s\":", name));

	ck_assert_msg(s != NULL, "no %s in %s", name, rec);
	return strtod(s + strlen(name) + 3, NULL);
}

/* Two 503s, then 200: waits of 1 s and 2 s between the three tries. */
START_TEST(exponential_backoff_until_success)
{
	char *key = e2e_key();
	struct proc *p;
	double secs;

	p = e2e_raw(20, "--retry", "3", "--json",
	    e2e_url("/flaky/2?key=%s", key), NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 1, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_double_eq(eh_field(p->lines[0], "status"), 200);
	ck_assert_double_eq(eh_field(p->lines[0], "retries"), 2);
	secs = eh_field(p->lines[0], "seconds");
	ck_assert_msg(secs >= 3.0 - 0.05 && secs < 3.0 + E2E_SLACK,
	    "took %.2f s, want 1 + 2 s of back-off", secs);
	ck_assert_int_eq(e2e_count(key, "").requests, 3);
}
END_TEST

START_TEST(gives_up_after_n_retries)
{
	char *key = e2e_key();
	struct proc *p;

	p = e2e_raw(20, "--retry", "1", "-w", "%{http_code} %{num_retries}\\n",
	    e2e_url("/flaky/5?key=%s&code=500", key), NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), "500 1\n");
	ck_assert_int_eq(e2e_count(key, "").requests, 2);
}
END_TEST

/* One test per status: the loop test's _i indexes this. */
static const int eh_retry_codes[] = { 408, 429, 502, 503 };

START_TEST(statuses_retried)
{
	const int *code = &eh_retry_codes[_i];
	char *key = e2e_key();
	struct proc *p;

	p = e2e_raw(20, "--retry", "2", "-w", "%{http_code} %{num_retries}\\n",
	    e2e_url("/flaky/1?key=%s&code=%d&retry_after=1", key, *code),
	    NULL);
	e2e_expect_code(p, 0);
	ck_assert_str_eq(proc_str(&p->obuf), "200 1\n");
	ck_assert_int_eq(e2e_count(key, "").requests, 2);
}
END_TEST

START_TEST(other_statuses_not_retried)
{
	char *k1 = e2e_key(), *k2 = e2e_key();
	struct proc *p;

	p = e2e_raw(20, "--retry", "3",
	    e2e_url("/flaky/1?key=%s&code=404", k1),
	    e2e_url("/flaky/1?key=%s&code=400", k2), NULL);
	e2e_expect_code(p, 1);
	ck_assert_int_eq(e2e_count(k1, "").requests, 1);
	ck_assert_int_eq(e2e_count(k2, "").requests, 1);
}
END_TEST

START_TEST(retry_after_seconds_honoured)
{
	char *key = e2e_key();
	struct proc *p;
	double secs;

	p = e2e_raw(20, "--retry", "1", "--json",
	    e2e_url("/flaky/1?key=%s&code=429&retry_after=2", key), NULL);
	e2e_expect_code(p, 0);
	secs = eh_field(p->lines[0], "seconds");
	/* 2 s, not the 1 s of the first back-off. */
	ck_assert_msg(secs >= 2.0 - 0.05 && secs < 2.0 + E2E_SLACK,
	    "took %.2f s after Retry-After: 2", secs);
	ck_assert_double_eq(eh_field(p->lines[0], "retries"), 1);
}
END_TEST

START_TEST(retry_after_http_date_honoured)
{
	char *key = e2e_key();
	struct proc *p;
	double secs;

	p = e2e_raw(20, "--retry", "1", "--json",
	    e2e_url("/flaky/1?key=%s&retry_after_date=3", key), NULL);
	e2e_expect_code(p, 0);
	secs = eh_field(p->lines[0], "seconds");
	/* A date has whole seconds: 3 s from now is 2 to 3 s away. */
	ck_assert_msg(secs >= 1.9 && secs < 3.0 + E2E_SLACK,
	    "took %.2f s after a Retry-After date 3 s ahead", secs);
}
END_TEST

START_TEST(timeouts_retried)
{
	char *key = e2e_key(), *u = e2e_url("/hang?key=%s", key);
	struct proc *p;

	p = e2e_raw(20, "--retry", "1", "-m", "0.3", u, NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(strncmp(p->lines[0], u, strlen(u)) == 0 &&
	    strstr(p->lines[0], " request encountered error: ") != NULL,
	    "line \"%s\"", p->lines[0]);
	ck_assert_int_eq(e2e_count(key, "").requests, 2);
}
END_TEST

/* The deadline ends a back-off wait at once. */
START_TEST(deadline_cancels_the_wait)
{
	char *key = e2e_key(), *u = e2e_url("/flaky/5?key=%s&retry_after=30",
	    key);
	struct proc *p;
	double took;

	p = e2e_raw(15, "--retry", "3", "--deadline", "1", u, NULL);
	took = p->end - p->start;
	/* Cut short by the deadline: the run is incomplete. */
	e2e_expect_code(p, 3);
	ck_assert_msg(p->nlines == 2, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_str_eq(p->lines[0], e2e_fmt("%s request encountered error: "
	    "cancelled (deadline reached)", u));
	ck_assert_msg(took >= 1 - 0.05 && took < 1 + E2E_SLACK, "took %.2f s",
	    took);
	ck_assert_int_eq(e2e_count(key, "").requests, 1);

	/* Nothing of the attempt before the wait is left in the record. */
	key = e2e_key();
	u = e2e_url("/flaky/5?key=%s&retry_after=30", key);
	p = e2e_raw(15, "--json", "--retry", "3", "--deadline", "1", u, NULL);
	e2e_expect_code(p, 3);
	ck_assert_msg(p->nlines == 1, "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(strstr(p->lines[0], "\"status\":0,") != NULL &&
	    strstr(p->lines[0], "\"bytes\":0,") != NULL &&
	    strstr(p->lines[0], "\"connects\":0,") != NULL &&
	    strstr(p->lines[0], "\"effective_url\":null,") != NULL &&
	    strstr(p->lines[0], "\"total\":0.000000") != NULL,
	    "the record keeps the attempt before the wait: %s", p->lines[0]);
}
END_TEST

/* So does Ctrl-C. */
START_TEST(sigint_cancels_the_wait)
{
	char *key = e2e_key();
	char *argv[5] = { (char *)e2e_prog, "--retry", "3",
	    e2e_url("/flaky/5?key=%s&retry_after=30", key), NULL };
	struct proc *p = e2e_track(proc_spawn(argv, NULL));
	double sent;

	ck_assert_int_eq(e2e_count(key, "?until_requests=1").requests, 1);
	sent = proc_now();
	ck_assert_msg(kill(p->pid, SIGINT) == 0, "kill: %s", strerror(errno));
	proc_reap(p, sent + 5);
	ck_assert_msg(!p->killed, "still running 5 s after SIGINT");
	e2e_expect_code(p, 130);
	ck_assert_msg(p->end - sent < E2E_SLACK, "exit took %.2f s",
	    p->end - sent);
	ck_assert_msg(eh_has(&p->ebuf,
	    "interrupted: 1 of 1 URLs not finished"), "stderr:\n%s",
	    proc_msg(&p->ebuf));
	ck_assert_int_eq(e2e_count(key, "").requests, 1);
}
END_TEST

/* --rate and --per-host. */

/* One test per cap: the loop test's _i indexes this. */
static const int eh_host_caps[] = { 1, 2, 3 };

START_TEST(per_host_caps_in_flight)
{
	const int *cap = &eh_host_caps[_i];
	enum { N = 7 };
	char *key = e2e_key(), *args[N + 3];
	int rounds = (N + *cap - 1) / *cap;
	struct e2e_counts c;
	struct proc *p;
	double total;

	args[0] = "--per-host";
	args[1] = e2e_fmt("%d", *cap);
	args[2] = "-q";
	for (int i = 0; i < N; i++)
		args[i + 3] = e2e_url("/delay/200?key=%s&n=%d", key, i);
	p = e2e_rawv(20, N + 3, args);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == N, "stdout:\n%s", proc_msg(&p->obuf));
	total = p->end - p->start;
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, N);
	ck_assert_msg(c.max_in_flight == *cap, "--per-host %d: %d in flight",
	    *cap, c.max_in_flight);
	ck_assert_msg(total >= rounds * 0.2 - 0.05,
	    "took %.2f s for %d rounds", total, rounds);
}
END_TEST

/*
 * The cap is per host: another host name has its own slots.  Every
 * request is also counted under one key for both hosts, whose two in
 * flight at once show the hosts side by side, however slow the build: a
 * bound on the time (1.2 s side by side, 2.4 s one host after the other)
 * left a ThreadSanitizer build on a loaded machine 0.3 s.
 */
START_TEST(per_host_counts_each_host_apart)
{
	char *ka = e2e_key(), *kb = e2e_key(), *both = e2e_key(), *args[10];
	struct proc *p;
	double took;

	args[0] = "--per-host";
	args[1] = "1";
	for (int i = 0; i < 4; i++) {
		args[2 + i] = e2e_url("/delay/300?key=%s&also=%s&n=%d", ka,
		    both, i);
		args[6 + i] = e2e_fmt("http://localhost:%d/delay/300?"
		    "key=%s&also=%s&n=%d", e2e_fx.http, kb, both, i);
	}
	p = e2e_rawv(20, 10, args);
	took = p->end - p->start;
	e2e_expect_code(p, 0);
	ck_assert_int_eq(e2e_count(ka, "").max_in_flight, 1);
	ck_assert_int_eq(e2e_count(kb, "").max_in_flight, 1);
	ck_assert_int_eq(e2e_count(ka, "").requests, 4);
	ck_assert_int_eq(e2e_count(kb, "").requests, 4);
	ck_assert_int_eq(e2e_count(both, "").max_in_flight, 2);
	ck_assert_msg(took >= 1.2 - 0.05, "took %.2f s", took);
}
END_TEST

START_TEST(rate_spaces_request_starts)
{
	enum { N = 6 };
	char *key = e2e_key(), *free_key = e2e_key(), *args[N + 3];
	struct e2e_counts c;
	struct proc *p;
	double took;

	args[0] = "--rate";
	args[1] = "4";
	args[2] = "-q";
	for (int i = 0; i < N; i++)
		args[i + 3] = e2e_url("/delay/200?key=%s&n=%d", key, i);
	p = e2e_rawv(20, N + 3, args);
	took = p->end - p->start;
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == N, "stdout:\n%s", proc_msg(&p->obuf));
	/* Starts 0.25 s apart: the last at 1.25 s, done at 1.45 s. */
	ck_assert_msg(took >= 1.45 - 0.05 && took < 1.45 + E2E_SLACK,
	    "took %.2f s", took);
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, N);
	/*
	 * 0.2 s requests started 0.25 s apart do not overlap; a start late
	 * by more than 0.05 s (a loaded machine) may make two.
	 */
	ck_assert_msg(c.max_in_flight >= 1 && c.max_in_flight <= 2,
	    "%d in flight at a rate of 4/s", c.max_in_flight);

	/* The same URLs without --rate all run at once. */
	for (int i = 0; i < N; i++)
		args[i + 3] = e2e_url("/delay/200?key=%s&n=%d", free_key, i);
	p = e2e_rawv(20, N + 1, args + 2);
	e2e_expect_code(p, 0);
	ck_assert_int_eq(e2e_count(free_key, "").max_in_flight, N);
}
END_TEST

START_TEST(rate_in_curl_units)
{
	char *key = e2e_key(), *args[6];
	struct proc *p;
	double took;

	args[0] = "--rate";
	args[1] = "300/m";	/* 5 a second */
	args[2] = "-q";
	for (int i = 0; i < 3; i++)
		args[i + 3] = e2e_url("/delay/10?key=%s&n=%d", key, i);
	p = e2e_rawv(20, 6, args);
	took = p->end - p->start;
	e2e_expect_code(p, 0);
	/* Starts at 0, 0.2 and 0.4 s. */
	ck_assert_msg(took >= 0.4 && took < 0.4 + E2E_SLACK, "took %.2f s",
	    took);
	ck_assert_int_eq(e2e_count(key, "").requests, 3);
}
END_TEST

/* Waiting for a start time ends with the deadline, too. */
START_TEST(deadline_cancels_the_rate_wait)
{
	char *key = e2e_key(), *args[8];
	struct proc *p;
	double took;

	args[0] = "--rate";
	args[1] = "1";
	args[2] = "--deadline";
	args[3] = "1.5";
	for (int i = 0; i < 4; i++)
		args[i + 4] = e2e_url("/delay/10?key=%s&n=%d", key, i);
	p = e2e_rawv(20, 8, args);
	took = p->end - p->start;
	/* Cut short by the deadline: the run is incomplete. */
	e2e_expect_code(p, 3);
	ck_assert_msg(took >= 1.5 - 0.05 && took < 1.5 + E2E_SLACK,
	    "took %.2f s", took);
	/* Started at 0 s and 1 s; the ones due at 2 s and 3 s never. */
	ck_assert_int_eq(e2e_count(key, "").requests, 2);
	ck_assert_msg(proc_match(proc_str(&p->obuf), "cancelled \\(deadline "
	    "reached\\)\n.*cancelled \\(deadline reached\\)\n", NULL, 0),
	    "stdout:\n%s", proc_msg(&p->obuf));
}
END_TEST

/* The progress line. */

/*
 * What a terminal shows after the bytes in raw: '\r' goes back to the
 * start of the line, ESC [ K erases to its end, "\r\n" or "\n" ends it.
 * Returns the lines shown, joined with '\n', the unfinished one last.
 */
static char *
eh_screen(const char *raw)
{
	size_t cap = strlen(raw) + 2, len = 0, start = 0, col = 0;
	char *out = calloc(1, cap);

	ck_assert(out != NULL);
	for (const char *r = raw; *r != '\0'; r++) {
		if (*r == '\r') {
			col = 0;
		} else if (*r == '\n') {
			out[len++] = '\n';
			start = len;
			col = 0;
		} else if (strncmp(r, "\033[K", 3) == 0) {
			len = start + col;
			r += 2;
		} else {
			if (start + col < len)
				out[start + col] = *r;
			else
				out[len++] = *r;
			col++;
		}
	}
	out[len] = '\0';
	return e2e_keep(out);
}

/* Stderr on a terminal: the line comes and goes; stdout never sees it. */
START_TEST(shown_on_a_terminal_never_on_stdout)
{
	char *a = e2e_url("/delay/200"), *b = e2e_url("/delay/900");
	char *args[2] = { a, b };
	struct proc *p = e2e_run_pty(false, 80, 15, 2, args);
	const char *tty = proc_str(&p->ebuf), *last, *erase;

	e2e_expect_code(p, 0);
	/*
	 * The total is the URLs read so far: the first line may be drawn
	 * before the feed has read both arguments.
	 */
	ck_assert_msg(proc_match(tty, "\r0/[0-2] done, ", NULL, 0) &&
	    strstr(tty, "\r1/2 done, 1 in flight, 0 failed, ") != NULL,
	    "no progress line on the terminal:\n%s", proc_msg(&p->ebuf));
	/* The last one drawn is erased before the summary. */
	for (last = tty; strstr(last + 1, " done, ") != NULL;
	    last = strstr(last + 1, " done, "))
		;
	erase = strstr(last, "\r\033[K");
	ck_assert_msg(erase != NULL && strstr(tty, "Summary: ") > erase,
	    "progress not erased before the summary:\n%s",
	    proc_msg(&p->ebuf));
	ck_assert_str_eq(eh_screen(tty), "Summary: 2 succeeded, 0 got HTTP "
	    "status >= 400, 0 failed without a response\n");
	ck_assert_msg(!eh_has(&p->obuf, "\033") &&
	    !eh_has(&p->obuf, "done,") && !eh_has(&p->obuf, "\r"),
	    "stdout:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(p->nlines == 3, "stdout:\n%s", proc_msg(&p->obuf));
}
END_TEST

/* Both on one terminal, as usual: results and total show clean lines. */
START_TEST(erased_before_every_result_and_the_total)
{
	char *a = e2e_url("/delay/300"), *b = e2e_url("/delay/10");
	char *c = e2e_fmt("http://127.0.0.1:%d/", proc_dead_port());
	char *args[3] = { a, b, c }, *screen, *line, *nl;
	struct proc *p = e2e_run_pty(true, 60, 15, 3, args);
	size_t n = 0;

	e2e_expect_code(p, 1);
	ck_assert_msg(eh_has(&p->ebuf, " done, "), "no progress:\n%s",
	    proc_msg(&p->ebuf));
	screen = eh_screen(proc_str(&p->ebuf));
	for (line = screen; *line != '\0'; line = nl + 1, n++) {
		nl = strchr(line, '\n');
		ck_assert_msg(nl != NULL, "unfinished last line: \"%s\"",
		    line);
		*nl = '\0';
		ck_assert_msg(strstr(line, " done, ") == NULL,
		    "progress left in \"%s\"", line);
		if (n < 3)
			ck_assert_msg(strncmp(line, "http://127.0.0.1:", 17) ==
			    0, "line %zu: \"%s\"", n, line);
	}
	ck_assert_msg(n == 5, "screen:\n%s", proc_msg(&p->ebuf));
	/* No drawn line is wider than the terminal, so none wraps. */
	for (const char *s = proc_str(&p->ebuf); (s = strchr(s, '\r')) != NULL;
	    s++) {
		size_t w = strcspn(s + 1, "\r\033\n");

		ck_assert_msg(w < 60, "a %zu-column line on 60 columns", w);
	}
}
END_TEST

START_TEST(off_with_no_progress_or_quiet)
{
	char *a = e2e_url("/delay/600");
	char *args[3][2] = { { "--no-progress", a }, { "-q", a },
	    { "--quiet", a } };

	for (int i = 0; i < 3; i++) {
		struct proc *p = e2e_run_pty(false, 80, 15, 2, args[i]);

		e2e_expect_code(p, 0);
		ck_assert_msg(!eh_has(&p->ebuf, "done,") &&
		    !eh_has(&p->ebuf, "\033"), "%s: terminal got:\n%s",
		    args[i][0], proc_msg(&p->ebuf));
	}
}
END_TEST

/* TERM=dumb would print the erasing escape as text: no progress line. */
START_TEST(off_on_a_dumb_terminal)
{
	char *a = e2e_url("/delay/600");
	char *args[1] = { a };
	struct proc *p;

	/* Each test runs in a process of its own. */
	ck_assert_int_eq(setenv("TERM", "dumb", 1), 0);
	p = e2e_run_pty(false, 80, 15, 1, args);
	e2e_expect_code(p, 0);
	ck_assert_msg(!eh_has(&p->ebuf, "done,") && !eh_has(&p->ebuf, "\033"),
	    "terminal got:\n%s", proc_msg(&p->ebuf));
	ck_assert_msg(eh_has(&p->ebuf, "Summary: 1 succeeded"),
	    "terminal got:\n%s", proc_msg(&p->ebuf));
}
END_TEST

/* Standard error a pipe: no progress, only the summary. */
START_TEST(off_when_stderr_is_not_a_terminal)
{
	struct proc *p = e2e_raw(15, e2e_url("/delay/700"), NULL);

	e2e_expect_code(p, 0);
	ck_assert_str_eq(proc_str(&p->ebuf), "Summary: 1 succeeded, 0 got "
	    "HTTP status >= 400, 0 failed without a response\n");
}
END_TEST

/* For main.c: the suites of this file, a test case per time limit. */
Suite *
http_records_suite(void)
{
	Suite *s = suite_create("http_records");
	TCase *tc = tcase_create("http_records");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, json_parsed_by_python);
	tcase_add_test(tc, format_json_parsed_by_python);
	tcase_add_test(tc, csv_parsed_by_python);
	tcase_add_test(tc, json_lines_read_by_jq);
	tcase_add_test(tc, text_redacts_credentials);
	tcase_add_test(tc, summary_on_stderr_silenced_by_quiet);
	tcase_add_test(tc, write_out_variables);
	tcase_add_test(tc, effective_url_of_each_url_on_a_reused_handle);
	tcase_add_test(tc, write_out_unknown_variable_is_a_usage_error);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
http_order_suite(void)
{
	Suite *s = suite_create("http_order");
	TCase *tc = tcase_create("http_order");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ordered_prints_in_input_order);
	tcase_add_test(tc, ordered_prints_each_line_when_it_can);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
http_options_suite(void)
{
	Suite *s = suite_create("http_options");
	TCase *tc = tcase_create("http_options");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, redirects_followed_counted_and_capped);
	tcase_add_test(tc, redirect_to_another_scheme_refused);
	tcase_add_test(tc, method_headers_and_agent_seen_by_the_fixture);
	tcase_add_test(tc, user_sends_basic_auth);
	tcase_add_test(tc, head_fetches_no_body);
	tcase_add_test(tc, secret_headers_never_printed);
	tcase_add_test(tc, insecure_accepts_a_self_signed_certificate);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
http_retry_suite(void)
{
	Suite *s = suite_create("http_retry");
	TCase *tc = tcase_create("http_retry");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, exponential_backoff_until_success);
	tcase_add_test(tc, gives_up_after_n_retries);
	tcase_add_loop_test(tc, statuses_retried, 0,
	    (int)(sizeof(eh_retry_codes) / sizeof(eh_retry_codes[0])));
	tcase_add_test(tc, other_statuses_not_retried);
	tcase_add_test(tc, retry_after_seconds_honoured);
	tcase_add_test(tc, retry_after_http_date_honoured);
	tcase_add_test(tc, timeouts_retried);
	tcase_add_test(tc, deadline_cancels_the_wait);
	tcase_add_test(tc, sigint_cancels_the_wait);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
http_limits_suite(void)
{
	Suite *s = suite_create("http_limits");
	TCase *tc = tcase_create("http_limits");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, per_host_caps_in_flight, 0,
	    (int)(sizeof(eh_host_caps) / sizeof(eh_host_caps[0])));
	tcase_add_test(tc, per_host_counts_each_host_apart);
	tcase_add_test(tc, rate_spaces_request_starts);
	tcase_add_test(tc, rate_in_curl_units);
	tcase_add_test(tc, deadline_cancels_the_rate_wait);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
http_progress_suite(void)
{
	Suite *s = suite_create("http_progress");
	TCase *tc = tcase_create("http_progress");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, shown_on_a_terminal_never_on_stdout);
	tcase_add_test(tc, erased_before_every_result_and_the_total);
	tcase_add_test(tc, off_with_no_progress_or_quiet);
	tcase_add_test(tc, off_on_a_dumb_terminal);
	tcase_add_test(tc, off_when_stderr_is_not_a_terminal);
	suite_add_tcase(s, tc);
	return s;
}
