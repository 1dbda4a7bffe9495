#!/usr/bin/env python3
"""Loopback HTTP and HTTPS fixture server for the fetch_urls end-to-end tests.

Usage: python3 tests/fixture.py [--host 127.0.0.1|::1] [--pki]

It binds an ephemeral port for plain HTTP and another for HTTPS (with a
self-signed certificate for 127.0.0.1, ::1 and localhost, made with the
openssl command in a temporary directory that is removed on exit), prints
exactly one line

    READY http=PORT https=PORT cert=/path/to/cert.pem

(with --pki, followed by " pki=PORT mtls=PORT": see below) to standard
output, flushes it, and serves until standard input reaches end
of file or the process gets SIGTERM or SIGINT.  A parent that holds the write
end of our standard input therefore takes the server down when it dies.

With --pki it also makes a private certificate authority in the same
temporary directory, and two more HTTPS listeners whose certificate that
CA signed (for 127.0.0.1, ::1, localhost and pki.test): pki=PORT, and
mtls=PORT, which also demands a client certificate the CA signed.  The
directory holds ca.pem (the CA), capath/ (ca.pem under its hash name, as
CURLOPT_CAPATH wants), client.pem and client-key.pem (a client
certificate and its key) and other.pem and other-key.pem (a client
certificate of another, unknown CA).

Every response carries Content-Length, so HTTP/1.1 keep-alive works.  The
server logs nothing per request.

Endpoints (any request may carry ?key=K to be counted under K, and with
it &also=K2 to be counted under K2 as well):
  /delay/MS        200 after MS milliseconds.
  /status/CODE     answers with status CODE (200..599).
  /bytes/N         N bytes of body, streamed in 1 MiB writes from one
                   preallocated buffer (1 GiB takes well under a second).
  /redirect/N      302 to /redirect/N-1; /redirect/0 answers 200.
  /redirect-to?url=U   302 to U, whatever it is (another scheme, a loop).
  /loop            302 to itself, path and query alike: a redirect loop.
  /hang            never answers; holds the connection until the client
                   leaves or the server stops.
  /close           drops the connection without answering.
  /truncated       sends a status line and half a header line, then
                   closes: a response whose header block never ends.
  /reset/N         promises 2N bytes, sends N, then resets the connection.
  /drip/MS[?n=B]   headers, then B (default 10) body bytes, one every MS ms.
  /headers         JSON: the request method, path and headers.  Any
                   method is served (PUT, DELETE, PATCH, OPTIONS too).
                   With ?key=K it is also kept for /seen/K.
  /echo            JSON as /headers, with the request's body: body_len,
                   body_sha256 and, up to 64 kB, body (bytes as the
                   code points 0-255).  Any method; ?key=K as /headers.
  /gzip/N[?bad=1]   N bytes of "z", gzip-encoded when the request's
                   Accept-Encoding names gzip; with bad=1, a body that
                   claims to be gzip and is not, whatever was asked.
  /numbers/N[?wait=K&for=R]   N bytes of body: the 32-bit little-endian
                   numbers 0, 1, 2, ... (the last one cut short), every
                   4 bytes unlike any other, streamed in 1 MiB writes.
                   With wait=K it stops after the first half until R
                   requests (default 1) counted under K have been
                   answered, and drops the connection if that takes
                   over 60 s: the other URLs must run while it streams.
  /pattern/NAME[?n=B&seed=S]   B (default 1000) bytes of body, byte i
                   being (S + 31 i + 7 (i >> 8)) mod 256 (S default 0),
                   whatever NAME is (slashes too): bodies that every
                   byte value, and the seed, tell apart, for -o and -O.
  /set-cookie?c=C[&c=C2...]   200 with a Set-Cookie: C header for each c.
  /seen/K[?all=1]  the JSON of the last /headers or /echo request counted
                   under K
                   (for a client that does not show the body), or 404;
                   with all=1, of every one, a line each, oldest first.
  /flaky/N?key=K[&code=C][&retry_after=S|&retry_after_date=S]
                   the first N requests counted under K answer with
                   status C (400..599, default 503), and with a
                   Retry-After header of S seconds, or of the HTTP date S
                   seconds from now; the ones after answer 200.
  /report/F[?status=CODE&quoted=1]   JSON test report, status CODE
                   (default 200): {"summary": {"failed-count": F,
                   "passed-count": 3, "total-count": F + 3}}; with
                   quoted=1 the failed-count is the string "F".
  /count/K         JSON: {"requests": R, "max_in_flight": M, "in_flight": F,
                   "connections": C} for the requests that carried
                   ?key=K; C is how many connections (on either port,
                   each a TLS handshake on the HTTPS one) carried them.  With
                   ?until_requests=R or ?until_in_flight=F (and optionally
                   &timeout=SECS, default 10) it first waits until the key
                   has that many requests / that many in flight, or the
                   time is up; the caller checks the numbers it gets.
                   A request is in flight from its arrival until its
                   response starts, so a client that waits for each
                   response before it sends the next request is never
                   counted twice at once.

Any request for an absolute http:// URI is forwarded, as a forward proxy
does (GET, POST and the rest; no CONNECT), with an X-Via-Proxy: fixture
header added; the request as the proxy got it is kept for /seen/proxy/K
when the URL has ?key=K.

To add an endpoint, write a method route_NAME(self, arg, query) on Handler:
a request for /NAME or /NAME/ARG reaches it.
"""

