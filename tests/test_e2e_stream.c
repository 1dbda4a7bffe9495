/* test_e2e_stream.c: input as a stream, stopping, --records and --resume. */

/*
 * Every test runs the binary named by FETCH_URLS against the fixture, as
 * test_e2e.c does.  Records files are checked by a real parser: a short
 * Python program (json and csv modules) that proves each input URL has
 * exactly one record, under its number.
 */

#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

/* A directory of this test's files, made by st_setup(). */
static char st_dir[] = "/tmp/e2e_stream.XXXXXX";

static void
st_setup(void)
{
	e2e_setup();
	ck_assert_msg(mkdtemp(st_dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void
st_teardown(void)
{
	DIR *d = opendir(st_dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			(void)unlink(e2e_fmt("%s/%s", st_dir, e->d_name));
	if (d != NULL)
		closedir(d);
	(void)rmdir(st_dir);
	e2e_teardown();
}

/* A file of st_dir named name, holding text (NULL: not made). */
static char *
st_file(const char *name, const char *text)
{
	char *path = e2e_fmt("%s/%s", st_dir, name);
	FILE *fp;

	if (text != NULL) {
		fp = fopen(path, "w");
		ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
		ck_assert_int_eq(fputs(text, fp) < 0, 0);
		ck_assert_int_eq(fclose(fp), 0);
	}
	return path;
}

/*
 * Starts fetch_urls with argv (argv[0] set here) and its standard input a
 * pipe whose write end goes to *in, for the test to feed and close.
 */
static struct proc *
st_spawn_fed(char **argv, int *in)
{
	struct proc *p = calloc(1, sizeof(*p));
	int ip[2], op[2], ep[2];

	ck_assert_ptr_nonnull(p);
	argv[0] = (char *)e2e_prog;
	proc_pipe(ip);
	proc_pipe(op);
	proc_pipe(ep);
	p->in = -1;
	e2e_track(p);
	p->start = proc_now();
	p->pid = proc_spawn_fds(argv, ip[0], op[1], ep[1]);
	close(ip[0]);
	close(op[1]);
	close(ep[1]);
	p->out = op[0];
	p->err = ep[0];
	*in = ip[1];
	return p;
}

static void
st_write(int fd, const char *s)
{
	size_t len = strlen(s);

	ck_assert_msg(write(fd, s, len) == (ssize_t)len, "write: %s",
	    strerror(errno));
}

/*
 * The first URL is fetched and printed while the input is still open: a
 * writer that feeds lines slowly, as `tail -f urls | fetch_urls -i -`.
 */
START_TEST(first_result_before_the_input_ends)
{
	char *argv[5] = { NULL, "-i", "-", "--no-progress", NULL };
	char *a = e2e_url("/status/200?n=1"), *b = e2e_url("/status/201");
	struct proc *p;
	int in;

	p = st_spawn_fed(argv, &in);
	st_write(in, e2e_fmt("# a comment, then a URL\n%s\n", a));
	ck_assert_msg(proc_pump(p, p->start + 10, proc_has_lines, 1),
	    "no result while the input is open:\n%s", proc_msg(&p->obuf));
	ck_assert_msg(strncmp(p->obuf.p, a, strlen(a)) == 0, "first: %s",
	    proc_msg(&p->obuf));
	st_write(in, e2e_fmt("%s\n", b));
	ck_assert_msg(proc_pump(p, p->start + 10, proc_has_lines, 2),
	    "no second result:\n%s", proc_msg(&p->obuf));
	close(in);
	proc_reap(p, proc_now() + 10);
	e2e_expect_code(p, 0);
	ck_assert_msg(strstr(proc_str(&p->obuf), "Total time: ") != NULL,
	    "%s", proc_msg(&p->obuf));
}
END_TEST

/* An input with no URLs is a run with nothing to do, not an error. */
START_TEST(empty_input_is_a_successful_run)
{
	const char *comments = st_file("comments", "# nothing\n\n   \n#\n");
	struct proc *p;

	p = e2e_run(NULL, 10, "-i", "/dev/null", NULL);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 1 && strncmp(p->lines[0], "Total time: ",
	    12) == 0, "stdout:\n%s", proc_msg(&p->obuf));
	p = e2e_run(NULL, 10, "--json", "-i", comments, NULL);
	e2e_expect_code(p, 0);
	ck_assert_uint_eq(p->obuf.len, 0);
}
END_TEST

/* A UTF-8 byte-order mark starts the file, not the first URL. */
START_TEST(byte_order_mark_skipped)
{
	char *u = e2e_url("/status/200");
	const char *file = st_file("bom", e2e_fmt("\xef\xbb\xbf%s\n", u));
	struct proc *p = e2e_run(NULL, 10, "-i", file, NULL);

	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == 2 && strncmp(p->lines[0], u, strlen(u)) ==
	    0 && strstr(p->lines[0], " \t 200") != NULL, "stdout:\n%s",
	    proc_msg(&p->obuf));
}
END_TEST

/*
 * Stopping costs no time per queued URL: a million URLs on the way, the
 * deadline ends the run at once, each URL read reports cancelled once,
 * and far fewer than a million were read.
 */
START_TEST(deadline_stops_at_once_with_a_million_queued)
{
	char *argv[10] = { NULL, "-j", "50", "--deadline", "1", "-w",
	    "%{errormsg}\\n", "-i", "-", NULL };
	char *hang = e2e_url("/hang"), *line;
	size_t cancelled = 0;
	struct proc *p;
	int in, i;
	double v[2];

	p = st_spawn_fed(argv, &in);
	/* The writer stops when the pipe is full: it is never read dry. */
	(void)fcntl(in, F_SETFL, O_NONBLOCK);
	line = e2e_fmt("%s\n", hang);
	for (i = 0; i < 1000000; i++)
		if (write(in, line, strlen(line)) < 0)
			break;
	proc_reap(p, p->start + 20);
	close(in);
	ck_assert_msg(!p->killed, "still running after 20 s");
	e2e_expect_code(p, 3);
	ck_assert_msg(p->end - p->start < 1 + 0.5 + E2E_SLACK,
	    "took %.2f s", p->end - p->start);
	for (const char *s = proc_str(&p->obuf); (s = strstr(s,
	    "cancelled (deadline reached)\n")) != NULL; s++)
		cancelled++;
	ck_assert_msg(proc_match(proc_str(&p->ebuf), "Summary: 0 succeeded, 0 "
	    "got HTTP status >= 400, ([0-9]+) failed", v, 1), "stderr:\n%s",
	    proc_msg(&p->ebuf));
	/*
	 * At most 50 in flight and a queue of 50, give or take the one on
	 * hand (fewer when workers start slowly, as under a sanitizer).
	 */
	ck_assert_msg(cancelled == (size_t)v[0] && cancelled >= 1 &&
	    cancelled <= 101, "%zu cancelled lines, %.0f failed", cancelled,
	    v[0]);
}
END_TEST

/*
 * --ordered holds back reading while the first URL is in flight: at most
 * its window of 64 URLs (the least there is) is read meanwhile.  The
 * first URL stops halfway through its body until the test lets it go: a
 * fixed delay could end before a slow build has read its 64th URL.
 */
START_TEST(ordered_reads_no_further_than_its_window)
{
	char *key = e2e_key(), *fast = e2e_url("/status/200?key=%s", key);
	char *gate = e2e_key();
	char *argv[7] = { NULL, "-j", "2", "--ordered", "-i", NULL, NULL };
	struct e2e_counts c;
	struct proc_buf in = { 0 };
	char *slow = e2e_url("/numbers/8?wait=%s", gate);
	const char *file;
	struct proc *p;

	proc_buf_add(&in, slow, strlen(slow));
	proc_buf_add(&in, "\n", 1);
	for (int i = 0; i < 300; i++) {
		proc_buf_add(&in, fast, strlen(fast));
		proc_buf_add(&in, "\n", 1);
	}
	file = st_file("ordered", in.p);
	free(in.p);
	argv[5] = (char *)file;
	p = e2e_spawn(argv, NULL);
	/*
	 * The slow URL holds one token of the 64, the fast ones the rest:
	 * waits for the 63rd request, then up to 1.5 s for a 64th.
	 */
	c = e2e_count(key, "?until_requests=63");
	ck_assert_int_eq(c.requests, 63);
	c = e2e_count(key, "?until_requests=64&timeout=1.5");
	ck_assert_msg(c.requests == 63, "%d requests while the first URL is "
	    "in flight", c.requests);
	(void)e2e_get(e2e_fmt("/status/200?key=%s", gate));
	proc_reap(p, proc_now() + 15);
	e2e_expect_code(p, 0);
	ck_assert_uint_eq(p->nlines, 302);
	ck_assert_msg(strncmp(p->lines[0], slow, strlen(slow)) == 0, "%s",
	    p->lines[0]);
	ck_assert_int_eq(e2e_count(key, "").requests, 300);
}
END_TEST

/*
 * Checks the records file with Python: one complete record per URL of the
 * input file, each under its number, none twice; the URL matched without
 * its credentials.  fmt is json, csv or w (-w '%{urlnum} %{url} ...').
 */
static void
st_check_records(const char *fmt, const char *records, const char *input)
{
	static const char prog[] =
	    "import csv, json, re, sys\n"
	    "fmt, rec, inp = sys.argv[1:4]\n"
	    "urls = [l.strip() for l in open(inp, encoding='utf-8')]\n"
	    "urls = [u for u in urls if u and not u.startswith('#')]\n"
	    "urls = [re.sub(r'//[^/@]*@', '//***@', u) for u in urls]\n"
	    "seen = {}\n"
	    "raw = open(rec, encoding='utf-8', newline='').read()\n"
	    "assert raw == '' or raw.endswith('\\n'), 'torn last line'\n"
	    "if fmt == 'json':\n"
	    "    rows = [json.loads(l) for l in raw.splitlines()]\n"
	    "    rows = [(r['urlnum'], r['url']) for r in rows]\n"
	    "elif fmt == 'csv':\n"
	    "    rows = list(csv.DictReader(raw.splitlines()))\n"
	    "    rows = [(int(r['urlnum']), r['url']) for r in rows]\n"
	    "else:\n"
	    "    rows = [l.split(' ')[:2] for l in raw.splitlines()]\n"
	    "    rows = [(int(n), u) for n, u in rows]\n"
	    "for n, u in rows:\n"
	    "    assert n not in seen, 'urlnum %d twice' % n\n"
	    "    assert urls[n] == u, '%d: %s, not %s' % (n, u, urls[n])\n"
	    "    seen[n] = u\n"
	    "assert len(seen) == len(urls), '%d of %d' % (len(seen), "
	    "len(urls))\n"
	    "print('ok', len(seen))\n";
	char *argv[7] = { "python3", "-c", (char *)prog, (char *)fmt,
	    (char *)records, (char *)input, NULL };
	struct proc *c = e2e_exec(NULL, 30, argv, false);

	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0,
	    "%s records rejected: %s%s", fmt, proc_msg(&c->obuf),
	    proc_msg(&c->ebuf));
}

/*
 * A list of n fixture URLs, some with credentials, as the input file
 * name, with comments and blank lines.
 */
static const char *
st_list(const char *name, size_t n, const char *path)
{
	struct proc_buf b = { 0 };
	const char *file;

	proc_buf_add(&b, "# the list\n", 11);
	for (size_t i = 0; i < n; i++) {
		char *u = i % 7 == 3 ? e2e_fmt("http://u:p@127.0.0.1:%d%s?n=%zu",
		    e2e_fx.http, path, i) : e2e_url("%s?n=%zu", path, i);

		proc_buf_add(&b, u, strlen(u));
		proc_buf_add(&b, i % 10 == 5 ? "\n\n" : "\n", i % 10 == 5 ?
		    2 : 1);
	}
	file = st_file(name, b.p);
	free(b.p);
	return file;
}

static bool
st_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * --records FILE appears only when the run is complete, whole; a run cut
 * short leaves no FILE and no temporary file.
 */
START_TEST(records_file_appears_only_when_complete)
{
	const char *list = st_list("list", 20, "/status/200");
	char *rec = st_file("records", NULL);
	char *hang = e2e_url("/hang");
	struct proc *p;

	p = e2e_run(NULL, 15, "--json", "--records", rec, "-i", list, NULL);
	e2e_expect_code(p, 0);
	ck_assert_uint_eq(p->obuf.len, 0);
	ck_assert(st_exists(rec));
	st_check_records("json", rec, list);
	ck_assert_int_eq(unlink(rec), 0);

	p = e2e_run(NULL, 15, "--json", "--records", rec, "--deadline", "0.5",
	    e2e_url("/status/200"), hang, NULL);
	e2e_expect_code(p, 3);
	ck_assert_msg(!st_exists(rec), "%s exists after an incomplete run",
	    rec);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "incomplete") != NULL,
	    "stderr:\n%s", proc_msg(&p->ebuf));
	p = e2e_exec(NULL, 10, (char *[]){ "ls", st_dir, NULL }, true);
	ck_assert_str_eq(proc_str(&p->obuf), "list\n");
}
END_TEST

