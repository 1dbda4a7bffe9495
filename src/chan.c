/* chan.c: Go's channels on a mutex per channel and per-waiter parkers. */

/* pthread_cond_clockwait() is a GNU extension (glibc 2.30). */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"

/*
 * Design.  Each channel has one mutex guarding its ring buffer, its closed
 * flag and two FIFO queues of waiters: threads blocked to send and to
 * receive.  A blocked operation puts a waiter record (on its own stack) in
 * a queue and parks on a parker, also on its stack.  The thread that
 * completes the operation copies the value straight to or from the
 * waiter's memory ("direct hand-off") and then wakes only that thread: no
 * broadcast, no thundering herd.
 *
 * A select enqueues one waiter per case, all sharing one parker.  Whoever
 * first claims the parker (a compare-and-swap from WAITING or SLEEPING to
 * CLAIMED) owns the select's outcome; everyone else finds the parker
 * claimed, drops that stale waiter from its queue and looks further.  A
 * timeout is a claim too (to CANCELLED), made by the parked thread itself.
 *
 * A parked thread first spins briefly, since on a multi-core machine the
 * other side usually answers within a microsecond, and only then sleeps on
 * its parker's condition variable.  It announces the sleep by moving the
 * parker from WAITING to SLEEPING under the parker's mutex; a waker that
 * claims a SLEEPING parker must signal it under that mutex, and one that
 * claims a WAITING parker need only publish DONE, after which it never
 * touches the parker again.  That rule is what lets parkers live on the
 * parked thread's stack.
 */

enum {
	PARK_WAITING,		/* Parked, spinning. */
	PARK_SLEEPING,		/* Parked, asleep on the condition variable. */
	PARK_CLAIMED,		/* A waker is completing the operation. */
	PARK_DONE,		/* Completed; the waker is done with the parker. */
	PARK_CANCELLED		/* Timed out; claimed by the parked thread. */
};

struct parker {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	atomic_int	 state;
	struct waiter	*fired;		/* The waiter that completed. */
	struct blocked	*rec;		/* NULL unless diagnostics are on. */
};

struct waiter {
	struct waiter	*next;
	struct waiter	*prev;
	struct parker	*p;
	void		*elem;		/* Source of a send, target of a recv. */
	size_t		 index;		/* The select case, 0 otherwise. */
	bool		 queued;	/* Guarded by the channel's mutex. */
	bool		 ok;		/* Set by the waker: a value moved. */
	int		 claimed_from;	/* Parker state the waker saw. */
};

struct waitq {
	struct waiter	*head;
	struct waiter	*tail;
};

struct chan {
	pthread_mutex_t	 mu;
	size_t		 elem_size;
	size_t		 cap;
	size_t		 head;		/* Index of the oldest buffered value. */
	size_t		 len;		/* Values buffered. */
	bool		 closed;
	struct waitq	 recvq;
	struct waitq	 sendq;
	unsigned long long nsend;	/* Values sent, and received. */
	unsigned long long nrecv;
	atomic_ullong	 blocked_ns;	/* Counted with diagnostics on. */
	unsigned char	 buf[];		/* cap * elem_size bytes. */
};

/*
 * How long a parked thread polls before it sleeps: SPIN_ROUNDS polls with
 * a pause, for a counterpart running on another core, then YIELD_ROUNDS
 * polls that yield the processor, for one waiting to run on this one.
 */
#ifndef SPIN_ROUNDS
#define SPIN_ROUNDS	100
#endif
#ifndef YIELD_ROUNDS
#define YIELD_ROUNDS	10
#endif

/* Select cases handled without allocating. */
#define SELECT_STACK	64

/*
 * Diagnostics (CHAN_DEBUG=1 or chan_debug()).  Every operation that parks
 * links a record of itself into one registry, under one mutex, and whoever
 * claims its parker unlinks it; so the registry always lists the threads
 * that are blocked and cannot go on by themselves.  Off, the only cost is
 * one relaxed load on the path that parks, which is slow anyway.
 *
 * Threads started by chan_go(), and the main thread, are "known".  When
 * every known thread is parked without a timeout and the process has no
 * other thread that could wake one, nothing ever will: that is Go's
 * "all goroutines are asleep" and ends the process.
 */
