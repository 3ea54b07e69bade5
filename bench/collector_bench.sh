#!/usr/bin/env bash
# The collector's decode threads (issue 22, item 1): `ctsqs drain` and `ctsqs backfill` of issue
# 22's corpus from a fast local S3 + SQS (bench/fast_aws.cpp, files served from memory), with
# --threads 1 and --threads 2 side by side: wall time, events/s, CPU seconds and CPU per event,
# peak RSS, the server's own CPU (to show it is not the bottleneck) and the load average at each
# run. Runs alternate 1 / 2 threads; the table gives the median of --runs runs of each.
#
# usage: bench/collector_bench.sh [--ctsqs BIN] [--corpus DIR] [--runs N] [--threads "1 2"]
#                                 [--copies N] [--server cpp|py] [--instructions]
#   --corpus DIR     CloudTrail files under DIR/AWSLogs/... (default: issue 22's corpus,
#                    gen_corpus.py --files 20 --records-per-file 5000 --seed 7, generated once
#                    into ${XDG_CACHE_HOME:-~/.cache}/ctsqs-bench/)
#   --copies N       serve each file N times under distinct keys (default 3: about 300,000
#                    events and 1.5 CPU s per run, so that start-up and the drain's end weigh
#                    little against the decoding)
#   --server cpp|py  the local S3 + SQS: bench_fast_aws (default; the one built next to the
#                    ctsqs binary, else build/release/bench/) or bench/fast_aws.py, its Python twin. On a
#                    2-core machine the server's CPU is taken from the run measured: the Python
#                    one spends about 3 times the C++ one's (the server_cpu column)
#   --instructions   also count instructions per event (valgrind --tool=callgrind, one run each;
#                    slow: about a minute more)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
ctsqs="$root/build/release/cli/ctsqs" corpus="" runs=3 threads="1 2" instructions="" copies=3 server=cpp
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ctsqs) ctsqs="$2"; shift 2 ;;
    --corpus) corpus="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --instructions) instructions=1; shift ;;
    --copies) copies="$2"; shift 2 ;;
    --server) server="$2"; shift 2 ;;
    *) echo "collector_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$ctsqs" ]] || { echo "collector_bench: no ctsqs binary at $ctsqs (build target ctsqs_cli)" >&2; exit 2; }
ctsqs="$(realpath "$ctsqs")"  # the runs start in a directory of their own
if [[ -z "$corpus" ]]; then
  corpus="${XDG_CACHE_HOME:-$HOME/.cache}/ctsqs-bench/corpus-20x5000-seed7"
  if [[ ! -f "$corpus/.done" ]]; then
    gen="$root/../shared/tools/gen_corpus.py"
    [[ -f "$gen" ]] || { echo "collector_bench: no --corpus and no $gen to make one" >&2; exit 2; }
    echo "generating the corpus into $corpus (once)..." >&2
    rm -rf "$corpus" && mkdir -p "$corpus"
    python3 "$gen" --out "$corpus" --files 20 --records-per-file 5000 --seed 7 --jobs 2 >/dev/null
    touch "$corpus/.done"
  fi
fi
work="$(mktemp -d)"
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
case "$server" in
  cpp)
    server_cmd=("$(dirname "$ctsqs")/../bench/bench_fast_aws")
    [[ -x "${server_cmd[0]}" ]] || server_cmd=("$root/build/release/bench/bench_fast_aws")
    [[ -x "${server_cmd[0]}" ]] || { echo "collector_bench: no ${server_cmd[0]} (build target bench_fast_aws, or --server py)" >&2; exit 2; } ;;
  py) server_cmd=(python3 "$here/fast_aws.py") ;;
  *) echo "collector_bench: --server cpp or py" >&2; exit 2 ;;
esac
"${server_cmd[@]}" --root "$corpus" --bucket bench --port-file "$work/port" --copies "$copies" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -f "$work/port" ]] && break; sleep 0.1; done
[[ -f "$work/port" ]] || { cat "$work/server.log" >&2; exit 1; }
port=$(cat "$work/port") url="http://127.0.0.1:$(cat "$work/port")"
cat >"$work/collector.json" <<EOF
{"inputs":{"sqs_collector":{"id":"bench","services":{"aws_sqs_cloudtrail":{}},
  "credentials":{"aws_access_key_id":"bench","aws_secret_access_key":"bench"},
  "region":"us-east-1","base_url":"$url/000000000000/q"}},
 "ctsqs":{"sqs":{"wait_time":"1s"},"drain":{"empty_polls":1},"heartbeat":{"enabled":false},
  "endpoints":{"sqs":"$url","s3":"$url","sts":"$url","s3_force_path_style":true}}}
