#!/usr/bin/env bash
# Integrity check speed: `aws cloudtrail validate-logs` vs `ctsqs verify` on the same bucket: a day
# of a busy trail (tests/peers/make-trail.mjs: 24 hourly digests x 20 log files of 200 records,
# records from ../shared/tools/gen_corpus.py when present) in fauxqs's S3 behind the SigV4 gate,
# with 50 ms added to every S3 GetObject (the round trip to a bucket in another region). Prints
# both wall times, their exit codes and verdict counts, and the ratio (the goal: >= 10x); and per
# tool its CPU seconds (user+sys) with events/s and MB/s (gzipped log bytes verified) per core
# (per CPU second) and for the machine (per wall second).
#
# usage: bench/verify_bench.sh [--ctsqs BIN] [--aws PATH] [--hours N] [--files N] [--records N]
#                              [--delay-ms MS] [--no-aws] [--runs N] [--ctsqs-args "..."] [--keep DIR]
#   --ctsqs BIN   default build/release/cli/ctsqs; a binary without `verify` is reported and skipped
#   --no-aws      time ctsqs only (validate-logs fetches one object at a time)
#   --runs N      ctsqs verify runs (default 3): each run's wall time, the median for the ratio
#   --ctsqs-args  more arguments for ctsqs verify, e.g. "--objects-in-flight 32"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
ctsqs="$root/build/release/cli/ctsqs" aws="" hours=24 files=20 records=200 delay=50 no_aws="" keep="" runs=3 ctsqs_args=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ctsqs) ctsqs="$2"; shift 2 ;;
    --aws) aws="$2"; shift 2 ;;
    --hours) hours="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --records) records="$2"; shift 2 ;;
    --delay-ms) delay="$2"; shift 2 ;;
    --no-aws) no_aws=1; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --ctsqs-args) ctsqs_args="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    *) echo "verify_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export PEERS_RUN_DIR="$work/peers" PEERS="fauxqs gate"
