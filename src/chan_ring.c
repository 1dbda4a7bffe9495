/* chan_ring.c: the lock-free ring of a buffered channel, and settling. */

#include "chan_impl.h"

/*
 * Claims the next slot of one side of the ring: for a send, side is
 * &ch->tail and full 0, the slot being free at 2 pos; for a receive,
 * &ch->head and 1, the slot holding a value at 2 pos + 1.  Returns
 * RING_OK with the slot and its position, RING_BLOCKED when the slot is
 * not yet free or filled, or, unless locked (the caller holds the
 * channel's lock), when that side's gate is closed, and RING_CLOSED when
 * a send finds the tail marked closed.
 */
static inline int
ring_claim(chan_t *ch, atomic_ring_pos *side, ring_pos full, bool locked,
    ring_pos *posp, unsigned char **slotp)
{
	unsigned char *slot;
	ring_pos word, pos, seq;

	/* Relaxed: a guess, which the sequence number and the CAS check. */
	word = atomic_load_explicit(side, memory_order_relaxed);
	for (;;) {
		if ((word & POS_CLOSED) && full == 0) {
			/*
			 * Pairs with chan_close()'s release fetch-or of
			 * tail, read relaxed: the bit it set in head before
			 * is visible to what follows this send.
			 */
			atomic_thread_fence(memory_order_acquire);
			return RING_CLOSED;
		}
		if ((word & POS_WAITERS) && !locked)
			return RING_BLOCKED;
		pos = word & ~POS_FLAGS;
		slot = ring_slot(ch, pos);
		/*
		 * Pairs with the release store of the other side: for a
		 * send, that of 2 pos by the receive that emptied the slot
		 * (its read of the old value happens before the copy that
		 * overwrites it); for a receive, that of 2 pos + 1 by the
		 * send that filled it (the value is visible).
		 */
		seq = atomic_load_explicit(slot_seq(slot),
		    memory_order_acquire);
		if (seq == 2 * pos + full) {
			/*
			 * Relaxed: claims the slot by atomicity alone, and
			 * fails if a gate or the close bit was set since
			 * word was read (chanp_waitq_push(), chan_close()):
			 * a send then finds the channel closed, a receive
			 * tries again.
			 */
			if (atomic_compare_exchange_weak_explicit(side, &word,
			    word + 1, memory_order_relaxed,
			    memory_order_relaxed))
				break;
		} else if ((int64_t)(seq - (2 * pos + full)) < 0)
			return RING_BLOCKED;
		else	/* Another took pos: as the first load. */
			word = atomic_load_explicit(side,
			    memory_order_relaxed);
	}
	*posp = pos;
	*slotp = slot;
	return RING_OK;
}

/*
 * Appends a copy of elem to the ring.  Returns RING_BLOCKED when it is
 * full (or its oldest slot is still being read), or, unless locked, when
 * senders wait; RING_CLOSED once chan_close() has marked the tail.
 */
