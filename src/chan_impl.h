/* chan_impl.h: libchan's private header, shared by src/chan*.c only. */
#ifndef CHAN_IMPL_H
#define CHAN_IMPL_H

/* pthread_cond_clockwait() is a GNU extension (glibc 2.30). */
#define _GNU_SOURCE

#include <errno.h>
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

#include "chan.h"

/*
 * The files: chan.c is the API and select; chan_ring.c the lock-free ring
 * of a buffered channel and the settling of its waiters; chan_park.c the
 * parkers and wait queues; chan_debug.c the diagnostics and chan_go().
 * Functions one file lends another are prefixed chanp_ and hidden from
 * the shared object; everything else is static.
 */

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
 * send that got in before it as for any value.  It sets the bit in the
 * head too, where only the receivers' would-block checks read it.
 *
 * A parked thread first spins briefly (on an unbuffered channel, since on
 * a multi-core machine the other side usually answers within a few
 * microseconds; a buffered channel has polled its ring instead, and a
 * process held to one processor never spins), then
 * yields a few times, and only then sleeps on its parker's condition
 * variable.  It announces the sleep by moving the parker from WAITING to
 * SLEEPING under the parker's mutex; a waker that
 * claims a SLEEPING parker must signal it under that mutex, and one that
 * claims a WAITING parker need only publish DONE, after which it never
 * touches the parker again.  That rule is what lets parkers live on the
 * parked thread's stack.
 */

/*
 * Invariants.
 *
 * Locks.  ch->mu guards ch->closed, both wait queues' lists and each
 * waiter's queued flag, nsend and nrecv, and the setting and clearing of
 * POS_WAITERS.  p->mu, a parker's, guards nothing but its sleep: the
 * move to SLEEPING and a waker's signal.  dbg_mu guards the registry of
 * blocked operations and the count of known threads.
 * Lock order: channel mutexes by ascending address (chan_select() holds
 * several), then dbg_mu.  A parker's mutex is a leaf: nothing else is
 * taken while it is held, and no waker takes it with a channel's held
 * (wake_all() runs after unlocking).
 *
 * Queues.  A waiter is in at most one queue, and queued is true exactly
 * while it is; q->n counts the waiters of q, stale ones included, and is
 * read without the lock only as a hint.  A waiter is completed at most
 * once: by whoever moves its parker from WAITING or SLEEPING to CLAIMED,
 * under the lock of the channel it waits on, or by its own thread moving
 * it to CANCELLED.  Once DONE, the waker never touches the waiter again.
 *
 * Ring.  tail counts the sends that have claimed a slot, head the
 * receives: bits 0-61 are the position, bit 62 (POS_WAITERS) is set while
 * that side's queue has waiters (the "gate"), bit 63 (POS_CLOSED) of
 * both once the channel is closed: in tail it stops fast sends; in head,
 * set first, it is a copy for chanp_ring_would_block(), so that a
 * receiver polling an empty ring reads only its own side's line, not the
 * line the sender writes, and fast receives ignore it.  Slot pos % cap
 * carries a sequence number: 2 pos when it is free for the send at
 * position pos; 2 pos + 1 when it holds that send's value, for the
 * receive at pos; the receive makes it 2 (pos + cap), free for the send
 * one lap later.  A slot is written only by the send that claimed it (a
 * compare-and-swap of tail from pos to pos + 1) and read only by the
 * receive that claimed it.  While POS_WAITERS is set in tail, only
 * ch->mu's holder moves tail, and likewise head: hence a waiter's slot or
 * value, found while settling, cannot be taken.
 * A non-empty queue has its bit set; a set bit may outlive its waiters
 * until the next chanp_settle_locked() clears it.  puts_done and
 * gets_done count the sends and receives that are finished with the
 * channel; chan_free() waits until they catch up with tail and head.
 *
 * Waiting.  Between unlocking and learning its outcome, a parked thread
 * reads nothing of its channel: once its waiter is completed, a receiver
 * may free the channel.  A receiver of a buffered channel queues only
 * after finding no value ready, and a sender no room, under the lock; a
 * fast operation that changed the ring then sees the count and settles.
 * Receivers stay queued on a closed channel only while a send that got in
 * before the close still writes.  An unbuffered channel never has both
 * queues holding live waiters of different threads that could meet.
 *
 * Memory order.  Every atomic operation and fence says in a comment which
 * operation it pairs with; "pairs with" means the release (or seq_cst)
 * store or read-modify-write that an acquire (or seq_cst) load reads
 * from, or the other half of a store-then-load (Dekker) pattern.
 */

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
#define POS_CLOSED	((ring_pos)1 << 63)
#define POS_WAITERS	((ring_pos)1 << 62)
#define POS_FLAGS	(POS_CLOSED | POS_WAITERS)
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
	 * Ring positions (POS_CLOSED is set in both by chan_close(),
	 * POS_WAITERS in tail while senders wait and in head while
	 * receivers do: chanp_waitq_push() and chanp_waitq_ungate()), and
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
 * Only unbuffered channels spin when parked: a buffered one has polled
 * its ring first (RING_POLLS), and once that failed the other side is
 * not running: counted in the channel benchmark, fewer than 2 in 1,000
 * such parkers were completed while spinning, all the others after
 * yielding, so that the spin (a pause takes some 35 ns here) only kept
 * the processor from the thread it waited for.  Three yields are as fast
 * as ten in the channel benchmark; ten cost a parker that waits for a
 * network reply seven more system calls and switches for nothing: 1,000
 * HTTP/2 URLs at -j 50 took 91 ms of processor time against 103 with ten
 * (21 alternating runs).  Not yielding at all was no better: as many
 * futex sleeps and wake-ups took the yields' place.
 */
