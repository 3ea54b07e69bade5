#!/usr/bin/env bash
# Bounded memory: decode ONE CloudTrail log file of 1 GiB uncompressed JSON (generated into a
# temporary directory by gen_big_log.py, gzip by default) with `ctsqs decode` and report its
# peak RSS from /usr/bin/time -v; fails when it reaches 64 MiB. With --guardduty: one GuardDuty
# export of that size (gen_guardduty.py --big), decoded with --service aws_sqs_guard_duty.
#
# usage: bench/rss_big_file.sh [CTSQS_BINARY] [--plain] [--guardduty] [--bytes N] [--stdin]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../build/release/cli/ctsqs}"
[[ $# -gt 0 ]] && shift
plain="" bytes=$((1 << 30)) stdin="" guardduty=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --guardduty) guardduty=1; shift ;;
    --plain) plain=--plain; shift ;;
    --bytes) bytes="$2"; shift 2 ;;
    --stdin) stdin=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "no ctsqs binary at $bin (build target ctsqs_cli)" >&2; exit 2; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
file="$dir/111122223333_CloudTrail_us-east-1_20261128T1000Z_big.json${plain:+}"
[[ -z "$plain" ]] && file="$file.gz"
service=aws_sqs_cloudtrail
if [[ -n "$guardduty" ]]; then
  file=$(python3 "$here/gen_guardduty.py" --out "$dir" --big "$bytes")
  service=aws_sqs_guard_duty
else
  python3 "$here/gen_big_log.py" "$file" --bytes "$bytes" $plain
fi
ls -l "$file"
if [[ -n "$stdin" ]]; then
  /usr/bin/time -v "$bin" decode -q --service "$service" - <"$file" >/dev/null 2>"$dir/err" || true
else
  /usr/bin/time -v "$bin" decode -q --service "$service" "$file" >/dev/null 2>"$dir/err" || true
fi
head -1 "$dir/err"
grep -E "Elapsed|User time|System time|Maximum resident|Exit status" "$dir/err"
rss_kb=$(awk '/Maximum resident/ {print $6}' "$dir/err")
limit_kb=$((64 * 1024))
if [[ "$rss_kb" -lt "$limit_kb" ]] && grep -q "Exit status: 0" "$dir/err"; then
  echo "PASS: peak RSS $((rss_kb / 1024)) MiB < 64 MiB"
else
  echo "FAIL: peak RSS ${rss_kb} KiB (limit $limit_kb KiB) or non-zero exit"
  exit 1
fi
