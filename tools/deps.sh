#!/bin/sh
# deps.sh: install the Debian packages a make target needs, or name them.
#
# Usage: tools/deps.sh build|test|demo|bench|fuzz|valgrind|cluster...
# As root, missing packages are installed with apt-get; otherwise the
# script prints the exact apt-get line to run and fails.

set -eu

pkgs=
for group in "$@"; do
	case $group in
	build)	pkgs="$pkgs make gcc pkg-config libcurl4-openssl-dev libjansson-dev" ;;
	demo)	pkgs="$pkgs make gcc pkg-config libcurl4-openssl-dev libjansson-dev python3 openssl" ;;
	test)	pkgs="$pkgs make gcc pkg-config libcurl4-openssl-dev libjansson-dev check python3 openssl jq bsdutils nginx"
		pkgs="$pkgs mandoc binutils curl" ;;
	bench)	pkgs="$pkgs golang-go nginx libnginx-mod-http-echo curl bc"
		pkgs="$pkgs python3 openssl" ;;
	fuzz)	pkgs="$pkgs clang libclang-rt-14-dev" ;;
	valgrind) pkgs="$pkgs valgrind" ;;
	cluster) pkgs="$pkgs slurm-wlm munge parallel openssh-server"
		pkgs="$pkgs openssh-client rsync python3 iproute2 util-linux procps" ;;
	*)	echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
	esac
done

missing=
for p in $pkgs; do
	case " $missing " in *" $p "*) continue ;; esac
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once if needed.
if ! apt-get install -y -q$missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q$missing >/dev/null
fi
