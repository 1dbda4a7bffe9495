/* test_stats.c: unit tests of --stats's figures and drawing, stats.h. */

#define _GNU_SOURCE		/* mallinfo2(), open_memstream() */

#include <check.h>

#include <locale.h>
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../src/stats.h"
#include "suites.h"

/* Adds a result of url that took secs, with a status or an error. */
static void
add(struct stats *st, const char *url, double secs, long status,
    const char *kind)
{
	struct fetch_result res;

	memset(&res, 0, sizeof(res));
	res.outcome = kind != NULL ? FETCH_ERROR : FETCH_OK;
	res.kind = kind;
	res.status = status;
	res.secs = secs;
	res.timings.ttfb = kind != NULL ? 0 : secs / 2;
	res.bytes = 10;
	stats_add(st, url, &res);
}

static int
by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The report of runs[0..nruns) in format, malloced. */
static char *
report(const struct stats_run *runs, size_t nruns, enum stats_format format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(fp);
	stats_print(fp, format, runs, nruns);
	ck_assert_int_eq(fclose(fp), 0);
	return text;
}

/* The steps (eighths, or columns of '#') of a drawn bar. */
static size_t
steps_of(const char *bar, bool utf8)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)bar; *p != '\0';
	    p++) {
		if (!utf8) {
			ck_assert_msg(*p == '#', "'%c' in an ASCII bar", *p);
			n++;
			continue;
		}
		/* U+2588 is 8 eighths, U+2589 7 ... U+258F 1. */
		ck_assert_msg(p[0] == 0xe2 && p[1] == 0x96 && p[2] >= 0x88 &&
		    p[2] <= 0x8f, "not a block character in \"%s\"", bar);
		n += p[2] == 0x88 ? 8 : 0x90 - p[2];
		p += 2;
	}
	return n;
}

START_TEST(bar_lengths_proportional_to_counts)
{
	char buf[1024];
	uint64_t count, max;
	size_t cells, n, want;

	for (int utf8 = 0; utf8 < 2; utf8++)
		for (max = 1; max <= 97; max += 12)
			for (count = 0; count <= max; count++)
				for (cells = 8; cells <= 70; cells += 31) {
					n = stats_bar(buf, sizeof(buf), count,
					    max, cells, utf8);
					want = (size_t)llround((double)count *
					    (double)cells * (utf8 ? 8 : 1) /
					    (double)max);
					if (want == 0 && count > 0)
						want = 1;
					ck_assert_uint_eq(n, want);
					ck_assert_uint_eq(steps_of(buf, utf8),
					    want);
				}
	/* The fullest row fills its cells; a short buffer stays whole. */
	ck_assert_uint_eq(stats_bar(buf, sizeof(buf), 5, 5, 10, true), 80);
	ck_assert_uint_eq(strlen(buf), 30);
	stats_bar(buf, 8, 5, 5, 10, true);
	ck_assert_str_eq(buf, "\u2588\u2588");
	stats_bar(buf, 8, 1, 2, 3, true);
	ck_assert_str_eq(buf, "\u2588\u258c");
}
END_TEST

/* The rows of the synthetic run: min 1 s, max 2 s, rows of 0.1 s. */
static const uint64_t draw_rows_want[10] = { 2, 4, 7, 10, 13, 16, 19, 22,
	25, 29 };

static struct stats *
draw_stats(void)
{
	struct stats *st = stats_new();
	size_t i, j;

	ck_assert_ptr_nonnull(st);
	add(st, "http://a/", 1.0, 200, NULL);
	add(st, "http://a/", 2.0, 200, NULL);
	for (i = 0; i < 10; i++)
		for (j = 0; j < 3 * i + 1; j++)
			add(st, "http://a/", 1.05 + 0.1 * (double)i, 200,
			    NULL);
	return st;
}

