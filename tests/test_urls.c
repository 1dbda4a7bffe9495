/* test_urls.c: unit tests of the URL list, urls.h. */

/* fmemopen, open_memstream, mkdtemp and fopencookie. */
#define _GNU_SOURCE

#include <check.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "../src/urls.h"
#include "suites.h"

/* Time limit of every test, in seconds: a reader that loops fails. */
#define URLS_TLIMIT	20

/* Asserts that the list holds exactly the NULL-terminated strings want. */
static void
expect_list(const struct urls *u, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		ck_assert_msg(i < u->n, "list has %zu URLs, expected more: "
		    "'%s' missing", u->n, want[i]);
		ck_assert_msg(strcmp(u->v[i], want[i]) == 0,
		    "URL %zu is '%s', expected '%s'", i, u->v[i], want[i]);
	}
	ck_assert_msg(u->n == i, "list has %zu URLs, expected %zu", u->n, i);
}

#define LIST(...)	((const char *const []){ __VA_ARGS__, NULL })
#define EMPTY		((const char *const []){ NULL })

/*
 * Reads the len bytes at text into u through a read-only memory stream;
 * asserts urls_read() succeeds.
 */
static void
read_text(struct urls *u, const char *text, size_t len)
{
	FILE *fp;
	int rc;

	fp = fmemopen((void *)text, len, "r");
	ck_assert_msg(fp != NULL, "fmemopen: %s", strerror(errno));
	errno = 0;
	rc = urls_read(u, fp);
	ck_assert_msg(rc == 0, "urls_read returned %d (%s)", rc,
	    strerror(errno));
	ck_assert_int_eq(fclose(fp), 0);
}

#define READ_STR(u, s)	read_text((u), (s), strlen(s))

/* Returns a temporary file holding the len bytes at s, rewound. */
static FILE *
temp_with(const char *s, size_t len)
{
	FILE *fp;

	fp = tmpfile();
	ck_assert_msg(fp != NULL, "tmpfile: %s", strerror(errno));
	if (len > 0)
		ck_assert_uint_eq(fwrite(s, 1, len, fp), len);
	ck_assert_int_eq(fflush(fp), 0);
	rewind(fp);
	return fp;
}

START_TEST(init_is_empty)
{
	struct urls u;

	memset(&u, 0xa5, sizeof(u));
	urls_init(&u);
	ck_assert_uint_eq(u.n, 0);
	ck_assert_ptr_null(u.v);
	urls_free(&u);
	ck_assert_uint_eq(u.n, 0);
}
END_TEST

START_TEST(add_copies)
{
	struct urls u;
	char buf[] = "http://127.0.0.1/one";

	urls_init(&u);
	ck_assert_int_eq(urls_add(&u, buf, strlen(buf)), 0);
	ck_assert_msg(u.v[0] != buf, "the list keeps the caller's buffer");
	/* The caller's buffer is the caller's: change it and free nothing. */
	memset(buf, 'z', strlen(buf));
	expect_list(&u, LIST("http://127.0.0.1/one"));
	urls_free(&u);
}
END_TEST

START_TEST(add_takes_len_bytes_and_terminates)
{
	struct urls u;
	const char *s = "http://127.0.0.1/a,http://127.0.0.1/b";

	urls_init(&u);
	ck_assert_int_eq(urls_add(&u, s, 18), 0);
	ck_assert_int_eq(urls_add(&u, s + 19, strlen(s + 19)), 0);
	ck_assert_int_eq(urls_add(&u, "", 0), 0);
	expect_list(&u, LIST("http://127.0.0.1/a", "http://127.0.0.1/b",
	    ""));
	urls_free(&u);
}
END_TEST

START_TEST(add_many_keeps_order)
{
	struct urls u;
	char s[64];
	size_t i;
	int len;

	urls_init(&u);
	for (i = 0; i < 5000; i++) {
		len = snprintf(s, sizeof(s), "http://127.0.0.1/%zu", i);
		ck_assert_int_eq(urls_add(&u, s, (size_t)len), 0);
	}
	ck_assert_uint_eq(u.n, 5000);
	ck_assert_uint_ge(u.cap, u.n);
	for (i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "http://127.0.0.1/%zu", i);
		ck_assert_str_eq(u.v[i], s);
	}
	urls_free(&u);
}
END_TEST

