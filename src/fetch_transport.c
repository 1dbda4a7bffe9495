/* fetch_transport.c: the thread that runs the workers' transfers. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "chan.h"
#include "fetch_transport.h"

/* Socket events taken from the kernel per epoll_wait(). */
#define EVENTS_MAX	256

/*
 * Transfers to one origin in the multi handle at once until the origin
 * has answered over HTTP/1: as many as libcurl runs as streams of one
 * HTTP/2 connection (CURLMOPT_MAX_CONCURRENT_STREAMS' default).  Beyond
 * them libcurl 7.88 opens a new connection for nearly every further
 * transfer (72 for 300 at once, measured), rather than waiting for a
 * stream; the transport keeps them waiting instead.
 */
#define STREAMS_MAX	100

/*
 * Ports sent to the thread and not yet taken from which it holds new
 * callers back (fetch_transport_holds()) once it has a lane's worth: the
 * thread is behind, and a new caller would only wait behind them.  2,000
 * HTTPS URLs answered after 200 ms took 3.2-4.3 s and 165 MB without it,
 * a worker each; 1.4-1.5 s and 66 MB with it, against the Go original's
 * 1.9 s (measured).  Below a lane's worth of callers, holding them cost
 * -j 50 a fifth more processor time in wake-ups, for nothing.
 */
#define BACKLOG_HOLD	4

/* Buckets of the origins' hash table. */
#define ORIGIN_BUCKETS	4096

/*
 * Ports per lane.  libcurl 7.88 looks for a connection to reuse by walking
 * every connection to the host in the multi handle's cache, so a multi
 * handle with thousands of HTTP/1 connections to one host spends seconds
 * of CPU on it (10,000 at once: 5.4 s, against 2.1 s for the whole Go
 * original in the same run, measured).  The transport runs a multi handle
 * (a lane) for each LANE_PORTS ports, and the walk covers about as many.
 */
#define LANE_PORTS	FETCH_TRANSPORT_LANE_PORTS

/*
 * libcurl 7.88 forgets a transfer's CURLOPT_TIMEOUT_MS when it runs the
 * transfer for another reason (a socket event) less than a millisecond
 * before that timer is due: it drops every timer due within the
 * millisecond as passed (add_next_timeout() rounds down; curl 8.4.0
 * fixed it, curl/curl#11937), while the transfer's own count, rounding
 * down too, still has a millisecond left.  A transfer that then goes
 * quiet (a request to a server that never answers) runs until libcurl's
 * next timer for it: happy eyeballs' 200 ms, or the connect timeout's
 * 10 s after it began.  A URL given -m 2 that had waited 1.8 s for its
 * origin's streams ran 11.86 s ("Operation timed out after 10052
 * milliseconds"), its handshake, presumably, ending in its last
 * millisecond.  So the transport keeps each transfer's deadline and,
 * once it has passed with the transfer still running, has libcurl look
 * at the lane's transfers, which ends those out of time with libcurl's
 * own error.  It looks again after as long again as the transfer is late
 * (libcurl counts from when it first ran the transfer, a little after
 * the transport started it), so a transfer libcurl ends in time costs a
 * look or two.
 */
#define DUE_SLACK_MS	1

/* The epoll tag of the eventfd: no lane has this number. */
#define WAKE_TAG	UINT32_MAX

struct transport;

/*
 * One multi handle and its timer.  HTTP/1 transfers run in their port's
 * own lane, HTTP/2 ones (and those that may be) in lane 0, so that all the
 * streams to an origin share its connection there.
 */
struct lane {
	struct transport	*t;
	CURLM			*multi;
	uint32_t		 index;
	int64_t			 timer_at;	/* Monotonic ms; -1: none. */
	bool			 busy;		/* Acted on since last read. */
	bool			 overdue;	/* Runs a transfer past its
						   deadline: see DUE_SLACK_MS. */
};

