/* End-to-end tests of the TLS and name-resolution options of issue 16. */

/*
 * The fixture runs with its private CA (fixture.py --pki): e2e_fx.pki
 * serves a certificate that CA signed, e2e_fx.mtls serves the same and
 * wants a client certificate the CA signed.  The tests start without the
 * environment variables that name CA certificates, and set the ones they
 * test: the fetch_urls they start inherits them.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

static bool
et_has(const struct proc_buf *b, const char *needle)
{
	return strstr(proc_str(b), needle) != NULL;
}

/* The private-CA listener's URL for path. */
static char *
et_pki_url(const char *path)
{
	return e2e_fmt("https://127.0.0.1:%d%s", e2e_fx.pki, path);
}

/*
 * Fetches the private-CA listener with args (ended by NULL) and expects
 * status 200, or (if !ok) a certificate error and exit status 1.
 */
static void
et_expect(bool ok, const char *what, ...)
{
	char *args[16];
	size_t n = 0;
	const char *a;
	struct proc *p;
	va_list ap;

	args[n++] = "-w";
	args[n++] = "%{http_code} %{errormsg}\\n";
	va_start(ap, what);
	while ((a = va_arg(ap, const char *)) != NULL && n < 14)
		args[n++] = (char *)a;
	va_end(ap);
	args[n++] = et_pki_url("/status/200");
	p = e2e_rawv(15, n, args);
	if (ok) {
		ck_assert_msg(e2e_code(p) == 0 && p->nlines == 1 &&
		    strcmp(p->lines[0], "200 ") == 0, "%s: not trusted:\n%s%s",
		    what, proc_msg(&p->obuf), proc_msg(&p->ebuf));
		return;
	}
	ck_assert_msg(e2e_code(p) == 1 && p->nlines == 1 &&
	    strncmp(p->lines[0], "000 SSL certificate problem", 27) == 0,
	    "%s: trusted, or another error:\n%s%s", what, proc_msg(&p->obuf),
	    proc_msg(&p->ebuf));
}

START_TEST(cacert_trusts_a_private_ca)
{
	et_expect(false, "no CA", NULL);
	et_expect(true, "--cacert", "--cacert", e2e_pki("ca.pem"), NULL);
	et_expect(false, "another CA", "--cacert", e2e_pki("other-ca.pem"),
	    NULL);
	et_expect(true, "-k", "-k", NULL);
}
END_TEST

START_TEST(capath_trusts_a_hashed_directory)
{
	et_expect(true, "--capath", "--capath", e2e_pki("capath"), NULL);
	/* A directory without the CA trusts nothing more. */
	et_expect(false, "empty capath", "--capath", e2e_pki("capath/.."),
	    NULL);
}
END_TEST

/*
 * As curl 7.88's tool: CURL_CA_BUNDLE, else SSL_CERT_DIR, else
 * SSL_CERT_FILE; never with --cacert, --capath or -k; empty is unset.
 */
START_TEST(ca_certificates_from_the_environment)
{
	const char *ca = e2e_pki("ca.pem"), *other = e2e_pki("other-ca.pem");

	setenv("CURL_CA_BUNDLE", ca, 1);
	et_expect(true, "CURL_CA_BUNDLE", NULL);
	et_expect(false, "--cacert over CURL_CA_BUNDLE", "--cacert", other,
	    NULL);
	setenv("SSL_CERT_FILE", other, 1);
	et_expect(true, "CURL_CA_BUNDLE over SSL_CERT_FILE", NULL);
	setenv("CURL_CA_BUNDLE", "", 1);
	setenv("SSL_CERT_FILE", ca, 1);
	et_expect(true, "empty CURL_CA_BUNDLE, SSL_CERT_FILE", NULL);
	setenv("SSL_CERT_DIR", e2e_pki("capath/.."), 1);
	et_expect(false, "SSL_CERT_DIR over SSL_CERT_FILE", NULL);
	setenv("SSL_CERT_DIR", e2e_pki("capath"), 1);
	unsetenv("SSL_CERT_FILE");
	et_expect(true, "SSL_CERT_DIR", NULL);
	unsetenv("SSL_CERT_DIR");
	et_expect(false, "none", NULL);
}
END_TEST

/*
 * A CA file from the environment that cannot be read fails the https
 * URLs with a message naming it; the http ones are fetched; -k skips it.
 */
