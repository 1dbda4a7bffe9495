/* test_cli_http.c: unit tests of the output and HTTP options of cli.h. */

#define _GNU_SOURCE

#include <check.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli.h"
#include "suites.h"

#define CH_TLIMIT	10
#define CH_MAXARGS	32

static void
ch_setup(void)
{
	unsetenv("POSIXLY_CORRECT");
}

/* A writable argv; strings stay in orig, which the test frees. */
struct ch_args {
	int	 argc;
	char	*argv[CH_MAXARGS + 1];
	char	*orig[CH_MAXARGS + 1];
};

static void
ch_set(struct ch_args *a, va_list ap)
{
	const char *s;

	a->argc = 0;
	a->argv[a->argc++] = strdup("fetch_urls");
	while ((s = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(a->argc, CH_MAXARGS);
		a->argv[a->argc++] = strdup(s);
	}
	a->argv[a->argc] = NULL;
	memcpy(a->orig, a->argv, sizeof(a->orig));
}

static void
ch_free(struct ch_args *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->orig[i]);
}

/* Parses the NULL-terminated arguments; expects CLI_RUN. */
static void
ch_run(struct ch_args *a, struct cli *cli, ...)
{
	char err[256] = "";
	va_list ap;

	va_start(ap, cli);
	ch_set(a, ap);
	va_end(ap);
	ck_assert_msg(cli_parse(a->argc, a->argv, cli, err, sizeof(err)) ==
	    CLI_RUN, "%s %s: %s", a->orig[1] ? a->orig[1] : "",
	    a->argc > 2 ? a->orig[2] : "", err);
}

/*
 * Parses the NULL-terminated arguments, expects a usage error whose one
 * line contains need (if not NULL) and not hide (if not NULL).
 */
static void
ch_error(const char *need, const char *hide, ...)
{
	struct ch_args a;
	struct cli cli;
	char err[256];
	va_list ap;

	va_start(ap, hide);
	ch_set(&a, ap);
	va_end(ap);
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	ck_assert_msg(cli_parse(a.argc, a.argv, &cli, err, sizeof(err)) ==
	    CLI_ERROR, "%s %s: no error", a.orig[1], a.argc > 2 ? a.orig[2] :
	    "");
	ck_assert_msg(err[0] != 'X' && err[0] != '\0' &&
	    strchr(err, '\n') == NULL, "bad message '%s'", err);
	if (need != NULL)
		ck_assert_msg(strstr(err, need) != NULL, "'%s' does not name "
		    "'%s'", err, need);
	if (hide != NULL)
		ck_assert_msg(strstr(err, hide) == NULL, "'%s' shows '%s'",
		    err, hide);
	/* Nothing is left allocated after an error. */
	ck_assert_ptr_null(cli.headers);
	ck_assert_ptr_null(cli.opts.resolve);
	ck_assert_ptr_null(cli.opts.connect_to);
	ch_free(&a);
}

START_TEST(defaults)
{
	struct ch_args a;
	struct cli cli;

	memset(&cli, 0xa5, sizeof(cli));
	ch_run(&a, &cli, "http://h/", NULL);
	ck_assert_int_eq(cli.format, CLI_TEXT);
	ck_assert_ptr_null(cli.write_out);
	ck_assert(!cli.ordered && !cli.no_progress && !cli.location &&
	    !cli.head && !cli.insecure);
	ck_assert_int_eq(cli.max_redirs, 10);
	ck_assert_ptr_null(cli.method);
	ck_assert_ptr_null(cli.headers);
	ck_assert_uint_eq(cli.nheaders, 0);
	ck_assert_ptr_null(cli.user_agent);
	ck_assert_int_eq(cli.retry, 0);
	ck_assert(cli.rate == 0);
	ck_assert_int_eq(cli.per_host, 0);
	cli_free(&cli);
	ch_free(&a);
}
END_TEST

START_TEST(formats)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "--format", "json", "u", NULL);
	ck_assert_int_eq(cli.format, CLI_JSON);
	ch_free(&a);
	ch_run(&a, &cli, "--json", "u", NULL);
	ck_assert_int_eq(cli.format, CLI_JSON);
	ch_free(&a);
	ch_run(&a, &cli, "--format=csv", "u", NULL);
	ck_assert_int_eq(cli.format, CLI_CSV);
	ch_free(&a);
	ch_run(&a, &cli, "--json", "--format", "text", "u", NULL);
	ck_assert_int_eq(cli.format, CLI_TEXT);
	ch_free(&a);
	ch_error("xml", NULL, "--format", "xml", "u", NULL);
	ch_error("format", NULL, "--json", "-w", "%{url}", "u", NULL);
}
END_TEST

