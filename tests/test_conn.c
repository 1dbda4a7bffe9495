/* End-to-end tests of connection reuse and HTTP/2 multiplexing. */

/*
 * Each test runs the binary named by FETCH_URLS and asks the server how
 * many connections carried its requests.  Over HTTP/1.1 the server is the
 * fixture (tests/fixture.py), which counts the connections that carried a
 * ?key=K (/count/K); each is one TLS handshake on its HTTPS port.  For
 * HTTP/2 it is nginx with http2 on its TLS port, started by the test (by
 * PID, in a temporary directory, with the fixture's certificate), whose
 * access log has the connection serial number of every request.  The
 * records' %{num_connects} must add up to the same count.  The tests of
 * the pool's holds run a pool, or a transport, in this process.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include <curl/curl.h>

#include "../src/fetch.h"
#include "../src/fetch_transport.h"
#include "e2e.h"
#include "proc.h"
#include "suites.h"

/* The test's nginx: its directory, its port, its keeper shell. */
static char	 ngx_dir[64];
static int	 ngx_port;
static pid_t	 ngx_keeper = -1;
static int	 ngx_hold = -1;		/* Closing it stops nginx. */

/* The sum of the numbers that start the lines of p's standard output. */
static long
sum_lines(const struct proc *p)
{
	long sum = 0;

	for (size_t i = 0; i < p->nlines; i++)
		sum += strtol(p->lines[i], NULL, 10);
	return sum;
}

/*
 * HTTP/1.1: eight workers, one request at a time to the host (--per-host
 * 1): one connection serves them all, handed from worker to worker.  With
 * a connection per worker there were eight.
 */
START_TEST(connection_passes_between_workers)
{
	enum { N = 8 };
	char *key = e2e_key(), *args[N + 6];
	struct e2e_counts c;
	struct proc *p;

	args[0] = "-j";
	args[1] = "8";
	args[2] = "--per-host";
	args[3] = "1";
	args[4] = "-w";
	args[5] = "%{num_connects}\\n";
	for (int i = 0; i < N; i++)
		args[i + 6] = e2e_url("/delay/20?key=%s&n=%d", key, i);
	p = e2e_rawv(20, N + 6, args);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == N, "stdout:\n%s", proc_msg(&p->obuf));
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, N);
	ck_assert_int_eq(c.max_in_flight, 1);
	ck_assert_msg(c.connections == 1, "%d connections for %d requests",
	    c.connections, N);
	ck_assert_int_eq(sum_lines(p), 1);
}
END_TEST

/*
 * --serial, URLs alternating between two hosts (the fixture's HTTP and
 * HTTPS ports): one connection to each, one TLS handshake, not one per
 * URL.
 */
START_TEST(serial_keeps_a_connection_per_host)
{
	enum { N = 20 };
	char *key = e2e_key(), *args[N + 4];
	struct e2e_counts c;
	struct proc *p;

	args[0] = "--serial";
	args[1] = "-k";
	args[2] = "-w";
	args[3] = "%{num_connects} %{url}\\n";
	for (int i = 0; i < N; i++)
		args[i + 4] = i % 2 == 0 ?
		    e2e_url("/status/200?key=%s&n=%d", key, i) :
		    e2e_fmt("https://127.0.0.1:%d/status/200?key=%s&n=%d",
		    e2e_fx.https, key, i);
	p = e2e_rawv(30, N + 4, args);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == N, "stdout:\n%s", proc_msg(&p->obuf));
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, N);
	ck_assert_msg(c.connections == 2, "%d connections for %d requests "
	    "to 2 hosts", c.connections, N);
	/* The first URL of each host connected; the others reused. */
	ck_assert_int_eq(strtol(p->lines[0], NULL, 10), 1);
	ck_assert_int_eq(strtol(p->lines[1], NULL, 10), 1);
	ck_assert_int_eq(sum_lines(p), 2);
}
END_TEST

