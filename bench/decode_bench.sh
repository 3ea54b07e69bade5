#!/usr/bin/env bash
# Decode throughput, side by side in one run: ctsqs decode (one thread and every core) vs the
# inflate floor (zcat, igzip -d, libdeflate-gunzip, when installed), the Python stdlib
# (gzip + json) and zcat | jq -c '.Records[]', on one synthetic corpus (../shared/tools/
# gen_corpus.py, 100 files x 1000 records, ~160 MB of JSON, or --corpus DIR). Prints the machine,
# date and commit, then per tool: wall and CPU seconds (user+sys, all processes), events/s and
# MB/s (uncompressed JSON) per core (per CPU-second) and for the machine (per wall second),
# and the peak RSS.
# With --guardduty: GuardDuty findings instead (bench/gen_guardduty.py, 100 files x 200
# findings, ~86 MB), decoded as the export (aws_sqs_guard_duty, JSON lines) and as Firehose
# objects of EventBridge events (aws_sqs_guard_duty_kinesis), each beside zcat on the same files.
#
# usage: bench/decode_bench.sh [CTSQS_BINARY] [--guardduty] [--files N] [--records-per-file M] [--keep DIR]
#                              [--corpus DIR] [--seed S]
# e.g.   bench/decode_bench.sh --files 20 --records-per-file 5000 --seed 7   (issue 22's corpus)
# env:   GEN_CORPUS (path to gen_corpus.py), RUNS (best of N runs per tool, default 3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../build/release/cli/ctsqs}"
[[ $# -gt 0 ]] && shift
files=100 per_file="" keep="" guardduty="" corpus="" seed=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --guardduty) guardduty=1; shift ;;
    --files) files="$2"; shift 2 ;;
    --records-per-file) per_file="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --corpus) corpus="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
gen="${GEN_CORPUS:-$here/../../shared/tools/gen_corpus.py}"
[[ -f "$gen" ]] || gen=/work/shared/tools/gen_corpus.py
runs="${RUNS:-3}"
[[ -x "$bin" ]] || { echo "no ctsqs binary at $bin (build target ctsqs_cli)" >&2; exit 2; }

if [[ -n "$corpus" ]]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  ln -s "$(cd "$corpus" && pwd)" "$dir/corpus"
elif [[ -n "$keep" && -d "$keep/corpus" ]]; then
  dir="$keep"
else
  dir="${keep:-$(mktemp -d)}"
  mkdir -p "$dir"
  [[ -z "$keep" ]] && trap 'rm -rf "$dir"' EXIT
  if [[ -n "$guardduty" ]]; then
    echo "generating GuardDuty corpus ($files files x ${per_file:-200} findings) in $dir ..." >&2
    python3 "$here/gen_guardduty.py" --out "$dir/corpus" --files "$files" --findings-per-file "${per_file:-200}" --seed 1 >&2
  else
    echo "generating corpus ($files files x ${per_file:-1000} records) in $dir ..." >&2
    python3 "$gen" --out "$dir/corpus" --files "$files" --records-per-file "${per_file:-1000}" --seed "$seed" >&2
  fi
fi

# best_of CMD...: runs CMD $runs times under /usr/bin/time; keeps the lowest CPU time.
best_of() {
  local best="" line
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %U %S %M" -o "$dir/t" bash -c "$1" >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; return 1; }
    line=$(tail -1 "$dir/t")
    if [[ -z "$best" ]] || awk -v a="$line" -v b="$best" 'BEGIN{split(a,x," ");split(b,y," ");exit !((x[2]+x[3])<(y[2]+y[3]))}'; then
      best="$line"
    fi
  done
  echo "$best"
}