START_TEST(bad_ca_bundle_costs_only_https)
{
	struct proc *p;

	setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem", 1);
	p = e2e_raw(15, "-w", "%{http_code} %{errormsg}\\n",
	    et_pki_url("/status/200"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 1 && strstr(p->lines[0],
	    "/nonexistent/ca.pem") != NULL, "stdout:\n%s",
	    proc_msg(&p->obuf));
	p = e2e_raw(15, "--ordered", "-w", "%{http_code}\\n",
	    e2e_url("/status/200"), et_pki_url("/status/200"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 2 && strcmp(p->lines[0], "200") == 0 &&
	    strcmp(p->lines[1], "000") == 0, "stdout:\n%s",
	    proc_msg(&p->obuf));
	et_expect(true, "-k", "-k", NULL);
}
END_TEST

/* The mutual-TLS listener's URL, fetched with args; the exit status. */
static struct proc *
et_mtls(const char *cert, const char *key)
{
	char *args[8];
	size_t n = 0;

	args[n++] = "--cacert";
	args[n++] = e2e_pki("ca.pem");
	if (cert != NULL) {
		args[n++] = "--cert";
		args[n++] = (char *)cert;
	}
	if (key != NULL) {
		args[n++] = "--key";
		args[n++] = (char *)key;
	}
	args[n++] = "--json";
	args[n++] = e2e_fmt("https://127.0.0.1:%d/status/200", e2e_fx.mtls);
	return e2e_rawv(15, n, args);
}

/* A file's content, until teardown. */
static char *
et_slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s;
	long len;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	ck_assert(fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0);
	rewind(fp);
	s = e2e_keep(calloc(1, (size_t)len + 1));
	ck_assert(fread(s, 1, (size_t)len, fp) == (size_t)len);
	fclose(fp);
	return s;
}

START_TEST(client_certificate_presented)
{
	struct proc *p;

	p = et_mtls(e2e_pki("client.pem"), e2e_pki("client-key.pem"));
	ck_assert_msg(e2e_code(p) == 0 && et_has(&p->obuf, "\"status\":200"),
	    "with --cert and --key:\n%s%s", proc_msg(&p->obuf),
	    proc_msg(&p->ebuf));
	/* A key in the certificate's file needs no --key. */
	p = et_mtls(e2e_write_tmpfile(e2e_fmt("%s%s",
	    et_slurp(e2e_pki("client.pem")),
	    et_slurp(e2e_pki("client-key.pem")))), NULL);
	ck_assert_msg(e2e_code(p) == 0 && et_has(&p->obuf, "\"status\":200"),
	    "with one file:\n%s%s", proc_msg(&p->obuf), proc_msg(&p->ebuf));
	/* Refused without one, or with one of another CA. */
	p = et_mtls(NULL, NULL);
	ck_assert_msg(e2e_code(p) == 1 && !et_has(&p->obuf, "\"status\":200"),
	    "without:\n%s%s", proc_msg(&p->obuf), proc_msg(&p->ebuf));
	p = et_mtls(e2e_pki("other.pem"), e2e_pki("other-key.pem"));
	ck_assert_msg(e2e_code(p) == 1 && !et_has(&p->obuf, "\"status\":200"),
	    "another CA's:\n%s%s", proc_msg(&p->obuf), proc_msg(&p->ebuf));
	/* A key that is not the certificate's. */
	p = et_mtls(e2e_pki("client.pem"), e2e_pki("other-key.pem"));
	ck_assert_msg(e2e_code(p) == 1 && et_has(&p->obuf, "key"),
	    "the wrong key:\n%s%s", proc_msg(&p->obuf), proc_msg(&p->ebuf));
}
END_TEST

/* --resolve sends a name nobody resolves to the fixture, TLS included. */
START_TEST(resolve_sends_a_made_up_name_to_loopback)
{
	char *key = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "--resolve", e2e_fmt("made-up.test:%d:127.0.0.1",
	    e2e_fx.http), "--resolve", e2e_fmt("pki.test:%d:127.0.0.1",
	    e2e_fx.pki), "--cacert", e2e_pki("ca.pem"), "--ordered",
	    "-w", "%{http_code} %{errormsg}\\n",
	    e2e_fmt("http://made-up.test:%d/headers?key=%s", e2e_fx.http,
	    key), e2e_fmt("https://pki.test:%d/status/200", e2e_fx.pki),
	    NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 2 && strcmp(p->lines[0], "200 ") == 0 &&
	    strcmp(p->lines[1], "200 ") == 0, "stdout:\n%s",
	    proc_msg(&p->obuf));
	seen = e2e_get(e2e_fmt("/seen/%s", key));
	ck_assert_msg(strstr(seen, e2e_fmt("[\"Host\", \"made-up.test:%d\"]",
	    e2e_fx.http)) != NULL, "fixture saw %s", seen);
}
END_TEST

