/* transport.c: one thread that runs every worker's transfers, sharing
 * connections. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "chan.h"
#include "transport.h"

/* Socket events taken from the kernel per epoll_wait(). */
#define EVENTS_MAX	256

/* What the transport answers a port. */
struct answer {
	CURLcode	 cc;
	bool		 aborted;
};

/*
 * A caller's port.  easy and answers are set at creation; prev and next
 * link the port into its transport's active list while its transfer is
 * in the multi handle, and only the transport thread touches them.
 */
struct transport_port {
	struct transport	*t;
	CURL			*easy;		/* Borrowed. */
	chan_t			*answers;	/* struct answer; holds one,
						   so the transport never
						   waits to answer. */
	struct transport_port	*prev;
	struct transport_port	*next;
};

/*
 * The multi handle, the epoll set, the timer and the active list belong
 * to the transport thread alone once it runs; other threads reach it
 * only through calls (a channel), the flags and the eventfd, so nothing
 * here needs a lock.  A caller that has sent its port sets wake_pending
 * and writes the eventfd only if it was clear: the thread clears it with
 * an exchange before it drains calls, so a port sent before a caller saw
 * the flag set is drained after, and none waits unseen.
 */
struct transport {
	pthread_t		 tid;
	CURLM			*multi;
	int			 ep;		/* epoll; -1 until made. */
	int			 wake;		/* eventfd; -1 until made. */
	chan_t			*calls;		/* struct transport_port *. */
	atomic_bool		 wake_pending;
	atomic_bool		 cancelled;
	atomic_bool		 stopping;
	struct transport_port	*active;
	int64_t			 timer_at;	/* Monotonic ms; -1: none. */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wake(struct transport *t)
{
	uint64_t one = 1;

	/* Only EAGAIN, at a count of 2^64 - 2, could fail: still awake. */
	(void)write(t->wake, &one, sizeof(one));
}

/*
 * libcurl's CURLMOPT_SOCKETFUNCTION: keeps the epoll set to the events
 * libcurl wants for s.  A socket already in the set carries a mark
 * (curl_multi_assign()), which libcurl forgets with the socket, so each
 * change is one system call.
 */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct transport *t = arg;
	struct epoll_event ev;
	int op = sockp != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		/* libcurl may have closed it already, which removed it. */
		(void)epoll_ctl(t->ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (epoll_ctl(t->ep, op, s, &ev) != 0 && (op == EPOLL_CTL_MOD ||
	    errno != EEXIST || epoll_ctl(t->ep, EPOLL_CTL_MOD, s, &ev) != 0))
		return -1;
	if (sockp == NULL)
		curl_multi_assign(t->multi, s, t);
	return 0;
}

/* libcurl's CURLMOPT_TIMERFUNCTION: when to call it back at the latest. */
static int
on_timer(CURLM *multi, long ms, void *arg)
{
	struct transport *t = arg;

	(void)multi;
	t->timer_at = ms < 0 ? -1 : now_ms() + ms;
	return 0;
}

static void
answer(struct transport_port *p, CURLcode cc, bool aborted)
{
	struct answer a = { cc, aborted };

	/* The port's channel has room: its caller waits for this alone. */
	(void)chan_send(p->answers, &a);
}

static void
unlink_port(struct transport *t, struct transport_port *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		t->active = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/* Puts the ports callers have sent into the multi handle. */
static void
take_calls(struct transport *t)
{
	struct transport_port *p;
	CURLMcode mc;

	(void)atomic_exchange(&t->wake_pending, false);
	while (chan_try_recv(t->calls, &p) == 0) {
		if (atomic_load(&t->cancelled)) {
			answer(p, CURLE_ABORTED_BY_CALLBACK, true);
			continue;
		}
		if ((mc = curl_multi_add_handle(t->multi, p->easy)) !=
		    CURLM_OK) {
			answer(p, mc == CURLM_OUT_OF_MEMORY ?
			    CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT, false);
			continue;
		}
		p->prev = NULL;
		p->next = t->active;
		if (t->active != NULL)
			t->active->prev = p;
		t->active = p;
	}
}

/* Answers the ports whose transfers have ended. */
static void
answer_done(struct transport *t)
{
	struct transport_port *p;
	CURLMsg *msg;
	CURLcode cc;
	CURL *easy;
	char *priv;
	int left;

	while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is freed when its handle leaves the multi handle. */
		easy = msg->easy_handle;
		cc = msg->data.result;
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) !=
		    CURLE_OK || priv == NULL)
			continue;
		p = (struct transport_port *)(void *)priv;
		curl_multi_remove_handle(t->multi, easy);
		unlink_port(t, p);
		answer(p, cc, false);
	}
}

