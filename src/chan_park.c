/* chan_park.c: libchan's parkers and wait queues. */

#include "chan_impl.h"

/*
 * Queues w last.  The count goes up, and the gate closes, before the
 * caller looks at the ring again: see the design.
 */
void
chanp_waitq_push(struct waitq *q, struct waiter *w)
{
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	w->queued = true;
	/* Read by has_waiters() after the fence in chanp_fast_op(). */
	atomic_fetch_add_explicit(&q->n, 1, memory_order_relaxed);
	/*
	 * The gate: the bit changes only under the lock, held here, so the
	 * load is relaxed; the fetch-or needs only its atomicity to make the
	 * CAS of a fast chanp_ring_put() or chanp_ring_get() that read the
	 * position before it fail.
	 */
	if (q->gate != NULL && (atomic_load_explicit(q->gate,
	    memory_order_relaxed) & POS_WAITERS) == 0)
		atomic_fetch_or_explicit(q->gate, POS_WAITERS,
		    memory_order_relaxed);
	/*
	 * Dekker: pairs with the fence in chanp_fast_op().  The count is
	 * raised before it, and the caller reads the ring after it.
	 */
	atomic_thread_fence(memory_order_seq_cst);
}

/*
 * Opens the gate of q, under its channel's lock, once nobody waits in it.
 * Called only at the end of chanp_settle_locked(), after the waiters
 * taken off q have had their slots or values: a fast operation let in
 * earlier could take them.  Until then, or after a waiter left by itself
 * (timed out, or fired elsewhere), fast operations find the gate closed
 * and take the lock, where they settle and so come here.
 */
void
chanp_waitq_ungate(struct waitq *q)
{
	/*
	 * Relaxed, both: the load for the reason given in
	 * chanp_waitq_push(); reopening orders nothing, since a fast
	 * operation let in synchronises through the slots' sequence numbers.
	 */
	if (q->gate != NULL && q->head == NULL && (atomic_load_explicit(
	    q->gate, memory_order_relaxed) & POS_WAITERS) != 0)
		atomic_fetch_and_explicit(q->gate, ~POS_WAITERS,
		    memory_order_relaxed);
}

void
chanp_waitq_remove(struct waitq *q, struct waiter *w)
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
	/* Relaxed: outside the lock the count is a hint (has_waiters()). */
	atomic_fetch_sub_explicit(&q->n, 1, memory_order_relaxed);
}

/*
 * Claims a parker for completion.  On success the caller must finish the
 * operation and then call waiter_complete(), having saved *was in it.
 * Relaxed: the claim races the parked thread's own CASes (to SLEEPING or
 * CANCELLED) by atomicity alone.  The waiter's fields were written under
 * the channel's lock, which the caller holds; what the caller writes for
 * the parked thread is published by the release store of PARK_DONE.
 */
static bool
parker_claim(struct parker *p, int *was)
{
	int s = atomic_load_explicit(&p->state, memory_order_relaxed);

	while (s == PARK_WAITING || s == PARK_SLEEPING) {
		if (atomic_compare_exchange_weak_explicit(&p->state, &s,
		    PARK_CLAIMED, memory_order_relaxed, memory_order_relaxed)) {
			*was = s;
			return true;
		}
	}
	return false;
}

/*
 * Publishes the operation completed for w and wakes its thread.  After
 * this the waiter and its parker may be gone.  The release stores of
 * PARK_DONE pair with the acquire loads in chanp_parker_wait(): the value
 * copied, ok and fired are visible to the woken thread.  A SLEEPING
 * parker is signalled under its mutex, which its thread holds from its
 * last look at the state until it waits.
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
			chanp_waitq_remove(q, w);
	}
}

/*
 * Takes the first waiter of q whose parker can still be claimed, dropping
 * stale ones (selects that fired elsewhere or timed out).  Returns NULL
 * when there is none.  The caller holds the mutex of ch, whose queue q
 * is, and must pass the waiter to chanp_wake_all(), in a list made with
 * wake_push(), once done with it and unlocked.
 */
