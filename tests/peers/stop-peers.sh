#!/usr/bin/env bash
# Stop the peers started by start-peers.sh, using ONLY the PIDs it recorded.
set -uo pipefail
# The run folder defaults to the kit's own .run (override with PEERS_RUN_DIR, as for start-peers.sh).
: "${PEERS_HOME:=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
: "${PEERS_RUN_DIR:=$PEERS_HOME/.run}"
PIDFILE="$PEERS_RUN_DIR/peers.pids"
[ -f "$PIDFILE" ] || { echo "stop-peers: no $PIDFILE, nothing to stop"; exit 0; }
pids=()
while read -r name pid port; do
  [ -n "${pid:-}" ] || continue
  # only signal it if that PID is still a node process (guards against PID reuse)
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q node; then
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid") && echo "stop-peers: TERM $name pid=$pid (port $port)"
  fi
done <"$PIDFILE"
for _ in $(seq 50); do
  alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break; sleep 0.1
done
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { echo "stop-peers: KILL pid=$p"; kill -KILL "$p" 2>/dev/null; }; done
rm -f "$PIDFILE"
exit 0