/* --connect-to keeps the URL's name, and connects elsewhere. */
START_TEST(connect_to_keeps_the_host_name)
{
	char *key = e2e_key(), *seen;
	struct proc *p;

	p = e2e_raw(15, "--connect-to", e2e_fmt("elsewhere.test:80:"
	    "127.0.0.1:%d", e2e_fx.http), "--connect-to",
	    e2e_fmt("pki.test::localhost:%d", e2e_fx.pki), "--cacert",
	    e2e_pki("ca.pem"), "--ordered", "-w", "%{http_code}\\n",
	    e2e_fmt("http://elsewhere.test/headers?key=%s", key),
	    "https://pki.test/status/200", NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 2 && strcmp(p->lines[0], "200") == 0 &&
	    strcmp(p->lines[1], "200") == 0, "stdout:\n%s",
	    proc_msg(&p->obuf));
	seen = e2e_get(e2e_fmt("/seen/%s", key));
	ck_assert_msg(strstr(seen, "[\"Host\", \"elsewhere.test\"]") != NULL,
	    "fixture saw %s", seen);
}
END_TEST

/*
 * With the fixture on ::1 and a name for both 127.0.0.1 and ::1, -6
 * reaches it and -4 cannot.
 */
START_TEST(ipv4_and_ipv6_choose_the_address)
{
	struct proc *p;
	char *resolve, *url;

	proc_fixture_start_host(&e2e_fx, e2e_prog, "::1");
	resolve = e2e_fmt("dual.test:%d:127.0.0.1,::1", e2e_fx.http);
	url = e2e_fmt("http://dual.test:%d/status/200", e2e_fx.http);
	p = e2e_raw(15, "--resolve", resolve, "-w", "%{http_code}\\n", url,
	    NULL);
	e2e_expect_code(p, 0);
	p = e2e_raw(15, "-6", "--resolve", resolve, "-w", "%{http_code}\\n",
	    url, NULL);
	e2e_expect_code(p, 0);
	p = e2e_raw(15, "--ipv4", "--resolve", resolve, "-w",
	    "%{http_code} %{errormsg}\\n", url, NULL);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == 1 && strstr(p->lines[0], "connect") !=
	    NULL, "stdout:\n%s", proc_msg(&p->obuf));
	/* The last of -4 and -6 counts, as in curl. */
	p = e2e_raw(15, "-4", "--ipv6", "--resolve", resolve, url, NULL);
	e2e_expect_code(p, 0);
}
END_TEST

/* Bad files are usage errors that name them, before any request. */
START_TEST(bad_files_are_usage_errors)
{
	static const char *const opts[] = { "--cacert", "--capath", "--cert",
	    "--key" };
	struct proc *p;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		p = e2e_raw(15, opts[i], "/nonexistent/x.pem",
		    e2e_url("/status/200"), NULL);
		e2e_expect_code(p, 2);
		ck_assert_msg(p->nlines == 0 && strstr(proc_str(&p->ebuf),
		    e2e_fmt("%s '/nonexistent/x.pem': No such file", opts[i]))
		    != NULL, "%s:\n%s", opts[i], proc_msg(&p->ebuf));
	}
	p = e2e_raw(15, "--capath", e2e_pki("ca.pem"), e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ck_assert_msg(et_has(&p->ebuf, "': Not a directory"), "stderr:\n%s",
	    proc_msg(&p->ebuf));
	p = e2e_raw(15, "--cacert", e2e_pki("capath"), e2e_url("/"), NULL);
	e2e_expect_code(p, 2);
	ck_assert_msg(et_has(&p->ebuf, "': Is a directory"), "stderr:\n%s",
	    proc_msg(&p->ebuf));
}
END_TEST

/* For main.c: the suite of this file. */
Suite *
e2e_tls_suite(void)
{
	Suite *s = suite_create("e2e_tls");
	TCase *tc = tcase_create("tls");
	TCase *tn = tcase_create("names");

	tcase_add_checked_fixture(tc, e2e_setup_pki, e2e_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cacert_trusts_a_private_ca);
	tcase_add_test(tc, capath_trusts_a_hashed_directory);
	tcase_add_test(tc, ca_certificates_from_the_environment);
	tcase_add_test(tc, bad_ca_bundle_costs_only_https);
	tcase_add_test(tc, client_certificate_presented);
	tcase_add_test(tc, resolve_sends_a_made_up_name_to_loopback);
	tcase_add_test(tc, connect_to_keeps_the_host_name);
	tcase_add_test(tc, bad_files_are_usage_errors);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tn, e2e_setup_prog, e2e_teardown);
	tcase_set_timeout(tn, 60);
	tcase_add_test(tn, ipv4_and_ipv6_choose_the_address);
	suite_add_tcase(s, tn);
	return s;
}
