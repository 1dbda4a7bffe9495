/* chan.c: Go's channels on a mutex per channel and per-waiter parkers. */

/* pthread_cond_clockwait() is a GNU extension (glibc 2.30). */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"

/*
 * Valgrind's DRD does not see the order that C11 atomics give, which the
 * ring's lock-free paths rely on.  A build with CHAN_VALGRIND (make
 * check-valgrind) tells it: the atomics themselves are not races, and
 * each slot's sequence number hands its value over like a lock.
 * ThreadSanitizer, which does see atomics, needs none of this.
 */
#ifdef CHAN_VALGRIND
#include <valgrind/drd.h>
#define VG_ATOMIC(var)		DRD_IGNORE_VAR(var)
#define VG_HANDS_OVER(addr)	ANNOTATE_HAPPENS_BEFORE(addr)
#define VG_TAKES_OVER(addr)	ANNOTATE_HAPPENS_AFTER(addr)
#else
#define VG_ATOMIC(var)		do { } while (0)
#define VG_HANDS_OVER(addr)	do { } while (0)
#define VG_TAKES_OVER(addr)	do { } while (0)
#endif

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
 * A buffered channel keeps its values in a ring that senders and receivers
 * also use without the lock, as long as nobody waits: each slot carries a
 * sequence number that says whose turn it is (Vyukov's bounded queue), so
 * a sender and a receiver touch different cache lines and never the
 * lock's.  A fast operation that finds the ring full or empty, or anyone
 * waiting, takes the lock instead.  The two sides meet Dekker-style: a
 * blocking thread counts itself in its queue and then looks at the ring
 * again; a fast operation updates the ring and then looks at the counts,
 * and settles the waiters (gives them values or room) under the lock.
 * Either sees the other.  A queue with waiters also sets a bit in the
 * ring position its side moves (senders in the tail, receivers in the
 * head), which a fast operation's compare-and-swap cannot pass: so while
 * a sender waits, only lock holders put values in the ring, and they
 * serve the waiting senders first; the same for receivers and taking
 * values.  No newcomer overtakes a waiter, and a waiter claimed for a
 * slot or a value always finds it there.  Close sets another bit in the
 * tail, so that no fast send gets in after it; a receiver then waits for a
 * send that got in before it as for any value.
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
	bool		 shared;	/* A select with several cases on
					   one channel. */
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
	atomic_uint	 n;		/* Waiters queued, for fast paths. */
	_Atomic(uint64_t) *gate;	/* The ring position that POS_WAITERS
					   closes while this queue has
					   waiters; NULL if unbuffered. */
};

/*
 * The ring of a buffered channel: cap slots of stride bytes, each a
 * sequence number and a value.  Slot pos % cap is free for the send at
 * position pos when its number is 2 pos, and holds the value for the
 * receive at pos when it is 2 pos + 1; the receive sets it to 2 (pos +
 * cap).  (Doubling keeps "full" and "free" apart when cap is 1.)  tail and
 * head count sends into and receives from the ring; they sit on cache
 * lines of their own, apart from the lock.
 */
typedef uint64_t	ring_pos;	/* 64 bits everywhere: never wraps. */
typedef _Atomic(uint64_t) atomic_ring_pos;
#define TAIL_CLOSED	((ring_pos)1 << 63)
#define POS_WAITERS	((ring_pos)1 << 62)
#define POS_FLAGS	(TAIL_CLOSED | POS_WAITERS)
#define SEQ_SIZE	sizeof(atomic_ring_pos)

