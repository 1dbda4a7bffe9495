/* test_cli.c: unit tests of fetch_urls's option parser and help, cli.h. */

/* open_memstream and unsetenv. */
#define _GNU_SOURCE

#include <criterion/criterion.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli.h"

/* Time limit of every test, in seconds: a parser that loops fails. */
#define CLI_TLIMIT	10

#define CLI_MAXARGS	16

/*
 * A writable argv, as main() gets it: getopt_long() permutes the array
 * and struct cli borrows its strings, so the tests own copies of both.
 * The strings live in buf, not on the heap, so that a failed assertion
 * leaks nothing.  orig keeps them in their first order, to check that
 * the parsed URLs are the caller's strings rather than copies.
 */
struct cli_args {
	int	 argc;
	char	*argv[CLI_MAXARGS + 1];
	char	*orig[CLI_MAXARGS + 1];
	char	 buf[1024];
	size_t	 used;
};

/* Unless the variable is unset, glibc's getopt stops at the first URL. */
static void
cli_setup(void)
{
	unsetenv("POSIXLY_CORRECT");
}

TestSuite(cli, .init = cli_setup, .timeout = CLI_TLIMIT);

/* Appends a copy of s to a's arguments. */
static void
args_push(struct cli_args *a, const char *s)
{
	size_t len = strlen(s) + 1;

	cr_assert_lt(a->argc, CLI_MAXARGS, "too many test arguments");
	cr_assert_leq(len, sizeof(a->buf) - a->used,
	    "test arguments too long");
	a->argv[a->argc] = a->orig[a->argc] = memcpy(a->buf + a->used, s, len);
	a->used += len;
	a->argc++;
	a->argv[a->argc] = a->orig[a->argc] = NULL;
}

/* Fills a with "fetch_urls" and the NULL-terminated strings that follow. */
static void
args_set(struct cli_args *a, ...)
{
	va_list ap;
	const char *s;

	a->argc = 0;
	a->used = 0;
	args_push(a, "fetch_urls");
	va_start(ap, a);
	while ((s = va_arg(ap, const char *)) != NULL)
		args_push(a, s);
	va_end(ap);
}

/*
 * Parses a into *cli and asserts that the action is want.  err is filled
 * with junk first, so that a message the parser leaves unset shows.
 */
static enum cli_action
parse_as(struct cli_args *a, struct cli *cli, char *err, size_t errlen,
    enum cli_action want)
{
	enum cli_action got;

	memset(err, 'X', errlen - 1);
	err[errlen - 1] = '\0';
	got = cli_parse(a->argc, a->argv, cli, err, errlen);
	cr_assert_eq(got, want, "cli_parse(%s%s%s...) gave action %d, "
	    "expected %d (err '%s')", a->orig[1] ? a->orig[1] : "",
	    a->argc > 2 ? " " : "", a->argc > 2 ? a->orig[2] : "",
	    (int)got, (int)want, got == CLI_ERROR ? err : "");
	return got;
}

/* Parses the arguments that follow cli and expects CLI_RUN. */
#define RUN(a, cli, ...) do {						\
	char err_[256];							\
	args_set((a), __VA_ARGS__, (const char *)NULL);			\
	parse_as((a), (cli), err_, sizeof(err_), CLI_RUN);		\
} while (0)

/*
 * Expects the arguments to be a usage error whose message is one line,
 * not empty, and contains every string in need (NULL-terminated).
 */
static void
expect_error(const char *const *args, const char *const *need)
{
	struct cli_args a;
	struct cli cli;
	char err[256];
	size_t i;

	a.argc = 0;
	a.used = 0;
	args_push(&a, "fetch_urls");
	for (i = 0; args[i] != NULL; i++)
		args_push(&a, args[i]);

	parse_as(&a, &cli, err, sizeof(err), CLI_ERROR);
	cr_assert_neq(err[0], '\0', "empty error message");
	cr_assert_neq(err[0], 'X', "error message not set: '%s'", err);
	cr_assert_null(strchr(err, '\n'), "message is not one line: '%s'",
	    err);
	for (i = 0; need[i] != NULL; i++)
		cr_assert_not_null(strstr(err, need[i]),
		    "message '%s' does not name '%s'", err, need[i]);
}

