# Sourced by api-fuzz.sh and dashboard-test.sh: a throwaway three-node cluster on
# 127.0.0.${NET}1-3 (api :7001, peer :7101), data in a temporary directory, nodes stopped by
# PID on exit (the caller's EXIT trap runs stop_test_cluster).
# Elections time out after 1-2 s: a loaded CI machine must not churn leaders mid-run (a 503
# while there is no leader is correct, but would fail the fuzz run).
#   NET=4 start_test_cluster [extra JSON config, e.g. '"dataRoot": "/tmp/x"']
TC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TC_BIN="${TRIREME_BIN:-$TC_ROOT/.build/debug/trireme}"   # CI: the test build's debug binary
TC_PIDS=()
tc_api() { echo "127.0.0.${NET}$1:7001"; }

start_test_cluster() {
  [ -x "$TC_BIN" ] || { echo "missing $TC_BIN (run swift build, or set TRIREME_BIN)" >&2; return 2; }
  # Our addresses must be free: another run would mix its state into ours.
  python3 - "$NET" <<'PY' || { echo "127.0.0.${NET}1-3 ports 7001/7101 are in use: another run?" >&2; return 2; }
import socket, sys
for i in (1, 2, 3):
    for port in (7001, 7101):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((f"127.0.0.{sys.argv[1]}{i}", port)); s.close()
PY
  TC_RUN="$(mktemp -d "${TMPDIR:-/tmp}/trireme-testcluster.XXXXXX")"
  head -c 32 /dev/urandom | base64 > "$TC_RUN/secret"
  python3 - "$TC_RUN" "$NET" "${1:-}" <<'PY'
import json, sys
run, net, extra = sys.argv[1], sys.argv[2], sys.argv[3]
members = [{"id": i, "api": f"127.0.0.{net}{i}:7001", "peer": f"127.0.0.{net}{i}:7101"} for i in (1, 2, 3)]
for i in (1, 2, 3):
    config = {"nodeId": i, "dataDir": f"{run}/n{i}", "clusterSecretFile": f"{run}/secret", "members": members,
              "tickMs": 10, "heartbeatTicks": 5, "electionTicks": 100, "logLevel": "warning",
              **json.loads("{" + extra + "}")}
    json.dump(config, open(f"{run}/n{i}.json", "w"), indent=2)
PY
  local n
  for n in 1 2 3; do
    "$TC_BIN" serve --config "$TC_RUN/n$n.json" >> "$TC_RUN/n$n.log" 2>&1 &
    TC_PIDS+=($!)
  done
  for _ in $(seq 1 120); do
    local count=0
    for n in 1 2 3; do
      curl -s --max-time 1 "http://$(tc_api "$n")/readyz" 2>/dev/null | grep -q '"ready"' && count=$((count + 1))
    done
    [ "$count" -eq 3 ] && { echo "cluster ready on 127.0.0.${NET}1-3 (data in $TC_RUN)"; return 0; }
    sleep 0.5
  done
  echo "cluster not ready within 60 s; logs in $TC_RUN" >&2
  return 1
}

# Prints the id (1-3) of the leader as node 1 sees it.
tc_leader() {
  curl -s --max-time 2 "http://$(tc_api 1)/v1/cluster?consistency=stale" | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])'
}

stop_test_cluster() {
  local p
  for p in "${TC_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${TC_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait "${TC_PIDS[@]}" 2>/dev/null || true
  TC_PIDS=()
}