struct blocked {
	struct blocked	*next;
	struct blocked	*prev;
	const char	*what;		/* "chan send", "chan receive"... */
	const chan_t	*ch;		/* NULL for a select. */
	size_t		 ncases;
	unsigned long	 thread;	/* 0: not started by chan_go(). */
	bool		 known;
	bool		 timed;
	bool		 linked;	/* Guarded by dbg_mu. */
	struct timespec	 since;
};

static atomic_bool	 dbg_on;

/*
 * Whether to record blocked operations.  CHAN_NO_DIAGNOSTICS compiles the
 * hooks out, for the benchmark that shows what they cost while off.
 */
#ifdef CHAN_NO_DIAGNOSTICS
#define DBG_ON()	false
#else
#define DBG_ON()	atomic_load_explicit(&dbg_on, memory_order_relaxed)
#endif
static pthread_mutex_t	 dbg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct blocked	*dbg_head;		/* Guarded by dbg_mu. */
static size_t		 dbg_known_alive = 1;	/* Main, and chan_go()'s. */
static atomic_ulong	 dbg_next_thread = 2;	/* Main is thread 1. */
static pthread_t	 dbg_main;
static pthread_once_t	 dbg_once = PTHREAD_ONCE_INIT;
static _Thread_local unsigned long dbg_thread;	/* 0: unknown. */

static double
elapsed_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static unsigned long
dbg_self(void)
{
	if (dbg_thread == 0 && pthread_equal(pthread_self(), dbg_main))
		dbg_thread = 1;
	return dbg_thread;
}

static void
dbg_print(FILE *fp, const struct blocked *b)
{
	if (b->thread != 0)
		fprintf(fp, "thread %lu%s [%s", b->thread,
		    b->thread == 1 ? " (main)" : "", b->what);
	else
		fprintf(fp, "thread ? [%s", b->what);
	if (b->ch != NULL)
		fprintf(fp, "]: channel %p (%zu-byte values, cap %zu)",
		    (const void *)b->ch, b->ch->elem_size, b->ch->cap);
	else
		fprintf(fp, "]: %zu cases", b->ncases);
	fprintf(fp, ", blocked %.2fs%s\n", elapsed_since(&b->since),
	    b->timed ? " with a timeout" : "");
}