#define STRS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define ERR(args, need)	expect_error(STRS args, STRS need)

static void
expect_defaults(const struct cli *cli)
{
	cr_assert_eq(cli->mode, CLI_CONCURRENT);
	cr_assert_eq(cli->jobs, 0);
	cr_assert_eq(cli->max_time_ms, 30000);
	cr_assert_eq(cli->connect_timeout_ms, 10000);
	cr_assert_eq(cli->deadline_ms, 0);
	cr_assert(!cli->quiet);
	cr_assert_null(cli->input);
}

Test(cli, defaults_without_arguments)
{
	struct cli_args a;
	struct cli cli;
	char err[64];

	a.argc = 0;
	a.used = 0;
	args_push(&a, "fetch_urls");
	/* Junk in the struct must not survive: the parser sets every field. */
	memset(&cli, 0xa5, sizeof(cli));
	parse_as(&a, &cli, err, sizeof(err), CLI_RUN);
	expect_defaults(&cli);
	cr_assert_eq(cli.nurls, 0);
}

Test(cli, defaults_with_one_url)
{
	struct cli_args a;
	struct cli cli;

	memset(&cli, 0x5a, sizeof(cli));
	RUN(&a, &cli, "http://127.0.0.1/");
	expect_defaults(&cli);
	cr_assert_eq(cli.nurls, 1);
	cr_assert_str_eq(cli.urls[0], "http://127.0.0.1/");
}

Test(cli, serial_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "u");
	cr_assert_eq(cli.mode, CLI_SERIAL);
	cr_assert_eq(cli.nurls, 1);
	RUN(&a, &cli, "--serial", "u");
	cr_assert_eq(cli.mode, CLI_SERIAL);
	cr_assert_eq(cli.nurls, 1);
}

Test(cli, compare_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-c", "u");
	cr_assert_eq(cli.mode, CLI_COMPARE);
	RUN(&a, &cli, "--compare", "u");
	cr_assert_eq(cli.mode, CLI_COMPARE);
}

Test(cli, last_of_serial_and_compare_wins)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "-c");
	cr_assert_eq(cli.mode, CLI_COMPARE);
	RUN(&a, &cli, "--compare", "--serial");
	cr_assert_eq(cli.mode, CLI_SERIAL);
}

Test(cli, quiet_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-q", "u");
	cr_assert(cli.quiet);
	cr_assert_eq(cli.mode, CLI_CONCURRENT);
	RUN(&a, &cli, "--quiet", "u");
	cr_assert(cli.quiet);
}

Test(cli, input_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-i", "list.txt");
	cr_assert_str_eq(cli.input, "list.txt");
	/* The file name is the option's argument, not a URL. */
	cr_assert_eq(cli.nurls, 0);
	/* Borrowed from argv, not copied. */
	cr_assert_eq(cli.input, a.orig[2]);
	RUN(&a, &cli, "-ilist.txt");
	cr_assert_str_eq(cli.input, "list.txt");
	RUN(&a, &cli, "--input", "-");
	cr_assert_str_eq(cli.input, "-");
	cr_assert_eq(cli.nurls, 0);
	RUN(&a, &cli, "--input=urls", "u1");
	cr_assert_str_eq(cli.input, "urls");
	cr_assert_eq(cli.nurls, 1);
	cr_assert_str_eq(cli.urls[0], "u1");
}