START_TEST(write_out_is_borrowed)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-w", "%{http_code}\\n", "u", NULL);
	ck_assert_ptr_eq(cli.write_out, a.orig[2]);
	ch_free(&a);
	ch_run(&a, &cli, "--write-out", "x", "u", NULL);
	ck_assert_str_eq(cli.write_out, "x");
	ch_free(&a);
}
END_TEST

START_TEST(flags_short_and_long)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-LIkq", "--ordered", "--no-progress", "u", NULL);
	ck_assert(cli.location && cli.head && cli.insecure && cli.quiet &&
	    cli.ordered && cli.no_progress);
	ch_free(&a);
	ch_run(&a, &cli, "--location", "--head", "--insecure", "u", NULL);
	ck_assert(cli.location && cli.head && cli.insecure);
	ch_free(&a);
}
END_TEST

START_TEST(numbers)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "--max-redirs", "3", "--retry", "0", "--per-host",
	    "4", "u", NULL);
	ck_assert_int_eq(cli.max_redirs, 3);
	ck_assert_int_eq(cli.retry, 0);
	ck_assert_int_eq(cli.per_host, 4);
	ch_free(&a);
	ch_run(&a, &cli, "--max-redirs", "-1", "--retry", "1000", "u", NULL);
	ck_assert_int_eq(cli.max_redirs, -1);
	ck_assert_int_eq(cli.retry, 1000);
	ch_free(&a);
	ch_error("-2", NULL, "--max-redirs", "-2", "u", NULL);
	ch_error("x", NULL, "--max-redirs", "x", "u", NULL);
	ch_error("-1", NULL, "--retry", "-1", "u", NULL);
	ch_error("1001", NULL, "--retry", "1001", "u", NULL);
	ch_error("2.5", NULL, "--retry", "2.5", "u", NULL);
	ch_error("0", NULL, "--per-host", "0", "u", NULL);
	ch_error("many", NULL, "--per-host", "many", "u", NULL);
}
END_TEST

START_TEST(rates)
{
	static const struct {
		const char	*arg;
		double		 per_sec;
	} ok[] = {
		{ "2", 2 }, { "0.5", 0.5 }, { "2/s", 2 }, { "120/m", 2 },
		{ "7200/h", 2 }, { "86400/d", 1 }, { "1000000", 1e6 },
	};
	static const char *const bad[] = {
		"0", "-1", "x", "2/x", "2/ss", "2/", "/s", "1e7", "nan", "inf",
		"0x10", "+2", " 2",
	};
	struct ch_args a;
	struct cli cli;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ch_run(&a, &cli, "--rate", ok[i].arg, "u", NULL);
		ck_assert_msg(cli.rate > ok[i].per_sec * 0.999999 &&
		    cli.rate < ok[i].per_sec * 1.000001, "--rate %s gave %f",
		    ok[i].arg, cli.rate);
		ch_free(&a);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ch_error(bad[i], NULL, "--rate", bad[i], "u", NULL);
}
END_TEST

START_TEST(request_and_head)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-X", "PUT", "u", NULL);
	ck_assert_str_eq(cli.method, "PUT");
	ck_assert(!cli.head);
	ch_free(&a);
	ch_run(&a, &cli, "--request", "HEAD", "u", NULL);
	ck_assert_ptr_null(cli.method);
	ck_assert(cli.head);
	ch_free(&a);
	ch_error("PUT", NULL, "-I", "-X", "PUT", "u", NULL);
	ch_error("GET /x", NULL, "-X", "GET /x", "u", NULL);
	ch_error(NULL, NULL, "-X", "", "u", NULL);
}
END_TEST