struct waiter *
chanp_waitq_claim(chan_t *ch, struct waitq *q)
{
	struct waiter *w;

	while ((w = q->head) != NULL) {
		chanp_waitq_remove(q, w);
		if (parker_claim(w->p, &w->claimed_from)) {
			w->p->fired = w;
			if (w->p->rec != NULL)
				chanp_blocked_done(w->p->rec, ch);
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

struct timespec
chanp_deadline_after(long timeout_ms)
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
 * Whether the process may run on more than one processor, found once, at
 * the first park.  On one (a container or a taskset(1) given a single
 * processor) a spin only keeps the processor from the thread it waits
 * for: unbuf_1p1c of the channel benchmark took 5.6-5.8 us a message
 * with the spin and 2.3-3.0 without.  Written once under pthread_once(),
 * which orders it before every caller's read.
 */
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;
static bool several_cpus;

static void
cpus_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		several_cpus = CPU_COUNT(&set) > 1;
	else
		several_cpus = sysconf(_SC_NPROCESSORS_ONLN) != 1;
}

/*
 * Sleeps on p, under p->mu, for at most DEADLOCK_RECHECK_MS, and then
 * looks for a deadlock again.  With diagnostics on, a thread that blocks
 * looks once (chanp_blocked_check()); but a thread of the process that
 * ends after that look, a helper that could have woken nobody, leaves a
 * deadlock that no later look would see.  p->mu is a leaf lock: released
 * around the look, which takes dbg_mu.  A waker that claims p meanwhile
 * stores PARK_DONE under p->mu before it signals, which the caller's loop
 * reads again.
 */
static void
recheck_wait(struct parker *p)
{
	struct timespec at = chanp_deadline_after(DEADLOCK_RECHECK_MS);

	if (pthread_cond_clockwait(&p->cv, &p->mu, CLOCK_MONOTONIC, &at) !=
	    ETIMEDOUT)
		return;
	pthread_mutex_unlock(&p->mu);
	chanp_blocked_check(p->rec);
	pthread_mutex_lock(&p->mu);
}

/*
 * Waits until the parker is completed, or until the deadline (NULL: none)
 * if nobody claims it first; spins first only if spin (see SPIN_ROUNDS)
 * and another processor could run the thread it waits for.  Returns
 * PARK_DONE or PARK_CANCELLED.
 */
int
chanp_parker_wait(struct parker *p, const struct timespec *dl, bool spin)
{
	int s, i;
	bool slept = false;

	if (spin) {
		pthread_once(&cpus_once, cpus_count);
		spin = several_cpus;
	}
	/*
	 * Every acquire load of the state below pairs with the release store
	 * of PARK_DONE in waiter_complete(); the CASes are relaxed, racing
	 * parker_claim() by atomicity alone, the sleep itself being ordered
	 * by p->mu.
	 */
	for (i = spin ? 0 : SPIN_ROUNDS; i < SPIN_ROUNDS + YIELD_ROUNDS; i++) {
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
			    &s, PARK_SLEEPING, memory_order_relaxed,
			    memory_order_relaxed))
				slept = true;
			continue;
		}
		/* SLEEPING, or CLAIMED after sleeping: the waker signals. */
		if (dl != NULL && s == PARK_SLEEPING) {
			if (pthread_cond_clockwait(&p->cv, &p->mu,
			    CLOCK_MONOTONIC, dl) == ETIMEDOUT)
				goto cancel;
		} else if (p->rec != NULL && s == PARK_SLEEPING)
			recheck_wait(p);
		else
			pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return PARK_DONE;

cancel:
	s = atomic_load_explicit(&p->state, memory_order_acquire);
	while (s == PARK_WAITING || s == PARK_SLEEPING) {
		if (atomic_compare_exchange_weak_explicit(&p->state, &s,
		    PARK_CANCELLED, memory_order_relaxed,
		    memory_order_relaxed)) {
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

void
chanp_parker_init(struct parker *p)
{
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	atomic_init(&p->state, PARK_WAITING);
	p->fired = NULL;
	p->rec = NULL;
	p->shared = false;
}

void
chanp_parker_destroy(struct parker *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* Completes the waiters of list, after the caller has unlocked. */
void
chanp_wake_all(struct waiter *list)
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
void
chanp_waitq_close(chan_t *ch, struct waitq *q, struct waiter **list)
{
	struct waiter *w;

	while ((w = chanp_waitq_claim(ch, q)) != NULL) {
		w->ok = false;
		wake_push(list, w);
	}
}