/* What the transport answers a port. */
struct answer {
	CURLcode	 cc;
	bool		 aborted;
	bool		 expired;	/* Never started: see start_waiting(). */
};

/*
 * A caller's port.  easy and answers are set at creation; origin,
 * timeout_ms and queued_at by the caller before each hand-over, expired
 * by the caller from the answer.  The rest is the transport thread's:
 * prev and next link the port into the active list while its transfer is
 * in the multi handle, or next into its origin's queue while it waits.
 */
struct transport_port {
	struct transport	*t;
	CURL			*easy;		/* Borrowed. */
	chan_t			*answers;	/* struct answer; holds one,
						   so the transport never
						   waits to answer. */
	const char		*origin;	/* NULL or borrowed. */
	long			 timeout_ms;	/* CURLOPT_TIMEOUT_MS; 0: none. */
	bool			 expired;
	int64_t			 queued_at;	/* hold_now() at the
						   hand-over. */
	bool			 shortened;	/* CURLOPT_TIMEOUT_MS made
						   shorter for the wait. */
	int64_t			 deadline;	/* Monotonic ms when what
						   was left of timeout_ms
						   runs out. */
	int64_t			 due_at;	/* Monotonic ms when the
						   transport looks whether it
						   ran out of time. */
	bool			 due;		/* In the due list. */
	struct transport_port	*due_prev;
	struct transport_port	*due_next;
	uint32_t		 home;		/* Its lane for HTTP/1. */
	struct origin		*o;		/* Its origin's, or NULL. */
	struct lane		*lane;		/* Where it runs, or NULL. */
	struct transport_port	*prev;
	struct transport_port	*next;
};

/*
 * An origin ("https://host:port") the transport has seen: how many of its
 * transfers are in the multi handle, and those waiting for room, first
 * come first.  Transport thread only.
 */
struct origin {
	char			*name;
	size_t			 active;
	bool			 http1;		/* Answered over HTTP/1: no
						   streams, no cap. */
	bool			 full;		/* Counted in t->full. */
	struct transport_port	*head;
	struct transport_port	*tail;
	struct origin		*next;		/* In its bucket. */
};

/*
 * The lanes, the epoll set, the active list and the origins belong to
 * the transport thread alone once it runs; other threads reach it only
 * through calls (a channel), the flags, next_port and the eventfd, so
 * nothing here needs a lock.  A caller that has sent its port sets
 * wake_pending and writes the eventfd only if it was clear: the thread
 * clears it with an exchange before it drains calls, so a port sent
 * before a caller saw the flag set is drained after, and none waits
 * unseen.
 *
 * A transport for one caller (alone) runs no thread and has no epoll
 * set: its caller drives the one lane's multi handle itself in
 * fetch_transport_perform(), which saves the two hand-overs between threads
 * that each transfer costs otherwise, and a --serial run is nothing but
 * such transfers one after another.  Its connections still outlive the
 * transfers, one kept per host.
 */