/* The columns a terminal gives to s: one a character, UTF-8 or not. */
static size_t
columns_of(const char *s, const char *upto)
{
	size_t n = 0;

	for (; *s != '\0' && s != upto; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * Prints the report of runs (made by draw_stats()) under the locale and
 * COLUMNS given, and checks the histogram's rows: their counts, their
 * bars' lengths, the columns they take.
 */
static void
check_drawing(const char *locale, const struct stats_run *runs,
    size_t nruns, int cols)
{
	bool utf8 = strcmp(locale, "C") != 0;
	char *text, *line, *nl, *p, *end, bar[4096], env[16];
	size_t row, k, cells, n, col2 = 0;
	uint64_t count;
	double from;
	int off;

	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, locale));
	snprintf(env, sizeof(env), "%d", cols);
	setenv("COLUMNS", env, 1);
	text = report(runs, nruns, STATS_TEXT);
	/* "  1.0000s", then " 29 " and a bar a run; the last column free. */
	cells = (size_t)(cols - 10 - (int)nruns * 4 - 1) / nruns;
	line = strstr(text, "Total times, rows of 0.1000s:\n");
	ck_assert_msg(line != NULL, "no histogram in:\n%s", text);
	line = strchr(line, '\n') + 1;
	for (row = 0; row < 10; row++, line = nl + 1) {
		ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
		*nl = '\0';
		ck_assert_msg(sscanf(line, " %lfs%n", &from, &off) == 1 &&
		    fabs(from - (1.0 + 0.1 * (double)row)) < 1e-9,
		    "row %zu: \"%s\"", row, line);
		p = line + off;
		for (k = 0; k < nruns; k++) {
			while (*p == ' ')
				p++;
			count = strtoull(p, &end, 10);
			if (k == 1) {
				/* The second run's counts line up (right). */
				if (col2 == 0)
					col2 = columns_of(line, end);
				ck_assert_uint_eq(columns_of(line, end), col2);
			}
			ck_assert_msg(count == draw_rows_want[row] &&
			    *end == ' ', "row %zu: \"%s\"", row, line);
			p = end + 1;
			n = strcspn(p, " ");
			memcpy(bar, p, n);
			bar[n] = '\0';
			ck_assert_msg(steps_of(bar, utf8) ==
			    (size_t)llround((double)count * (double)cells *
			    (utf8 ? 8 : 1) / 29), "row %zu: \"%s\"", row,
			    line);
			p += n;
		}
		ck_assert_msg(columns_of(line, NULL) <= (size_t)cols - 1,
		    "row %zu takes %zu columns of %d: \"%s\"", row,
		    columns_of(line, NULL), cols, line);
	}
	if (!utf8)
		for (p = text; *p != '\0'; p++)
			ck_assert_msg((unsigned char)*p < 0x80, "a byte above "
			    "ASCII in the C locale:\n%s", text);
	free(text);
}

START_TEST(histogram_drawn_to_the_width_in_utf8_and_ascii)
{
	struct stats *st = draw_stats();
	struct stats_run run = { st, NULL, 3 };

	check_drawing("C.UTF-8", &run, 1, 70);
	check_drawing("C.UTF-8", &run, 1, 132);
	check_drawing("C", &run, 1, 70);
	check_drawing("C", &run, 1, 45);
	stats_free(st);
}
END_TEST

/* With --compare, each row shows both runs, on the same scale. */
START_TEST(histogram_side_by_side)
{
	struct stats *a = draw_stats(), *b = draw_stats();
	struct stats_run runs[2] = { { a, "serial", 3 },
	    { b, "concurrent", 1 } };

	check_drawing("C.UTF-8", runs, 2, 80);
	check_drawing("C", runs, 2, 61);
	stats_free(a);
	stats_free(b);
}
END_TEST

/*
 * The space-saving table finds the heavy hosts among a million that come
 * once each, keeps their counts within its bound, and the report's
 * memory does not grow with the URLs or the hosts.
 */