/* Starts fetch_urls with the arguments (ended by NULL), left running. */
static struct proc *
st_start(const char *a0, ...)
{
	char *argv[16];
	size_t n = 1;
	va_list ap;

	argv[n++] = (char *)a0;
	va_start(ap, a0);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return e2e_spawn(argv, NULL);
}

/* Waits up to 15 s for p, started by st_start(), and checks its code. */
static void
st_expect_exit(struct proc *p, int code)
{
	proc_reap(p, p->start + 15);
	ck_assert_msg(!p->killed, "still running after 15 s; stderr:\n%s",
	    proc_msg(&p->ebuf));
	e2e_expect_code(p, code);
}

/*
 * --resume: a run cut short keeps its finished records; the next run
 * fetches only the rest, drops a line a crash cut short, and the file
 * ends with one record per URL.  The three record forms run side by
 * side, each waiting for its deadline and then for its slow URL.
 */
START_TEST(resume_fetches_only_what_is_missing)
{
	static const char *const fmts[][3] = {
		{ "json", "--format", "json" }, { "csv", "--format", "csv" },
		{ "w", "-w", "%{urlnum} %{url} %{http_code}\\n" },
	};
	const char *list[3];
	char *key[3], *rec[3];
	struct proc *p[3];
	size_t f;
	FILE *fp;

	for (f = 0; f < 3; f++) {
		key[f] = e2e_key();
		list[f] = st_list(e2e_fmt("list%zu", f), 30, "/delay/10");
		/* A slow URL the deadline cuts short, counted under key. */
		fp = fopen(list[f], "a");
		ck_assert_ptr_nonnull(fp);
		fprintf(fp, "%s\n", e2e_url("/delay/3000?key=%s", key[f]));
		fclose(fp);
		rec[f] = st_file(e2e_fmt("rec%zu", f), NULL);
		p[f] = st_start(fmts[f][1], fmts[f][2], "--records", rec[f],
		    "--resume", "--deadline", "1.5", "-i", list[f], NULL);
	}
	for (f = 0; f < 3; f++) {
		st_expect_exit(p[f], 3);
		/* A crash mid-line: the next run drops the torn line. */
		fp = fopen(rec[f], "a");
		ck_assert_ptr_nonnull(fp);
		fputs(f == 1 ? "\"http://x/\",3" : "{\"url\":\"htt", fp);
		fclose(fp);
		p[f] = st_start(fmts[f][1], fmts[f][2], "--records", rec[f],
		    "--resume", "-i", list[f], NULL);
	}
	for (f = 0; f < 3; f++) {
		st_expect_exit(p[f], 0);
		st_check_records(fmts[f][0], rec[f], list[f]);
		/* The slow URL twice (cut short, then fetched); no other. */
		ck_assert_int_eq(e2e_count(key[f], "").requests, 2);
	}
}
END_TEST

