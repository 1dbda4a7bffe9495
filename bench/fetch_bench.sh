#!/bin/bash
# fetch_bench.sh: fetch_urls against the Go original and curl, side by side.
#
# Usage: bench/fetch_bench.sh BUILD/fetch_urls
#
# Starts nginx on 127.0.0.1 (bench/nginx.conf, with the echo module for
# delayed answers and a self-signed certificate for HTTPS), builds the Go
# original (bench/reference/fetch_urls.go) next to the program as
# BUILD/fetch_urls_go, and runs the scenarios of the performance issue,
# each RUNS times per contender, alternating the contenders so that both see
# the same machine load over time:
#
#   1. 100 URLs answered after 200 ms           fetch_urls      vs Go
#   2. 10,000 URLs answered after 200 ms        fetch_urls      vs Go
#   3. 20,000 URLs answered at once, one host   fetch_urls -j50 vs curl -Z
#   4. 2,000 URLs answered at once, serially    fetch_urls -s   vs Go -serial
#   5. 1,000 HTTPS URLs answered at once        fetch_urls -j50 vs curl -Z
#   6. 1,000 URLs to one HTTP/2 host            fetch_urls -j50 vs curl -Z
#   7. the same with default options            fetch_urls      vs curl -Z
#   8. 200 URLs alternating two HTTP/2 hosts    fetch_urls -s   vs curl
#      (curl without -Z: one URL after another)
#
# The HTTP/2 server logs the connection of every request, and each run of
# scenarios 6-8 reports the connections it made (each a TLS handshake).
#
# Every URL is distinct (?i=N), so that no contender can fold two into one.
# Each run is measured by a small Python runner that starts it and collects
# it with wait4(): wall seconds from a monotonic clock around it, peak
# resident memory and user and system CPU seconds from its rusage (to the
# microsecond, where GNU time rounds to 10 ms).  Each run must have printed
# exactly one line with status 200 for every URL (and, for fetch_urls and
# Go, the Total line); a run that did not is reported and ends the benchmark,
# since a broken run must not be timed.  The medians, the ratio of fetch_urls
# to its peer per metric and the targets of the issue are printed and
# written, with the machine and the tool versions, to bench/RESULTS.md.
#
# For HTTPS the contenders must trust the self-signed certificate, and
# both trust it alone: with Debian's 140-odd CA certificates, loading the
# bundle for each new connection costs more CPU than the fetching (about
# 20 ms a connection in curl 7.88), which is not what is measured here.
# If fetch_urls --help lists --cacert, both get --cacert CERT; otherwise
# both run in a private mount namespace (unshare -m) in which the system CA
# bundle is the certificate, so that both load it the same way.
#
# Environment:
#   RUNS           runs per contender and scenario (default 5; 3 with QUICK)
#   QUICK=1        a smoke run with a tenth of the URLs; its table goes to
#                  BUILD/RESULTS.quick.md, not to bench/RESULTS.md
#   SCENARIOS      the scenarios to run, e.g. "1 3" (default: all); with
#                  fewer than all, or RUNS below 5, the table goes to
#                  BUILD/RESULTS.partial.md
#   NGINX_WORKERS  nginx worker processes (default 1)
#   BENCH_TIMEOUT  seconds one run may take before it counts as hung (300)
#
# Needs, from Debian: nginx, libnginx-mod-http-echo, curl, golang-go,
# python3, openssl.  As root the missing ones are installed; otherwise the
# apt-get line is printed and the script fails.  Exits 0 when every run
# succeeded, whether or not the targets were met (a benchmark, not a test);
# 1 when something failed; 2 on a usage error.

set -euo pipefail

prog=${0##*/}
benchdir=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "$prog: $*" >&2
	exit 1
}

