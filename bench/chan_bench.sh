#!/bin/bash
# chan_bench.sh: runs the channel benchmark in C and in Go and compares them.
#
# Usage: bench/chan_bench.sh BUILD/chan_bench [chan_bench arguments...]
#
# Builds bench/chan_bench.go next to the C binary (BUILD/chan_bench_go),
# then runs the C and the Go benchmark RUNS times each (default 5),
# alternating C and Go so that both see the same machine load over time,
# takes the median ns per message of each scenario, and prints a table of
# C against Go with the targets of issues 2 and 18.  The same table, with the
# machine it was measured on and every run's numbers, goes to
# bench/CHAN_RESULTS.md.  Any further arguments (-n MESSAGES, scenario
# names) are passed to both programs.
#
# Before each C and each Go run it measures the floor of a hand-off
# between two threads (BUILD/handoff_floor, bench/handoff_floor.c: a cache
# line's round trip between two processors), and prints unbuf_1p1c of each
# run against its own floor, since a virtual machine's floor moves.
#
# Then the cost of libchan's opt-in diagnostics (issue 7): the C benchmark
# alone, RUNS times each, for unbuf_1p1c and buf128_1p1c (with the same -n
# if one was given), with CHAN_DEBUG unset ("off") against CHAN_DEBUG=1
# ("on"), and against the same benchmark on a libchan built with the
# diagnostics compiled out (CHAN_BENCH_NODIAG, default BUILD/chan_bench_nodiag,
# "out"): off against out is what the diagnostics cost while off.  Both
# tables go to CHAN_RESULTS.md too.
#
# Environment: RUNS (runs per contender, default 5), BENCH_TIMEOUT (seconds
# one program run may take before it counts as hung, default 600), GOCACHE
# (default: Go's own, or BUILD/go-cache when HOME is not writable).  Go runs
# with its default GOMAXPROCS, the number of CPUs.  Nothing is downloaded:
# the Go program uses the standard library only.
#
# Exits 0 when every run succeeded, whether or not the targets were met (a
# benchmark, not a test); 1 when something failed; 2 on a usage error.

set -euo pipefail