START_TEST(heavy_hosts_in_bounded_memory)
{
	static const char *const heavy[] = { "a.test", "b.test", "c.test",
	    "d.test", "e.test", "f.test", "g.test", "h.test", "i.test",
	    "j.test" };
	struct stats *st = stats_new();
	struct stats_host top[STATS_TOP];
	struct mallinfo2 before, after;
	uint64_t want[10], total = 0, errors_b = 0;
	size_t i, j, n, singles = 1000000;
	char url[64];
	double *times = malloc(200000 * sizeof(*times));
	size_t ntimes = 0;

	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_nonnull(times);
	for (j = 0; j < 10; j++)
		want[j] = 0;
	before = mallinfo2();
	for (i = 0; i < singles; i++) {
		/* Heavy host j comes every 5 * (j + 1) URLs. */
		for (j = 0; j < 10; j++) {
			if (i % (5 * (j + 1)) != 0)
				continue;
			snprintf(url, sizeof(url), "https://u:p@%s:8443/%zu",
			    heavy[j], i);
			if (j == 0) {
				times[ntimes] = 0.001 * (double)(i % 997 + 1);
				add(st, url, times[ntimes++], 200, NULL);
			} else if (j == 1 && i % 4 == 0) {
				add(st, url, 0.5, 0, "Timeout was reached");
				errors_b++;
			} else
				add(st, url, 0.1, j == 1 ? 503 : 200, NULL);
			want[j]++;
			total++;
		}
		/* The others once each; slower and slower, for the slowest. */
		snprintf(url, sizeof(url), "http://h%zu.example/", i);
		add(st, url, 1 + (double)i / 1e6, 200, NULL);
		total++;
	}
	after = mallinfo2();
	ck_assert_msg(after.uordblks <= before.uordblks + 4096,
	    "the heap grew from %zu to %zu bytes", before.uordblks,
	    after.uordblks);

	n = stats_hosts(st, top, STATS_TOP);
	ck_assert_uint_eq(n, 10);
	for (j = 0; j < 10; j++) {
		ck_assert_str_eq(top[j].name, heavy[j]);
		/* Over by at most its "over", which is at most N / 100. */
		ck_assert_msg(top[j].count >= want[j] &&
		    top[j].count - top[j].over <= want[j] &&
		    top[j].over <= total / STATS_HOSTS, "%s: %llu (over %llu)"
		    ", true %llu", heavy[j], (unsigned long long)top[j].count,
		    (unsigned long long)top[j].over,
		    (unsigned long long)want[j]);
	}
	/* The two heaviest never left the table: their figures are exact. */
	ck_assert_uint_eq(top[0].over, 0);
	ck_assert_uint_eq(top[0].count, want[0]);
	ck_assert_uint_eq(top[0].errors, 0);
	ck_assert_uint_eq(top[1].over, 0);
	ck_assert_uint_eq(top[1].errors, want[1]);
	ck_assert_uint_eq(errors_b * 2, want[1]);
	/* a.test's percentiles within 3.2% of the exact ones. */
	qsort(times, ntimes, sizeof(times[0]), by_double);
	ck_assert_msg(fabs((double)top[0].p50_us / 1e6 -
	    times[(ntimes + 1) / 2 - 1]) <= 0.032 * times[(ntimes + 1) / 2 -
	    1], "p50 %llu us", (unsigned long long)top[0].p50_us);
	ck_assert_msg(fabs((double)top[0].p99_us / 1e6 -
	    times[(size_t)ceil(0.99 * (double)ntimes) - 1]) <= 0.032 *
	    times[(size_t)ceil(0.99 * (double)ntimes) - 1], "p99 %llu us",
	    (unsigned long long)top[0].p99_us);
	free(times);
	stats_free(st);
}
END_TEST

/* Past STATS_HOSTS hosts, both reports say the host figures are not exact. */
START_TEST(reports_say_when_hosts_are_approximate)
{
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 1 };
	char *text, url[64];
	size_t i;

	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 1000; i++)
		add(st, "http://big.test/", 0.2, 200, NULL);
	for (i = 0; i < STATS_HOSTS + 50; i++) {
		snprintf(url, sizeof(url), "http://h%zu.test/", i);
		add(st, url, 0.1, 200, NULL);
	}
	for (int json = 0; json < 2; json++) {
		text = report(&run, 1, json ? STATS_JSON : STATS_TEXT);
		if (json)
			ck_assert_msg(strstr(text, "\"hosts_tracked\":100,"
			    "\"hosts_approximate\":true}\n") != NULL &&
			    strstr(text, "{\"host\":\"big.test\",\"urls\":"
			    "1000,\"over\":0,\"errors\":0,") != NULL,
			    "%s", text);
		else
			ck_assert_msg(strstr(text, "Hosts, top 10 of more "
			    "than 100:\n") != NULL && strstr(text, "(URL "
			    "counts may be over by up to 1;") != NULL,
			    "%s", text);
		free(text);
	}
	stats_free(st);
}
END_TEST

