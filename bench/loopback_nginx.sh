# loopback_nginx.sh: the nginx of stream_bench.sh and body_bench.sh.
#
# Sourced, with prog (the script's name for messages) and benchdir set.
# bench_prog "$@" takes the script's one argument, BUILD/fetch_urls, into
# $fetch (absolute) and $builddir, or exits 2 with the usage.
# nginx_start NAME LOCATION installs what the benchmarks need (as root),
# makes the temporary directory $tmp (removed on exit, with nginx
# stopped), starts nginx on 127.0.0.1:$port with LOCATION as its one
# location block and $tmp/www as its root, and waits until it answers.

die() {
	echo "$prog: $*" >&2
	exit 1
}

bench_prog() {
	[ $# -eq 1 ] && [ -x "$1" ] || {
		echo "usage: $prog BUILD/fetch_urls" >&2
		exit 2
	}
	fetch=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	builddir=$(dirname "$fetch")
}

# The median of the numbers on standard input, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

nginx_pid=
cleanup() {
	if [ -n "$nginx_pid" ]; then
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}

nginx_start() {
	local nginx

	"$benchdir/../tools/deps.sh" bench || exit 1
	PATH=$PATH:/usr/sbin:/sbin
	nginx=$(command -v nginx) || die "nginx not found after installing it"
	ulimit -n "$(ulimit -Hn)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap cleanup EXIT INT TERM
	mkdir "$tmp/www"
	# A port nobody listens on now, from the kernel's ephemeral range.
	port=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > "$tmp/nginx.conf" <<EOF
daemon off;
worker_processes 1;
error_log $tmp/error.log;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $tmp;
	server {
		listen 127.0.0.1:$port reuseport backlog=4096;
		root $tmp/www;
		$2
	}
}
EOF
	"$nginx" -c "$tmp/nginx.conf" -p "$tmp" &
	nginx_pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.05
	done
	curl -s -o /dev/null "http://127.0.0.1:$port/" ||
	    die "nginx did not start"
}