/* Connects to 127.0.0.1:port; returns whether something listens there. */
static bool
listening(int port)
{
	struct sockaddr_in sa;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/*
 * Starts nginx serving HTTP/2 over TLS on ngx_port with the fixture's
 * certificate, and waits until it listens.  /slow answers after 50 ms,
 * being the fixture's /delay/50.  nginx runs in the foreground
 * under a shell that kills it when its standard input, a pipe only this
 * process holds, reaches end of file: when the test ends, however it ends.
 */
static void
nginx_start(void)
{
	static const char script[] =
	    "\"$0\" -p \"$1\" -c \"$1/nginx.conf\" -e \"$1/error.log\" & "
	    "pid=$!; cat >/dev/null; kill $pid; wait $pid";
	char *nginx = access("/usr/sbin/nginx", X_OK) == 0 ?
	    "/usr/sbin/nginx" : "nginx";
	char *argv[] = { "sh", "-c", (char *)script, nginx, ngx_dir, NULL };
	char *conf, *key, *slash;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	double limit;
	FILE *fp;
	int fds[2];

	snprintf(ngx_dir, sizeof(ngx_dir), "/tmp/conn_nginx.XXXXXX");
	ck_assert(mkdtemp(ngx_dir) != NULL);
	ngx_port = proc_dead_port();
	slash = strrchr(e2e_fx.cert, '/');
	ck_assert(slash != NULL);
	conf = e2e_fmt("%s/nginx.conf", ngx_dir);
	ck_assert((fp = fopen(conf, "w")) != NULL);
	key = e2e_fmt("%.*s/key.pem", (int)(slash - e2e_fx.cert),
	    e2e_fx.cert);
	fprintf(fp,
	    "daemon off;\nmaster_process off;\nworker_processes 1;\n"
	    "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
	    "events { worker_connections 1024; }\n"
	    "http {\n"
	    "  log_format conns '$connection';\n"
	    "  access_log %s/access.log conns;\n",
	    ngx_dir, ngx_dir, ngx_dir);
	fprintf(fp,
	    "  client_body_temp_path %s/body;\n"
	    "  proxy_temp_path %s/proxy;\n"
	    "  fastcgi_temp_path %s/fastcgi;\n"
	    "  uwsgi_temp_path %s/uwsgi;\n"
	    "  scgi_temp_path %s/scgi;\n",
	    ngx_dir, ngx_dir, ngx_dir, ngx_dir, ngx_dir);
	fprintf(fp,
	    "  server {\n"
	    "    listen 127.0.0.1:%d ssl http2;\n"
	    "    ssl_certificate %s;\n"
	    "    ssl_certificate_key %s;\n"
	    "    location / { return 200 \"ok\\n\"; }\n"
	    "    location = /slow { proxy_pass %s; }\n"
	    "  }\n"
	    "}\n", ngx_port, e2e_fx.cert, key, e2e_url("/delay/50"));
	ck_assert(fclose(fp) == 0);

	proc_pipe(fds);
	ngx_keeper = proc_spawn_fds(argv, fds[0], -1, -1);
	proc_close(&fds[0]);
	ngx_hold = fds[1];
	limit = proc_now() + 10;
	while (!listening(ngx_port)) {
		ck_assert_msg(proc_now() < limit, "nginx does not listen on "
		    "port %d; see %s/error.log", ngx_port, ngx_dir);
		nanosleep(&tick, NULL);
	}
}

/*
 * The number of distinct connections in nginx's access log, once it has
 * n lines: nginx logs a request after answering it, so the last lines may
 * come a little after the client has its answers.
 */
static int
nginx_connections(int n)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	double limit = proc_now() + 10;
	long seen[64];
	int lines, distinct, i;
	char line[64];
	FILE *fp;
	long c;

	for (;;) {
		lines = distinct = 0;
		if ((fp = fopen(e2e_fmt("%s/access.log", ngx_dir), "r")) !=
		    NULL) {
			while (fgets(line, sizeof(line), fp) != NULL) {
				lines++;
				c = strtol(line, NULL, 10);
				for (i = 0; i < distinct && seen[i] != c; i++)
					;
				if (i == distinct && distinct < 64)
					seen[distinct++] = c;
			}
			fclose(fp);
		}
		if (lines >= n)
			break;
		ck_assert_msg(proc_now() < limit, "nginx logged %d requests "
		    "of %d", lines, n);
		nanosleep(&tick, NULL);
	}
	ck_assert_int_eq(lines, n);
	return distinct;
}

static void
nginx_setup(void)
{
	e2e_setup();
	nginx_start();
}

static void
nginx_teardown(void)
{
	char *rm[] = { "rm", "-rf", ngx_dir, NULL };
	int status;

	proc_close(&ngx_hold);
	if (ngx_keeper > 0) {
		(void)waitpid(ngx_keeper, &status, 0);
		ngx_keeper = -1;
	}
	if (ngx_dir[0] != '\0') {
		e2e_exec(NULL, 10, rm, false);
		ngx_dir[0] = '\0';
	}
	e2e_teardown();
}

