/* test_output.c: unit tests of the output formats, output.h and progress.h. */

/* open_memstream. */
#define _GNU_SOURCE

#include <sys/ioctl.h>

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/fetch.h"
#include "../src/output.h"
#include "../src/progress.h"
#include "proc.h"
#include "suites.h"

/* Time limit of every test, in seconds. */
#define OUT_TLIMIT	10

/*
 * A memory stream the functions under test write to; out_text() closes it
 * and returns what was written (malloced; the test frees it).
 */
struct out_mem {
	FILE	*fp;
	char	*buf;	/* set by open_memstream */
	size_t	 len;
};

static void
out_open(struct out_mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->fp = open_memstream(&m->buf, &m->len);
	ck_assert_msg(m->fp != NULL, "open_memstream failed");
}

static char *
out_text(struct out_mem *m)
{
	ck_assert_int_eq(fclose(m->fp), 0);
	return m->buf;
}

static void
expect_json(const char *in, const char *want)
{
	struct out_mem m;
	char *got;

	out_open(&m);
	output_json_string(m.fp, in);
	got = out_text(&m);
	ck_assert_msg(strcmp(got, want) == 0,
	    "JSON of \"%s\": got %s, want %s", in ? in : "(null)", got, want);
	free(got);
}

static void
expect_csv(const char *in, const char *want)
{
	struct out_mem m;
	char *got;

	out_open(&m);
	output_csv_field(m.fp, in);
	got = out_text(&m);
	ck_assert_msg(strcmp(got, want) == 0, "CSV of \"%s\": got %s, want %s",
	    in ? in : "(null)", got, want);
	free(got);
}

static void
expect_redact(const char *in, bool url, const char *want)
{
	char *got = output_redact(in, url);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0,
	    "redact(\"%s\", %s): got \"%s\", want \"%s\"", in,
	    url ? "url" : "text", got, want);
	free(got);
}