/* The lines of the file at path; asserts it can be read. */
static size_t
st_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;
	int c;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

/*
 * A --write-out record is keyed by its number and its URL up to the next
 * blank: a URL that holds that blank (which libcurl refuses) is done all
 * the same once recorded, and is neither tried nor recorded again.
 */
START_TEST(resume_keys_a_url_with_a_blank_in_it)
{
	char *key = e2e_key();
	char *good = e2e_url("/status/200?key=%s", key);
	char *blank = e2e_url("/status/200?q=a b");
	char *rec = st_file("records", NULL);
	struct proc *p;

	for (int run = 0; run < 3; run++) {
		p = st_start("-q", "-w", "%{urlnum} %{url} %{http_code}\\n",
		    "--records", rec, "--resume", good, blank, NULL);
		/* The URL with a blank fails, and is recorded as failed. */
		st_expect_exit(p, run == 0 ? 1 : 0);
		ck_assert_msg(st_lines(rec) == 2, "after run %d, %s has %zu "
		    "lines, want 2", run + 1, rec, st_lines(rec));
	}
	ck_assert_int_eq(e2e_count(key, "").requests, 1);
}
END_TEST

/*
 * A --resume that cannot rewrite its records file, as on a full disk,
 * says why in its usage error: here the file size limit of the shell,
 * whose signal it ignores so that the write fails with EFBIG instead.
 */
