/* End-to-end tests of proxies and HTTP versions (issue 16). */

/*
 * The fixture is its own forward proxy: a request for an absolute
 * http:// URI is forwarded with X-Via-Proxy added, and the request the
 * proxy got is kept for /seen/proxy/K.  The tests start without the
 * proxy variables of the environment, and set the ones they test.
 */

#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <poll.h>
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
ep_setup(void)
{
	static const char *const vars[] = { "http_proxy", "HTTPS_PROXY",
	    "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	e2e_setup();
}

/* The fixture as a proxy, with the given "user:pass@" or "". */
static char *
ep_proxy(const char *creds)
{
	return e2e_fmt("http://%s127.0.0.1:%d", creds, e2e_fx.http);
}

/* A URL the proxy forwards to the fixture, under key. */
static char *
ep_url(const char *key)
{
	return e2e_fmt("http://localhost:%d/headers?key=%s", e2e_fx.http,
	    key);
}

/* Whether the fixture saw the request of key come through the proxy. */
static bool
ep_proxied(const char *key)
{
	char *seen = e2e_get(e2e_fmt("/seen/%s", key));

	return strstr(seen, "[\"X-Via-Proxy\", \"fixture\"]") != NULL;
}

/*
 * Runs fetch_urls on ep_url(key) with the arguments before it (up to 4,
 * the first NULL ends them), and expects success.
 */
static void
ep_fetch(const char *key, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	const char *given[] = { a1, a2, a3, a4 };
	char *args[5];
	size_t n = 0;

	while (n < 4 && given[n] != NULL) {
		args[n] = (char *)given[n];
		n++;
	}
	args[n++] = ep_url(key);
	e2e_expect_code(e2e_rawv(15, n, args), 0);
}

START_TEST(proxy_forwards_every_url)
{
	char *k1 = e2e_key(), *k2 = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "-x", ep_proxy(""), ep_url(k1), ep_url(k2), NULL);
	e2e_expect_code(p, 0);
	ck_assert(ep_proxied(k1) && ep_proxied(k2));
	seen = e2e_get(e2e_fmt("/seen/proxy/%s", k1));
	ck_assert_msg(strstr(seen, e2e_fmt("\"path\": \"%s\"", ep_url(k1))) !=
	    NULL, "the proxy saw %s", seen);
	/* Without a scheme, as curl takes it; and not without -x. */
	ep_fetch(k1, "--proxy", e2e_fmt("127.0.0.1:%d", e2e_fx.http), NULL,
	    NULL);
	ck_assert(ep_proxied(k1));
	ep_fetch(k1, NULL, NULL, NULL, NULL);
	ck_assert(!ep_proxied(k1));
}
END_TEST

/* A proxy's credentials are sent to it and never printed. */
START_TEST(proxy_credentials_never_printed)
{
	static const char *const forms[][2] = {
		{ "--format", "text" }, { "--format", "json" },
		{ "--format", "csv" }, { "-w", "%{url} %{errormsg}\\n" },
	};
	char *key = e2e_key(), *seen;
	struct proc *p;

	ep_fetch(key, "-x", ep_proxy("pu:s3cretp@"), NULL, NULL);
	seen = e2e_get(e2e_fmt("/seen/proxy/%s", key));
	/* base64("pu:s3cretp") */
	ck_assert_msg(strstr(seen, "[\"Proxy-Authorization\", \"Basic "
	    "cHU6czNjcmV0cA==\"]") != NULL, "the proxy saw %s", seen);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		p = e2e_raw(15, forms[i][0], forms[i][1], "-x",
		    e2e_fmt("http://pu:s3cretp@127.0.0.1:%d",
		    proc_dead_port()), ep_url(key), NULL);
		e2e_expect_code(p, 1);
		ck_assert_msg(strstr(proc_str(&p->obuf), "s3cret") == NULL &&
		    strstr(proc_str(&p->ebuf), "s3cret") == NULL,
		    "%s %s shows the password:\n%s%s", forms[i][0],
		    forms[i][1], proc_msg(&p->obuf), proc_msg(&p->ebuf));
	}
}
END_TEST

/*
 * As -u's, a proxy's password leaves the command line that ps(1) shows
 * once the options are read, before any connection: what is left of the
 * proxy URL names the proxy still.
 */
START_TEST(proxy_password_leaves_the_command_line)
{
	char *argv[] = { NULL, "-x", NULL, NULL, NULL }, buf[4096];
	struct pollfd pfd = { .events = POLLIN };
	struct proc *p;
	ssize_t n, i;
	int port, fd;

	pfd.fd = proc_silent_listener(&port);
	argv[2] = e2e_fmt("http://pu:s3cretp@127.0.0.1:%d", port);
	argv[3] = ep_url(e2e_key());
	p = e2e_spawn(argv, NULL);
	/* Its connection to the proxy comes after the options are read. */
	ck_assert_msg(poll(&pfd, 1, 15 * 1000) == 1, "no connection");
	fd = open(e2e_fmt("/proc/%d/cmdline", (int)p->pid), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	close(fd);
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "s3cret") == NULL, "ps shows the password: "
	    "%s", buf);
	ck_assert_msg(strstr(buf, e2e_fmt(" -x http://**********@127.0.0.1:%d ",
	    port)) != NULL, "ps shows: %s", buf);
	close(pfd.fd);
}
END_TEST