START_TEST(headers_repeat_in_order)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-H", "X-One: 1", "u", "--header", "X-Two: two",
	    "-H", "Accept:", "-H", "X-Empty;", NULL);
	ck_assert_uint_eq(cli.nheaders, 4);
	ck_assert_str_eq(cli.headers[0], "X-One: 1");
	ck_assert_str_eq(cli.headers[1], "X-Two: two");
	ck_assert_str_eq(cli.headers[2], "Accept:");
	ck_assert_str_eq(cli.headers[3], "X-Empty;");
	/* Borrowed from argv, not copied. */
	ck_assert_ptr_eq(cli.headers[0], a.orig[2]);
	ck_assert_uint_eq(cli.nurls, 1);
	cli_free(&cli);
	ck_assert_ptr_null(cli.headers);
	ck_assert_uint_eq(cli.nheaders, 0);
	cli_free(&cli);
	ch_free(&a);
}
END_TEST

/* A refused header is named, but its value, maybe a secret, is not. */
START_TEST(bad_headers_never_show_values)
{
	ch_error("Authorization", "s3cret", "-H", "Authorization Bearer "
	    "s3cret", "u", NULL);
	ch_error("Cookie", "s3cret", "-H", "Cookie: id=s3cret\r\nX: y", "u",
	    NULL);
	ch_error(NULL, "s3cret", "-H", ": s3cret", "u", NULL);
	ch_error("X", "s3cret", "-H", "X;s3cret", "u", NULL);
	/* The headers taken before the bad one are freed. */
	ch_error(NULL, "s3cret", "-H", "A: 1", "-H", "B: 2", "-H",
	    "Bad s3cret", "u", NULL);
}
END_TEST

/*
 * -u keeps a copy of user:password, and says where the argument is so that
 * main can blank it out; a reason never quotes the credentials.
 */
START_TEST(user_credentials)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-u", "alice:s3cret", "u", NULL);
	ck_assert_str_eq(cli.user, "alice:s3cret");
	ck_assert_ptr_nonnull(cli.user_arg);
	ck_assert_str_eq(cli.user_arg, "alice:s3cret");
	ck_assert_ptr_ne(cli.user, cli.user_arg);
	ck_assert_str_eq(cli.user_agent == NULL ? "(null)" : cli.user_agent,
	    "(null)");
	cli_free(&cli);
	ck_assert_ptr_null(cli.user);
	ch_free(&a);
	ch_run(&a, &cli, "--user=bob:pw:with:colons", "u", NULL);
	ck_assert_str_eq(cli.user, "bob:pw:with:colons");
	cli_free(&cli);
	ch_free(&a);
	ch_error("--user wants user:password", "nocolon", "--user", "nocolon",
	    "u", NULL);
	ch_error("line break", "s3cret", "-u", "a:s3cret\r\nX: y", "u", NULL);
}
END_TEST

START_TEST(user_agent)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-A", "probe/2", "u", NULL);
	ck_assert_str_eq(cli.user_agent, "probe/2");
	ch_free(&a);
	ch_run(&a, &cli, "--user-agent", "", "u", NULL);
	ck_assert_str_eq(cli.user_agent, "");
	ch_free(&a);
	ch_error("user-agent", NULL, "-A", "a\nb", "u", NULL);
}
END_TEST

static char *
ch_usage(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(fp);
	cli_usage(fp);
	ck_assert_int_eq(fclose(fp), 0);
	return text;
}

START_TEST(usage_lists_new_options_and_variables)
{
	static const char *const need[] = {
		"-A, --user-agent", "-H, --header", "-I, --head",
		"-k, --insecure", "-L, --location", "-w, --write-out",
		"-X, --request", "--format", "--json", "--max-redirs",
		"--no-progress", "--ordered", "--per-host", "--rate",
		"--retry", "default 10", "fetch_urls/", "--cacert FILE",
		"--capath DIR", "--cert FILE", "--key FILE", "-4, --ipv4",
		"-6, --ipv6", "--resolve HOST:PORT:ADDR",
		"--connect-to H1:P1:H2:P2", "-d, --data DATA",
		"--data-binary DATA", "--data-raw DATA",
		"--oauth2-bearer TOKEN", "-x, --proxy URL",
		"--noproxy HOSTS", "--http1.1", "--http2 ",
		"--http2-prior-knowledge", "-b, --cookie DATA|FILE",
		"--cookie-jar FILE", "--compressed", "--max-filesize BYTES",
		"%{url}", "%{urlnum}", "%{http_code}", "%{time_total}",
		"%{time_namelookup}", "%{time_connect}", "%{time_appconnect}",
		"%{time_starttransfer}", "%{size_download}",
		"%{num_redirects}", "%{url_effective}", "%{errormsg}",
	};
	char *text = ch_usage();

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		ck_assert_msg(strstr(text, need[i]) != NULL, "usage lacks %s",
		    need[i]);
	free(text);
}
END_TEST