/*
 * Runs n URLs to the test's nginx, with "-j jobs" unless jobs is NULL,
 * and checks that every one got status 200 over HTTP/2 and that one
 * connection carried them all, by nginx's log and by the records.
 */
static void
h2_one_connection(int n, const char *jobs)
{
	char *args[160];
	struct proc *p;
	size_t nargs = 0;

	ck_assert(n + 5 <= 160);

	args[nargs++] = "-k";
	if (jobs != NULL) {
		args[nargs++] = "-j";
		args[nargs++] = (char *)jobs;
	}
	args[nargs++] = "-w";
	args[nargs++] = "%{num_connects} %{http_version} %{http_code}\\n";
	for (int i = 0; i < n; i++)
		args[nargs++] = e2e_fmt("https://127.0.0.1:%d/?n=%d",
		    ngx_port, i);
	p = e2e_rawv(30, nargs, args);
	e2e_expect_code(p, 0);
	ck_assert_msg(p->nlines == (size_t)n, "stdout:\n%s",
	    proc_msg(&p->obuf));
	for (size_t i = 0; i < p->nlines; i++)
		ck_assert_msg(strstr(p->lines[i], " 2 200") != NULL,
		    "line %zu: %s", i, p->lines[i]);
	ck_assert_int_eq(nginx_connections(n), 1);
	ck_assert_int_eq(sum_lines(p), 1);
}

/*
 * 150 URLs to one HTTP/2 host with the default number of workers (one a
 * URL): every request rides one connection as a stream, more than one
 * connection carries at once (100), rather than a connection each.
 */
START_TEST(h2_requests_share_one_connection)
{
	h2_one_connection(150, NULL);
}
END_TEST

/* As many workers as URLs (-j 40), and still one connection. */
START_TEST(h2_workers_share_one_connection)
{
	h2_one_connection(40, "40");
}
END_TEST

/*
 * The holds' clock of the tests that set it: it moves only when the test
 * moves it, so that the test, not the machine's load, decides how long
 * the transport took.  Any start will do; a monotonic clock's is large.
 */
#define TEST_CLOCK_START	1000000
static _Atomic int64_t test_clock_ms = TEST_CLOCK_START;

static int64_t
test_clock(void)
{
	return atomic_load(&test_clock_ms);
}

