#!/bin/sh
# submit.sh: submit fetch_urls.sbatch over N shards, and a job that merges
# their records once every shard is done.
#
# Usage: submit.sh INPUT OUTDIR N [sbatch option...]
#
# INPUT, OUTDIR and this directory must be on a file system every node
# shares.  The merged records go to OUTDIR/records.json, in urlnum order,
# written only if every URL of INPUT is there exactly once; the merge
# job's log says what is missing otherwise.  Prints the two job IDs.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: submit.sh INPUT OUTDIR N [sbatch option...]" >&2
	exit 2
fi
input=$(realpath "$1")
mkdir -p "$2"
outdir=$(realpath "$2")
n=$3
shift 3
here=$(dirname "$(realpath "$0")")

# The tasks run in OUTDIR: a program named by a relative path is found
# from here.
case ${FETCH_URLS:-} in
*/*) FETCH_URLS=$(realpath "$FETCH_URLS"); export FETCH_URLS ;;
esac

# The records of an earlier run into OUTDIR are not this run's.
rm -f "$outdir/records.json" "$outdir"/records.[0-9]*.json \
    "$outdir"/records.[0-9]*.json.*

# The tasks and the merge get the environment of this script, INPUT,
# OUTDIR, MERGE and N included: sbatch --export would split the paths at
# their commas, and the merge's command reads them from there, unquoted
# by no shell of ours.
export INPUT="$input" OUTDIR="$outdir" MERGE="$here/merge_shards" N="$n"
array=$(sbatch --parsable --array="0-$((n - 1))" --chdir="$outdir" \
    --export=ALL "$@" "$here/fetch_urls.sbatch")
# afterok: the merge runs only when every task ended with status 0, and
# merges the N shards' files by name.
# shellcheck disable=SC2016
merge=$(sbatch --parsable --dependency="afterok:${array%%;*}" \
    --job-name=fetch_urls_merge --requeue --chdir="$outdir" \
    --output="$outdir/merge.log" --open-mode=truncate --export=ALL "$@" \
    --wrap='set --; k=0; while [ "$k" -lt "$N" ]; do
    set -- "$@" "$OUTDIR/records.$k.json"; k=$((k + 1)); done
    "$MERGE" -o "$OUTDIR/records.json.tmp" "$INPUT" "$@" &&
    mv "$OUTDIR/records.json.tmp" "$OUTDIR/records.json"')
echo "$array $merge"