START_TEST(resume_that_cannot_rewrite_says_why)
{
	char *u = e2e_url("/status/200"), *rec = st_file("records", NULL);
	char *argv[] = { "/bin/sh", "-c",
	    "trap '' XFSZ; ulimit -f 4 && exec \"$0\" \"$@\"",
	    (char *)e2e_prog, "-q", "--json", "--records", rec, "--resume", u,
	    NULL };
	struct proc *p;
	FILE *fp;

	/* Records of more than the limit's 2 kB (4 blocks of 512 bytes). */
	fp = fopen(rec, "w");
	ck_assert_msg(fp != NULL, "%s: %s", rec, strerror(errno));
	for (int i = 1; i <= 100; i++)
		fprintf(fp, "{\"url\":\"%s\",\"urlnum\":%d,\"status\":200}\n",
		    u, i);
	ck_assert_int_eq(fclose(fp), 0);
	p = e2e_exec(NULL, 15, argv, false);
	e2e_expect_code(p, 2);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "--resume: cannot copy") !=
	    NULL && strstr(proc_str(&p->ebuf), strerror(EFBIG)) != NULL,
	    "stderr:\n%s", proc_msg(&p->ebuf));
	ck_assert_uint_eq(st_lines(rec), 100);
}
END_TEST

/*
 * Records files get the mode of any file written under the umask, and a
 * file rewritten keeps its own, as with the shell's > redirection.
 */