/* A run in this process, with the default number of workers. */
static struct fetch_run *
pool_start(void)
{
	struct fetch_config cfg;
	struct fetch_run *run;
	char err[256];

	ck_assert_int_eq(fetch_global_init(), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.insecure = true;
	cfg.max_time_ms = 30000;
	cfg.connect_timeout_ms = 30000;
	run = fetch_start(&cfg, err, sizeof(err));
	ck_assert_msg(run != NULL, "%s", err);
	return run;
}

static void
pool_submit(struct fetch_run *run, size_t urlnum, const char *url)
{
	char err[256], *u = strdup(url);

	ck_assert_ptr_nonnull(u);
	ck_assert_msg(fetch_submit(run, urlnum, u, err, sizeof(err)) == 0,
	    "submit %zu: %s", urlnum, err);
}

/*
 * 1,000 URLs that take 50 ms each to one HTTP/2 host, with the default
 * number of workers (one a URL at most): the transport runs 100 of them
 * as streams of its connection and queues the others, and the pool
 * starts no worker for a URL that would only queue behind them.  Every
 * URL is fetched, by at most half as many workers as URLs (116 to 133,
 * measured): each URL started a thread of its own before, 1,000 in all.
 * The holds' clock stands still, so that the connection never counts as
 * stalled: on a loaded machine a first answer that came after
 * FETCH_TRANSPORT_HOLD_MS let the hold lapse, as it should for an origin
 * that stands still, and the pool started a worker for each URL queued
 * meanwhile (505).  stalled_origin_holds_no_other_url_back() tests the
 * lapse.
 */
START_TEST(h2_urls_beyond_the_streams_start_no_workers)
{
	enum { N = 1000 };
	struct fetch_result res;
	struct fetch_run *run;
	char *url = e2e_fmt("https://127.0.0.1:%d/slow", ngx_port);
	size_t got = 0;

	atomic_store(&test_clock_ms, TEST_CLOCK_START);
	fetch_transport_set_hold_clock(test_clock);
	run = pool_start();

	for (size_t i = 0; i < N; i++)
		pool_submit(run, i, url);
	fetch_end_input(run);
	while (chan_recv(fetch_results(run), &res) == 0) {
		ck_assert_msg(res.outcome == FETCH_OK && res.status == 200,
		    "URL %zu: status %ld, %s", res.urlnum, res.status,
		    res.error != NULL ? res.error : "no error");
		fetch_result_free(&res);
		got++;
	}
	ck_assert_uint_eq(got, N);
	ck_assert_msg(fetch_workers(run) <= N / 2, "%zu workers for %d URLs",
	    fetch_workers(run), N);
	fetch_finish(run);
	fetch_transport_set_hold_clock(NULL);
	fetch_global_cleanup();
}
END_TEST

/*
 * The hold lasts only while the queue moves.  150 URLs to a TLS host that
 * never answers (100 in the transport, waiting for its handshake, 50
 * queued), then one to the fixture: that one still gets a worker of its
 * own, and its answer, while the others wait.
 */
START_TEST(stalled_origin_holds_no_other_url_back)
{
	enum { N = 150 };
	struct fetch_result res;
	struct fetch_run *run;
	char *silent;
	int fd, port;

	fd = proc_silent_listener(&port);
	silent = e2e_fmt("https://127.0.0.1:%d/", port);
	run = pool_start();
	for (size_t i = 0; i < N; i++)
		pool_submit(run, i, silent);
	pool_submit(run, N, e2e_url("/status/200"));
	ck_assert_int_eq(chan_recv_timeout(fetch_results(run), &res, 20000),
	    0);
	ck_assert_uint_eq(res.urlnum, N);
	ck_assert_int_eq(res.outcome, FETCH_OK);
	fetch_result_free(&res);
	fetch_cancel(run);
	while (chan_recv(fetch_results(run), &res) == 0) {
		ck_assert_int_eq(res.outcome, FETCH_CANCELLED);
		fetch_result_free(&res);
	}
	fetch_finish(run);
	fetch_global_cleanup();
	close(fd);
}
END_TEST

/*
 * The transport thread of busy_transport_holds_while_it_moves(), held in
 * a callback of a transfer it has just taken: entered says it is there,
 * release lets it go on.
 */
struct stall {
	chan_t	*entered;
	chan_t	*release;
};

static curl_socket_t
stall_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct stall *st = arg;
	char token = 0;

	(void)purpose;
	ck_assert_int_eq(chan_send(st->entered, &token), 0);
	ck_assert_int_eq(chan_recv(st->release, &token), 0);
	return socket(a->family, a->socktype, a->protocol);
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/*
 * A caller of the transport: one transfer on its port, once go is closed
 * (or at once if go is NULL).
 */
struct caller {
	struct transport_port	*port;
	chan_t			*go;
	CURLcode		 cc;
	bool			 aborted;
};

static void *
caller_main(void *arg)
{
	struct caller *c = arg;
	char token;

	if (c->go != NULL)
		(void)chan_recv(c->go, &token);
	c->cc = fetch_transport_perform(c->port, NULL, 0, &c->aborted);
	return NULL;
}

/*
 * -m bounds a transfer's time also while it waits for its origin's
 * streams: of 150 HTTPS URLs that never answer, to an origin that has not
 * answered over HTTP/1 and so gets 100 at once, each ends by its -m,
 * with libcurl's error for a time run out or the transport's for one that
 * ran out waiting to be sent, and none outlives it by libcurl's own count
 * until the connect timeout, the next timer libcurl has for it (URL 100,
 * started with 0.2 s left, ran 11.86 s that way: see DUE_SLACK_MS in
 * fetch_transport.c).  How much of -m the wait took is
 * charged_wait_is_what_was_left's: a bound on each URL's time here (it
 * was 1.5 -m) measured the machine's load too, and a loaded TSan run
 * broke it in half its runs, libcurl itself looking at its timers up to
 * 1.6 s late.
 */
START_TEST(max_time_counts_the_wait_for_a_stream)
{
	enum { N = 150, CONNECT_S = 20 };
	char *key = e2e_key(), *at, *err;
	char *args[N + 8] = { "-k", "-j", "150", "-m", "2",
	    "--connect-timeout", "20", "--json" };
	struct proc *p;
	double total;

	for (int i = 0; i < N; i++)
		args[i + 8] = e2e_fmt("https://127.0.0.1:%d/hang?key=%s&n=%d",
		    e2e_fx.https, key, i);
	p = e2e_rawv(60, N + 8, args);
	e2e_expect_code(p, 1);
	ck_assert_msg(p->nlines == N, "stdout:\n%s", proc_msg(&p->obuf));
	for (size_t i = 0; i < p->nlines; i++) {
		ck_assert_msg((err = strstr(p->lines[i], "\"error\":\"")) !=
		    NULL && (at = strstr(p->lines[i], "\"timings\":")) != NULL &&
		    (at = strstr(at, "\"total\":")) != NULL, "%s", p->lines[i]);
		ck_assert_msg(strstr(err, "timed out") != NULL ||
		    strstr(err, "timeout") != NULL, "a URL not ended by -m: %s",
		    p->lines[i]);
		total = strtod(at + strlen("\"total\":"), NULL);
		ck_assert_msg(total < CONNECT_S, "a URL ran %.2f s by libcurl's "
		    "count at -m 2, until its connect timeout: %s", total,
		    p->lines[i]);
	}
}
END_TEST

/*
 * A caller of charged_wait_is_what_was_left: one transfer to origin; one
 * that stamps counts the clock reading of its hand-over in stamped.
 */
struct waiter {
	struct transport_port	*port;
	const char		*origin;
	long			 timeout_ms;
	bool			 stamps;
	CURLcode		 cc;
	bool			 aborted;
	bool			 expired;
};

static _Thread_local bool	 waiter_stamps;
static atomic_int		 stamped;

/* test_clock(), counting the readings of the callers that stamp. */
static int64_t
stamp_clock(void)
{
	if (waiter_stamps)
		atomic_fetch_add(&stamped, 1);
	return atomic_load(&test_clock_ms);
}

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	waiter_stamps = w->stamps;
	w->cc = fetch_transport_perform(w->port, w->origin, w->timeout_ms,
	    &w->aborted);
	w->expired = fetch_transport_expired(w->port);
	return NULL;
}

