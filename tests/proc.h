/* proc.h: child processes and the fixture server, for the Check tests. */
#ifndef PROC_H
#define PROC_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Helpers for the tests that drive real programs; e2e.h builds the
 * end-to-end tests' harness on them.  They run inside a Check test: a
 * failure of their own (pipe, fork, out of memory) fails the test with
 * ck_assert rather than returning an error.  Times are monotonic seconds
 * (proc_now()).
 */

/* A growing byte buffer, always NUL-terminated once anything is added. */
struct proc_buf {
	char	*p;	/* NULL or malloced */
	size_t	 len;
	size_t	 cap;
};

/* One run of a child process and what it printed. */
struct proc {
	pid_t		 pid;		/* -1 once reaped */
	int		 in;		/* write end of its stdin, or -1 */
	int		 out;		/* read end of its stdout, or -1 */
	int		 err;		/* read end of its stderr, or -1 */
	const char	*indata;	/* not owned; NULL for /dev/null */
	size_t		 inlen;
	size_t		 inoff;
	struct proc_buf	 obuf;
	struct proc_buf	 ebuf;
	double		 start;		/* monotonic seconds at spawn */
	double		 end;		/* monotonic seconds when reaped */
	int		 status;	/* wait status once reaped */
	long		 maxrss_kb;	/* peak resident set, KiB, once
					   reaped (wait4's ru_maxrss) */
	bool		 killed;	/* overran its limit; we killed it */
	char		*copy;		/* NULL or malloced: obuf, split */
	char		**lines;	/* NULL or malloced; into copy */
	size_t		 nlines;
};

/*
 * The fixture server, tests/fixture.py (see the comment at its top).  Its
 * standard input is a pipe that only the test process holds (close-on-exec,
 * so no child inherits it): when the test process ends, even by SIGKILL,
 * the fixture sees end of file and exits.
 */
struct proc_fixture {
	pid_t	 pid;		/* -1 when not running */
	int	 in;		/* its stdin; closing it stops it */
	int	 out;		/* its stdout */
	int	 http;		/* plain HTTP port, 127.0.0.1 or ::1 */
	int	 https;		/* HTTPS port, self-signed certificate */
	char	 cert[PATH_MAX];
	int	 pki;		/* With --pki: HTTPS port, private CA; */
	int	 mtls;		/* and the one that wants a client
				   certificate; else 0 */
};

#define PROC_FIXTURE_INIT	{ .pid = -1, .in = -1, .out = -1 }

double		 proc_now(void);

/* Sets close-on-exec on fd; makes a pipe with both ends close-on-exec. */
void		 proc_cloexec(int fd);
void		 proc_pipe(int fds[2]);

/* Closes *fd unless it is -1, and sets it to -1. */
void		 proc_close(int *fd);

void		 proc_buf_add(struct proc_buf *b, const char *data, size_t n);

/* The buffer's text; "" when nothing was added. */
const char	*proc_str(const struct proc_buf *b);

/*
 * The buffer's text for a failure message.  Check drops a message longer
 * than about 4 KB ("Message string too long"), and with it the output of
 * the program under test, which may hold a sanitizer's report.  So a text
 * longer than PROC_MSG_MAX bytes is written in full to our standard error
 * and only its last PROC_MSG_MAX bytes go into the message.  Use it only
 * in message arguments, which Check evaluates only when the test fails.
 */
#define PROC_MSG_MAX	1000
const char	*proc_msg(const struct proc_buf *b);

/* Appends what one read() of *fd gives; closes *fd at end of file. */
void		 proc_read(int *fd, struct proc_buf *b);

/* Makes sure fds 0-2 are open, so pipes never land on them. */
void		 proc_std_fds(void);