# measure LIST_FILE DIR SERVICE: sets bytes, gz_bytes, records for the files of LIST_FILE.
measure() {
  bytes=$(xargs -a "$1" -d '\n' zcat | wc -c)
  gz_bytes=$(xargs -a "$1" -d '\n' cat | wc -c)
  records=$("$bin" decode -q --service "$3" --format raw "$2" 2>/dev/null | wc -l)
  printf '%s records, %.1f MB JSON (%.1f MB gzip) in %s files; best of %s runs\n' \
    "$records" "$(echo "$bytes/1000000" | bc -l)" "$(echo "$gz_bytes/1000000" | bc -l)" "$(wc -l < "$1")" "$runs"
  printf '%-46s %7s %7s %11s %8s %11s %8s %9s\n' tool wall-s cpu-s ev/s/core MB/s/core ev/s/machine MB/s/mach peak-RSS
}
report() {
  local name="$1" t="$2"
  read -r wall user sys rss <<<"$t"
  local cpu; cpu=$(echo "$user + $sys" | bc -l)
  printf '%-46s %7.2f %7.2f %11.0f %8.1f %11.0f %8.1f %7.1fMB\n' "$name" "$wall" "$cpu" \
    "$(echo "$records / $cpu" | bc -l)" "$(echo "$bytes / 1000000 / $cpu" | bc -l)" \
    "$(echo "$records / $wall" | bc -l)" "$(echo "$bytes / 1000000 / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); commit: $commit; $("$bin" --version 2>/dev/null | head -1)"
if [[ -n "$guardduty" ]]; then
  for pair in "aws_sqs_guard_duty:export" "aws_sqs_guard_duty_kinesis:firehose"; do
    service=${pair%%:*} sub=${pair#*:}
    find "$dir/corpus/$sub/" -name '*.gz' | sort > "$dir/list"
    echo "== $service ($sub)"
    measure "$dir/list" "$dir/corpus/$sub" "$service"
    report "ctsqs decode --service $service (flat)" "$(best_of "'$bin' decode -q --service $service '$dir/corpus/$sub'")"
    report "ctsqs decode --service $service --format raw" "$(best_of "'$bin' decode -q --service $service --format raw '$dir/corpus/$sub'")"
    report "zcat alone" "$(best_of "xargs -a '$dir/list' -d '\n' zcat")"
  done
  echo "(cpu-s = user+sys of every process; per core = per cpu-second, per machine = per wall second; peak RSS of the largest process)"
  exit 0
fi
find "$dir/corpus/" -name '*.json.gz' | sort > "$dir/list"
measure "$dir/list" "$dir/corpus" aws_sqs_cloudtrail
report "ctsqs decode --threads 1 (flat) >/dev/null" "$(best_of "'$bin' decode -q --threads 1 '$dir/corpus'")"
report "ctsqs decode (flat, every core)" "$(best_of "'$bin' decode -q '$dir/corpus'")"
report "ctsqs decode --threads 1 --format raw" "$(best_of "'$bin' decode -q --threads 1 --format raw '$dir/corpus'")"
report "ctsqs decode --format raw (every core)" "$(best_of "'$bin' decode -q --format raw '$dir/corpus'")"
report "ctsqs decode --threads 1 --format devo" "$(best_of "'$bin' decode -q --threads 1 --format devo '$dir/corpus'")"
report "zcat alone" "$(best_of "xargs -a '$dir/list' -d '\n' zcat")"
command -v igzip >/dev/null && report "igzip -dc alone (ISA-L)" "$(best_of "xargs -a '$dir/list' -d '\n' igzip -dc")"
command -v libdeflate-gunzip >/dev/null &&
  report "libdeflate-gunzip -c alone" "$(best_of "xargs -a '$dir/list' -d '\n' libdeflate-gunzip -c")"
report "python3 gzip+json, a line per record" "$(best_of "xargs -a '$dir/list' -d '\n' python3 '$here/py_decode.py'")"
if command -v jq >/dev/null; then
  report "zcat | jq -c '.Records[]'" "$(best_of "xargs -a '$dir/list' -d '\n' zcat | jq -c '.Records[]'")"
fi
echo "(cpu-s = user+sys of every process; per core = per cpu-second, per machine = per wall second; peak RSS of the largest process)"