/*
 * The time a transfer waited for its origin's streams counts against its
 * timeout, measured on the test's clock: two transfers queue behind an
 * origin's 100 (which never get an answer), the clock moves 300 ms short
 * of the first one's timeout, past the second one's, and two of the 100
 * end (their server goes away).  The second is answered expired without
 * being started; the first starts with the 300 ms left, which libcurl's
 * own count shows, where the whole timeout would be 20 s.
 */
START_TEST(charged_wait_is_what_was_left)
{
	enum { FULL = 100, GONE = 2, N = FULL + 2, T1 = 20000, T2 = 5000,
	    LEFT = 300 };
	static const char origin[] = "https://charged.test";
	struct waiter w[N];
	pthread_t tid[N];
	CURL *easy[N];
	struct transport *t;
	int hang_fd, hang_port, gone_fd, gone_port, i;
	curl_off_t us;
	long left;

	hang_fd = proc_silent_listener(&hang_port);
	gone_fd = proc_silent_listener(&gone_port);
	atomic_store(&test_clock_ms, TEST_CLOCK_START);
	atomic_store(&stamped, 0);
	fetch_transport_set_hold_clock(stamp_clock);
	ck_assert_int_eq(fetch_global_init(), 0);
	ck_assert_ptr_nonnull(t = fetch_transport_new(N, 0));
	for (i = 0; i < N; i++) {
		ck_assert_ptr_nonnull(easy[i] = curl_easy_init());
		curl_easy_setopt(easy[i], CURLOPT_URL, e2e_fmt(
		    "https://127.0.0.1:%d/", i < GONE ? gone_port : hang_port));
		memset(&w[i], 0, sizeof(w[i]));
		ck_assert_ptr_nonnull(w[i].port = fetch_transport_port_new(t,
		    easy[i]));
		w[i].origin = origin;
	}
	w[FULL].timeout_ms = T1;
	w[FULL + 1].timeout_ms = T2;
	for (i = FULL; i < N; i++) {
		w[i].stamps = true;
		curl_easy_setopt(easy[i], CURLOPT_TIMEOUT_MS, w[i].timeout_ms);
	}
	for (i = 0; i < FULL; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, waiter_main,
		    &w[i]), 0);
	/* Below a lane's callers only a full origin holds. */
	while (!fetch_transport_holds(t, 1, &left))
		sched_yield();
	for (i = FULL; i < N; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, waiter_main,
		    &w[i]), 0);
	while (atomic_load(&stamped) < N - FULL)
		sched_yield();
	atomic_store(&test_clock_ms, TEST_CLOCK_START + T1 - LEFT);
	close(gone_fd);
	for (i = 0; i < GONE; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert(!w[i].aborted && !w[i].expired);
		ck_assert_int_ne(w[i].cc, CURLE_OK);
	}
	for (i = FULL; i < N; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	ck_assert(!w[FULL + 1].aborted && w[FULL + 1].expired);
	ck_assert_int_eq(w[FULL + 1].cc, CURLE_OPERATION_TIMEDOUT);
	ck_assert(!w[FULL].aborted && !w[FULL].expired);
	ck_assert_int_eq(w[FULL].cc, CURLE_OPERATION_TIMEDOUT);
	ck_assert_int_eq(curl_easy_getinfo(easy[FULL], CURLINFO_TOTAL_TIME_T,
	    &us), CURLE_OK);
	ck_assert_msg(us < T1 / 2 * (curl_off_t)1000, "started after waiting "
	    "all but %d ms of %d, it ran %ld ms", LEFT, T1, (long)(us / 1000));
	fetch_transport_cancel(t);
	for (i = GONE; i < FULL; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert(w[i].aborted);
	}
	fetch_transport_free(t);
	fetch_transport_set_hold_clock(NULL);
	for (i = 0; i < N; i++) {
		fetch_transport_port_free(w[i].port);
		curl_easy_cleanup(easy[i]);
	}
	close(hang_fd);
	fetch_global_cleanup();
}
END_TEST

