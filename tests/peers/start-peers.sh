#!/usr/bin/env bash
# Start the AWS test peers on loopback (the project's pinned copy of the shared peers kit), wait until each answers, record PIDs.
#   usage: ./start-peers.sh            (starts $PEERS, default: fauxqs s3rver sqslite gate; add dynalite for DynamoDB)
#          PEERS="fauxqs gate" ./start-peers.sh
# env (all optional):
#   FAUXQS_PORT=4566  S3RVER_PORT=4568  SQSLITE_PORT=4576  GATE_PORT=4600  DYNALITE_PORT=4569
#   PEERS_RUN_DIR=<kit>/.run   (peers.pids, peers.env, *.log)   PEERS_START_TIMEOUT=30 (s per server)
#   plus the per-server variables documented in bin/*.{mjs,cjs} (GATE_CREDENTIALS, GATE_FAULTS, ...)
# Writes $PEERS_RUN_DIR/peers.env (endpoints + test credentials) for test harnesses to source.
set -euo pipefail
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# In the project the kit runs in place (tests/peers is writable; scripts/deps runs npm ci).
: "${PEERS_HOME:=$SRC_DIR}"
KIT_DIR=$PEERS_HOME
: "${PEERS_RUN_DIR:=$KIT_DIR/.run}"
: "${FAUXQS_PORT:=4566}" "${S3RVER_PORT:=4568}" "${SQSLITE_PORT:=4576}" "${GATE_PORT:=4600}" "${DYNALITE_PORT:=4569}"
: "${PEERS:=fauxqs s3rver sqslite gate}"
: "${PEERS_START_TIMEOUT:=30}"
export FAUXQS_PORT S3RVER_PORT SQSLITE_PORT GATE_PORT DYNALITE_PORT
PIDFILE="$PEERS_RUN_DIR/peers.pids"
mkdir -p "$PEERS_RUN_DIR"

if [ ! -d "$KIT_DIR/node_modules/fauxqs" ]; then
  echo "start-peers: node_modules missing, running npm ci" >&2
  (cd "$KIT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

healthy() { # name port
  case "$1" in
    fauxqs)  curl -fsS -m 2 "http://127.0.0.1:$2/health" >/dev/null 2>&1 ;;
    s3rver)  curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$2/" 2>/dev/null ;;
    sqslite) curl -fsS -m 2 -o /dev/null -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
               --data "Action=ListQueues" "http://127.0.0.1:$2/" 2>/dev/null ;;
    gate)    curl -fsS -m 2 "http://127.0.0.1:$2/__gate/health" >/dev/null 2>&1 ;;
    dynalite) curl -sS -m 2 -o /dev/null "http://127.0.0.1:$2/" 2>/dev/null ;;   # any answer (unsigned: 400)
  esac
}

start_one() { # name port cmd...
  local name=$1 port=$2; shift 2
  if port_busy "$port"; then
    echo "start-peers: port $port (for $name) is already in use" >&2; return 1
  fi
  local t0=$(date +%s%N)
  (cd "$KIT_DIR" && exec "$@") >"$PEERS_RUN_DIR/$name.log" 2>&1 &
  local pid=$!
  echo "$name $pid $port" >>"$PIDFILE"
  local deadline=$(( $(date +%s) + PEERS_START_TIMEOUT ))
  until healthy "$name" "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "start-peers: $name (pid $pid) exited; log:" >&2; tail -20 "$PEERS_RUN_DIR/$name.log" >&2; return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "start-peers: $name not healthy after ${PEERS_START_TIMEOUT}s; log:" >&2; tail -20 "$PEERS_RUN_DIR/$name.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "start-peers: $name pid=$pid http://127.0.0.1:$port ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

for p in $PEERS; do
  case "$p" in
    fauxqs)  start_one fauxqs  "$FAUXQS_PORT"  env FAUXQS_PORT="$FAUXQS_PORT" node bin/fauxqs-loopback.mjs ;;
    s3rver)  start_one s3rver  "$S3RVER_PORT"  env S3RVER_PORT="$S3RVER_PORT" S3RVER_DIR="${S3RVER_DIR:-$PEERS_RUN_DIR/s3rver-data}" node bin/s3rver-notify.cjs ;;
    sqslite) start_one sqslite "$SQSLITE_PORT" node node_modules/sqslite/bin/cli.js --host 127.0.0.1 --port "$SQSLITE_PORT" ;;
    gate)    start_one gate    "$GATE_PORT"    env GATE_PORT="$GATE_PORT" node bin/sigv4-gate.mjs ;;
    dynalite) start_one dynalite "$DYNALITE_PORT" node node_modules/dynalite/cli.js --host 127.0.0.1 --port "$DYNALITE_PORT" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 ;;
    *) echo "start-peers: unknown peer '$p'" >&2; exit 2 ;;
  esac || { "$KIT_DIR/stop-peers.sh" || true; exit 1; }
done

cat >"$PEERS_RUN_DIR/peers.env" <<ENV
# written by start-peers.sh
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export FAUXQS_ENDPOINT=http://127.0.0.1:$FAUXQS_PORT     # SQS (JSON 1.0) + SNS + S3 (in-memory) + STS GetCallerIdentity, no auth
export S3_ENDPOINT=http://127.0.0.1:$S3RVER_PORT         # s3rver + notifications -> fauxqs, key-id check only
export SQSLITE_ENDPOINT=http://127.0.0.1:$SQSLITE_PORT   # SQS query protocol (limited), queue URLs must use localhost:$SQSLITE_PORT
export GATE_ENDPOINT=http://127.0.0.1:$GATE_PORT         # SigV4-verifying front for all of the above + STS AssumeRole + faults
export DYNALITE_ENDPOINT=http://127.0.0.1:$DYNALITE_PORT # DynamoDB (when started), no auth; through the gate: GATE_ENDPOINT
ENV
echo "start-peers: endpoints in $PEERS_RUN_DIR/peers.env, pids in $PIDFILE"
