#!/usr/bin/env python3
"""Checks fetch_urls's --json or --format csv output with a real parser.

Usage: python3 tests/check_records.py json|csv PORT DEAD_PORT < output

The output is that of test_http.c's records_* tests, which fetch, in
this order (urlnum 0 to 6), against the fixture on 127.0.0.1:PORT:

  0  a hostile URL that succeeds: credentials with a quote and a comma,
     quotes, commas, bytes that are not UTF-8, a backslash, UTF-8
  1  a URL with credentials and control characters, which libcurl refuses
  2  /status/404
  3  a refused connection, to 127.0.0.1:DEAD_PORT
  4  an ftp:// URL, refused without a request
  5  /redirect/2, followed (-L)
  6  /bytes/1234

The whole output must decode as strict UTF-8 and parse (json: one object a
line, nothing else; csv: RFC 4180 with the header row and CRLF records),
every record must have exactly the documented fields, and the fields with
known values must have them.  Prints "ok N" and exits 0, or exits 1 with
the reason.
"""

import csv
import io
import json
import sys

FIELDS = ["url", "urlnum", "status", "seconds", "error", "bytes",
          "redirects", "effective_url", "http_version", "retries",
          "connects", "file", "dns", "connect", "tls", "ttfb", "total"]
TIMINGS = FIELDS[12:]


def expected(mode, port, dead):
    base = "http://127.0.0.1:%s" % port

    def ctl(s):
        # CSV cannot escape; control characters are written as \xHH.
        if mode == "csv":
            return s.replace("\x01", "\\x01").replace("\x1b", "\\x1b")
        return s

    return {
        0: {"url": base.replace("//", "//***@") +
            "/status/200?q=\"a,b\"&c=\ufffd\ufffd\\&d=\u00e9",
            "status": 200, "error": None, "bytes": 11, "redirects": 0,
            "http_version": "1.1", "retries": 0},
        1: {"url": ctl(base.replace("//", "//***@") +
                       "/x?c=\x01\x1b[31m"),
            "status": 0, "effective_url": None, "http_version": None,
            "bytes": 0, "connects": 0},
        2: {"url": base + "/status/404", "status": 404, "error": None,
            "effective_url": base + "/status/404"},
        3: {"url": "http://127.0.0.1:%s/" % dead, "status": 0,
            "effective_url": "http://127.0.0.1:%s/" % dead,
            "http_version": None},
        4: {"url": "ftp://127.0.0.1:%s/" % port, "status": 0,
            "error": "unsupported scheme 'ftp' (only http and https)",
            "effective_url": None, "connects": 0},
        5: {"url": base + "/redirect/2", "status": 200, "redirects": 2,
            "bytes": 20, "effective_url": base + "/redirect/0"},
        6: {"url": base + "/bytes/1234", "status": 200, "bytes": 1234,
            "redirects": 0},
    }


# Records whose error must be a message starting with this.
ERRORS = {1: "malformed URL", 3: ""}


def parse_json(text):
    lines = text.split("\n")
    if lines[-1] != "":
        raise AssertionError("output does not end with a newline")
    recs = []
    for line in lines[:-1]:
        r = json.loads(line)
        if not isinstance(r, dict) or not isinstance(r.get("timings"),
                                                     dict):
            raise AssertionError("not a record: %r" % line)
        t = r.pop("timings")
        if sorted(t) != sorted(TIMINGS):
            raise AssertionError("timings fields %r" % sorted(t))
        r.update(t)
        recs.append(r)
    return recs


def parse_csv(text):
    if not text.endswith("\r\n") or text.count("\n") != text.count("\r\n"):
        raise AssertionError("records must end with CRLF")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if rows[0] != FIELDS:
        raise AssertionError("header row %r" % rows[0])
    recs = []
    for row in rows[1:]:
        if len(row) != len(FIELDS):
            raise AssertionError("record of %d fields: %r" % (len(row), row))
        r = dict(zip(FIELDS, row))
        for k in ("urlnum", "status", "bytes", "redirects", "retries",
                  "connects"):
            r[k] = int(r[k])
        for k in ["seconds"] + TIMINGS:
            r[k] = float(r[k])
        for k in ("error", "effective_url", "http_version", "file"):
            r[k] = r[k] or None     # CSV has no null: an empty field.
        recs.append(r)
    return recs


def main():
    mode, port, dead = sys.argv[1], sys.argv[2], sys.argv[3]
    text = sys.stdin.buffer.read().decode("utf-8")      # strict
    recs = parse_json(text) if mode == "json" else parse_csv(text)
    want = expected(mode, port, dead)
    got = sorted(r["urlnum"] for r in recs)
    if got != sorted(want):
        raise AssertionError("urlnums %r" % got)
    for r in recs:
        n = r["urlnum"]
        if r["file"] is not None:
            raise AssertionError("urlnum %d: file %r without -o" %
                                 (n, r["file"]))
        if sorted(r) != sorted(FIELDS):
            raise AssertionError("urlnum %d: fields %r" % (n, sorted(r)))
        for k, v in want[n].items():
            if r[k] != v:
                raise AssertionError("urlnum %d: %s is %r, want %r" %
                                     (n, k, r[k], v))
        if n in ERRORS and not (isinstance(r["error"], str) and r["error"]
                                and r["error"].startswith(ERRORS[n])):
            raise AssertionError("urlnum %d: error %r" % (n, r["error"]))
        if not isinstance(r["connects"], int) or r["connects"] < 0:
            raise AssertionError("urlnum %d: connects is %r" %
                                 (n, r["connects"]))
        for k in ["seconds"] + TIMINGS:
            if not isinstance(r[k], float) or r[k] < 0:
                raise AssertionError("urlnum %d: %s is %r" % (n, k, r[k]))
        if r["ttfb"] > r["total"] + 1e-6:
            raise AssertionError("urlnum %d: ttfb after total" % n)
        if "p,w" in repr(r) or "u:p" in repr(r):
            raise AssertionError("urlnum %d: credentials shown" % n)
    print("ok", len(recs))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ValueError, KeyError, IndexError) as e:
        print("check failed: %s" % e)
        sys.exit(1)