int
chanp_ring_put(chan_t *ch, const void *elem, bool locked)
{
	unsigned char *slot;
	ring_pos pos;
	int r;

	if ((r = ring_claim(ch, &ch->tail, 0, locked, &pos, &slot)) !=
	    RING_OK)
		return r;
	VG_TAKES_OVER(slot);
	memcpy(slot + SEQ_SIZE, elem, ch->elem_size);
	VG_HANDS_OVER(slot);
	/*
	 * Publishes the value: pairs with the acquire loads of the sequence
	 * number by the receive at pos (ring_claim(), ring_ready(),
	 * chanp_ring_would_block()).
	 */
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
int
chanp_ring_get(chan_t *ch, void *elem, bool locked)
{
	unsigned char *slot;
	ring_pos pos;
	int r;

	if ((r = ring_claim(ch, &ch->head, 1, locked, &pos, &slot)) !=
	    RING_OK)
		return r;
	VG_TAKES_OVER(slot);
	copy_out(ch, elem, slot + SEQ_SIZE);
	VG_HANDS_OVER(slot);
	/*
	 * Frees the slot for the send one lap later: pairs with the acquire
	 * loads of the sequence number in ring_claim(), ring_room() and
	 * chanp_ring_would_block().
	 */
	atomic_store_explicit(slot_seq(slot), 2 * (pos + ch->cap),
	    memory_order_release);
	return RING_OK;
}

/*
 * Whether the oldest value of the ring can be taken now.  The loads are
 * those of ring_claim(), paired the same way.
 */
static bool
ring_ready(chan_t *ch)
{
	ring_pos pos = atomic_load_explicit(&ch->head, memory_order_relaxed) &
	    ~POS_FLAGS;

	return atomic_load_explicit(slot_seq(ring_slot(ch, pos)),
	    memory_order_acquire) == 2 * pos + 1;
}

/*
 * Whether a value can be appended to the ring now, by the lock holder.
 * The loads are those of ring_claim(), paired the same way.
 */
static bool
ring_room(chan_t *ch)
{
	ring_pos word = atomic_load_explicit(&ch->tail, memory_order_relaxed);
	ring_pos pos = word & ~POS_FLAGS;

	return (word & POS_CLOSED) == 0 &&
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
 * it was seen.  Only op's own side of the ring is read, the close bit
 * being in both: a receiver polling an empty ring leaves the tail's line
 * to the sender, whose every CAS would otherwise miss it.
 */
bool
chanp_ring_would_block(chan_t *ch, enum chan_op op)
{
	atomic_ring_pos *side = op == CHAN_SEND ? &ch->tail : &ch->head;
	ring_pos pos, seq;

	/* As in ring_claim(). */
	pos = atomic_load_explicit(side, memory_order_relaxed) & ~POS_FLAGS;
	seq = atomic_load_explicit(slot_seq(ring_slot(ch, pos)),
	    memory_order_acquire);
	if ((int64_t)(seq - (op == CHAN_SEND ? 2 * pos : 2 * pos + 1)) >= 0)
		return false;
	/*
	 * Relaxed: the acquire load above keeps this one after it.  The bit
	 * is set by chan_close()'s fetch-ors.
	 */
	return (atomic_load_explicit(side, memory_order_relaxed) &
	    POS_CLOSED) == 0;
}

/*
 * Values in the ring, counting those being written or read.  Relaxed
 * loads: a snapshot.  Under the lock, which is where it decides
 * anything, the lock orders it after the changes made under the lock
 * (a close's fetch-or), and coherence after the CASes that the thread
 * has seen the effects of.
 */
size_t
chanp_ring_count(const chan_t *ch)
{
	ring_pos head = atomic_load_explicit(&ch->head, memory_order_relaxed) &
	    ~POS_FLAGS;
	ring_pos tail = atomic_load_explicit(&ch->tail, memory_order_relaxed) &
	    ~POS_FLAGS;

	return tail > head ? (tail - head < ch->cap ? (size_t)(tail - head) :
	    ch->cap) : 0;
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
void
chanp_settle_locked(chan_t *ch, struct waiter **list)
{
	struct waiter *w;
	bool moved;

	do {
		moved = false;
		while (ring_ready(ch) &&
		    (w = chanp_waitq_claim(ch, &ch->recvq)) != NULL) {
			done_locked(chanp_ring_get(ch, w->elem, true),
			    &ch->gets_done);
			w->ok = true;
			wake_push(list, w);
		}
		while (ring_room(ch) &&
		    (w = chanp_waitq_claim(ch, &ch->sendq)) != NULL) {
			done_locked(chanp_ring_put(ch, w->elem, true),
			    &ch->puts_done);
			w->ok = true;
			moved = true;
			wake_push(list, w);
		}
	} while (moved);
	if (ch->closed && chanp_ring_count(ch) == 0)
		chanp_waitq_close(ch, &ch->recvq, list);
	chanp_waitq_ungate(&ch->recvq);
	chanp_waitq_ungate(&ch->sendq);
}

/* Settles a buffered channel's waiters after a fast operation. */
static void
settle(chan_t *ch)
{
	struct waiter *list = NULL;

	pthread_mutex_lock(&ch->mu);
	chanp_settle_locked(ch, &list);
	pthread_mutex_unlock(&ch->mu);
	chanp_wake_all(list);
}

/*
 * A send or receive on a buffered channel without the lock.  Returns 1
 * when done, -1 when a send found the channel closed, 0 when the caller
 * must take the lock: the ring is full or empty, or someone waits.
 */
int
chanp_fast_op(chan_t *ch, enum chan_op op, void *elem)
{
	int r;

	if (has_waiters(ch))
		return 0;
	r = op == CHAN_SEND ? chanp_ring_put(ch, elem, false) :
	    chanp_ring_get(ch, elem, false);
	if (r == RING_BLOCKED)
		return 0;
	if (r == RING_CLOSED)
		return -1;
	/*
	 * Dekker: pairs with the fence in chanp_waitq_push().  The ring was
	 * updated before this fence and the queue counts are read after it;
	 * a waiter counts itself before its fence and reads the ring after.
	 * One of the two sees the other.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (has_waiters(ch))
		settle(ch);
	/*
	 * The last touch: after it, chan_free() may free the channel.
	 * Pairs with chan_free()'s acquire loads of the counts.
	 */
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
bool
chanp_ring_poll(chan_t *ch, enum chan_op op)
{
	int i;

	for (i = 0; i < RING_POLLS; i++) {
		if (op == CHAN_SEND ? ring_room(ch) : ring_ready(ch))
			return true;
		cpu_relax();
	}
	return false;
}