Test(cli, jobs_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-j", "4");
	cr_assert_eq(cli.jobs, 4);
	RUN(&a, &cli, "-j17");
	cr_assert_eq(cli.jobs, 17);
	RUN(&a, &cli, "--jobs", "1");
	cr_assert_eq(cli.jobs, 1);
	RUN(&a, &cli, "--jobs=250");
	cr_assert_eq(cli.jobs, 250);
	/* The largest count accepted. */
	RUN(&a, &cli, "-j", "1000000");
	cr_assert_eq(cli.jobs, 1000000);
}

Test(cli, max_time_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-m", "5");
	cr_assert_eq(cli.max_time_ms, 5000);
	cr_assert_eq(cli.connect_timeout_ms, 10000);
	RUN(&a, &cli, "-m2");
	cr_assert_eq(cli.max_time_ms, 2000);
	RUN(&a, &cli, "--max-time", "12");
	cr_assert_eq(cli.max_time_ms, 12000);
	RUN(&a, &cli, "--max-time=3");
	cr_assert_eq(cli.max_time_ms, 3000);
	/* A day is the longest accepted. */
	RUN(&a, &cli, "-m", "86400");
	cr_assert_eq(cli.max_time_ms, 86400000L);
}

Test(cli, connect_timeout_long_only)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "--connect-timeout", "3");
	cr_assert_eq(cli.connect_timeout_ms, 3000);
	cr_assert_eq(cli.max_time_ms, 30000);
	RUN(&a, &cli, "--connect-timeout=7");
	cr_assert_eq(cli.connect_timeout_ms, 7000);
}

Test(cli, deadline_long_only)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "--deadline", "4");
	cr_assert_eq(cli.deadline_ms, 4000);
	cr_assert_eq(cli.max_time_ms, 30000);
	RUN(&a, &cli, "--deadline=60");
	cr_assert_eq(cli.deadline_ms, 60000);
}

Test(cli, clustered_short_options)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-qs", "u");
	cr_assert(cli.quiet);
	cr_assert_eq(cli.mode, CLI_SERIAL);
	RUN(&a, &cli, "-qj", "3", "u");
	cr_assert(cli.quiet);
	cr_assert_eq(cli.jobs, 3);
	cr_assert_eq(cli.nurls, 1);
	RUN(&a, &cli, "-cqm1.5");
	cr_assert_eq(cli.mode, CLI_COMPARE);
	cr_assert(cli.quiet);
	cr_assert_eq(cli.max_time_ms, 1500);
}

Test(cli, every_option_at_once)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "-q", "-i", "f", "-j", "9", "-m", "8",
	    "--connect-timeout", "2", "--deadline", "20", "u1", "u2");
	cr_assert_eq(cli.mode, CLI_SERIAL);
	cr_assert(cli.quiet);
	cr_assert_str_eq(cli.input, "f");
	cr_assert_eq(cli.jobs, 9);
	cr_assert_eq(cli.max_time_ms, 8000);
	cr_assert_eq(cli.connect_timeout_ms, 2000);
	cr_assert_eq(cli.deadline_ms, 20000);
	cr_assert_eq(cli.nurls, 2);
	cr_assert_str_eq(cli.urls[0], "u1");
	cr_assert_str_eq(cli.urls[1], "u2");
}

Test(cli, decimal_seconds)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-m", "0.5", "--connect-timeout", "0.25",
	    "--deadline", "1.5");
	cr_assert_eq(cli.max_time_ms, 500);
	cr_assert_eq(cli.connect_timeout_ms, 250);
	cr_assert_eq(cli.deadline_ms, 1500);
	RUN(&a, &cli, "--max-time", "2.125");
	cr_assert_eq(cli.max_time_ms, 2125);
	RUN(&a, &cli, "-m", ".75");
	cr_assert_eq(cli.max_time_ms, 750);
	RUN(&a, &cli, "-m", "1e-3");
	cr_assert_eq(cli.max_time_ms, 1);
}