/*
 * A server that reads each request and answers with a status line alone,
 * a header block that never ends, then nothing: its client, whose
 * transfer was run for that answer in its first millisecond, has nothing
 * more to run it for.  It serves connections one after another until its
 * listener is shut down, and keeps them open until then.
 */
struct quiet {
	int		 fd;			/* The listener. */
	int		 conns[256];
	size_t		 nconns;
};

static void *
quiet_main(void *arg)
{
	static const char status[] = "HTTP/1.1 200 OK\r\n";
	struct quiet *q = arg;
	char buf[4096];
	size_t have;
	ssize_t n;
	int c;

	while (q->nconns < sizeof(q->conns) / sizeof(q->conns[0]) &&
	    (c = accept(q->fd, NULL, NULL)) >= 0) {
		q->conns[q->nconns++] = c;
		have = 0;
		while (have < sizeof(buf) - 1 && (n = read(c, buf + have,
		    sizeof(buf) - 1 - have)) > 0) {
			have += (size_t)n;
			buf[have] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		(void)write(c, status, sizeof(status) - 1);
	}
	while (q->nconns > 0)
		close(q->conns[--q->nconns]);
	return NULL;
}

/*
 * A transfer ends by its timeout even when libcurl 7.88 drops that timer
 * (see DUE_SLACK_MS in fetch_transport.c): given CURLOPT_TIMEOUT_MS 1,
 * it gets the server's answer within that millisecond, which drops it,
 * and then nothing.  Happy eyeballs' timer, libcurl's next, waits as
 * long as the connect timeout here.  Each transfer the transport started
 * (rather than answer it expired, the hand-over having taken the
 * millisecond) must end by its timeout before the connect timeout, by
 * libcurl's own count; without the transport's look at its deadline,
 * one of the first few ran until it ("Operation timed out after 3000
 * milliseconds") in each of 8 runs of 8.
 */
START_TEST(max_time_ends_a_transfer_libcurl_forgot)
{
	enum { STARTED = 10, TRIES = 200, CONNECT_MS = 3000 };
	char errbuf[CURL_ERROR_SIZE];
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct transport_port *port;
	struct transport *t;
	struct quiet q = { -1, { 0 }, 0 };
	curl_off_t us;
	pthread_t tid;
	bool aborted;
	CURLcode cc;
	CURL *easy;
	int started = 0, tries;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(q.fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(q.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(q.fd, 16), 0);
	ck_assert_int_eq(getsockname(q.fd, (struct sockaddr *)&a, &alen), 0);
	ck_assert_int_eq(pthread_create(&tid, NULL, quiet_main, &q), 0);

	ck_assert_int_eq(fetch_global_init(), 0);
	ck_assert_ptr_nonnull(t = fetch_transport_new(2, 0));
	ck_assert_ptr_nonnull(easy = curl_easy_init());
	ck_assert_ptr_nonnull(port = fetch_transport_port_new(t, easy));
	curl_easy_setopt(easy, CURLOPT_URL, e2e_fmt("http://127.0.0.1:%d/",
	    ntohs(a.sin_port)));
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	curl_easy_setopt(easy, CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS,
	    (long)CONNECT_MS);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
	for (tries = 0; started < STARTED && tries < TRIES; tries++) {
		errbuf[0] = '\0';
		cc = fetch_transport_perform(port, NULL, 1, &aborted);
		ck_assert(!aborted);
		ck_assert_int_eq(cc, CURLE_OPERATION_TIMEDOUT);
		if (fetch_transport_expired(port))
			continue;
		started++;
		ck_assert_int_eq(curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T,
		    &us), CURLE_OK);
		ck_assert_msg(us < CONNECT_MS * (curl_off_t)1000, "a transfer "
		    "given 1 ms ran %ld ms, until its connect timeout: %s",
		    (long)(us / 1000), errbuf);
	}
	ck_assert_msg(started == STARTED, "%d of %d transfers started",
	    started, tries);
	fetch_transport_port_free(port);
	curl_easy_cleanup(easy);
	fetch_transport_free(t);
	fetch_global_cleanup();
	shutdown(q.fd, SHUT_RDWR);
	ck_assert_int_eq(pthread_join(tid, NULL), 0);
	close(q.fd);
}
END_TEST

/*
 * An origin is scheme, host and port: credentials, which the message of a
 * URL that timed out waiting for its origin's streams printed, are not
 * part of it.  Only https URLs have one.
 */
START_TEST(origin_has_no_credentials)
{
	static const char *const cases[][2] = {
		{ "https://h.test:8443/a?b=c", "https://h.test:8443" },
		{ "https://u:s3cret@h.test/", "https://h.test" },
		{ "https://u:s%40cret@[::1]:1/x@y", "https://[::1]:1" },
		{ "http://u:s3cret@h.test/", NULL },
		{ "https://h.test", NULL },
	};
	char *o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = EBADF;
		o = fetch_transport_origin(cases[i][0]);
		ck_assert_msg(cases[i][1] == NULL ? o == NULL && errno == 0 :
		    o != NULL && strcmp(o, cases[i][1]) == 0, "%s: origin %s, "
		    "want %s", cases[i][0], o != NULL ? o : "none",
		    cases[i][1] != NULL ? cases[i][1] : "none");
		free(o);
	}
}
END_TEST