START_TEST(records_file_keeps_the_usual_mode)
{
	char *rec = st_file("records", NULL);
	char *u = e2e_url("/status/200");
	struct stat st;
	struct proc *p;
	mode_t old = umask(022);

	p = st_start("-q", "--json", "--records", rec, u, NULL);
	st_expect_exit(p, 0);
	ck_assert_int_eq(stat(rec, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0644, "new records file mode "
	    "%o, want 644", (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq(chmod(rec, 0640), 0);
	p = st_start("-q", "--json", "--records", rec, "--resume", u, NULL);
	st_expect_exit(p, 0);
	ck_assert_int_eq(stat(rec, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0640, "--resume left mode %o, "
	    "want 640", (unsigned)(st.st_mode & 07777));
	p = st_start("-q", "--json", "--records", rec, u, NULL);
	st_expect_exit(p, 0);
	ck_assert_int_eq(stat(rec, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0640, "a rewrite left mode %o, "
	    "want 640", (unsigned)(st.st_mode & 07777));
	umask(old);
}
END_TEST

/* All that fd gives until end of file, until teardown; closes fd. */
static char *
st_slurp(int fd)
{
	struct proc_buf b = { 0 };
	char *s;

	ck_assert_msg(fd >= 0, "open: %s", strerror(errno));
	while (fd >= 0)
		proc_read(&fd, &b);
	s = e2e_fmt("%s", proc_str(&b));
	free(b.p);
	return s;
}

/*
 * --records writes through a symbolic link: the link stays a link and the
 * file it names gets the records, with and without --resume.  A FIFO (as
 * a device such as /dev/null would be) is written in place, never
 * replaced by a regular file, and --resume, which must read the records
 * back, refuses it.
 */
START_TEST(records_keep_links_and_write_fifos_in_place)
{
	char *target = st_file("target", "");
	char *link = st_file("link", NULL), *fifo = st_file("fifo", NULL);
	char *u = e2e_url("/status/200");
	struct stat st;
	struct proc *p;
	char *got;
	int rd;

	ck_assert_int_eq(symlink("target", link), 0);
	p = st_start("-q", "--json", "--records", link, u, NULL);
	st_expect_exit(p, 0);
	p = st_start("-q", "--json", "--records", link, "--resume", u,
	    e2e_url("/status/201"), NULL);
	st_expect_exit(p, 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert_msg(S_ISLNK(st.st_mode), "%s is no longer a link", link);
	st_check_records("json", target, st_file("two", e2e_fmt("%s\n%s\n",
	    u, e2e_url("/status/201"))));

	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	/* A reader first, so that fetch_urls's open does not wait. */
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	ck_assert_msg(rd >= 0, "%s: %s", fifo, strerror(errno));
	p = st_start("-q", "--json", "--records", fifo, u, NULL);
	st_expect_exit(p, 0);
	ck_assert_int_eq(lstat(fifo, &st), 0);
	ck_assert_msg(S_ISFIFO(st.st_mode), "%s is no longer a FIFO", fifo);
	/* The writer is gone: the FIFO gives what it holds, then its end. */
	got = st_slurp(rd);
	ck_assert_msg(strstr(got, "\"status\":200") != NULL &&
	    strchr(got, '\n') == got + strlen(got) - 1, "the FIFO gave '%s', "
	    "want one record", got);

	p = st_start("-q", "--json", "--records", fifo, "--resume", u, NULL);
	st_expect_exit(p, 2);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "is not a regular file") !=
	    NULL, "stderr: %s", proc_msg(&p->ebuf));
}
END_TEST

/*
 * --records naming the input file, by its name or through standard input,
 * is refused before anything is fetched: the records would have replaced
 * the list of URLs.
 */
START_TEST(records_refuse_the_input_file)
{
	char *key = e2e_key();
	char *list = e2e_fmt("%s\n", e2e_url("/status/200?key=%s", key));
	char *path = st_file("urls", list), *fifo = st_file("fifo", NULL);
	char *argv[] = { "/bin/sh", "-c", "exec \"$0\" -i - --records "
	    "\"$1\" < \"$1\"", (char *)e2e_prog, path, NULL };
	struct proc *p;
	char buf[512];
	ssize_t n;
	int fd;

	p = st_start("-i", path, "--records", path, NULL);
	st_expect_exit(p, 2);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "is the input file") != NULL,
	    "stderr: %s", proc_msg(&p->ebuf));
	p = e2e_exec(NULL, 15, argv, true);
	e2e_expect_code(p, 2);
	ck_assert_str_eq(st_slurp(open(path, O_RDONLY)), list);
	/*
	 * A FIFO too, which the records would feed back as URLs.  Open for
	 * reading and writing here, it lets fetch_urls open it at once, and
	 * keeps the list, unread, when fetch_urls has gone.
	 */
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDWR | O_NONBLOCK);
	ck_assert_msg(fd >= 0, "%s: %s", fifo, strerror(errno));
	ck_assert(write(fd, list, strlen(list)) == (ssize_t)strlen(list));
	p = st_start("-i", fifo, "--records", fifo, NULL);
	st_expect_exit(p, 2);
	ck_assert_str_eq(proc_str(&p->ebuf), e2e_fmt("fetch_urls: --records "
	    "'%s' is the input file (try 'fetch_urls --help')\n", fifo));
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, (ssize_t)strlen(list));
	buf[n] = '\0';
	ck_assert_str_eq(buf, list);
	close(fd);
	ck_assert_int_eq(e2e_count(key, "").requests, 0);
}
END_TEST

