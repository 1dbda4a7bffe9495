#!/bin/sh
# cluster.sh: make test-cluster: fetch_urls --shard on a throwaway Slurm
# cluster and over GNU parallel and ssh, with a node killed mid-run.
#
# Usage: tests/cluster.sh FETCH_URLS [URLS]
#        tests/cluster.sh --time FETCH_URLS [URLS]
#
# As root, it runs itself again inside network, mount and PID namespaces
# of its own: nothing it starts can listen on or reach any address but
# loopback, its mounts (a hosts file, the nodes' home directories) are
# seen by nobody else, and whatever it leaves running dies with it.  Its
# files live in a temporary directory; no system-wide Slurm, munge or ssh
# configuration is read or written.
#
# Slurm: munged, slurmctld and two slurmd nodes, n1 and n2, each node in a
# PID namespace of its own, so that killing one process kills the node
# with every task on it.  examples/cluster/submit.sh runs a job array over
# URLS URLs (default 4000) of the loopback fixture, and its merge job;
# node n2 is killed while it runs a task, and started again, up to twice.
# GNU parallel: two sshd "nodes" on loopback ports, each in namespaces of
# its own with its own home directory; examples/cluster/parallel.sh runs
# the same list through them, and node2 is killed the same way.  Each
# time the merged records must hold every URL of the input exactly once.
#
# With KEEP set, the temporary directory is kept for a look at the logs.
# --time instead fetches URLS URLs (default 50000) through the Slurm
# array on n1 alone, then on n1 and n2, and prints both wall times.
#
# The conditions wait_for polls are quoted to be expanded when evaluated.
# shellcheck disable=SC2016
set -eu

