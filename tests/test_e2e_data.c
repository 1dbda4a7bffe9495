/* End-to-end tests of request bodies, tokens and cookies (issue 16). */

/*
 * The fixture's /echo answers with the request it got, body included,
 * and keeps it for /seen/K.  Where curl 7.88 has the same option, the
 * request fetch_urls sends is compared with the one curl sends for the
 * same arguments, byte for byte (e2e_same_as_curl()).
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
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

static void
ed_has(const char *seen, const char *needle)
{
	ck_assert_msg(strstr(seen, needle) != NULL, "no %s in %s", needle,
	    seen);
}

/* Every URL gets the same body, a POST form as curl sends it. */
START_TEST(data_posted_to_every_url)
{
	char *k1 = e2e_key(), *k2 = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "-d", "a=1&b=2", e2e_url("/echo?key=%s", k1),
	    e2e_url("/echo?key=%s", k2), NULL);
	e2e_expect_code(p, 0);
	for (int i = 0; i < 2; i++) {
		seen = e2e_get(e2e_fmt("/seen/%s", i == 0 ? k1 : k2));
		ed_has(seen, "\"method\": \"POST\"");
		ed_has(seen, "[\"Content-Type\", "
		    "\"application/x-www-form-urlencoded\"]");
		ed_has(seen, "[\"Content-Length\", \"7\"]");
		ed_has(seen, "\"body\": \"a=1&b=2\"");
	}
	seen = e2e_same_as_curl(NULL, "-d", "a=1&b=2", NULL);
	ed_has(seen, "\"body\": \"a=1&b=2\"");
}
END_TEST

/*
 * Pieces are joined with '&'; -d @file loses CR and LF (and, as in curl,
 * a line's bytes after a CR), --data-binary @file keeps every byte,
 * --data-raw takes '@' as it is.
 */
START_TEST(data_pieces_and_files_as_curl)
{
	const char *file = e2e_write_tmpfile("one=1\r\ntwo=2\nthree\r3\n"
	    "\xc3\xa9\x01last");
	char *seen;

	seen = e2e_same_as_curl(NULL, "-d", e2e_fmt("@%s", file), NULL);
	ed_has(seen, "\"body\": \"one=1two=2three\\u00c3\\u00a9\\u0001last\"");
	seen = e2e_same_as_curl(NULL, "--data-binary", e2e_fmt("@%s", file),
	    NULL);
	ed_has(seen, "\"body\": \"one=1\\r\\ntwo=2\\nthree\\r3\\n");
	seen = e2e_same_as_curl(NULL, "-d", "x=1", "--data-raw", "@y",
	    "--data-binary", "z", "-d", "", NULL);
	ed_has(seen, "\"body\": \"x=1&@y&z&\"");
	/* An empty body is still a POST with one. */
	seen = e2e_same_as_curl(NULL, "--data-raw", "", NULL);
	ed_has(seen, "\"method\": \"POST\"");
	ed_has(seen, "[\"Content-Length\", \"0\"]");
}
END_TEST

/* A line longer than curl's 255-byte reads keeps what curl keeps. */
START_TEST(data_long_lines_as_curl)
{
	char line[1200];

	for (size_t i = 0; i < sizeof(line) - 1; i++)
		line[i] = i % 300 == 299 ? '\r' : (char)('a' + i % 26);
	line[sizeof(line) - 1] = '\0';
	e2e_same_as_curl(NULL, "-d", e2e_fmt("@%s", e2e_write_tmpfile(
	    e2e_fmt("%s\n%s\n", line, line))), NULL);
}
END_TEST

/* -H Content-Type replaces the form type; -X keeps the body. */
START_TEST(content_type_and_method_respected)
{
	char *seen;

	seen = e2e_same_as_curl(NULL, "-H", "Content-Type: application/json",
	    "-d", "{\"a\": 1}", NULL);
	ed_has(seen, "[\"Content-Type\", \"application/json\"]");
	ck_assert_msg(strstr(seen, "x-www-form-urlencoded") == NULL, "%s",
	    seen);
	seen = e2e_same_as_curl(NULL, "-X", "PUT", "-d", "v=1", NULL);
	ed_has(seen, "\"method\": \"PUT\"");
	ed_has(seen, "\"body\": \"v=1\"");
}
END_TEST