/*
 * A transport for one caller (a worker's own, in a large pool) keeps one
 * connection beyond the one in use, not a lane's worth: cycling through
 * three hosts (names that --resolve-style entries send to the fixture),
 * it reuses none, where one that kept them all reused each.  A worker
 * that fetched from many hosts held a descriptor for every one of them.
 */
START_TEST(transport_alone_keeps_one_idle_connection)
{
	enum { HOSTS = 3, ROUNDS = 2 };
	char *key = e2e_key();
	struct curl_slist *resolve = NULL;
	struct transport_port *port;
	struct transport *t;
	struct e2e_counts c;
	bool aborted;
	CURL *easy;
	int h;

	ck_assert_int_eq(fetch_global_init(), 0);
	ck_assert_ptr_nonnull(t = fetch_transport_new(1, 1));
	ck_assert_ptr_nonnull(easy = curl_easy_init());
	ck_assert_ptr_nonnull(port = fetch_transport_port_new(t, easy));
	for (h = 0; h < HOSTS; h++)
		resolve = curl_slist_append(resolve, e2e_fmt("h%d.test:%d:"
		    "127.0.0.1", h, e2e_fx.http));
	ck_assert_ptr_nonnull(resolve);
	curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
	for (int i = 0; i < HOSTS * ROUNDS; i++) {
		curl_easy_setopt(easy, CURLOPT_URL, e2e_fmt("http://h%d.test:%d"
		    "/status/200?key=%s&n=%d", i % HOSTS, e2e_fx.http, key, i));
		ck_assert_int_eq(fetch_transport_perform(port, NULL, 0, &aborted),
		    CURLE_OK);
	}
	c = e2e_count(key, "");
	ck_assert_int_eq(c.requests, HOSTS * ROUNDS);
	ck_assert_msg(c.connections == HOSTS * ROUNDS, "%d connections for "
	    "%d requests cycling through %d hosts: idle ones were kept",
	    c.connections, HOSTS * ROUNDS, HOSTS);
	fetch_transport_port_free(port);
	curl_easy_cleanup(easy);
	curl_slist_free_all(resolve);
	fetch_transport_free(t);
	fetch_global_cleanup();
}
END_TEST

/*
 * Beyond a lane's worth of callers, a transport whose thread has yet to
 * take several transfers handed to it holds new workers back, for
 * FETCH_TRANSPORT_HOLD_MS after it last took one; a stalled thread
 * holds nothing for longer.  Its thread is stopped in a transfer's
 * socket callback, just after taking it, while four more are handed over.
 * The holds' clock is the test's, which stands still until the test
 * moves it: a loaded machine took longer than the hold to hand the four
 * over, and the hold had lapsed before it could be seen.
 */