/* The TLS and resolution options land in cli.opts; -4 and -6: the last. */
START_TEST(tls_and_resolution_options)
{
	char dir[] = "/tmp/cli_http.XXXXXX", *file;
	const char **l;
	struct ch_args a;
	struct cli cli;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert(asprintf(&file, "%s/ca.pem", dir) > 0);
	fclose(fopen(file, "w"));
	ch_run(&a, &cli, "--cacert", file, "--capath", dir, "--cert", file,
	    "--key", file, "-6", "--resolve", "a.test:443:127.0.0.1",
	    "--resolve", "+b.test:80:[::1],10.0.0.1", "--connect-to",
	    "::[::1]:8080", "--connect-to", "h:1:h2:2", "-4", "u", NULL);
	ck_assert_str_eq(cli.opts.cafile, file);
	ck_assert_str_eq(cli.opts.capath, dir);
	ck_assert_str_eq(cli.opts.cert, file);
	ck_assert_str_eq(cli.opts.key, file);
	ck_assert_int_eq(cli.opts.ipresolve, FETCH_IP_V4);
	l = cli.opts.resolve;
	ck_assert(l != NULL && strcmp(l[0], "a.test:443:127.0.0.1") == 0);
	ck_assert(l[1] != NULL && strcmp(l[1],
	    "+b.test:80:[::1],10.0.0.1") == 0 && l[2] == NULL);
	l = cli.opts.connect_to;
	ck_assert(l != NULL && strcmp(l[0], "::[::1]:8080") == 0);
	ck_assert(l[1] != NULL && strcmp(l[1], "h:1:h2:2") == 0 &&
	    l[2] == NULL);
	cli_free(&cli);
	ck_assert_ptr_null(cli.opts.resolve);
	ck_assert_ptr_null(cli.opts.connect_to);
	ch_free(&a);
	ch_run(&a, &cli, "-4", "--ipv6", "u", NULL);
	ck_assert_int_eq(cli.opts.ipresolve, FETCH_IP_V6);
	ck_assert_ptr_null(cli.opts.cafile);
	cli_free(&cli);
	ch_free(&a);
	remove(file);
	rmdir(dir);
	free(file);
}
END_TEST

