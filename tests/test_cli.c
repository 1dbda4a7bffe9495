/* test_cli.c: unit tests of fetch_urls's option parser and help, cli.h. */

/* open_memstream and unsetenv. */
#define _GNU_SOURCE

#include <check.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli.h"
#include "suites.h"

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

/* Appends a copy of s to a's arguments. */
static void
args_push(struct cli_args *a, const char *s)
{
	size_t len = strlen(s) + 1;

	ck_assert_msg(a->argc < CLI_MAXARGS, "too many test arguments");
	ck_assert_msg(len <= sizeof(a->buf) - a->used,
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
	ck_assert_msg(got == want, "cli_parse(%s%s%s...) gave action %d, "
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
	ck_assert_msg(err[0] != '\0', "empty error message");
	ck_assert_msg(err[0] != 'X', "error message not set: '%s'", err);
	ck_assert_msg(strchr(err, '\n') == NULL,
	    "message is not one line: '%s'", err);
	for (i = 0; need[i] != NULL; i++)
		ck_assert_msg(strstr(err, need[i]) != NULL,
		    "message '%s' does not name '%s'", err, need[i]);
}

#define STRS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define ERR(args, need)	expect_error(STRS args, STRS need)

static void
expect_defaults(const struct cli *cli)
{
	ck_assert_int_eq(cli->mode, CLI_CONCURRENT);
	ck_assert_int_eq(cli->jobs, 0);
	ck_assert_int_eq(cli->max_time_ms, 30000);
	ck_assert_int_eq(cli->connect_timeout_ms, 10000);
	ck_assert_int_eq(cli->deadline_ms, 0);
	ck_assert(!cli->quiet);
	ck_assert_ptr_null(cli->input);
}

START_TEST(defaults_without_arguments)
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
	ck_assert_uint_eq(cli.nurls, 0);
}
END_TEST

START_TEST(defaults_with_one_url)
{
	struct cli_args a;
	struct cli cli;

	memset(&cli, 0x5a, sizeof(cli));
	RUN(&a, &cli, "http://127.0.0.1/");
	expect_defaults(&cli);
	ck_assert_uint_eq(cli.nurls, 1);
	ck_assert_str_eq(cli.urls[0], "http://127.0.0.1/");
}
END_TEST

START_TEST(serial_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "u");
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
	ck_assert_uint_eq(cli.nurls, 1);
	RUN(&a, &cli, "--serial", "u");
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
	ck_assert_uint_eq(cli.nurls, 1);
}
END_TEST

START_TEST(compare_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-c", "u");
	ck_assert_int_eq(cli.mode, CLI_COMPARE);
	RUN(&a, &cli, "--compare", "u");
	ck_assert_int_eq(cli.mode, CLI_COMPARE);
}
END_TEST

START_TEST(last_of_serial_and_compare_wins)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "-c");
	ck_assert_int_eq(cli.mode, CLI_COMPARE);
	RUN(&a, &cli, "--compare", "--serial");
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
}
END_TEST

START_TEST(quiet_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-q", "u");
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.mode, CLI_CONCURRENT);
	RUN(&a, &cli, "--quiet", "u");
	ck_assert(cli.quiet);
}
END_TEST

START_TEST(input_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-i", "list.txt");
	ck_assert_str_eq(cli.input, "list.txt");
	/* The file name is the option's argument, not a URL. */
	ck_assert_uint_eq(cli.nurls, 0);
	/* Borrowed from argv, not copied. */
	ck_assert_ptr_eq(cli.input, a.orig[2]);
	RUN(&a, &cli, "-ilist.txt");
	ck_assert_str_eq(cli.input, "list.txt");
	RUN(&a, &cli, "--input", "-");
	ck_assert_str_eq(cli.input, "-");
	ck_assert_uint_eq(cli.nurls, 0);
	RUN(&a, &cli, "--input=urls", "u1");
	ck_assert_str_eq(cli.input, "urls");
	ck_assert_uint_eq(cli.nurls, 1);
	ck_assert_str_eq(cli.urls[0], "u1");
}
END_TEST