struct chan {
	pthread_mutex_t	 mu;
	size_t		 elem_size;
	size_t		 cap;
	size_t		 stride;	/* Bytes per slot. */
	size_t		 mask;		/* cap - 1 for a power of two, or 0. */
	bool		 closed;	/* Guarded by mu. */
	struct waitq	 recvq;
	struct waitq	 sendq;
	unsigned long long nsend;	/* Values moved under mu, not through */
	unsigned long long nrecv;	/* the ring: every one if unbuffered. */
	atomic_ullong	 blocked_ns;	/* Counted with diagnostics on. */
	/*
	 * Ring positions (TAIL_CLOSED is set in tail by chan_close(),
	 * POS_WAITERS in tail while senders wait and in head while
	 * receivers do: waitq_push() and waitq_ungate()), and
	 * how many of the sends and receives that took one are done with
	 * the channel, for chan_free() to wait for.
	 */
	_Alignas(64) atomic_ring_pos tail;
	atomic_ring_pos	 puts_done;
	_Alignas(64) atomic_ring_pos head;
	atomic_ring_pos	 gets_done;
	_Alignas(64) unsigned char ring[]; /* cap * stride bytes. */
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

/* Polls of a buffered channel's ring before blocking: ring_poll(). */
#ifndef RING_POLLS
#define RING_POLLS	100
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

/*
 * Counts the process's threads; 0 when it cannot tell.  The kernel's own
 * count: a listing of /proc/self/task can skip threads while others exit,
 * and a deadlock was once declared so with a sender still to come.
 */
static size_t
dbg_tasks(void)
{
	char line[128];
	size_t n = 0;
	FILE *fp;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "Threads:", 8) == 0) {
			n = strtoul(line + 8, NULL, 10);
			break;
		}
	fclose(fp);
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
	size_t asleep = 0, tasks;

	for (b = dbg_head; b != NULL; b = b->next)
		if (b->known && !b->timed)
			asleep++;
	if (asleep == 0 || asleep < dbg_known_alive)
		return;
	/* Without a count, no verdict. */
	tasks = dbg_tasks();
	if (tasks == 0 || tasks > dbg_known_alive + exiting + RUNTIME_THREADS)
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
	pthread_mutex_unlock(&dbg_mu);
	p->rec = b;
}

/*
 * Ends the process if the thread of b, still blocked, now waits with every
 * other known thread for good.  Called once the operation has had its last
 * chance to complete without parking (settle_locked()): until then a value
 * in the ring may be for it, from a sender that has gone since.
 */