START_TEST(read_one_per_line)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "http://127.0.0.1:8080/a\n127.0.0.1/b\n"
	    "https://[::1]/c?x=1&y=2\n");
	expect_list(&u, LIST("http://127.0.0.1:8080/a", "127.0.0.1/b",
	    "https://[::1]/c?x=1&y=2"));
	urls_free(&u);
}
END_TEST

/*
 * A NUL byte would cut a URL short as a C string: such lines are skipped
 * and counted, with the first one's number, and the others still read.
 */
START_TEST(read_skips_and_counts_lines_with_nul)
{
	static const char text[] = "http://127.0.0.1/a\n"
	    "http://127.0.0.1/\0b\n"
	    "http://127.0.0.1/c\n"
	    "\0\n"
	    "http://127.0.0.1/d";
	struct urls u;

	urls_init(&u);
	read_text(&u, text, sizeof(text) - 1);
	expect_list(&u, LIST("http://127.0.0.1/a", "http://127.0.0.1/c",
	    "http://127.0.0.1/d"));
	ck_assert_uint_eq(u.nul_lines, 2);
	ck_assert_uint_eq(u.first_nul, 2);
	urls_free(&u);
	ck_assert_uint_eq(u.nul_lines, 0);
}
END_TEST

START_TEST(read_strips_surrounding_blanks_and_crlf)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "  http://127.0.0.1/a\r\n"
	    "\thttp://127.0.0.1/b \t \r\n"
	    "http://127.0.0.1/c\r\n"
	    "\v\f http://127.0.0.1/d\f\n");
	expect_list(&u, LIST("http://127.0.0.1/a", "http://127.0.0.1/b",
	    "http://127.0.0.1/c", "http://127.0.0.1/d"));
	urls_free(&u);
}
END_TEST

START_TEST(read_skips_blank_lines)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "\n\nhttp://127.0.0.1/a\n   \n\t\n\r\n \t\r\n"
	    "http://127.0.0.1/b\n\n");
	expect_list(&u, LIST("http://127.0.0.1/a", "http://127.0.0.1/b"));
	urls_free(&u);
}
END_TEST

START_TEST(read_skips_comment_lines)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "# a list of URLs\n"
	    "http://127.0.0.1/a\n"
	    "   # indented with spaces\n"
	    "\t#indented with a tab\r\n"
	    "#\n"
	    "http://127.0.0.1/b#fragment\n"
	    "http://127.0.0.1/c # not a comment\n");
	/* Only a '#' first on the line starts a comment. */
	expect_list(&u, LIST("http://127.0.0.1/a",
	    "http://127.0.0.1/b#fragment",
	    "http://127.0.0.1/c # not a comment"));
	urls_free(&u);
}
END_TEST

START_TEST(read_last_line_without_newline)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "http://127.0.0.1/a\nhttp://127.0.0.1/last");
	expect_list(&u, LIST("http://127.0.0.1/a", "http://127.0.0.1/last"));
	urls_free(&u);

	urls_init(&u);
	READ_STR(&u, "  http://127.0.0.1/only  ");
	expect_list(&u, LIST("http://127.0.0.1/only"));
	urls_free(&u);
}
END_TEST

START_TEST(read_keeps_internal_spaces)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "  http://127.0.0.1/a b  c\td  \n");
	expect_list(&u, LIST("http://127.0.0.1/a b  c\td"));
	urls_free(&u);
}
END_TEST

START_TEST(read_100k_line)
{
	struct urls u;
	size_t len = 100 * 1024, i;
	char *text;
	FILE *fp;

	/* "  http://127.0.0.1/aaaa...a  \nhttp://127.0.0.1/next\n" */
	text = malloc(len + 64);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "  http://127.0.0.1/", 19);
	for (i = 19; i < len + 2; i++)
		text[i] = (char)('a' + i % 26);
	strcpy(text + len + 2, "  \nhttp://127.0.0.1/next\n");

	fp = temp_with(text, strlen(text));
	urls_init(&u);
	ck_assert_int_eq(urls_read(&u, fp), 0);
	fclose(fp);
	ck_assert_uint_eq(u.n, 2);
	ck_assert_msg(strlen(u.v[0]) == len, "long URL is %zu bytes, not %zu",
	    strlen(u.v[0]), len);
	ck_assert_msg(memcmp(u.v[0], text + 2, len) == 0,
	    "long URL's bytes differ");
	ck_assert_str_eq(u.v[1], "http://127.0.0.1/next");
	urls_free(&u);
	free(text);
}
END_TEST