struct transport {
	pthread_t		 tid;		/* Unless alone. */
	bool			 alone;
	struct lane		*lanes;		/* nlanes, each made when a
						   transfer first needs it. */
	size_t			 nlanes;
	size_t			 used;		/* Lanes below it may have
						   been made. */
	long			 idle;
	atomic_size_t		 next_port;	/* Ports made so far. */
	int			 ep;		/* epoll; -1 until made. */
	int			 wake;		/* eventfd; -1 until made. */
	chan_t			*calls;		/* struct transport_port *. */
	atomic_bool		 wake_pending;
	atomic_bool		 cancelled;
	atomic_bool		 stopping;
	atomic_size_t		 full;		/* Origins whose streams are
						   all taken. */
	atomic_size_t		 backlog;	/* Ports sent on calls, not
						   yet taken. */
	_Atomic int64_t		 taken_at;	/* Monotonic ms of the last
						   port taken. */
	_Atomic int64_t		 moved_at;	/* Monotonic ms when an origin
						   last became full or not. */
	struct transport_port	*active;
	struct transport_port	*due_head;	/* Active ports with a
						   timeout, earliest due_at
						   first. */
	struct transport_port	*due_tail;
	struct origin		**origins;	/* ORIGIN_BUCKETS, unless
						   alone. */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The clock of the holds and of the wait charged against -m,
 * fetch_transport_set_hold_clock()'s: NULL for now_ms().  Set only while
 * no transport exists, so it needs no atomic.
 */
static int64_t	(*hold_clock)(void);

/*
 * Monotonic ms for the holds (when they start and whether they lapsed)
 * and for a transfer's wait before it starts (start_charged()).
 */
static int64_t
hold_now(void)
{
	return hold_clock != NULL ? hold_clock() : now_ms();
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
	struct lane *l = arg;
	struct transport *t = l->t;
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
	ev.data.u64 = (uint64_t)l->index << 32 | (uint32_t)s;
	if (epoll_ctl(t->ep, op, s, &ev) != 0 && (op == EPOLL_CTL_MOD ||
	    errno != EEXIST || epoll_ctl(t->ep, EPOLL_CTL_MOD, s, &ev) != 0))
		return -1;
	if (sockp == NULL)
		curl_multi_assign(l->multi, s, l);
	return 0;
}

/* libcurl's CURLMOPT_TIMERFUNCTION: when to call it back at the latest. */
static int
on_timer(CURLM *multi, long ms, void *arg)
{
	struct lane *l = arg;

	(void)multi;
	l->timer_at = ms < 0 ? -1 : now_ms() + ms;
	return 0;
}

static void
answer(struct transport_port *p, CURLcode cc, bool aborted)
{
	struct answer a = { cc, aborted, false };

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

/*
 * Puts p into the due list to be looked at from at: from the tail, where
 * a port started now mostly goes, as its deadline counts from its
 * hand-over; one that waited for its origin's streams passes the ports
 * started since.
 */
static void
due_insert(struct transport *t, struct transport_port *p, int64_t at)
{
	struct transport_port *q = t->due_tail;

	while (q != NULL && q->due_at > at)
		q = q->due_prev;
	p->due_at = at;
	p->due_prev = q;
	p->due_next = q != NULL ? q->due_next : t->due_head;
	if (p->due_next != NULL)
		p->due_next->due_prev = p;
	else
		t->due_tail = p;
	if (q != NULL)
		q->due_next = p;
	else
		t->due_head = p;
	p->due = true;
}

static void
due_unlink(struct transport *t, struct transport_port *p)
{
	if (!p->due)
		return;
	if (p->due_prev != NULL)
		p->due_prev->due_next = p->due_next;
	else
		t->due_head = p->due_next;
	if (p->due_next != NULL)
		p->due_next->due_prev = p->due_prev;
	else
		t->due_tail = p->due_prev;
	p->due_prev = p->due_next = NULL;
	p->due = false;
}

/* FNV-1a: the bucket of an origin's name. */
static size_t
origin_bucket(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0')
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h % ORIGIN_BUCKETS;
}

/* The origin called name, made if new; NULL when out of memory. */
static struct origin *
origin_get(struct transport *t, const char *name)
{
	struct origin **b = &t->origins[origin_bucket(name)], *o;

	for (o = *b; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0)
			return o;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	if ((o->name = strdup(name)) == NULL) {
		free(o);
		return NULL;
	}
	o->next = *b;
	*b = o;
	return o;
}

/*
 * Makes lane i's multi handle, the first time a transfer runs in the
 * lane: a run that may have thousands of workers but has few URLs makes
 * one.  Returns 0, or -1 when out of memory (the lane stays unmade).
 */
static int
lane_init(struct transport *t, uint32_t i)
{
	struct lane *l = &t->lanes[i];

	l->t = t;
	l->index = i;
	l->timer_at = -1;
	/*
	 * libcurl counts connections in use against CURLMOPT_MAXCONNECTS
	 * too: room for every port of the lane's (the one of a transport
	 * alone), and idle more.
	 */
	if ((l->multi = curl_multi_init()) == NULL ||
	    curl_multi_setopt(l->multi, CURLMOPT_PIPELINING,
	    CURLPIPE_MULTIPLEX) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS,
	    (t->alone ? 1 : LANE_PORTS) + t->idle) != CURLM_OK)
		goto fail;
	if (t->alone)
		goto made;
	if (curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket) !=
	    CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer) !=
	    CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK)
		goto fail;