Test(cli, fractions_of_a_millisecond_round_up)
{
	struct cli_args a;
	struct cli cli;

	/* Never 0 ms: that would mean "no limit" to libcurl. */
	RUN(&a, &cli, "-m", "0.0001");
	cr_assert_eq(cli.max_time_ms, 1);
	RUN(&a, &cli, "--connect-timeout", "0.0015");
	cr_assert_eq(cli.connect_timeout_ms, 2);
	RUN(&a, &cli, "--deadline", "1.0001");
	cr_assert_eq(cli.deadline_ms, 1001);
}

/*
 * A whole number of milliseconds written in decimal is taken exactly,
 * although most such decimals have no exact binary value.
 */
Test(cli, whole_milliseconds_are_exact)
{
	static const struct {
		const char	*arg;
		long		 ms;
	} cases[] = {
		{ "0.007", 7 }, { "0.1", 100 }, { "0.3", 300 },
		{ "2.007", 2007 }, { "4.001", 4001 }, { "16.1", 16100 },
		{ "32.2", 32200 }, { "64.9", 64900 }, { "100.001", 100001 },
	};
	struct cli_args a;
	struct cli cli;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RUN(&a, &cli, "-m", cases[i].arg);
		cr_expect_eq(cli.max_time_ms, cases[i].ms,
		    "-m %s gave %ld ms, expected %ld", cases[i].arg,
		    cli.max_time_ms, cases[i].ms);
	}
}

Test(cli, url_arguments_in_order)
{
	struct cli_args a;
	struct cli cli;
	size_t i;

	RUN(&a, &cli, "http://127.0.0.1:1/a", "127.0.0.1/b",
	    "https://[::1]/c", "-");
	cr_assert_eq(cli.nurls, 4);
	/* "-" alone is an argument, not an option. */
	for (i = 0; i < 4; i++)
		cr_assert_eq(cli.urls[i], a.orig[i + 1],
		    "URL %zu is not the caller's string", i);
	cr_assert_str_eq(cli.urls[3], "-");
}

Test(cli, options_after_urls_are_options)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "u1", "-s", "u2", "--jobs", "3", "u3", "-q",
	    "--deadline=2");
	cr_assert_eq(cli.mode, CLI_SERIAL);
	cr_assert_eq(cli.jobs, 3);
	cr_assert(cli.quiet);
	cr_assert_eq(cli.deadline_ms, 2000);
	cr_assert_eq(cli.nurls, 3);
	cr_assert_str_eq(cli.urls[0], "u1");
	cr_assert_str_eq(cli.urls[1], "u2");
	cr_assert_str_eq(cli.urls[2], "u3");
}

Test(cli, double_dash_ends_options)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "--", "-j", "0", "--quiet", "-x");
	cr_assert_eq(cli.mode, CLI_SERIAL);
	cr_assert_eq(cli.jobs, 0);
	cr_assert(!cli.quiet);
	cr_assert_eq(cli.nurls, 4);
	cr_assert_str_eq(cli.urls[0], "-j");
	cr_assert_str_eq(cli.urls[1], "0");
	cr_assert_str_eq(cli.urls[2], "--quiet");
	cr_assert_str_eq(cli.urls[3], "-x");

	RUN(&a, &cli, "u1", "-q", "--", "--serial", "u2");
	cr_assert(cli.quiet);
	cr_assert_eq(cli.mode, CLI_CONCURRENT);
	cr_assert_eq(cli.nurls, 3);
	cr_assert_str_eq(cli.urls[0], "u1");
	cr_assert_str_eq(cli.urls[1], "--serial");
	cr_assert_str_eq(cli.urls[2], "u2");

	RUN(&a, &cli, "--");
	cr_assert_eq(cli.nurls, 0);
	expect_defaults(&cli);
}

