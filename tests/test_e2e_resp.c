/* End-to-end tests of --compressed and --max-filesize (issue 16). */

#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

/*
 * --compressed asks for what curl --compressed asks for, and decodes: a
 * gzip body arrives small, and one that is not gzip fails.
 */
START_TEST(compressed_asks_and_decodes)
{
	char *seen;
	struct proc *p;

	seen = e2e_same_as_curl(NULL, "--compressed", NULL);
	ck_assert_msg(strstr(seen, "[\"Accept-Encoding\", \"deflate, gzip, "
	    "br, zstd\"]") != NULL, "%s", seen);
	p = e2e_raw(15, "--ordered", "-w", "%{http_code} %{size_download} "
	    "%{errormsg}\\n", e2e_url("/gzip/100000"),
	    e2e_url("/gzip/100000?bad=1"), NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 2 && strcmp(p->lines[0], "200 100000 ") ==
	    0 && strcmp(p->lines[1], "200 16 ") == 0, "without:\n%s",
	    proc_msg(&p->obuf));
	p = e2e_raw(15, "--compressed", "--ordered", "-w", "%{http_code} "
	    "%{size_download} %{errormsg}\\n", e2e_url("/gzip/100000"),
	    e2e_url("/gzip/100000?bad=1"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2 && proc_match(p->lines[0],
	    "^200 ([0-9]+) $", NULL, 0) && atoi(p->lines[0] + 4) < 1000 &&
	    strncmp(p->lines[1], "200 ", 4) == 0 && strstr(p->lines[1],
	    "unencoding") != NULL, "with:\n%s", proc_msg(&p->obuf));
}
END_TEST

/* A body announced larger than --max-filesize fails; the others pass. */
START_TEST(max_filesize_fails_larger_bodies)
{
	struct proc *p;

	p = e2e_raw(15, "--max-filesize", "1k", "--ordered", "-w",
	    "%{http_code} %{size_download} %{errormsg}\\n",
	    e2e_url("/bytes/1024"), e2e_url("/bytes/1025"),
	    e2e_url("/bytes/100000000"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 3 && strcmp(p->lines[0], "200 1024 ") ==
	    0 && strstr(p->lines[1], "Maximum file size exceeded") != NULL &&
	    strstr(p->lines[2], "Maximum file size exceeded") != NULL &&
	    strncmp(p->lines[2], "200 0 ", 6) == 0, "stdout:\n%s",
	    proc_msg(&p->obuf));
	p = e2e_raw(15, "--max-filesize", "0", e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ck_assert(strstr(proc_str(&p->ebuf), "--max-filesize wants bytes") !=
	    NULL);
}
END_TEST

/* For main.c: the suite of this file. */
Suite *
e2e_resp_suite(void)
{
	Suite *s = suite_create("e2e_resp");
	TCase *tc = tcase_create("resp");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, compressed_asks_and_decodes);
	tcase_add_test(tc, max_filesize_fails_larger_bodies);
	suite_add_tcase(s, tc);
	return s;
}
