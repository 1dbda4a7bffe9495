#!/usr/bin/env bash
# demo.sh: fetch_urls --compare over five slow URLs of the loopback fixture.
#
# Usage: tools/demo.sh PATH/TO/fetch_urls
#
# Starts tests/fixture.py, runs a serial and a concurrent pass over five
# URLs that answer after 0.3 s to 1 s, and stops the fixture on any exit.
# The exit status is fetch_urls's.

set -euo pipefail

prog=${1:?usage: tools/demo.sh PATH/TO/fetch_urls}
here=$(cd "$(dirname "$0")" && pwd)

# The fixture serves until its standard input closes, so a coprocess whose
# stdin is our pipe cannot outlive this script.
coproc FIXTURE { exec python3 "$here/../tests/fixture.py"; }
fx_pid=$FIXTURE_PID
fx_out=${FIXTURE[0]}
fx_in=${FIXTURE[1]}

stop_fixture() {
	exec {fx_in}>&- {fx_out}<&- || true
	kill -TERM "$fx_pid" 2>/dev/null || true
	wait "$fx_pid" 2>/dev/null || true
}
trap stop_fixture EXIT

if ! read -r -t 20 ready <&"$fx_out" ||
    [[ ! $ready =~ ^READY\ http=([0-9]+)\  ]]; then
	echo "demo.sh: the fixture server did not start" >&2
	exit 1
fi
base=http://127.0.0.1:${BASH_REMATCH[1]}

urls=()
for ms in 700 300 1000 500 800; do
	urls+=("$base/delay/$ms")
done

echo "\$ fetch_urls --compare ${urls[*]}"
status=0
"$prog" --compare "${urls[@]}" {fx_in}>&- {fx_out}<&- || status=$?
exit "$status"
