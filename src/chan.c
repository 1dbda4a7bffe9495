/* chan.c: Go's channels on a mutex per channel and per-waiter parkers. */

/*
 * The API and select.  The design and the invariants are in chan_impl.h.
 */

#include "chan_impl.h"

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
	dl = chanp_deadline_after(timeout_ms);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) ==
	    EINTR)
		;
	errno = ETIMEDOUT;
	return -1;
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
		chanp_settle_locked(ch, list);
	/*
	 * A receiver waits only while the ring has nothing ready; but a value
	 * may still be being written there, or a sender wait for room, and
	 * this one must pass neither.
	 */
	if ((ch->cap == 0 || (chanp_ring_count(ch) == 0 && ch->sendq.head == NULL)) &&
	    (w = chanp_waitq_claim(ch, &ch->recvq)) != NULL) {
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
	    done_locked(chanp_ring_put(ch, elem, true), &ch->puts_done) != RING_OK)
		return 0;
	chanp_settle_locked(ch, list);
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
		if ((w = chanp_waitq_claim(ch, &ch->sendq)) != NULL) {
			copy_out(ch, elem, w->elem);
			w->ok = true;
			wake_push(list, w);
			ch->nsend++;
			ch->nrecv++;
			return 1;
		}
	} else {
		chanp_settle_locked(ch, list);
		/* The same for receivers and a value a fast send has put. */
		if (ch->recvq.head == NULL && done_locked(chanp_ring_get(ch, elem,
		    true), &ch->gets_done) == RING_OK) {
			chanp_settle_locked(ch, list);
			return 1;
		}
		/*
		 * A send that got in before the close may still be writing:
		 * wait for its value like for any other.
		 */
		if (ch->closed && chanp_ring_count(ch) > 0)
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
	 * looks for waiters, or holds the lock.  Let them finish.  The
	 * acquire loads of the counts pair with the release fetch-adds that
	 * end chanp_fast_op(); those under the lock are ordered by the lock
	 * taken below.  The positions are loaded relaxed: the CAS of every
	 * operation whose value or room the caller has seen happens before
	 * this call, so coherence shows it.
	 */
	if (ch->cap > 0)
		while (atomic_load_explicit(&ch->puts_done,
		    memory_order_acquire) != (atomic_load_explicit(&ch->tail,
		    memory_order_relaxed) & ~POS_FLAGS) ||
		    atomic_load_explicit(&ch->gets_done,
		    memory_order_acquire) != (atomic_load_explicit(&ch->head,
		    memory_order_relaxed) & ~POS_FLAGS))
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
	bool spin;

	if (op == CHAN_SEND && elem == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ch == NULL)
		return wait_forever(op == CHAN_SEND ? "chan send" :
		    "chan receive", timeout_ms);
	if (ch->cap > 0) {
		r = chanp_fast_op(ch, op, elem);
		if (r == 0 && timeout_ms == 0 && chanp_ring_would_block(ch, op)) {
			errno = EAGAIN;
			return -1;
		}
		if (r == 0 && timeout_ms != 0 && !has_waiters(ch) &&
		    chanp_ring_poll(ch, op))
			r = chanp_fast_op(ch, op, elem);
		if (r != 0)
			goto done;
	}
	q = op == CHAN_SEND ? &ch->sendq : &ch->recvq;
	if (timeout_ms > 0)
		dl = chanp_deadline_after(timeout_ms);
	list = NULL;
	pthread_mutex_lock(&ch->mu);
	r = op == CHAN_SEND ? send_locked(ch, elem, &list) :
	    recv_locked(ch, elem, &list);
	if (r != 0 || timeout_ms == 0) {
		pthread_mutex_unlock(&ch->mu);
		chanp_wake_all(list);
		if (r == 0) {
			errno = EAGAIN;
			return -1;
		}
		goto done;
	}

	chanp_parker_init(&p);
	/*
	 * Only unbuffered channels are worth spinning for (SPIN_ROUNDS).
	 * Decided now: once unlocked, the waiter may be completed and the
	 * channel freed by its receiver.
	 */
	spin = ch->cap == 0;
	w.p = &p;
	w.elem = elem;
	w.index = 0;
	w.ok = false;
	chanp_waitq_push(q, &w);
	if (DBG_ON())
		chanp_blocked_link(&rec, &p, op == CHAN_SEND ? "chan send" :
		    "chan receive", ch, NULL, 1, timeout_ms > 0);
	/* What came since the attempt may be for this waiter. */
	if (ch->cap > 0)
		chanp_settle_locked(ch, &list);
	if (p.rec != NULL)
		chanp_blocked_check(&rec);
	pthread_mutex_unlock(&ch->mu);
	chanp_wake_all(list);

	r = chanp_parker_wait(&p, timeout_ms > 0 ? &dl : NULL, spin);
	if (p.rec != NULL && r == PARK_CANCELLED)
		chanp_blocked_done(&rec, ch);
	chanp_parker_destroy(&p);
	if (r == PARK_CANCELLED) {
		pthread_mutex_lock(&ch->mu);
		if (w.queued)
			chanp_waitq_remove(q, &w);
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
	chanp_waitq_close(ch, &ch->sendq, &list);
	if (ch->cap > 0) {
		/*
		 * Head first, relaxed: a fast receive's CAS of head that
		 * fails on the bit just retries, and a receiver's
		 * chanp_ring_would_block() that sees it takes the lock.
		 * Then tail: a fast send's CAS either comes first, and its
		 * value is waited for, or fails on the bit, and that send
		 * returns without the lock.  Release, pairing with the
		 * acquire fence in ring_claim() that follows such a
		 * failure: whoever learns of the close from that send sees
		 * the bit in head too.  Everyone else acts on the close
		 * under the lock.
		 */
		atomic_fetch_or_explicit(&ch->head, POS_CLOSED,
		    memory_order_relaxed);
		atomic_fetch_or_explicit(&ch->tail, POS_CLOSED,
		    memory_order_release);
		/*
		 * Receivers keep their places while a send that got in
		 * before the close is still writing; once drained, they go.
		 */
		chanp_settle_locked(ch, &list);
	} else
		chanp_waitq_close(ch, &ch->recvq, &list);
	pthread_mutex_unlock(&ch->mu);
	chanp_wake_all(list);
	return 0;
}

size_t
chan_len(const chan_t *ch)
{
	return ch == NULL || ch->cap == 0 ? 0 : chanp_ring_count(ch);
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
		/* Relaxed: a snapshot, like chanp_ring_count(). */
		st->recvs += atomic_load_explicit(&c->head,
		    memory_order_relaxed) & ~POS_FLAGS;
		st->sends += atomic_load_explicit(&c->tail,
		    memory_order_relaxed) & ~POS_FLAGS;
		st->len = chanp_ring_count(c);
	}
	st->cap = c->cap;
	st->closed = c->closed;
	pthread_mutex_unlock(&c->mu);
	/* Relaxed: a sum of chanp_blocked_done()'s relaxed fetch-adds. */
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
		/* Relaxed: only distinct values matter, not their order. */
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

/*
 * The lock-free pass of chan_select(): in poll order, a case on a
 * buffered channel that its ring can serve now is performed at once.  A
 * case passed over was not ready when looked at
 * (chanp_ring_would_block()).  At the first case that cannot be decided
 * so (an unbuffered channel, or one with waiters) the select must take
 * the locks, so that every case from there on keeps its chance of being
 * the one picked.  While every case is not ready, looks again up to polls
 * times, as chanp_ring_poll() does for one channel.  Returns the index of
 * the case performed, with its ok set, or -1 when the select must lock.
 */
static int
select_fast(struct chan_case *cases, size_t n, const size_t *pollorder,
    int polls)
{
	struct chan_case *c;
	size_t i;
	int r;

	for (;;) {
		for (i = 0; i < n; i++) {
			c = &cases[pollorder[i]];
			if (c->ch == NULL)
				continue;
			if (c->ch->cap == 0)
				return -1;
			if ((r = chanp_fast_op(c->ch, c->op, c->elem)) != 0) {
				c->ok = r > 0;
				return (int)pollorder[i];
			}
			if (!chanp_ring_would_block(c->ch, c->op))
				return -1;
		}
		if (polls-- <= 0)
			return -1;
		cpu_relax();
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
	bool spin;

	if (cases == NULL && n > 0) {
		errno = EINVAL;
		return -1;
	}
	pollorder = stackorder;
	if (n > SELECT_STACK) {
		/* More cases than memory can count: no allocation fits. */
		if (n > SIZE_MAX / (2 * sizeof(*pollorder)) ||
		    n > SIZE_MAX / sizeof(*ws)) {
			err = ENOMEM;
			goto out;
		}
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
		if (cases[i].op == CHAN_SEND && cases[i].elem == NULL) {
			err = EINVAL;
			goto out;
		}
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

	if ((ret = select_fast(cases, n, pollorder, timeout_ms != 0 ?
	    RING_POLLS : 0)) >= 0)
		goto out;

	if (timeout_ms > 0)
		dl = chanp_deadline_after(timeout_ms);
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
			chanp_wake_all(list);
			c->ok = r > 0;
			ret = (int)pollorder[i];
			goto out;
		}
	}
	if (timeout_ms == 0) {
		select_unlock(cases, lockorder, nlock);
		chanp_wake_all(list);
		err = EAGAIN;
		goto out;
	}

	chanp_parker_init(&p);
	/* Only unbuffered channels are worth spinning for: SPIN_ROUNDS. */
	spin = cases[lockorder[0]].ch->cap == 0;
	for (i = 1; i < nlock; i++) {
		if (cases[lockorder[i]].ch == cases[lockorder[i - 1]].ch)
			p.shared = true;
		if (cases[lockorder[i]].ch->cap == 0)
			spin = true;
	}
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
		chanp_waitq_push(c->op == CHAN_SEND ? &c->ch->sendq :
		    &c->ch->recvq, &ws[t]);
	}
	if (DBG_ON())
		chanp_blocked_link(&rec, &p, "select", NULL, cases, n,
		    timeout_ms > 0);
	/* What came since the attempts may be for these waiters. */
	for (i = 0, last = NULL; i < nlock; i++) {
		c = &cases[lockorder[i]];
		if (c->ch != last && c->ch->cap > 0)
			chanp_settle_locked(c->ch, &list);
		last = c->ch;
	}
	if (p.rec != NULL)
		chanp_blocked_check(&rec);
	select_unlock(cases, lockorder, nlock);
	chanp_wake_all(list);

	r = chanp_parker_wait(&p, timeout_ms > 0 ? &dl : NULL, spin);
	if (p.rec != NULL && r == PARK_CANCELLED)
		chanp_blocked_done(&rec, NULL);

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
			chanp_waitq_remove(c->op == CHAN_SEND ? &c->ch->sendq :
			    &c->ch->recvq, &ws[t]);
		pthread_mutex_unlock(&c->ch->mu);
	}
	chanp_parker_destroy(&p);

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