START_TEST(busy_transport_holds_while_it_moves)
{
	enum { N = 4 };
	struct caller c[N + 1];
	struct stall st;
	pthread_t tid[N + 1];
	struct transport *t;
	CURL *easy[N + 1];
	chan_t *go;
	char token = 0;
	long left = 0;
	size_t i;

	ck_assert_int_eq(fetch_global_init(), 0);
	atomic_store(&test_clock_ms, TEST_CLOCK_START);
	fetch_transport_set_hold_clock(test_clock);
	ck_assert_ptr_nonnull(t = fetch_transport_new(100, 16));
	ck_assert_ptr_nonnull(st.entered = chan_new(1, 0));
	ck_assert_ptr_nonnull(st.release = chan_new(1, 0));
	ck_assert_ptr_nonnull(go = chan_new(1, 0));
	for (i = 0; i <= N; i++) {
		ck_assert_ptr_nonnull(easy[i] = curl_easy_init());
		curl_easy_setopt(easy[i], CURLOPT_URL, e2e_url("/status/200"));
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
		c[i].port = fetch_transport_port_new(t, easy[i]);
		ck_assert_ptr_nonnull(c[i].port);
		c[i].go = i == 0 ? NULL : go;
	}
	curl_easy_setopt(easy[0], CURLOPT_OPENSOCKETFUNCTION,
	    stall_opensocket);
	curl_easy_setopt(easy[0], CURLOPT_OPENSOCKETDATA, &st);
	/* The others wait for go; the first one's transfer stops the thread. */
	for (i = 0; i <= N; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, caller_main,
		    &c[i]), 0);
	ck_assert_int_eq(chan_recv(st.entered, &token), 0);
	ck_assert(!fetch_transport_holds(t, 64, &left));
	ck_assert_int_eq(chan_close(go), 0);
	/*
	 * Handed over, not taken: they hold once all four are counted, for
	 * all of FETCH_TRANSPORT_HOLD_MS from the thread's taking the first,
	 * however long the hand-over took.  (Check's timeout ends a test in
	 * which they never hold.)
	 */
	while (!fetch_transport_holds(t, 64, &left))
		sched_yield();
	ck_assert_int_eq(left, FETCH_TRANSPORT_HOLD_MS);
	ck_assert(!fetch_transport_holds(t, 63, &left));
	/* The thread stays stopped: the hold lapses all the same, on time. */
	atomic_store(&test_clock_ms,
	    TEST_CLOCK_START + FETCH_TRANSPORT_HOLD_MS - 1);
	ck_assert(fetch_transport_holds(t, 64, &left));
	ck_assert_int_eq(left, 1);
	atomic_store(&test_clock_ms, TEST_CLOCK_START + FETCH_TRANSPORT_HOLD_MS);
	ck_assert(!fetch_transport_holds(t, 64, &left));
	ck_assert_int_eq(chan_send(st.release, &token), 0);
	for (i = 0; i <= N; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_msg(c[i].cc == CURLE_OK && !c[i].aborted,
		    "caller %zu: %s", i, curl_easy_strerror(c[i].cc));
		fetch_transport_port_free(c[i].port);
		curl_easy_cleanup(easy[i]);
	}
	ck_assert(!fetch_transport_holds(t, 64, &left));
	fetch_transport_free(t);
	fetch_transport_set_hold_clock(NULL);
	chan_free(go);
	chan_free(st.release);
	chan_free(st.entered);
	fetch_global_cleanup();
}
END_TEST

Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("conn");
	TCase *h2 = tcase_create("conn_h2");

	tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, connection_passes_between_workers);
	tcase_add_test(tc, serial_keeps_a_connection_per_host);
	tcase_add_test(tc, stalled_origin_holds_no_other_url_back);
	tcase_add_test(tc, busy_transport_holds_while_it_moves);
	tcase_add_test(tc, transport_alone_keeps_one_idle_connection);
	tcase_add_test(tc, origin_has_no_credentials);
	tcase_add_test(tc, max_time_counts_the_wait_for_a_stream);
	tcase_add_test(tc, max_time_ends_a_transfer_libcurl_forgot);
	tcase_add_test(tc, charged_wait_is_what_was_left);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(h2, nginx_setup, nginx_teardown);
	tcase_set_timeout(h2, 40);
	tcase_add_test(h2, h2_requests_share_one_connection);
	tcase_add_test(h2, h2_workers_share_one_connection);
	tcase_add_test(h2, h2_urls_beyond_the_streams_start_no_workers);
	suite_add_tcase(s, h2);
	return s;
}