import argparse
import email.utils
import gzip
import hashlib
import http.client
import http.server
import itertools
import json
import os
import select
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import weakref

CHUNK = 1024 * 1024
FILLER = memoryview(b"x" * CHUNK)   # Slices of it copy nothing.


class Counters:
    """Per-key request counts, in-flight maxima and the connections that
    carried them, safe across threads."""

    def __init__(self):
        self.cond = threading.Condition()
        self.keys = {}
        self.conns = {}             # key -> set of connection numbers

    def begin(self, key, conn):
        with self.cond:
            c = self.keys.setdefault(
                key, {"requests": 0, "in_flight": 0, "max_in_flight": 0})
            self.conns.setdefault(key, set()).add(conn)
            c["requests"] += 1
            c["in_flight"] += 1
            if c["in_flight"] > c["max_in_flight"]:
                c["max_in_flight"] = c["in_flight"]
            self.cond.notify_all()

    def end(self, key):
        with self.cond:
            self.keys[key]["in_flight"] -= 1
            self.cond.notify_all()

    def get(self, key, want_requests=0, want_in_flight=0, timeout=0.0):
        """Snapshot of key's counts, after waiting up to timeout seconds
        until it has at least want_requests requests and want_in_flight
        in flight; the caller compares the snapshot to what it wanted."""
        zero = {"requests": 0, "in_flight": 0, "max_in_flight": 0}

        def ready():
            c = self.keys.get(key, zero)
            return (c["requests"] >= want_requests
                    and c["in_flight"] >= want_in_flight)

        with self.cond:
            self.cond.wait_for(ready, timeout)
            c = self.keys.get(key, zero)
            return {"requests": c["requests"],
                    "max_in_flight": c["max_in_flight"],
                    "in_flight": c["in_flight"],
                    "connections": len(self.conns.get(key, ()))}


