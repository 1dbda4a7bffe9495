/* chan.h: Go's channels for C threads, on pthreads. */
#ifndef CHAN_H
#define CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The shared libchan is built with -fvisibility=hidden, so that its
 * internal functions stay its own: only what this header marks CHAN_EXPORT
 * is visible to programs, and the ABI is exactly this header.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define CHAN_EXPORT	__attribute__((visibility("default")))
#else
#define CHAN_EXPORT
#endif

/*
 * A channel carries fixed-size values between threads, with the semantics
 * of Go's channels.  A channel of capacity 0 is unbuffered: a send and a
 * receive meet, and each completes only when the other has.  A channel of
 * capacity N > 0 holds up to N values in first-in, first-out order.
 *
 * Values are copied by value, elem_size bytes at a time, like Go's typed
 * channels.  To hand over ownership of a heap object, send its pointer: the
 * receiver then owns it.  The library never keeps a pointer the caller
 * passed in beyond the call that received it.
 *
 * Every function is safe to call from any thread at any time, except
 * chan_free(), which needs every other user to be done with the channel.
 * Unless stated otherwise, functions return 0 on success, or -1 with errno
 * set.  A NULL channel, as in Go, is never ready: see each function.
 *
 * Ordering and memory.  Values from one sender arrive in the order sent.
 * Blocked senders and receivers are served first come, first served, and
 * before any operation that comes after they blocked: a value or a buffer
 * slot that a blocked thread is due is never taken by a newcomer.  No
 * value is ever lost, duplicated or received twice.  A send happens before
 * the matching receive completes; on an unbuffered channel the receive
 * happens before the matching send completes; a close happens before a
 * receive that reports the channel closed.
 *
 * Timeouts are in milliseconds, measured on CLOCK_MONOTONIC: a negative
 * timeout waits forever, 0 only tries, a positive one waits at most that
 * long.
 */
typedef struct chan chan_t;

/*
 * Creates a channel of values of elem_size bytes that buffers up to
 * capacity values (0: unbuffered).  The caller owns the channel and frees
 * it with chan_free().  Returns NULL with errno EINVAL when elem_size is 0
 * or the buffer size overflows, ENOMEM when out of memory.
 */
CHAN_EXPORT chan_t *chan_new(size_t elem_size, size_t capacity);

/*
 * Frees the channel and any values still buffered in it.  Values are bytes
 * to the library: pointers buffered in them are not freed.  NULL is a no-op.
 * Freeing a channel on which a thread is blocked, or that another thread
 * may still use, is a misuse with undefined behaviour; close it and let
 * every user finish first.
 */
CHAN_EXPORT void chan_free(chan_t *ch);

/*
 * Sends the elem_size bytes at elem.  Blocks until a receiver has taken the
 * value (unbuffered) or there is room in the buffer.  When a receiver is
 * already waiting the value is copied straight into it.
 * Errors: EPIPE when the channel is closed, also when it is closed while
 * the sender waits (the value is then not delivered); EDEADLK on a NULL
 * channel, which would block forever; EINVAL when elem is NULL, as for
 * every send below.
 */
CHAN_EXPORT int chan_send(chan_t *ch, const void *elem);

/*
 * Receives a value into the elem_size bytes at elem (NULL discards it).
 * Blocks until a value is available.  A closed channel first yields the
 * values still buffered; once drained, chan_recv() returns -1 with errno
 * EPIPE at once and zero-fills elem: Go's "ok == false".
 * Errors: EPIPE as above; EDEADLK on a NULL channel.
 */
CHAN_EXPORT int chan_recv(chan_t *ch, void *elem);

/*
 * As chan_send() and chan_recv(), but never block: -1 with errno EAGAIN
 * when the operation would have to wait (always so on a NULL channel).
 */
CHAN_EXPORT int chan_try_send(chan_t *ch, const void *elem);
CHAN_EXPORT int chan_try_recv(chan_t *ch, void *elem);

/*
 * As chan_send() and chan_recv(), waiting at most timeout_ms: -1 with errno
 * ETIMEDOUT when the time runs out first (0 tries once and gives EAGAIN; a
 * negative timeout waits forever).  A NULL channel waits out the timeout.
 */
CHAN_EXPORT int chan_send_timeout(chan_t *ch, const void *elem,
    long timeout_ms);
CHAN_EXPORT int chan_recv_timeout(chan_t *ch, void *elem, long timeout_ms);

