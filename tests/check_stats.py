#!/usr/bin/env python3
"""Checks fetch_urls's --stats=json report with Python's json module.

Usage: python3 tests/check_stats.py delays|outcomes|compare SLACK < input
       python3 tests/check_stats.py drawing COLS N utf8|ascii < terminal

The input is what a run of test_e2e_stats.c printed: its standard output
(the --json records, one a line), a line "--stderr--", then its standard
error, whose last line is the report.  SLACK is the most seconds a
request may take beyond the delay it asks the fixture for.

  delays    100 URLs /delay/10, /delay/20 ... /delay/1000, the odd ones on
            127.0.0.1 and the even ones on localhost.  Every figure is
            checked against the records of the same run (percentiles
            within the histogram's relative error, 2^-10, or 2^-5 per
            host) and against the known delays: the k-th smallest time is
            at least the k-th smallest delay and less than it plus SLACK.
  outcomes  the mixed URLs of test_e2e_stats.c's outcome tests.
  compare   --compare over 10 URLs /delay/10 ... /delay/100.
  drawing   what a terminal COLS wide showed of a text report over N
            URLs: the histogram's rows count N in all, none is wider
            than COLS - 1, and each bar has cells * count / most columns
            (cells from COLS, most the fullest row's count), to the
            nearest eighth in block characters (utf8) or to the nearest
            column in '#' (ascii, where every byte must be ASCII).

Prints "ok" and exits 0, or exits 1 with the reason.
"""

import json
import math
import re
import sys

EPS = 2.0 ** -10
HOST_EPS = 2.0 ** -5
# Records print seconds to the microsecond; the report rounds to it too.
ROUND = 2e-6

RUN_KEYS = {"seconds", "per_second", "urls", "bytes", "2xx", "3xx", "4xx",
            "5xx", "other_status", "errors", "cancelled", "error_kinds",
            "total", "ttfb", "histogram", "slowest", "hosts",
            "hosts_tracked", "hosts_approximate"}
TIME_KEYS = {"count", "min", "p50", "p90", "p99", "max", "mean"}


def fail(why):
    print(why)
    sys.exit(1)


def check(cond, why):
    if not cond:
        fail(why)


def near(got, want, rel, what):
    check(abs(got - want) <= rel * want + ROUND,
          "%s: %r, want %r within %g" % (what, got, want, rel))


def rank(values, q):
    """The value of nearest rank, as the report defines its quantiles."""
    s = sorted(values)
    return s[max(1, math.ceil(q * len(s))) - 1]


def check_times(t, values, what):
    check(set(t) == TIME_KEYS, "%s keys: %s" % (what, sorted(t)))
    check(t["count"] == len(values), "%s count %r" % (what, t["count"]))
    near(t["min"], min(values), 0, what + " min")
    near(t["max"], max(values), 0, what + " max")
    near(t["mean"], sum(values) / len(values), 0, what + " mean")
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        near(t[name], rank(values, q), EPS, "%s %s" % (what, name))


def check_histogram(rows, values, lo, hi):
    check(len(rows) == 10, "%d histogram rows" % len(rows))
    near(rows[0]["from"], lo, 0, "first row's start")
    near(rows[-1]["to"], hi, 0, "last row's end")
    check(sum(r["count"] for r in rows) == len(values), "rows' counts sum")
    for i, r in enumerate(rows):
        # A value sits in the row of its bucket's middle, within EPS.
        last = i == len(rows) - 1
        surely = [v for v in values if r["from"] * (1 + EPS) + ROUND <= v
                  and (v * (1 + EPS) + ROUND < r["to"] or last)]
        maybe = [v for v in values if v * (1 + EPS) + ROUND >= r["from"]
                 and (r["to"] * (1 + EPS) + ROUND > v or last)]
        check(len(surely) <= r["count"] <= len(maybe),
              "row %d [%f, %f) has %d, records say %d to %d"
              % (i, r["from"], r["to"], r["count"], len(surely),
                 len(maybe)))


def check_slowest(slowest, recs):
    want = sorted(recs, key=lambda r: -r["seconds"])[:5]
    check(len(slowest) == min(5, len(recs)), "%d slowest" % len(slowest))
    for got, rec in zip(slowest, want):
        near(got["seconds"], rec["seconds"], 0, "slowest time")
    urls = {r["url"] for r in recs if r["seconds"] >= want[-1]["seconds"]}
    for got in slowest:
        check(got["url"] in urls, "slowest %s not among %s" %
              (got["url"], urls))