EOF
export AWS_EC2_METADATA_DISABLED=true HOME="$work"
tick=$(getconf CLK_TCK)
server_cpu() { awk -v t="$tick" '{printf "%.3f", ($14 + $15) / t}' "/proc/$server_pid/stat"; }
load() { cut -d' ' -f1 /proc/loadavg; }

# One run: prints "wall cpu rss_kb events server_cpu load".
run_one() {
  local mode="$1" t="$2" wrap="${3:-}"
  curl -s -XPOST "$url/__reset" >/dev/null
  rm -rf "$work/run" && mkdir -p "$work/run"
  local s0 l0
  s0=$(server_cpu) l0=$(load)
  local cmd=("$ctsqs" drain --config "$work/collector.json")
  [[ "$mode" == backfill ]] &&
    cmd=("$ctsqs" backfill --config "$work/collector.json" --bucket bench --since 2024-03-01 --until 2024-03-02
         --state "$work/run/state")
  (cd "$work/run" && /usr/bin/time -f "%e %U %S %M" -o "$work/run/time" $wrap "${cmd[@]}" --threads "$t" \
     --output - --format flat >/dev/null 2>"$work/run/err") || { tail -5 "$work/run/err" >&2; return 1; }
  local ev
  ev=$(sed -n 's/.*events: *\([0-9]*\) delivered.*/\1/p' "$work/run/err" | head -1)
  read -r wall user sys rss <"$work/run/time"
  echo "$wall $(echo "$user + $sys" | bc -l) $rss ${ev:-0} $(echo "$(server_cpu) - $s0" | bc -l) $l0"
}

echo "== ctsqs drain / backfill, decode threads side by side (bench/collector_bench.sh)"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit:  $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- lib include cli || echo '+changes')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "corpus:  $corpus: $(find "$corpus" -name '*.json.gz' | wc -l) files, $(du -sh --apparent-size "$corpus" | cut -f1) gzip, each served $copies times"
echo "runs:    $runs of each, alternating; S3/SQS: $([[ $server == cpp ]] && echo bench_fast_aws || echo bench/fast_aws.py) on loopback"
echo
printf '%-9s %-4s %-3s %8s %8s %10s %8s %12s %8s %10s %6s\n' mode thr run events wall_s events/s cpu_s cpu_us/event rss_MB server_cpu load
declare -A walls cpus
for mode in drain backfill; do
  for r in $(seq "$runs"); do
    for t in $threads; do
      out=$(run_one "$mode" "$t") || { echo "collector_bench: $mode with $t thread(s) failed" >&2; exit 1; }
      read -r wall cpu rss ev scpu l <<<"$out"
      printf '%-9s %-4s %-3s %8s %8.2f %10.0f %8.2f %12.2f %8.1f %10.3f %6s\n' "$mode" "$t" "$r" "$ev" "$wall" \
        "$(echo "$ev / $wall" | bc -l)" "$cpu" "$(echo "$cpu * 1000000 / $ev" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
        "$scpu" "$l"
      walls[$mode.$t]+="$wall " cpus[$mode.$t]+="$cpu "
      events=$ev
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "medians ($events events per run):"
printf '%-9s %-4s %8s %10s %8s %12s %10s %10s\n' mode thr wall_s events/s cpu_s cpu_us/event speedup cpu_ratio
for mode in drain backfill; do
  base_w="" base_c=""
  for t in $threads; do
    w=$(echo "${walls[$mode.$t]}" | median) c=$(echo "${cpus[$mode.$t]}" | median)
    [[ -z "$base_w" ]] && base_w=$w base_c=$c
    printf '%-9s %-4s %8.2f %10.0f %8.2f %12.2f %9.2fx %9.2fx\n' "$mode" "$t" "$w" "$(echo "$events / $w" | bc -l)" "$c" \
      "$(echo "$c * 1000000 / $events" | bc -l)" "$(echo "$base_w / $w" | bc -l)" "$(echo "$c / $base_c" | bc -l)"
  done
done
echo "(speedup: wall of the first thread count / this one; cpu_ratio: CPU of this one / the first)"

if [[ -n "$instructions" ]]; then
  command -v valgrind >/dev/null || { echo "no valgrind: --instructions skipped"; exit 0; }
  echo
  echo "instructions (valgrind --tool=callgrind, one run each; threads run one at a time there):"
  for mode in drain backfill; do
    for t in $threads; do
      run_one "$mode" "$t" "valgrind --tool=callgrind --callgrind-out-file=$work/cg.out" >/dev/null
      n=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/run/err" | tail -1)
      printf '%-9s %-4s %14s instructions, %8.0f per event\n' "$mode" "$t" "$n" "$(echo "$n / $events" | bc -l)"
    done
  done
fi