/*
 * The text host table pads a name by its width as printed: a byte that is
 * escaped (\x01) takes four columns, and the figures still line up.
 */
START_TEST(host_table_lines_up_escaped_names)
{
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 1 };
	char *text, *a, *b;

	ck_assert_ptr_nonnull(st);
	add(st, "http://h\x01x.test/", 0.1, 200, NULL);
	add(st, "http://plain.test/", 0.1, 200, NULL);
	text = report(&run, 1, STATS_TEXT);
	ck_assert_msg((a = strstr(text, "\n  h\\x01x.test ")) != NULL &&
	    (b = strstr(text, "\n  plain.test ")) != NULL, "%s", text);
	/* The same figures on both lines: aligned, they end together. */
	ck_assert_msg(strcspn(a + 1, "\n") == strcspn(b + 1, "\n"), "the "
	    "figures do not line up:\n%s", text);
	free(text);
	stats_free(st);
}
END_TEST

/*
 * A host is what follows the last '@' before the path, as the redacted
 * URLs show it: a password with an '@', '?' or '#' in it, or a user name,
 * never shows as a host or part of one.
 */
START_TEST(hosts_never_show_credentials)
{
	static const char *const urls[] = { "http://user:p@ss@h.test/",
	    "http://user:pa?ss@h.test/x", "https://token#x@H.test:8443",
	    "h.test/a@b", "http://h.test?q=1", "http://user:pa/ss@h.test/" };
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 1 };
	struct stats_host top[STATS_TOP];
	char *text;
	size_t i;

	ck_assert_ptr_nonnull(st);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		add(st, urls[i], 0.1, 200, NULL);
	ck_assert_uint_eq(stats_hosts(st, top, STATS_TOP), 1);
	ck_assert_str_eq(top[0].name, "h.test");
	ck_assert_uint_eq(top[0].count, 6);
	for (int json = 0; json < 2; json++) {
		text = report(&run, 1, json ? STATS_JSON : STATS_TEXT);
		ck_assert_msg(strstr(text, "ss@") == NULL &&
		    strstr(text, "user") == NULL &&
		    strstr(text, "token") == NULL, "a secret in:\n%s", text);
		free(text);
	}
	stats_free(st);
}
END_TEST

/* The columns a UTF-8 terminal gives to the line s. */
static size_t
line_width(const char *s)
{
	wchar_t w[1024];
	size_t n = mbstowcs(w, s, 1024);
	int cols;

	ck_assert_msg(n != (size_t)-1 && n < 1024, "\"%s\"", s);
	cols = wcswidth(w, n);
	ck_assert_msg(cols >= 0, "unprintable \"%s\"", s);
	return (size_t)cols;
}

/*
 * The host table lines up by the columns a name takes on a UTF-8
 * terminal, whatever its bytes: a letter of two bytes takes one, a wide
 * letter two, and a name longer than the column widens it.  With the same
 * figures on every row, each row is as wide as the heading.
 */
START_TEST(host_table_lines_up_utf8_and_long_names)
{
	static const char *const hosts[] = { "b\u00fccher.test",
	    "\u65e5\u672c.test", "h\x01x.test", "plain.test",
	    "a-host-name-of-forty-five-columns-or-so.test" };
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 1 };
	char *text, *line, *nl, url[128];
	size_t i, rows = 0, head;

	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C.UTF-8"));
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		snprintf(url, sizeof(url), "http://%s/", hosts[i]);
		add(st, url, 0.1, 200, NULL);
	}
	text = report(&run, 1, STATS_TEXT);
	ck_assert_msg((line = strstr(text, "\nHosts:\n")) != NULL, "%s", text);
	line += strlen("\nHosts:\n");
	ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
	*nl = '\0';
	head = line_width(line);
	for (line = nl + 1; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		ck_assert_msg(line_width(line) == head, "a row of %zu columns "
		    "under a heading of %zu: \"%s\"", line_width(line), head,
		    line);
		rows++;
	}
	ck_assert_uint_eq(rows, sizeof(hosts) / sizeof(hosts[0]));
	free(text);
	stats_free(st);
}
END_TEST

