/* proc.c: child processes and the fixture server, for the tests. */

#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* wait4() */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "proc.h"

extern char **environ;

double
proc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
proc_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	ck_assert_msg(flags != -1 &&
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != -1, "fcntl: %s",
	    strerror(errno));
}

void
proc_pipe(int fds[2])
{
	ck_assert_msg(pipe(fds) == 0, "pipe: %s", strerror(errno));
	proc_cloexec(fds[0]);
	proc_cloexec(fds[1]);
}

void
proc_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

void
proc_buf_add(struct proc_buf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		p = realloc(b->p, cap);
		ck_assert_msg(p != NULL, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

const char *
proc_str(const struct proc_buf *b)
{
	return b->p ? b->p : "";
}

const char *
proc_msg(const struct proc_buf *b)
{
	if (b->len <= PROC_MSG_MAX)
		return proc_str(b);
	fprintf(stderr, "--- %zu bytes; the failure message shows the end "
	    "---\n%s\n--- end ---\n", b->len, b->p);
	return b->p + b->len - PROC_MSG_MAX;
}

pid_t
proc_spawn_fds(char *const argv[], int fd0, int fd1, int fd2)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	if (fd0 == -1)
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
		    O_RDONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, fd0, 0);
	posix_spawn_file_actions_adddup2(&fa, fd1, 1);
	if (fd2 != -1)
		posix_spawn_file_actions_adddup2(&fa, fd2, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	ck_assert_msg(rc == 0, "posix_spawn %s: %s", argv[0], strerror(rc));
	return pid;
}

/*
 * proc_spawn_fds() by fork() and exec, with the open-file limit set to
 * nofile in the child first.  Between fork() and exec the child calls
 * only async-signal-safe functions.
 */
static pid_t
spawn_forked(char *const argv[], int fd0, int fd1, int fd2, long nofile)
{
	static const char nolimit[] = "proc: setrlimit RLIMIT_NOFILE failed\n";
	static const char noexec[] = "proc: exec failed\n";
	static const int dfl[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	struct rlimit rl;
	sigset_t none;
	pid_t pid;
	int null;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&none);
	rl.rlim_cur = rl.rlim_max = (rlim_t)nofile;
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid != 0)
		return pid;

	for (size_t i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		(void)sigaction(dfl[i], &sa, NULL);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (fd0 == -1) {
		if ((null = open("/dev/null", O_RDONLY)) != -1 && null != 0) {
			(void)dup2(null, 0);
			(void)close(null);
		}
	} else
		(void)dup2(fd0, 0);
	(void)dup2(fd1, 1);
	if (fd2 != -1)
		(void)dup2(fd2, 2);
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		(void)write(2, nolimit, sizeof(nolimit) - 1);
		_exit(127);
	}
	execvp(argv[0], argv);
	(void)write(2, noexec, sizeof(noexec) - 1);
	_exit(127);
}

/* proc_spawn(), and proc_spawn_nofile() when nofile is not -1. */
static struct proc *
spawn(char *const argv[], const char *indata, long nofile)
{
	struct proc *p;
	int ip[2] = { -1, -1 }, op[2], ep[2];

	p = calloc(1, sizeof(*p));
	ck_assert_msg(p != NULL, "out of memory");
	p->pid = -1;
	p->in = p->out = p->err = -1;

	if (indata != NULL)
		proc_pipe(ip);
	proc_pipe(op);
	proc_pipe(ep);
	p->start = proc_now();
	if (nofile == -1)
		p->pid = proc_spawn_fds(argv, ip[0], op[1], ep[1]);
	else
		p->pid = spawn_forked(argv, ip[0], op[1], ep[1], nofile);
	if (indata != NULL) {
		close(ip[0]);
		p->in = ip[1];
		ck_assert_msg(fcntl(p->in, F_SETFL, O_NONBLOCK) != -1,
		    "fcntl: %s", strerror(errno));
		p->indata = indata;
		p->inlen = strlen(indata);
		if (p->inlen == 0)
			proc_close(&p->in);
	}
	close(op[1]);
	close(ep[1]);
	p->out = op[0];
	p->err = ep[0];
	return p;
}

struct proc *
proc_spawn(char *const argv[], const char *indata)
{
	return spawn(argv, indata, -1);
}

struct proc *
proc_spawn_nofile(char *const argv[], const char *indata, long nofile)
{
	ck_assert_msg(nofile >= 0, "bad open-file limit %ld", nofile);
	return spawn(argv, indata, nofile);
}