/*
 * With standard error closed, the records file does not take its number:
 * it gets the records, and not the summary meant for standard error.
 */
START_TEST(records_file_alone_when_stderr_is_closed)
{
	char *rec = st_file("records", NULL), *u = e2e_url("/status/200");
	char *argv[] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&-",
	    (char *)e2e_prog, "--records", rec, u, NULL };
	struct proc *p = e2e_exec(NULL, 15, argv, true);
	char *got = st_slurp(open(rec, O_RDONLY));

	e2e_expect_code(p, 0);
	ck_assert_msg(strncmp(got, u, strlen(u)) == 0 &&
	    strchr(got, '\n') == got + strlen(got) - 1, "records file holds "
	    "'%s', want one record of %s", got, u);
}
END_TEST

/*
 * kill -9 at any moment, then the same command with --resume until it
 * exits 0: the records file holds every URL exactly once.
 */
START_TEST(resume_after_kill_9_at_random_moments)
{
	const char *list = st_list("list", 300, "/delay/15");
	char *rec = st_file("records", NULL);
	char *argv[10] = { NULL, "-j", "20", "--json", "--records", rec,
	    "--resume", "-i", (char *)list, NULL };
	struct timespec ts;
	struct proc *p;
	int rounds = 0, code = -1;

	srand((unsigned)time(NULL));
	while (code != 0 && rounds++ < 40) {
		p = e2e_spawn(argv, NULL);
		/* A moment from 0 to 120 ms into the run: the kill point. */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(rand() % 120) * 1000000L;
		nanosleep(&ts, NULL);
		if (rounds % 4 != 0)
			(void)kill(p->pid, SIGKILL);
		proc_reap(p, proc_now() + 30);
		if (WIFEXITED(p->status))
			code = WEXITSTATUS(p->status);
		else
			ck_assert_int_eq(WTERMSIG(p->status), SIGKILL);
	}
	ck_assert_msg(code == 0, "no complete run in %d rounds", rounds);
	st_check_records("json", rec, list);
}
END_TEST