Test(cli, bad_jobs)
{
	ERR(("-j", "0"), ("jobs", "'0'"));
	ERR(("-j", "-1"), ("jobs", "'-1'"));
	ERR(("--jobs", "abc"), ("jobs", "'abc'"));
	ERR(("-j", "99999999999999999999"),
	    ("jobs", "'99999999999999999999'"));
	ERR(("-j", "1000001"), ("jobs", "'1000001'"));
	ERR(("-j", "3x"), ("jobs", "'3x'"));
	ERR(("-j", "2.5"), ("jobs", "'2.5'"));
	ERR(("--jobs="), ("jobs", "''"));
	/* A bad option after a URL is an error all the same. */
	ERR(("u1", "-j0"), ("jobs", "'0'"));
}

Test(cli, bad_seconds)
{
	ERR(("--max-time", "-1"), ("max-time", "'-1'"));
	ERR(("-m", "abc"), ("max-time", "'abc'"));
	ERR(("-m", "0"), ("max-time", "'0'"));
	ERR(("-m", "0.0"), ("max-time", "'0.0'"));
	ERR(("-m", "inf"), ("max-time", "'inf'"));
	ERR(("-m", "nan"), ("max-time", "'nan'"));
	ERR(("-m", "5s"), ("max-time", "'5s'"));
	ERR(("-m", ""), ("max-time", "''"));
	ERR(("-m", "86400.5"), ("max-time", "'86400.5'"));
	ERR(("-m", "1e999"), ("max-time", "'1e999'"));
	ERR(("--deadline", "1e9"), ("deadline", "'1e9'"));
	ERR(("--deadline", "0"), ("deadline", "'0'"));
	ERR(("--deadline=-3"), ("deadline", "'-3'"));
	ERR(("--connect-timeout", "0"), ("connect-timeout", "'0'"));
	ERR(("--connect-timeout", "x1"), ("connect-timeout", "'x1'"));
}

Test(cli, unknown_short_option)
{
	ERR(("-x"), ("-x"));
	ERR(("u1", "-Z", "u2"), ("-Z"));
	/* Inside a cluster, the unknown letter is the one named. */
	ERR(("-qx"), ("-x"));
}

Test(cli, unknown_long_option)
{
	ERR(("--bogus"), ("--bogus"));
	ERR(("u1", "--no-such-option=3"), ("--no-such-option"));
}

/*
 * An argument given to a long option that takes none is an error that
 * names that option, not some other one.
 */
Test(cli, argument_to_option_without_one)
{
	ERR(("--quiet=1"), ("--quiet"));
	ERR(("--serial=yes", "u"), ("--serial"));
}

Test(cli, missing_argument)
{
	ERR(("-j"), ("-j"));
	ERR(("--deadline"), ("--deadline"));
	ERR(("u1", "--jobs"), ("--jobs"));
	ERR(("-i"), ("-i"));
	ERR(("-q", "-m"), ("-m"));
	ERR(("--max-time"), ("--max-time"));
	ERR(("u1", "--connect-timeout"), ("--connect-timeout"));
	ERR(("--input"), ("--input"));
}

Test(cli, error_message_fits_a_small_buffer)
{
	struct cli_args a;
	struct cli cli;
	char err[8];

	/* A sanitizer sees a write past err. */
	args_set(&a, "--jobs", "99999999999999999999", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_ERROR);
	cr_assert_eq(strlen(err), 7, "message not cut to fit: '%s'", err);
}

Test(cli, help_short_and_long)
{
	struct cli_args a;
	struct cli cli;
	char err[64];

	args_set(&a, "-h", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_HELP);
	args_set(&a, "--help", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_HELP);
	/* After URLs and other options too. */
	args_set(&a, "u1", "-s", "--help", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_HELP);
}

Test(cli, version_short_and_long)
{
	struct cli_args a;
	struct cli cli;
	char err[64];

	args_set(&a, "-V", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_VERSION);
	args_set(&a, "--version", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_VERSION);
	args_set(&a, "u1", "-V", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_VERSION);
}

/*
 * getopt keeps its place in static state.  The first parse here stops in
 * the middle of "-hq" and leaves optind past the end of the shorter argv
 * that follows; a parser that did not start afresh would go on with the
 * old "q" or see no arguments at all.
 */