void
proc_read(int *fd, struct proc_buf *b)
{
	char buf[65536];
	ssize_t n;

	n = read(*fd, buf, sizeof(buf));
	if (n > 0)
		proc_buf_add(b, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		proc_close(fd);
}

/* Feeds the child's stdin; closes it when all is written. */
static void
feed_stdin(struct proc *p)
{
	ssize_t n;

	n = write(p->in, p->indata + p->inoff, p->inlen - p->inoff);
	if (n > 0)
		p->inoff += (size_t)n;
	else if (n == -1 && errno != EINTR && errno != EAGAIN)
		proc_close(&p->in);	/* It stopped reading: fine. */
	if (p->inoff == p->inlen)
		proc_close(&p->in);
}

bool
proc_pump(struct proc *p, double limit,
    bool (*until)(const struct proc *, size_t), size_t arg)
{
	for (;;) {
		struct pollfd fds[3];
		nfds_t n = 0;
		double left;
		int r;

		if (until != NULL && until(p, arg))
			return true;
		if (p->out == -1 && p->err == -1)
			return until == NULL;
		left = limit - proc_now();
		if (left <= 0)
			return false;
		if (p->out != -1)
			fds[n++] = (struct pollfd){ .fd = p->out,
			    .events = POLLIN };
		if (p->err != -1)
			fds[n++] = (struct pollfd){ .fd = p->err,
			    .events = POLLIN };
		if (p->in != -1)
			fds[n++] = (struct pollfd){ .fd = p->in,
			    .events = POLLOUT };
		r = poll(fds, n, (int)(left * 1000) + 1);
		if (r == -1 && errno == EINTR)
			continue;
		ck_assert_msg(r >= 0, "poll: %s", strerror(errno));
		for (nfds_t i = 0; i < n; i++) {
			if (fds[i].revents == 0)
				continue;
			if (fds[i].fd == p->out)
				proc_read(&p->out, &p->obuf);
			else if (fds[i].fd == p->err)
				proc_read(&p->err, &p->ebuf);
			else if (fds[i].fd == p->in)
				feed_stdin(p);
		}
	}
}

bool
proc_has_lines(const struct proc *p, size_t n)
{
	size_t seen = 0;

	for (size_t i = 0; i < p->obuf.len; i++)
		if (p->obuf.p[i] == '\n')
			seen++;
	return seen >= n;
}

void
proc_reap(struct proc *p, double limit)
{
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	struct rusage ru;
	char *s, *nl;
	size_t cap;
	pid_t r;

	(void)proc_pump(p, limit, NULL, 0);
	memset(&ru, 0, sizeof(ru));
	for (;;) {
		r = wait4(p->pid, &p->status, WNOHANG, &ru);
		if (r == p->pid)
			break;
		ck_assert_msg(r == 0 || errno == EINTR, "wait4: %s",
		    strerror(errno));
		if (proc_now() >= limit) {
			kill(p->pid, SIGKILL);
			while (wait4(p->pid, &p->status, 0, &ru) == -1 &&
			    errno == EINTR)
				continue;
			p->killed = true;
			break;
		}
		/* Its pipes are closed, so it is exiting: poll briefly. */
		nanosleep(&tick, NULL);
	}
	p->end = proc_now();
	p->maxrss_kb = ru.ru_maxrss;
	p->pid = -1;
	proc_close(&p->in);
	proc_close(&p->out);
	proc_close(&p->err);

	p->copy = strdup(proc_str(&p->obuf));
	ck_assert_msg(p->copy != NULL, "out of memory");
	cap = 1;
	for (s = p->copy; *s != '\0'; s++)
		if (*s == '\n')
			cap++;
	p->lines = calloc(cap, sizeof(*p->lines));
	ck_assert_msg(p->lines != NULL, "out of memory");
	for (s = p->copy; *s != '\0'; s = nl + 1) {
		p->lines[p->nlines++] = s;
		if ((nl = strchr(s, '\n')) == NULL)
			break;
		*nl = '\0';
	}
}

void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	if (p->pid != -1) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	proc_close(&p->in);
	proc_close(&p->out);
	proc_close(&p->err);
	free(p->obuf.p);
	free(p->ebuf.p);
	free(p->copy);
	free(p->lines);
	free(p);
}

bool
proc_match(const char *s, const char *re, double *subs, size_t nsub)
{
	regmatch_t m[8];
	regex_t rx;
	bool ok;

	ck_assert_msg(nsub < 8 && regcomp(&rx, re, REG_EXTENDED) == 0,
	    "bad regex %s", re);
	ok = regexec(&rx, s, nsub + 1, m, 0) == 0;
	regfree(&rx);
	for (size_t i = 0; ok && i < nsub; i++)
		subs[i] = strtod(s + m[i + 1].rm_so, NULL);
	return ok;
}

int
proc_dead_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0,
	    "bind: %s", strerror(errno));
	close(fd);
	return ntohs(sa.sin_port);
}

