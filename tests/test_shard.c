/* test_shard.c: the shard module, shard.h, and fetch_urls --shard. */

#define _POSIX_C_SOURCE 200809L

#include <sys/wait.h>

#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/shard.h"
#include "e2e.h"
#include "suites.h"

/* Shards of the end-to-end tests. */
#define NSHARDS	3

START_TEST(parse_accepts_k_below_n)
{
	static const struct {
		const char	*s;
		size_t		 k, n;
	} cases[] = {
		{ "0/1", 0, 1 }, { "3/4", 3, 4 }, { "007/010", 7, 10 },
		{ "999999/1000000", 999999, 1000000 },
	};
	struct shard sh;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sh.by = SHARD_HOST;
		why = shard_parse(cases[i].s, &sh);
		ck_assert_msg(why == NULL, "'%s' refused: %s", cases[i].s,
		    why);
		ck_assert_uint_eq(sh.k, cases[i].k);
		ck_assert_uint_eq(sh.n, cases[i].n);
		ck_assert_msg(sh.by == SHARD_HOST, "'%s' changed by",
		    cases[i].s);
	}
}
END_TEST

START_TEST(parse_refuses_junk_and_leaves_shard_alone)
{
	static const char *const bad[] = {
		"", "/", "1", "1/", "/2", "4/4", "5/4", "0/0", "1/0", "-1/2",
		"+1/2", " 1/2", "1/ 2", "1/2 ", "1/2/3", "1.0/2", "0x1/2",
		"1/2x", "1:2", "99999999999999999999/1",
		"1/99999999999999999999", "0/1000001", "1000000/1000000",
	};
	struct shard sh;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sh.k = 11;
		sh.n = 22;
		why = shard_parse(bad[i], &sh);
		ck_assert_msg(why != NULL, "'%s' accepted as %zu/%zu", bad[i],
		    sh.k, sh.n);
		ck_assert_msg(sh.k == 11 && sh.n == 22, "'%s' changed the "
		    "shard to %zu/%zu", bad[i], sh.k, sh.n);
	}
	ck_assert_ptr_nonnull(strstr(shard_parse("4/4", &sh), "below"));
	ck_assert_ptr_nonnull(strstr(shard_parse("0/0", &sh), "least 1"));
}
END_TEST

START_TEST(parse_by_line_or_host_only)
{
	enum shard_by by = SHARD_LINE;

	ck_assert_int_eq(shard_parse_by("host", &by), 0);
	ck_assert_int_eq(by, SHARD_HOST);
	ck_assert_int_eq(shard_parse_by("line", &by), 0);
	ck_assert_int_eq(by, SHARD_LINE);
	ck_assert_int_eq(shard_parse_by("HOST", &by), -1);
	ck_assert_int_eq(shard_parse_by("", &by), -1);
	ck_assert_int_eq(shard_parse_by("hosts", &by), -1);
	ck_assert_int_eq(by, SHARD_LINE);
}
END_TEST

START_TEST(host_of_every_form_of_url)
{
	static const struct {
		const char	*url;
		const char	*host;
	} cases[] = {
		{ "http://example.com/x", "example.com" },
		{ "https://user:pw@Example.COM:8443/p?q#f", "Example.COM" },
		{ "HTTP://HOST", "HOST" },
		{ "example.com", "example.com" },
		{ "example.com:8080/path", "example.com" },
		{ "localhost:8080", "localhost" },
		{ "user:pw@host:1/x", "host" },
		{ "http://a@b:c@host/", "host" },
		{ "http://host?x=@evil.test", "host" },
		{ "http://host#@evil.test", "host" },
		{ "http://host/@evil.test", "host" },
		{ "http://[::1]:8080/", "::1" },
		{ "http://u:p@[::1]/", "::1" },
		{ "http://[FE80::1%25eth0]/", "FE80::1%25eth0" },
		{ "[::1]:80/x", "::1" },
		{ "svn+ssh.x-y://h/x", "h" },
		{ "http:/host/x", "host" },
		{ "http:///host", "host" },
		{ "1host:80/x", "1host" },
		{ "http://", "" },
		{ "http://user@", "" },
		{ "", "" },
		{ "/path", "" },
	};
	size_t i, off, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off = shard_host(cases[i].url, strlen(cases[i].url), &len);
		ck_assert_msg(off + len <= strlen(cases[i].url) &&
		    len == strlen(cases[i].host) &&
		    memcmp(cases[i].url + off, cases[i].host, len) == 0,
		    "host of '%s' is '%.*s', want '%s'", cases[i].url,
		    (int)len, cases[i].url + off, cases[i].host);
	}
}
END_TEST