COUNTERS = Counters()
CONNECTIONS = itertools.count(1)    # Numbers the connections served.
SEEN = {}                       # key -> every /headers answer, bytes
SEEN_LOCK = threading.Lock()
STOPPING = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY the
    # body would wait for the client's delayed ACK, adding 40 ms to every
    # request on a reused connection.
    disable_nagle_algorithm = True

    def version_string(self):
        return "fixture/1"

    def setup(self):
        # One handler serves one connection, all its requests.
        self._conn = next(CONNECTIONS)
        super().setup()

    def log_message(self, format, *args):
        pass

    # Counting: begin when the request has been parsed, end when the
    # response starts (or the handler gives up without one).

    def send_response(self, code, message=None):
        self._track_end()
        super().send_response(code, message)

    def _track_end(self):
        keys = getattr(self, "_keys", ())
        self._keys = ()
        for key in keys:
            COUNTERS.end(key)

    def do_GET(self):
        self._dispatch(True)

    def do_POST(self):
        self._dispatch(True)

    def do_HEAD(self):
        self._dispatch(False)

    # Methods without a meaning here are served like POST, so that the
    # echo endpoints see them.
    do_PUT = do_POST
    do_DELETE = do_POST
    do_PATCH = do_POST
    do_OPTIONS = do_POST

    def _dispatch(self, body):
        # Any method may carry a body (curl's -X GET -d sends one): it is
        # read whole, for /echo, and the connection stays in step.
        length = int(self.headers.get("Content-Length") or 0)
        self._request_body = self.rfile.read(length) if length > 0 else b""
        self._body = body
        if self.path.startswith("http://"):
            self._proxy()
            return
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        key = query.get("key", [None])[0]
        self._keys = ()
        if key is not None:
            self._keys = (key,) + tuple(query.get("also", [])[:1])
            for k in self._keys:
                COUNTERS.begin(k, self._conn)
        try:
            segs = parts.path.strip("/").split("/", 1)
            route = getattr(self, "route_" + segs[0].replace("-", "_"),
                            None)
            arg = segs[1] if len(segs) > 1 else None
            if route is None:
                self._reply(404, b"no such endpoint\n")
            else:
                route(arg, query)
        finally:
            self._track_end()

    def _reply(self, code, data=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self._body and data:
            self.wfile.write(data)

    def _int(self, arg, low, high):
        try:
            n = int(arg)
        except (TypeError, ValueError):
            n = None
        if n is None or n < low or n > high:
            self._reply(400, b"bad number\n")
            return None
        return n

    def _wait_for_client_to_leave(self, limit=None):
        """Block until the peer closes, the server stops, or limit secs."""
        sock = self.connection
        end = None if limit is None else time.monotonic() + limit
        while not STOPPING.is_set():
            wait = 0.2
            if end is not None:
                wait = min(wait, end - time.monotonic())
                if wait <= 0:
                    return False
            try:
                ready, _, _ = select.select([sock], [], [], wait)
                if ready and not sock.recv(4096):
                    break
            except (OSError, ValueError):
                break
        self.close_connection = True
        return True

    def route_delay(self, arg, query):
        ms = self._int(arg, 0, 3600 * 1000)
        if ms is None:
            return
        STOPPING.wait(ms / 1000.0)
        self._reply(200, b"delayed %d ms\n" % ms)

    def route_status(self, arg, query):
        code = self._int(arg, 200, 599)
        if code is None:
            return
        if code in (204, 304):
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._reply(code, b"status %d\n" % code)

    def _octets_head(self, n):
        """Sends the head of a 200 with n bytes of octets; returns whether
        the body is to follow (not for HEAD)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        return self._body

    def route_bytes(self, arg, query):
        n = self._int(arg, 0, 1 << 40)
        if n is None:
            return
        if not self._octets_head(n):
            return
        left = n
        while left > 0:
            k = min(left, CHUNK)
            self.wfile.write(FILLER[:k])
            left -= k

    def route_redirect(self, arg, query):
        n = self._int(arg, 0, 1000)
        if n is None:
            return
        if n == 0:
            self._reply(200, b"redirect chain done\n")
            return
        target = "/redirect/%d" % (n - 1)
        if "key" in query:
            target += "?key=" + urllib.parse.quote(query["key"][0])
        self._reply(302, b"", extra=[("Location", target)])

    def route_loop(self, arg, query):
        self._reply(302, b"", extra=[("Location", self.path)])

    def route_redirect_to(self, arg, query):
        target = query.get("url", ["/status/200"])[0]
        self._reply(302, b"", extra=[("Location", target)])

    def route_hang(self, arg, query):
        self._wait_for_client_to_leave()

    def route_close(self, arg, query):
        self.close_connection = True

    def route_truncated(self, arg, query):
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Ty")
        self.wfile.flush()
        self.close_connection = True

    def route_reset(self, arg, query):
        n = self._int(arg, 0, 1 << 30)
        if n is None:
            return
        self.send_response(200)
        self.send_header("Content-Length", str(2 * n + 1))
        self.end_headers()
        if self._body:
            self.wfile.write(b"r" * n)
        self.wfile.flush()
        # SO_LINGER with a zero timeout makes close() send a reset, as long
        # as nobody shuts the socket down in an orderly way first.
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER,
                struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.server.reset_on_close(self.connection)
        self.close_connection = True

    def route_drip(self, arg, query):
        ms = self._int(arg, 0, 3600 * 1000)
        if ms is None:
            return
        try:
            n = int(query.get("n", ["10"])[0])
        except ValueError:
            n = -1
        if n < 0:
            self._reply(400, b"bad n\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.flush()
        if not self._body:
            return
        for _ in range(n):
            if STOPPING.wait(ms / 1000.0):
                self.close_connection = True
                return
            self.wfile.write(b"d")
            self.wfile.flush()

    def route_headers(self, arg, query):
        doc = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()]}
        data = (json.dumps(doc) + "\n").encode()
        if "key" in query:
            with SEEN_LOCK:
                SEEN.setdefault(query["key"][0], []).append(data)
        self._reply(200, data, "application/json")

    def _proxy(self):
        """Forwards a request for an absolute http URI, as a forward
        proxy does, adding X-Via-Proxy; keeps the request as it came, for
        /seen/proxy/K when the URL has ?key=K."""
        parts = urllib.parse.urlsplit(self.path)
        key = urllib.parse.parse_qs(parts.query).get("key", [None])[0]
        if key is not None:
            doc = {"method": self.command, "path": self.path,
                   "headers": [[k, v] for k, v in self.headers.items()]}
            with SEEN_LOCK:
                SEEN.setdefault("proxy/" + key, []).append(
                    (json.dumps(doc) + "\n").encode())
        hop = ("connection", "proxy-connection", "proxy-authorization",
               "keep-alive")
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in hop}
        headers["X-Via-Proxy"] = "fixture"
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80,
                                          timeout=30)
        try:
            conn.request(self.command, target, self._request_body or None,
                         headers)
            resp = conn.getresponse()
            data = resp.read()
            status, got = resp.status, resp.getheaders()
        except OSError:
            self._reply(502, b"proxy: upstream failed\n")
            return
        finally:
            conn.close()
        self.send_response(status)
        for k, v in got:
            if k.lower() not in hop + ("content-length", "transfer-encoding",
                                       "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self._body:
            self.wfile.write(data)

    def route_echo(self, arg, query):
        body = self._request_body
        doc = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "body_len": len(body),
               "body_sha256": hashlib.sha256(body).hexdigest()}
        if len(body) <= 65536:
            doc["body"] = body.decode("latin-1")
        data = (json.dumps(doc) + "\n").encode()
        if "key" in query:
            with SEEN_LOCK:
                SEEN.setdefault(query["key"][0], []).append(data)
        self._reply(200, data, "application/json")

    def route_numbers(self, arg, query):
        n = self._int(arg, 0, 1 << 34)
        if n is None:
            return
        key = query.get("wait", [None])[0]
        want = self._int(query.get("for", ["1"])[0], 1, 1 << 20)
        if want is None:
            return
        if not self._octets_head(n):
            return
        # Word j of 1 MiB chunk c is (c << 18) + j: its low two bytes
        # depend on j alone, so each chunk rewrites only the high two,
        # a few strided slice assignments that run at C speed.
        words = CHUNK // 4
        buf = bytearray(struct.pack("<%dI" % words, *range(words)))
        sent = 0
        for c in itertools.count():
            if sent >= n:
                break
            for q in range(4):
                quarter = slice(q * CHUNK // 4 + 2, (q + 1) * CHUNK // 4, 4)
                buf[quarter] = bytes([(4 * c + q) & 255]) * (words // 4)
            buf[3::4] = bytes([(c >> 6) & 255]) * words
            if key is not None and sent < n // 2 <= sent + CHUNK:
                self.wfile.write(memoryview(buf)[:n // 2 - sent])
                sent = n // 2
                if not self._wait_answered(key, want, 60.0):
                    self.close_connection = True
                    return
                self.wfile.write(memoryview(buf)[sent - c * CHUNK:
                                                 min(n - c * CHUNK, CHUNK)])
            else:
                self.wfile.write(memoryview(buf)[:min(n - sent, CHUNK)])
            sent = min(n, (c + 1) * CHUNK)

    def _wait_answered(self, key, want, timeout):
        """Whether want requests under key were answered within timeout
        seconds."""
        def ready():
            c = COUNTERS.keys.get(key)
            return (c is not None and c["requests"] >= want
                    and c["in_flight"] == 0)

        with COUNTERS.cond:
            return COUNTERS.cond.wait_for(ready, timeout)

    def route_pattern(self, arg, query):
        n = self._int(query.get("n", ["1000"])[0], 0, 1 << 30)
        if n is None:
            return
        seed = self._int(query.get("seed", ["0"])[0], 0, 255)
        if seed is None:
            return
        self._reply(200, pattern(n, seed), "application/octet-stream")

    def route_gzip(self, arg, query):
        n = self._int(arg, 0, 1 << 24)
        if n is None:
            return
        data, extra = b"z" * n, []
        accept = self.headers.get("Accept-Encoding") or ""
        if "gzip" in accept or query.get("bad") == ["1"]:
            data = b"this is not gzip" if query.get("bad") == ["1"] else \
                gzip.compress(data)
            extra = [("Content-Encoding", "gzip")]
        self._reply(200, data, "text/plain", extra)

    def route_set_cookie(self, arg, query):
        extra = [("Set-Cookie", c) for c in query.get("c", [])]
        self._reply(200, b"cookies set\n", extra=extra)

    def route_seen(self, arg, query):
        with SEEN_LOCK:
            seen = SEEN.get(arg or "")
            data = seen and (b"".join(seen) if "all" in query else seen[-1])
        if data is None:
            self._reply(404, b"nothing seen\n")
        else:
            self._reply(200, data, "application/json")

    def route_flaky(self, arg, query):
        n = self._int(arg, 0, 1000000)
        if n is None:
            return
        key = query.get("key", [None])[0]
        if key is None:
            self._reply(400, b"flaky needs ?key=K\n")
            return
        code = self._int(query.get("code", ["503"])[0], 400, 599)
        if code is None:
            return
        # This request is counted already: it is number `requests`.
        if COUNTERS.get(key)["requests"] > n:
            self._reply(200, b"recovered\n")
            return
        extra = []
        try:
            if "retry_after" in query:
                extra.append(("Retry-After",
                              str(int(query["retry_after"][0]))))
            elif "retry_after_date" in query:
                when = time.time() + float(query["retry_after_date"][0])
                extra.append(("Retry-After",
                              email.utils.formatdate(when, usegmt=True)))
        except ValueError:
            self._reply(400, b"bad retry_after\n")
            return
        self._reply(code, b"flaky %d\n" % code, extra=extra)

    def route_report(self, arg, query):
        failed = self._int(arg, 0, 1000000)
        if failed is None:
            return
        try:
            code = int(query.get("status", ["200"])[0])
        except ValueError:
            code = 0
        if code < 200 or code > 599 or code in (204, 304):
            self._reply(400, b"bad status\n")
            return
        count = str(failed) if query.get("quoted") == ["1"] else failed
        doc = {"summary": {"failed-count": count, "passed-count": 3,
                           "total-count": failed + 3}}
        data = (json.dumps(doc) + "\n").encode()
        self._reply(code, data, "application/json")

    def route_count(self, arg, query):
        if not arg:
            self._reply(400, b"missing key\n")
            return
        try:
            want_req = int(query.get("until_requests", ["0"])[0])
            want_fly = int(query.get("until_in_flight", ["0"])[0])
            timeout = float(query.get("timeout", ["10"])[0])
        except ValueError:
            self._reply(400, b"bad number\n")
            return
        counts = COUNTERS.get(arg, want_req, want_fly, min(timeout, 60.0))
        data = (json.dumps(counts) + "\n").encode()
        self._reply(200, data, "application/json")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    tls = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reset_lock = threading.Lock()
        self.to_reset = weakref.WeakSet()

    def reset_on_close(self, sock):
        with self.reset_lock:
            self.to_reset.add(sock)

    def shutdown_request(self, request):
        with self.reset_lock:
            reset = request in self.to_reset
            self.to_reset.discard(request)
        if reset:
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def server_bind(self):
        # HTTPServer.server_bind would look up our own name in the DNS,
        # which is slow or impossible in a sandbox; we only need the port.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # slow or broken client cannot stall the accept loop.
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(conn, client_address)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Clients that leave early are part of the tests: keep quiet about
        # them, and only report real bugs in the fixture.
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError, ValueError)):
            return
        super().handle_error(request, client_address)


def pattern(n, seed):
    """The body of /pattern: byte i is (seed + 31 i + 7 (i >> 8)) % 256."""
    row = bytes((seed + 31 * i) % 256 for i in range(256))
    out = bytearray()
    for block in range((n + 255) // 256):
        add = 7 * block
        out += row.translate(bytes((k + add) % 256 for k in range(256)))
    return bytes(out[:n])


def make_cert(tmp):
    cert = os.path.join(tmp, "cert.pem")
    key = os.path.join(tmp, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    return cert, key


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)


def make_pki(tmp):
    """Makes the CA, a server and a client certificate it signs, and a
    client certificate of a CA nobody trusts, in tmp (see the top)."""
    cnf = os.path.join(tmp, "req.cnf")
    with open(cnf, "w") as f:
        # Only the extensions given below: no defaults from openssl.cnf.
        f.write("[req]\ndistinguished_name = dn\n[dn]\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-days", "2", "-config", cnf]

    def path(name):
        return os.path.join(tmp, name)

    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-keyout", path(ca + "-key.pem"),
                "-out", path(ca + ".pem"), "-subj", "/CN=fetch_urls " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    leaves = [("pki", "ca", "/CN=pki.test", "serverAuth",
               "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,"
               "DNS:pki.test"),
              ("client", "ca", "/CN=client", "clientAuth", None),
              ("other", "other-ca", "/CN=other", "clientAuth", None)]
    for name, ca, subj, usage, san in leaves:
        ext = ["-addext", "basicConstraints=critical,CA:FALSE",
               "-addext", "extendedKeyUsage=" + usage]
        if san:
            ext += ["-addext", san]
        openssl("req", *ec, "-keyout", path(name + "-key.pem"),
                "-out", path(name + ".pem"), "-subj", subj, *ext,
                "-CA", path(ca + ".pem"), "-CAkey", path(ca + "-key.pem"))
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", path("ca.pem")],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE).stdout.decode().strip()
    os.mkdir(path("capath"))
    shutil.copy(path("ca.pem"), os.path.join(path("capath"),
                                             digest + ".0"))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(path("pki.pem"), path("pki-key.pem"))
    mutual = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    mutual.load_cert_chain(path("pki.pem"), path("pki-key.pem"))
    mutual.load_verify_locations(path("ca.pem"))
    mutual.verify_mode = ssl.CERT_REQUIRED
    return server, mutual


def make_server(host, tls):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Bound(Server):
        address_family = family

    srv = Bound((host, 0), Handler)
    srv.tls = tls
    t = threading.Thread(target=srv.serve_forever,
                         kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    return srv


def watch_stdin():
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    STOPPING.set()


def main():
    ap = argparse.ArgumentParser(description="fetch_urls test fixture")
    ap.add_argument("--host", default="127.0.0.1",
                    choices=["127.0.0.1", "::1"])
    ap.add_argument("--pki", action="store_true")
    opts = ap.parse_args()

    def on_signal(signum, frame):
        STOPPING.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    tmp = tempfile.mkdtemp(prefix="fetch_fixture.")
    try:
        cert, key = make_cert(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        servers = [make_server(opts.host, None), make_server(opts.host, ctx)]
        if opts.pki:
            servers += [make_server(opts.host, c) for c in make_pki(tmp)]
        threading.Thread(target=watch_stdin, daemon=True).start()
        line = "READY http=%d https=%d cert=%s" % (
            servers[0].server_address[1], servers[1].server_address[1], cert)
        if opts.pki:
            line += " pki=%d mtls=%d" % (servers[2].server_address[1],
                                         servers[3].server_address[1])
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        while not STOPPING.wait(1.0):
            pass
        for srv in servers:
            srv.server_close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Connection threads may still be blocked in I/O; do not wait for them.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
