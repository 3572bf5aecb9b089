#!/usr/bin/env bash
# Stops the nodes started by up.sh, by their recorded PIDs: SIGTERM, then SIGKILL after 10 s.
#   cluster/down.sh [--wipe]   (--wipe also deletes cluster/run/)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
for n in "${NODES[@]}"; do
  pidfile="$RUN/n$n.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped n$n (pid $pid)"
  fi
  rm -f "$pidfile"
done
[ "${1:-}" = "--wipe" ] && rm -rf "$RUN" && echo "wiped cluster/run"
exit 0