/* The length given is the URL's: the bytes after it are not read. */
START_TEST(host_within_len)
{
	const char *s = "http://host.example/x";
	size_t off, len;

	off = shard_host(s, strlen("http://ho"), &len);
	ck_assert_uint_eq(off, 7);
	ck_assert_uint_eq(len, 2);
}
END_TEST

/* Test vectors of the FNV-1a reference code; letters in any case. */
START_TEST(hash_is_fnv1a_64_of_lower_case)
{
	ck_assert(shard_hash("", 0) == 0xcbf29ce484222325ULL);
	ck_assert(shard_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	ck_assert(shard_hash("foobar", 6) == 0x85944171f73967e8ULL);
	ck_assert(shard_hash("FooBAR", 6) == 0x85944171f73967e8ULL);
	ck_assert(shard_hash("foobarX", 6) == 0x85944171f73967e8ULL);
}
END_TEST

START_TEST(line_shards_by_urlnum_mod_n)
{
	struct shard sh = { 0, 3, SHARD_LINE };
	size_t num, mine;

	for (num = 0; num < 30; num++) {
		mine = 0;
		for (sh.k = 0; sh.k < sh.n; sh.k++)
			if (shard_mine(&sh, num, "http://h/", 9)) {
				mine++;
				ck_assert_uint_eq(sh.k, num % 3);
			}
		ck_assert_uint_eq(mine, 1);
	}
}
END_TEST

START_TEST(no_shard_keeps_everything)
{
	struct shard sh = { 0, 0, SHARD_HOST };

	ck_assert(shard_mine(&sh, 0, "http://a/", 9));
	ck_assert(shard_mine(&sh, 12345, "", 0));
}
END_TEST

/* Returns the one shard of n that has url by host; fails if not one. */
static size_t
host_shard(const char *url, size_t n)
{
	struct shard sh = { 0, n, SHARD_HOST };
	size_t k = n, mine = 0;

	for (sh.k = 0; sh.k < n; sh.k++)
		if (shard_mine(&sh, sh.k * 7, url, strlen(url))) {
			k = sh.k;
			mine++;
		}
	ck_assert_msg(mine == 1, "'%s' is in %zu shards of %zu", url, mine,
	    n);
	return k;
}

START_TEST(host_shard_ignores_all_but_the_host)
{
	static const char *const same[] = {
		"http://Web.Example/a", "https://web.example:8443/b?c",
		"WEB.EXAMPLE", "user:pw@web.example:80/d",
		"http://x@WEB.example#e",
	};
	size_t i, n, k;

	for (n = 1; n <= 16; n++) {
		k = host_shard(same[0], n);
		ck_assert_uint_eq(k, shard_hash("web.example", 11) % n);
		for (i = 1; i < sizeof(same) / sizeof(same[0]); i++)
			ck_assert_msg(host_shard(same[i], n) == k, "'%s' not "
			    "in shard %zu of %zu with '%s'", same[i], k, n,
			    same[0]);
	}
}
END_TEST

/* 4000 host names over 4 shards: none gets less than a fifth. */
START_TEST(host_shards_spread_hosts)
{
	size_t count[4] = { 0, 0, 0, 0 }, i;
	char url[64];

	for (i = 0; i < 4000; i++) {
		snprintf(url, sizeof(url), "http://h%zu.example/", i);
		count[host_shard(url, 4)]++;
	}
	for (i = 0; i < 4; i++)
		ck_assert_msg(count[i] > 800, "shard %zu got %zu of 4000", i,
		    count[i]);
}
END_TEST

Suite *
shard_suite(void)
{
	Suite *s = suite_create("shard");
	TCase *tc = tcase_create("shard");

	tcase_add_test(tc, parse_accepts_k_below_n);
	tcase_add_test(tc, parse_refuses_junk_and_leaves_shard_alone);
	tcase_add_test(tc, parse_by_line_or_host_only);
	tcase_add_test(tc, host_of_every_form_of_url);
	tcase_add_test(tc, host_within_len);
	tcase_add_test(tc, hash_is_fnv1a_64_of_lower_case);
	tcase_add_test(tc, line_shards_by_urlnum_mod_n);
	tcase_add_test(tc, no_shard_keeps_everything);
	tcase_add_test(tc, host_shard_ignores_all_but_the_host);
	tcase_add_test(tc, host_shards_spread_hosts);
	suite_add_tcase(s, tc);
	return s;
}

/* fetch_urls --shard, end to end. */

/*
 * Runs fetch_urls --shard k/NSHARDS for every k, with the extra
 * arguments, a -w format of "urlnum url", and the list file on -i; fills
 * shard_of[urlnum] with the shard that printed it and got[urlnum] with
 * its URL, failing on a URL printed twice or a urlnum out of range.
 */
static void
run_shards(const char *by, const char *file, const char *arg, size_t nurls,
    int *shard_of, char **got)
{
	char *args[] = { "-q", "-m", "5", "--shard-by", (char *)by, "--shard",
	    NULL, "-w", "%{urlnum} %{url}\\n", "-i", (char *)file,
	    (char *)arg };
	struct proc *p;
	size_t i, num;
	int k, off, code;

	for (i = 0; i < nurls; i++)
		shard_of[i] = -1;
	for (k = 0; k < NSHARDS; k++) {
		args[6] = e2e_fmt("%d/%d", k, NSHARDS);
		p = e2e_rawv(20, sizeof(args) / sizeof(args[0]) -
		    (arg == NULL), args);
		code = e2e_code(p);
		ck_assert_msg(code == 0 || code == 1, "--shard %s: exit %d: "
		    "%s", args[6], code, proc_msg(&p->ebuf));
		for (i = 0; i < p->nlines; i++) {
			ck_assert_msg(sscanf(p->lines[i], "%zu %n", &num,
			    &off) == 1 && num < nurls, "--shard %s: line "
			    "'%s'", args[6], p->lines[i]);
			ck_assert_msg(shard_of[num] == -1, "urlnum %zu in "
			    "shards %d and %d", num, shard_of[num], k);
			shard_of[num] = k;
			got[num] = e2e_fmt("%s", p->lines[i] + off);
		}
	}
	for (i = 0; i < nurls; i++)
		ck_assert_msg(shard_of[i] != -1, "urlnum %zu in no shard", i);
}

/*
 * A URL argument and a list with comments, blank lines, credentials and
 * a URL without a scheme: each URL in one shard, with its urlnum in the
 * whole input, by line; each fetched once.
 */
START_TEST(line_shards_fetch_each_url_once_with_its_urlnum)
{
	enum { N = 20 };
	char *key = e2e_key(), *want[N], *got[N], *text = "";
	const char *file;
	int shard_of[N];
	size_t i;

	for (i = 0; i < N; i++) {
		if (i % 5 == 1)
			want[i] = e2e_fmt("http://user:s3cret@127.0.0.1:%d/"
			    "delay/1?key=%s&n=%zu", e2e_fx.http, key, i);
		else if (i % 5 == 2)
			want[i] = e2e_fmt("127.0.0.1:%d/delay/1?key=%s&n=%zu",
			    e2e_fx.http, key, i);
		else
			want[i] = e2e_url("/delay/1?key=%s&n=%zu", key, i);
		if (i > 0)
			text = e2e_fmt("%s%s  %s\n%s", text,
			    i % 4 == 0 ? "\n# a comment\n" : "", want[i],
			    i % 3 == 0 ? "   \n" : "");
	}
	file = e2e_write_tmpfile(text);
	run_shards("line", file, want[0], N, shard_of, got);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(shard_of[i], (int)(i % NSHARDS));
		if (i % 5 == 1)
			want[i] = e2e_fmt("http://***@127.0.0.1:%d/delay/1?"
			    "key=%s&n=%zu", e2e_fx.http, key, i);
		ck_assert_msg(strcmp(got[i], want[i]) == 0, "urlnum %zu is "
		    "'%s', want '%s'", i, got[i], want[i]);
	}
	ck_assert_int_eq(e2e_count(key, "").requests, N);
}
END_TEST

