#!/bin/sh
# run.sh: runs each libFuzzer target for SECS seconds on a corpus of its own.
#
# Usage: tests/fuzz/run.sh SECS FUZZER...
# A crash, a leak or a failed check stops the run with the fuzzer's report
# and the input that caused it (saved beside the corpus), and fails.

set -eu

secs=$1
shift
for f in "$@"; do
	name=$(basename "$f")
	corpus=$(dirname "$f")/corpus-$name
	mkdir -p "$corpus"
	echo "fuzz: $name for ${secs}s"
	# Standard input is empty: the option parser reads it for -d @-.
	"$f" -max_total_time="$secs" -artifact_prefix="$(dirname "$f")/" \
	    -print_final_stats=1 "$corpus" </dev/null \
	    2>"$(dirname "$f")/$name.log" || {
		tail -n 40 "$(dirname "$f")/$name.log" >&2
		echo "fuzz: $name failed; see $(dirname "$f")/$name.log" >&2
		exit 1
	}
	grep -E '^stat::number_of_executed_units' \
	    "$(dirname "$f")/$name.log" || true
done