#ifndef SPIN_ROUNDS
#define SPIN_ROUNDS	100
#endif
#ifndef YIELD_ROUNDS
#define YIELD_ROUNDS	3
#endif

/*
 * Polls of a buffered channel's ring before blocking: chanp_ring_poll()
 * and select's lock-free pass.  In the channel benchmark a poll that
 * succeeded did so within 30 rounds 99 times in 100.
 */
#ifndef RING_POLLS
#define RING_POLLS	30
#endif

/*
 * How often, with diagnostics on, a thread parked in an untimed operation
 * looks again for a deadlock (see recheck_wait() in chan_park.c).
 */
#define DEADLOCK_RECHECK_MS	100

/* Select cases handled without allocating. */
#define SELECT_STACK	64

struct blocked {
	struct blocked	*next;
	struct blocked	*prev;
	const char	*what;		/* "chan send", "chan receive"... */
	const chan_t	*ch;		/* NULL for a select. */
	const struct chan_case *cases;	/* A select's, borrowed while it
					   is linked; else NULL. */
	size_t		 ncases;
	unsigned long	 thread;	/* 0: not started by chan_go(). */
	bool		 known;
	bool		 timed;
	bool		 linked;	/* Guarded by dbg_mu. */
	struct timespec	 since;
};

/*
 * Whether to record blocked operations.  CHAN_NO_DIAGNOSTICS compiles the
 * hooks out, for the benchmark that shows what they cost while off.  The
 * load is relaxed: a thread that misses a switch made elsewhere just
 * records, or does not record, this one operation.
 */
#ifdef CHAN_NO_DIAGNOSTICS
#define DBG_ON()	false
#else
#define DBG_ON()	atomic_load_explicit(&chanp_dbg_on, memory_order_relaxed)
#endif

enum { RING_OK, RING_BLOCKED, RING_CLOSED };

#pragma GCC visibility push(hidden)

/* chan_debug.c: the diagnostics. */
extern atomic_bool chanp_dbg_on;
void	 chanp_blocked_link(struct blocked *, struct parker *, const char *,
	    const chan_t *, const struct chan_case *, size_t, bool);
void	 chanp_blocked_check(const struct blocked *);
void	 chanp_blocked_done(struct blocked *, chan_t *);

/* chan_park.c: parkers and wait queues. */
void	 chanp_waitq_push(struct waitq *, struct waiter *);
void	 chanp_waitq_ungate(struct waitq *);
void	 chanp_waitq_remove(struct waitq *, struct waiter *);
struct waiter *chanp_waitq_claim(chan_t *, struct waitq *);
void	 chanp_waitq_close(chan_t *, struct waitq *, struct waiter **);
void	 chanp_wake_all(struct waiter *);
struct timespec chanp_deadline_after(long);
void	 chanp_parker_init(struct parker *);
void	 chanp_parker_destroy(struct parker *);
int	 chanp_parker_wait(struct parker *, const struct timespec *, bool);

/* chan_ring.c: the lock-free ring and the settling of its waiters. */
int	 chanp_ring_put(chan_t *, const void *, bool);
int	 chanp_ring_get(chan_t *, void *, bool);
bool	 chanp_ring_would_block(chan_t *, enum chan_op);
size_t	 chanp_ring_count(const chan_t *);
void	 chanp_settle_locked(chan_t *, struct waiter **);
int	 chanp_fast_op(chan_t *, enum chan_op, void *);
bool	 chanp_ring_poll(chan_t *, enum chan_op);

#pragma GCC visibility pop

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
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

/*
 * Counts a ring operation made under the lock as done at once, since
 * chan_free() takes the lock before it frees.  Returns r.  Relaxed: the
 * lock chan_free() takes orders it.
 */
static inline int
done_locked(int r, atomic_ring_pos *done)
{
	if (r == RING_OK)
		atomic_fetch_add_explicit(done, 1, memory_order_relaxed);
	return r;
}

/*
 * Whether anyone waits on ch, a hint for the fast paths.  Relaxed: a
 * stale answer only sends a fast operation to the lock, or lets it try
 * the ring, whose gates and the fence in chanp_fast_op() decide.
 */
static inline bool
has_waiters(const chan_t *ch)
{
	return atomic_load_explicit(&ch->recvq.n, memory_order_relaxed) +
	    atomic_load_explicit(&ch->sendq.n, memory_order_relaxed) != 0;
}

static inline void
wake_push(struct waiter **list, struct waiter *w)
{
	w->next = *list;
	*list = w;
}

#endif /* CHAN_IMPL_H */
