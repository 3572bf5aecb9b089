#!/usr/bin/env bash
# Builds trireme (release) and starts a three-node cluster on 127.0.0.11-13, data under
# cluster/run/. Waits (at most 60 s) until every node knows the leader.
#   cluster/up.sh [--no-build]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
if [ "${1:-}" != "--no-build" ]; then
  swift build -c release --product trireme 2>&1 | grep -v 'CMakeLists.txt' | tail -n 3
fi
mkdir -p "$RUN"
[ -s "$RUN/secret" ] || { head -c 32 /dev/urandom | base64 > "$RUN/secret"; chmod 600 "$RUN/secret"; }
for n in "${NODES[@]}"; do
  if alive "$n"; then echo "n$n already running (pid $(cat "$RUN/n$n.pid"))"; continue; fi
  nohup "$BIN" serve --config "cluster/nodes/n$n.json" >> "$RUN/n$n.log" 2>&1 &
  echo $! > "$RUN/n$n.pid"
  echo "started n$n (pid $!) api $(api_of "$n"), log cluster/run/n$n.log"
done
for _ in $(seq 1 120); do
  count=0
  for n in "${NODES[@]}"; do [ -n "$(ready "$(api_of "$n")")" ] && count=$((count + 1)); done
  if [ "$count" -eq "${#NODES[@]}" ]; then
    echo "cluster ready"
    "$BIN" cluster status --server "$(api_of 1),$(api_of 2),$(api_of 3)"
    exit 0
  fi
  sleep 0.5
done
echo "cluster did not become ready within 60 s; see cluster/run/n*.log" >&2
exit 1