/* -d @- reads standard input once, 10 MB of it, for every URL. */
START_TEST(data_from_stdin_10_mb)
{
	size_t len = 10 * 1024 * 1024, i, stripped = 0;
	char *in = e2e_keep(malloc(len + 1)), *k1 = e2e_key(), *k2 = e2e_key();
	char *seen;
	struct proc *p;

	for (i = 0; i < len; i++) {
		in[i] = i % 100 == 99 ? '\n' : (char)('a' + i % 26);
		stripped += in[i] != '\n';
	}
	in[len] = '\0';
	p = e2e_run(in, 60, "-d", "@-", e2e_url("/echo?key=%s", k1),
	    e2e_url("/echo?key=%s", k2), NULL);
	e2e_expect_code(p, 0);
	for (i = 0; i < 2; i++) {
		seen = e2e_get(e2e_fmt("/seen/%s", i == 0 ? k1 : k2));
		ed_has(seen, e2e_fmt("\"body_len\": %zu,", stripped));
	}
	seen = e2e_same_as_curl(in, "-d", "@-", NULL);
	ed_has(seen, e2e_fmt("\"body_len\": %zu,", stripped));
	seen = e2e_same_as_curl(in, "--data-binary", "@-", NULL);
	ed_has(seen, e2e_fmt("\"body_len\": %zu,", len));
}
END_TEST

/* The token is sent as curl sends it, and never printed. */
START_TEST(oauth2_bearer_sent_never_printed)
{
	static const char *const forms[][2] = {
		{ "--format", "text" }, { "--format", "json" },
		{ "--format", "csv" }, { "-w", "%{url} %{errormsg}\\n" },
	};
	char *seen, *dead = e2e_fmt("http://127.0.0.1:%d/",
	    proc_dead_port());
	struct proc *p;

	seen = e2e_same_as_curl(NULL, "--oauth2-bearer", "s3cret-tok", NULL);
	ed_has(seen, "[\"Authorization\", \"Bearer s3cret-tok\"]");
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		p = e2e_raw(15, forms[i][0], forms[i][1], "--oauth2-bearer",
		    "s3cret-tok", e2e_url("/status/401"), dead, NULL);
		e2e_expect_code(p, 1);
		ck_assert_msg(strstr(proc_str(&p->obuf), "s3cret") == NULL &&
		    strstr(proc_str(&p->ebuf), "s3cret") == NULL,
		    "%s %s shows the token:\n%s%s", forms[i][0], forms[i][1],
		    proc_msg(&p->obuf), proc_msg(&p->ebuf));
	}
}
END_TEST

/*
 * -u and --oauth2-bearer are blanked out of the command line that ps(1)
 * shows, each time they are given: also one that a later one overrides.
 */
START_TEST(repeated_credentials_blanked_from_ps)
{
	static const char *const sets[][3] = {
		{ "-u", "first:s3cret1", "--user=second:s3cret2" },
		{ "--oauth2-bearer", "s3cret1", "--oauth2-bearer=s3cret2" },
	};
	char cmdline[4096], *key, *argv[6];
	struct proc *p;
	ssize_t n;
	int fd;

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		key = e2e_key();
		argv[0] = (char *)e2e_prog;
		for (size_t j = 0; j < 3; j++)
			argv[j + 1] = (char *)sets[i][j];
		argv[4] = e2e_url("/hang?key=%s", key);
		argv[5] = NULL;
		p = e2e_track(proc_spawn(argv, NULL));
		/* In flight: the options were read and blanked before. */
		ck_assert_int_eq(e2e_count(key, "?until_in_flight=1").in_flight,
		    1);
		fd = open(e2e_fmt("/proc/%d/cmdline", (int)p->pid), O_RDONLY);
		ck_assert_msg(fd >= 0, "open: %s", strerror(errno));
		n = read(fd, cmdline, sizeof(cmdline) - 1);
		close(fd);
		ck_assert_msg(n > 0, "read: %s", strerror(errno));
		for (ssize_t j = 0; j < n; j++)
			if (cmdline[j] == '\0')
				cmdline[j] = ' ';
		cmdline[n] = '\0';
		ck_assert_msg(strstr(cmdline, "s3cret") == NULL, "ps shows: %s",
		    cmdline);
		ck_assert_int_eq(kill(p->pid, SIGTERM), 0);
		proc_reap(p, proc_now() + 15);
		e2e_expect_code(p, 143);
	}
}
END_TEST