/*
 * URLs of many hosts, in capitals and not, with user names and ports:
 * every URL in one shard, and all of one host's in the same one.
 * Nothing listens on port 9: the requests are refused at once.
 */
START_TEST(host_shards_keep_each_host_together)
{
	enum { NHOSTS = 12, N = NHOSTS * 4 };
	char *want[N], *got[N], *text = "", host[32];
	const char *file;
	int shard_of[N], host_shard[NHOSTS];
	size_t i, h, used = 0;

	for (i = 0; i < N; i++) {
		h = i % NHOSTS;
		if (h == 0)
			snprintf(host, sizeof(host), "%s", i % 8 ?
			    "LocalHost" : "localhost");
		else
			snprintf(host, sizeof(host), "127.0.0.%zu", h);
		want[i] = e2e_fmt(i % 3 == 0 ? "http://%s:9/%zu" :
		    i % 3 == 1 ? "%s:9/%zu" : "http://u@%s:9/%zu", host, i);
		text = e2e_fmt("%s%s\n", text, want[i]);
	}
	file = e2e_write_tmpfile(e2e_fmt("# hosts\n\n%s", text));
	run_shards("host", file, NULL, N, shard_of, got);
	for (h = 0; h < NHOSTS; h++)
		host_shard[h] = -1;
	for (i = 0; i < N; i++) {
		h = i % NHOSTS;
		if (host_shard[h] == -1) {
			host_shard[h] = shard_of[i];
			used |= 1u << shard_of[i];
		}
		ck_assert_msg(shard_of[i] == host_shard[h], "'%s' in shard "
		    "%d, its host's other URLs in %d", want[i], shard_of[i],
		    host_shard[h]);
		if (i % 3 == 2)
			want[i] = e2e_fmt("http://***@%s", want[i] + 9);
		ck_assert_msg(strcmp(got[i], want[i]) == 0, "urlnum %zu is "
		    "'%s', want '%s'", i, got[i], want[i]);
	}
	ck_assert_msg(used == (1u << NSHARDS) - 1, "12 hosts did not use "
	    "every one of %d shards", NSHARDS);
}
END_TEST