static void
blocked_check(const struct blocked *b)
{
	pthread_mutex_lock(&dbg_mu);
	if (b->linked && b->known && !b->timed)
		dbg_check_deadlock(0);
	pthread_mutex_unlock(&dbg_mu);
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

/*
 * After the wait: unlinks, and charges the time blocked to ch.  The
 * thread that completes a wait does this, under ch's lock, since the
 * thread that waited may find ch freed by then.
 */
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

/*
 * Queues w last.  The count goes up, and the gate closes, before the
 * caller looks at the ring again: see the design.
 */
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
	atomic_fetch_add_explicit(&q->n, 1, memory_order_seq_cst);
	if (q->gate != NULL && (atomic_load_explicit(q->gate,
	    memory_order_relaxed) & POS_WAITERS) == 0)
		atomic_fetch_or_explicit(q->gate, POS_WAITERS,
		    memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
}

/*
 * Opens the gate of q, under its channel's lock, once nobody waits in it.
 * Called only at the end of settle_locked(), after the waiters taken off
 * q have had their slots or values: a fast operation let in earlier could
 * take them.  Until then, or after a waiter left by itself (timed out, or
 * fired elsewhere), fast operations find the gate closed and take the
 * lock, where they settle and so come here.
 */
static void
waitq_ungate(struct waitq *q)
{
	if (q->gate != NULL && q->head == NULL && (atomic_load_explicit(
	    q->gate, memory_order_relaxed) & POS_WAITERS) != 0)
		atomic_fetch_and_explicit(q->gate, ~POS_WAITERS,
		    memory_order_release);
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
	atomic_fetch_sub_explicit(&q->n, 1, memory_order_relaxed);
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

/* Unqueues the waiters of parker p from q. */
static void
waitq_drop(struct waitq *q, const struct parker *p)
{
	struct waiter *w, *next;

	for (w = q->head; w != NULL; w = next) {
		next = w->next;
		if (w->p == p)
			waitq_remove(q, w);
	}
}

/*
 * Takes the first waiter of q whose parker can still be claimed, dropping
 * stale ones (selects that fired elsewhere or timed out).  Returns NULL
 * when there is none.  The caller holds the mutex of ch, whose queue q
 * is, and must pass the waiter to waiter_complete() once done with it.
 */
static struct waiter *
waitq_claim(chan_t *ch, struct waitq *q)
{
	struct waiter *w;

	while ((w = q->head) != NULL) {
		waitq_remove(q, w);
		if (parker_claim(w->p, &w->claimed_from)) {
			w->p->fired = w;
			if (w->p->rec != NULL)
				blocked_done(w->p->rec, ch);
			/*
			 * A select's thread does not come back to the channel
			 * that fired it (its receiver may have freed it), so
			 * its other waiters here go now.
			 */
			if (w->p->shared) {
				waitq_drop(&ch->recvq, w->p);
				waitq_drop(&ch->sendq, w->p);
			}
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
	p->shared = false;
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

static inline unsigned char *
ring_slot(chan_t *ch, ring_pos pos)
{
	return ch->ring + (size_t)(ch->mask != 0 ? pos & ch->mask :
	    pos % ch->cap) * ch->stride;
}

static inline atomic_ring_pos *
slot_seq(unsigned char *slot)
{
	return (atomic_ring_pos *)(void *)slot;
}

enum { RING_OK, RING_BLOCKED, RING_CLOSED };

/*
 * Appends a copy of elem to the ring.  Returns RING_BLOCKED when it is
 * full (or its oldest slot is still being read), or, unless locked (the
 * caller holds the channel's lock), when senders wait: their gate is
 * closed.  Returns RING_CLOSED once chan_close() has marked the tail.
 */
static int
ring_put(chan_t *ch, const void *elem, bool locked)
{
	ring_pos word = atomic_load_explicit(&ch->tail, memory_order_acquire);
	unsigned char *slot;
	ring_pos pos, seq;

	for (;;) {
		if (word & TAIL_CLOSED)
			return RING_CLOSED;
		if ((word & POS_WAITERS) && !locked)
			return RING_BLOCKED;
		pos = word & ~POS_FLAGS;
		slot = ring_slot(ch, pos);
		seq = atomic_load_explicit(slot_seq(slot),
		    memory_order_acquire);
		if (seq == 2 * pos) {
			if (atomic_compare_exchange_weak_explicit(&ch->tail,
			    &word, word + 1, memory_order_acquire,
			    memory_order_acquire))
				break;
		} else if ((int64_t)(seq - 2 * pos) < 0)
			return RING_BLOCKED;
		else
			word = atomic_load_explicit(&ch->tail,
			    memory_order_acquire);
	}
	VG_TAKES_OVER(slot);
	memcpy(slot + SEQ_SIZE, elem, ch->elem_size);
	VG_HANDS_OVER(slot);
	atomic_store_explicit(slot_seq(slot), 2 * pos + 1,
	    memory_order_release);
	return RING_OK;
}

/*
 * Takes the oldest value of the ring into elem (NULL: drops it).  Returns
 * RING_BLOCKED when there is none, when the send of the oldest has
 * claimed its slot but not yet filled it, or, unless locked, when
 * receivers wait.
 */
static int
ring_get(chan_t *ch, void *elem, bool locked)
{
	ring_pos word = atomic_load_explicit(&ch->head, memory_order_relaxed);
	unsigned char *slot;
	ring_pos pos, seq;

	for (;;) {
		if ((word & POS_WAITERS) && !locked)
			return RING_BLOCKED;
		pos = word & ~POS_FLAGS;
		slot = ring_slot(ch, pos);
		seq = atomic_load_explicit(slot_seq(slot),
		    memory_order_acquire);
		if (seq == 2 * pos + 1) {
			if (atomic_compare_exchange_weak_explicit(&ch->head,
			    &word, word + 1, memory_order_relaxed,
			    memory_order_relaxed))
				break;
		} else if ((int64_t)(seq - (2 * pos + 1)) < 0)
			return RING_BLOCKED;
		else
			word = atomic_load_explicit(&ch->head,
			    memory_order_relaxed);
	}
	VG_TAKES_OVER(slot);
	copy_out(ch, elem, slot + SEQ_SIZE);
	VG_HANDS_OVER(slot);
	atomic_store_explicit(slot_seq(slot), 2 * (pos + ch->cap),
	    memory_order_release);
	return RING_OK;
}

/*
 * Counts a ring operation made under the lock as done at once, since
 * chan_free() takes the lock before it frees.  Returns r.
 */
static int
done_locked(int r, atomic_ring_pos *done)
{
	if (r == RING_OK)
		atomic_fetch_add_explicit(done, 1, memory_order_relaxed);
	return r;
}

/* Whether the oldest value of the ring can be taken now. */
static bool
ring_ready(chan_t *ch)
{
	ring_pos pos = atomic_load_explicit(&ch->head, memory_order_relaxed) &
	    ~POS_FLAGS;

	return atomic_load_explicit(slot_seq(ring_slot(ch, pos)),
	    memory_order_acquire) == 2 * pos + 1;
}

/* Whether a value can be appended to the ring now, by the lock holder. */
static bool
ring_room(chan_t *ch)
{
	ring_pos word = atomic_load_explicit(&ch->tail, memory_order_acquire);
	ring_pos pos = word & ~POS_FLAGS;

	return (word & TAIL_CLOSED) == 0 &&
	    atomic_load_explicit(slot_seq(ring_slot(ch, pos)),
	    memory_order_acquire) == 2 * pos;
}

/*
 * Whether op would block for want of a value or of room, the channel being
 * open: the ring's next slot for op is not filled (a receive) or not yet
 * emptied (a send).  Go's non-blocking operations look the same way, so
 * that a stream of them does not crowd out, on the lock, the operations
 * that would make them succeed.  The slot is looked at before the close
 * bit: the channel still open after the slot was seen empty was open when
 * it was seen.
 */
static bool
ring_would_block(chan_t *ch, enum chan_op op)
{
	atomic_ring_pos *side = op == CHAN_SEND ? &ch->tail : &ch->head;
	ring_pos pos = atomic_load_explicit(side, memory_order_relaxed) &
	    ~POS_FLAGS;
	ring_pos seq = atomic_load_explicit(slot_seq(ring_slot(ch, pos)),
	    memory_order_acquire);

	if ((int64_t)(seq - (op == CHAN_SEND ? 2 * pos : 2 * pos + 1)) >= 0)
		return false;
	return (atomic_load_explicit(&ch->tail, memory_order_acquire) &
	    TAIL_CLOSED) == 0;
}

/* Values in the ring, counting those being written or read. */
static size_t
ring_count(const chan_t *ch)
{
	ring_pos head = atomic_load_explicit(&ch->head, memory_order_acquire) &
	    ~POS_FLAGS;
	ring_pos tail = atomic_load_explicit(&ch->tail, memory_order_acquire) &
	    ~POS_FLAGS;

	return tail > head ? (tail - head < ch->cap ? (size_t)(tail - head) :
	    ch->cap) : 0;
}

static inline void
wake_push(struct waiter **list, struct waiter *w)
{
	w->next = *list;
	*list = w;
}

/* Completes the waiters of list, after the caller has unlocked. */
static void
wake_all(struct waiter *list)
{
	struct waiter *w, *next;

	for (w = list; w != NULL; w = next) {
		next = w->next;
		waiter_complete(w);
	}
}

/*
 * Claims every live waiter of q, a queue of the closed channel ch, onto
 * *list to wake with nothing moved: senders, and receivers once nothing
 * is left to receive.
 */
static void
waitq_close(chan_t *ch, struct waitq *q, struct waiter **list)
{
	struct waiter *w;

	while ((w = waitq_claim(ch, q)) != NULL) {
		w->ok = false;
		wake_push(list, w);
	}
}

/*
 * Serves the waiters of a buffered channel, under its lock: receivers get
 * the ring's oldest values, senders put theirs in its free slots, first
 * come first served, until neither can go on; both may wait at once while
 * a fast operation is half done.  A claimed waiter's ring operation
 * cannot fail: its queue's gate has been closed since it queued, so only
 * lock holders have moved that side of the ring, and ring_ready() or
 * ring_room() held under the lock.  Once the channel is closed and
 * drained, the receivers still waiting (for a send that got in before the
 * close) are woken with nothing.  Adds them all to *list, then opens the
 * gates of queues left empty.
 */
static void
settle_locked(chan_t *ch, struct waiter **list)
{
	struct waiter *w;
	bool moved;

	do {
		moved = false;
		while (ring_ready(ch) &&
		    (w = waitq_claim(ch, &ch->recvq)) != NULL) {
			done_locked(ring_get(ch, w->elem, true),
			    &ch->gets_done);
			w->ok = true;
			wake_push(list, w);
		}
		while (ring_room(ch) &&
		    (w = waitq_claim(ch, &ch->sendq)) != NULL) {
			done_locked(ring_put(ch, w->elem, true),
			    &ch->puts_done);
			w->ok = true;
			moved = true;
			wake_push(list, w);
		}
	} while (moved);
	if (ch->closed && ring_count(ch) == 0)
		waitq_close(ch, &ch->recvq, list);
	waitq_ungate(&ch->recvq);
	waitq_ungate(&ch->sendq);
}

/* Settles a buffered channel's waiters after a fast operation. */
static void
settle(chan_t *ch)
{
	struct waiter *list = NULL;

	pthread_mutex_lock(&ch->mu);
	settle_locked(ch, &list);
	pthread_mutex_unlock(&ch->mu);
	wake_all(list);
}

static inline bool
has_waiters(const chan_t *ch)
{
	return atomic_load_explicit(&ch->recvq.n, memory_order_relaxed) +
	    atomic_load_explicit(&ch->sendq.n, memory_order_relaxed) != 0;
}

/*
 * A send or receive on a buffered channel without the lock.  Returns 1
 * when done, -1 when a send found the channel closed, 0 when the caller
 * must take the lock: the ring is full or empty, or someone waits.
 */
static int
fast_op(chan_t *ch, enum chan_op op, void *elem)
{
	int r;

	if (has_waiters(ch))
		return 0;
	r = op == CHAN_SEND ? ring_put(ch, elem, false) :
	    ring_get(ch, elem, false);
	if (r == RING_BLOCKED)
		return 0;
	if (r == RING_CLOSED)
		return -1;
	atomic_thread_fence(memory_order_seq_cst);
	if (has_waiters(ch))
		settle(ch);
	/* The last touch: after it, chan_free() may free the channel. */
	atomic_fetch_add_explicit(op == CHAN_SEND ? &ch->puts_done :
	    &ch->gets_done, 1, memory_order_release);
	return 1;
}

/*
 * Polls the ring of a buffered channel, without the lock, until op could
 * go on, at most RING_POLLS times.  The other side is most likely running
 * on another processor and about to make room or put a value: waiting
 * for it here costs less than queueing, which would send both sides to
 * the lock.  Returns whether op is worth another try.
 */
static bool
ring_poll(chan_t *ch, enum chan_op op)
{
	int i;

	for (i = 0; i < RING_POLLS; i++) {
		if (op == CHAN_SEND ? ring_room(ch) : ring_ready(ch))
			return true;
		cpu_relax();
	}
	return false;
}

/*
 * The non-blocking half of a send, under the channel's mutex.  Returns 1
 * when sent, 0 when the send would block, -1 when the channel is closed.
 * Waiters to complete once unlocked go on *list, whatever it returns.
 */
static int
send_locked(chan_t *ch, const void *elem, struct waiter **list)
{
	struct waiter *w;

	if (ch->closed)
		return -1;
	if (ch->cap > 0)
		settle_locked(ch, list);
	/*
	 * A receiver waits only while the ring has nothing ready; but a value
	 * may still be being written there, or a sender wait for room, and
	 * this one must pass neither.
	 */
	if ((ch->cap == 0 || (ring_count(ch) == 0 && ch->sendq.head == NULL)) &&
	    (w = waitq_claim(ch, &ch->recvq)) != NULL) {
		copy_out(ch, w->elem, elem);
		w->ok = true;
		wake_push(list, w);
		ch->nsend++;
		ch->nrecv++;
		return 1;
	}
	/*
	 * Senders still waiting after settling found the ring full; room a
	 * fast receive has made since is theirs, and settling gives it.
	 */
	if (ch->cap == 0 || ch->sendq.head != NULL ||
	    done_locked(ring_put(ch, elem, true), &ch->puts_done) != RING_OK)
		return 0;
	settle_locked(ch, list);
	return 1;
}

/*
 * The non-blocking half of a receive, under the channel's mutex.  Returns
 * 1 when a value was received, 0 when the receive would block, -1 when the
 * channel is closed and drained (elem zero-filled).  Waiters to complete
 * once unlocked go on *list, whatever it returns.
 */
static int
recv_locked(chan_t *ch, void *elem, struct waiter **list)
{
	struct waiter *w;

	if (ch->cap == 0) {
		if ((w = waitq_claim(ch, &ch->sendq)) != NULL) {
			copy_out(ch, elem, w->elem);
			w->ok = true;
			wake_push(list, w);
			ch->nsend++;
			ch->nrecv++;
			return 1;
		}
	} else {
		settle_locked(ch, list);
		/* The same for receivers and a value a fast send has put. */
		if (ch->recvq.head == NULL && done_locked(ring_get(ch, elem,
		    true), &ch->gets_done) == RING_OK) {
			settle_locked(ch, list);
			return 1;
		}
		/*
		 * A send that got in before the close may still be writing:
		 * wait for its value like for any other.
		 */
		if (ch->closed && ring_count(ch) > 0)
			return 0;
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
	size_t bytes, stride = 0, i;
	int err;

	if (elem_size == 0 || elem_size > SIZE_MAX / 4) {
		errno = EINVAL;
		return NULL;
	}
	if (capacity > 0)
		stride = SEQ_SIZE + (elem_size + SEQ_SIZE - 1) / SEQ_SIZE *
		    SEQ_SIZE;
	if (capacity > 0 && stride > (SIZE_MAX - sizeof(*ch) - 64) / capacity) {
		errno = EINVAL;
		return NULL;
	}
	/* Whole cache lines, aligned, for the members that want their own. */
	bytes = (sizeof(*ch) + stride * capacity + 63) / 64 * 64;
	if ((ch = aligned_alloc(64, bytes)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(ch, 0, sizeof(*ch));
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
	ch->stride = stride;
	ch->mask = capacity > 1 && (capacity & (capacity - 1)) == 0 ?
	    capacity - 1 : 0;
	atomic_init(&ch->recvq.n, 0);
	atomic_init(&ch->sendq.n, 0);
	if (capacity > 0) {
		ch->recvq.gate = &ch->head;
		ch->sendq.gate = &ch->tail;
	}
	atomic_init(&ch->blocked_ns, 0);
	atomic_init(&ch->tail, 0);
	atomic_init(&ch->head, 0);
	atomic_init(&ch->puts_done, 0);
	atomic_init(&ch->gets_done, 0);
	for (i = 0; i < capacity; i++) {
		atomic_init(slot_seq(ch->ring + i * stride), 2 * (ring_pos)i);
		VG_ATOMIC(*slot_seq(ch->ring + i * stride));
	}
	VG_ATOMIC(ch->tail);
	VG_ATOMIC(ch->head);
	VG_ATOMIC(ch->puts_done);
	VG_ATOMIC(ch->gets_done);
	VG_ATOMIC(ch->recvq.n);
	VG_ATOMIC(ch->sendq.n);
	return ch;
}

void
chan_free(chan_t *ch)
{
	if (ch == NULL)
		return;
	/*
	 * An operation can hand its value over before it is done with the
	 * channel: the receiver may free the channel while the sender still
	 * looks for waiters, or holds the lock.  Let them finish.
	 */
	if (ch->cap > 0)
		while (atomic_load_explicit(&ch->puts_done,
		    memory_order_acquire) != (atomic_load_explicit(&ch->tail,
		    memory_order_acquire) & ~POS_FLAGS) ||
		    atomic_load_explicit(&ch->gets_done,
		    memory_order_acquire) != (atomic_load_explicit(&ch->head,
		    memory_order_acquire) & ~POS_FLAGS))
			sched_yield();
	pthread_mutex_lock(&ch->mu);
	pthread_mutex_unlock(&ch->mu);
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
	struct waiter w, *list;
	struct waitq *q;
	struct parker p;
	struct blocked rec;
	struct timespec dl;
	int r;

	if (ch == NULL)
		return wait_forever(op == CHAN_SEND ? "chan send" :
		    "chan receive", timeout_ms);
	if (ch->cap > 0) {
		r = fast_op(ch, op, elem);
		if (r == 0 && timeout_ms == 0 && ring_would_block(ch, op)) {
			errno = EAGAIN;
			return -1;
		}
		if (r == 0 && timeout_ms != 0 && !has_waiters(ch) &&
		    ring_poll(ch, op))
			r = fast_op(ch, op, elem);
		if (r != 0)
			goto done;
	}
	q = op == CHAN_SEND ? &ch->sendq : &ch->recvq;
	if (timeout_ms > 0)
		dl = deadline_after(timeout_ms);
	list = NULL;
	pthread_mutex_lock(&ch->mu);
	r = op == CHAN_SEND ? send_locked(ch, elem, &list) :
	    recv_locked(ch, elem, &list);
	if (r != 0 || timeout_ms == 0) {
		pthread_mutex_unlock(&ch->mu);
		wake_all(list);
		if (r == 0) {
			errno = EAGAIN;
			return -1;
		}
		goto done;
	}

	parker_init(&p);
	w.p = &p;
	w.elem = elem;
	w.index = 0;
	w.ok = false;
	waitq_push(q, &w);
	if (DBG_ON())
		blocked_link(&rec, &p, op == CHAN_SEND ? "chan send" :
		    "chan receive", ch, 1, timeout_ms > 0);
	/* What came since the attempt may be for this waiter. */
	if (ch->cap > 0)
		settle_locked(ch, &list);
	if (p.rec != NULL)
		blocked_check(&rec);
	pthread_mutex_unlock(&ch->mu);
	wake_all(list);

	r = parker_wait(&p, timeout_ms > 0 ? &dl : NULL);
	if (p.rec != NULL && r == PARK_CANCELLED)
		blocked_done(&rec, ch);
	parker_destroy(&p);
	if (r == PARK_CANCELLED) {
		pthread_mutex_lock(&ch->mu);
		if (w.queued)
			waitq_remove(q, &w);
		pthread_mutex_unlock(&ch->mu);
		errno = ETIMEDOUT;
		return -1;
	}
	r = w.ok ? 1 : -1;
done:
	if (r < 0) {
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

int
chan_close(chan_t *ch)
{
	struct waiter *list = NULL;

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
	waitq_close(ch, &ch->sendq, &list);
	if (ch->cap > 0) {
		atomic_fetch_or_explicit(&ch->tail, TAIL_CLOSED,
		    memory_order_acq_rel);
		/*
		 * Receivers keep their places while a send that got in
		 * before the close is still writing; once drained, they go.
		 */
		settle_locked(ch, &list);
	} else
		waitq_close(ch, &ch->recvq, &list);
	pthread_mutex_unlock(&ch->mu);
	wake_all(list);
	return 0;
}

size_t
chan_len(const chan_t *ch)
{
	return ch == NULL || ch->cap == 0 ? 0 : ring_count(ch);
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
	st->len = 0;
	if (c->cap > 0) {
		st->recvs += atomic_load(&c->head) & ~POS_FLAGS;
		st->sends += atomic_load(&c->tail) & ~POS_FLAGS;
		st->len = ring_count(c);
	}
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

/*
 * A small xorshift generator per thread, for select's random choice.  A
 * thread's seed mixes a process-wide count with the clock: a new thread
 * often gets the stack and thread-local storage of one that has ended,
 * and would otherwise make the same choices.
 */
static uint32_t
select_rand(void)
{
	static _Thread_local uint64_t s;
	static atomic_ullong seeds;
	struct timespec now;

	if (s == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		s = (atomic_fetch_add_explicit(&seeds, 1,
		    memory_order_relaxed) + 1) * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec << 32;
		if (s == 0)
			s = 0x9e3779b97f4a7c15ULL;
	}
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
	struct waiter stackw[SELECT_STACK], *ws = stackw, *list;
	struct parker p;
	struct blocked rec;
	struct timespec dl;
	size_t i, j, k, nlock = 0, t;
	struct chan_case *c;
	chan_t *last, *fired;
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

	if (timeout_ms > 0)
		dl = deadline_after(timeout_ms);
	list = NULL;
	select_lock(cases, lockorder, nlock);
	for (i = 0; i < n; i++) {
		c = &cases[pollorder[i]];
		if (c->ch == NULL)
			continue;
		r = c->op == CHAN_SEND ? send_locked(c->ch, c->elem, &list) :
		    recv_locked(c->ch, c->elem, &list);
		if (r != 0) {
			select_unlock(cases, lockorder, nlock);
			wake_all(list);
			c->ok = r > 0;
			ret = (int)pollorder[i];
			goto out;
		}
	}
	if (timeout_ms == 0) {
		select_unlock(cases, lockorder, nlock);
		wake_all(list);
		err = EAGAIN;
		goto out;
	}

	parker_init(&p);
	for (i = 1; i < nlock; i++)
		if (cases[lockorder[i]].ch == cases[lockorder[i - 1]].ch)
			p.shared = true;
	/*
	 * Queued in the random poll order, so that cases on one channel
	 * take their turns at random too.
	 */
	for (i = 0; i < n; i++) {
		t = pollorder[i];
		c = &cases[t];
		if (c->ch == NULL)
			continue;
		ws[t].p = &p;
		ws[t].elem = c->elem;
		ws[t].index = t;
		ws[t].ok = false;
		waitq_push(c->op == CHAN_SEND ? &c->ch->sendq :
		    &c->ch->recvq, &ws[t]);
	}
	if (DBG_ON())
		blocked_link(&rec, &p, "select", NULL, n, timeout_ms > 0);
	/* What came since the attempts may be for these waiters. */
	for (i = 0, last = NULL; i < nlock; i++) {
		c = &cases[lockorder[i]];
		if (c->ch != last && c->ch->cap > 0)
			settle_locked(c->ch, &list);
		last = c->ch;
	}
	if (p.rec != NULL)
		blocked_check(&rec);
	select_unlock(cases, lockorder, nlock);
	wake_all(list);

	r = parker_wait(&p, timeout_ms > 0 ? &dl : NULL);
	if (p.rec != NULL && r == PARK_CANCELLED)
		blocked_done(&rec, NULL);

	/*
	 * Drop the waiters that did not fire.  Whoever fired one has taken
	 * this select's waiters off that channel, which must not be touched
	 * again: having taken the value, its receiver may have freed it.
	 */
	fired = r == PARK_DONE ? cases[p.fired->index].ch : NULL;
	for (i = 0; i < nlock; i++) {
		t = lockorder[i];
		c = &cases[t];
		if (c->ch == fired)
			continue;
		pthread_mutex_lock(&c->ch->mu);
		if (ws[t].queued)
			waitq_remove(c->op == CHAN_SEND ? &c->ch->sendq :
			    &c->ch->recvq, &ws[t]);
		pthread_mutex_unlock(&c->ch->mu);
	}
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