# The whole script is one group, read in full before it runs, so that an
# edit to this file during a run of several minutes cannot derail it.
{
prog=${0##*/}
benchdir=$(cd "$(dirname "$0")" && pwd)
results=$benchdir/CHAN_RESULTS.md

die() {
	echo "$prog: $*" >&2
	exit 1
}

if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
	echo "usage: $prog BUILD/chan_bench [-n messages] [scenario ...]" >&2
	[ $# -ge 1 ] && exit 0
	exit 2
fi
cbench=$1
shift
[ -x "$cbench" ] || die "$cbench: no such executable (try: make $cbench)"
builddir=$(cd "$(dirname "$cbench")" && pwd)
gobench=$builddir/chan_bench_go
nodiag=${CHAN_BENCH_NODIAG:-$builddir/chan_bench_nodiag}
[ -x "$nodiag" ] || die "$nodiag: no such executable (try: make $nodiag)"
floor=$builddir/handoff_floor
[ -x "$floor" ] || die "$floor: no such executable (try: make $floor)"

runs=${RUNS:-5}
case $runs in
'' | *[!0-9]* | 0) die "RUNS=$runs: not a positive count" ;;
esac
limit=${BENCH_TIMEOUT:-600}
case $limit in
'' | *[!0-9]* | 0) die "BENCH_TIMEOUT=$limit: not a positive count" ;;
esac

command -v go >/dev/null 2>&1 ||
	die "go not found: install Debian's golang-go (tools/deps.sh bench," \
	    "or apt-get install golang-go) and run again"

# Build the Go contender from the standard library alone: no module, no
# proxy, no cgo, so that this never touches the network.
if [ -z "${GOCACHE:-}" ] &&
    ! { [ -n "${HOME:-}" ] && [ -w "$HOME" ]; }; then
	export GOCACHE=$builddir/go-cache
fi
echo "$prog: building $gobench" >&2
GO111MODULE=off GOPROXY=off GOFLAGS='' CGO_ENABLED=0 \
    go build -o "$gobench" "$benchdir/chan_bench.go" ||
	die "building $benchdir/chan_bench.go failed"
# Both contenders run as shipped: Go with its default GOMAXPROCS, libchan
# without its opt-in diagnostics.
unset GOMAXPROCS CHAN_DEBUG

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chan_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Runs one contender once; its lines go to $tmp/NAME.RUN.
run() {
	local name=$1 r=$2 bin=$3 rc=0 start end
	shift 3
	start=$(date +%s.%N)
	if command -v timeout >/dev/null 2>&1; then
		# --foreground: a ^C must reach the benchmark too.
		timeout --foreground "$limit" "$bin" "$@" \
		    >"$tmp/$name.$r" || rc=$?
	else
		"$bin" "$@" >"$tmp/$name.$r" || rc=$?
	fi
	end=$(date +%s.%N)
	[ "$rc" -eq 0 ] || echo >&2	# End the progress line.
	[ "$rc" -eq 124 ] &&
		die "$name run $r: no end after ${limit} s (hung?)"
	[ "$rc" -eq 0 ] || die "$name run $r: $bin failed (exit $rc)"
	awk -v n="$name" -v a="$start" -v b="$end" \
	    'BEGIN { printf " %s %.1f s", n, b - a }' >&2
}

# Other work on the machine skews the numbers; the results say how much.
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
for ((r = 1; r <= runs; r++)); do
	printf '%s: run %d/%d:' "$prog" "$r" "$runs" >&2
	run floorC "$r" "$floor"
	run C "$r" "$cbench" "$@"
	run floorGo "$r" "$floor"
	run Go "$r" "$gobench" "$@"
	echo >&2
done

unbuf_ran=no
grep -q '^unbuf_1p1c ' "$tmp/C.1" && unbuf_ran=yes

# One processor, as in a container given one: unbuf_1p1c with both
# contenders held to the first processor this script may run on.  Go then
# runs with GOMAXPROCS 1.  Fewer messages: a hand-off takes microseconds.
one_cpu=none
if [ "$unbuf_ran" = yes ] && command -v taskset >/dev/null 2>&1; then
	one_cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
	for ((r = 1; r <= runs; r++)); do
		printf '%s: one-processor run %d/%d:' "$prog" "$r" "$runs" >&2
		run C1 "$r" taskset -c "$one_cpu" "$cbench" -n 500000 \
		    unbuf_1p1c
		run Go1 "$r" taskset -c "$one_cpu" "$gobench" -n 500000 \
		    unbuf_1p1c
		echo >&2
	done
fi

# The diagnostics runs: the same options (-n) and two scenarios, with
# CHAN_DEBUG unset and set, alternating so that both see the same load.
dbg_opts=()
want_arg=0
for a in "$@"; do
	if [ "$want_arg" = 1 ]; then
		dbg_opts+=("$a")
		want_arg=0
	elif [ "$a" = -n ] || [ "$a" = --messages ]; then
		dbg_opts+=("$a")
		want_arg=1
	elif [ "${a#-}" != "$a" ]; then
		dbg_opts+=("$a")
	fi
done
for ((r = 1; r <= runs; r++)); do
	printf '%s: diagnostics run %d/%d:' "$prog" "$r" "$runs" >&2
	run off "$r" "$cbench" "${dbg_opts[@]}" unbuf_1p1c buf128_1p1c
	CHAN_DEBUG=1 run on "$r" "$cbench" "${dbg_opts[@]}" unbuf_1p1c \
	    buf128_1p1c
	run out "$r" "$nodiag" "${dbg_opts[@]}" unbuf_1p1c buf128_1p1c
	echo >&2
done

# One line per scenario: name, off median, on median, off runs, on runs
# (ns per message; the runs comma-separated in run order).
# The median of a comma-separated list of numbers, for the awk programs.
awk_median='
function median(list,    v, n, i, j, t) {
	n = split(list, v, ",")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	if (n % 2)
		return v[(n + 1) / 2]
	return (v[n / 2] + v[n / 2 + 1]) / 2
}
'
dbg_summary=$tmp/dbg_summary
(cd "$tmp" && awk -v runs="$runs" "$awk_median"'
FNR == 1 { split(FILENAME, f, "."); who = f[1] }
$3 == "msgs" && $5 == "ns/msg" {
	if (!(($1) in seen)) {
		seen[$1] = 1
		order[++nnames] = $1
	}
	key = who SUBSEP $1
	if (++cnt[key] == 1)
		ns[key] = $4
	else
		ns[key] = ns[key] "," $4
	next
}
{ printf "%s: not a result line: %s\n", FILENAME, $0 > "/dev/stderr"
  bad = 1 }
END {
	if (bad)
		exit 1
	for (i = 1; i <= nnames; i++) {
		s = order[i]
		if (cnt["off" SUBSEP s] != runs || cnt["on" SUBSEP s] != runs ||
		    cnt["out" SUBSEP s] != runs)
			exit 1
		printf "%s %s %s %s %s %s %s\n", s,
		    median(ns["off" SUBSEP s]), median(ns["on" SUBSEP s]),
		    median(ns["out" SUBSEP s]), ns["off" SUBSEP s],
		    ns["on" SUBSEP s], ns["out" SUBSEP s]
	}
}' off.* on.* out.*) >"$dbg_summary" ||
	die "could not read the diagnostics results"
[ -s "$dbg_summary" ] || die "no diagnostics results"

# Prints the diagnostics table; $1 is "text" or "md".
dbg_table() {
	local fmt=$1 name off on out offruns onruns outruns oncost offcost
	if [ "$fmt" = md ]; then
		echo "| scenario | compiled out ns/msg | off ns/msg |" \
		    "on ns/msg | cost when off | cost when on |"
		echo "|---|---:|---:|---:|---:|---:|"
	else
		printf '%-12s | %12s | %10s | %10s | %-20s | %s\n' scenario \
		    "compiled out" off on "cost when off" "cost when on"
		printf '%-12s | %12s | %10s | %10s | %-20s | %s\n' \
		    ------------ ------------ ---------- ---------- \
		    -------------------- ------------
	fi
	while read -r name off on out offruns onruns outruns; do
		offcost=$(awk -v a="$out" -v b="$off" 'BEGIN {
		    printf "%+.1f ns (%+.0f%%)", b - a, (b - a) * 100 / a }')
		oncost=$(awk -v a="$off" -v b="$on" 'BEGIN {
		    printf "%+.1f ns (%+.0f%%)", b - a, (b - a) * 100 / a }')
		if [ "$fmt" = md ]; then
			printf '| %s | %.1f | %.1f | %.1f | %s | %s |\n' \
			    "$name" "$out" "$off" "$on" "$offcost" "$oncost"
		else
			printf '%-12s | %12.1f | %10.1f | %10.1f | %-20s | %s\n' \
			    "$name" "$out" "$off" "$on" "$offcost" "$oncost"
		fi
	done <"$dbg_summary"
}

# Medians per scenario, in the order the C benchmark ran them.  Writes one
# line per scenario: name C-median Go-median C-runs Go-runs C-msgs Go-msgs,
# where the runs are comma-separated ns/msg in run order.
# $1 is a suffix for the scenarios' names, $2 and $3 the prefixes of the
# C and the Go results' files.
summarize() {
	(cd "$tmp" && awk -v runs="$runs" -v suffix="$1" -v cname="$2" \
	    -v goname="$3" "$awk_median"'
FNR == 1 {
	split(FILENAME, f, ".")
	who = f[1] == cname ? "C" : "Go"
}
$3 == "msgs" && $5 == "ns/msg" && $7 == "Mmsg/s" {
	key = who SUBSEP $1
	if (!(($1) in seen)) {
		seen[$1] = 1
		order[++nnames] = $1
	}
	# Counted first: mawk makes ns[key] before it reads the right side.
	if (++cnt[key] == 1)
		ns[key] = $4
	else
		ns[key] = ns[key] "," $4
	msgs[key] = $2
	next
}
{ printf "%s: not a result line: %s\n", FILENAME, $0 > "/dev/stderr"
  bad = 1 }
END {
	if (bad)
		exit 1
	for (i = 1; i <= nnames; i++) {
		s = order[i]
		if (cnt["C" SUBSEP s] != runs || cnt["Go" SUBSEP s] != runs) {
			printf "%s: %d C and %d Go results, want %d each\n", s,
			    cnt["C" SUBSEP s], cnt["Go" SUBSEP s], runs \
			    > "/dev/stderr"
			exit 1
		}
		printf "%s%s %s %s %s %s %s %s\n", s, suffix,
		    median(ns["C" SUBSEP s]), median(ns["Go" SUBSEP s]),
		    ns["C" SUBSEP s], ns["Go" SUBSEP s],
		    msgs["C" SUBSEP s], msgs["Go" SUBSEP s]
	}
}' "$2".* "$3".*)
}
summary=$tmp/summary
{
	summarize "" C Go &&
	if [ "$one_cpu" != none ]; then
		summarize _1cpu C1 Go1
	fi
} >"$summary" || die "could not read the results"
[ -s "$summary" ] || die "no results"

# The targets of issues 2 and 18, as the largest C/Go ratio allowed.
target() {
	case $1 in
	buf128_1p1c) echo 1.0 ;;
	buf128_4p4c) echo 0.6 ;;
	select2_buf128_2p1c) echo 1.5 ;;
	unbuf_1p1c) echo 1.5 ;;
	*) echo - ;;
	esac
}