/* Each bad use is a usage error naming what is wrong, and sends nothing. */
START_TEST(bad_data_usage_errors)
{
	static const char *const bad[][4] = {
		{ "-d", "@/nonexistent/body", NULL,
		    "--data '@/nonexistent/body': No such file" },
		{ "--data-binary", "@/nonexistent/body", NULL,
		    "--data-binary '@/nonexistent/body': No such file" },
		{ "-d", "x", "-I", "--head cannot be combined with --data" },
		{ "-d", "@-", "-i-", "--data @- and --input - cannot both "
		    "read standard input" },
		{ "-d", "@-", "-b-", "--data @- and --cookie - cannot both "
		    "read standard input" },
		{ "-b", "-", "-i-", "--cookie - and --input - cannot both "
		    "read standard input" },
		{ "--cookie-jar", "-", NULL,
		    "--cookie-jar - needs --records" },
		{ "--cookie-jar", "-", "--records=/dev/stdout",
		    "--records '/dev/stdout' is standard output, where "
		    "--cookie-jar - writes" },
		{ "--oauth2-bearer", "t", "-uu:p",
		    "--oauth2-bearer cannot be combined with --user" },
	};
	char *key = e2e_key();
	struct proc *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i][2] != NULL)
			p = e2e_raw(15, bad[i][0], bad[i][1], bad[i][2],
			    e2e_url("/echo?key=%s", key), NULL);
		else
			p = e2e_raw(15, bad[i][0], bad[i][1],
			    e2e_url("/echo?key=%s", key), NULL);
		e2e_expect_code(p, 2);
		ck_assert_msg(strstr(proc_str(&p->ebuf), bad[i][3]) != NULL &&
		    p->nlines == 0, "%s %s:\n%s", bad[i][0], bad[i][1],
		    proc_msg(&p->ebuf));
	}
	ck_assert_int_eq(e2e_count(key, "").requests, 0);
}
END_TEST

/* Cookie strings go with every request, joined as curl joins them. */
START_TEST(cookies_sent_with_every_url)
{
	char *k1 = e2e_key(), *k2 = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "-b", "a=1", "--cookie", "b=2; c=3",
	    e2e_url("/echo?key=%s", k1), e2e_url("/echo?key=%s", k2), NULL);
	e2e_expect_code(p, 0);
	for (int i = 0; i < 2; i++)
		ed_has(e2e_get(e2e_fmt("/seen/%s", i == 0 ? k1 : k2)),
		    "[\"Cookie\", \"a=1;b=2; c=3\"]");
	seen = e2e_same_as_curl(NULL, "-b", "a=1", "--cookie", "b=2; c=3",
	    NULL);
	ed_has(seen, "[\"Cookie\", \"a=1;b=2; c=3\"]");
}
END_TEST

/*
 * Cookies set by responses on every worker end up in the one jar; a run
 * started from that jar sends them all, as curl does.
 */
START_TEST(cookie_jar_shared_by_every_worker)
{
	const char *jar = e2e_write_tmpfile("");
	char *args[64], *seen, *text;
	size_t n = 0, i;
	struct proc *p;
	FILE *fp;
	long len;

	args[n++] = "-j";
	args[n++] = "8";
	args[n++] = "--cookie-jar";
	args[n++] = (char *)jar;
	for (i = 0; i < 40; i++)
		args[n++] = e2e_url("/set-cookie?c=n%zu%%3Dv%zu", i, i);
	p = e2e_rawv(30, n, args);
	e2e_expect_code(p, 0);
	fp = fopen(jar, "r");
	ck_assert_msg(fp != NULL, "no jar written");
	ck_assert(fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) > 0);
	rewind(fp);
	text = e2e_keep(calloc(1, (size_t)len + 1));
	ck_assert(fread(text, 1, (size_t)len, fp) == (size_t)len);
	fclose(fp);
	ck_assert_msg(strncmp(text, "# Netscape HTTP Cookie File\n", 28) == 0,
	    "jar:\n%s", text);
	for (i = 0; i < 40; i++)
		ck_assert_msg(strstr(text, e2e_fmt("\tn%zu\tv%zu\n", i, i)) !=
		    NULL, "n%zu missing from the jar:\n%s", i, text);
	seen = e2e_same_as_curl(NULL, "-b", jar, "-b", "s=1", NULL);
	for (i = 0; i < 40; i++)
		ed_has(seen, e2e_fmt("n%zu=v%zu; ", i, i));
	ed_has(seen, "; s=1\"]");
}
END_TEST