made:
	if (i >= t->used)
		t->used = i + 1;
	return 0;

fail:
	curl_multi_cleanup(l->multi);
	l->multi = NULL;
	return -1;
}

/*
 * Counts o in t->full while every stream it may have is taken, after its
 * count of active transfers or its http1 changed.  Only a full origin
 * has a queue: a transfer is queued only then, and one leaving makes room
 * for the first queued.  full and moved_at (and backlog and taken_at, in
 * take_calls()) are read by other threads (fetch_transport_holds()) and
 * order nothing: relaxed, here and in take_calls().
 */
static void
origin_count(struct transport *t, struct origin *o)
{
	bool full = !o->http1 && o->active >= STREAMS_MAX;

	if (full == o->full)
		return;
	o->full = full;
	if (full)
		atomic_fetch_add_explicit(&t->full, 1, memory_order_relaxed);
	else
		atomic_fetch_sub_explicit(&t->full, 1, memory_order_relaxed);
	atomic_store_explicit(&t->moved_at, hold_now(), memory_order_relaxed);
}

/* Gives p's easy handle the caller's timeout again, for its next transfer. */
static void
restore_timeout(struct transport_port *p)
{
	if (p->shortened) {
		curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, p->timeout_ms);
		p->shortened = false;
	}
}

/*
 * Puts p's transfer into a multi handle, or answers p if it cannot: lane
 * 0 while its origin may speak HTTP/2, its own lane otherwise.
 */
static void
start(struct transport *t, struct transport_port *p)
{
	CURLMcode mc = CURLM_OUT_OF_MEMORY;
	uint32_t i = p->o != NULL && !p->o->http1 ? 0 : p->home;

	p->lane = &t->lanes[i];
	if ((p->lane->multi == NULL && lane_init(t, i) < 0) ||
	    (mc = curl_multi_add_handle(p->lane->multi, p->easy)) !=
	    CURLM_OK) {
		p->o = NULL;
		p->lane = NULL;
		restore_timeout(p);
		answer(p, mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY :
		    CURLE_FAILED_INIT, false);
		return;
	}
	if (p->o != NULL) {
		p->o->active++;
		origin_count(t, p->o);
	}
	p->prev = NULL;
	p->next = t->active;
	if (t->active != NULL)
		t->active->prev = p;
	t->active = p;
	if (p->timeout_ms > 0)
		due_insert(t, p, p->deadline + DUE_SLACK_MS);
}

/*
 * Queues p behind the others waiting for its origin's room, and takes the
 * first off o's queue.
 */
static void
origin_push(struct transport_port *p)
{
	p->next = NULL;
	if (p->o->tail != NULL)
		p->o->tail->next = p;
	else
		p->o->head = p;
	p->o->tail = p;
}

static struct transport_port *
origin_pop(struct origin *o)
{
	struct transport_port *p = o->head;

	if ((o->head = p->next) == NULL)
		o->tail = NULL;
	p->next = NULL;
	return p;
}

/*
 * Starts p's transfer, counting the time since its hand-over against its
 * own (-m): it starts with what is left, or not at all when nothing is,
 * so that neither a stalled origin's queue nor a transport thread behind
 * with its calls (a hundred TLS handshakes under a sanitizer took it two
 * seconds) doubles it.
 */