/* For main.c: the suite of this file. */
Suite *
e2e_stream_suite(void)
{
	Suite *s = suite_create("e2e_stream");
	TCase *tc = tcase_create("e2e_stream");

	tcase_add_checked_fixture(tc, st_setup, st_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, first_result_before_the_input_ends);
	tcase_add_test(tc, empty_input_is_a_successful_run);
	tcase_add_test(tc, byte_order_mark_skipped);
	tcase_add_test(tc, deadline_stops_at_once_with_a_million_queued);
	tcase_add_test(tc, ordered_reads_no_further_than_its_window);
	tcase_add_test(tc, records_file_appears_only_when_complete);
	tcase_add_test(tc, resume_fetches_only_what_is_missing);
	tcase_add_test(tc, resume_keys_a_url_with_a_blank_in_it);
	tcase_add_test(tc, resume_that_cannot_rewrite_says_why);
	tcase_add_test(tc, records_file_keeps_the_usual_mode);
	tcase_add_test(tc, records_keep_links_and_write_fifos_in_place);
	tcase_add_test(tc, records_file_alone_when_stderr_is_closed);
	tcase_add_test(tc, records_refuse_the_input_file);
	tcase_add_test(tc, resume_after_kill_9_at_random_moments);
	suite_add_tcase(s, tc);
	return s;
}