/*
 * With the records in a file, --cookie-jar - writes the jar to standard
 * output, as curl's -c - does, and nothing else goes there.
 */
START_TEST(cookie_jar_to_stdout_beside_records)
{
	const char *records = e2e_write_tmpfile("");
	const char *out;
	char line[4096];
	struct proc *p;
	FILE *fp;

	p = e2e_raw(15, "--cookie-jar", "-", "--records", records,
	    "--format", "json", e2e_url("/set-cookie?c=n1%%3Dv1"), NULL);
	e2e_expect_code(p, 0);
	out = proc_str(&p->obuf);
	ck_assert_msg(strncmp(out, "# Netscape HTTP Cookie File\n", 28) == 0 &&
	    strstr(out, "\tn1\tv1\n") != NULL && strchr(out, '{') == NULL,
	    "standard output:\n%s", out);
	fp = fopen(records, "r");
	ck_assert_msg(fp != NULL && fgets(line, sizeof(line), fp) != NULL,
	    "no records in %s", records);
	fclose(fp);
	ed_has(line, "\"status\":200");
}
END_TEST

/* How many times needle occurs in s. */
static int
ed_count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/*
 * The cookie files are read once, before the first run: with -c both
 * runs send the cookies of -b -, and a file that is also the jar gives
 * the concurrent run what it held, not what the serial run wrote there.
 */
START_TEST(compare_runs_start_with_the_same_cookies)
{
	const char *in = "# from stdin\n\n#HttpOnly_127.0.0.1\tFALSE\t/\t"
	    "FALSE\t0\th\t3\nSet-Cookie: a=1\n  127.0.0.1\tFALSE\t/\t"
	    "FALSE\t0\tb\t2";
	const char *jar = e2e_write_tmpfile("Set-Cookie: f=1\n");
	char *k1 = e2e_key(), *k2 = e2e_key(), *seen;
	struct proc *p;

	p = e2e_run(in, 15, "-c", "-b", "-", e2e_url("/headers?key=%s", k1),
	    NULL);
	e2e_expect_code(p, 0);
	seen = e2e_get(e2e_fmt("/seen/%s?all=1", k1));
	ck_assert_msg(ed_count(seen, "[\"Cookie\", \"b=2; h=3; a=1\"]") ==
	    2, "both runs must send the cookies of -b -:\n%s", seen);
	ed_has(e2e_same_as_curl(in, "-b", "-", NULL),
	    "[\"Cookie\", \"b=2; h=3; a=1\"]");
	p = e2e_run(NULL, 15, "-c", "-j", "1", "-b", jar, "--cookie-jar", jar,
	    e2e_url("/headers?key=%s", k2), e2e_url("/set-cookie?c=s%%3D1"),
	    NULL);
	e2e_expect_code(p, 0);
	seen = e2e_get(e2e_fmt("/seen/%s?all=1", k2));
	ck_assert_msg(ed_count(seen, "[\"Cookie\", \"f=1\"]") == 2,
	    "both runs must start with the file's cookies:\n%s", seen);
	/* The jar holds what the concurrent run set. */
	ed_has(e2e_same_as_curl(NULL, "-b", jar, NULL),
	    "[\"Cookie\", \"s=1\"]");
}
END_TEST

/*
 * With -c the jar is written once, with the concurrent run's cookies: to
 * standard output, a single jar, not one a run.
 */