START_TEST(jobs_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-j", "4");
	ck_assert_int_eq(cli.jobs, 4);
	RUN(&a, &cli, "-j17");
	ck_assert_int_eq(cli.jobs, 17);
	RUN(&a, &cli, "--jobs", "1");
	ck_assert_int_eq(cli.jobs, 1);
	RUN(&a, &cli, "--jobs=250");
	ck_assert_int_eq(cli.jobs, 250);
	/* The largest count accepted. */
	RUN(&a, &cli, "-j", "1000000");
	ck_assert_int_eq(cli.jobs, 1000000);
}
END_TEST

START_TEST(max_time_short_and_long)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-m", "5");
	ck_assert_int_eq(cli.max_time_ms, 5000);
	ck_assert_int_eq(cli.connect_timeout_ms, 10000);
	RUN(&a, &cli, "-m2");
	ck_assert_int_eq(cli.max_time_ms, 2000);
	RUN(&a, &cli, "--max-time", "12");
	ck_assert_int_eq(cli.max_time_ms, 12000);
	RUN(&a, &cli, "--max-time=3");
	ck_assert_int_eq(cli.max_time_ms, 3000);
	/* A day is the longest accepted. */
	RUN(&a, &cli, "-m", "86400");
	ck_assert_int_eq(cli.max_time_ms, 86400000L);
}
END_TEST

START_TEST(connect_timeout_long_only)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "--connect-timeout", "3");
	ck_assert_int_eq(cli.connect_timeout_ms, 3000);
	ck_assert_int_eq(cli.max_time_ms, 30000);
	RUN(&a, &cli, "--connect-timeout=7");
	ck_assert_int_eq(cli.connect_timeout_ms, 7000);
}
END_TEST

START_TEST(deadline_long_only)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "--deadline", "4");
	ck_assert_int_eq(cli.deadline_ms, 4000);
	ck_assert_int_eq(cli.max_time_ms, 30000);
	RUN(&a, &cli, "--deadline=60");
	ck_assert_int_eq(cli.deadline_ms, 60000);
}
END_TEST

START_TEST(clustered_short_options)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-qs", "u");
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
	RUN(&a, &cli, "-qj", "3", "u");
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.jobs, 3);
	ck_assert_uint_eq(cli.nurls, 1);
	RUN(&a, &cli, "-cqm1.5");
	ck_assert_int_eq(cli.mode, CLI_COMPARE);
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.max_time_ms, 1500);
}
END_TEST

START_TEST(every_option_at_once)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "-q", "-i", "f", "-j", "9", "-m", "8",
	    "--connect-timeout", "2", "--deadline", "20", "u1", "u2");
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
	ck_assert(cli.quiet);
	ck_assert_str_eq(cli.input, "f");
	ck_assert_int_eq(cli.jobs, 9);
	ck_assert_int_eq(cli.max_time_ms, 8000);
	ck_assert_int_eq(cli.connect_timeout_ms, 2000);
	ck_assert_int_eq(cli.deadline_ms, 20000);
	ck_assert_uint_eq(cli.nurls, 2);
	ck_assert_str_eq(cli.urls[0], "u1");
	ck_assert_str_eq(cli.urls[1], "u2");
}
END_TEST

START_TEST(decimal_seconds)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-m", "0.5", "--connect-timeout", "0.25",
	    "--deadline", "1.5");
	ck_assert_int_eq(cli.max_time_ms, 500);
	ck_assert_int_eq(cli.connect_timeout_ms, 250);
	ck_assert_int_eq(cli.deadline_ms, 1500);
	RUN(&a, &cli, "--max-time", "2.125");
	ck_assert_int_eq(cli.max_time_ms, 2125);
	RUN(&a, &cli, "-m", ".75");
	ck_assert_int_eq(cli.max_time_ms, 750);
	RUN(&a, &cli, "-m", "1e-3");
	ck_assert_int_eq(cli.max_time_ms, 1);
}
END_TEST

