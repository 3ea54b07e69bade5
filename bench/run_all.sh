#!/usr/bin/env bash
# Every ctsqs benchmark that compares it with what a user would otherwise run, side by side in one
# run, headed by the machine, date, commit and load: `decode` against zcat, igzip, libdeflate-gunzip,
# the Python stdlib and jq (bench/decode_bench.sh, on issue 22's corpus: 20 files x 5000 records
# of ../shared/tools/gen_corpus.py, 161 MB of JSON); `verify` against `aws cloudtrail
# validate-logs` (bench/verify_bench.sh: a day of a trail in the test peers' S3, 50 ms per
# GetObject) and one thread against two (bench/verify_threads.sh, the trail from memory);
# `drain`/`backfill` one thread against two (bench/collector_bench.sh); `backfill` against
# `aws s3 sync` then `ctsqs decode` (bench/backfill_bench.py: many small objects in the test
# peers' S3, with and without AWS-like latency).
# Each prints events/s and MB/s per core (per CPU second) and for the machine (per wall second).
# Then the figures peers publish, for comparison. About 2 to 3 minutes on a quiet 2-core machine.
#
# usage: bench/run_all.sh [--ctsqs BIN] [--only decode|verify|drain|backfill] [--corpus DIR]
# env:   RUNS (best of N runs per decode tool, default 3), VERIFY_ARGS (more verify_bench.sh
#        arguments, e.g. "--hours 12 --no-aws"), BACKFILL_ARGS (more backfill_bench.py
#        arguments; default "--objects 600")
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="$root/build/release/cli/ctsqs" only="" corpus=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ctsqs) bin="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --corpus) corpus="$2"; shift 2 ;;
    *) echo "run_all: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "run_all: no ctsqs binary at $bin (cmake --build --preset release --target ctsqs_cli)" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
want() { [[ -z "$only" || "$only" == "$1" ]]; }

echo "# ctsqs benchmarks"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with local changes)'); $("$bin" --version 2>/dev/null | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (wall figures need a quiet machine; CPU figures hold up under load)"
start=$(date +%s)

if want decode; then
  echo
  echo "## decode: one CloudTrail corpus, output to /dev/null"
  if [[ -n "$corpus" ]]; then
    "$here/decode_bench.sh" "$bin" --corpus "$corpus"
  else
    "$here/decode_bench.sh" "$bin" --files 20 --records-per-file 5000 --seed 7
  fi
fi

if want verify; then
  echo
  echo "## verify: a day of a trail in a local S3 (test peers), +50 ms per GetObject"
  # shellcheck disable=SC2086
  "$here/verify_bench.sh" --ctsqs "$bin" ${VERIFY_ARGS:-} 2>/dev/null || echo "(verify_bench.sh failed: rerun it alone to see why)"
  echo
  echo "## verify: one thread against two, the trail served from memory (bench_fast_aws)"
  "$here/verify_threads.sh" --ctsqs "$bin" 2>/dev/null || echo "(verify_threads.sh failed: rerun it alone to see why)"
fi

if want drain; then
  echo
  echo "## drain and backfill: one thread against two, from a fast local S3"
  # The drain/backfill bench (a fast local S3 + SQS, bench_fast_aws) on the same corpus.
  extra=()
  [[ -n "$corpus" ]] && extra=(--corpus "$corpus")
  "$here/collector_bench.sh" --ctsqs "$bin" "${extra[@]}" || echo "(collector_bench.sh failed: rerun it alone to see why)"
fi

if want backfill; then
  echo
  echo "## backfill against aws s3 sync + ctsqs decode (test peers' S3, small objects)"
  # shellcheck disable=SC2086
  python3 "$here/backfill_bench.py" --ctsqs "$bin" ${BACKFILL_ARGS:---objects 600} ||
    echo "(backfill_bench.py failed: rerun it alone to see why)"
fi

cat <<'EOF'

## what peers publish (their own benchmarks, not rerun here; none publishes events/s per core for CloudTrail)
- Filebeat aws-s3 input: about 29 objects/s for 100,000 small objects on one instance.
- Cribl Stream sizing: 400 GB/day per core (about 4.6 MB/s per core).
(ctsqs decode's MB/s above is JSON decoded from local files; theirs include network and output.)
EOF
echo
echo "total: $(( $(date +%s) - start )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