/* Counts the process's threads; 0 when it cannot tell. */
static size_t
dbg_tasks(void)
{
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * ThreadSanitizer runs a thread of its own once a program has started one,
 * which must not count as a thread that could wake anybody.
 */
#if defined(__SANITIZE_THREAD__)
#define RUNTIME_THREADS	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RUNTIME_THREADS	1
#endif
#endif
#ifndef RUNTIME_THREADS
#define RUNTIME_THREADS	0
#endif

/*
 * Ends the process if every known thread is parked for good.  exiting is
 * 1 when called by a known thread on its way out.  Called under dbg_mu.
 */
static void
dbg_check_deadlock(size_t exiting)
{
	const struct blocked *b;
	size_t asleep = 0;

	for (b = dbg_head; b != NULL; b = b->next)
		if (b->known && !b->timed)
			asleep++;
	if (asleep == 0 || asleep < dbg_known_alive ||
	    dbg_tasks() > dbg_known_alive + exiting + RUNTIME_THREADS)
		return;
	fprintf(stderr, "fatal error: all threads are asleep - deadlock!\n\n");
	for (b = dbg_head; b != NULL; b = b->next)
		dbg_print(stderr, b);
	abort();
}

static void
blocked_link(struct blocked *b, struct parker *p, const char *what,
    const chan_t *ch, size_t ncases, bool timed)
{
	b->what = what;
	b->ch = ch;
	b->ncases = ncases;
	b->thread = dbg_self();
	b->known = b->thread != 0;
	b->timed = timed;
	clock_gettime(CLOCK_MONOTONIC, &b->since);
	pthread_mutex_lock(&dbg_mu);
	b->prev = NULL;
	b->next = dbg_head;
	if (dbg_head != NULL)
		dbg_head->prev = b;
	dbg_head = b;
	b->linked = true;
	if (b->known && !timed)
		dbg_check_deadlock(0);
	pthread_mutex_unlock(&dbg_mu);
	p->rec = b;
}

static void
blocked_unlink(struct blocked *b)
{
	pthread_mutex_lock(&dbg_mu);
	if (b->linked) {
		if (b->prev != NULL)
			b->prev->next = b->next;
		else
			dbg_head = b->next;
		if (b->next != NULL)
			b->next->prev = b->prev;
		b->linked = false;
	}
	pthread_mutex_unlock(&dbg_mu);
}

/* After the wait: unlinks, and charges the time blocked to ch. */
static void
blocked_done(struct blocked *b, chan_t *ch)
{
	blocked_unlink(b);
	if (ch != NULL)
		atomic_fetch_add_explicit(&ch->blocked_ns,
		    (unsigned long long)(elapsed_since(&b->since) * 1e9),
		    memory_order_relaxed);
}

static void
dbg_atexit(void)
{
	const struct blocked *b;
	size_t n = 0;

	pthread_mutex_lock(&dbg_mu);
	for (b = dbg_head; b != NULL; b = b->next)
		n++;
	if (n > 0) {
		fprintf(stderr, "chan: %zu thread%s still blocked at exit "
		    "(leaked):\n", n, n == 1 ? "" : "s");
		for (b = dbg_head; b != NULL; b = b->next) {
			fputs("chan:   ", stderr);
			dbg_print(stderr, b);
		}
	}
	pthread_mutex_unlock(&dbg_mu);
}

static void
dbg_register_atexit(void)
{
	atexit(dbg_atexit);
}

void
chan_debug(bool on)
{
	if (on)
		pthread_once(&dbg_once, dbg_register_atexit);
	atomic_store(&dbg_on, on);
}

bool
chan_debug_enabled(void)
{
	return atomic_load(&dbg_on);
}

void
chan_debug_report(FILE *fp)
{
	const struct blocked *b;

	pthread_mutex_lock(&dbg_mu);
	for (b = dbg_head; b != NULL; b = b->next)
		dbg_print(fp, b);
	pthread_mutex_unlock(&dbg_mu);
}

/* Reads CHAN_DEBUG and notes the main thread before main() runs. */
__attribute__((constructor)) static void
dbg_init(void)
{
	const char *v = getenv("CHAN_DEBUG");

	dbg_main = pthread_self();
	if (v != NULL && *v != '\0' && strcmp(v, "0") != 0)
		chan_debug(true);
}

struct go_start {
	void		(*fn)(void *);
	void		*arg;
	unsigned long	 thread;
};

static void *
go_main(void *arg)
{
	struct go_start st = *(struct go_start *)arg;

	free(arg);
	dbg_thread = st.thread;
	st.fn(st.arg);
	pthread_mutex_lock(&dbg_mu);
	dbg_known_alive--;
	if (DBG_ON())
		dbg_check_deadlock(1);
	pthread_mutex_unlock(&dbg_mu);
	return NULL;
}

int
chan_go(void (*fn)(void *), void *arg)
{
	struct go_start *st;
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	if (fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((st = malloc(sizeof(*st))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	st->fn = fn;
	st->arg = arg;
	st->thread = atomic_fetch_add(&dbg_next_thread, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Counted before it runs, so that it is never missed. */
	pthread_mutex_lock(&dbg_mu);
	dbg_known_alive++;
	pthread_mutex_unlock(&dbg_mu);
	err = pthread_create(&tid, &attr, go_main, st);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		pthread_mutex_lock(&dbg_mu);
		dbg_known_alive--;
		pthread_mutex_unlock(&dbg_mu);
		free(st);
		errno = err;
		return -1;
	}
	return 0;
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void
waitq_push(struct waitq *q, struct waiter *w)
{
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	w->queued = true;
}

static void
waitq_remove(struct waitq *q, struct waiter *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->next = w->prev = NULL;
	w->queued = false;
}

/*
 * Claims a parker for completion.  On success the caller must finish the
 * operation and then call waiter_complete(), having saved *was in it.
 */
static bool
parker_claim(struct parker *p, int *was)
{
	int s = atomic_load_explicit(&p->state, memory_order_acquire);

	while (s == PARK_WAITING || s == PARK_SLEEPING) {
		if (atomic_compare_exchange_weak_explicit(&p->state, &s,
		    PARK_CLAIMED, memory_order_acq_rel, memory_order_acquire)) {
			*was = s;
			return true;
		}
	}
	return false;
}

/*
 * Publishes the operation completed for w and wakes its thread.  After
 * this the waiter and its parker may be gone.
 */
static void
waiter_complete(struct waiter *w)
{
	struct parker *p = w->p;
	int was = w->claimed_from;

	if (was == PARK_SLEEPING) {
		pthread_mutex_lock(&p->mu);
		atomic_store_explicit(&p->state, PARK_DONE,
		    memory_order_release);
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	} else
		atomic_store_explicit(&p->state, PARK_DONE,
		    memory_order_release);
}

/*
 * Takes the first waiter of q whose parker can still be claimed, dropping
 * stale ones (selects that fired elsewhere or timed out).  Returns NULL
 * when there is none.  The caller holds the channel's mutex and must pass
 * the waiter to waiter_complete() once done with it.
 */
static struct waiter *
waitq_claim(struct waitq *q)
{
	struct waiter *w;

	while ((w = q->head) != NULL) {
		waitq_remove(q, w);
		if (parker_claim(w->p, &w->claimed_from)) {
			w->p->fired = w;
			if (w->p->rec != NULL)
				blocked_unlink(w->p->rec);
			return w;
		}
	}
	return NULL;
}

static struct timespec
deadline_after(long timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool
deadline_passed(const struct timespec *dl)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > dl->tv_sec ||
	    (now.tv_sec == dl->tv_sec && now.tv_nsec >= dl->tv_nsec);
}

/*
 * Waits until the parker is completed, or until the deadline (NULL: none)
 * if nobody claims it first.  Returns PARK_DONE or PARK_CANCELLED.
 */
static int
parker_wait(struct parker *p, const struct timespec *dl)
{
	int s, i;
	bool slept = false;

	for (i = 0; i < SPIN_ROUNDS + YIELD_ROUNDS; i++) {
		if (atomic_load_explicit(&p->state, memory_order_acquire) ==
		    PARK_DONE)
			return PARK_DONE;
		if (i < SPIN_ROUNDS)
			cpu_relax();
		else
			sched_yield();
	}

	pthread_mutex_lock(&p->mu);
	for (;;) {
		s = atomic_load_explicit(&p->state, memory_order_acquire);
		if (s == PARK_DONE)
			break;
		if (s == PARK_CLAIMED && !slept) {
			/*
			 * Claimed while spinning: the waker will not signal,
			 * and it finishes within a copy.
			 */
			pthread_mutex_unlock(&p->mu);
			while (atomic_load_explicit(&p->state,
			    memory_order_acquire) != PARK_DONE)
				sched_yield();
			return PARK_DONE;
		}
		if (s == PARK_WAITING) {
			if (dl != NULL && deadline_passed(dl))
				goto cancel;
			if (atomic_compare_exchange_strong_explicit(&p->state,
			    &s, PARK_SLEEPING, memory_order_acq_rel,
			    memory_order_acquire))
				slept = true;
			continue;
		}
		/* SLEEPING, or CLAIMED after sleeping: the waker signals. */
		if (dl != NULL && s == PARK_SLEEPING) {
			if (pthread_cond_clockwait(&p->cv, &p->mu,
			    CLOCK_MONOTONIC, dl) == ETIMEDOUT)
				goto cancel;
		} else
			pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return PARK_DONE;

cancel:
	s = atomic_load_explicit(&p->state, memory_order_acquire);
	while (s == PARK_WAITING || s == PARK_SLEEPING) {
		if (atomic_compare_exchange_weak_explicit(&p->state, &s,
		    PARK_CANCELLED, memory_order_acq_rel,
		    memory_order_acquire)) {
			pthread_mutex_unlock(&p->mu);
			return PARK_CANCELLED;
		}
	}
	/* Claimed at the last moment: the operation completes after all. */
	pthread_mutex_unlock(&p->mu);
	if (s != PARK_DONE && !slept) {
		while (atomic_load_explicit(&p->state, memory_order_acquire) !=
		    PARK_DONE)
			sched_yield();
		return PARK_DONE;
	}
	pthread_mutex_lock(&p->mu);
	while (atomic_load_explicit(&p->state, memory_order_acquire) !=
	    PARK_DONE)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return PARK_DONE;
}

static void
parker_init(struct parker *p)
{
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	atomic_init(&p->state, PARK_WAITING);
	p->fired = NULL;
	p->rec = NULL;
}

static void
parker_destroy(struct parker *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* A never-ready operation: waits out its timeout. */
static int
wait_forever(const char *what, long timeout_ms)
{
	struct timespec dl;

	if (timeout_ms < 0) {
		if (DBG_ON())
			fprintf(stderr, "chan: %s on a NULL channel would "
			    "block forever: failing with EDEADLK\n", what);
		errno = EDEADLK;
		return -1;
	}
	if (timeout_ms == 0) {
		errno = EAGAIN;
		return -1;
	}
	dl = deadline_after(timeout_ms);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) ==
	    EINTR)
		;
	errno = ETIMEDOUT;
	return -1;
}

static inline unsigned char *
slot(chan_t *ch, size_t i)
{
	size_t at = ch->head + i;

	if (at >= ch->cap)
		at -= ch->cap;
	return ch->buf + at * ch->elem_size;
}

static inline void
copy_out(chan_t *ch, void *dst, const void *src)
{
	if (dst != NULL)
		memcpy(dst, src, ch->elem_size);
}

static inline void
zero_out(chan_t *ch, void *dst)
{
	if (dst != NULL)
		memset(dst, 0, ch->elem_size);
}

/*
 * The non-blocking half of a send, under the channel's mutex.  Returns 1
 * when sent (*wake, when set, must go to waiter_complete() after unlocking),
 * 0 when the send would block, -1 when the channel is closed.
 */
static int
send_locked(chan_t *ch, const void *elem, struct waiter **wake)
{
	struct waiter *w;

	*wake = NULL;
	if (ch->closed)
		return -1;
	if ((w = waitq_claim(&ch->recvq)) != NULL) {
		copy_out(ch, w->elem, elem);
		w->ok = true;
		*wake = w;
		ch->nsend++;
		ch->nrecv++;
		return 1;
	}
	if (ch->len < ch->cap) {
		memcpy(slot(ch, ch->len), elem, ch->elem_size);
		ch->len++;
		ch->nsend++;
		return 1;
	}
	return 0;
}

/*
 * The non-blocking half of a receive, under the channel's mutex.  Returns
 * 1 when a value was received, 0 when the receive would block, -1 when the
 * channel is closed and drained (elem zero-filled).
 */
static int
recv_locked(chan_t *ch, void *elem, struct waiter **wake)
{
	struct waiter *w;

	*wake = NULL;
	if ((w = waitq_claim(&ch->sendq)) != NULL) {
		if (ch->cap == 0)
			copy_out(ch, elem, w->elem);
		else {
			/*
			 * A sender waits only on a full buffer: take the
			 * oldest value and append the sender's behind it.
			 */
			copy_out(ch, elem, slot(ch, 0));
			memcpy(slot(ch, 0), w->elem, ch->elem_size);
			if (++ch->head == ch->cap)
				ch->head = 0;
		}
		w->ok = true;
		*wake = w;
		ch->nsend++;
		ch->nrecv++;
		return 1;
	}
	if (ch->len > 0) {
		copy_out(ch, elem, slot(ch, 0));
		if (++ch->head == ch->cap)
			ch->head = 0;
		ch->len--;
		ch->nrecv++;
		return 1;
	}
	if (ch->closed) {
		zero_out(ch, elem);
		return -1;
	}
	return 0;
}

chan_t *
chan_new(size_t elem_size, size_t capacity)
{
	pthread_mutexattr_t attr;
	chan_t *ch;
	size_t bytes;
	int err;

	if (elem_size == 0 || (capacity > 0 &&
	    elem_size > (SIZE_MAX - sizeof(*ch)) / capacity)) {
		errno = EINVAL;
		return NULL;
	}
	bytes = elem_size * capacity;
	if ((ch = calloc(1, sizeof(*ch) + bytes)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	err = pthread_mutex_init(&ch->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	if (err != 0) {
		free(ch);
		errno = err;
		return NULL;
	}
	ch->elem_size = elem_size;
	ch->cap = capacity;
	return ch;
}

void
chan_free(chan_t *ch)
{
	if (ch == NULL)
		return;
	pthread_mutex_destroy(&ch->mu);
	free(ch);
}

/*
 * One send or receive with a timeout (negative: none).  The two directions
 * differ only in which half runs and which queue a blocked caller joins.
 */
static int
chan_op(chan_t *ch, enum chan_op op, void *elem, long timeout_ms)
{
	struct waiter w, *wake;
	struct parker p;
	struct blocked rec;
	struct timespec dl;
	int r;

	if (ch == NULL)
		return wait_forever(op == CHAN_SEND ? "chan send" :
		    "chan receive", timeout_ms);
	pthread_mutex_lock(&ch->mu);
	r = op == CHAN_SEND ? send_locked(ch, elem, &wake) :
	    recv_locked(ch, elem, &wake);
	if (r != 0) {
		pthread_mutex_unlock(&ch->mu);
		if (wake != NULL)
			waiter_complete(wake);
		if (r < 0) {
			errno = EPIPE;
			return -1;
		}
		return 0;
	}
	if (timeout_ms == 0) {
		pthread_mutex_unlock(&ch->mu);
		errno = EAGAIN;
		return -1;
	}

	parker_init(&p);
	w.p = &p;
	w.elem = elem;
	w.index = 0;
	w.ok = false;
	waitq_push(op == CHAN_SEND ? &ch->sendq : &ch->recvq, &w);
	if (DBG_ON())
		blocked_link(&rec, &p, op == CHAN_SEND ? "chan send" :
		    "chan receive", ch, 1, timeout_ms > 0);
	pthread_mutex_unlock(&ch->mu);

	if (timeout_ms > 0)
		dl = deadline_after(timeout_ms);
	r = parker_wait(&p, timeout_ms > 0 ? &dl : NULL);
	if (p.rec != NULL)
		blocked_done(&rec, ch);
	parker_destroy(&p);
	if (r == PARK_CANCELLED) {
		pthread_mutex_lock(&ch->mu);
		if (w.queued)
			waitq_remove(op == CHAN_SEND ? &ch->sendq : &ch->recvq,
			    &w);
		pthread_mutex_unlock(&ch->mu);
		errno = ETIMEDOUT;
		return -1;
	}
	if (!w.ok) {
		if (op == CHAN_RECV)
			zero_out(ch, elem);
		errno = EPIPE;
		return -1;
	}
	return 0;
}

int
chan_send(chan_t *ch, const void *elem)
{
	return chan_op(ch, CHAN_SEND, (void *)elem, -1);
}

int
chan_recv(chan_t *ch, void *elem)
{
	return chan_op(ch, CHAN_RECV, elem, -1);
}

int
chan_try_send(chan_t *ch, const void *elem)
{
	return chan_op(ch, CHAN_SEND, (void *)elem, 0);
}

int
chan_try_recv(chan_t *ch, void *elem)
{
	return chan_op(ch, CHAN_RECV, elem, 0);
}

int
chan_send_timeout(chan_t *ch, const void *elem, long timeout_ms)
{
	return chan_op(ch, CHAN_SEND, (void *)elem, timeout_ms);
}

int
chan_recv_timeout(chan_t *ch, void *elem, long timeout_ms)
{
	return chan_op(ch, CHAN_RECV, elem, timeout_ms);
}

/* Claims every live waiter of q onto *list for a close to wake. */
static void
waitq_close(struct waitq *q, struct waiter **list)
{
	struct waiter *w;

	while ((w = waitq_claim(q)) != NULL) {
		w->ok = false;
		w->next = *list;
		*list = w;
	}
}

int
chan_close(chan_t *ch)
{
	struct waiter *list = NULL, *w, *next;

	if (ch == NULL) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&ch->mu);
	if (ch->closed) {
		pthread_mutex_unlock(&ch->mu);
		errno = EPIPE;
		return -1;
	}
	ch->closed = true;
	waitq_close(&ch->recvq, &list);
	waitq_close(&ch->sendq, &list);
	pthread_mutex_unlock(&ch->mu);

	for (w = list; w != NULL; w = next) {
		next = w->next;
		waiter_complete(w);
	}
	return 0;
}

size_t
chan_len(const chan_t *ch)
{
	chan_t *c = (chan_t *)ch;
	size_t n;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	n = c->len;
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t
chan_cap(const chan_t *ch)
{
	return ch == NULL ? 0 : ch->cap;
}

int
chan_stats(const chan_t *ch, struct chan_stats *st)
{
	chan_t *c = (chan_t *)ch;

	if (c == NULL || st == NULL) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	st->sends = c->nsend;
	st->recvs = c->nrecv;
	st->len = c->len;
	st->cap = c->cap;
	st->closed = c->closed;
	pthread_mutex_unlock(&c->mu);
	st->blocked_secs = (double)atomic_load_explicit(&c->blocked_ns,
	    memory_order_relaxed) / 1e9;
	return 0;
}

void
chan_stats_print(FILE *fp, const chan_t *ch, const char *name)
{
	struct chan_stats st;

	if (chan_stats(ch, &st) < 0)
		return;
	fprintf(fp, "chan %s: %llu sent, %llu received, %zu/%zu buffered, "
	    "%s, %.3fs blocked\n", name != NULL ? name : "?", st.sends,
	    st.recvs, st.len, st.cap, st.closed ? "closed" : "open",
	    st.blocked_secs);
}

bool
chan_closed(const chan_t *ch)
{
	chan_t *c = (chan_t *)ch;
	bool closed;

	if (c == NULL)
		return false;
	pthread_mutex_lock(&c->mu);
	closed = c->closed;
	pthread_mutex_unlock(&c->mu);
	return closed;
}

/* A small xorshift generator per thread, for select's random choice. */
static uint32_t
select_rand(void)
{
	static _Thread_local uint64_t s;

	if (s == 0)
		s = (uint64_t)(uintptr_t)&s ^ (uint64_t)time(NULL) ^
		    0x9e3779b97f4a7c15ULL;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 32);
}

/* Locks the distinct channels of lockorder[0..n), sorted by address. */
static void
select_lock(struct chan_case *cases, const size_t *lockorder, size_t n)
{
	chan_t *last = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (cases[lockorder[i]].ch != last)
			pthread_mutex_lock(&cases[lockorder[i]].ch->mu);
		last = cases[lockorder[i]].ch;
	}
}

static void
select_unlock(struct chan_case *cases, const size_t *lockorder, size_t n)
{
	chan_t *last = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (cases[lockorder[i]].ch != last)
			pthread_mutex_unlock(&cases[lockorder[i]].ch->mu);
		last = cases[lockorder[i]].ch;
	}
}

int
chan_select(struct chan_case *cases, size_t n, long timeout_ms)
{
	size_t stackorder[2 * SELECT_STACK], *pollorder, *lockorder;
	struct waiter stackw[SELECT_STACK], *ws = stackw, *wake;
	struct parker p;
	struct blocked rec;
	struct timespec dl;
	size_t i, j, k, nlock = 0, t;
	struct chan_case *c;
	int r, ret = -1, err = 0;

	if (cases == NULL && n > 0) {
		errno = EINVAL;
		return -1;
	}
	pollorder = stackorder;
	if (n > SELECT_STACK) {
		pollorder = malloc(2 * n * sizeof(*pollorder));
		ws = malloc(n * sizeof(*ws));
		if (pollorder == NULL || ws == NULL) {
			err = ENOMEM;
			goto out;
		}
	}
	lockorder = pollorder + n;

	/*
	 * A uniformly random poll order makes the choice among ready cases
	 * uniform; the lock order, by address, keeps selects deadlock-free.
	 */
	for (i = 0; i < n; i++) {
		j = select_rand() % (i + 1);
		pollorder[i] = pollorder[j];
		pollorder[j] = i;
		if (cases[i].ch == NULL)
			continue;
		for (k = nlock; k > 0 &&
		    (uintptr_t)cases[lockorder[k - 1]].ch >
		    (uintptr_t)cases[i].ch; k--)
			lockorder[k] = lockorder[k - 1];
		lockorder[k] = i;
		nlock++;
	}
	if (nlock == 0) {
		if (wait_forever("select", timeout_ms) < 0)
			err = errno;
		goto out;
	}

	select_lock(cases, lockorder, nlock);
	for (i = 0; i < n; i++) {
		c = &cases[pollorder[i]];
		if (c->ch == NULL)
			continue;
		r = c->op == CHAN_SEND ? send_locked(c->ch, c->elem, &wake) :
		    recv_locked(c->ch, c->elem, &wake);
		if (r != 0) {
			select_unlock(cases, lockorder, nlock);
			if (wake != NULL)
				waiter_complete(wake);
			c->ok = r > 0;
			ret = (int)pollorder[i];
			goto out;
		}
	}
	if (timeout_ms == 0) {
		select_unlock(cases, lockorder, nlock);
		err = EAGAIN;
		goto out;
	}

	parker_init(&p);
	for (i = 0; i < nlock; i++) {
		t = lockorder[i];
		c = &cases[t];
		ws[t].p = &p;
		ws[t].elem = c->elem;
		ws[t].index = t;
		ws[t].ok = false;
		waitq_push(c->op == CHAN_SEND ? &c->ch->sendq :
		    &c->ch->recvq, &ws[t]);
	}
	if (DBG_ON())
		blocked_link(&rec, &p, "select", NULL, n, timeout_ms > 0);
	select_unlock(cases, lockorder, nlock);

	if (timeout_ms > 0)
		dl = deadline_after(timeout_ms);
	r = parker_wait(&p, timeout_ms > 0 ? &dl : NULL);
	if (p.rec != NULL)
		blocked_done(&rec, r == PARK_DONE ?
		    cases[p.fired->index].ch : NULL);

	/* Drop the waiters that did not fire. */
	select_lock(cases, lockorder, nlock);
	for (i = 0; i < nlock; i++) {
		t = lockorder[i];
		c = &cases[t];
		if (ws[t].queued)
			waitq_remove(c->op == CHAN_SEND ? &c->ch->sendq :
			    &c->ch->recvq, &ws[t]);
	}
	select_unlock(cases, lockorder, nlock);
	parker_destroy(&p);

	if (r == PARK_CANCELLED) {
		err = ETIMEDOUT;
		goto out;
	}
	ret = (int)p.fired->index;
	c = &cases[ret];
	c->ok = p.fired->ok;
	if (!c->ok && c->op == CHAN_RECV)
		zero_out(c->ch, c->elem);

out:
	if (pollorder != stackorder) {
		free(pollorder);
		free(ws);
	}
	if (ret < 0)
		errno = err;
	return ret;
}