# Prints one row of the comparison table; $1 is "text" or "md".
row() {
	local fmt=$1
	shift
	if [ "$fmt" = md ]; then
		printf '| %s | %s | %s | %s | %s | %s |\n' "$@"
	else
		printf '%-21s | %9s | %9s | %10s | %8s | %s\n' "$@"
	fi
}

# Prints the comparison table; $1 is "text" or "md".
table() {
	local fmt=$1 name cmed gomed cruns goruns cmsgs gomsgs t ratio met
	row "$fmt" scenario "C ns/msg" "Go ns/msg" "C/Go ratio" target "met?"
	if [ "$fmt" = md ]; then
		echo "|---|---:|---:|---:|---|---|"
	else
		row text --------------------- --------- --------- ---------- \
		    -------- ----
	fi
	while read -r name cmed gomed cruns goruns cmsgs gomsgs; do
		t=$(target "$name")
		ratio=$(awk -v c="$cmed" -v g="$gomed" \
		    'BEGIN { printf "%.2f", c / g }')
		if [ "$t" = - ]; then
			met=-
		else
			met=$(awk -v r="$ratio" -v t="$t" \
			    'BEGIN { print (r <= t) ? "yes" : "NO" }')
			t="<= ${t}x"
		fi
		row "$fmt" "$name" "$(printf '%.1f' "$cmed")" \
		    "$(printf '%.1f' "$gomed")" "${ratio}x" "$t" "$met"
	done <"$summary"
}

