#!/bin/bash
# body_bench.sh: bodies saved to files, fetch_urls -O against curl -Z.
#
# Usage: bench/body_bench.sh BUILD/fetch_urls
#
# Starts nginx on 127.0.0.1 answering every path with the same 100 kB
# file, then saves N distinct URLs (/f0 to /fN-1) into an empty directory
# with each contender, 50 transfers at a time:
#
#   fetch_urls -j 50 -O --output-dir DIR -i LIST
#   curl -Z --parallel-max 50 --remote-name-all --output-dir DIR -K LIST
#
# alternating the two, RUNS times each.  Each run is measured by a small
# Python runner that collects the contender with wait4(): wall seconds
# from a monotonic clock around it, its CPU seconds (user and system, all
# its threads) and its peak resident memory.  A run
# counts only if it printed status 200 for every URL and left exactly N
# files of the body's size in DIR; the directory is emptied between runs,
# outside the time measured.  Prints the medians and the ratio fetch_urls
# / curl (issue 16's target: at most 1.0x curl's wall time), and writes
# the table to bench/BODY_RESULTS.md (with other settings than the
# defaults, to BUILD/BODY_RESULTS.partial.md).
#
# Environment: RUNS (5), URLS (1000), BODY_KB (100).  Needs nginx, curl
# and python3 from Debian; as root the missing ones are installed.

set -euo pipefail

prog=${0##*/}
benchdir=$(cd "$(dirname "$0")" && pwd)
. "$benchdir/loopback_nginx.sh"
bench_prog "$@"
runs=${RUNS:-5}
urls=${URLS:-1000}
body_kb=${BODY_KB:-100}
if [ "$runs" -ge 5 ] && [ "$urls" = 1000 ] && [ "$body_kb" = 100 ]; then
	results=$benchdir/BODY_RESULTS.md
else
	results=$builddir/BODY_RESULTS.partial.md
fi

nginx_start body_bench 'location / { try_files /body =404; }'
mkdir "$tmp/out"
head -c $((body_kb * 1024)) /dev/urandom > "$tmp/www/body"
size=$(stat -c %s "$tmp/www/body")

for i in $(seq 0 $((urls - 1))); do
	echo "http://127.0.0.1:$port/f$i"
done > "$tmp/list"
sed 's/.*/url = "&"/' "$tmp/list" > "$tmp/curl.cfg"

# The runner: runs the contender, counts its status lines, collects it
# with wait4() for its peak memory, and checks the files it left.
cat > "$tmp/run.py" <<'EOF'
import os, subprocess, sys, time
kind, prog, tmp, n, size = sys.argv[1:6]
n, size = int(n), int(size)
out = os.path.join(tmp, "out")
if kind == "fetch_urls":
    argv = [prog, "-j", "50", "-q", "-O", "--output-dir", out, "-w",
            "%{http_code}\\n", "-i", os.path.join(tmp, "list")]
else:
    argv = ["curl", "-s", "-Z", "--parallel-max", "50", "--remote-name-all",
            "--output-dir", out, "-w", "%{http_code}\\n", "-K",
            os.path.join(tmp, "curl.cfg")]
start = time.monotonic()
p = subprocess.Popen(argv, stdout=subprocess.PIPE)
ok = sum(line.strip() == b"200" for line in p.stdout)
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - start
names = os.listdir(out)
good = sum(os.stat(os.path.join(out, f)).st_size == size for f in names)
if status != 0 or ok != n or len(names) != n or good != n:
    sys.exit("%s: exit status %d, %d of %d answered 200, %d files, %d of "
             "the body's size" % (kind, status, ok, n, len(names), good))
for f in names:
    os.unlink(os.path.join(out, f))
print("%.6f %d %.6f" % (wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime))
EOF

: > "$tmp/fetch_urls"
: > "$tmp/curl"
# The load average: the machine is shared, and the wall times follow it.
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
for i in $(seq "$runs"); do
	for kind in fetch_urls curl; do
		echo "$prog: $kind, run $i of $runs" >&2
		python3 "$tmp/run.py" "$kind" "$fetch" "$tmp" "$urls" "$size" \
		    >> "$tmp/$kind" || die "$kind failed"
	done
done
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
fw=$(awk '{ print $1 }' "$tmp/fetch_urls" | median)
fm=$(awk '{ print $2 }' "$tmp/fetch_urls" | median)
cw=$(awk '{ print $1 }' "$tmp/curl" | median)
cm=$(awk '{ print $2 }' "$tmp/curl" | median)
fc=$(awk '{ print $3 }' "$tmp/fetch_urls" | median)
cc=$(awk '{ print $3 }' "$tmp/curl" | median)
{
	echo "# Bodies to files: fetch_urls -O against curl -Z --output-dir"
	echo
	echo "Medians of $runs runs each, alternating, $(date -u +%Y-%m-%d)," \
	    "$(nproc) CPUs;"
	echo "$("$fetch" --version); $(curl --version | head -n 1)."
	echo "$urls URLs of $body_kb kB from nginx on loopback, 50 at a time," \
	    "saved to an empty directory;"
	echo "load average $load_before before, $load_after after."
	echo
	echo "| contender | wall (s) | CPU (s) | RSS (MB) |"
	echo "|---|---:|---:|---:|"
	printf '| fetch_urls -j 50 -O --output-dir | %.3f | %.3f | %.1f |\n' \
	    "$fw" "$fc" "$(echo "$fm / 1024" | bc -l)"
	printf '| %s | %.3f | %.3f | %.1f |\n' \
	    "curl -Z --parallel-max 50 --remote-name-all --output-dir" \
	    "$cw" "$cc" "$(echo "$cm / 1024" | bc -l)"
	printf '| ratio fetch_urls / curl | %.3fx | %.3fx | %.3fx |\n' \
	    "$(echo "$fw / $cw" | bc -l)" "$(echo "$fc / $cc" | bc -l)" \
	    "$(echo "$fm / $cm" | bc -l)"
	echo
	echo "Every run (wall s, RSS KiB, CPU s): fetch_urls $(tr '\n' ' ' \
	    < "$tmp/fetch_urls")| curl $(tr '\n' ' ' < "$tmp/curl")"
	echo
	echo "Target (issue 16): at most 1.0x curl's wall time."
} > "$tmp/table"
cat "$tmp/table"
cp "$tmp/table" "$results"
echo "$prog: table written to $results" >&2