START_TEST(compare_writes_the_jar_once)
{
	const char *records = e2e_write_tmpfile("");
	const char *out;
	struct proc *p;

	p = e2e_raw(15, "-c", "--cookie-jar", "-", "--records", records,
	    e2e_url("/set-cookie?c=n1%%3Dv1"), NULL);
	e2e_expect_code(p, 0);
	out = proc_str(&p->obuf);
	ck_assert_msg(ed_count(out, "# Netscape HTTP Cookie File\n") == 1 &&
	    ed_count(out, "\tn1\tv1\n") == 1, "standard output:\n%s", out);
}
END_TEST

/* Bad cookie files and jars are usage errors; cookies are never quoted. */
START_TEST(bad_cookie_usage_errors)
{
	char *key = e2e_key(), *list, *path, *jar, line[512];
	struct proc *p;
	FILE *fp;

	p = e2e_raw(15, "-b", "/nonexistent/cookies", e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ed_has(proc_str(&p->ebuf), "--cookie '/nonexistent/cookies': No such "
	    "file");
	p = e2e_raw(15, "--cookie-jar", "/nonexistent/dir/jar", e2e_url("/"),
	    NULL);
	e2e_expect_code(p, 2);
	ed_has(proc_str(&p->ebuf), "--cookie-jar '/nonexistent/dir/jar': No "
	    "such file");
	p = e2e_raw(15, "-b", "sid=s3cret\r\nX: y", e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ed_has(proc_str(&p->ebuf), "--cookie contains a line break");
	ck_assert(strstr(proc_str(&p->ebuf), "s3cret") == NULL);
	/* A jar written over -i's file would take the place of its URLs. */
	list = e2e_fmt("%s\n", e2e_url("/set-cookie?c=s=1&key=%s", key));
	path = e2e_keep(strdup(e2e_write_tmpfile(list)));
	p = e2e_raw(15, "-i", path, "--cookie-jar", path, NULL);
	e2e_expect_code(p, 2);
	ed_has(proc_str(&p->ebuf), e2e_fmt("--cookie-jar '%s' is the input "
	    "file", path));
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	fclose(fp);
	ck_assert_str_eq(line, list);
	/*
	 * So would a jar written over the records, which --resume keeps
	 * from run to run: the same file, or a new one by the same name.
	 */
	p = e2e_raw(15, "--json", "--records", path, "--resume",
	    "--cookie-jar", e2e_fmt("/tmp/.%s", strrchr(path, '/')),
	    e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ed_has(proc_str(&p->ebuf), "is the --records file");
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	fclose(fp);
	ck_assert_str_eq(line, list);
	jar = e2e_fmt("%s.new", path);
	p = e2e_raw(15, "--records", jar, "--cookie-jar",
	    e2e_fmt("/tmp/.%s", strrchr(jar, '/')), e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ed_has(proc_str(&p->ebuf), "is the --records file");
	ck_assert_int_eq(access(jar, F_OK), -1);
	ck_assert_int_eq(e2e_count(key, "").requests, 0);
}
END_TEST

/* For main.c: the suite of this file. */
Suite *
e2e_data_suite(void)
{
	Suite *s = suite_create("e2e_data");
	TCase *tc = tcase_create("data");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, data_posted_to_every_url);
	tcase_add_test(tc, data_pieces_and_files_as_curl);
	tcase_add_test(tc, data_long_lines_as_curl);
	tcase_add_test(tc, content_type_and_method_respected);
	tcase_add_test(tc, data_from_stdin_10_mb);
	tcase_add_test(tc, oauth2_bearer_sent_never_printed);
	tcase_add_test(tc, repeated_credentials_blanked_from_ps);
	tcase_add_test(tc, bad_data_usage_errors);
	tcase_add_test(tc, cookies_sent_with_every_url);
	tcase_add_test(tc, cookie_jar_shared_by_every_worker);
	tcase_add_test(tc, cookie_jar_to_stdout_beside_records);
	tcase_add_test(tc, compare_runs_start_with_the_same_cookies);
	tcase_add_test(tc, compare_writes_the_jar_once);
	tcase_add_test(tc, bad_cookie_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}
