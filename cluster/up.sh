#!/usr/bin/env bash
# Builds trireme (release) and starts a three-node cluster on 127.0.0.11-13, data under
# cluster/run/. Waits (at most 60 s) until every node knows the leader.
#   cluster/up.sh [--no-build] [--tls]
# --tls: HTTPS API and mutual TLS between peers, with development certificates made by
# cluster/certs.sh under cluster/run/certs (the other scripts and the CLI then use
# TRIREME_CACERT=cluster/run/certs/ca.pem; lib.sh sets it while cluster/run/tls exists).
set -euo pipefail
BUILD=1
WANT_TLS=0
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --tls) WANT_TLS=1 ;;
    *) echo "usage: $0 [--no-build] [--tls]" >&2; exit 2 ;;
  esac
done
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
if [ "$BUILD" = 1 ]; then
  swift build -c release --product trireme 2>&1 | grep -v 'CMakeLists.txt' | tail -n 3
fi
mkdir -p "$RUN"
[ -s "$RUN/secret" ] || { head -c 32 /dev/urandom | base64 > "$RUN/secret"; chmod 600 "$RUN/secret"; }
TLS_ARGS=()
if [ "$WANT_TLS" = 1 ]; then
  export TRIREME_CERTS_DIR="$RUN/certs"
  "$ROOT/cluster/certs.sh" init >/dev/null
  for n in "${NODES[@]}"; do
    [ -s "$RUN/certs/n$n.pem" ] || "$ROOT/cluster/certs.sh" issue "$n" "IP:$(api_of "$n" | cut -d: -f1)" >/dev/null
  done
  touch "$RUN/tls"
  export TRIREME_CACERT="$RUN/certs/ca.pem"
else
  rm -f "$RUN/tls"
  unset TRIREME_CACERT
fi
for n in "${NODES[@]}"; do
  if alive "$n"; then echo "n$n already running (pid $(cat "$RUN/n$n.pid"))"; continue; fi
  [ "$WANT_TLS" = 1 ] && TLS_ARGS=(--tls-cert "$RUN/certs/n$n.pem" --tls-key "$RUN/certs/n$n-key.pem" --tls-ca "$RUN/certs/ca.pem")
  nohup "$BIN" serve --config "cluster/nodes/n$n.json" "${TLS_ARGS[@]}" >> "$RUN/n$n.log" 2>&1 &
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