/* Each bad entry is refused with its option, itself and the reason. */
START_TEST(bad_resolution_entries)
{
	static const char *const bad[][3] = {
		{ "--resolve", "a.test", "wants HOST:PORT:ADDR" },
		{ "--resolve", ":80:127.0.0.1", "wants HOST:PORT:ADDR" },
		{ "--resolve", "a b:80:127.0.0.1", "wants HOST:PORT:ADDR" },
		{ "--resolve", "a:0:127.0.0.1", "port from 1 to 65535" },
		{ "--resolve", "a:65536:127.0.0.1", "port from 1 to 65535" },
		{ "--resolve", "a:http:127.0.0.1", "port from 1 to 65535" },
		{ "--resolve", "a:80", "port from 1 to 65535" },
		{ "--resolve", "a:80:", "IP addresses" },
		{ "--resolve", "a:80:localhost", "IP addresses" },
		{ "--resolve", "a:80:127.0.0.1,", "IP addresses" },
		{ "--resolve", "a:80:1.2.3.4.5", "IP addresses" },
		{ "--connect-to", "a:80:b", "HOST1:PORT1:HOST2:PORT2" },
		{ "--connect-to", "a", "HOST1:PORT1:HOST2:PORT2" },
		{ "--connect-to", "[::1:80:b:80", "HOST1:PORT1:HOST2:PORT2" },
		{ "--connect-to", "a:x:b:80", "ports from 1 to 65535" },
		{ "--connect-to", "a:80:b:99999", "ports from 1 to 65535" },
		{ "--connect-to", "a:80:b:80:", "ports from 1 to 65535" },
		{ "--cacert", "/nonexistent", "No such file or directory" },
		{ "--capath", "/dev/null", "'/dev/null': Not a directory" },
		{ "--cert", "/", "--cert '/': Is a directory" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ch_error(bad[i][0], NULL, bad[i][0], bad[i][1], "u", NULL);
		ch_error(bad[i][1], NULL, bad[i][0], bad[i][1], "u", NULL);
		ch_error(bad[i][2], NULL, bad[i][0], bad[i][1], "u", NULL);
	}
}
END_TEST

/*
 * curl reads a password after the ':' of --cert's argument; this tool does
 * not, and the error for such an argument never quotes the password.
 */
START_TEST(cert_password_never_shown)
{
	ch_error("--cert '/nonexistent/c.pem:***'", "s3cret", "--cert",
	    "/nonexistent/c.pem:s3cret", "u", NULL);
	ch_error("password after ':' is not read", "s3cret", "--cert",
	    "/nonexistent/c.pem:s3cret", "u", NULL);
	/* Without a ':' the whole name is quoted, as for any file. */
	ch_error("--cert '/nonexistent/c.pem'", NULL, "--cert",
	    "/nonexistent/c.pem", "u", NULL);
}
END_TEST

/* Data pieces make one body, joined with '&'; the token is copied. */
START_TEST(data_and_bearer)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-d", "a=1", "--data-raw", "@x", "--data-binary",
	    "b", "--oauth2-bearer", "tok", "u", NULL);
	ck_assert_uint_eq(cli.post.len, 8);
	ck_assert_str_eq(cli.post.buf, "a=1&@x&b");
	ck_assert_ptr_eq(cli.opts.data, cli.post.buf);
	ck_assert_uint_eq(cli.opts.datalen, 8);
	ck_assert_str_eq(cli.bearer, "tok");
	ck_assert_ptr_eq(cli.opts.bearer, cli.bearer);
	ck_assert_ptr_eq(cli.bearer_arg, a.argv[8]);
	cli_free(&cli);
	ck_assert_ptr_null(cli.post.buf);
	ck_assert_ptr_null(cli.bearer);
	ch_free(&a);
	/* No body without -d; an empty -d makes an empty one. */
	ch_run(&a, &cli, "u", NULL);
	ck_assert_ptr_null(cli.opts.data);
	cli_free(&cli);
	ch_free(&a);
	ch_run(&a, &cli, "-d", "", "u", NULL);
	ck_assert_ptr_nonnull(cli.opts.data);
	ck_assert_uint_eq(cli.opts.datalen, 0);
	cli_free(&cli);
	ch_free(&a);
	ch_error("line break", "s3cret", "--oauth2-bearer", "s3cret\nx", "u",
	    NULL);
}
END_TEST

/*
 * -x and --noproxy are borrowed, but a proxy URL that may hold credentials
 * is copied, and where it is in argv kept for main to blank out as -u's;
 * of the versions, the last counts.
 */
START_TEST(proxy_and_versions)
{
	struct ch_args a;
	struct cli cli;

	ch_run(&a, &cli, "-x", "http://h:3128", "--noproxy", "a,b.c",
	    "--http2-prior-knowledge", "--http1.1", "u", NULL);
	ck_assert_ptr_eq(cli.opts.proxy, a.argv[2]);
	ck_assert_ptr_null(cli.proxy_arg);
	ck_assert_ptr_eq(cli.opts.noproxy, a.argv[4]);
	ck_assert_int_eq(cli.opts.http_version, FETCH_HTTP_1_1);
	cli_free(&cli);
	ch_free(&a);
	ch_run(&a, &cli, "-x", "http://u:p@h:3128", "u", NULL);
	ck_assert_str_eq(cli.opts.proxy, "http://u:p@h:3128");
	ck_assert_ptr_ne(cli.opts.proxy, a.argv[2]);
	ck_assert_ptr_eq(cli.proxy_arg, a.argv[2]);
	cli_free(&cli);
	ck_assert_ptr_null(cli.proxy);
	ch_free(&a);
	ch_run(&a, &cli, "--http2", "u", NULL);
	ck_assert_int_eq(cli.opts.http_version, FETCH_HTTP_2);
	ck_assert_ptr_null(cli.opts.proxy);
	cli_free(&cli);
	ch_free(&a);
	ch_run(&a, &cli, "--http1.1", "--http2-prior-knowledge", "u", NULL);
	ck_assert_int_eq(cli.opts.http_version, FETCH_HTTP_2_PRIOR);
	ck_assert_int_eq(cli.opts.ipresolve, FETCH_IP_ANY);
	cli_free(&cli);
	ch_free(&a);
	/* The reason never quotes the proxy, which may hold a password. */
	ch_error("--proxy contains a space", "s3cret", "-x",
	    "http://u:s3cret@h :1", "u", NULL);
	ch_error("--noproxy contains", NULL, "--noproxy", "a\tb", "u", NULL);
}
END_TEST

