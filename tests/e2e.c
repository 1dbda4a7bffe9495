/* e2e.c: what the end-to-end tests share: runs, the fixture, strings. */

/* posix_openpt, grantpt, unlockpt, ptsname; O_CLOEXEC. */
#define _GNU_SOURCE

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"

#define MAXPROCS	16
#define MAXSTRS		1024

struct proc_fixture e2e_fx = PROC_FIXTURE_INIT;
const char *e2e_prog;

static struct proc *procs[MAXPROCS];	/* freed by teardown */
static size_t nprocs;
static char *strs[MAXSTRS];		/* malloced; freed by teardown */
static size_t nstrs;
static char tmpname[64];		/* "" or a file teardown removes */
static unsigned nkeys;

void
e2e_setup_prog(void)
{
	proc_std_fds();
	/* A child that stops reading must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	e2e_prog = getenv("FETCH_URLS");
	ck_assert_msg(e2e_prog != NULL && access(e2e_prog, X_OK) == 0,
	    "set FETCH_URLS to the fetch_urls binary under test (got %s)",
	    e2e_prog ? e2e_prog : "nothing");
}

void
e2e_setup(void)
{
	e2e_setup_prog();
	proc_fixture_start(&e2e_fx, e2e_prog);
}

char *
e2e_same_as_curl(const char *indata, ...)
{
	char *fargs[E2E_MAXARGS], *cargs[E2E_MAXARGS], *key = e2e_key();
	char *url = e2e_url("/echo?key=%s", key), *mine, *theirs;
	const char *a;
	size_t nf = 0, nc = 0, i, from;
	struct proc *p;
	va_list ap;

	cargs[nc++] = "curl";
	cargs[nc++] = "-s";
	cargs[nc++] = "-o";
	cargs[nc++] = "/dev/null";
	va_start(ap, indata);
	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert(nc + 4 < E2E_MAXARGS);
		fargs[nf++] = cargs[nc++] = (char *)a;
	}
	va_end(ap);
	fargs[nf++] = cargs[nc++] = "-A";
	fargs[nf++] = cargs[nc++] = "probe/1";
	fargs[nf++] = cargs[nc++] = url;
	cargs[nc] = NULL;

	p = e2e_runv(indata, 30, nf, fargs);
	e2e_expect_code(p, 0);
	mine = e2e_get(e2e_fmt("/seen/%s", key));
	p = e2e_exec(indata, 30, cargs, false);
	ck_assert_msg(p->status == 0, "curl failed:\n%s", proc_msg(&p->ebuf));
	theirs = e2e_get(e2e_fmt("/seen/%s", key));
	/* Where they part, briefly: the requests can be 10 MB. */
	for (i = 0; mine[i] != '\0' && mine[i] == theirs[i]; i++)
		;
	from = i > 60 ? i - 60 : 0;
	ck_assert_msg(mine[i] == theirs[i], "at byte %zu, fetch_urls sent "
	    "...%.120s... and curl ...%.120s...", i, mine + from,
	    theirs + from);
	return mine;
}

void
e2e_setup_pki(void)
{
	e2e_setup_prog();
	unsetenv("CURL_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	proc_fixture_start_pki(&e2e_fx, e2e_prog);
}

char *
e2e_pki(const char *name)
{
	const char *slash = strrchr(e2e_fx.cert, '/');

	ck_assert(slash != NULL);
	return e2e_fmt("%.*s/%s", (int)(slash - e2e_fx.cert), e2e_fx.cert,
	    name);
}

void
e2e_teardown(void)
{
	for (size_t i = 0; i < nprocs; i++)
		proc_free(procs[i]);
	nprocs = 0;
	proc_fixture_stop(&e2e_fx);
	for (size_t i = 0; i < nstrs; i++)
		free(strs[i]);
	nstrs = 0;
	if (tmpname[0] != '\0') {
		unlink(tmpname);
		tmpname[0] = '\0';
	}
}

char *
e2e_keep(char *s)
{
	ck_assert_msg(s != NULL, "out of memory");
	ck_assert_msg(nstrs < MAXSTRS, "too many strings");
	strs[nstrs++] = s;
	return s;
}

static char *
vfmt(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	ck_assert_msg(n >= 0, "e2e_fmt %s", fmt);
	s = e2e_keep(malloc((size_t)n + 1));
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *
e2e_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	return s;
}

char *
e2e_url(const char *fmt, ...)
{
	va_list ap;
	char *path;

	va_start(ap, fmt);
	path = vfmt(fmt, ap);
	va_end(ap);
	return e2e_fmt("http://127.0.0.1:%d%s", e2e_fx.http, path);
}

char *
e2e_key(void)
{
	return e2e_fmt("k%ld_%u", (long)getpid(), ++nkeys);
}

const char *
e2e_write_tmpfile(const char *text)
{
	size_t len = strlen(text);
	int fd;

	snprintf(tmpname, sizeof(tmpname), "/tmp/e2e_urls.XXXXXX");
	fd = mkstemp(tmpname);
	ck_assert_msg(fd != -1, "mkstemp: %s", strerror(errno));
	ck_assert_msg(write(fd, text, len) == (ssize_t)len, "write: %s",
	    strerror(errno));
	close(fd);
	return tmpname;
}

/* Fails the test unless there is room to track one more process. */
static void
room(void)
{
	ck_assert_msg(nprocs < MAXPROCS, "too many processes");
}

struct proc *
e2e_track(struct proc *p)
{
	room();
	procs[nprocs++] = p;
	return p;
}

void
e2e_free(struct proc *p)
{
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i] == p) {
			procs[i] = procs[--nprocs];
			proc_free(p);
			return;
		}
	ck_abort_msg("e2e_free of a process not tracked");
}

