#!/usr/bin/env bash
# One chaos run: starts its own three-node cluster (release build, own configs and data in
# cluster/chaos/run/<time>/, nodes on 127.0.0.31-33, peer links through proxy.py), runs the
# trireme-chaos workload, injects faults with nemesis.sh for --duration s, heals, waits for the
# workload's final reads and checks, prints the summary table, and exits non-zero on any
# violation. Everything it started is stopped on exit, by PID.
#   cluster/chaos/run.sh [--duration 120] [--faults kill,pause,partition] [--every 8] [--hold 3]
#                        [--clients 6] [--jobs 2] [--no-build]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=120; FAULTS=kill,pause,partition; EVERY=8; HOLD=3; CLIENTS=6; JOBS=2; BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --faults) FAULTS="$2"; shift 2 ;;
    --every) EVERY="$2"; shift 2 ;;
    --hold) HOLD="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
SCRATCH="${CHAOS_SCRATCH:-$ROOT/.build-chaosrel}"
cd "$ROOT"
if [ "$BUILD" = 1 ]; then
  for product in trireme trireme-chaos; do
    swift build -c release --scratch-path "$SCRATCH" --product "$product" 2>&1 | grep -v CMakeLists | tail -n 1
  done
fi
BIN_DIR="${CHAOS_BIN_DIR:-$SCRATCH/release}"   # CHAOS_BIN_DIR: use other binaries (e.g. a debug build)
BIN="$BIN_DIR/trireme"
CHAOS="$BIN_DIR/trireme-chaos"
[ -x "$BIN" ] && [ -x "$CHAOS" ] || { echo "missing $BIN or $CHAOS (build them, or drop --no-build)" >&2; exit 2; }

# Our addresses must be free: another chaos run (or anything else) would mix its state into ours.
python3 - <<'PY' || { echo "127.0.0.31-33 ports 7301/7401/7501-7503 are in use: another chaos run?" >&2; exit 2; }
import socket
for i in (1, 2, 3):
    for port in (7301, 7401, 7501, 7502, 7503):
        # SO_REUSEADDR as the nodes and the proxy use it: TIME_WAIT leftovers are fine, listeners are not.
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((f"127.0.0.3{i}", port)); s.close()
PY
SINK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

RUN="$CHAOS_DIR/run/$(date +%Y%m%d-%H%M%S)"
NODES="1 2 3"
mkdir -p "$RUN"
printf 'BIN=%q\nNODES=%q\n' "$BIN" "$NODES" > "$RUN/env"
head -c 32 /dev/urandom | base64 > "$RUN/secret"; chmod 600 "$RUN/secret"
: > "$RUN/blocked"; : > "$RUN/faults.jsonl"
# Node i reaches peer j through the proxy listener 127.0.0.3i:750j; it listens on 127.0.0.3i:7401.
python3 - "$RUN" "$ROOT" <<'PY'
import json, sys
run, root = sys.argv[1], sys.argv[2]
for i in (1, 2, 3):
    members = [{"id": j, "api": f"127.0.0.3{j}:7301",
                "peer": f"127.0.0.3{i}:7401" if i == j else f"127.0.0.3{i}:750{j}"} for j in (1, 2, 3)]
    config = {"nodeId": i, "dataDir": f"{run}/n{i}", "clusterSecretFile": f"{run}/secret", "members": members,
              "tickMs": 10, "heartbeatTicks": 5, "electionTicks": 15, "logLevel": "info", "dataRoot": root,
              "leaseDurationMs": 4000, "executorHeartbeatMs": 1000, "executorLivenessMs": 5000,
              "testFaultHooks": True}
    json.dump(config, open(f"{run}/n{i}.json", "w"), indent=2)
PY

PIDS=()
cleanup() {
  local rc=$? n p
  trap - EXIT
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for n in $NODES; do
    p=$(pid_of "$n") || continue
    [ -n "$p" ] || continue
    kill -CONT "$p" 2>/dev/null || true
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "artifacts: $RUN"
  exit "$rc"
}
trap cleanup EXIT INT TERM

python3 "$CHAOS_DIR/proxy.py" "$RUN" "$NODES" > "$RUN/proxy.log" 2>&1 &
PIDS+=($!)
for n in $NODES; do start_node "$n"; done
wait_ready 60 || { echo "cluster not ready within 60 s; see $RUN/n*.log" >&2; exit 1; }
echo "cluster ready (run dir $RUN)"

SERVERS="$(api_of 1),$(api_of 2),$(api_of 3)"
"$CHAOS" run --servers "$SERVERS" --duration "$DURATION" --clients "$CLIENTS" --jobs "$JOBS" \
  --sink-port "$SINK_PORT" --run-dir "$RUN" --ready-file "$RUN/ready" --healed-file "$RUN/healed" \
  --faults-log "$RUN/faults.jsonl" --data-root "$ROOT" --reference "$ROOT/cluster/sample/expected-wordcount.txt" \
  > >(tee "$RUN/checker.log") 2>&1 &
WORKLOAD=$!
PIDS+=($WORKLOAD)
for _ in $(seq 1 900); do [ -f "$RUN/ready" ] && break; kill -0 "$WORKLOAD" 2>/dev/null || break; sleep 0.2; done
[ -f "$RUN/ready" ] || { echo "workload setup failed; see $RUN/checker.log" >&2; exit 1; }

"$CHAOS_DIR/nemesis.sh" --run "$RUN" --faults "$FAULTS" --duration "$DURATION" --every "$EVERY" --hold "$HOLD" \
  > "$RUN/nemesis.log" 2>&1 &
NEMESIS=$!
PIDS+=($NEMESIS)
wait "$NEMESIS" || true
echo "faults done: $(grep -c '"start"' "$RUN/faults.jsonl" || true) injected; healing"
heal_all
wait_ready 60 || echo "warning: not every node ready 60 s after healing" >&2
touch "$RUN/healed"
set +e
wait "$WORKLOAD"
rc=$?
set -e
exit "$rc"