/*
 * Makes the directory dir, a mkdtemp() template, and returns dir/name,
 * malloced, for the test to free.
 */
static char *
ch_tmpdir(char *dir, const char *name)
{
	char *path;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	return path;
}

/* With a '=' -b is cookies, joined with ';' as curl; else a file. */
START_TEST(cookies_and_files)
{
	char dir[] = "/tmp/cli_http.XXXXXX", *file = ch_tmpdir(dir, "cookies");
	struct ch_args a;
	struct cli cli;

	fclose(fopen(file, "w"));
	ch_run(&a, &cli, "-b", "a=1", "--cookie", file, "-b", "b=2; c=3",
	    "--cookie-jar", file, "u", NULL);
	ck_assert_str_eq(cli.opts.cookie, "a=1;b=2; c=3");
	/* The file is read when parsed: empty, it still makes a store. */
	ck_assert(cli.opts.cookie_lines != NULL && cli.opts.cookie_len == 0);
	ck_assert_ptr_eq(cli.opts.cookie_jar, a.argv[8]);
	cli_free(&cli);
	ck_assert_ptr_null(cli.opts.cookie);
	ck_assert_ptr_null(cli.opts.cookie_lines);
	ch_free(&a);
	/* A new jar in a writable directory is fine. */
	ch_run(&a, &cli, "--cookie-jar", "new-jar.txt", "u", NULL);
	cli_free(&cli);
	ch_free(&a);
	ch_error("--cookie-jar", NULL, "--cookie-jar", dir, "u", NULL);
	ch_error("': Is a directory", NULL, "--cookie-jar", dir, "u", NULL);
	ch_error("No such file", NULL, "--cookie-jar", "/nonexistent/j",
	    "u", NULL);
	/* libcurl would silently write no jar under an empty name. */
	ch_error("--cookie-jar '': No such file", NULL, "--cookie-jar", "",
	    "u", NULL);
	ch_error("No such file", NULL, "-b", "/nonexistent/c", "u", NULL);
	ch_error("line break", "s3cret", "-b", "sid=s3cret\n", "u", NULL);
	remove(file);
	rmdir(dir);
	free(file);
}
END_TEST

/*
 * Standard input can be read once: every pair of the options that read
 * it is a usage error naming both, before the second one reads.
 */
START_TEST(one_option_reads_stdin)
{
	static const struct {
		const char	*args[4];	/* NULL-ended. */
		const char	*err;
	} t[] = {
		{ { "-d", "@-", "-b", "-" }, "--data @- and --cookie -" },
		{ { "-b", "-", "-d", "@-" }, "--cookie - and --data @-" },
		{ { "-b", "-", "-i", "-" }, "--cookie - and --input -" },
		{ { "-i", "-", "-b", "-" }, "--input - and --cookie -" },
		{ { "--data-binary", "@-", "-i", "-" },
		    "--data-binary @- and --input -" },
		{ { "-i", "-", "-d", "@-" }, "--input - and --data @-" },
		{ { "-d", "@-", "--data-binary", "@-" },
		    "--data @- and --data-binary @-" },
		{ { "-b", "-", "-b", "-" }, "--cookie - and --cookie -" },
	};
	struct ch_args a;
	struct cli cli;
	char need[128];

	/* What -d @- reads, when it comes first. */
	ck_assert_ptr_nonnull(freopen("/dev/null", "r", stdin));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(need, sizeof(need), "%s cannot both read standard "
		    "input", t[i].err);
		ch_error(need, NULL, t[i].args[0], t[i].args[1], t[i].args[2],
		    t[i].args[3], "u", NULL);
	}
	/* Alone, each may; --data-raw @- is text. */
	ch_run(&a, &cli, "-b", "-", "--data-raw", "@-", "u", NULL);
	ck_assert(cli.opts.cookie_lines != NULL && cli.opts.cookie_len == 0);
	ck_assert_str_eq(cli.post.buf, "@-");
	cli_free(&cli);
	ch_free(&a);
	ch_run(&a, &cli, "-i", "-", "--data-raw", "@-", "u", NULL);
	ck_assert_str_eq(cli.input, "-");
	cli_free(&cli);
	ch_free(&a);
}
END_TEST