struct proc *
e2e_exec(const char *indata, double limit, char **argv, bool lines)
{
	const char *name = strrchr(argv[0], '/');
	struct proc *p;

	name = name != NULL ? name + 1 : argv[0];
	room();		/* before the spawn: no child goes untracked */
	p = e2e_track(proc_spawn(argv, indata));
	proc_reap(p, p->start + limit);
	ck_assert_msg(!p->killed, "%s still running after %.1f s; "
	    "stdout:\n%s\nstderr:\n%s", name, limit, proc_msg(&p->obuf),
	    proc_msg(&p->ebuf));
	ck_assert_msg(!lines || p->obuf.len == 0 ||
	    p->obuf.p[p->obuf.len - 1] == '\n',
	    "%s: stdout does not end with a newline:\n%s", name,
	    proc_msg(&p->obuf));
	return p;
}

struct proc *
e2e_spawn(char **argv, const char *indata)
{
	room();		/* before the spawn: no child goes untracked */
	argv[0] = (char *)e2e_prog;
	return e2e_track(proc_spawn(argv, indata));
}

/* e2e_runv(), and e2e_rawv() when lines is false. */
static struct proc *
runv(const char *indata, double limit, size_t nargs, char **args,
    bool lines)
{
	char *argv[E2E_MAXARGS];

	ck_assert_msg(nargs + 2 <= E2E_MAXARGS, "too many arguments");
	argv[0] = (char *)e2e_prog;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	argv[nargs + 1] = NULL;
	return e2e_exec(indata, limit, argv, lines);
}

/* runv() with the arguments that ap holds, up to a NULL. */
static struct proc *
runl(const char *indata, double limit, bool lines, va_list ap)
{
	char *args[E2E_MAXARGS];
	size_t n = 0;

	while (n < E2E_MAXARGS && (args[n] = va_arg(ap, char *)) != NULL)
		n++;
	return runv(indata, limit, n, args, lines);
}

struct proc *
e2e_runv(const char *indata, double limit, size_t nargs, char **args)
{
	return runv(indata, limit, nargs, args, true);
}

struct proc *
e2e_run(const char *indata, double limit, ...)
{
	struct proc *p;
	va_list ap;

	va_start(ap, limit);
	p = runl(indata, limit, true, ap);
	va_end(ap);
	return p;
}

struct proc *
e2e_rawv(double limit, size_t nargs, char **args)
{
	return runv(NULL, limit, nargs, args, false);
}

struct proc *
e2e_raw(double limit, ...)
{
	struct proc *p;
	va_list ap;

	va_start(ap, limit);
	p = runl(NULL, limit, false, ap);
	va_end(ap);
	return p;
}

int
e2e_code(const struct proc *p)
{
	ck_assert_msg(WIFEXITED(p->status),
	    "fetch_urls killed by signal %d; stdout:\n%s\nstderr:\n%s",
	    WIFSIGNALED(p->status) ? WTERMSIG(p->status) : -1,
	    proc_msg(&p->obuf), proc_msg(&p->ebuf));
	return WEXITSTATUS(p->status);
}

void
e2e_expect_code(const struct proc *p, int code)
{
	int got = e2e_code(p);

	ck_assert_msg(got == code,
	    "exit status %d, expected %d; stdout:\n%s\nstderr:\n%s",
	    got, code, proc_msg(&p->obuf), proc_msg(&p->ebuf));
}

/* A connected socket to fx's plain HTTP port, close-on-exec. */
static int
connect_to(const struct proc_fixture *fx, bool v6)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	int fd, r;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	proc_cloexec(fd);
	if (v6) {
		sa6.sin6_port = htons((unsigned short)fx->http);
		sa6.sin6_addr = in6addr_loopback;
		r = connect(fd, (struct sockaddr *)&sa6, sizeof(sa6));
	} else {
		sa.sin_port = htons((unsigned short)fx->http);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	ck_assert_msg(r == 0, "connect to fixture: %s", strerror(errno));
	return fd;
}