/*
 * libcurl quotes a proxy it cannot use in its message as it was given,
 * from -x or from the environment, and with or without a scheme: its
 * credentials are hidden there too.
 */
START_TEST(proxy_credentials_hidden_in_libcurl_messages)
{
	static const char *const proxies[] = {
		"pu:s3cretp@127.0.0.1:99999",
		"http://pu:s3cretp@127.0.0.1:99999",
	};
	static const char *const forms[][2] = {
		{ "--format", "text" }, { "--format", "json" },
		{ "--format", "csv" }, { "-w", "%{errormsg}\\n" },
	};
	char *url = ep_url(e2e_key());
	struct proc *p;

	for (size_t i = 0; i < 2 * sizeof(proxies) / sizeof(proxies[0]);
	    i++) {
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]);
		    f++) {
			if (i % 2 == 0)
				p = e2e_raw(15, forms[f][0], forms[f][1],
				    "-x", proxies[i / 2], url, NULL);
			else {
				setenv("http_proxy", proxies[i / 2], 1);
				p = e2e_raw(15, forms[f][0], forms[f][1],
				    url, NULL);
				unsetenv("http_proxy");
			}
			e2e_expect_code(p, 1);
			ck_assert_msg(strstr(proc_str(&p->obuf),
			    "proxy syntax") != NULL &&
			    strstr(proc_str(&p->obuf), "s3cret") == NULL &&
			    strstr(proc_str(&p->ebuf), "s3cret") == NULL,
			    "%s %s with %s%s shows the password:\n%s%s",
			    forms[f][0], forms[f][1], i % 2 == 0 ? "-x " :
			    "http_proxy=", proxies[i / 2],
			    proc_msg(&p->obuf), proc_msg(&p->ebuf));
		}
	}
}
END_TEST

/* http_proxy and NO_PROXY work as libcurl has them; --noproxy wins. */
START_TEST(environment_and_noproxy)
{
	char *key = e2e_key();

	setenv("http_proxy", ep_proxy(""), 1);
	ep_fetch(key, NULL, NULL, NULL, NULL);
	ck_assert_msg(ep_proxied(key), "http_proxy not used");
	ep_fetch(key, "--noproxy", "localhost", NULL, NULL);
	ck_assert_msg(!ep_proxied(key), "--noproxy not used");
	setenv("NO_PROXY", "localhost", 1);
	ep_fetch(key, NULL, NULL, NULL, NULL);
	ck_assert_msg(!ep_proxied(key), "NO_PROXY not used");
	ep_fetch(key, "--noproxy", "other.test", NULL, NULL);
	ck_assert_msg(ep_proxied(key), "--noproxy does not replace NO_PROXY");
	unsetenv("NO_PROXY");
	unsetenv("http_proxy");
	ep_fetch(key, "-x", ep_proxy(""), "--noproxy", "*");
	ck_assert_msg(!ep_proxied(key), "--noproxy '*' not used");
}
END_TEST

/* A proxy that cannot be reached fails each URL, and only that. */
START_TEST(dead_proxy_fails_each_url)
{
	struct proc *p;

	p = e2e_raw(15, "-x", e2e_fmt("127.0.0.1:%d", proc_dead_port()),
	    "--noproxy", "127.0.0.1", "--ordered", "-w",
	    "%{http_code} %{errormsg}\\n", ep_url(e2e_key()),
	    e2e_url("/status/200"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2 && strncmp(p->lines[0], "000 Failed to "
	    "connect", 21) == 0 && strcmp(p->lines[1], "200 ") == 0,
	    "stdout:\n%s", proc_msg(&p->obuf));
}
END_TEST

/* The versions ask what curl's options ask, byte for byte. */
START_TEST(http_versions_as_curl)
{
	char *seen, *u = e2e_fmt("https://127.0.0.1:%d/status/200",
	    e2e_fx.https);
	struct proc *p;

	seen = e2e_same_as_curl(NULL, "--http2", NULL);
	ck_assert_msg(strstr(seen, "[\"Upgrade\", \"h2c\"]") != NULL,
	    "no h2c upgrade asked: %s", seen);
	seen = e2e_same_as_curl(NULL, "--http1.1", NULL);
	ck_assert_msg(strstr(seen, "Upgrade") == NULL, "%s", seen);
	/* The fixture speaks HTTP/1.1 only: these fall back, or fail. */
	p = e2e_raw(15, "-k", "--http2", "-w", "%{http_version}\\n", u, NULL);
	e2e_expect_code(p, 0);
	ck_assert_str_eq(p->lines[0], "1.1");
	p = e2e_raw(15, "--http2-prior-knowledge", "-w", "%{http_code}\\n",
	    e2e_url("/status/200"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(p->lines[0], "000");
}
END_TEST

/* For main.c: the suite of this file. */
Suite *
e2e_proxy_suite(void)
{
	Suite *s = suite_create("e2e_proxy");
	TCase *tc = tcase_create("proxy");

	tcase_add_checked_fixture(tc, ep_setup, e2e_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, proxy_forwards_every_url);
	tcase_add_test(tc, proxy_credentials_never_printed);
	tcase_add_test(tc, proxy_password_leaves_the_command_line);
	tcase_add_test(tc, proxy_credentials_hidden_in_libcurl_messages);
	tcase_add_test(tc, environment_and_noproxy);
	tcase_add_test(tc, dead_proxy_fails_each_url);
	tcase_add_test(tc, http_versions_as_curl);
	suite_add_tcase(s, tc);
	return s;
}