/*
 * Closes the channel: no value can be sent any more.  Every blocked
 * receiver and sender wakes: receivers with EPIPE and a zero-filled
 * element, senders with EPIPE and their value not delivered.  Values
 * already buffered can still be received.  Closing does not free.
 * Errors: EPIPE when already closed; EINVAL on a NULL channel.
 */
CHAN_EXPORT int chan_close(chan_t *ch);

/* Returns how many values are buffered now (0 for NULL or unbuffered). */
CHAN_EXPORT size_t chan_len(const chan_t *ch);

/* Returns the capacity given to chan_new() (0 for NULL). */
CHAN_EXPORT size_t chan_cap(const chan_t *ch);

/* Returns whether chan_close() has been called (false for NULL). */
CHAN_EXPORT bool chan_closed(const chan_t *ch);

enum chan_op { CHAN_SEND, CHAN_RECV };

/*
 * One case of a chan_select(): send the value at elem on ch, or receive
 * into elem (NULL discards).  ok is set by chan_select() on the case it
 * performs: true when a value moved, false when the channel was closed.
 */
struct chan_case {
	chan_t		*ch;
	enum chan_op	 op;
	void		*elem;
	bool		 ok;
};

/*
 * Waits until one of the n cases can proceed, performs exactly that one,
 * sets its ok and returns its index.  When several are ready, one is picked
 * uniformly at random.  Cases whose channel is NULL are never ready.  A
 * receive from a closed channel is ready (ok false, elem zero-filled); so is
 * a send to a closed channel (ok false, nothing sent).  The choice is atomic
 * across all the channels: no other operation can slip in between seeing a
 * case ready and performing it.  The same channel may appear in several
 * cases.
 * timeout_ms 0 is Go's "default:" and gives -1 with errno EAGAIN when no
 * case is ready; a positive timeout gives ETIMEDOUT when it runs out.
 * Errors: EDEADLK when every channel is NULL and the timeout is negative;
 * EINVAL when cases is NULL while n > 0, or a send case's elem is NULL;
 * ENOMEM for a large n (over 64
 * cases need memory) when out of memory.
 */
CHAN_EXPORT int chan_select(struct chan_case *cases, size_t n,
    long timeout_ms);

/*
 * Starts fn(arg) on a new detached thread, like Go's go statement.  Such
 * threads, and the main thread, are the ones the deadlock detector knows
 * (see chan_debug()).  Returns 0, or -1 with errno EINVAL (fn NULL),
 * ENOMEM, or pthread_create()'s error (EAGAIN: no more threads).
 */
CHAN_EXPORT int chan_go(void (*fn)(void *), void *arg);

/*
 * Counters of a channel: values sent and received since chan_new(), and
 * the total time threads spent blocked on it (counted only while
 * diagnostics are on).  Returns 0, or -1 with errno EINVAL for NULL.
 */
struct chan_stats {
	unsigned long long	 sends;
	unsigned long long	 recvs;
	double			 blocked_secs;
	size_t			 len;
	size_t			 cap;
	bool			 closed;
};
CHAN_EXPORT int chan_stats(const chan_t *ch, struct chan_stats *st);

/* Writes one line of ch's counters, labelled name, to fp. */
CHAN_EXPORT void chan_stats_print(FILE *fp, const chan_t *ch,
    const char *name);

/*
 * Diagnostics, off by default and switched on by the environment variable
 * CHAN_DEBUG=1 at start-up or by chan_debug(true):
 * - Leak report: at exit, every thread still blocked in a channel
 *   operation is listed on stderr with the channel, the operation and how
 *   long it has waited.
 * - Deadlock detection: when the main thread and every thread started by
 *   chan_go() are blocked in untimed channel operations and the process has
 *   no other thread, the library prints "fatal error: all threads are
 *   asleep - deadlock!" and each blocked operation on stderr, and aborts
 *   (within 100 ms of the last other thread's end, if that comes last).
 * - An untimed operation on a NULL channel says so on stderr before
 *   failing with EDEADLK.
 * Cost: off, one relaxed atomic load on the path that blocks and none on
 * the others; on, every operation that blocks also takes one global mutex
 * and reads the clock twice, and wakes every 100 ms while it waits.  Counters of sends and receives are always
 * kept (an increment under the lock already held).
 */
CHAN_EXPORT void chan_debug(bool on);
CHAN_EXPORT bool chan_debug_enabled(void);

/* Writes every operation blocked right now to fp (diagnostics on). */
CHAN_EXPORT void chan_debug_report(FILE *fp);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_H */