/*
 * examples/cluster/merge_shards reads the input and hides credentials as
 * fetch_urls does: a byte-order mark, credentials after "//" alone or
 * with a '?' or '#' in them, and bytes that are not UTF-8.  Nothing
 * listens on port 9.
 */
START_TEST(merge_shards_reads_the_input_as_fetch_urls_does)
{
	static const char text[] = "\xef\xbb\xbf# comment\n"
	    "http://u:p?w@127.0.0.1:9/c\n//u:pw@127.0.0.1:9/d\n"
	    "http://u:p#w@127.0.0.1:9/e\nhttp://127.0.0.1:9?x@y/z\n"
	    "http://127.0.0.1:9/a\xf0\x9f\x98(\nhttp://127.0.0.1:9/d\xe2\x82\n";
	const char *file = e2e_write_tmpfile(text), *src = getenv("TEST_SRCDIR");
	char *argv[5];
	struct proc *p;
	FILE *fp;

	ck_assert_msg(src != NULL, "set TEST_SRCDIR to the source tree");
	argv[0] = e2e_fmt("%s/examples/cluster/merge_shards", src);
	argv[1] = (char *)file;
	for (int k = 0; k < 2; k++) {
		p = e2e_run(NULL, 15, "-q", "--json", "--shard", k == 0 ?
		    "0/2" : "1/2", "-i", file, NULL);
		e2e_expect_code(p, 1);
		argv[2 + k] = e2e_fmt("%s.%d.json", file, k);
		ck_assert_ptr_nonnull(fp = fopen(argv[2 + k], "w"));
		ck_assert_int_eq(fputs(proc_str(&p->obuf), fp) < 0, 0);
		ck_assert_int_eq(fclose(fp), 0);
	}
	argv[4] = NULL;
	p = e2e_exec(NULL, 15, argv, true);
	(void)unlink(argv[2]);
	(void)unlink(argv[3]);
	ck_assert_msg(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0,
	    "merge_shards refused the shards (status %d):\n%s%s", p->status,
	    proc_msg(&p->ebuf), proc_msg(&p->obuf));
	ck_assert_msg(strstr(proc_str(&p->ebuf), "6 URLs") != NULL, "%s",
	    proc_msg(&p->ebuf));
}
END_TEST

/* A shard none of the input falls to has nothing to do: it succeeds. */
START_TEST(empty_shard_succeeds_without_a_request)
{
	char *key = e2e_key();
	struct proc *p;

	p = e2e_run(NULL, 10, "--json", "--shard", "1/2",
	    e2e_url("/status/500?key=%s", key), NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->obuf.len == 0, "stdout: %s", proc_msg(&p->obuf));
	ck_assert_int_eq(e2e_count(key, "").requests, 0);
}
END_TEST

Suite *
shard_e2e_suite(void)
{
	Suite *s = suite_create("shard_e2e");
	TCase *tc = tcase_create("shard_e2e");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, line_shards_fetch_each_url_once_with_its_urlnum);
	tcase_add_test(tc, host_shards_keep_each_host_together);
	tcase_add_test(tc, empty_shard_succeeds_without_a_request);
	tcase_add_test(tc, merge_shards_reads_the_input_as_fetch_urls_does);
	suite_add_tcase(s, tc);
	return s;
}