START_TEST(read_many_lines_in_order)
{
	enum { NLINES = 100000 };
	struct urls u;
	char *text = NULL, want[64];
	size_t len = 0, i;
	FILE *mem, *fp;

	mem = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(mem);
	for (i = 0; i < NLINES; i++) {
		fprintf(mem, "http://127.0.0.1:%zu/%zu\n", 1 + i % 65535, i);
		/* Comments and blank lines between, which must not count. */
		if (i % 1000 == 0)
			fputs("# comment\n\n", mem);
	}
	ck_assert_int_eq(fclose(mem), 0);

	fp = temp_with(text, len);
	urls_init(&u);
	ck_assert_int_eq(urls_read(&u, fp), 0);
	fclose(fp);
	ck_assert_msg(u.n == NLINES, "read %zu URLs, expected %d", u.n,
	    NLINES);
	for (i = 0; i < NLINES; i++) {
		snprintf(want, sizeof(want), "http://127.0.0.1:%zu/%zu",
		    1 + i % 65535, i);
		ck_assert_msg(strcmp(u.v[i], want) == 0,
		    "URL %zu out of order", i);
	}
	urls_free(&u);
	free(text);
}
END_TEST

START_TEST(read_empty_input_adds_nothing)
{
	struct urls u;
	FILE *fp;

	fp = temp_with("", 0);
	urls_init(&u);
	ck_assert_int_eq(urls_read(&u, fp), 0);
	fclose(fp);
	ck_assert_uint_eq(u.n, 0);

	/* Nothing but blanks and comments is empty too. */
	READ_STR(&u, "\n  \n# only a comment\n\t\r\n");
	ck_assert_uint_eq(u.n, 0);
	urls_free(&u);
}
END_TEST

START_TEST(read_appends_after_arguments)
{
	struct urls u;

	urls_init(&u);
	ck_assert_int_eq(urls_add(&u, "http://127.0.0.1/arg", 20), 0);
	READ_STR(&u, "http://127.0.0.1/file1\nhttp://127.0.0.1/file2\n");
	READ_STR(&u, "http://127.0.0.1/again\n");
	expect_list(&u, LIST("http://127.0.0.1/arg", "http://127.0.0.1/file1",
	    "http://127.0.0.1/file2", "http://127.0.0.1/again"));
	urls_free(&u);
}
END_TEST

START_TEST(free_empties_and_list_is_reusable)
{
	struct urls u;

	urls_init(&u);
	READ_STR(&u, "http://127.0.0.1/a\nhttp://127.0.0.1/b\n");
	ck_assert_uint_eq(u.n, 2);
	urls_free(&u);
	ck_assert_uint_eq(u.n, 0);
	ck_assert_uint_eq(u.cap, 0);
	ck_assert_ptr_null(u.v);
	/* A second free of the empty list is harmless. */
	urls_free(&u);
	ck_assert_uint_eq(u.n, 0);

	READ_STR(&u, "http://127.0.0.1/c\n");
	expect_list(&u, LIST("http://127.0.0.1/c"));
	urls_free(&u);
}
END_TEST

START_TEST(read_error_from_directory)
{
	char dir[] = "/tmp/test_urls.XXXXXX";
	struct urls u;
	FILE *fp;
	int rc, err;

	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	fp = fopen(dir, "r");
	err = errno;
	rmdir(dir);
	/* Linux opens a directory for reading; read(2) then fails. */
	ck_assert_msg(fp != NULL, "fopen(%s): %s", dir, strerror(err));

	urls_init(&u);
	ck_assert_int_eq(urls_add(&u, "http://127.0.0.1/arg", 20), 0);
	errno = 0;
	rc = urls_read(&u, fp);
	err = errno;
	fclose(fp);
	ck_assert_msg(rc == -1, "urls_read of a directory returned %d", rc);
	ck_assert_msg(err == EISDIR, "errno %d (%s), expected EISDIR", err,
	    strerror(err));
	/* What was there stays. */
	expect_list(&u, LIST("http://127.0.0.1/arg"));
	urls_free(&u);
}
END_TEST

/*
 * A stream that gives its text and then fails with EIO, like a disk or a
 * network file system that goes away in the middle of a read.
 */
struct failing {
	const char	*text;
	size_t		 off;
	size_t		 len;
};