START_TEST(fractions_of_a_millisecond_round_up)
{
	struct cli_args a;
	struct cli cli;

	/* Never 0 ms: that would mean "no limit" to libcurl. */
	RUN(&a, &cli, "-m", "0.0001");
	ck_assert_int_eq(cli.max_time_ms, 1);
	RUN(&a, &cli, "--connect-timeout", "0.0015");
	ck_assert_int_eq(cli.connect_timeout_ms, 2);
	RUN(&a, &cli, "--deadline", "1.0001");
	ck_assert_int_eq(cli.deadline_ms, 1001);
}
END_TEST

/*
 * A whole number of milliseconds written in decimal is taken exactly,
 * although most such decimals have no exact binary value.
 */
START_TEST(whole_milliseconds_are_exact)
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
	char bad[512] = "";
	size_t i, len;

	/* Every case is tried, and every wrong one named, before failing. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RUN(&a, &cli, "-m", cases[i].arg);
		if (cli.max_time_ms == cases[i].ms)
			continue;
		len = strlen(bad);
		snprintf(bad + len, sizeof(bad) - len,
		    "%s-m %s gave %ld ms, expected %ld", len > 0 ? "; " : "",
		    cases[i].arg, cli.max_time_ms, cases[i].ms);
	}
	ck_assert_msg(bad[0] == '\0', "%s", bad);
}
END_TEST

START_TEST(url_arguments_in_order)
{
	struct cli_args a;
	struct cli cli;
	size_t i;

	RUN(&a, &cli, "http://127.0.0.1:1/a", "127.0.0.1/b",
	    "https://[::1]/c", "-");
	ck_assert_uint_eq(cli.nurls, 4);
	/* "-" alone is an argument, not an option. */
	for (i = 0; i < 4; i++)
		ck_assert_msg(cli.urls[i] == a.orig[i + 1],
		    "URL %zu is not the caller's string", i);
	ck_assert_str_eq(cli.urls[3], "-");
}
END_TEST

START_TEST(options_after_urls_are_options)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "u1", "-s", "u2", "--jobs", "3", "u3", "-q",
	    "--deadline=2");
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
	ck_assert_int_eq(cli.jobs, 3);
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.deadline_ms, 2000);
	ck_assert_uint_eq(cli.nurls, 3);
	ck_assert_str_eq(cli.urls[0], "u1");
	ck_assert_str_eq(cli.urls[1], "u2");
	ck_assert_str_eq(cli.urls[2], "u3");
}
END_TEST

START_TEST(double_dash_ends_options)
{
	struct cli_args a;
	struct cli cli;

	RUN(&a, &cli, "-s", "--", "-j", "0", "--quiet", "-x");
	ck_assert_int_eq(cli.mode, CLI_SERIAL);
	ck_assert_int_eq(cli.jobs, 0);
	ck_assert(!cli.quiet);
	ck_assert_uint_eq(cli.nurls, 4);
	ck_assert_str_eq(cli.urls[0], "-j");
	ck_assert_str_eq(cli.urls[1], "0");
	ck_assert_str_eq(cli.urls[2], "--quiet");
	ck_assert_str_eq(cli.urls[3], "-x");

	RUN(&a, &cli, "u1", "-q", "--", "--serial", "u2");
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.mode, CLI_CONCURRENT);
	ck_assert_uint_eq(cli.nurls, 3);
	ck_assert_str_eq(cli.urls[0], "u1");
	ck_assert_str_eq(cli.urls[1], "--serial");
	ck_assert_str_eq(cli.urls[2], "u2");

	RUN(&a, &cli, "--");
	ck_assert_uint_eq(cli.nurls, 0);
	expect_defaults(&cli);
}
END_TEST