/*
 * Another name for what standard input is, such as /dev/stdin, reads it
 * as "-" does: with a pipe there, two of them are a usage error.  A
 * regular file, which each open reads from its start, and /dev/null, which
 * gives nothing, may be read twice.
 */
START_TEST(other_names_for_stdin_read_it)
{
	static const struct {
		const char	*args[4];	/* NULL-ended. */
		const char	*err;
	} t[] = {
		{ { "-i", "/dev/stdin", "-d", "@-" },
		    "--input /dev/stdin and --data @-" },
		{ { "-d", "@-", "-i", "/proc/self/fd/0" },
		    "--data @- and --input /proc/self/fd/0" },
		{ { "-b", "/dev/stdin", "-i", "-" },
		    "--cookie /dev/stdin and --input -" },
		{ { "-i", "-", "--data-binary", "@/dev/stdin" },
		    "--input - and --data-binary @/dev/stdin" },
	};
	char need[128], path[] = "/tmp/test_cli_http.XXXXXX";
	struct ch_args a;
	struct cli cli;
	int fd[2];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* What -d @- reads, when it comes first. */
		ck_assert_int_eq(pipe(fd), 0);
		ck_assert_int_eq(write(fd[1], "a=1\n", 4), 4);
		ck_assert_int_eq(close(fd[1]), 0);
		ck_assert_int_eq(dup2(fd[0], STDIN_FILENO), STDIN_FILENO);
		ck_assert_int_eq(close(fd[0]), 0);
		snprintf(need, sizeof(need), "%s cannot both read standard "
		    "input", t[i].err);
		ch_error(need, NULL, t[i].args[0], t[i].args[1], t[i].args[2],
		    t[i].args[3], "u", NULL);
	}
	ck_assert_int_ge(fd[0] = mkstemp(path), 0);
	ck_assert_int_eq(write(fd[0], "a=1\n", 4), 4);
	ck_assert_int_eq(lseek(fd[0], 0, SEEK_SET), 0);
	ck_assert_int_eq(dup2(fd[0], STDIN_FILENO), STDIN_FILENO);
	ck_assert_int_eq(close(fd[0]), 0);
	ck_assert_int_eq(unlink(path), 0);
	clearerr(stdin);
	ch_run(&a, &cli, "-i", "/dev/stdin", "-d", "@-", "u", NULL);
	ck_assert_str_eq(cli.post.buf, "a=1");
	cli_free(&cli);
	ch_free(&a);
	ck_assert_ptr_nonnull(freopen("/dev/null", "r", stdin));
	ch_run(&a, &cli, "-i", "/dev/stdin", "-b", "/dev/stdin", "u", NULL);
	ck_assert_str_eq(cli.input, "/dev/stdin");
	cli_free(&cli);
	ch_free(&a);
}
END_TEST

/*
 * libcurl writes a jar named "-" to standard output, which is the
 * records' unless --records sends them to a file.
 */
START_TEST(cookie_jar_on_stdout_needs_records)
{
	struct ch_args a;
	struct cli cli;

	ch_error("--cookie-jar - needs --records FILE", NULL, "--cookie-jar",
	    "-", "u", NULL);
	ch_run(&a, &cli, "--cookie-jar", "-", "--records", "r.txt", "u",
	    NULL);
	ck_assert_str_eq(cli.opts.cookie_jar, "-");
	cli_free(&cli);
	ch_free(&a);
}
END_TEST

/*
 * --output-dir is checked once, when the options are read: an existing
 * directory, or with --create-dirs a path whose part that exists is one.
 */