/*
 * Starts argv[0] (searched in PATH) with fd0, fd1 and fd2 as its standard
 * streams; -1 for fd0 means /dev/null, -1 for fd2 means our own stderr.
 * The child gets our environment, an empty signal mask and default
 * SIGPIPE, SIGINT, SIGTERM and SIGHUP handling, whatever the test process
 * has set for itself or inherited (nohup(1) ignores SIGHUP).
 */
pid_t		 proc_spawn_fds(char *const argv[], int fd0, int fd1, int fd2);

/*
 * Starts argv[0] with argv, its stdout and stderr on pipes to us.  indata,
 * if not NULL, is written to its standard input, which is then closed; it
 * must outlive the process.  The caller frees the result with proc_free().
 */
struct proc	*proc_spawn(char *const argv[], const char *indata);

/*
 * As proc_spawn(), with the child's open-file limit, soft and hard, set to
 * nofile before it runs argv[0], as "ulimit -n nofile" in a shell would:
 * the child cannot raise it again.  Uses fork() and exec rather than
 * posix_spawn(), which cannot set a limit, so call it from the test's own
 * thread only.
 */
struct proc	*proc_spawn_nofile(char *const argv[], const char *indata,
		    long nofile);

/*
 * Moves bytes between the test and the child until until() holds, or its
 * stdout and stderr are both at end of file (until == NULL), or the
 * monotonic clock passes limit.  Returns whether the condition was met.
 */
bool		 proc_pump(struct proc *p, double limit,
		    bool (*until)(const struct proc *, size_t), size_t arg);

/* For proc_pump: stdout holds at least n complete lines. */
bool		 proc_has_lines(const struct proc *p, size_t n);

/*
 * Collects the rest of the child's output and its exit status; a child
 * still running at limit (monotonic seconds) is killed and marked so.
 * Then splits stdout into lines without their newlines.
 */
void		 proc_reap(struct proc *p, double limit);

/* Kills the child if it still runs, and frees all p owns. */
void		 proc_free(struct proc *p);

/*
 * Matches s against the extended regular expression re; on a match, copies
 * up to nsub parenthesised groups into subs as numbers.
 */
bool		 proc_match(const char *s, const char *re, double *subs,
		    size_t nsub);

/*
 * A loopback TCP port that nothing listens on: bound, then closed.  Another
 * process could take it in between, but the kernel does not hand out a
 * freshly released ephemeral port again at once.
 */
int		 proc_dead_port(void);

/*
 * Fails the test unless the manual, doc/fetch_urls.1, names exactly
 * name(0), name(1)... up to the first NULL, each on a line that one of
 * formats (NULL-ended, sscanf() formats with one %39[...] conversion)
 * matches; what names such a name in messages ("-w variable").
 */
void		 proc_expect_manual_names(const char *const *formats,
		    const char *(*name)(size_t), const char *what);

/*
 * A loopback listener that never accepts: the kernel completes
 * connections to it, and whatever is sent there waits for an answer that
 * never comes.  Sets *port; returns the socket, which the caller closes.
 */
int		 proc_silent_listener(int *port);

/*
 * Starts the fixture and reads its READY line.  The script is found
 * through the environment variable FETCH_FIXTURE, next to this source
 * file, or in a tests/ folder above the path near (a program under test).
 */
void		 proc_fixture_start(struct proc_fixture *fx, const char *near);

/*
 * As proc_fixture_start(), with the fixture listening on host, which
 * fixture.py's --host accepts ("127.0.0.1" or "::1"); NULL for its
 * default, 127.0.0.1.
 */
void		 proc_fixture_start_host(struct proc_fixture *fx,
		    const char *near, const char *host);

/*
 * As proc_fixture_start(), with the fixture's private CA and its two
 * listeners (fixture.py's --pki); their files are in the directory of
 * fx->cert.
 */
void		 proc_fixture_start_pki(struct proc_fixture *fx,
		    const char *near);

/* Stops the fixture (end of file on its stdin; SIGKILL after 5 s). */
void		 proc_fixture_stop(struct proc_fixture *fx);

#endif /* PROC_H */
