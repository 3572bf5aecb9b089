#!/usr/bin/env bash
# The demo: build (release) and start a local three-node cluster; send HTTP tasks through a
# follower, which executors on every node deliver; read back from every node; kill -9 the
# leader and show that a new leader took over with every acknowledged write intact; then run a
# WordCount job over cluster/sample/corpus.txt on all three nodes and print the top words.
# Leaves the cluster running; stop it with cluster/down.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# A tiny HTTP endpoint for the demo's tasks to call (loopback only; stopped when the demo ends).
python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0)); self.send_response(200); self.end_headers()
    do_GET = do_POST
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 9009), H).serve_forever()' &
SINK=$!
trap 'kill "$SINK" 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null -X POST http://127.0.0.1:9009/ready && break; sleep 0.1; done
"$ROOT/cluster/down.sh" --wipe >/dev/null
"$ROOT/cluster/up.sh" "$@"
source "$(dirname "$0")/lib.sh"   # again: after `up.sh --tls` it sets TRIREME_CACERT
RESTART=(--no-build)
[ -f "$RUN/tls" ] && RESTART+=(--tls)
ALL="$(api_of 1),$(api_of 2),$(api_of 3)"
leader() { "$BIN" cluster status --json --server "$ALL" | python3 -c 'import json,sys; print(next((s["nodeId"] for s in json.load(sys.stdin) if s["role"]=="leader"), ""))'; }
L=$(leader)
F=$(( L % 3 + 1 ))

echo; echo "== leader is n$L; writing through follower n$F"
"$BIN" queue create demo --server "$(api_of "$F")" --max-dispatches-per-second 20 --max-attempts 5
for i in 1 2 3 4 5; do
  "$BIN" task create demo --kind http --name "welcome-$i" --payload "{\"url\":\"http://127.0.0.1:9009/hook/$i\"}" --server "$(api_of "$F")" >/dev/null
done
echo "created 5 tasks; a repeated name is refused:"
"$BIN" task create demo --kind http --name welcome-1 --server "$(api_of "$F")" 2>&1 | sed 's/^/  /' || true
sleep 1   # the leader dispatches them; executors on the nodes deliver to the endpoint
for n in "${NODES[@]}"; do echo; echo "== n$n reads (linearizable):"; "$BIN" task list demo --server "$(api_of "$n")"; done
echo; echo "== kill -9 the leader n$L (pid $(cat "$RUN/n$L.pid"))"
kill -KILL "$(cat "$RUN/n$L.pid")"; rm -f "$RUN/n$L.pid"
start=$(date +%s%N)
for _ in $(seq 1 100); do
  NL=$("$BIN" cluster status --json --server "$(api_of "$F")" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0].get("leader") or "")' 2>/dev/null || true)
  [ -n "$NL" ] && [ "$NL" != "$L" ] && break
  sleep 0.05
done
echo "new leader n$NL after $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$BIN" task list demo --server "$(api_of "$F")"
echo; echo "== restart n$L; it catches up from its own disk and the leader"
"$ROOT/cluster/up.sh" "${RESTART[@]}" | sed -n "/^ADDRESS/,/^\$/p"
echo; echo "== a WordCount job over cluster/sample/corpus.txt, on all three nodes"
"$ROOT/cluster/wordcount.sh"
echo; echo "The cluster is still running: try 'trireme --help' ($BIN), cluster/status.sh; stop it with cluster/down.sh"