/*
 * Times of 100 s and more take wider row labels, and the bars narrow to
 * make room: every row still ends before the terminal's last column, and
 * the fullest reaches it.
 */
START_TEST(histogram_of_long_times_fits_the_width)
{
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 5000 };
	char *text, *line, *nl;
	size_t i, w, widest = 0, rows = 0;

	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 100; i++)
		add(st, "http://a/", 150 + 13.5 * (double)i, 200, NULL);
	add(st, "http://a/", 160, 200, NULL);
	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C"));
	setenv("COLUMNS", "60", 1);
	text = report(&run, 1, STATS_TEXT);
	ck_assert_msg((line = strstr(text, "Total times, rows of ")) != NULL,
	    "%s", text);
	for (line = strchr(line, '\n') + 1; strncmp(line, "Slowest", 7) != 0;
	    line = nl + 1, rows++) {
		ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
		w = (size_t)(nl - line);
		ck_assert_msg(w <= 59, "a row of %zu columns on 60:\n%s", w,
		    text);
		if (w > widest)
			widest = w;
	}
	ck_assert_uint_eq(rows, 10);
	ck_assert_msg(widest == 59, "the fullest row takes %zu columns of "
	    "60:\n%s", widest, text);
	free(text);
	stats_free(st);
}
END_TEST

/*
 * URLs that all take under a millisecond get rows told apart: more
 * decimals, and no two rows with one label.  Times 5 us apart get rows
 * of 1 us, the times' own grain.
 */
START_TEST(histogram_of_fast_times_tells_its_rows_apart)
{
	static const struct { double from, step; const char *head; } cases[] = {
		{ 0.000200, 0.000020, "Total times, rows of 0.00002s:" },
		{ 0.000300, 0.0000005, "Total times, rows of 0.000001s:" },
	};
	struct stats *st;
	struct stats_run run = { NULL, NULL, 1 };
	char *text, *line, *nl, prev[32] = "", label[32];
	size_t i, c, rows;

	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C"));
	setenv("COLUMNS", "80", 1);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		ck_assert_ptr_nonnull(st = stats_new());
		run.st = st;
		for (i = 0; i <= 10; i++)
			add(st, "http://a/", cases[c].from + cases[c].step *
			    (double)i, 200, NULL);
		text = report(&run, 1, STATS_TEXT);
		ck_assert_msg((line = strstr(text, cases[c].head)) != NULL,
		    "no \"%s\" in:\n%s", cases[c].head, text);
		for (line = strchr(line, '\n') + 1, rows = 0;
		    strncmp(line, "Slowest", 7) != 0; line = nl + 1, rows++) {
			ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
			ck_assert_int_eq(sscanf(line, " %31s", label), 1);
			ck_assert_msg(strcmp(label, prev) != 0,
			    "two rows of %s:\n%s", label, text);
			strcpy(prev, label);
		}
		ck_assert_msg(rows >= 5, "%zu rows:\n%s", rows, text);
		free(text);
		stats_free(st);
	}
}
END_TEST

/* The length of the line of text that holds the first s. */
static size_t
line_len(const char *text, const char *s)
{
	const char *p = strstr(text, s);

	ck_assert_msg(p != NULL, "no \"%s\" in:\n%s", s, text);
	while (p > text && p[-1] != '\n')
		p--;
	return strcspn(p, "\n");
}

/*
 * Times of 1000 s and more widen the columns of times: the times table,
 * the slowest URLs and the host table still line up under their headings.
 */