def parse(data):
    out, _, err = data.partition("--stderr--\n")
    recs = [json.loads(line) for line in out.splitlines()]
    lines = err.splitlines()
    check(lines and lines[-1].startswith("{"), "no report:\n" + err)
    report = json.loads(lines[-1])
    return recs, lines[:-1], report


def total_line(lines):
    for line in lines:
        m = re.match(r"Total time: ([0-9.]+)s$", line)
        if m:
            return float(m.group(1))
    fail("no total time in %r" % lines)


def delays(data, slack):
    recs, lines, st = parse(data)
    check(set(st) == RUN_KEYS, "keys: %s" % sorted(st))
    check(len(recs) == 100, "%d records" % len(recs))
    for k, v in (("urls", 100), ("2xx", 100), ("3xx", 0), ("4xx", 0),
                 ("5xx", 0), ("other_status", 0), ("errors", 0),
                 ("cancelled", 0)):
        check(st[k] == v, "%s: %r, want %r" % (k, st[k], v))
    check(st["error_kinds"] == {}, "kinds %r" % st["error_kinds"])
    check(st["bytes"] == sum(r["bytes"] for r in recs), "bytes")
    total = total_line(lines)
    check(abs(st["seconds"] - total) <= 0.0051, "seconds %r, total %r" %
          (st["seconds"], total))
    near(st["per_second"], 100 / st["seconds"], 1e-3, "per second")

    # The known distribution: each URL took its delay, and less than the
    # slack more; so does the k-th smallest time, and each percentile.
    delay = {}
    for r in recs:
        d = int(re.search(r"/delay/([0-9]+)$", r["url"]).group(1)) / 1000
        check(d <= r["seconds"] < d + slack, "%s took %f" %
              (r["url"], r["seconds"]))
        delay[r["url"]] = d
    check(sorted(delay.values()) == [i / 100 for i in range(1, 101)],
          "delays")
    t = st["total"]
    for name, k in (("min", 1), ("p50", 50), ("p90", 90), ("p99", 99),
                    ("max", 100)):
        d = k / 100
        check(d * (1 - EPS) <= t[name] < (d + slack) * (1 + EPS),
              "total %s %f, delay %f" % (name, t[name], d))
    check(0.505 <= t["mean"] < 0.505 + slack, "mean %f" % t["mean"])

    secs = [r["seconds"] for r in recs]
    check_times(st["total"], secs, "total")
    ttfb = [r["timings"]["ttfb"] for r in recs]
    check_times(st["ttfb"], ttfb, "ttfb")
    check(all(delay[r["url"]] <= r["timings"]["ttfb"] for r in recs),
          "a first byte before its delay")
    check_histogram(st["histogram"], secs, min(secs), max(secs))
    check_slowest(st["slowest"], recs)
    for s in st["slowest"]:
        check(s["status"] == 200 and s["error"] is None, "slowest %r" % s)

    check(st["hosts_tracked"] == 2 and not st["hosts_approximate"],
          "hosts tracked")
    check([h["host"] for h in st["hosts"]] == ["127.0.0.1", "localhost"],
          "hosts %r" % st["hosts"])
    for h in st["hosts"]:
        mine = [r["seconds"] for r in recs if "//" + h["host"] + ":" in
                r["url"]]
        check(h["urls"] == 50 and len(mine) == 50 and h["over"] == 0 and
              h["errors"] == 0, "host %r" % h)
        near(h["p50"], rank(mine, 0.5), HOST_EPS, h["host"] + " p50")
        near(h["p99"], rank(mine, 0.99), HOST_EPS, h["host"] + " p99")


def outcomes(data, slack):
    recs, lines, st = parse(data)
    want = {"urls": 9, "2xx": 2, "3xx": 1, "4xx": 1, "5xx": 1,
            "other_status": 0, "errors": 3, "cancelled": 1}
    for k, v in want.items():
        check(st[k] == v, "%s: %r, want %r" % (k, st[k], v))
    check(st["error_kinds"] == {"Couldn't connect to server": 1,
                                "unsupported scheme": 1,
                                "incomplete response": 1},
          "kinds %r" % st["error_kinds"])
    done = [r for r in recs if not (r["error"] or "").startswith("cancel")]
    check(len(done) == 8, "%d records done" % len(done))
    check_times(st["total"], [r["seconds"] for r in done], "total")
    check(st["ttfb"]["count"] == 6, "ttfb count %r" % st["ttfb"])
    slow = st["slowest"][0]
    check(slow["url"].startswith("http://***@127.0.0.1:") and
          slow["url"].endswith("/delay/300") and slow["status"] == 200 and
          0.3 <= slow["seconds"] < 0.3 + slack, "slowest %r" % slow)
    kinds = {s["error"] for s in st["slowest"]} - {None}
    check(kinds <= set(st["error_kinds"]), "slowest kinds %r" % kinds)
    # The cancelled URL counts for its host, not as an error.
    h = st["hosts"]
    check(st["hosts_tracked"] == 1 and len(h) == 1 and
          h[0]["host"] == "127.0.0.1" and h[0]["urls"] == 9 and
          h[0]["errors"] == 5 and h[0]["over"] == 0, "hosts %r" % h)