START_TEST(output_dir_checked_when_parsed)
{
	char dir[] = "/tmp/cli_http.XXXXXX", *sub = ch_tmpdir(dir, "new/sub");
	struct ch_args a;
	struct cli cli;

	ch_error("--output-dir '/dev/null': Not a directory", NULL, "-O",
	    "--output-dir", "/dev/null", "--create-dirs", "u", NULL);
	ch_error("--output-dir '/dev/null': Not a directory", NULL, "-O",
	    "--output-dir", "/dev/null", "u", NULL);
	ch_error("--output-dir '/dev/null/d': '/dev/null' is not a directory",
	    NULL, "-O", "--output-dir", "/dev/null/d", "--create-dirs", "u",
	    NULL);
	ch_error("No such file", NULL, "-O", "--output-dir", sub, "u", NULL);
	/* A directory still to make is made by the first file, not here. */
	ch_run(&a, &cli, "-O", "--output-dir", sub, "--create-dirs", "u",
	    NULL);
	ck_assert_str_eq(cli.body.dir, sub);
	ck_assert(access(sub, F_OK) != 0);
	cli_free(&cli);
	ch_free(&a);
	ch_run(&a, &cli, "-O", "--output-dir", dir, "u", NULL);
	cli_free(&cli);
	ch_free(&a);
	rmdir(dir);
	free(sub);
}
END_TEST

/* --max-filesize takes bytes with curl's units; --compressed a flag. */
START_TEST(max_filesize_and_compressed)
{
	static const struct {
		const char	*arg;
		long long	 bytes;
	} ok[] = {
		{ "1", 1 }, { "1000", 1000 }, { "2k", 2048 }, { "3M", 3 << 20 },
		{ "1G", 1LL << 30 }, { "1024G", 1LL << 40 },
	};
	struct ch_args a;
	struct cli cli;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ch_run(&a, &cli, "--max-filesize", ok[i].arg, "u", NULL);
		ck_assert_int_eq(cli.opts.max_filesize, ok[i].bytes);
		ck_assert(!cli.opts.compressed);
		cli_free(&cli);
		ch_free(&a);
	}
	ch_run(&a, &cli, "--compressed", "u", NULL);
	ck_assert(cli.opts.compressed);
	ck_assert_int_eq(cli.opts.max_filesize, 0);
	cli_free(&cli);
	ch_free(&a);
	ch_error("'0'", NULL, "--max-filesize", "0", "u", NULL);
	ch_error("'-1'", NULL, "--max-filesize", "-1", "u", NULL);
	ch_error("'1kb'", NULL, "--max-filesize", "1kb", "u", NULL);
	ch_error("'1T'", NULL, "--max-filesize", "1T", "u", NULL);
	ch_error("' 5'", NULL, "--max-filesize", " 5", "u", NULL);
	ch_error("'2000000G'", NULL, "--max-filesize", "2000000G", "u", NULL);
}
END_TEST

/* For main.c: the suite of this file, a test case per time limit. */
Suite *
cli_http_suite(void)
{
	Suite *s = suite_create("cli_http");
	TCase *tc = tcase_create("cli_http");

	tcase_add_checked_fixture(tc, ch_setup, NULL);
	tcase_set_timeout(tc, CH_TLIMIT);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, formats);
	tcase_add_test(tc, write_out_is_borrowed);
	tcase_add_test(tc, flags_short_and_long);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, rates);
	tcase_add_test(tc, request_and_head);
	tcase_add_test(tc, headers_repeat_in_order);
	tcase_add_test(tc, bad_headers_never_show_values);
	tcase_add_test(tc, user_credentials);
	tcase_add_test(tc, user_agent);
	tcase_add_test(tc, usage_lists_new_options_and_variables);
	tcase_add_test(tc, tls_and_resolution_options);
	tcase_add_test(tc, bad_resolution_entries);
	tcase_add_test(tc, cert_password_never_shown);
	tcase_add_test(tc, data_and_bearer);
	tcase_add_test(tc, proxy_and_versions);
	tcase_add_test(tc, cookies_and_files);
	tcase_add_test(tc, one_option_reads_stdin);
	tcase_add_test(tc, other_names_for_stdin_read_it);
	tcase_add_test(tc, cookie_jar_on_stdout_needs_records);
	tcase_add_test(tc, output_dir_checked_when_parsed);
	tcase_add_test(tc, max_filesize_and_compressed);
	suite_add_tcase(s, tc);
	return s;
}