START_TEST(long_times_line_up)
{
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 5000 };
	char *text, *p, *q;
	size_t i, head;
	ptrdiff_t at = 0;

	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 20; i++)
		add(st, i % 2 == 0 ? "http://a.test/" : "http://b.test/",
		    1 + 80 * (double)i, 200, NULL);
	text = report(&run, 1, STATS_TEXT);
	head = line_len(text, " min ");
	ck_assert_uint_eq(line_len(text, "total "), head);
	ck_assert_uint_eq(line_len(text, "ttfb "), head);
	head = line_len(text, "  host ");
	ck_assert_uint_eq(line_len(text, "  a.test "), head);
	ck_assert_uint_eq(line_len(text, "  b.test "), head);
	/* Each of the slowest URLs has its status in the same column. */
	ck_assert_ptr_nonnull(p = strstr(text, "\nSlowest:\n"));
	for (p += strlen("\nSlowest:\n"), i = 0; i < STATS_SLOWEST; i++) {
		ck_assert_ptr_nonnull(q = strstr(p, "s  200  "));
		if (at == 0)
			at = q - p;
		ck_assert_msg(q == p + at, "%s", text);
		p = strchr(p, '\n') + 1;
	}
	free(text);
	stats_free(st);
}
END_TEST

/*
 * A kind of error too long for the column of labels (libcurl has one of
 * 108 characters) is cut short, and its count lines up with the others.
 */
START_TEST(long_error_kind_lines_up)
{
	static const char long_kind[] = "A requested feature, protocol or "
	    "option was not found built-in in this libcurl due to a "
	    "build-time decision.";
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 1 };
	char *text;
	size_t urls;

	ck_assert_ptr_nonnull(st);
	add(st, "http://a.test/", 0.1, 0, long_kind);
	add(st, "http://a.test/", 0.1, 0, "Timeout was reached");
	text = report(&run, 1, STATS_TEXT);
	urls = line_len(text, "URLs ");
	ck_assert_uint_eq(line_len(text, "  A requested feature, "), urls);
	ck_assert_uint_eq(line_len(text, "  Timeout was reached "), urls);
	ck_assert_uint_eq(line_len(text, "errors "), urls);
	free(text);
	stats_free(st);
}
END_TEST

/*
 * A host whose every URL was cancelled has no times: its row shows none,
 * "-" as the times table has it, and null in JSON, rather than 0 s; and
 * the row is as long as the others.
 */
START_TEST(host_without_times_shows_none)
{
	struct stats *st = stats_new();
	struct stats_run run = { st, NULL, 1 };
	struct fetch_result res;
	char *text, *row;

	ck_assert_ptr_nonnull(st);
	memset(&res, 0, sizeof(res));
	res.outcome = FETCH_CANCELLED;
	stats_add(st, "http://gone.test/", &res);
	stats_add(st, "http://gone.test/", &res);
	add(st, "http://ok.test/", 0.5, 200, NULL);
	text = report(&run, 1, STATS_TEXT);
	ck_assert_uint_eq(line_len(text, "  gone.test "),
	    line_len(text, "  ok.test "));
	row = strndup(strstr(text, "  gone.test "),
	    strcspn(strstr(text, "  gone.test "), "\n"));
	ck_assert_msg(strstr(row, "0s") == NULL &&
	    strcmp(row + strlen(row) - 2, " -") == 0, "row: %s", row);
	free(row);
	free(text);
	text = report(&run, 1, STATS_JSON);
	ck_assert_msg(strstr(text, "{\"host\":\"gone.test\",\"urls\":2,"
	    "\"over\":0,\"errors\":0,\"p50\":null,\"p99\":null}") != NULL,
	    "%s", text);
	free(text);
	stats_free(st);
}
END_TEST

Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bar_lengths_proportional_to_counts);
	tcase_add_test(tc, histogram_drawn_to_the_width_in_utf8_and_ascii);
	tcase_add_test(tc, histogram_side_by_side);
	tcase_add_test(tc, histogram_of_long_times_fits_the_width);
	tcase_add_test(tc, histogram_of_fast_times_tells_its_rows_apart);
	tcase_add_test(tc, long_times_line_up);
	tcase_add_test(tc, long_error_kind_lines_up);
	tcase_add_test(tc, heavy_hosts_in_bounded_memory);
	tcase_add_test(tc, reports_say_when_hosts_are_approximate);
	tcase_add_test(tc, host_table_lines_up_escaped_names);
	tcase_add_test(tc, hosts_never_show_credentials);
	tcase_add_test(tc, host_table_lines_up_utf8_and_long_names);
	tcase_add_test(tc, host_without_times_shows_none);
	suite_add_tcase(s, tc);
	return s;
}