if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
	echo "usage: $prog BUILD/fetch_urls" >&2
	[ $# -eq 1 ] && exit 0
	exit 2
fi
fetch=$(cd "$(dirname "$1")" && pwd)/${1##*/}
[ -x "$fetch" ] || die "$1: no such executable (try: make)"
builddir=${fetch%/*}
gofetch=$builddir/fetch_urls_go

quick=${QUICK:-0}
[ "$quick" = 0 ] && quick=
runs=${RUNS:-${quick:+3}}
runs=${runs:-5}
case $runs in
'' | *[!0-9]* | 0) die "RUNS=$runs: not a positive count" ;;
esac
limit=${BENCH_TIMEOUT:-300}
case $limit in
'' | *[!0-9]* | 0) die "BENCH_TIMEOUT=$limit: not a positive count" ;;
esac
workers=${NGINX_WORKERS:-1}
case $workers in
'' | *[!0-9]* | 0) die "NGINX_WORKERS=$workers: not a positive count" ;;
esac
scenarios=${SCENARIOS:-1 2 3 4 5 6 7 8}
chosen=
for s in $scenarios; do
	case $s in
	[1-8]) chosen="$chosen $s" ;;
	*) die "SCENARIOS: no scenario '$s' (1 to 8)" ;;
	esac
done
# Only a full run stands for the project's figures: a quick one, one of
# fewer runs or of some scenarios only writes its table under BUILD.
if [ -n "$quick" ]; then
	results=$builddir/RESULTS.quick.md
elif [ "$runs" -lt 5 ] || [ "$chosen" != " 1 2 3 4 5 6 7 8" ]; then
	results=$builddir/RESULTS.partial.md
else
	results=$benchdir/RESULTS.md
fi

# The Debian packages this needs, installed as root when missing.
"$benchdir/../tools/deps.sh" bench || exit 1
PATH=$PATH:/usr/sbin:/sbin
nginx=$(command -v nginx) || die "nginx not found after installing it"
python=/usr/bin/python3
[ -x "$python" ] || die "$python not found (Debian package python3)"
echo_module=$(dpkg-query -L libnginx-mod-http-echo 2>/dev/null |
    grep '/ngx_http_echo_module\.so$' | head -n 1) || true
if [ -z "$echo_module" ] || [ ! -f "$echo_module" ]; then
	die "the nginx echo module (libnginx-mod-http-echo) is not installed"
fi

# Many URLs at once need as many descriptors, in the contenders and in
# nginx, which inherits this limit.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then
	hard=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
fi
ulimit -n "$hard" || die "could not raise the open-file limit to $hard"
nofile=$(ulimit -n)

# Builds the Go contender from the standard library alone: no module, no
# proxy, so that this never touches the network.
if [ -z "${GOCACHE:-}" ] &&
    ! { [ -n "${HOME:-}" ] && [ -w "$HOME" ]; }; then
	export GOCACHE=$builddir/go-cache
fi
echo "$prog: building ${gofetch#"$PWD"/}" >&2
GO111MODULE=off GOPROXY=off GOFLAGS='' CGO_ENABLED=0 \
    go build -o "$gofetch" "$benchdir/reference/fetch_urls.go" ||
	die "building bench/reference/fetch_urls.go failed"
unset GOMAXPROCS GODEBUG

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch_bench.XXXXXX")
chmod 755 "$tmp"

# Stops nginx (gracefully, then for good) and removes the directory.
cleanup() {
	local pid i
	if [ -s "$tmp/nginx.pid" ]; then
		pid=$(cat "$tmp/nginx.pid")
		kill -QUIT "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints a TCP port of 127.0.0.1 that no socket of this machine uses,
# below the usual ephemeral range so that no client connection takes it
# while the benchmark runs, and none of the ports given.
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 12000))
		[[ " $* " = *" $p "* ]] && continue
		if ! awk -v p="$(printf '%04X' "$p")" '
		    FNR > 1 { split($2, a, ":"); if (a[2] == p) found = 1 }
		    END { exit !found }' /proc/net/tcp /proc/net/tcp6 \
		    2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}
http_port=$(free_port)
https_port=$(free_port "$http_port")
h2_port=$(free_port "$http_port" "$https_port")
h2b_port=$(free_port "$http_port" "$https_port" "$h2_port")

# A self-signed certificate for 127.0.0.1 (P-256, cheap for both sides to
# handshake with, so that the server's signing does not dominate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 ||
	die "openssl could not make the certificate"
sysbundle=/etc/ssl/certs/ca-certificates.crt

connections=$((nofile > 65536 ? 65536 : nofile - 64))
sed -e "s|@ECHO_MODULE@|$echo_module|g" -e "s|@WORKERS@|$workers|g" \
    -e "s|@NOFILE@|$nofile|g" -e "s|@CONNECTIONS@|$connections|g" \
    -e "s|@PREFIX@|$tmp|g" -e "s|@HTTP_PORT@|$http_port|g" \
    -e "s|@HTTPS_PORT@|$https_port|g" -e "s|@H2_PORT@|$h2_port|g" \
    -e "s|@H2B_PORT@|$h2b_port|g" "$benchdir/nginx.conf" \
    >"$tmp/nginx.conf"
if grep -q '@[A-Z_]*@' "$tmp/nginx.conf"; then
	die "bench/nginx.conf: unknown placeholder" \
	    "$(grep -o '@[A-Z_]*@' "$tmp/nginx.conf" | head -n 1)"
fi
"$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" ||
	die "nginx did not start: $(cat "$tmp/error.log" 2>/dev/null)"
base=http://127.0.0.1:$http_port
sbase=https://127.0.0.1:$https_port
h2base=https://127.0.0.1:$h2_port
h2bbase=https://127.0.0.1:$h2b_port
up=
for ((i = 0; i < 50; i++)); do
	if curl -sf -o /dev/null "$base/" &&
	    curl -sf -o /dev/null --cacert "$tmp/cert.pem" "$sbase/" &&
	    [ "$(curl -sf -o /dev/null -w '%{http_version}' \
	    --cacert "$tmp/cert.pem" "$h2bbase/")" = 2 ]; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || die "nginx does not answer on $base, $sbase and" \
    "HTTP/2 on $h2bbase:" \
    "$(cat "$tmp/error.log" 2>/dev/null)"
got=$(curl -s -o /dev/null -w '%{time_total}' "$base/delay/200?probe")
awk -v t="$got" 'BEGIN { exit !(t >= 0.19 && t < 1) }' ||
	die "$base/delay/200 answered after $got s, not 0.2 s"
echo "$prog: nginx serving $base, $sbase, HTTP/2 $h2base and $h2bbase" \
    "(workers $workers, open files $nofile)" >&2

# How fetch_urls is to trust the certificate; see the top of the file.
if timeout 10 "$fetch" --help 2>/dev/null | grep -q -- '--cacert'; then
	fetch_tls=(--cacert "$tmp/cert.pem")
	curl_tls=(--cacert "$tmp/cert.pem")
	tls_wrap=()
	tls_how="both are given \`--cacert CERT\`, the benchmark's"
	tls_how="$tls_how self-signed certificate alone"
else
	fetch_tls=()
	curl_tls=()
	ns=(unshare -m)
	[ "$(id -u)" -eq 0 ] || ns=(unshare -r -m)
	# shellcheck disable=SC2016 # Expanded by that sh, not this one.
	tls_wrap=("${ns[@]}" sh -c \
	    'mount --bind "$0" "$1" && shift && exec "$@"' \
	    "$tmp/cert.pem" "$sysbundle")
	"${tls_wrap[@]}" curl -sf -o /dev/null "$sbase/?probe" ||
		die "cannot make the certificate trusted in a mount" \
		    "namespace (${ns[*]}); fetch_urls has no --cacert"
	tls_how="fetch_urls has no \`--cacert\`: both run in a private mount"
	tls_how="$tls_how namespace where the system CA bundle is replaced by"
	tls_how="$tls_how the benchmark's self-signed certificate alone"
fi

# Writes the URL list of a scenario: $1 file, $2 count, $3 URL before ?i=N.
make_urls() {
	awk -v n="$2" -v u="$3" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "%s?i=%d\n", u, i }' >"$1"
}

# Writes a curl config file fetching every URL of $1 into /dev/null.
make_curl_config() {
	awk '{ printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0 }' \
	    "$1" >"$2"
}

# Checks the output $1 of one run against the URL list $2: one line per
# URL, each URL once, every status 200; $3 is "total" when a last line
# "Total time: N.NNs" is due (fetch_urls, Go), "curl" for curl's -w lines.
# Prints what is wrong and fails, or prints nothing.
check_output() {
	local out=$1 list=$2 kind=$3 n
	n=$(wc -l <"$list")
	awk -v n="$n" -v kind="$kind" '
	{ line[NR] = $0 }
	END {
		last = NR
		if (kind == "total") {
			if (NR == 0 ||
			    line[NR] !~ /^Total time: [0-9]+\.[0-9][0-9]s$/) {
				print "no Total line at the end"
				exit 1
			}
			last = NR - 1
		}
		if (last != n) {
			printf "%d result lines, want %d\n", last, n
			bad = 1
		}
		for (i = 1; i <= last; i++) {
			nf = split(line[i], f, /[ \t]+/)
			if (nf != 3 || f[3] != "200") {
				if (++shown <= 5)
					printf "bad line %d: %s\n", i, line[i]
				bad = 1
			}
		}
		exit bad
	}' "$out" || return 1
	# Every URL exactly once: the sorted first fields are the list.
	if ! awk '!/^Total time: / { print $1 }' "$out" | sort |
	    cmp -s - <(sort "$list"); then
		echo "the URLs printed are not the URLs asked for, once each"
		return 1
	fi
}

# The runner: python3 -c "$runner" LIMIT FILE COMMAND... runs COMMAND and
# writes "wall_s maxrss_kb user_s sys_s" of it to FILE; exits with its
# status (128 + signal if killed), or 124 after killing it when it has run
# LIMIT seconds or on SIGINT (130).  COMMAND runs in a process group of
# its own, so that what it started is killed with it.  Python's own
# start-up is outside what is measured.
runner='
import os, signal, sys, time
limit, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def expire(sig, frame):
    raise TimeoutError
signal.signal(signal.SIGALRM, expire)
t0 = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ, setpgroup=0)
signal.alarm(limit)
try:
    _, status, ru = os.wait4(pid, 0)
except (TimeoutError, KeyboardInterrupt) as e:
    os.killpg(pid, signal.SIGKILL)
    os.wait4(pid, 0)
    sys.exit(124 if isinstance(e, TimeoutError) else 130)
t1 = time.perf_counter()
signal.alarm(0)
with open(out, "w") as f:
    f.write("%.6f %d %.6f %.6f\n" % (t1 - t0, ru.ru_maxrss, ru.ru_utime,
        ru.ru_stime))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
'

# Prints the count of connections the kernel dropped so far because a
# listen queue was full (nginx's, here): such drops cost the client a SYN
# retransmission, a second or more, so they are reported with the runs.
listen_drops() {
	awk '/^TcpExt:/ {
		if (!h) { for (i = 1; i <= NF; i++) name[i] = $i; h = 1; next }
		for (i = 1; i <= NF; i++)
			if (name[i] == "ListenDrops") print $i
	}' /proc/net/netstat 2>/dev/null || echo 0
}

# Prints the number of lines in the HTTP/2 server's log so far.
h2_log_lines() {
	if [ -f "$tmp/h2.log" ]; then
		wc -l <"$tmp/h2.log"
	else
		echo 0
	fi
}

# Prints how many connections made the HTTP/2 server's log lines after
# line $1: the distinct (port, connection number) pairs.
h2_connections() {
	tail -n +$(($1 + 1)) "$tmp/h2.log" 2>/dev/null | sort -u | wc -l
}

# Runs one contender once.  $1 label (for files and messages), $2 file for
# standard input, $3 output kind for check_output, $4 URL list, $5 "tls"
# to run inside the TLS wrapper or "-"; the rest is the command.  Appends
# "wall rss_kb user sys listen_drops h2_connections" to $tmp/LABEL.runs.
run_one() {
	local label=$1 in=$2 kind=$3 list=$4 wrap=$5 rc=0 why d0 d1 l0
	shift 5
	local -a cmd=("$python" -c "$runner" "$limit" "$tmp/time" "$@")
	[ "$wrap" = tls ] && cmd=("${tls_wrap[@]}" "${cmd[@]}")
	rm -f "$tmp/time"
	d0=$(listen_drops)
	l0=$(h2_log_lines)
	"${cmd[@]}" <"$in" >"$tmp/out" 2>"$tmp/err" || rc=$?
	d1=$(listen_drops)
	[ "$rc" -eq 0 ] || echo >&2
	if [ "$rc" -eq 124 ]; then
		die "$label: no end after $limit s (hung?)"
	elif [ "$rc" -eq 130 ]; then
		die "$label: interrupted"
	elif [ "$rc" -ne 0 ]; then
		echo "$prog: $label exited $rc; its stderr:" >&2
		head -n 5 "$tmp/err" >&2
		echo "$prog: its first lines:" >&2
		head -n 5 "$tmp/out" >&2
		exit 1
	fi
	if ! why=$(check_output "$tmp/out" "$list" "$kind"); then
		echo >&2
		echo "$prog: $label: a broken run, not timed:" >&2
		printf '  %s\n' "$why" >&2
		[ -s "$tmp/err" ] &&
			head -n 5 "$tmp/err" | sed 's/^/  stderr: /' >&2
		exit 1
	fi
	[ -s "$tmp/time" ] || die "$label: the runner wrote no figures"
	awk -v d=$((d1 - d0)) -v c="$(h2_connections "$l0")" \
	    '{ print $1, $2, $3, $4, d, c }' "$tmp/time" >>"$tmp/$label.runs"
	tail -n 1 "$tmp/$label.runs" |
	    awk -v l="${label#*.}" '{
		printf " %s %.2fs %.0fMB", l, $1, $2 / 1024
		if ($6 > 0)
			printf " %d conn", $6
		if ($5 > 0)
			printf " (%d listen drops)", $5
	    }' >&2
}

# Medians of a runs file: prints "wall rss_kb cpu connections" (cpu =
# user + sys).
medians() {
	awk '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ w[NR] = $1 + 0; m[NR] = $2 + 0; c[NR] = $3 + $4; k[NR] = $6 + 0 }
	END {
		printf "%.4f %d %.3f %g\n", median(w, NR), median(m, NR),
		    median(c, NR), median(k, NR)
	}
	' "$1"
}

# Scenario sizes; QUICK shrinks the large ones tenfold.
if [ -n "$quick" ]; then
	n1=100 n2=1000 n3=2000 n4=200 n5=100 n6=100 n8=20
else
	n1=100 n2=10000 n3=20000 n4=2000 n5=1000 n6=1000 n8=200
fi

# Per scenario: title, peer name, URL count, targets (wall, rss, cpu,
# connections, or -).
declare -A title peer plabel count twall trss tcpu tconn
title[1]="$n1 URLs, 200 ms each"
title[2]="$n2 URLs, 200 ms each, defaults"
title[3]="$n3 URLs at once, -j 50"
title[4]="$n4 URLs at once, --serial"
title[5]="$n5 HTTPS URLs at once, -j 50"
title[6]="$n6 URLs, one HTTP/2 host, -j 50"
title[7]="$n6 URLs, one HTTP/2 host, defaults"
title[8]="$n8 URLs, two HTTP/2 hosts, --serial"
peer[1]="Go original" peer[2]="Go original" peer[3]="curl -Z"
peer[4]="Go original -serial" peer[5]="curl -Z"
peer[6]="curl -Z" peer[7]="curl -Z" peer[8]="curl"
plabel[1]=go plabel[2]=go plabel[3]=curl plabel[4]=go plabel[5]=curl
plabel[6]=curl plabel[7]=curl plabel[8]=curl
count[1]=$n1 count[2]=$n2 count[3]=$n3 count[4]=$n4 count[5]=$n5
count[6]=$n6 count[7]=$n6 count[8]=$n8
twall[1]=1.0 twall[2]=0.8 twall[3]=1.0 twall[4]=1.0 twall[5]=1.2
twall[6]=1.0 twall[7]=1.2 twall[8]=1.0
trss[1]=- trss[2]=0.5 trss[3]=- trss[4]=- trss[5]=-
trss[6]=- trss[7]=- trss[8]=-
tcpu[1]=- tcpu[2]=- tcpu[3]=- tcpu[4]=- tcpu[5]=- tcpu[6]=1.2 tcpu[7]=-
tcpu[8]=-
# Connections (TLS handshakes) a fetch_urls run may make, or -.
tconn[6]=- tconn[7]=- tconn[8]=2
floor_target=1.15

curl_w='%{url} %{time_total} %{http_code}\n'

# Runs scenario $1 RUNS times, alternating fetch_urls and its peer.
scenario() {
	local s=$1 list=$tmp/urls.$1 r
	case $s in
	1 | 2) make_urls "$list" "${count[$s]}" "$base/delay/200" ;;
	3 | 4) make_urls "$list" "${count[$s]}" "$base/" ;;
	5) make_urls "$list" "${count[$s]}" "$sbase/" ;;
	6 | 7) make_urls "$list" "${count[$s]}" "$h2base/" ;;
	8)
		make_urls "$list.a" "${count[$s]}" "$h2base/"
		make_urls "$list.b" "${count[$s]}" "$h2bbase/"
		paste -d '\n' "$list.a" "$list.b" | head -n "${count[$s]}" \
		    >"$list"
		;;
	esac
	if [ "$s" -ge 5 ] || [ "$s" = 3 ]; then
		make_curl_config "$list" "$tmp/curl.$s"
	fi
	for ((r = 1; r <= runs; r++)); do
		printf '%s: scenario %d run %d/%d:' "$prog" "$s" "$r" "$runs" \
		    >&2
		case $s in
		1 | 2)
			run_one "$s.fetch_urls" /dev/null total "$list" - \
			    "$fetch" -i "$list"
			run_one "$s.go" "$list" total "$list" - "$gofetch"
			;;
		3)
			run_one "$s.fetch_urls" /dev/null total "$list" - \
			    "$fetch" -j 50 -i "$list"
			run_one "$s.curl" /dev/null curl "$list" - \
			    curl -Z --parallel-max 50 -s --no-progress-meter \
			    -w "$curl_w" -K "$tmp/curl.$s"
			;;
		4)
			run_one "$s.fetch_urls" /dev/null total "$list" - \
			    "$fetch" --serial -i "$list"
			run_one "$s.go" "$list" total "$list" - \
			    "$gofetch" -serial
			;;
		5 | 6)
			run_one "$s.fetch_urls" /dev/null total "$list" tls \
			    "$fetch" ${fetch_tls[@]+"${fetch_tls[@]}"} \
			    -j 50 -i "$list"
			run_one "$s.curl" /dev/null curl "$list" tls \
			    curl ${curl_tls[@]+"${curl_tls[@]}"} \
			    -Z --parallel-max 50 -s --no-progress-meter \
			    -w "$curl_w" -K "$tmp/curl.$s"
			;;
		7)
			run_one "$s.fetch_urls" /dev/null total "$list" tls \
			    "$fetch" ${fetch_tls[@]+"${fetch_tls[@]}"} \
			    -i "$list"
			run_one "$s.curl" /dev/null curl "$list" tls \
			    curl ${curl_tls[@]+"${curl_tls[@]}"} \
			    -Z -s --no-progress-meter \
			    -w "$curl_w" -K "$tmp/curl.$s"
			;;
		8)
			run_one "$s.fetch_urls" /dev/null total "$list" tls \
			    "$fetch" ${fetch_tls[@]+"${fetch_tls[@]}"} \
			    --serial -i "$list"
			run_one "$s.curl" /dev/null curl "$list" tls \
			    curl ${curl_tls[@]+"${curl_tls[@]}"} \
			    -s --no-progress-meter \
			    -w "$curl_w" -K "$tmp/curl.$s"
			;;
		esac
		echo >&2
	done
}

load0=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?')
for s in $scenarios; do
	scenario "$s"
done

# Prints one table row; $1 is "text" or "md".
row() {
	local fmt=$1
	shift
	if [ "$fmt" = md ]; then
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"
	else
		printf '%-37s | %-19s | %-11s | %10s | %10s | %6s | %-8s' \
		    "$1" "$2" "$3" "$4" "$5" "$6" "$7"
		printf ' | %s\n' "$8"
	fi
}

# Prints "ratio met" for value $1 over $2 against the largest ratio $3.
judge() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
		r = b > 0 ? a / b : 0
		printf "%.2fx %s\n", r,
		    t == "-" ? "-" : (r <= t + 0 ? "yes" : "NO")
	}'
}

# Prints the comparison table; $1 is "text" or "md".
table() {
	local fmt=$1 s fw fm fc fk pw pm pc pk other ratio met t
	row "$fmt" scenario peer metric fetch_urls peer ratio target "met?"
	if [ "$fmt" = md ]; then
		echo "|---|---|---|---:|---:|---:|---|---|"
	else
		row text "" "" "" "" "" "" "" "" | tr ' |' '-+' |
		    sed 's/+$//'
	fi
	for s in $scenarios; do
		other=$tmp/$s.${plabel[$s]}.runs
		read -r fw fm fc fk < <(medians "$tmp/$s.fetch_urls.runs")
		read -r pw pm pc pk < <(medians "$other")
		t=${twall[$s]}
		read -r ratio met < <(judge "$fw" "$pw" "$t")
		row "$fmt" "$s. ${title[$s]}" "${peer[$s]}" "wall s" \
		    "$(printf %.3f "$fw")" "$(printf %.3f "$pw")" "$ratio" \
		    "<= ${t}x" "$met"
		t=${trss[$s]}
		read -r ratio met < <(judge "$fm" "$pm" "$t")
		[ "$t" = - ] || t="<= ${t}x"
		row "$fmt" "" "" "peak RSS MB" \
		    "$(awk -v k="$fm" 'BEGIN { printf "%.1f", k / 1024 }')" \
		    "$(awk -v k="$pm" 'BEGIN { printf "%.1f", k / 1024 }')" \
		    "$ratio" "$t" "$met"
		t=${tcpu[$s]}
		read -r ratio met < <(judge "$fc" "$pc" "$t")
		[ "$t" = - ] || t="<= ${t}x"
		row "$fmt" "" "" "CPU s" "$fc" "$pc" "$ratio" "$t" "$met"
		if [ "$s" -ge 6 ]; then
			t=${tconn[$s]}
			met=-
			if [ "$t" != - ]; then
				met=NO
				awk -v k="$fk" -v t="$t" \
				    'BEGIN { exit !(k <= t) }' && met=yes
				t="<= $t"
			fi
			row "$fmt" "" "" "connections" "$fk" "$pk" - "$t" \
			    "$met"
		fi
		if [ "$s" = 1 ]; then
			read -r ratio met < <(judge "$fw" 0.2 "$floor_target")
			row "$fmt" "" "200 ms floor" "wall s" \
			    "$(printf %.3f "$fw")" 0.200 "$ratio" \
			    "<= ${floor_target}x" "$met"
		fi
	done
}

echo
echo "Medians over $runs runs each (lower is better; ratio = fetch_urls/peer):"
echo
table text

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo \
    2>/dev/null || true)
sysctl_of() {
	tr '\t' ' ' <"/proc/sys/$1" 2>/dev/null || echo '?'
}
{
	echo "# Fetch benchmark: fetch_urls against the Go original and curl"
	echo
	echo "Written by \`bench/fetch_bench.sh\` (\`make bench-fetch\`," \
	    "part of \`make bench\`)."
	[ -z "$quick" ] || echo "A QUICK smoke run with a tenth of the URLs:" \
	    "the targets are for the full counts."
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- Machine: $(uname -m), ${cpu:-unknown CPU}, nproc $(nproc)," \
	    "Linux $(uname -r)"
	echo "- fetch_urls: $("$fetch" -V 2>/dev/null | head -n 1)"
	echo "- Go original: $(go version | sed 's/^go version //')," \
	    "default GOMAXPROCS"
	echo "- curl: $(curl --version | head -n 1)"
	echo "- Server: $("$nginx" -v 2>&1 | sed 's/^nginx version: //')," \
	    "$workers worker process(es), echo module, on 127.0.0.1;" \
	    "HTTP/1.1, keep-alive; TLS with a self-signed P-256 certificate;" \
	    "scenarios 6-8 on a server with HTTP/2 (ALPN h2) on two ports"
	echo "- Load average (1, 5, 15 min) at the start: $load0;" \
	    "at the end: $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null)"
	echo "- Open-file limit $nofile; net.core.somaxconn" \
	    "$(sysctl_of net/core/somaxconn), tcp_max_syn_backlog" \
	    "$(sysctl_of net/ipv4/tcp_max_syn_backlog)"
	echo "- Runs: $runs per contender and scenario, alternating the" \
	    "contenders; medians. Wall seconds from a monotonic clock around" \
	    "each run, peak resident memory and CPU seconds (user + system)" \
	    "from its rusage (wait4)."
	echo
	table md
	echo
	echo "Ratios are fetch_urls over its peer (lower is better for" \
	    "fetch_urls); the targets are those of the performance issue." \
	    "The floor row compares the 200 ms scenario with the 200 ms an" \
	    "ideal client needs."
	echo
	echo "## Commands"
	echo
	echo "Each URL list has distinct URLs (\`?i=1\`, \`?i=2\`, ...);" \
	    "every run must print one line with status 200 for each."
	echo
	echo "1, 2. \`fetch_urls -i LIST\` against \`fetch_urls_go < LIST\`," \
	    "URLs \`/delay/200?i=N\`."
	# shellcheck disable=SC2028 # The \n is meant literally.
	echo "3. \`fetch_urls -j 50 -i LIST\` against" \
	    "\`curl -Z --parallel-max 50 -s --no-progress-meter -w" \
	    "'%{url} %{time_total} %{http_code}\\n' -K CONFIG\`," \
	    "CONFIG holding" \
	    "\`url = ...\` and \`output = /dev/null\` per URL."
	echo "4. \`fetch_urls --serial -i LIST\` against" \
	    "\`fetch_urls_go -serial < LIST\`."
	echo "5. As 3 over HTTPS; $tls_how."
	echo "6. As 5 on the HTTP/2 server."
	echo "7. \`fetch_urls -i LIST\` against \`curl -Z -s" \
	    "--no-progress-meter -w ... -K CONFIG\` (curl's default" \
	    "\`--parallel-max\`, 50), on the HTTP/2 server."
	echo "8. \`fetch_urls --serial -i LIST\` against \`curl -s" \
	    "--no-progress-meter -w ... -K CONFIG\` (one URL after" \
	    "another), the URLs alternating between the HTTP/2 server's" \
	    "two ports, two hosts to a client."
	echo
	echo "Connections are those the HTTP/2 server's log shows for the" \
	    "run (distinct port and connection number), each one TLS" \
	    "handshake."
	echo
	echo "## Every run (wall s / peak RSS MB / CPU s [/ connections]," \
	    "in run order)"
	echo
	echo "A run marked \"(N drops)\" saw the kernel drop N connection" \
	    "attempts because nginx's listen queue was full" \
	    "(TcpExt ListenDrops; somaxconn $(sysctl_of net/core/somaxconn))" \
	    "and the clients resend their SYN a second or more later, which" \
	    "shows in the wall time."
	echo
	echo "| scenario | contender | runs |"
	echo "|---|---|---|"
	for s in $scenarios; do
		for f in "$tmp/$s.fetch_urls.runs" \
		    "$tmp/$s.${plabel[$s]}.runs"; do
			who=fetch_urls
			[ "$f" = "$tmp/$s.fetch_urls.runs" ] || who=${peer[$s]}
			printf '| %s | %s | %s |\n' "$s" "$who" "$(awk '{
			    if (NR > 1)
				    printf ", "
			    printf "%.3f / %.1f / %.3f", $1, $2 / 1024, $3 + $4
			    if ($6 > 0)
				    printf " / %d conn", $6
			    if ($5 > 0)
				    printf " (%d drops)", $5
			    }' "$f")"
		done
	done
} >"$results.tmp" || die "could not write $results.tmp"
mv "$results.tmp" "$results" || die "could not write $results"
echo
echo "Written to ${results#"$PWD"/}."
