#!/usr/bin/env bash
# valgrind.sh: memcheck over a mixed fetch_urls run, DRD over the channels.
#
# Usage: tools/valgrind.sh BUILD_DIR
#
# memcheck runs fetch_urls on 200 URLs of the loopback fixture mixing
# answers, errors, redirects, time-outs and refused schemes, and fails on
# any invalid access and on memory definitely or indirectly lost.  DRD, a
# thread-error detector, runs the channel benchmark's every scenario and
# the examples that use several threads, and fails on any error.

set -euo pipefail

build=${1:?usage: tools/valgrind.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp -d)

coproc FIXTURE { exec python3 "$here/../tests/fixture.py"; }
fx_pid=$FIXTURE_PID
fx_out=${FIXTURE[0]}
fx_in=${FIXTURE[1]}

cleanup() {
	exec {fx_in}>&- {fx_out}<&- || true
	kill -TERM "$fx_pid" 2>/dev/null || true
	wait "$fx_pid" 2>/dev/null || true
	rm -rf "$log"
}
trap cleanup EXIT

if ! read -r -t 20 ready <&"$fx_out" ||
    [[ ! $ready =~ ^READY\ http=([0-9]+)\ https=([0-9]+) ]]; then
	echo "valgrind.sh: the fixture server did not start" >&2
	exit 1
fi
base=http://127.0.0.1:${BASH_REMATCH[1]}
tls=https://127.0.0.1:${BASH_REMATCH[2]}

urls=$log/urls
for i in $(seq 1 20); do
	printf '%s\n' "$base/delay/$((i * 10))" "$base/status/404?i=$i" \
	    "$base/status/500?i=$i" "$base/redirect/3?i=$i" \
	    "$base/bytes/100000?i=$i" "$base/hang?i=$i" "$base/close?i=$i" \
	    "$base/drip/300?i=$i" "http://127.0.0.1:1/?i=$i" "$tls/?i=$i"
done >"$urls"
printf '%s\n' ftp://127.0.0.1/ "file:///etc/passwd" "http://" \
    "ht!tp://x" "http://nonexistent.invalid/" >>"$urls"

fail=0
echo "valgrind.sh: memcheck on fetch_urls, $(wc -l <"$urls") URLs"
valgrind --tool=memcheck --leak-check=full --error-exitcode=99 \
    --errors-for-leak-kinds=definite,indirect --log-file="$log/memcheck" \
    "$build/fetch_urls" -q -j 50 -m 1 -i "$urls" >"$log/out" \
    {fx_in}>&- {fx_out}<&- || status=$?
if [ "${status:-0}" -eq 99 ] || [ "${status:-0}" -gt 1 ]; then
	cat "$log/memcheck" >&2
	fail=1
fi
grep -E 'in use at exit|All heap blocks|definitely lost|indirectly lost|ERROR SUMMARY' \
    "$log/memcheck"
if [ "$(wc -l <"$log/out")" -ne "$(wc -l <"$urls")" ]; then
	echo "valgrind.sh: expected a line per URL" >&2
	fail=1
fi

drd() {
	echo "valgrind.sh: drd on $*"
	valgrind --tool=drd --error-exitcode=99 --log-file="$log/drd" \
	    "$@" >/dev/null {fx_in}>&- {fx_out}<&- || {
		cat "$log/drd" >&2
		fail=1
	}
	grep -E 'ERROR SUMMARY' "$log/drd"
}
drd "$build/chan_bench" -n 2000
for ex in pingpong worker_pool select_timeout buffered; do
	drd "$build/examples/$ex"
done
exit "$fail"
