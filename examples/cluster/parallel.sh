#!/bin/sh
# parallel.sh: fetch a URL list in N shards on other machines over ssh with
# GNU parallel, rerunning the failed shards until every one is done.
#
# Usage: parallel.sh INPUT OUTDIR N SSHLOGINS
#
# SSHLOGINS is parallel's -S list, such as 8/node1,8/node2 (eight jobs at
# a time on each).  The nodes need only sshd, rsync and the libraries
# fetch_urls links (libcurl): the program and INPUT are copied to each
# node's home directory, and each shard's records come back on the ssh
# connection's standard output into OUTDIR/results.  The merged records
# go to OUTDIR/records.json, in urlnum order, only if every URL of INPUT
# is there exactly once.  FETCH_URLS names the program (default:
# fetch_urls in PATH here), FETCH_OPTS adds options (as "-j 50
# --shard-by host"), SSH is the ssh command (default: ssh), RETRIES the
# tries of a job in one run (default 2) and MAX_RUNS the most runs
# (default 10).
set -eu

if [ $# -ne 4 ]; then
	echo "usage: parallel.sh INPUT OUTDIR N SSHLOGINS" >&2
	exit 2
fi
input=$1
outdir=$2
n=$3
logins=$4
here=$(dirname "$(realpath "$0")")
prog=$(command -v "${FETCH_URLS:-fetch_urls}")

# --basefile and --transferfile copy a file to the same path relative to
# the login's home directory that it has relative to ours: both go into
# OUTDIR, from where parallel runs.
mkdir -p "$outdir"
cp "$prog" "$outdir/fetch_urls"
cp "$input" "$outdir/urls.txt"
cd "$outdir"

# The joblog and results of an earlier invocation into OUTDIR go on
# (--resume-failed) only if it ran the same shards of the same input with
# the same options; otherwise they are not this run's.  The merged
# records are made anew either way.
stamp="$n $(cksum < urls.txt) ${FETCH_OPTS:-}"
if [ "$(cat stamp 2>/dev/null)" != "$stamp" ]; then
	rm -rf joblog results
	printf '%s\n' "$stamp" > stamp
fi
rm -f records.json

# A job exits 0 when its shard is complete: status 1 only says that some
# URL failed or answered 400 or more, while 3 says that the run is not
# complete.  A job whose node or connection
# died is tried again on another node (--retries), and, if that fails
# too, by the next run (--resume-failed, which reads the joblog).  Each
# try rewrites its results, so only complete ones are left.  Not used,
# as they lose or repeat shards when a node dies: --pipe and --pipe-part
# with --resume-failed (the rerun gets other blocks), and --return (a
# file not yet returned is lost silently).
run=0
until
	run=$((run + 1))
	echo "parallel.sh: run $run" >&2
	# FETCH_OPTS is meant to be split into words.
	# shellcheck disable=SC2086
	parallel -S "$logins" --ssh "${SSH:-ssh}" --basefile fetch_urls \
	    --transferfile '{1}' --retries "${RETRIES:-2}" --joblog joblog \
	    --resume-failed --results results \
	    ./fetch_urls --shard '{2}'/"$n" -q --json -i '{1}' \
	    ${FETCH_OPTS:-} '||' '[ $? -eq 1 ]' \
	    ::: urls.txt ::: $(seq 0 $((n - 1)))
do
	if [ "$run" -ge "${MAX_RUNS:-10}" ]; then
		echo "parallel.sh: shards still failing after $run runs;" \
		    "see $outdir/joblog" >&2
		exit 1
	fi
done
"$here/merge_shards" -o records.json.tmp urls.txt results/1/*/2/*/stdout
mv records.json.tmp records.json
