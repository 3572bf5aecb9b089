# Shared by the cluster scripts. Run from anywhere; paths are relative to the repository root.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/cluster/run"
NODES=(1 2 3)
BIN="${TRIREME_BIN:-$ROOT/.build/release/trireme}"
api_of() { echo "127.0.0.1$1:7001"; }

# Prints "ready" when the node at $1 reports a known leader and has caught up.
ready() { curl -s --max-time 1 "http://$1/readyz" 2>/dev/null | grep -q '"ready"' && echo ready; }

alive() { [ -f "$RUN/n$1.pid" ] && kill -0 "$(cat "$RUN/n$1.pid")" 2>/dev/null; }