START_TEST(bad_jobs)
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
	/* strtol() would take these; no option means them. */
	ERR(("-j", "+5"), ("jobs", "'+5'"));
	ERR(("-j", " 5"), ("jobs", "' 5'"));
	ERR(("-j", "0x10"), ("jobs", "'0x10'"));
	ERR(("--retry", "+3"), ("retry", "'+3'"));
	ERR(("--max-redirs", "-0x1"), ("max-redirs", "'-0x1'"));
	/* A bad option after a URL is an error all the same. */
	ERR(("u1", "-j0"), ("jobs", "'0'"));
}
END_TEST

START_TEST(bad_seconds)
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
	/* strtod() would take these as 30, 5 and 5 seconds. */
	ERR(("-m", "0x1e"), ("max-time", "'0x1e'"));
	ERR(("-m", "+5"), ("max-time", "'+5'"));
	ERR(("--deadline", " 5"), ("deadline", "' 5'"));
	ERR(("-m", "1.2.3"), ("max-time", "'1.2.3'"));
	ERR(("-m", "."), ("max-time", "'.'"));
}
END_TEST

START_TEST(unknown_short_option)
{
	ERR(("-y"), ("-y"));
	ERR(("u1", "-Z", "u2"), ("-Z"));
	/* Inside a cluster, the unknown letter is the one named. */
	ERR(("-qy"), ("-y"));
	/* Also after a long option with its value in the same argument. */
	ERR(("--jobs=4", "-Zq", "u1"), ("unknown option '-Z'"));
}
END_TEST

START_TEST(unknown_long_option)
{
	ERR(("--bogus"), ("--bogus"));
	ERR(("u1", "--no-such-option=3"), ("--no-such-option"));
}
END_TEST

/*
 * Long options are never abbreviated, as in curl: "--user" once sent
 * curl's user:password as the User-Agent.  The message lists the options
 * the prefix begins, whatever follows it.
 */
START_TEST(long_options_not_abbreviated)
{
	ERR(("--re", "u1"), ("unknown option '--re'", "--request",
	    "--retry"));
	ERR(("u1", "--re=3"), ("unknown option '--re'"));
	ERR(("--ser", "u1"), ("unknown option '--ser'", "--serial"));
	ERR(("--user-a", "x", "u1"), ("unknown option '--user-a'",
	    "--user-agent"));
	ERR(("--user-a=x", "u1"), ("unknown option '--user-a'"));
	ERR(("--qui=1", "u1"), ("unknown option '--qui'"));
	ERR(("--jobs", "2", "--dead"), ("unknown option '--dead'",
	    "--deadline"));
	ERR(("--us", "alice:s3cret", "u1"), ("unknown option '--us'"));
}
END_TEST

/*
 * An argument given to a long option that takes none is an error that
 * names that option, not some other one.
 */
START_TEST(argument_to_option_without_one)
{
	ERR(("--quiet=1"), ("--quiet"));
	ERR(("--serial=yes", "u"), ("--serial"));
}
END_TEST

START_TEST(missing_argument)
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
END_TEST

START_TEST(error_message_fits_a_small_buffer)
{
	struct cli_args a;
	struct cli cli;
	char err[8];

	/* A sanitizer sees a write past err. */
	args_set(&a, "--jobs", "99999999999999999999", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_ERROR);
	ck_assert_msg(strlen(err) == 7, "message not cut to fit: '%s'", err);
}
END_TEST

START_TEST(help_short_and_long)
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
END_TEST

START_TEST(version_short_and_long)
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
END_TEST

/*
 * getopt keeps its place in static state.  The first parse here stops in
 * the middle of "-hq" and leaves optind past the end of the shorter argv
 * that follows; a parser that did not start afresh would go on with the
 * old "q" or see no arguments at all.
 */