if [ "${CLUSTER_NS:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "cluster.sh: must run as root (namespaces, mounts)" >&2
		exit 1
	fi
	CLUSTER_NS=1 exec unshare --net --mount --pid --fork --mount-proc \
	    sh "$0" "$@"
fi

mode="test"
if [ "${1:-}" = --time ]; then
	mode="time"
	shift
fi
if [ $# -lt 1 ]; then
	echo "usage: cluster.sh [--time] FETCH_URLS [URLS]" >&2
	exit 2
fi
prog=$(realpath "$1")
if [ $mode = time ]; then
	nurls=${2:-50000}
else
	nurls=${2:-4000}
fi
top=$(cd "$(dirname "$0")/.." && pwd)
examples=$top/examples/cluster
# Shards of each run; more than the four task slots of the two nodes, so
# that some wait in the queue while others run.
nshards=16

T=$(mktemp -d /tmp/fetch_urls-cluster.XXXXXX)
pids=
nodepids=
ok=0

# Stops what we started, by PID: the nodes with SIGKILL (the end of a
# PID namespace takes its processes with it), the rest with SIGTERM.  On
# a failure, shows the end of every log first.
cleanup() {
	set +e
	trap - EXIT INT TERM
	if [ $ok -ne 1 ]; then
		for f in "$T"/*.log "$T"/*/*.log "$T"/*/*/*.log; do
			[ -f "$f" ] || continue
			echo "--- ${f#"$T"/}" >&2
			tail -n 15 "$f" >&2
		done
	fi
	for p in $nodepids; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	wait
	if [ -n "${KEEP:-}" ]; then
		echo "cluster.sh: files kept in $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "cluster.sh: FAIL: $*" >&2
	exit 1
}

say() {
	echo "cluster.sh: $*" >&2
}

# Polls a shell condition every 0.2 s for up to $1 seconds.
wait_for() {
	limit=$1
	shift
	i=0
	while ! eval "$*"; do
		i=$((i + 1))
		[ $i -le $((limit * 5)) ] || return 1
		sleep 0.2
	done
}

ip link set lo up
# Slurm resolves addresses with getaddrinfo(AI_ADDRCONFIG), which finds no
# IPv4 address on a host whose only one is 127.0.0.1: lo gets one more,
# from the range kept for documentation (RFC 5737), still only loopback.
ip addr add 192.0.2.1/32 dev lo
# Names for the fixture's hosts, so that --shard-by host has some to
# share out; they are seen in this mount namespace only.
hosts=
for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	hosts="$hosts h$i.test"
done
printf '127.0.0.1\tlocalhost%s\n' "$hosts" >"$T/hosts"
mount --bind "$T/hosts" /etc/hosts

# The fixture serves until its standard input ends or it gets SIGTERM;
# fd 7 keeps the FIFO open for it.
mkfifo "$T/fixture.in"
python3 "$top/tests/fixture.py" <"$T/fixture.in" >"$T/fixture.out" \
    2>"$T/fixture.log" &
pids="$pids $!"
exec 7>"$T/fixture.in"
wait_for 15 'grep -qs READY "$T/fixture.out"' || fail "fixture not ready"
port=$(sed -n 's/^READY http=\([0-9]*\) .*/\1/p' "$T/fixture.out")

# The list: comments, blank lines, credentials, URLs without a scheme and
# host names in capitals, each URL answering 200 after $delay ms.
delay=100
[ $mode = time ] && delay=0
awk -v n="$nurls" -v port="$port" -v delay="$delay" 'BEGIN {
	print "# fetch_urls cluster test: " n " URLs"
	for (i = 0; i < n; i++) {
		if (i % 50 == 0)
			print "\n  # a comment, after a blank line"
		h = "h" (i % 16) ".test"
		path = h ":" port "/delay/" delay "?i=" i
		if (i % 7 == 0)
			print "http://user" i ":s3cret@" path
		else if (i % 11 == 0)
			print path
		else if (i % 13 == 0)
			print "  HTTP://" toupper(h) ":" port "/delay/" delay \
			    "?i=" i "\t"
		else
			print "http://" path
	}
}' >"$T/urls.txt"

# Checks that the records files $2... hold every URL of list $1 once.
check_records() {
	list=$1
	shift
	"$examples/merge_shards" -o "$T/merged.json" "$list" "$@" ||
	    fail "the shards' records are not the input"
	got=$(wc -l <"$T/merged.json")
	[ "$got" -eq "$nurls" ] || fail "$got records for $nurls URLs"
	[ "$(grep -c '"status":200' "$T/merged.json")" -eq "$nurls" ] ||
	    fail "not every URL answered 200"
	grep -q 's3cret' "$T/merged.json" && fail "a password was printed"
	say "every one of $nurls URLs exactly once"
}

# ---------------------------------------------------------------- Slurm

start_slurm() {
	mkdir -p "$T/munge" "$T/slurm/state" "$T/slurm/spool/n1" \
	    "$T/slurm/spool/n2" "$T/slurm/out"
	chmod 755 "$T/munge"
	dd if=/dev/urandom of="$T/munge/key" bs=1024 count=1 2>/dev/null
	chmod 400 "$T/munge/key"
	# --force: munged would stop at its checks of the permissions of
	# the directories it uses, made for /etc/munge and /run/munge.
	munged -F --force --socket="$T/munge/socket" \
	    --key-file="$T/munge/key" --pid-file="$T/munge/pid" \
	    --seed-file="$T/munge/seed" --log-file="$T/munge/munged.log" \
	    2>"$T/munge/munged.err.log" &
	pids="$pids $!"
	wait_for 10 '[ -S "$T/munge/socket" ]' || fail "munged not ready"

	host=$(hostname -s)
	# cred_expire: a requeued task waits this long before it starts
	# again (120 s by default).  config_overrides: two nodes claim the
	# CPUs of one machine.
	cat >"$T/slurm/slurm.conf" <<-EOF
	ClusterName=fetchtest
	SlurmctldHost=$host(127.0.0.1)
	SlurmctldPort=16817
	SlurmUser=root
	SlurmdUser=root
	AuthType=auth/munge
	CredType=cred/munge
	AuthInfo=socket=$T/munge/socket,cred_expire=10
	StateSaveLocation=$T/slurm/state
	SlurmdSpoolDir=$T/slurm/spool/%n
	SlurmctldPidFile=$T/slurm/slurmctld.pid
	SlurmdPidFile=$T/slurm/slurmd.%n.pid
	SlurmctldLogFile=$T/slurm/slurmctld.log
	SlurmdLogFile=$T/slurm/slurmd.%n.log
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	MpiDefault=none
	MailProg=/bin/true
	SlurmdTimeout=5
	ReturnToService=2
	SelectType=select/cons_tres
	SelectTypeParameters=CR_CPU
	SlurmdParameters=config_overrides
	NodeName=n1 NodeAddr=127.0.0.1 NodeHostname=$host Port=16821 CPUs=2
	NodeName=n2 NodeAddr=127.0.0.1 NodeHostname=$host Port=16822 CPUs=2
	PartitionName=all Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
	EOF
	export SLURM_CONF="$T/slurm/slurm.conf"
	slurmctld -D -i -f "$SLURM_CONF" 2>"$T/slurm/slurmctld.err.log" &
	pids="$pids $!"
	start_slurmd n1
	start_slurmd n2
	wait_for 20 '[ "$(sinfo -h -N -o %N -t idle 2>/dev/null |
	    wc -l)" -eq 2 ]' || fail "the Slurm nodes did not come up"
	say "slurm: slurmctld, n1 and n2 up"
}