static void
start_charged(struct transport *t, struct transport_port *p)
{
	struct answer expired = { CURLE_OPERATION_TIMEDOUT, false, true };
	int64_t waited = hold_now() - p->queued_at;

	if (p->timeout_ms > 0 && waited >= p->timeout_ms) {
		p->o = NULL;
		/* Its channel has room: see answer(). */
		(void)chan_send(p->answers, &expired);
		return;
	}
	if (p->timeout_ms > 0 && waited > 0) {
		curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS,
		    p->timeout_ms - (long)waited);
		p->shortened = true;
	}
	p->deadline = now_ms() + p->timeout_ms - (waited > 0 ? waited : 0);
	start(t, p);
}

/* Starts what waits for o while o has room. */
static void
start_waiting(struct transport *t, struct origin *o)
{
	while (o->head != NULL && (o->http1 || o->active < STREAMS_MAX))
		start_charged(t, origin_pop(o));
}

/*
 * Puts the ports callers have sent into the multi handle, or into their
 * origin's queue when it has no room.
 */
static void
take_calls(struct transport *t)
{
	struct transport_port *p;
	size_t taken = 0;

	(void)atomic_exchange(&t->wake_pending, false);
	while (chan_try_recv(t->calls, &p) == 0) {
		atomic_fetch_sub_explicit(&t->backlog, 1, memory_order_relaxed);
		taken++;
		if (atomic_load(&t->cancelled)) {
			answer(p, CURLE_ABORTED_BY_CALLBACK, true);
			continue;
		}
		p->o = NULL;
		if (p->origin != NULL &&
		    (p->o = origin_get(t, p->origin)) == NULL) {
			answer(p, CURLE_OUT_OF_MEMORY, false);
			continue;
		}
		if (p->o == NULL || p->o->http1 ||
		    p->o->active < STREAMS_MAX) {
			start_charged(t, p);
			continue;
		}
		origin_push(p);
	}
	if (taken > 0)
		atomic_store_explicit(&t->taken_at, hold_now(),
		    memory_order_relaxed);
}

/*
 * Takes p's transfer out of the multi handle, and lets its origin start
 * another; an answer over HTTP/1 lifts the origin's cap.
 */
static void
finish(struct transport *t, struct transport_port *p)
{
	struct origin *o = p->o;
	long v = 0;

	if (o != NULL && curl_easy_getinfo(p->easy, CURLINFO_HTTP_VERSION,
	    &v) == CURLE_OK && (v == CURL_HTTP_VERSION_1_0 ||
	    v == CURL_HTTP_VERSION_1_1))
		o->http1 = true;
	curl_multi_remove_handle(p->lane->multi, p->easy);
	unlink_port(t, p);
	due_unlink(t, p);
	p->o = NULL;
	p->lane = NULL;
	restore_timeout(p);
	if (o != NULL) {
		o->active--;
		origin_count(t, o);
		start_waiting(t, o);
	}
}

/* Answers the ports whose transfers in l have ended. */
static void
answer_done(struct transport *t, struct lane *l)
{
	struct transport_port *p;
	CURLMsg *msg;
	CURLcode cc;
	CURL *easy;
	char *priv;
	int left;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is freed when its handle leaves the multi handle. */
		easy = msg->easy_handle;
		cc = msg->data.result;
		if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) !=
		    CURLE_OK || priv == NULL)
			continue;
		p = (struct transport_port *)(void *)priv;
		finish(t, p);
		answer(p, cc, false);
	}
}

/*
 * Answers every transfer aborted, those waiting for their origin first:
 * ending one in the multi handle lets its origin start another.
 */
static void
abort_all(struct transport *t)
{
	struct transport_port *p;
	struct origin *o;
	size_t i;

	if (t->active == NULL)
		return;
	for (i = 0; i < ORIGIN_BUCKETS; i++)
		for (o = t->origins[i]; o != NULL; o = o->next) {
			while (o->head != NULL) {
				p = origin_pop(o);
				p->o = NULL;
				answer(p, CURLE_ABORTED_BY_CALLBACK, true);
			}
		}
	while ((p = t->active) != NULL) {
		finish(t, p);
		answer(p, CURLE_ABORTED_BY_CALLBACK, true);
	}
}