Test(cli, parses_twice_in_a_row)
{
	struct cli_args a, b;
	struct cli cli;
	char err[128];

	args_set(&a, "-s", "-j", "5", "-hq", "u1", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_HELP);
	args_set(&b, "-c", "u2", (const char *)NULL);
	parse_as(&b, &cli, err, sizeof(err), CLI_RUN);
	cr_assert_eq(cli.mode, CLI_COMPARE);
	cr_assert(!cli.quiet, "the first argv's \"q\" leaked into the second");
	cr_assert_eq(cli.jobs, 0);
	cr_assert_eq(cli.nurls, 1);
	cr_assert_str_eq(cli.urls[0], "u2");

	/* After an error, and with the same argv twice. */
	args_set(&a, "u1", "-m", "0", "-q", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_ERROR);
	args_set(&a, "u1", "-q", "u2", "-j", "2", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_RUN);
	parse_as(&a, &cli, err, sizeof(err), CLI_RUN);
	cr_assert(cli.quiet);
	cr_assert_eq(cli.jobs, 2);
	cr_assert_eq(cli.nurls, 2);
	cr_assert_str_eq(cli.urls[0], "u1");
	cr_assert_str_eq(cli.urls[1], "u2");
}

/* Returns cli_usage()'s output; the caller frees it. */
static char *
usage_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp, "open_memstream: %s", strerror(errno));
	cli_usage(fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_not_null(buf);
	return buf;
}

/* Whether text has word as a whole option name, not a prefix of one. */
static bool
mentions(const char *text, const char *word)
{
	const char *p;
	size_t len = strlen(word);

	for (p = text; (p = strstr(p, word)) != NULL; p += len)
		if (!isalnum((unsigned char)p[len]) && p[len] != '-')
			return true;
	return false;
}

Test(cli, usage_names_every_option)
{
	static const struct {
		const char	*lng;
		char		 shrt;	/* 0: long only. */
	} options[] = {
		{ "--compare", 'c' }, { "--connect-timeout", 0 },
		{ "--deadline", 0 }, { "--help", 'h' }, { "--input", 'i' },
		{ "--jobs", 'j' }, { "--max-time", 'm' }, { "--quiet", 'q' },
		{ "--serial", 's' }, { "--version", 'V' },
	};
	char *text, shrt[4];
	size_t i;

	text = usage_text();
	cr_assert_eq(strncmp(text, "usage: fetch_urls ", 18), 0,
	    "usage does not start with a synopsis: '%.40s'", text);
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		cr_assert(mentions(text, options[i].lng),
		    "usage does not mention %s", options[i].lng);
		if (options[i].shrt == 0)
			continue;
		snprintf(shrt, sizeof(shrt), "-%c,", options[i].shrt);
		cr_assert_not_null(strstr(text, shrt),
		    "usage does not give -%c for %s", options[i].shrt,
		    options[i].lng);
	}
	/* The defaults the parser applies. */
	cr_assert_not_null(strstr(text, "default 30"));
	cr_assert_not_null(strstr(text, "default 10"));
	free(text);
}

Test(cli, usage_lines_fit_79_columns)
{
	char *text, *line, *nl;
	size_t col, lineno = 0;
	const char *p;

	text = usage_text();
	cr_assert_gt(strlen(text), 0);
	cr_assert_eq(text[strlen(text) - 1], '\n', "usage ends mid-line");
	for (line = text; *line != '\0'; line = nl + 1) {
		lineno++;
		nl = strchr(line, '\n');
		cr_assert_not_null(nl);
		col = 0;
		for (p = line; p < nl; p++)
			col = *p == '\t' ? (col / 8 + 1) * 8 : col + 1;
		cr_assert_leq(col, 79, "usage line %zu is %zu columns: %.*s",
		    lineno, col, (int)(nl - line), line);
	}
	cr_assert_gt(lineno, 10, "usage has only %zu lines", lineno);
	free(text);
}