# Starts slurmd for node $1 in a PID namespace of its own, with
# --kill-child: SIGKILL to the unshare process, whose PID is kept in
# $T/node.$1, ends the node with all its tasks, as a power cut would.
start_slurmd() {
	unshare --pid --fork --mount-proc --kill-child \
	    slurmd -D -N "$1" -f "$SLURM_CONF" \
	    2>"$T/slurm/slurmd.$1.err.log" &
	echo $! >"$T/node.$1"
	nodepids="$nodepids $!"
}

# Kills node $1, started by start_$2, once it runs a task ($3: a
# condition that says so), waits for $4 (a condition: the cluster has
# seen the node die) and starts it again; twice, unless the run ends
# first ($5: a condition that says so).  Fails without a kill at all.
# Sets $kills.
kill_node() {
	kills=0
	while [ $kills -lt 2 ]; do
		wait_for 120 "$3 || $5" || fail "node $1 never ran a task"
		eval "$5" && break
		kill -KILL "$(cat "$T/node.$1")"
		kills=$((kills + 1))
		say "killed node $1 while it ran a task"
		wait_for 90 "$4" || fail "the death of node $1 went unnoticed"
		"start_$2" "$1"
	done
	[ $kills -gt 0 ] || fail "the run ended before $1 could be killed"
}

slurm_busy() {
	[ -n "$(squeue -h -w "$1" -t R -o %i 2>/dev/null)" ]
}

# Logs the states seen, for a look after a failure.
slurm_down() {
	state=$(sinfo -h -n "$1" -o %T 2>&1)
	echo "$(date +%T) $1 $state" >>"$T/slurm/states.log"
	case $state in
	*down*) ;;
	*) return 1 ;;
	esac
}

# Waits until no job of the IDs given is left, for up to $limit seconds;
# fails when one of them can never start, as the merge job after a task
# that failed.
slurm_wait() {
	jobs=$(echo "$@" | tr ' ' ,)
	wait_for "$limit" '! squeue -h -j "$jobs" -o %r 2>/dev/null |
	    grep -q . || squeue -h -j "$jobs" -o %r | grep -q NeverSatisfied' ||
	    fail "slurm jobs not done: $(squeue)"
	! squeue -h -j "$jobs" -o %r | grep -q NeverSatisfied ||
	    fail "a task failed: $(cat "$out"/*.log)"
}

test_slurm() {
	out=$T/slurm/out
	# submit.sh prints the two job IDs.
	# shellcheck disable=SC2046
	set -- $(FETCH_URLS=$prog FETCH_OPTS="-j 4 --no-progress" \
	    "$examples/submit.sh" "$T/urls.txt" "$out" $nshards)
	say "slurm: array job $1 of $nshards tasks, merge job $2"
	kill_node n2 slurmd 'slurm_busy n2' 'slurm_down n2' \
	    "[ -z \"\$(squeue -h -j $1 -o %i)\" ]"
	limit=180 slurm_wait "$@"
	[ -f "$out/records.json" ] || fail "no merged records: $(cat \
	    "$out/merge.log" 2>/dev/null)"
	requeued=$(grep -c 'requeue' "$T/slurm/slurmctld.log" || true)
	say "slurm: $kills kills of n2, $requeued requeues"
	check_records "$T/urls.txt" "$out/records.json"
}

# Times $1 shards over the nodes $2 (a Slurm node list), in $took.
time_slurm() {
	out=$T/slurm/time.$(echo "$2" | tr , _)
	start=$(date +%s.%N)
	# shellcheck disable=SC2046
	set -- $(FETCH_URLS=$prog FETCH_OPTS="-j 50 --no-progress" \
	    "$examples/submit.sh" "$T/urls.txt" "$out" "$1" --nodelist="$2")
	limit=600 slurm_wait "$@"
	end=$(date +%s.%N)
	check_records "$T/urls.txt" "$out/records.json"
	took=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
}

# ----------------------------------------------------- GNU parallel, ssh