/*
 * Has libcurl look at every transfer of each lane that runs one past its
 * deadline, whose timer libcurl may have dropped (see DUE_SLACK_MS): a
 * transfer out of time ends there, with libcurl's error.  Each such port
 * is due again after as long again as it is late.
 */
static void
look_at_overdue(struct transport *t)
{
	struct transport_port *p;
	struct lane *l;
	int64_t now, late;
	size_t j;
	int running;
	bool any = false;

	/* Called at every turn of the loop: mostly nothing is due. */
	if (t->due_head == NULL)
		return;
	now = now_ms();
	while ((p = t->due_head) != NULL && p->due_at <= now) {
		due_unlink(t, p);
		p->lane->overdue = true;
		late = now - p->deadline;
		due_insert(t, p, now + (late > DUE_SLACK_MS ? late :
		    DUE_SLACK_MS));
		any = true;
	}
	for (j = 0; any && j < t->used; j++) {
		l = &t->lanes[j];
		if (!l->overdue)
			continue;
		l->overdue = false;
		/*
		 * The one call of libcurl 7.88 that runs every transfer of a
		 * multi handle driven by sockets and tells of their sockets
		 * after (curl_multi_perform() would leave the epoll set
		 * stale); deprecated for curl_multi_socket_action(), which
		 * runs only those a socket or a timer names.
		 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		curl_multi_socket_all(l->multi, &running);
#pragma GCC diagnostic pop
		l->busy = true;
	}
}

/*
 * Milliseconds epoll_wait() may sleep: until the first of the lanes'
 * timers or of the deadlines to look at, or -1.
 */
static int
sleep_ms(const struct transport *t)
{
	int64_t at = -1, left;
	size_t i;

	for (i = 0; i < t->used; i++)
		if (t->lanes[i].timer_at >= 0 &&
		    (at < 0 || t->lanes[i].timer_at < at))
			at = t->lanes[i].timer_at;
	if (t->due_head != NULL && (at < 0 || t->due_head->due_at < at))
		at = t->due_head->due_at;
	if (at < 0)
		return -1;
	left = at - now_ms();
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
	struct lane *l;
	uint64_t count;
	int64_t now;
	uint32_t tag;
	size_t j;
	int i, n, running;

	for (;;) {
		n = epoll_wait(t->ep, evs, EVENTS_MAX, sleep_ms(t));
		for (i = 0; i < n; i++) {
			if ((tag = (uint32_t)(evs[i].data.u64 >> 32)) ==
			    WAKE_TAG) {
				(void)read(t->wake, &count, sizeof(count));
				continue;
			}
			l = &t->lanes[tag];
			curl_multi_socket_action(l->multi,
			    (curl_socket_t)(uint32_t)evs[i].data.u64,
			    select_bits(evs[i].events), &running);
			l->busy = true;
		}
		now = now_ms();
		for (j = 0; j < t->used; j++) {
			l = &t->lanes[j];
			if (l->timer_at < 0 || now < l->timer_at)
				continue;
			/* A new timer may be set from inside the call. */
			l->timer_at = -1;
			curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT,
			    0, &running);
			l->busy = true;
		}
		look_at_overdue(t);
		take_calls(t);
		for (j = 0; j < t->used; j++)
			if (t->lanes[j].busy) {
				t->lanes[j].busy = false;
				answer_done(t, &t->lanes[j]);
			}
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
	struct origin *o;
	size_t i;

	for (i = 0; t->origins != NULL && i < ORIGIN_BUCKETS; i++)
		while ((o = t->origins[i]) != NULL) {
			t->origins[i] = o->next;
			free(o->name);
			free(o);
		}
	free(t->origins);
	for (i = 0; i < t->used; i++)
		if (t->lanes[i].multi != NULL)
			curl_multi_cleanup(t->lanes[i].multi);
	free(t->lanes);
	if (t->ep >= 0)
		close(t->ep);
	if (t->wake >= 0)
		close(t->wake);
	chan_free(t->calls);
	free(t);
}

struct transport *
fetch_transport_new(size_t callers, long idle)
{
	struct transport *t;
	struct epoll_event ev;
	int e;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ep = t->wake = -1;
	atomic_init(&t->wake_pending, false);
	atomic_init(&t->cancelled, false);
	atomic_init(&t->stopping, false);
	atomic_init(&t->next_port, 0);
	atomic_init(&t->full, 0);
	atomic_init(&t->backlog, 0);
	atomic_init(&t->taken_at, 0);
	atomic_init(&t->moved_at, 0);
	if (callers == 0)
		callers = 1;
	if (callers / LANE_PORTS >= WAKE_TAG ||
	    (t->lanes = calloc((callers + LANE_PORTS - 1) / LANE_PORTS,
	    sizeof(*t->lanes))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	t->nlanes = (callers + LANE_PORTS - 1) / LANE_PORTS;
	t->idle = idle;
	/* A caller alone never calls the thread nor waits for an origin. */
	if ((t->alone = callers == 1)) {
		if (lane_init(t, 0) < 0) {
			errno = ENOMEM;
			goto fail;
		}
		return t;
	}
	if ((t->calls = chan_new(sizeof(struct transport_port *), callers)) ==
	    NULL || (t->origins = calloc(ORIGIN_BUCKETS,
	    sizeof(*t->origins))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if ((t->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)WAKE_TAG << 32;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &ev) != 0)
		goto fail;
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

bool
fetch_transport_holds(struct transport *t, size_t callers, long *left_ms)
{
	int64_t left = 0, now;

	if (t == NULL)
		return false;
	now = hold_now();
	if (atomic_load_explicit(&t->full, memory_order_relaxed) > 0)
		left = atomic_load_explicit(&t->moved_at,
		    memory_order_relaxed) + FETCH_TRANSPORT_HOLD_MS - now;
	if (left <= 0 && callers >= LANE_PORTS && atomic_load_explicit(
	    &t->backlog, memory_order_relaxed) >= BACKLOG_HOLD)
		left = atomic_load_explicit(&t->taken_at,
		    memory_order_relaxed) + FETCH_TRANSPORT_HOLD_MS - now;
	if (left <= 0)
		return false;
	*left_ms = (long)left;
	return true;
}

void
fetch_transport_set_hold_clock(int64_t (*clock)(void))
{
	hold_clock = clock;
}

void
fetch_transport_cancel(struct transport *t)
{
	if (atomic_exchange(&t->cancelled, true))
		return;
	/* Its caller may be in curl_multi_poll(): this ends the wait. */
	if (t->alone)
		(void)curl_multi_wakeup(t->lanes[0].multi);
	else
		wake(t);
}

void
fetch_transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	if (!t->alone) {
		atomic_store(&t->stopping, true);
		wake(t);
		pthread_join(t->tid, NULL);
	}
	transport_destroy(t);
}

struct transport_port *
fetch_transport_port_new(struct transport *t, CURL *easy)
{
	struct transport_port *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->t = t;
	p->easy = easy;
	p->home = (uint32_t)(atomic_fetch_add(&t->next_port, 1) / LANE_PORTS %
	    t->nlanes);
	/* Only a transport's thread looks for the port of an easy handle. */
	if ((p->answers = chan_new(sizeof(struct answer), 1)) == NULL ||
	    (!t->alone && curl_easy_setopt(easy, CURLOPT_PRIVATE, p) !=
	    CURLE_OK)) {
		chan_free(p->answers);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void
fetch_transport_port_free(struct transport_port *p)
{
	if (p == NULL)
		return;
	chan_free(p->answers);
	free(p);
}

/*
 * fetch_transport_perform() for a transport alone: runs the transfer on the
 * lane's multi handle in the caller's thread, waking once a second, or
 * at once on fetch_transport_cancel(), to look at the cancelled flag, and
 * just past the transfer's deadline (timeout_ms; 0: none), when libcurl
 * may have dropped its timer (see DUE_SLACK_MS): curl_multi_perform()
 * looks at the transfer whatever its timers.
 */
static CURLcode
perform_alone(struct transport *t, struct transport_port *p, long timeout_ms,
    bool *aborted)
{
	CURLM *m = t->lanes[0].multi;
	CURLMsg *msg;
	CURLMcode mc;
	CURLcode cc;
	int64_t deadline = now_ms() + timeout_ms + DUE_SLACK_MS, wait, till;
	int running, left;

	if ((mc = curl_multi_add_handle(m, p->easy)) != CURLM_OK)
		return mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY :
		    CURLE_FAILED_INIT;
	for (;;) {
		/*
		 * Pairs with fetch_transport_cancel(): a cancel after this load
		 * wakes the poll below, whose wake-up waits for it.
		 */
		if (atomic_load(&t->cancelled)) {
			*aborted = true;
			cc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if ((mc = curl_multi_perform(m, &running)) != CURLM_OK) {
			cc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY :
			    CURLE_FAILED_INIT;
			break;
		}
		if ((msg = curl_multi_info_read(m, &left)) != NULL &&
		    msg->msg == CURLMSG_DONE) {
			cc = msg->data.result;
			break;
		}
		wait = 1000;
		if (timeout_ms > 0 && (till = deadline - now_ms()) < wait)
			wait = till > DUE_SLACK_MS ? till : DUE_SLACK_MS;
		if ((mc = curl_multi_poll(m, NULL, 0, (int)wait, NULL)) !=
		    CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			break;
		}
	}
	curl_multi_remove_handle(m, p->easy);
	return cc;
}

CURLcode
fetch_transport_perform(struct transport_port *p, const char *origin,
    long timeout_ms, bool *aborted)
{
	struct transport *t = p->t;
	struct answer a;

	*aborted = false;
	p->expired = false;
	if (t->alone)
		return perform_alone(t, p, timeout_ms, aborted);
	p->origin = origin;
	p->timeout_ms = timeout_ms;
	p->queued_at = hold_now();
	/*
	 * Neither channel is ever closed, and each waits only while the
	 * transport thread is busy: both calls succeed.
	 */
	/*
	 * Relaxed, as the decrement in take_calls() and the loads in
	 * fetch_transport_holds(): a count for a heuristic, ordering
	 * nothing; the port itself is published by the channel.
	 */
	atomic_fetch_add_explicit(&t->backlog, 1, memory_order_relaxed);
	(void)chan_send(t->calls, &p);
	if (!atomic_exchange(&t->wake_pending, true))
		wake(t);
	(void)chan_recv(p->answers, &a);
	*aborted = a.aborted;
	p->expired = a.expired;
	return a.cc;
}

char *
fetch_transport_origin(const char *url)
{
	static const char https[] = "https://";
	const char *host = url + sizeof(https) - 1, *path, *at;
	size_t n;
	char *o;

	errno = 0;
	if (strncmp(url, https, sizeof(https) - 1) != 0 ||
	    (path = strchr(host, '/')) == NULL)
		return NULL;
	/* libcurl escapes an '@' in the credentials: the last ends them. */
	for (at = host; at < path; at++)
		if (*at == '@')
			host = at + 1;
	n = sizeof(https) + (size_t)(path - host);
	if ((o = malloc(n)) != NULL)
		snprintf(o, n, "%s%.*s", https, (int)(path - host), host);
	return o;
}

bool
fetch_transport_expired(const struct transport_port *p)
{
	return p->expired;
}
