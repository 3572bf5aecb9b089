# Shared by the cluster scripts. Run from anywhere; paths are relative to the repository root.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/cluster/run"
NODES=(1 2 3)
BIN="${TRIREME_BIN:-$ROOT/.build/release/trireme}"
api_of() { echo "127.0.0.1$1:7001"; }

# A cluster started with `up.sh --tls` speaks HTTPS; the CLI trusts its CA through TRIREME_CACERT.
if [ -f "$RUN/tls" ] && [ -z "${TRIREME_CACERT:-}" ]; then export TRIREME_CACERT="$RUN/certs/ca.pem"; fi

# Prints "ready" when the node at $1 reports a known leader and has caught up.
ready() {
  if [ -n "${TRIREME_CACERT:-}" ]; then
    curl -s --max-time 1 --cacert "$TRIREME_CACERT" "https://$1/readyz" 2>/dev/null | grep -q '"ready"' && echo ready
  else
    curl -s --max-time 1 "http://$1/readyz" 2>/dev/null | grep -q '"ready"' && echo ready
  fi
}

alive() { [ -f "$RUN/n$1.pid" ] && kill -0 "$(cat "$RUN/n$1.pid")" 2>/dev/null; }