START_TEST(parses_twice_in_a_row)
{
	struct cli_args a, b;
	struct cli cli;
	char err[128];

	args_set(&a, "-s", "-j", "5", "-hq", "u1", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_HELP);
	args_set(&b, "-c", "u2", (const char *)NULL);
	parse_as(&b, &cli, err, sizeof(err), CLI_RUN);
	ck_assert_int_eq(cli.mode, CLI_COMPARE);
	ck_assert_msg(!cli.quiet,
	    "the first argv's \"q\" leaked into the second");
	ck_assert_int_eq(cli.jobs, 0);
	ck_assert_uint_eq(cli.nurls, 1);
	ck_assert_str_eq(cli.urls[0], "u2");

	/* After an error, and with the same argv twice. */
	args_set(&a, "u1", "-m", "0", "-q", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_ERROR);
	args_set(&a, "u1", "-q", "u2", "-j", "2", (const char *)NULL);
	parse_as(&a, &cli, err, sizeof(err), CLI_RUN);
	parse_as(&a, &cli, err, sizeof(err), CLI_RUN);
	ck_assert(cli.quiet);
	ck_assert_int_eq(cli.jobs, 2);
	ck_assert_uint_eq(cli.nurls, 2);
	ck_assert_str_eq(cli.urls[0], "u1");
	ck_assert_str_eq(cli.urls[1], "u2");
}
END_TEST

/* Returns cli_usage()'s output; the caller frees it. */
static char *
usage_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	ck_assert_msg(fp != NULL, "open_memstream: %s", strerror(errno));
	cli_usage(fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(buf);
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

/* An optional argument: "--stats" or "--stats=json", never "--stats json". */
START_TEST(stats_argument_is_optional)
{
	struct cli_args a;
	struct cli cli;
	char *text;

	RUN(&a, &cli, "u");
	ck_assert_int_eq(cli.stats, CLI_STATS_OFF);
	RUN(&a, &cli, "--stats", "u");
	ck_assert_int_eq(cli.stats, CLI_STATS_TEXT);
	RUN(&a, &cli, "--stats=json", "u");
	ck_assert_int_eq(cli.stats, CLI_STATS_JSON);
	RUN(&a, &cli, "--stats=json", "--stats=text");
	ck_assert_int_eq(cli.stats, CLI_STATS_TEXT);
	ck_assert_uint_eq(cli.nurls, 0);
	RUN(&a, &cli, "--stats", "json");
	ck_assert_int_eq(cli.stats, CLI_STATS_TEXT);
	ck_assert_uint_eq(cli.nurls, 1);
	ck_assert_str_eq(cli.urls[0], "json");
	ERR(("--stats=xml"), ("--stats", "'xml'", "json"));
	ERR(("--stats="), ("--stats", "''"));
	ERR(("--stat"), ("'--stat'", "--stats"));
	text = usage_text();
	ck_assert_msg(strstr(text, "[--stats[=json]]") != NULL &&
	    strstr(text, "\n      --stats[=json] ") != NULL,
	    "usage:\n%s", text);
	free(text);
}
END_TEST

START_TEST(usage_names_every_option)
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
	ck_assert_msg(strncmp(text, "usage: fetch_urls ", 18) == 0,
	    "usage does not start with a synopsis: '%.40s'", text);
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		ck_assert_msg(mentions(text, options[i].lng),
		    "usage does not mention %s", options[i].lng);
		if (options[i].shrt == 0)
			continue;
		snprintf(shrt, sizeof(shrt), "-%c,", options[i].shrt);
		ck_assert_msg(strstr(text, shrt) != NULL,
		    "usage does not give -%c for %s", options[i].shrt,
		    options[i].lng);
	}
	/* The defaults the parser applies. */
	ck_assert_ptr_nonnull(strstr(text, "default 30"));
	ck_assert_ptr_nonnull(strstr(text, "default 10"));
	free(text);
}
END_TEST

/*
 * The synopsis is made from the option table: every option the help lists
 * is in it, by its letter when it has one, and nothing else is.
 */