def compare(data, slack):
    recs, lines, st = parse(data)
    check(set(st) == {"serial", "concurrent"}, "keys %s" % sorted(st))
    m = None
    for line in lines:
        m = m or re.match(r"Serial: ([0-9.]+)s, concurrent: ([0-9.]+)s, ",
                          line)
    check(m is not None, "no speedup line")
    for name, shown in (("serial", m.group(1)), ("concurrent", m.group(2))):
        run = st[name]
        check(set(run) == RUN_KEYS, "%s keys" % name)
        check(run["urls"] == 10 and run["2xx"] == 10, "%s urls" % name)
        mine = [r["seconds"] for r in recs if r["run"] == name]
        check(len(mine) == 10, "%s records" % name)
        check_times(run["total"], mine, name + " total")
        # The speedup line shows three significant digits.
        check(abs(run["seconds"] - float(shown)) <= 0.0051 * max(1,
              float(shown)), "%s seconds %r, shown %s" %
              (name, run["seconds"], shown))
        check(sum(r["count"] for r in run["histogram"]) == 10, name)
    check(st["serial"]["seconds"] >= 0.55, "serial took less than its "
          "delays")
    # Both histograms have the same rows, for one scale.
    check([(r["from"], r["to"]) for r in st["serial"]["histogram"]] ==
          [(r["from"], r["to"]) for r in st["concurrent"]["histogram"]],
          "rows differ")


BLOCKS = {"\u2588": 8, "\u2589": 7, "\u258a": 6, "\u258b": 5,
          "\u258c": 4, "\u258d": 3, "\u258e": 2, "\u258f": 1}


def drawing(raw, cols, n, utf8):
    if not utf8:
        check(all(b < 0x80 for b in raw), "a byte above ASCII")
    text = raw.decode("utf-8").replace("\r", "")
    lines = text.split("\n")
    start = [i for i, line in enumerate(lines)
             if line.startswith("Total times, rows of ")]
    check(len(start) == 1, "no histogram in:\n" + text)
    rows = []
    for line in lines[start[0] + 1:]:
        m = re.match(r"^  +[0-9.]+s +([0-9]+) (\S*)$", line)
        if not m:
            break
        check(len(line) <= cols - 1, "%d columns: %r" % (len(line), line))
        rows.append((int(m.group(1)), m.group(2)))
    check(len(rows) == 10, "%d rows:\n%s" % (len(rows), text))
    check(sum(c for c, _ in rows) == n, "rows count %r" % rows)
    most = max(c for c, _ in rows)
    cells = cols - (10 + len(str(most)) + 2) - 1
    unit = 8 if utf8 else 1
    for count, bar in rows:
        if utf8:
            check(all(ch in BLOCKS for ch in bar), "bar %r" % bar)
            steps = sum(BLOCKS[ch] for ch in bar)
        else:
            check(set(bar) <= {"#"}, "bar %r" % bar)
            steps = len(bar)
        want = math.floor(count * cells * unit / most + 0.5)
        if count > 0:
            want = max(want, 1)
        check(steps == want, "count %d of %d on %d cells: %d steps, want "
              "%d" % (count, most, cells, steps, want))
    check(not utf8 or any(BLOCKS.get(ch) == 8 for _, b in rows for ch in b),
          "no full block drawn")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "drawing":
        drawing(sys.stdin.buffer.read(), int(sys.argv[2]),
                int(sys.argv[3]), sys.argv[4] == "utf8")
    elif len(sys.argv) == 3 and sys.argv[1] in ("delays", "outcomes",
                                                "compare"):
        data = sys.stdin.buffer.read().decode("utf-8")
        globals()[sys.argv[1]](data, float(sys.argv[2]))
    else:
        fail(__doc__)
    print("ok")


if __name__ == "__main__":
    main()