start_ssh() {
	mkdir -p "$T/ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id"
	cp "$T/ssh/id.pub" "$T/ssh/authorized_keys"
	: >"$T/ssh/known_hosts"
	: >"$T/ssh/config"
	for node in node1 node2; do
		p=2220${node#node}
		mkdir -p "$T/$node/home"
		cat >"$T/$node/sshd_config" <<-EOF
		ListenAddress 127.0.0.1
		Port $p
		HostKey $T/ssh/host_key
		PidFile $T/$node/sshd.pid
		AuthorizedKeysFile $T/ssh/authorized_keys
		StrictModes no
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		MaxStartups 100
		MaxSessions 100
		LogLevel ERROR
		EOF
		echo "[127.0.0.1]:$p $(cat "$T/ssh/host_key.pub")" \
		    >>"$T/ssh/known_hosts"
		cat >>"$T/ssh/config" <<-EOF
		Host $node
		    HostName 127.0.0.1
		    Port $p
		    User root
		    IdentityFile $T/ssh/id
		    IdentitiesOnly yes
		    UserKnownHostsFile $T/ssh/known_hosts
		    StrictHostKeyChecking yes
		    BatchMode yes
		    ConnectTimeout 5
		EOF
		start_sshd "$node"
	done
	for node in node1 node2; do
		wait_for 10 'ssh -F "$T/ssh/config" $node true 2>/dev/null' ||
		    fail "cannot log in to $node"
	done
	say "ssh: node1 and node2 up"
}

# Starts sshd for node $1 in PID and mount namespaces of its own, its
# own home directory on /root and an empty /run (sshd wants /run/sshd);
# SIGKILL to the unshare process, whose PID is kept in $T/node.$1, ends
# the node with all its sessions.
start_sshd() {
	unshare --mount --pid --fork --mount-proc --kill-child sh -c '
	    mount --bind "$1/home" /root &&
	    mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd &&
	    exec /usr/sbin/sshd -D -e -f "$1/sshd_config"' sh "$T/$1" \
	    2>"$T/$1/sshd.log" &
	echo $! >"$T/node.$1"
	nodepids="$nodepids $!"
}

ssh_busy() {
	upid=$(cat "$T/node.$1")
	init=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null) || return 1
	[ -n "$init" ] && pgrep --ns "$init" --nslist pid -x fetch_urls \
	    >/dev/null
}

ssh_down() {
	! ssh -F "$T/ssh/config" "$1" true 2>/dev/null
}

test_parallel() {
	work=$T/parallel
	mkdir -p "$work"
	# parallel keeps its own files under PARALLEL_HOME, not in ~.
	export PARALLEL_HOME="$T/parallel_home"
	mkdir -p "$PARALLEL_HOME"
	touch "$PARALLEL_HOME/will-cite"
	# One try a job: a job killed with its node fails the run, and the
	# next run does it again (--resume-failed).
	FETCH_URLS=$prog SSH="ssh -F $T/ssh/config" RETRIES=1 \
	    FETCH_OPTS="-j 8 --no-progress --shard-by host" \
	    "$examples/parallel.sh" "$T/urls.txt" "$work" $nshards \
	    2/node1,2/node2 >"$T/parallel.log" 2>&1 &
	runner=$!
	pids="$pids $runner"
	kill_node node2 sshd 'ssh_busy node2' 'ssh_down node2' \
	    "! kill -0 $runner"
	wait $runner || fail "parallel.sh failed"
	runs=$(grep -c '^parallel.sh: run' "$T/parallel.log" || true)
	say "parallel: $kills kills of node2, $runs runs"
	check_records "$T/urls.txt" "$work/records.json"
	# --shard-by host: the host names of each shard's records, without
	# scheme, user or port, in lower case; none may be in two shards.
	shared=$(for f in "$work"/results/1/*/2/*/stdout; do
		sed 's/^{"url":"\([^"]*\)".*/\1/; s|^[A-Za-z]*://||;
		    s|^[^/]*@||; s|[:/?].*||' "$f" | tr '[:upper:]' '[:lower:]' | sort -u
	done | sort | uniq -d)
	[ -z "$shared" ] || fail "hosts in more than one shard: $shared"
	say "parallel: each host in one shard"
}

if [ $mode = time ]; then
	start_slurm
	time_slurm $nshards n1
	one=$took
	time_slurm $nshards n1,n2
	say "$nurls URLs in $nshards shards: n1 alone $one s," \
	    "n1 and n2 $took s (one machine: overhead, not speed-up)"
else
	start_slurm
	test_slurm
	start_ssh
	test_parallel
	say "PASS"
fi
ok=1