static ssize_t
failing_read(void *cookie, char *buf, size_t size)
{
	struct failing *f = cookie;
	size_t n;

	if (f->off == f->len) {
		errno = EIO;
		return -1;
	}
	n = f->len - f->off < size ? f->len - f->off : size;
	memcpy(buf, f->text + f->off, n);
	f->off += n;
	return (ssize_t)n;
}

START_TEST(read_error_midway_keeps_urls_read)
{
	static const char text[] = "http://127.0.0.1/a\n# comment\n"
	    "http://127.0.0.1/b\n";
	struct failing f = { text, 0, sizeof(text) - 1 };
	cookie_io_functions_t io = { failing_read, NULL, NULL, NULL };
	struct urls u;
	FILE *fp;
	int rc, err;

	fp = fopencookie(&f, "r", io);
	ck_assert_msg(fp != NULL, "fopencookie: %s", strerror(errno));
	urls_init(&u);
	errno = 0;
	rc = urls_read(&u, fp);
	err = errno;
	fclose(fp);
	ck_assert_msg(rc == -1,
	    "urls_read of a failing stream returned %d", rc);
	ck_assert_msg(err == EIO, "errno %d (%s), expected EIO", err,
	    strerror(err));
	expect_list(&u, LIST("http://127.0.0.1/a", "http://127.0.0.1/b"));
	urls_free(&u);
}
END_TEST

/*
 * run_tests is linked with --wrap=getline: when getline_fails is n > 0,
 * the nth call from now fails as getline() does when a line will not fit
 * in memory, with ENOMEM and no error flag on the stream.
 */
static int getline_fails;

ssize_t	__real_getline(char **, size_t *, FILE *);
ssize_t	__wrap_getline(char **, size_t *, FILE *);

ssize_t
__wrap_getline(char **line, size_t *size, FILE *fp)
{
	if (getline_fails > 0 && --getline_fails == 0) {
		errno = ENOMEM;
		return -1;
	}
	return __real_getline(line, size, fp);
}

START_TEST(read_line_too_long_for_memory_is_an_error)
{
	static const char text[] = "http://127.0.0.1/a\nhttp://127.0.0.1/b\n"
	    "http://127.0.0.1/c\n";
	struct urls u;
	FILE *fp;
	int rc, err;

	fp = fmemopen((void *)text, sizeof(text) - 1, "r");
	ck_assert_msg(fp != NULL, "fmemopen: %s", strerror(errno));
	urls_init(&u);
	getline_fails = 2;
	errno = 0;
	rc = urls_read(&u, fp);
	err = errno;
	getline_fails = 0;
	fclose(fp);
	ck_assert_msg(rc == -1, "urls_read returned %d where a line did not "
	    "fit in memory", rc);
	ck_assert_msg(err == ENOMEM, "errno %d (%s), expected ENOMEM", err,
	    strerror(err));
	expect_list(&u, LIST("http://127.0.0.1/a"));
	urls_free(&u);
}
END_TEST

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
urls_suite(void)
{
	Suite *s = suite_create("urls");
	TCase *tc = tcase_create("urls");

	tcase_set_timeout(tc, URLS_TLIMIT);
	tcase_add_test(tc, init_is_empty);
	tcase_add_test(tc, add_copies);
	tcase_add_test(tc, add_takes_len_bytes_and_terminates);
	tcase_add_test(tc, add_many_keeps_order);
	tcase_add_test(tc, read_one_per_line);
	tcase_add_test(tc, read_strips_surrounding_blanks_and_crlf);
	tcase_add_test(tc, read_skips_blank_lines);
	tcase_add_test(tc, read_skips_comment_lines);
	tcase_add_test(tc, read_last_line_without_newline);
	tcase_add_test(tc, read_keeps_internal_spaces);
	tcase_add_test(tc, read_100k_line);
	tcase_add_test(tc, read_many_lines_in_order);
	tcase_add_test(tc, read_empty_input_adds_nothing);
	tcase_add_test(tc, read_appends_after_arguments);
	tcase_add_test(tc, free_empties_and_list_is_reusable);
	tcase_add_test(tc, read_skips_and_counts_lines_with_nul);
	tcase_add_test(tc, read_error_from_directory);
	tcase_add_test(tc, read_error_midway_keeps_urls_read);
	tcase_add_test(tc, read_line_too_long_for_memory_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}