void
proc_expect_manual_names(const char *const *formats,
    const char *(*name)(size_t), const char *what)
{
	const char *slash = strrchr(__FILE__, '/'), *n;
	char path[4096], line[512], found[64][40];
	size_t nfound = 0, i, j, f;
	FILE *fp;

	/* __FILE__ is tests/proc.c: the manual is one folder up. */
	snprintf(path, sizeof(path), "%.*s%sdoc/fetch_urls.1", slash != NULL ?
	    (int)(slash - __FILE__) : 0, __FILE__, slash != NULL ? "/../" :
	    "../");
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL && nfound < 64)
		for (f = 0; formats[f] != NULL; f++)
			if (sscanf(line, formats[f], found[nfound]) == 1) {
				nfound++;
				break;
			}
	fclose(fp);
	for (i = 0; (n = name(i)) != NULL; i++) {
		for (j = 0; j < nfound && strcmp(found[j], n) != 0; j++)
			;
		ck_assert_msg(j < nfound, "the manual lacks %%{%s}", n);
	}
	for (j = 0; j < nfound; j++) {
		for (i = 0; (n = name(i)) != NULL && strcmp(found[j], n) != 0;
		    i++)
			;
		ck_assert_msg(n != NULL, "the manual has %%{%s}, which is no "
		    "%s", found[j], what);
	}
}

int
proc_silent_listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(fd, 64) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0,
	    "bind, listen: %s", strerror(errno));
	*port = ntohs(sa.sin_port);
	return fd;
}

void
proc_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 &&
		    open("/dev/null", O_RDWR) == -1)
			ck_abort_msg("open /dev/null: %s", strerror(errno));
}

/* Where tests/fixture.py is; see proc_fixture_start() in proc.h. */
static void
fixture_path(char *path, size_t size, const char *near)
{
	const char *env = getenv("FETCH_FIXTURE");
	const char *slash = strrchr(__FILE__, '/');
	char dir[PATH_MAX];
	char *s;

	if (env != NULL) {
		snprintf(path, size, "%s", env);
		return;
	}
	snprintf(path, size, "%.*s%sfixture.py",
	    slash ? (int)(slash - __FILE__) : 0, __FILE__, slash ? "/" : "");
	if (access(path, R_OK) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", near ? near : "");
	while ((s = strrchr(dir, '/')) != NULL) {
		*s = '\0';
		snprintf(path, size, "%s/tests/fixture.py",
		    dir[0] ? dir : "");
		if (access(path, R_OK) == 0)
			return;
	}
	snprintf(path, size, "tests/fixture.py");
}

/* Starts the fixture on host (NULL: its default), with --pki if pki. */
static void
fixture_start(struct proc_fixture *fx, const char *near, const char *host,
    bool pki)
{
	char script[PATH_MAX + 32], *argv[6];
	struct proc_buf b = { 0 };
	double limit;
	int ip[2], op[2], n;

	fixture_path(script, sizeof(script), near);
	ck_assert_msg(access(script, R_OK) == 0, "no fixture at %s (set "
	    "FETCH_FIXTURE)", script);
	proc_pipe(ip);
	proc_pipe(op);
	argv[0] = "python3";
	argv[1] = script;
	n = 2;
	if (pki)
		argv[n++] = "--pki";
	if (host != NULL) {
		argv[n++] = "--host";
		argv[n++] = (char *)host;
	}
	argv[n] = NULL;
	fx->pid = proc_spawn_fds(argv, ip[0], op[1], -1);
	close(ip[0]);
	close(op[1]);
	fx->in = ip[1];
	fx->out = op[0];

	limit = proc_now() + 20;
	while (b.p == NULL || strchr(b.p, '\n') == NULL) {
		struct pollfd pfd = { .fd = fx->out, .events = POLLIN };
		double left = limit - proc_now();
		int fd = fx->out;

		ck_assert_msg(left > 0, "fixture did not get ready in 20 s");
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		proc_read(&fd, &b);
		fx->out = fd;
		ck_assert_msg(fd != -1, "fixture exited before READY: %s",
		    proc_msg(&b));
	}
	fx->pki = fx->mtls = 0;
	n = sscanf(b.p, "READY http=%d https=%d cert=%4095s pki=%d mtls=%d",
	    &fx->http, &fx->https, fx->cert, &fx->pki, &fx->mtls);
	ck_assert_msg(n == (pki ? 5 : 3), "bad fixture line: %s", b.p);
	free(b.p);
}

void
proc_fixture_start(struct proc_fixture *fx, const char *near)
{
	fixture_start(fx, near, NULL, false);
}

void
proc_fixture_start_host(struct proc_fixture *fx, const char *near,
    const char *host)
{
	fixture_start(fx, near, host, false);
}

void
proc_fixture_start_pki(struct proc_fixture *fx, const char *near)
{
	fixture_start(fx, near, NULL, true);
}

void
proc_fixture_stop(struct proc_fixture *fx)
{
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	double limit;

	if (fx->pid == -1)
		return;
	/* End of file on its stdin stops it; give it 5 s. */
	limit = proc_now() + 5;
	proc_close(&fx->in);
	while (waitpid(fx->pid, NULL, WNOHANG) == 0) {
		if (proc_now() > limit) {
			kill(fx->pid, SIGKILL);
			waitpid(fx->pid, NULL, 0);
			break;
		}
		nanosleep(&tick, NULL);
	}
	fx->pid = -1;
	proc_close(&fx->out);
}
