#!/usr/bin/env python3
"""End-to-end task figures for a local 3-node cluster (wiring engineer, issue 5).
usage: python3 bench/cluster/task_bench.py .build/release/trireme [tasks=2000] [latency_tasks=300] [latency_rate=50]
Throughput: N no-op http tasks created by 16 client threads over 3 nodes; time from first create
to all succeeded. Latency: tasks created at a modest rate, sink receipt minus the task's createTime
(= its scheduleTime: due at once)."""
import json, os, socket, subprocess, sys, tempfile, threading, time, urllib.request
from datetime import datetime
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

binary = sys.argv[1]; N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
LN = int(sys.argv[3]) if len(sys.argv) > 3 else 300; RATE = float(sys.argv[4]) if len(sys.argv) > 4 else 50
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
receipts = {}; lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0); self.rfile.read(n)
        with lock: receipts.setdefault(self.headers.get("X-Trireme-Task-ID"), []).append(time.time())
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer.daemon_threads = True
sink_port = free(); sink = ThreadingHTTPServer(("127.0.0.1", sink_port), H)
threading.Thread(target=sink.serve_forever, daemon=True).start()
root = tempfile.mkdtemp(prefix="trireme-bench-"); ports = [free() for _ in range(6)]
members = [{"id": i + 1, "api": f"127.0.0.1:{ports[2*i]}", "peer": f"127.0.0.1:{ports[2*i+1]}"} for i in range(3)]
procs = []
for m in members:
    cfg = {"nodeId": m["id"], "dataDir": f"{root}/n{m['id']}", "clusterSecret": "bench-secret-0123456789abcdef",
           "members": members, "tickMs": 10, "heartbeatTicks": 5, "electionTicks": 30, "logLevel": "warning", "executorSlots": int(os.environ.get("SLOTS", "4"))}
    path = f"{root}/n{m['id']}.json"; json.dump(cfg, open(path, "w"))
    procs.append(subprocess.Popen([binary, "serve", "--config", path], stdout=subprocess.DEVNULL, stderr=open(f"{root}/n{m['id']}.log", "w")))
def req(method, url, body=None):
    r = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=15) as resp: return json.loads(resp.read() or b"{}")
apis = [f"http://{m['api']}" for m in members]
try:
    for _ in range(300):
        try:
            if req("GET", apis[0] + "/readyz").get("status") == "ready": break
        except Exception: time.sleep(0.1)
    req("POST", apis[0] + "/v1/queues", {"name": "bench", "rateLimits": {"maxDispatchesPerSecond": 100000, "maxBurstSize": 10000}})
    req("POST", apis[0] + "/v1/queues", {"name": "lat"})
    ids = []; idl = threading.Lock()
    def creator(k):
        for i in range(k, N, 16):
            t = req("POST", apis[i % 3] + "/v1/queues/bench/tasks", {"kind": "http", "payload": {"url": f"http://127.0.0.1:{sink_port}/x"}})
            with idl: ids.append(t["id"])
    t0 = time.time(); ts = [threading.Thread(target=creator, args=(k,)) for k in range(16)]
    [t.start() for t in ts]; [t.join() for t in ts]; created = time.time()
    while True:
        done = 0; token = None
        while True:
            page = req("GET", apis[0] + "/v1/queues/bench/tasks?state=succeeded&pageSize=1000" + (f"&pageToken={token}" if token else ""))
            done += len(page["tasks"]); token = page.get("nextPageToken")
            if not token: break
        if done >= N or time.time() - t0 > 300: break
        time.sleep(0.05)
    t1 = time.time()
    dup = sum(1 for i in ids if len(receipts.get(i, [])) > 1)
    print(f"throughput: {N} tasks, create {N/(created-t0):.0f}/s, create→all succeeded {N/(t1-t0):.0f} tasks/s ({t1-t0:.2f} s), succeeded {done}, duplicates {dup}")
    lat = []
    for i in range(LN):
        t = req("POST", apis[i % 3] + "/v1/queues/lat/tasks", {"kind": "http", "payload": {"url": f"http://127.0.0.1:{sink_port}/y"}})
        lat.append((t["id"], datetime.fromisoformat(t["createTime"].replace("Z", "+00:00")).timestamp()))
        time.sleep(1 / RATE)
    time.sleep(2)
    d = sorted((receipts[i][0] - c) * 1000 for i, c in lat if i in receipts)
    if d: print(f"dispatch latency (createTime=scheduleTime → sink receipt), {len(d)} tasks at ~{RATE:.0f}/s: p50 {d[len(d)//2]:.1f} ms, p99 {d[min(len(d)-1, int(len(d)*0.99))]:.1f} ms, max {d[-1]:.1f} ms")
finally:
    for p in procs:
        p.kill()
        p.wait()
    sink.shutdown()