START_TEST(synopsis_lists_every_option)
{
	char *text, *syn_end, *p, *cluster, name[40], letter;
	size_t count = 0, cluster_len;

	text = usage_text();
	syn_end = strstr(text, "\n\n");
	ck_assert_ptr_nonnull(syn_end);
	*syn_end = '\0';
	/* The letters without an argument come first, as one "[-cIk...]". */
	cluster = strstr(text, "[-");
	ck_assert_ptr_nonnull(cluster);
	cluster_len = strcspn(cluster, "]");
	for (p = syn_end + 1; (p = strchr(p, '\n')) != NULL; p++) {
		letter = 0;
		if (sscanf(p, "\n  -%c, --%39[a-z0-9-]", &letter, name) != 2 &&
		    sscanf(p, "\n      --%39[a-z0-9-]", name) != 1)
			continue;
		count++;
		if (letter == 'h')
			continue;
		if (letter != 0) {
			char want[4] = { '-', letter, ' ', '\0' };

			ck_assert_msg(strstr(text, want) != NULL ||
			    memchr(cluster, letter, cluster_len) != NULL,
			    "synopsis lacks -%c", letter);
		} else {
			char want[44];

			snprintf(want, sizeof(want), "--%s", name);
			ck_assert_msg(mentions(text, want),
			    "synopsis lacks --%s", name);
		}
	}
	ck_assert_uint_gt(count, 20);
	free(text);
}
END_TEST

START_TEST(usage_lines_fit_79_columns)
{
	char *text, *line, *nl;
	size_t col, lineno = 0;
	const char *p;

	text = usage_text();
	ck_assert_uint_gt(strlen(text), 0);
	ck_assert_msg(text[strlen(text) - 1] == '\n', "usage ends mid-line");
	for (line = text; *line != '\0'; line = nl + 1) {
		lineno++;
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		col = 0;
		for (p = line; p < nl; p++)
			col = *p == '\t' ? (col / 8 + 1) * 8 : col + 1;
		ck_assert_msg(col <= 79, "usage line %zu is %zu columns: %.*s",
		    lineno, col, (int)(nl - line), line);
	}
	ck_assert_msg(lineno > 10, "usage has only %zu lines", lineno);
	free(text);
}
END_TEST

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, cli_setup, NULL);
	tcase_set_timeout(tc, CLI_TLIMIT);
	tcase_add_test(tc, defaults_without_arguments);
	tcase_add_test(tc, defaults_with_one_url);
	tcase_add_test(tc, serial_short_and_long);
	tcase_add_test(tc, compare_short_and_long);
	tcase_add_test(tc, last_of_serial_and_compare_wins);
	tcase_add_test(tc, quiet_short_and_long);
	tcase_add_test(tc, input_short_and_long);
	tcase_add_test(tc, jobs_short_and_long);
	tcase_add_test(tc, max_time_short_and_long);
	tcase_add_test(tc, connect_timeout_long_only);
	tcase_add_test(tc, deadline_long_only);
	tcase_add_test(tc, clustered_short_options);
	tcase_add_test(tc, every_option_at_once);
	tcase_add_test(tc, decimal_seconds);
	tcase_add_test(tc, fractions_of_a_millisecond_round_up);
	tcase_add_test(tc, whole_milliseconds_are_exact);
	tcase_add_test(tc, url_arguments_in_order);
	tcase_add_test(tc, options_after_urls_are_options);
	tcase_add_test(tc, double_dash_ends_options);
	tcase_add_test(tc, bad_jobs);
	tcase_add_test(tc, bad_seconds);
	tcase_add_test(tc, unknown_short_option);
	tcase_add_test(tc, unknown_long_option);
	tcase_add_test(tc, long_options_not_abbreviated);
	tcase_add_test(tc, argument_to_option_without_one);
	tcase_add_test(tc, missing_argument);
	tcase_add_test(tc, error_message_fits_a_small_buffer);
	tcase_add_test(tc, help_short_and_long);
	tcase_add_test(tc, version_short_and_long);
	tcase_add_test(tc, parses_twice_in_a_row);
	tcase_add_test(tc, usage_names_every_option);
	tcase_add_test(tc, stats_argument_is_optional);
	tcase_add_test(tc, synopsis_lists_every_option);
	tcase_add_test(tc, usage_lines_fit_79_columns);
	suite_add_tcase(s, tc);
	return s;
}