START_TEST(json_escapes_quotes_backslashes_and_controls)
{
	expect_json("plain", "\"plain\"");
	expect_json("", "\"\"");
	expect_json(NULL, "null");
	expect_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect_json("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	expect_json("\x01\x1b[31m\x1f\x7f", "\"\\u0001\\u001b[31m\\u001f"
	    "\\u007f\"");
	/* The slash needs no escape. */
	expect_json("http://h/p", "\"http://h/p\"");
}
END_TEST

START_TEST(json_keeps_valid_utf8)
{
	expect_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_json("\xe4\xb8\xad", "\"\xe4\xb8\xad\"");
	expect_json("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	expect_json("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	expect_json("\xc2\xa0", "\"\xc2\xa0\"");
}
END_TEST

START_TEST(json_replaces_invalid_utf8)
{
	/* A lone continuation byte, never valid bytes, a cut sequence. */
	expect_json("a\x80z", "\"a\\ufffdz\"");
	expect_json("\xff\xfe", "\"\\ufffd\\ufffd\"");
	expect_json("\xe2\x82", "\"\\ufffd\\ufffd\"");
	expect_json("\xe2\x82z", "\"\\ufffd\\ufffdz\"");
	/* Overlong forms, a surrogate, and above U+10FFFF. */
	expect_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	expect_json("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	expect_json("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(json_escapes_c1_controls_and_line_separators)
{
	expect_json("\xc2\x85", "\"\\u0085\"");
	expect_json("\xc2\x9b" "31m", "\"\\u009b31m\"");
	expect_json("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
}
END_TEST

/*
 * Whatever bytes go in, what comes out is printable ASCII between quotes
 * with every escape well formed, or valid UTF-8 that is not a control.
 */
START_TEST(json_of_random_bytes_is_clean)
{
	unsigned seed = 12345;
	unsigned char in[64];
	struct out_mem m;
	char *got;

	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % 63);
		const unsigned char *p;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = (unsigned char)((seed >> 16) % 255 + 1);
		}
		in[n] = '\0';
		out_open(&m);
		output_json_string(m.fp, (const char *)in);
		got = out_text(&m);
		p = (const unsigned char *)got;
		ck_assert_int_eq(*p, '"');
		for (p++; *p != '\0' && !(*p == '"' && p[1] == '\0'); p++) {
			ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw control "
			    "0x%02x in %s", *p, got);
			ck_assert_msg(*p != '"', "bare quote in %s", got);
			if (*p == '\\') {
				p++;
				ck_assert_msg(strchr("\"\\bfnrtu", *p) != NULL,
				    "bad escape in %s", got);
			}
		}
		ck_assert_msg(*p == '"' && p[1] == '\0', "unterminated: %s",
		    got);
		free(got);
	}
}
END_TEST

START_TEST(csv_quotes_and_doubles_quotes)
{
	expect_csv("plain", "\"plain\"");
	expect_csv("", "\"\"");
	expect_csv(NULL, "\"\"");
	expect_csv("a,b", "\"a,b\"");
	expect_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_csv("\"", "\"\"\"\"");
}
END_TEST

START_TEST(csv_writes_controls_as_text_and_fixes_utf8)
{
	expect_csv("a\r\nb", "\"a\\x0d\\x0ab\"");
	expect_csv("\x1b[31m\x7f", "\"\\x1b[31m\\x7f\"");
	expect_csv("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_csv("\xff", "\"\xef\xbf\xbd\"");
	expect_csv("\xc2\x9b", "\"\\u009b\"");
}
END_TEST

START_TEST(redacts_credentials_in_urls)
{
	expect_redact("http://user:pass@host/p", true, "http://***@host/p");
	expect_redact("https://token@host", true, "https://***@host");
	expect_redact("HTTP://U:P@H:8080?q", true, "HTTP://***@H:8080?q");
	expect_redact("http://u:p@h#frag", true, "http://***@h#frag");
	/* The last '@' ends the user information. */
	expect_redact("http://a@b:c@host/", true, "http://***@host/");
	/* Quotes and commas in the user information are hidden as well. */
	expect_redact("http://us\"er:p,w@h/", true, "http://***@h/");
	/* One slash, as libcurl also accepts. */
	expect_redact("http:/u:p@h/", true, "http:/***@h/");
	/* Without a scheme, as fetch_urls takes it: http://. */
	expect_redact("user:pw@host:80/x", true, "***@host:80/x");
	expect_redact("mailto:me@host", true, "***@host");
	/* URLs inside the URL are redacted too. */
	expect_redact("http://a:b@c/?u=http://d:e@f/", true,
	    "http://***@c/?u=http://***@f/");
	/* Without a scheme but with its slashes. */
	expect_redact("//u9:pw9@127.0.0.1:18701/x", true,
	    "//***@127.0.0.1:18701/x");
	/* A password with a '?' or '#' in it, which libcurl refuses. */
	expect_redact("http://u9:pw#9@h/x", true, "http://***@h/x");
	expect_redact("http://u9:pw?9@h/x", true, "http://***@h/x");
	expect_redact("cannot fetch http://u:p#w@h/x", false,
	    "cannot fetch http://***@h/x");
	/* So an '@' in a query with no path before it goes too. */
	expect_redact("http://h?a=b@c", true, "http://***@c");
	/*
	 * A password with a '/' in it (a base64 token), which libcurl
	 * takes for a bad port: before the '/' there can be no authority.
	 */
	expect_redact("http://u9:pw/9@h/x", true, "http://***@h/x");
	expect_redact("u9:pw/9/9@h:80/x@y", true, "***@h:80/x@y");
	expect_redact("Unsupported proxy syntax in 'u9:pw/9@h:1'", false,
	    "Unsupported proxy syntax in '***@h:1'");
}
END_TEST

START_TEST(leaves_urls_without_credentials_alone)
{
	static const char *const same[] = {
		"http://host/path", "http://host/p@x", "http://host/?a=b@c",
		"http://host/#x@y", "host:8080/x", "http://@host/",
		"https://[::1]:443/", "", "http://",
		/* A port, or an address, before the path: no password. */
		"http://host:8080/p@x", "http://host:/p@x",
		"http://[::1]/p@x", "http://[::1]:80/p@x", "http://h:x/p",
	};

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		expect_redact(same[i], true, same[i]);
}
END_TEST

START_TEST(redacts_urls_inside_messages)
{
	expect_redact("cannot fetch http://u:p@h/x: refused", false,
	    "cannot fetch http://***@h/x: refused");
	expect_redact("see 'https://tok@h' and \"ftp://a:b@c\"", false,
	    "see 'https://***@h' and \"ftp://***@c\"");
	/* libcurl quotes a proxy as given, and one needs no scheme. */
	expect_redact("Unsupported proxy syntax in 'u:p@h:99999'", false,
	    "Unsupported proxy syntax in '***@h:99999'");
	/* A message is not a URL: an address in it is left alone. */
	expect_redact("mail me@host", false, "mail me@host");
	expect_redact("Could not resolve host: nonexistent.invalid", false,
	    "Could not resolve host: nonexistent.invalid");
}
END_TEST

/* A result as a worker would send it, for the formatting tests. */
static struct fetch_result
sample_result(void)
{
	struct fetch_result r;

	memset(&r, 0, sizeof(r));
	r.urlnum = 3;
	r.outcome = FETCH_OK;
	r.status = 200;
	r.secs = 0.256;
	r.bytes = 1234;
	r.redirects = 2;
	r.effective_url = "http://u:p@h/final";
	r.http_version = "1.1";
	r.retries = 1;
	r.connects = 1;
	r.timings = (struct fetch_timings){ 0.001, 0.002, 0.003, 0.004,
	    0.005 };
	return r;
}

static char *
render(enum output_format f, const char *wo, const char *url,
    const struct fetch_result *r, int times)
{
	struct output o;
	struct out_mem m;

	output_init(&o, f, wo);
	out_open(&m);
	for (int i = 0; i < times; i++)
		output_result(m.fp, &o, url, r, "deadline reached");
	return out_text(&m);
}

/* The text lines are those of the Go program, byte for byte. */
START_TEST(text_lines_unchanged)
{
	struct fetch_result r = sample_result();
	char *got;

	got = render(OUTPUT_TEXT, NULL, "http://h/x", &r, 1);
	ck_assert_str_eq(got, "http://h/x \t 0.26s \t 200\n");
	free(got);

	r.outcome = FETCH_ERROR;
	r.status = 0;
	r.error = "Couldn't connect to server";
	got = render(OUTPUT_TEXT, NULL, "h:9", &r, 1);
	ck_assert_str_eq(got, "h:9 request encountered error: Couldn't "
	    "connect to server\n");
	free(got);

	r.outcome = FETCH_CANCELLED;
	r.error = NULL;
	got = render(OUTPUT_TEXT, NULL, "http://h/", &r, 1);
	ck_assert_str_eq(got, "http://h/ request encountered error: "
	    "cancelled (deadline reached)\n");
	free(got);
}
END_TEST

START_TEST(text_redacts_and_escapes)
{
	struct fetch_result r = sample_result();
	char *got;

	got = render(OUTPUT_TEXT, NULL, "http://u:p@h/\x1b[2J", &r, 1);
	ck_assert_str_eq(got, "http://***@h/\\x1b[2J \t 0.26s \t 200\n");
	free(got);
	r.outcome = FETCH_ERROR;
	r.error = "bad http://a:b@c\n";
	got = render(OUTPUT_TEXT, NULL, "x", &r, 1);
	ck_assert_str_eq(got, "x request encountered error: bad "
	    "http://***@c\\x0a\n");
	free(got);
}
END_TEST

START_TEST(json_record)
{
	struct fetch_result r = sample_result();
	char *got;

	got = render(OUTPUT_JSON, NULL, "http://u:p@h/a\"b", &r, 1);
	ck_assert_str_eq(got, "{\"url\":\"http://***@h/a\\\"b\",\"urlnum\":3,"
	    "\"status\":200,\"seconds\":0.256000,\"error\":null,"
	    "\"bytes\":1234,\"redirects\":2,"
	    "\"effective_url\":\"http://***@h/final\","
	    "\"http_version\":\"1.1\",\"retries\":1,\"connects\":1,"
	    "\"file\":null,\"timings\":{"
	    "\"dns\":0.001000,\"connect\":0.002000,\"tls\":0.003000,"
	    "\"ttfb\":0.004000,\"total\":0.005000}}\n");
	free(got);

	/* The file saved, escaped as any string. */
	r.file = "out/a\"\x01";
	got = render(OUTPUT_JSON, NULL, "x", &r, 1);
	ck_assert_msg(strstr(got, ",\"connects\":1,\"file\":\"out/a\\\""
	    "\\u0001\",\"timings\":{") != NULL, "%s", got);
	free(got);

	memset(&r, 0, sizeof(r));
	r.outcome = FETCH_CANCELLED;
	got = render(OUTPUT_JSON, NULL, "x", &r, 1);
	ck_assert_str_eq(got, "{\"url\":\"x\",\"urlnum\":0,\"status\":0,"
	    "\"seconds\":0.000000,\"error\":\"cancelled (deadline reached)\","
	    "\"bytes\":0,\"redirects\":0,\"effective_url\":null,"
	    "\"http_version\":null,\"retries\":0,\"connects\":0,"
	    "\"file\":null,\"timings\":{"
	    "\"dns\":0.000000,\"connect\":0.000000,\"tls\":0.000000,"
	    "\"ttfb\":0.000000,\"total\":0.000000}}\n");
	free(got);
}
END_TEST

START_TEST(csv_header_once_then_records)
{
	static const char header[] = "url,urlnum,status,seconds,error,bytes,"
	    "redirects,effective_url,http_version,retries,connects,file,dns,"
	    "connect,tls,ttfb,total\r\n";
	static const char rec[] = "\"http://***@h/a,\"\"b\",3,200,0.256000,"
	    "\"\",1234,2,\"http://***@h/final\",\"1.1\",1,1,\"\",0.001000,"
	    "0.002000,0.003000,0.004000,0.005000\r\n";
	struct fetch_result r = sample_result();
	char *got, want[1024];

	got = render(OUTPUT_CSV, NULL, "http://u:p@h/a,\"b", &r, 2);
	snprintf(want, sizeof(want), "%s%s%s", header, rec, rec);
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

START_TEST(writeout_variables)
{
	struct fetch_result r = sample_result();
	char *got;

	got = render(OUTPUT_WRITEOUT, "%{url} %{urlnum} %{http_code} "
	    "%{response_code} %{size_download} %{num_redirects} "
	    "%{num_retries} %{num_connects} %{url_effective} %{http_version} "
	    "[%{errormsg}]\\n", "http://u:p@h/", &r, 1);
	ck_assert_str_eq(got, "http://***@h/ 3 200 200 1234 2 1 1 "
	    "http://***@h/final 1.1 []\n");
	free(got);

	got = render(OUTPUT_WRITEOUT, "%{time_namelookup} %{time_connect} "
	    "%{time_appconnect} %{time_starttransfer} %{time_total}", "x", &r,
	    1);
	ck_assert_str_eq(got, "0.001000 0.002000 0.003000 0.004000 "
	    "0.005000");
	free(got);
}
END_TEST

START_TEST(writeout_escapes_and_failures)
{
	struct fetch_result r;
	char *got;

	memset(&r, 0, sizeof(r));
	r.outcome = FETCH_ERROR;
	r.error = "refused\x1b";
	got = render(OUTPUT_WRITEOUT, "a\\tb\\rc\\\\d%%e\\q%x%{url_effective}"
	    "|%{http_code}|%{http_version}|%{errormsg}%{", "u", &r, 1);
	ck_assert_str_eq(got, "a\tb\rc\\d%e\\q%x|000|0|refused\\x1b%{");
	free(got);
	got = render(OUTPUT_WRITEOUT, "\\%{nope}", "u", &r, 1);
	ck_assert_str_eq(got, "\\%{nope}");
	free(got);
}
END_TEST

START_TEST(writeout_check)
{
	char err[128];

	ck_assert_int_eq(output_writeout_check("%{url} %{http_code}\\n %% %x",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(output_writeout_check("", err, sizeof(err)), 0);
	ck_assert_int_eq(output_writeout_check("%{nope}", err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "nope") != NULL, "reason: %s", err);
	ck_assert_int_eq(output_writeout_check("x %{url", err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "%{") != NULL, "reason: %s", err);
	/* %% escapes the percent sign: this %{ is literal text. */
	ck_assert_int_eq(output_writeout_check("%%{nope}", err, sizeof(err)),
	    0);
	/* So does a backslash, which the writer prints with it. */
	ck_assert_int_eq(output_writeout_check("\\%{nope}", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(output_writeout_check("\\\\%{nope}", err,
	    sizeof(err)), -1);
}
END_TEST

START_TEST(total_and_summary_lines)
{
	struct out_mem m;
	char *got;

	out_open(&m);
	output_total(m.fp, 0.934);
	output_summary(m.fp, 3, 1, 2);
	got = out_text(&m);
	ck_assert_str_eq(got, "Total time: 0.93s\nSummary: 3 succeeded, 1 got "
	    "HTTP status >= 400, 2 failed without a response\n");
	free(got);
}
END_TEST

/*
 * The comparison line of short runs: three significant digits a time, and
 * the speedup of the times measured (0.004 / 0.0048 is 0.83), so that the
 * three numbers agree; seconds and more keep two decimals.
 */
START_TEST(speedup_line_agrees_with_its_times)
{
	struct out_mem m;
	char *got;

	out_open(&m);
	output_speedup(m.fp, 0.004, 0.0048);
	output_speedup(m.fp, 0.26, 0.1234);
	output_speedup(m.fp, 2.231, 0.93);
	got = out_text(&m);
	ck_assert_str_eq(got, "Serial: 0.00400s, concurrent: 0.00480s, "
	    "speedup: 0.83x\n"
	    "Serial: 0.260s, concurrent: 0.123s, speedup: 2.11x\n"
	    "Serial: 2.23s, concurrent: 0.930s, speedup: 2.40x\n");
	free(got);
}
END_TEST

/* With --compare, every record names its run; CSV has one header. */
START_TEST(records_name_their_run)
{
	struct fetch_result res = { .urlnum = 3, .outcome = FETCH_OK,
	    .status = 200 };
	struct output o;
	struct out_mem m;
	char *got;

	out_open(&m);
	output_init(&o, OUTPUT_CSV, NULL);
	o.run = "serial";
	output_result(m.fp, &o, "http://h/", &res, NULL);
	o.run = "concurrent";
	output_result(m.fp, &o, "http://h/", &res, NULL);
	got = out_text(&m);
	ck_assert_msg(strncmp(got, "url,urlnum,", 11) == 0 &&
	    strstr(got, ",total,run\r\n\"http") != NULL &&
	    strstr(strstr(got, "\r\n") + 2, "url,urlnum") == NULL, "%s", got);
	ck_assert_msg(strstr(got, ",\"serial\"\r\n\"http://h/\",3,") != NULL &&
	    strstr(got, ",\"concurrent\"\r\n") != NULL, "%s", got);
	free(got);

	out_open(&m);
	output_init(&o, OUTPUT_JSON, NULL);
	o.run = "concurrent";
	output_result(m.fp, &o, "http://h/", &res, NULL);
	output_init(&o, OUTPUT_WRITEOUT, "%{run}/%{urlnum}|");
	output_result(m.fp, &o, "http://h/", &res, NULL);
	o.run = "serial";
	output_result(m.fp, &o, "http://h/", &res, NULL);
	got = out_text(&m);
	ck_assert_msg(strstr(got, "\"urlnum\":3,\"run\":\"concurrent\","
	    "\"status\":200,") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "}\n/3|serial/3|") != NULL, "%s", got);
	free(got);
}
END_TEST

START_TEST(progress_line_format)
{
	char buf[128];
	size_t n;

	n = progress_format(buf, sizeof(buf), 12, 100, 5, 1, 3.2);
	ck_assert_str_eq(buf, "12/100 done, 5 in flight, 1 failed, 3.2s, "
	    "3.8/s");
	ck_assert_uint_eq(n, strlen(buf));
	n = progress_format(buf, sizeof(buf), 0, 7, 0, 0, 0);
	ck_assert_str_eq(buf, "0/7 done, 0 in flight, 0 failed, 0.0s, 0.0/s");
	/* Truncated to fit, never past the buffer. */
	n = progress_format(buf, 11, 12, 100, 5, 1, 3.2);
	ck_assert_str_eq(buf, "12/100 don");
	ck_assert_uint_eq(n, 10);
}
END_TEST

/* Not a terminal: nothing is drawn or erased. */
START_TEST(progress_silent_off_a_terminal)
{
	struct progress pg;
	struct out_mem m;
	char *got;

	out_open(&m);
	progress_init(&pg, m.fp, true, 0);
	ck_assert(!pg.on);
	progress_draw(&pg, 1, 10, 2, 0, 1);
	progress_erase(&pg);
	got = out_text(&m);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

/*
 * The line fits the terminal as it is now: after a resize, the next line
 * drawn is cut to the new width, where a width read once would wrap every
 * redraw onto a second line.
 */
START_TEST(progress_follows_a_resized_terminal)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 60 };
	struct progress pg;
	char buf[4096], *cr;
	ssize_t n;
	size_t w, len;
	FILE *fp;
	int m, s;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_msg(m != -1 && grantpt(m) == 0 && unlockpt(m) == 0,
	    "pty: %s", strerror(errno));
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(ioctl(s, TIOCSWINSZ, &ws), 0);
	fp = fdopen(s, "w");
	ck_assert_ptr_nonnull(fp);
	progress_init(&pg, fp, true, 0);
	ck_assert(pg.on);
	progress_draw(&pg, 123456, 1000000, 789, 12345, 3.25);
	ws.ws_col = 20;
	ck_assert_int_eq(ioctl(m, TIOCSWINSZ, &ws), 0);
	progress_draw(&pg, 123457, 1000000, 789, 12345, 3.5);
	/*
	 * A pty may hand the two writes over in several reads: read until
	 * both lines' ends (each "\033[K") have come.
	 */
	len = 0;
	buf[0] = '\0';
	while ((cr = strstr(buf, "\033[K")) == NULL ||
	    strstr(cr + 3, "\033[K") == NULL) {
		struct pollfd pfd = { m, POLLIN, 0 };

		ck_assert_msg(len < sizeof(buf) - 1 &&
		    poll(&pfd, 1, 10000) == 1, "no second line: %s", buf);
		n = read(m, buf + len, sizeof(buf) - 1 - len);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
		buf[len] = '\0';
	}
	/* Two lines drawn, each after a '\r': 59 columns, then 19. */
	cr = strchr(buf, '\r');
	ck_assert_ptr_nonnull(cr);
	w = strcspn(cr + 1, "\r\033");
	ck_assert_uint_eq(w, 59);
	cr = strchr(cr + 1, '\r');
	ck_assert_ptr_nonnull(cr);
	w = strcspn(cr + 1, "\r\033");
	ck_assert_msg(w == 19, "a %zu-column line on 20 columns: %s", w,
	    buf);
	fclose(fp);
	close(m);
}
END_TEST

/*
 * The manual names exactly the --write-out variables of output.c's table
 * (as ".It Li %{name}", or ".Li %{name}" inside another's item).
 */
START_TEST(manual_lists_every_writeout_variable)
{
	static const char *const formats[] = { ".It Li %%{%39[a-z_]}",
	    ".Li %%{%39[a-z_]}", NULL };

	proc_expect_manual_names(formats, output_writeout_name,
	    "--write-out variable");
}
END_TEST

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("output");

	tcase_set_timeout(tc, OUT_TLIMIT);
	tcase_add_test(tc, json_escapes_quotes_backslashes_and_controls);
	tcase_add_test(tc, json_keeps_valid_utf8);
	tcase_add_test(tc, json_replaces_invalid_utf8);
	tcase_add_test(tc, json_escapes_c1_controls_and_line_separators);
	tcase_add_test(tc, json_of_random_bytes_is_clean);
	tcase_add_test(tc, csv_quotes_and_doubles_quotes);
	tcase_add_test(tc, csv_writes_controls_as_text_and_fixes_utf8);
	tcase_add_test(tc, redacts_credentials_in_urls);
	tcase_add_test(tc, leaves_urls_without_credentials_alone);
	tcase_add_test(tc, redacts_urls_inside_messages);
	tcase_add_test(tc, text_lines_unchanged);
	tcase_add_test(tc, text_redacts_and_escapes);
	tcase_add_test(tc, json_record);
	tcase_add_test(tc, csv_header_once_then_records);
	tcase_add_test(tc, writeout_variables);
	tcase_add_test(tc, writeout_escapes_and_failures);
	tcase_add_test(tc, writeout_check);
	tcase_add_test(tc, total_and_summary_lines);
	tcase_add_test(tc, speedup_line_agrees_with_its_times);
	tcase_add_test(tc, records_name_their_run);
	tcase_add_test(tc, progress_line_format);
	tcase_add_test(tc, progress_silent_off_a_terminal);
	tcase_add_test(tc, progress_follows_a_resized_terminal);
	tcase_add_test(tc, manual_lists_every_writeout_variable);
	suite_add_tcase(s, tc);
	return s;
}