char *
e2e_get_at(const struct proc_fixture *fx, bool v6, const char *path)
{
	struct proc_buf b = { 0 };
	char req[512], buf[4096], *s;
	double limit = proc_now() + 15;
	const char *body;
	ssize_t n;
	int fd;

	fd = connect_to(fx, v6);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n",
	    path, v6 ? "[::1]" : "127.0.0.1");
	ck_assert_msg(n > 0 && (size_t)n < sizeof(req) &&
	    write(fd, req, (size_t)n) == n, "write: %s", strerror(errno));
	/* HTTP/1.0: the fixture closes the connection after its answer. */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = limit - proc_now();

		ck_assert_msg(left > 0, "fixture did not answer %s", path);
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		proc_buf_add(&b, buf, (size_t)n);
	}
	close(fd);
	body = b.p != NULL ? strstr(b.p, "\r\n\r\n") : NULL;
	/* The fixture answers HTTP/1.0 requests in HTTP/1.1, and closes. */
	ck_assert_msg(body != NULL && strncmp(b.p, "HTTP/1.", 7) == 0 &&
	    strncmp(b.p + 8, " 200 ", 5) == 0,
	    "bad answer from fixture to %s: %s", path, proc_msg(&b));
	s = e2e_fmt("%s", body + 4);
	free(b.p);
	return s;
}

char *
e2e_get(const char *path)
{
	return e2e_get_at(&e2e_fx, false, path);
}

/* The number after "name": in the fixture's JSON answer body. */
static int
json_int(const char *body, const char *name)
{
	char pat[64];
	const char *s;

	snprintf(pat, sizeof(pat), "\"%s\": ", name);
	s = strstr(body, pat);
	ck_assert_msg(s != NULL, "no %s in fixture answer %s", name, body);
	return (int)strtol(s + strlen(pat), NULL, 10);
}

struct e2e_counts
e2e_count_at(const struct proc_fixture *fx, bool v6, const char *key,
    const char *query)
{
	char *body = e2e_get_at(fx, v6, e2e_fmt("/count/%s%s", key, query));
	struct e2e_counts c;

	c.requests = json_int(body, "requests");
	c.max_in_flight = json_int(body, "max_in_flight");
	c.in_flight = json_int(body, "in_flight");
	c.connections = json_int(body, "connections");
	return c;
}

struct e2e_counts
e2e_count(const char *key, const char *query)
{
	return e2e_count_at(&e2e_fx, false, key, query);
}

char *
e2e_test_file(const char *name)
{
	const char *env = getenv("FETCH_FIXTURE");
	const char *slash;
	char *path;

	if (env != NULL && (slash = strrchr(env, '/')) != NULL) {
		path = e2e_fmt("%.*s/%s", (int)(slash - env), env, name);
		if (access(path, R_OK) == 0)
			return path;
	}
	slash = strrchr(__FILE__, '/');
	path = slash ? e2e_fmt("%.*s/%s", (int)(slash - __FILE__), __FILE__,
	    name) : e2e_fmt("%s", name);
	if (access(path, R_OK) == 0)
		return path;
	path = e2e_fmt("tests/%s", name);
	ck_assert_msg(access(path, R_OK) == 0, "cannot find %s", name);
	return path;
}

struct proc *
e2e_spawn_pty(bool both, unsigned short cols, size_t nargs, char **args)
{
	struct winsize ws = { .ws_row = 24, .ws_col = cols };
	char *argv[E2E_MAXARGS];
	struct proc *p;
	int m, s, op[2] = { -1, -1 };

	ck_assert(nargs + 2 <= E2E_MAXARGS);
	argv[0] = (char *)e2e_prog;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	argv[nargs + 1] = NULL;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_msg(m != -1 && grantpt(m) == 0 && unlockpt(m) == 0,
	    "pty: %s", strerror(errno));
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_msg(s != -1, "open pty: %s", strerror(errno));
	ck_assert_msg(ioctl(s, TIOCSWINSZ, &ws) == 0, "TIOCSWINSZ");
	p = calloc(1, sizeof(*p));
	ck_assert(p != NULL);
	p->in = p->out = -1;
	e2e_track(p);
	if (!both)
		proc_pipe(op);
	p->start = proc_now();
	p->pid = proc_spawn_fds(argv, -1, both ? s : op[1], s);
	close(s);
	if (!both) {
		close(op[1]);
		p->out = op[0];
	}
	/* Once the child is gone, reads of the master fail with EIO. */
	p->err = m;
	return p;
}

struct proc *
e2e_run_pty(bool both, unsigned short cols, double limit, size_t nargs,
    char **args)
{
	struct proc *p = e2e_spawn_pty(both, cols, nargs, args);

	proc_reap(p, p->start + limit);
	ck_assert_msg(!p->killed, "still running after %.1f s", limit);
	return p;
}
