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

# The tasks get the environment of this script, INPUT and OUTDIR
# included: sbatch --export would split the paths at their commas.
export INPUT="$input" OUTDIR="$outdir"
array=$(sbatch --parsable --array="0-$((n - 1))" --chdir="$outdir" \
    --export=ALL "$@" "$here/fetch_urls.sbatch")
# afterok: the merge runs only when every task ended with status 0.
merge=$(sbatch --parsable --dependency="afterok:${array%%;*}" \
    --job-name=fetch_urls_merge --requeue --chdir="$outdir" \
    --output="$outdir/merge.log" --open-mode=truncate "$@" \
    --wrap="'$here/merge_shards' -o '$outdir/records.json.tmp' \
    '$input' '$outdir'/records.[0-9]*.json && \
    mv '$outdir/records.json.tmp' '$outdir/records.json'")
echo "$array $merge"