/* Takes every transfer out of the multi handle, answering each aborted. */
static void
abort_all(struct transport *t)
{
	struct transport_port *p;

	while ((p = t->active) != NULL) {
		curl_multi_remove_handle(t->multi, p->easy);
		unlink_port(t, p);
		answer(p, CURLE_ABORTED_BY_CALLBACK, true);
	}
}

/* Milliseconds epoll_wait() may sleep: until libcurl's timer, or -1. */
static int
sleep_ms(const struct transport *t)
{
	int64_t left;

	if (t->timer_at < 0)
		return -1;
	left = t->timer_at - now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

static int
select_bits(uint32_t events)
{
	return ((events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
	    ((events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
	    ((events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
}

/*
 * The transport thread: waits for sockets, the timer or callers, lets
 * libcurl act on them, and answers every transfer that ended.  It exits
 * once stopping is set and no transfer is left.
 */
static void *
transport_main(void *arg)
{
	struct transport *t = arg;
	struct epoll_event evs[EVENTS_MAX];
	uint64_t count;
	int i, n, running;

	for (;;) {
		n = epoll_wait(t->ep, evs, EVENTS_MAX, sleep_ms(t));
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == t->wake) {
				(void)read(t->wake, &count, sizeof(count));
				continue;
			}
			curl_multi_socket_action(t->multi, evs[i].data.fd,
			    select_bits(evs[i].events), &running);
		}
		if (t->timer_at >= 0 && now_ms() >= t->timer_at) {
			/* A new timer may be set from inside the call. */
			t->timer_at = -1;
			curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT,
			    0, &running);
		}
		take_calls(t);
		answer_done(t);
		if (atomic_load(&t->cancelled))
			abort_all(t);
		if (atomic_load(&t->stopping) && t->active == NULL)
			break;
	}
	return NULL;
}

/* Frees what a transport owns, its thread stopped or never started. */
static void
transport_destroy(struct transport *t)
{
	if (t->multi != NULL)
		curl_multi_cleanup(t->multi);
	if (t->ep >= 0)
		close(t->ep);
	if (t->wake >= 0)
		close(t->wake);
	chan_free(t->calls);
	free(t);
}

struct transport *
transport_new(size_t callers, long idle)
{
	struct transport *t;
	struct epoll_event ev;
	int e;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ep = t->wake = -1;
	t->timer_at = -1;
	atomic_init(&t->wake_pending, false);
	atomic_init(&t->cancelled, false);
	atomic_init(&t->stopping, false);
	if ((t->calls = chan_new(sizeof(struct transport_port *),
	    callers > 0 ? callers : 1)) == NULL ||
	    (t->multi = curl_multi_init()) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if ((t->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = t->wake;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &ev) != 0)
		goto fail;
	if (curl_multi_setopt(t->multi, CURLMOPT_PIPELINING,
	    CURLPIPE_MULTIPLEX) != CURLM_OK ||
	    (idle > 0 && curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS,
	    idle) != CURLM_OK) ||
	    curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_socket) !=
	    CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t) != CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_timer) !=
	    CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t) != CURLM_OK) {
		errno = ENOMEM;
		goto fail;
	}
	if ((e = pthread_create(&t->tid, NULL, transport_main, t)) != 0) {
		errno = e;
		goto fail;
	}
	return t;

fail:
	e = errno;
	transport_destroy(t);
	errno = e;
	return NULL;
}

void
transport_cancel(struct transport *t)
{
	if (!atomic_exchange(&t->cancelled, true))
		wake(t);
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	atomic_store(&t->stopping, true);
	wake(t);
	pthread_join(t->tid, NULL);
	transport_destroy(t);
}

struct transport_port *
transport_port_new(struct transport *t, CURL *easy)
{
	struct transport_port *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->t = t;
	p->easy = easy;
	if ((p->answers = chan_new(sizeof(struct answer), 1)) == NULL ||
	    curl_easy_setopt(easy, CURLOPT_PRIVATE, p) != CURLE_OK) {
		chan_free(p->answers);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void
transport_port_free(struct transport_port *p)
{
	if (p == NULL)
		return;
	chan_free(p->answers);
	free(p);
}

CURLcode
transport_perform(struct transport_port *p, bool *aborted)
{
	struct transport *t = p->t;
	struct answer a;

	/*
	 * Neither channel is ever closed, and each waits only while the
	 * transport thread is busy: both calls succeed.
	 */
	(void)chan_send(t->calls, &p);
	if (!atomic_exchange(&t->wake_pending, true))
		wake(t);
	(void)chan_recv(p->answers, &a);
	*aborted = a.aborted;
	return a.cc;
}
