/* e2e.h: what the end-to-end tests share: runs, the fixture, strings. */
#ifndef E2E_H
#define E2E_H

#include <stdbool.h>
#include <stddef.h>

#include "proc.h"

/*
 * The harness of the tests that drive real programs against the fixture
 * server (test_e2e.c, test_http.c, test_faults.c, test_examples.c),
 * built on proc.h.  Check runs every test in a process of its own, so
 * the state kept here is one test's: e2e_setup() or e2e_setup_prog(), as
 * a test case's checked fixture, fills it in, and e2e_teardown() frees
 * what the test left: its processes, its strings, its fixture and its
 * temporary file.  Tests need not free any of these on a failure path.
 * A failure of the harness's own (out of memory, a full table, a fixture
 * that does not answer) fails the test with ck_assert.
 */

/* Upper-bound slack, in seconds, for anything that depends on scheduling. */
#define E2E_SLACK	1.5

/* Lower bounds allow for printed times being rounded to 1/100 s. */
#define E2E_ROUND	0.006

/* The most arguments, the program's name and the NULL included. */
#define E2E_MAXARGS	512

/*
 * The fixture that e2e_setup() starts (or a test, by proc_fixture_start())
 * and e2e_teardown() stops; it answers on 127.0.0.1.
 */
extern struct proc_fixture e2e_fx;

/* The fetch_urls binary under test, from FETCH_URLS; NULL until set up. */
extern const char *e2e_prog;

/* The fixture's per-key counters, as /count/KEY reports them. */
struct e2e_counts {
	int	requests;
	int	max_in_flight;
	int	in_flight;
	int	connections;	/* That carried the key's requests. */
};

/*
 * Setup for a test that runs fetch_urls without the fixture: makes sure
 * fds 0-2 are open, ignores SIGPIPE (a child that stops reading must not
 * kill the test) and sets e2e_prog, failing unless FETCH_URLS names an
 * executable.
 */
void		 e2e_setup_prog(void);

/* As e2e_setup_prog(), then starts e2e_fx. */
void		 e2e_setup(void);

/*
 * As e2e_setup(), with the fixture's private CA (e2e_fx.pki, e2e_fx.mtls),
 * and without the environment variables that name CA certificates
 * (CURL_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR), which the tests set.
 */
void		 e2e_setup_pki(void);

/* The path of a file of the fixture's CA (fixture.py), until teardown. */
char		*e2e_pki(const char *name);

/* Frees and stops all that the test left; see the top of this file. */
void		 e2e_teardown(void);

/* Takes s, malloced, to free at teardown; fails the test if s is NULL. */
char		*e2e_keep(char *s);

/* A printf-formatted string that lives until teardown. */
char		*e2e_fmt(const char *fmt, ...);

/* e2e_fx's plain HTTP URL for a printf-formatted path, until teardown. */
char		*e2e_url(const char *fmt, ...);

/* A counter key no other test process uses, until teardown. */
char		*e2e_key(void);

/*
 * Writes text to a fresh temporary file that teardown removes, and
 * returns its name.  Teardown removes only the last one written.
 */
const char	*e2e_write_tmpfile(const char *text);

/* Takes p, from proc_spawn(), to free at teardown; returns it. */
struct proc	*e2e_track(struct proc *p);

/* Frees p, taken by e2e_track(), now rather than at teardown. */
void		 e2e_free(struct proc *p);

/*
 * Runs argv (argv[0] searched in PATH) with indata on its standard input
 * (NULL for /dev/null; it must outlive the process) and waits up to limit
 * seconds for it; teardown frees the result.  Fails the test if it
 * overran, or, if lines, if its standard output ends in a partial line.
 * Failure messages name it by the last part of argv[0].
 */
struct proc	*e2e_exec(const char *indata, double limit, char **argv,
		    bool lines);

/*
 * Starts fetch_urls with argv (argv[0] is ignored and set to e2e_prog)
 * and indata as for e2e_exec(), and leaves it running; teardown frees it.
 */
struct proc	*e2e_spawn(char **argv, const char *indata);

/*
 * Runs fetch_urls with args[0..nargs) as e2e_exec() runs a program, with
 * its output in whole lines (as the text, JSON and CSV formats print it).
 */
struct proc	*e2e_runv(const char *indata, double limit, size_t nargs,
		    char **args);

/* As e2e_runv(), with the arguments listed and ended by NULL. */
struct proc	*e2e_run(const char *indata, double limit, ...);

/*
 * As e2e_runv() and e2e_run(), with nothing on standard input, and
 * standard output as it comes: a -w format may end it anywhere.
 */
struct proc	*e2e_rawv(double limit, size_t nargs, char **args);
struct proc	*e2e_raw(double limit, ...);

/*
 * Sends the arguments (ended by NULL) to the fixture's /echo with
 * fetch_urls, then with curl (-s -o /dev/null), both with indata on
 * standard input as e2e_exec() takes it and both with the same
 * User-Agent, and fails unless the fixture saw the same request from
 * both, byte for byte: method, path, every header in order, the body.
 * Returns what it saw (/echo's JSON), until teardown.
 */
char		*e2e_same_as_curl(const char *indata, ...);

/* fetch_urls's exit status; fails the test if a signal ended it. */
int		 e2e_code(const struct proc *p);

/* Fails the test unless fetch_urls exited with code. */
void		 e2e_expect_code(const struct proc *p, int code);

/*
 * The body of fx's answer to "GET path" (fx on ::1 if v6), which must be
 * 200; lives until teardown.  The fixture answers within 15 s.
 */
char		*e2e_get_at(const struct proc_fixture *fx, bool v6,
		    const char *path);

/* As e2e_get_at() for e2e_fx on 127.0.0.1. */
char		*e2e_get(const char *path);

/*
 * fx's counters for key.  query ("" or "?until_...=N") makes the fixture
 * wait, up to 10 s, for a condition first (see fixture.py).
 */
struct e2e_counts e2e_count_at(const struct proc_fixture *fx, bool v6,
		    const char *key, const char *query);

/* As e2e_count_at() for e2e_fx on 127.0.0.1. */
struct e2e_counts e2e_count(const char *key, const char *query);

/*
 * The path of a file next to this one (or next to FETCH_FIXTURE), such
 * as a Python checker, until teardown; fails the test if there is none.
 */
char		*e2e_test_file(const char *name);

/*
 * Runs fetch_urls with args[0..nargs) and its standard error on a
 * pseudo-terminal cols columns wide, and its standard output there too
 * (both) or on a pipe, waiting up to limit seconds.  What the terminal
 * got lands in p->ebuf, what the pipe got in p->obuf; teardown frees p.
 */
struct proc	*e2e_run_pty(bool both, unsigned short cols, double limit,
		    size_t nargs, char **args);

/*
 * As e2e_run_pty(), but leaves fetch_urls running, as e2e_spawn() does:
 * proc_pump() and proc_reap() read the terminal into p->ebuf.
 */
struct proc	*e2e_spawn_pty(bool both, unsigned short cols, size_t nargs,
		    char **args);

#endif /* E2E_H */
