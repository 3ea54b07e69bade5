#!/usr/bin/env bash
# `ctsqs verify` on every core (issue 22): a day of a trail with log file validation
# (tests/peers/make-trail.mjs: 24 hourly digests x FILES log files of RECORDS records, the records
# from ../shared/tools/gen_corpus.py), served from memory by bench_fast_aws (S3 with user
# metadata, CloudTrail ListPublicKeys; no latency, no SigV4 check), verified with --threads 1 and
# --threads 2 alternating. Prints each run and the medians: wall, CPU seconds, events/s and the
# speedup, with the server's CPU beside each run. bench/verify_bench.sh is the comparison with
# `aws cloudtrail validate-logs` over a slow S3; this one measures ctsqs's own work.
#
# usage: bench/verify_threads.sh [--ctsqs BIN] [--runs N] [--files N] [--records N] [--threads "1 2"]
#   defaults: build/release/cli/ctsqs, 5 runs, 20 files per hour, 1000 records per file
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
ctsqs="$root/build/release/cli/ctsqs" runs=5 files=20 records=1000 threads="1 2"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ctsqs) ctsqs="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --records) records="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "verify_threads: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$ctsqs" ]] || { echo "verify_threads: no ctsqs binary at $ctsqs (build target ctsqs_cli)" >&2; exit 2; }
ctsqs="$(realpath "$ctsqs")"
server="$(dirname "$ctsqs")/../bench/bench_fast_aws"
[[ -x "$server" ]] || server="$root/build/release/bench/bench_fast_aws"
[[ -x "$server" ]] || { echo "verify_threads: no bench_fast_aws (build target bench_fast_aws)" >&2; exit 2; }
[[ -d "$root/tests/peers/node_modules" ]] || { echo "verify_threads: no tests/peers/node_modules (npm ci there)" >&2; exit 2; }
gen="$root/../shared/tools/gen_corpus.py"
[[ -f "$gen" ]] || { echo "verify_threads: no $gen for the records" >&2; exit 2; }

work="$(mktemp -d)"
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$server" --bucket ct-bench --port-file "$work/port" --cloudtrail-keys "$work/ct-keys.json" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -f "$work/port" ]] && break; sleep 0.1; done
[[ -f "$work/port" ]] || { cat "$work/server.log" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"

python3 "$gen" --out "$work/corpus" --files 20 --records-per-file "$records" --seed 7 --jobs 2 >/dev/null 2>&1
echo "writing the trail: 24 hours x $files log files x $records records ..." >&2
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test node "$root/tests/peers/make-trail.mjs" generate --s3-endpoint "$url" \
  --bucket ct-bench --hours 24 --files-per-hour "$files" --records "$records" --start 2026-11-02T00:00:00Z \
  --keys-dir "$work/keys" --keys-file "$work/ct-keys.json" --trails-file "$work/ct-trails.json" \
  --out "$work/manifest.json" --log-source "$work/corpus" >/dev/null
read -r start end nlogs bytes < <(python3 -c '
import json,sys; m=json.load(open(sys.argv[1]))
logs=[o for o in m["objects"] if o["kind"]=="log"]
print(m["start"], m["end"], len(logs), sum(o["size"] for o in logs))' "$work/manifest.json")
events=$((nlogs * records))  # make-trail writes RECORDS records into each log file
cat >"$work/collector.json" <<EOF
{"inputs":{"sqs_collector":{"id":"bench","services":{"aws_sqs_cloudtrail":{}},"region":"us-east-1",
  "credentials":{"aws_access_key_id":"bench","aws_secret_access_key":"bench"}}},
 "ctsqs":{"heartbeat":{"enabled":false},
  "endpoints":{"sqs":"$url","s3":"$url","sts":"$url","s3_force_path_style":true}}}
EOF
tick=$(getconf CLK_TCK)
server_cpu() { awk -v t="$tick" '{printf "%.3f", ($14 + $15) / t}' "/proc/$server_pid/stat"; }

echo "== ctsqs verify, threads side by side (bench/verify_threads.sh)"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit:  $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- lib include cli || echo '+changes')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
printf 'trail:   24 digests, %s log files, %.1f MB gzip, %s events; served by bench_fast_aws on loopback\n' \
  "$nlogs" "$(echo "$bytes / 1048576" | bc -l)" "$events"
echo "runs:    $runs of each, alternating"
echo
printf '%-4s %-3s %8s %8s %12s %10s %6s  %s\n' thr run wall_s cpu_s events/s server_cpu load verdict
declare -A walls cpus
for r in $(seq "$runs"); do
  for t in $threads; do
    s0=$(server_cpu) l0=$(cut -d' ' -f1 /proc/loadavg)
    rc=0
    (cd "$work" && env -u AWS_CA_BUNDLE AWS_ENDPOINT_URL_CLOUDTRAIL="$url" AWS_EC2_METADATA_DISABLED=true HOME="$work" \
       /usr/bin/time -f "%e %U %S" -o "$work/time" "$ctsqs" verify --config "$work/collector.json" --bucket ct-bench \
       --since "$start" --until "$end" --threads "$t" >"$work/out" 2>"$work/err") || rc=$?
    verdict=$(grep -E 'log files valid' "$work/out" "$work/err" 2>/dev/null | head -1 | sed 's/^[^:]*://')
    [[ $rc -eq 0 && "$verdict" == "$nlogs/$nlogs log files valid" ]] ||
      { echo "verify_threads: --threads $t: exit $rc, '$verdict'" >&2; tail -5 "$work/err" >&2; exit 1; }
    read -r wall user sys <"$work/time"
    cpu=$(echo "$user + $sys" | bc -l)
    printf '%-4s %-3s %8.2f %8.2f %12.0f %10.3f %6s  %s\n' "$t" "$r" "$wall" "$cpu" "$(echo "$events / $wall" | bc -l)" \
      "$(echo "$(server_cpu) - $s0" | bc -l)" "$l0" "$verdict"
    walls[$t]+="$wall " cpus[$t]+="$cpu "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "medians:"
printf '%-4s %8s %8s %12s %10s %10s\n' thr wall_s cpu_s events/s speedup cpu_ratio
base_w="" base_c=""
for t in $threads; do
  w=$(echo "${walls[$t]}" | median) c=$(echo "${cpus[$t]}" | median)
  [[ -z "$base_w" ]] && base_w=$w base_c=$c
  printf '%-4s %8.2f %8.2f %12.0f %9.2fx %9.2fx\n' "$t" "$w" "$c" "$(echo "$events / $w" | bc -l)" \
    "$(echo "$base_w / $w" | bc -l)" "$(echo "$c / $base_c" | bc -l)"
done
echo "(speedup: wall of the first thread count / this one; cpu_ratio: CPU of this one / the first)"