export FAUXQS_PORT="$(free_port)" GATE_PORT="$(free_port)" S3RVER_PORT="$(free_port)"
export GATE_S3_UPSTREAM="http://127.0.0.1:$FAUXQS_PORT" GATE_CLOUDTRAIL_KEYS="$work/ct-keys.json" GATE_CLOUDTRAIL_TRAILS="$work/ct-trails.json"
unset GATE_EXTERNAL_ID GATE_FAULTS GATE_STS_TTL_S
gate="http://127.0.0.1:$GATE_PORT"
cleanup() { "$root/tests/peers/stop-peers.sh" >/dev/null 2>&1 || true; [[ -n "$keep" ]] || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$PEERS_RUN_DIR"
"$root/tests/peers/start-peers.sh" >"$work/start-peers.out" 2>&1 || { cat "$work/start-peers.out" >&2; exit 1; }

source_args=()
gen="${GEN_CORPUS:-$root/../shared/tools/gen_corpus.py}"
[[ -f "$gen" ]] || gen=/work/shared/tools/gen_corpus.py
if [[ -f "$gen" ]]; then
  python3 "$gen" --out "$work/corpus" --files 20 --records-per-file "$records" --seed 7 >/dev/null 2>&1 \
    && source_args=(--log-source "$work/corpus") && echo "records: $gen (20 files x $records, cycled)" >&2
fi
echo "writing the trail: $hours hours x $files log files x $records records ..." >&2
t0=$(date +%s.%N)
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test node "$root/tests/peers/make-trail.mjs" generate --s3-endpoint "$gate" \
  --bucket ct-bench --hours "$hours" --files-per-hour "$files" --records "$records" --start 2026-11-02T00:00:00Z \
  --keys-dir "$work/keys" --out "$work/manifest.json" "${source_args[@]}" >/dev/null
read -r start end nlogs bytes < <(python3 -c '
import json,sys; m=json.load(open(sys.argv[1]))
logs=[o for o in m["objects"] if o["kind"]=="log"]
print(m["start"], m["end"], len(logs), sum(o["size"] for o in logs))' "$work/manifest.json")
printf 'trail: %s log files (%.1f MB gzipped), %s digests, written in %.1f s\n' "$nlogs" "$(echo "$bytes/1048576" | bc -l)" \
  "$hours" "$(echo "$(date +%s.%N) - $t0" | bc -l)" >&2
curl -fsS -X POST "$gate/__gate/faults" -H 'content-type: application/json' \
  -d "[{\"service\":\"s3\",\"action\":\"GetObject\",\"delayMs\":$delay}]" >/dev/null
echo "gate: +$delay ms on every S3 GetObject" >&2

wall() { python3 -c 'import sys,time; print("%.2f" % (time.time() - float(sys.argv[1])))' "$1"; }
aws_s="" aws_rc="" aws_sum="skipped" aws_cpu=""
if [[ -z "$no_aws" ]]; then
  aws="${aws:-$(command -v aws || true)}"
  if [[ -z "$aws" ]]; then
    aws_sum="no aws CLI installed"
  else
    cfg="$work/aws-config"; printf '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n' >"$cfg"
    # S3/CloudTrail to the gate also for CLIs that ignore AWS_ENDPOINT_URL (Debian 12's 2.9.19)
    PYTHONPATH="$root/tests/integrity" python3 -c 'import sys, trailkit; trailkit.write_endpoint_rulesets(sys.argv[1], sys.argv[2])' \
      "$work/aws-data" "$gate"
    echo "running aws cloudtrail validate-logs ($("$aws" --version 2>&1)) ..." >&2
    t=$(python3 -c 'import time; print(time.time())')
    set +e
    /usr/bin/time -f "%e %U %S" -o "$work/aws.time" env -u AWS_PROFILE AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_ENDPOINT_URL="$gate" AWS_DATA_PATH="$work/aws-data" AWS_CONFIG_FILE="$cfg" \
      AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_EC2_METADATA_DISABLED=true \
      "$aws" cloudtrail validate-logs --region us-east-1 --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/ct-trail \
      --s3-bucket ct-bench --start-time "$start" --end-time "$end" >"$work/aws.out" 2>&1
    aws_rc=$?
    set -e
    aws_s=$(wall "$t")
    aws_cpu=$(tail -1 "$work/aws.time" | awk '{print $2 + $3}')
    aws_sum=$(grep -E 'files valid' "$work/aws.out" | tr '\n' ';' | sed 's/;$//')
  fi
fi

ct_s="" ct_rc="" ct_sum="skipped" ct_all="" ct_cpu=""
if [[ ! -x "$ctsqs" ]]; then
  ct_sum="no ctsqs binary at $ctsqs"
elif ! "$ctsqs" verify --help >/dev/null 2>&1 && ! "$ctsqs" --help 2>&1 | grep -q '\bverify\b'; then
  ct_sum="$ctsqs has no verify command"
else
  cat >"$work/collector.json" <<EOF
{"inputs": {"sqs_collector": {"id": "verify-bench", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
  "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
 "ctsqs": {"heartbeat": {"enabled": false},
  "endpoints": {"sqs": "$gate", "s3": "$gate", "sts": "$gate", "s3_force_path_style": true}}}
EOF
  times=() cpus=()
  for ((i = 1; i <= runs; i++)); do
    echo "running ctsqs verify $ctsqs_args ($i/$runs) ..." >&2
    t=$(python3 -c 'import time; print(time.time())')
    set +e
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U %S" -o "$work/ctsqs.time" env -u AWS_PROFILE AWS_ENDPOINT_URL_CLOUDTRAIL="$gate" AWS_EC2_METADATA_DISABLED=true "$ctsqs" verify --config "$work/collector.json" \
      --bucket ct-bench --since "$start" --until "$end" --report "$work/ctsqs-report.jsonl" -q $ctsqs_args >"$work/ctsqs.out" 2>&1
    ct_rc=$?
    set -e
    times+=("$(wall "$t")")
    cpus+=("$(tail -1 "$work/ctsqs.time" | awk '{print $2 + $3}')")
  done
  ct_cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  ct_s=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  ct_all="${times[*]}"
  ct_sum=$(python3 -c '
import json,sys,collections; c=collections.Counter()
for l in open(sys.argv[1]):
    if l.strip(): v=json.loads(l); c[v["type"]+" "+v.get("status","")]+=1
print(", ".join("%d %s" % (n,k) for k,n in sorted(c.items())))' "$work/ctsqs-report.jsonl" 2>/dev/null || tail -3 "$work/ctsqs.out")
fi

printf '\n%-40s %10s %5s  %s\n' "tool ($nlogs log files, $hours digests, +${delay} ms/GetObject)" "wall s" "exit" "verdicts"
printf '%-40s %10s %5s  %s\n' "aws cloudtrail validate-logs" "${aws_s:--}" "${aws_rc:--}" "$aws_sum"
printf '%-40s %10s %5s  %s\n' "ctsqs verify (median of: ${ct_all:--})" "${ct_s:--}" "${ct_rc:--}" "$ct_sum"
events=$((nlogs * records))
rates() {  # rates NAME WALL CPU: events/s and MB/s per core (CPU second) and for the machine (wall second)
  [[ -n "$2" && -n "$3" ]] || return 0
  awk -v n="$1" -v w="$2" -v c="$3" -v e="$events" -v b="$bytes" 'BEGIN {
    if (c <= 0) c = 0.01
    printf "%-40s %7.2f %7.2f %11.0f %9.2f %12.0f %10.2f\n", n, w, c, e / c, b / 1e6 / c, e / w, b / 1e6 / w }'
}
printf '\n%-40s %7s %7s %11s %9s %12s %10s\n' "($events events, $(echo "$bytes/1000000" | bc -l | xargs printf '%.1f') MB gzip)" wall-s cpu-s ev/s/core MB/s/core ev/s/machine MB/s/mach
rates "aws cloudtrail validate-logs" "$aws_s" "$aws_cpu"
rates "ctsqs verify (medians of $runs runs)" "$ct_s" "$ct_cpu"
if [[ -n "$aws_s" && -n "$ct_s" ]]; then
  printf 'ratio: ctsqs verify is %.1fx faster than validate-logs\n' "$(echo "$aws_s / $ct_s" | bc -l)"
fi
