#!/bin/bash
# stream_bench.sh: fetch_urls fed by a pipe, against curl -Z and xargs curl.
#
# Usage: bench/stream_bench.sh BUILD/fetch_urls
#
# Starts nginx on 127.0.0.1 answering every URL at once, then feeds N
# distinct URLs through a pipe to each contender at 200 in flight:
#
#   fetch_urls -j 200 -i -                 for N in SIZES
#   curl -Z --parallel-max 200 -K -        for N in CURL_SIZES (curl reads
#                                          its whole config before it starts)
#   xargs -P 200 -n 1 curl                 for N in XARGS_SIZES (a process
#                                          per URL)
#
# and measures, per run, the seconds from the start to the first result
# line, the wall time, and the contender's own peak resident memory (for
# xargs, xargs's, not its curls').  Each run must print one line with
# status 200 per URL.  Prints the medians of RUNS runs and the ratios
# fetch_urls / peer, and the targets of the stream issue: peak memory flat
# within 1.3x from the smallest to the largest N, and the first result
# within 20 ms.  Writes the table to bench/STREAM_RESULTS.md (or, with
# fewer runs than 3 or other sizes, BUILD/STREAM_RESULTS.partial.md).
#
# Environment: RUNS (3), SIZES ("10000 100000 1000000"), CURL_SIZES
# ("10000 100000"), XARGS_SIZES ("2000": one curl process a URL is slow).  Needs nginx, curl and python3
# from Debian; as root the missing ones are installed.

set -euo pipefail

prog=${0##*/}
benchdir=$(cd "$(dirname "$0")" && pwd)
. "$benchdir/loopback_nginx.sh"
bench_prog "$@"
runs=${RUNS:-3}
sizes=${SIZES:-10000 100000 1000000}
curl_sizes=${CURL_SIZES:-10000 100000}
xargs_sizes=${XARGS_SIZES:-2000}
if [ "$runs" -ge 3 ] && [ "$sizes" = "10000 100000 1000000" ]; then
	results=$benchdir/STREAM_RESULTS.md
else
	results=$builddir/STREAM_RESULTS.partial.md
fi

nginx_start stream_bench 'location / { return 200 "ok\n"; }'

# The runner: starts the contender with a feeder writing its input into a
# pipe, notes when the first line comes out, counts the status lines, and
# collects the contender with wait4() for its own peak memory.
cat > "$tmp/run.py" <<'EOF'
import os, subprocess, sys, threading, time
kind, prog, port, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
url = "http://127.0.0.1:%s/?i=%%d" % port
if kind == "fetch_urls":
    argv = [prog, "-j", "200", "-q", "-w", "%{http_code}\\n", "-i", "-"]
    line = lambda i: url % i + "\n"
elif kind == "curl":
    argv = ["curl", "-s", "-Z", "--parallel-max", "200", "-K", "-",
            "-w", "%{http_code}\\n"]
    line = lambda i: 'url = "%s"\noutput = "/dev/null"\n' % (url % i)
else:
    argv = ["xargs", "-P", "200", "-n", "1", "curl", "-s", "-o",
            "/dev/null", "-w", "%{http_code}\\n"]
    line = lambda i: url % i + "\n"
r, w = os.pipe()
start = time.monotonic()
p = subprocess.Popen(argv, stdin=r, stdout=subprocess.PIPE)
os.close(r)
def feed():
    with os.fdopen(w, "w", buffering=1 << 16) as f:
        for i in range(n):
            f.write(line(i))
t = threading.Thread(target=feed)
t.start()
first, ok = None, 0
for out in p.stdout:
    if first is None:
        first = time.monotonic() - start
    ok += out.strip() == b"200"
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - start
t.join()
if status != 0 or ok != n:
    sys.exit("%s: exit status %d, %d of %d answered 200" % (kind, status,
             ok, n))
print("%.6f %.6f %d" % (first, wall, ru.ru_maxrss))
EOF

# Runs contender $1 on $2 URLs $runs times; prints "first wall rss".
measure() {
	local i out
	: > "$tmp/m"
	for i in $(seq "$runs"); do
		out=$(python3 "$tmp/run.py" "$1" "$fetch" "$port" "$2") ||
		    die "$1 with $2 URLs failed"
		echo "$out" >> "$tmp/m"
	done
	printf '%s %s %s\n' "$(awk '{ print $1 }' "$tmp/m" | median)" \
	    "$(awk '{ print $2 }' "$tmp/m" | median)" \
	    "$(awk '{ print $3 }' "$tmp/m" | median)"
}

{
	echo "# Streaming input: fetch_urls against curl -Z and xargs curl"
	echo
	echo "Medians of $runs runs, $(date -u +%Y-%m-%d), $(nproc) CPUs;"
	echo "$("$fetch" --version); $(curl --version | head -n 1)."
	echo "URLs come through a pipe, 200 in flight, nginx answers at once."
	echo "First: seconds from the start to the first result line."
	echo "RSS: the contender's own peak resident memory."
	echo
	echo "| URLs | contender | first (s) | wall (s) | RSS (MB) |"
	echo "|---:|---|---:|---:|---:|"
} > "$tmp/table"
declare -A rss first wall
for n in $sizes; do
	echo "$prog: fetch_urls, $n URLs" >&2
	read -r f w m < <(measure fetch_urls "$n")
	first[f$n]=$f wall[f$n]=$w rss[f$n]=$m
	printf '| %s | fetch_urls -j 200 | %.4f | %.2f | %.1f |\n' "$n" "$f" \
	    "$w" "$(echo "$m / 1024" | bc -l)" >> "$tmp/table"
	for peer in curl xargs; do
		list=$curl_sizes
		[ $peer = xargs ] && list=$xargs_sizes
		case " $list " in *" $n "*) ;; *) continue ;; esac
		echo "$prog: $peer, $n URLs" >&2
		read -r pf pw pm < <(measure $peer "$n")
		printf '| %s | %s | %.4f | %.2f | %.1f |\n' "$n" \
		    "$([ $peer = curl ] && echo 'curl -Z -K -' ||
		    echo 'xargs -P 200 curl')" "$pf" "$pw" \
		    "$(echo "$pm / 1024" | bc -l)" >> "$tmp/table"
		printf '| | ratio fetch_urls / %s | %.3fx | %.3fx | %.3fx |\n' \
		    "$peer" "$(echo "$f / $pf" | bc -l)" \
		    "$(echo "$w / $pw" | bc -l)" \
		    "$(echo "$m / $pm" | bc -l)" >> "$tmp/table"
	done
done
set -- $sizes
lo=$1
hi=${!#}
{
	echo
	echo "Targets: peak RSS of fetch_urls flat within 1.3x from $lo to $hi" \
	    "URLs: $(printf '%.2f' "$(echo "${rss[f$hi]} / ${rss[f$lo]}" |
	    bc -l)")x; first result within 0.020 s: $(printf '%.4f' \
	    "${first[f$hi]}") s at $hi URLs."
} >> "$tmp/table"
cat "$tmp/table"
cp "$tmp/table" "$results"
echo "$prog: table written to $results" >&2