# The floor of a hand-off (bench/handoff_floor.c), measured just before
# each C and each Go run, beside both runs' unbuf_1p1c: one line per run
# with the run, the floor before C, C's ns per message, the floor before
# Go and Go's; no line when unbuf_1p1c did not run.  A virtual machine's
# floor moves from run to run, so each run is divided by its own.
floors=$tmp/floors
for ((r = 1; r <= runs; r++)); do
	(cd "$tmp" && awk -v r="$r" '
	$1 == "handoff_floor" && $5 == "ns/trip" { f[FILENAME] = $4 }
	$1 == "unbuf_1p1c" { u[FILENAME] = $4 }
	END {
		if (("C." r) in u && ("Go." r) in u)
			print r, f["floorC." r], u["C." r], f["floorGo." r],
			    u["Go." r]
	}' "floorC.$r" "C.$r" "floorGo.$r" "Go.$r")
done >"$floors" || die "could not read the floor's results"

# Prints the floor table; $1 is "text" or "md".
floor_table() {
	local fmt=$1
	awk -v fmt="$fmt" "$awk_median"'
	function line(a, b, c, d, e, f, g) {
		if (fmt == "md")
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", a, b, c,
			    d, e, f, g
		else
			printf "%-6s | %9s | %9s | %8s | %9s | %9s | %8s\n",
			    a, b, c, d, e, f, g
	}
	BEGIN {
		line("run", "floor", "C", "C/floor", "floor", "Go", "Go/floor")
		if (fmt == "md")
			print "|---|---:|---:|---:|---:|---:|---:|"
	}
	{
		rc = sprintf("%.2f", $3 / $2)
		rg = sprintf("%.2f", $5 / $4)
		line($1, $2, $3, rc "x", $4, $5, rg "x")
		fc = fc sep $2; c = c sep $3; xc = xc sep rc
		fg = fg sep $4; g = g sep $5; xg = xg sep rg
		sep = ","
	}
	END {
		if (NR > 0)
			line("median", sprintf("%.1f", median(fc)),
			    sprintf("%.1f", median(c)),
			    sprintf("%.2fx", median(xc)),
			    sprintf("%.1f", median(fg)),
			    sprintf("%.1f", median(g)),
			    sprintf("%.2fx", median(xg)))
	}' "$floors"
}

while read -r name cmed gomed cruns goruns cmsgs gomsgs; do
	[ "$cmsgs" = "$gomsgs" ] || echo "$prog: warning: $name:" \
	    "C sent $cmsgs messages, Go $gomsgs: compare with care" >&2
done <"$summary"

echo
echo "Median ns per message over $runs runs each (lower is better):"
echo
table text

if [ -s "$floors" ]; then
	echo
	echo "unbuf_1p1c against the floor of a hand-off between two threads"
	echo "(ns per round trip of a cache line, measured before each run):"
	echo
	floor_table text
fi

echo
echo "Diagnostics: median ns per message of libchan over $runs runs each;"
echo "compiled out: built with CHAN_NO_DIAGNOSTICS; off: the normal build"
echo "(CHAN_DEBUG unset); on: CHAN_DEBUG=1:"
echo
dbg_table text

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo \
    2>/dev/null || true)
{
	echo "# Channel benchmark: libchan (C) against Go channels"
	echo
	echo "Written by \`bench/chan_bench.sh\` (\`make bench\`)."
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- Machine: $(uname -m), ${cpu:-unknown CPU}, nproc $(nproc)"
	echo "- Load average (1, 5, 15 min): $load_start at the start," \
	    "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" \
	    "at the end"
	echo "- Go: $(go version | sed 's/^go version //'), default GOMAXPROCS"
	echo "- Runs: $runs per contender, alternating C and Go;" \
	    "medians of ns per message"
	[ $# -eq 0 ] || echo "- Arguments: \`$*\`"
	echo
	table md
	echo
	echo "Each scenario sends 8-byte values through one channel from"
	echo "the producers (p) to the consumers (c): unbuf is unbuffered,"
	echo "bufN has capacity N; select2 sends through two channels, one"
	echo "per producer, which the consumer selects over (select2to: with"
	echo "a timeout case, Go's time.After).  Consumers check the count, a"
	echo "checksum and the order per producer.  _1cpu: both contenders"
	echo "held to one processor (taskset), Go then with GOMAXPROCS 1, as"
	echo "in a container given one processor; 500,000 messages."
	echo "Targets (issue 18): C at most 1.5x Go for unbuffered 1p1c"
	echo "(3x in issue 2), 1.0x for buffered(128) 1p1c, 0.6x for 4p4c"
	echo "and 1.5x for select2.  Unbuffered 1p1c depends on where the"
	echo "host puts the two virtual processors: see the floor below."
	echo
	if [ -s "$floors" ]; then
		echo "## unbuf_1p1c against the floor of a hand-off"
		echo
		echo "A send on an unbuffered channel cannot finish before the"
		echo "receiver has taken the value, nor the next before the"
		echo "receiver has come back: between two threads on two"
		echo "processors each message costs at least one round trip of a"
		echo "cache line between them, which \`bench/handoff_floor.c\`"
		echo "measures just before each run (ns per round trip).  Go"
		echo "usually hands the value over on one processor, switching"
		echo "goroutines, and so can go below the floor that threads meet."
		echo
		floor_table md
		echo
	fi
	echo "## Cost of the diagnostics"
	echo
	echo "The C benchmark alone, $runs runs each alternating, medians."
	echo "Compiled out is libchan built with CHAN_NO_DIAGNOSTICS; off is"
	echo "the normal build with CHAN_DEBUG unset, as programs run unless"
	echo "they opt in; on is CHAN_DEBUG=1.  Off against compiled out is"
	echo "what the diagnostics cost while off."
	echo
	dbg_table md
	echo
	echo "Every run, ns per message in run order:"
	echo
	echo "| scenario | compiled out | off | on |"
	echo "|---|---|---|---|"
	while read -r name off on out offruns onruns outruns; do
		echo "| $name | ${outruns//,/, } | ${offruns//,/, } |" \
		    "${onruns//,/, } |"
	done <"$dbg_summary"
	echo
	echo "## Every run (ns per message, in run order)"
	echo
	echo "| scenario | messages | C | Go |"
	echo "|---|---:|---|---|"
	while read -r name cmed gomed cruns goruns cmsgs gomsgs; do
		echo "| $name | $cmsgs | ${cruns//,/, } | ${goruns//,/, } |"
	done <"$summary"
} >"$results.tmp" || die "could not write $results.tmp"
mv "$results.tmp" "$results" || die "could not write $results"
echo
echo "Written to ${results#"$PWD"/}."
exit 0
}
