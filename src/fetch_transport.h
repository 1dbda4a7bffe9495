/* fetch_transport.h: the thread that runs the workers' transfers. */
#ifndef FETCH_TRANSPORT_H
#define FETCH_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/*
 * A transport is a thread with libcurl multi handles.  Callers (the
 * workers of a run) hand it their easy handles, one transfer at a time
 * each, and block until it answers; it runs all of them at once on the
 * multi handles' connections.  So a connection outlives the transfer and
 * the caller that opened it and serves whichever caller next needs its
 * host, and HTTP/2 requests to one host ride one connection as streams
 * (CURLPIPE_MULTIPLEX).  The thread waits in epoll for the sockets
 * libcurl names (curl_multi_socket_action()), so its cost grows with
 * the sockets that are ready, not with the transfers in flight.
 *
 * A caller talks to the transport through a port of its own: the port
 * holds the caller's easy handle and the channel the answer comes back
 * on.  Between fetch_transport_perform() calls the easy handle is the caller's
 * alone (setopt, getinfo); during one it is the transport thread's.
 */
struct transport;
struct transport_port;

/* Ports a lane (a multi handle) serves: see fetch_transport_new(). */
#define FETCH_TRANSPORT_LANE_PORTS	64

/*
 * Starts a transport for at most callers ports.  It runs a multi handle
 * (a lane, made when first used) for every 64 ports: an HTTP/1 transfer
 * runs in its port's lane, and reuses the connections of that lane's
 * ports, each lane keeping idle connections to reuse beyond its ports'
 * own; an HTTP/2 one in lane 0, with every other stream to its origin.
 * A transport for one caller starts no thread: that caller runs its
 * transfers itself, in fetch_transport_perform().
 * curl_global_init() must have been called.  Returns the transport, or
 * NULL with errno set (ENOMEM, or what epoll, eventfd or pthread_create()
 * failed with).
 */
struct transport *fetch_transport_new(size_t callers, long idle);

/*
 * How long the transfers of an origin whose streams are all taken (see
 * STREAMS_MAX in fetch_transport.c), or the transfers handed to the
 * thread, may stand still and still count as moving.
 */
#define FETCH_TRANSPORT_HOLD_MS	100

/*
 * Whether a new caller of t would only wait: t runs every stream an
 * origin may have (more of its transfers wait for one), and an origin
 * became full or stopped being so less than FETCH_TRANSPORT_HOLD_MS ago;
 * or, once t has callers enough for a lane, its thread has yet to take
 * several transfers handed to it, and took one less than
 * FETCH_TRANSPORT_HOLD_MS ago.  callers: how many callers t has now.
 * When it returns true, *left_ms is how long the hold lasts unless t
 * moves again.  Time is the monotonic clock's, or a test's (see
 * fetch_transport_set_hold_clock()).  Never blocks; NULL holds nothing.
 */
bool		 fetch_transport_holds(struct transport *t, size_t callers,
		    long *left_ms);

/*
 * A testing aid, which the program never calls: makes the holds of
 * fetch_transport_holds(), and the wait of a transfer for its origin's
 * streams that fetch_transport_perform() counts against its timeout,
 * measure time by clock(), monotonic milliseconds that a test sets,
 * instead of the monotonic clock, so that the test decides when a hold
 * lapses or how long a transfer waited rather than race it; NULL restores
 * the monotonic clock.  clock() may be called from any thread.  Only
 * while no transport exists.
 */
void		 fetch_transport_set_hold_clock(int64_t (*clock)(void));

/*
 * Aborts every transfer in flight, within milliseconds, and every one
 * handed over from now on: their fetch_transport_perform() returns with
 * *aborted set.  Safe from any thread, a signal handler excepted;
 * idempotent.
 */
void		 fetch_transport_cancel(struct transport *t);

/*
 * Stops the thread and frees the transport, closing its connections.
 * No port may be in fetch_transport_perform(); ports are freed by their owners,
 * before or after.  NULL is a no-op.
 */
void		 fetch_transport_free(struct transport *t);

/*
 * Makes a port on t for easy, which the port borrows (it sets the easy
 * handle's CURLOPT_PRIVATE, unless t is a transport for one caller: an
 * easy handle may have one port on such a transport besides another).
 * Returns the port, or NULL with errno set (ENOMEM).
 */
struct transport_port *fetch_transport_port_new(struct transport *t,
		    CURL *easy);

/* Frees a port that is not in fetch_transport_perform(); NULL is a no-op. */
void		 fetch_transport_port_free(struct transport_port *p);

/*
 * Runs the port's easy handle's transfer to its end on the transport, as
 * curl_easy_perform() would, blocking the caller meanwhile.  Returns its
 * result, with *aborted false; or, with *aborted true, it was cut short
 * by fetch_transport_cancel() and the result means nothing.  The transfer's
 * CURLINFO values are read from the easy handle afterwards, as usual.
 * One call at a time per port.
 *
 * origin, borrowed for the call, names the transfer's scheme, host and
 * port ("https://example.com:8443") when it may speak HTTP/2, or is NULL.
 * An origin that has not yet answered over HTTP/1 gets at most as many
 * transfers at once as one HTTP/2 connection carries, so that they share
 * it rather than each open its own; the rest wait, in order, for those
 * to end.  NULL transfers never wait.  timeout_ms is the transfer's
 * CURLOPT_TIMEOUT_MS (0: none), as set on the easy handle: the time a
 * transfer waits for its origin counts against it, and one whose time
 * runs out while it waits is answered CURLE_OPERATION_TIMEDOUT without
 * being started (see fetch_transport_expired()).
 */
CURLcode	 fetch_transport_perform(struct transport_port *p,
		    const char *origin, long timeout_ms, bool *aborted);

/*
 * The origin to give fetch_transport_perform() for url, a URL as libcurl
 * writes it: for https, the scheme, host and port, without credentials,
 * which would show in messages and part a host's streams by user
 * (malloced); NULL with errno 0 for any other URL, or with errno ENOMEM.
 */
char		*fetch_transport_origin(const char *url);

/*
 * Whether the last fetch_transport_perform() on p ended because the
 * transfer's time ran out while it waited for its origin: it never
 * started, and the easy handle's CURLINFO values are those of an earlier
 * transfer.  Only p's caller may ask, after the call.
 */
bool		 fetch_transport_expired(const struct transport_port *p);

#endif /* FETCH_TRANSPORT_H */
