"""Shared pieces of the cluster benchmarks (python stdlib only): a local three-node cluster,
JSON requests, and a fast HTTP sink that records when each task's request arrives.
Every process started here is stopped by its PID (never by name)."""
import asyncio, json, os, socket, subprocess, tempfile, threading, time, urllib.request


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def req(method, url, body=None, timeout=30):
    r = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=timeout) as resp:
        return json.loads(resp.read() or b"{}")


class Cluster:
    """Three `trireme serve` processes on loopback with fresh data directories."""

    def __init__(self, binary, slots, tick_ms=10, extra=None):
        self.root = tempfile.mkdtemp(prefix="trireme-bench-")
        ports = [free_port() for _ in range(6)]
        self.members = [{"id": i + 1, "api": f"127.0.0.1:{ports[2*i]}", "peer": f"127.0.0.1:{ports[2*i+1]}"} for i in range(3)]
        self.apis = [f"http://{m['api']}" for m in self.members]
        self.procs = []
        for m in self.members:
            cfg = {"nodeId": m["id"], "dataDir": f"{self.root}/n{m['id']}", "clusterSecret": "bench-secret-0123456789abcdef",
                   "members": self.members, "tickMs": tick_ms, "heartbeatTicks": 5, "electionTicks": 30,
                   "logLevel": "warning", "executorSlots": slots, "testTaskKinds": True}
            cfg.update(extra or {})
            path = f"{self.root}/n{m['id']}.json"
            with open(path, "w") as f: json.dump(cfg, f)
            self.procs.append(subprocess.Popen([binary, "serve", "--config", path], stdout=subprocess.DEVNULL,
                                               stderr=open(f"{self.root}/n{m['id']}.log", "w")))
        self.wait_ready(slots)

    def wait_ready(self, slots):
        """Until a leader serves writes and every executor is registered with its slots."""
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = req("GET", self.apis[0] + "/v1/cluster")
                execs = c.get("executors") or []
                if len(execs) == 3 and all(e.get("slots") == slots for e in execs):
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"cluster not ready; logs in {self.root}")

    def cpu_seconds(self):
        """User+system CPU seconds of the three nodes so far (from /proc)."""
        total = 0.0; tick = os.sysconf("SC_CLK_TCK")
        for p in self.procs:
            try:
                fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return total

    def stop(self):
        for p in self.procs:
            p.kill(); p.wait()


def queue_counts(api, queue):
    """The queue's task counts on `api` as that node has applied them (a stale read: no
    ReadIndex round per poll); {} when the node does not answer in time."""
    try:
        return req("GET", f"{api}/v1/queues/{queue}?consistency=stale", timeout=5).get("stats") or {}
    except OSError:
        return {}


class Sink:
    """asyncio HTTP/1 sink on its own thread: answers 200 and records the arrival time of each
    request by its X-Trireme-Task-ID header. Cheaper per request than http.server."""

    def __init__(self):
        self.port = free_port(); self.arrivals = {}; self.count = 0
        self.loop = asyncio.new_event_loop(); ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start(); ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=1024))
        ready.set(); self.loop.run_forever()

    async def _serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                now = time.time(); task = None; length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"x-trireme-task-id": task = value.strip().decode()
                    elif name == b"content-length": length = int(value.strip() or 0)
                if length: await reader.readexactly(length)
                if task is not None and task not in self.arrivals: self.arrivals[task] = now
                self.count += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain(); break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


def percentile(sorted_values, q):
    if not sorted_values: return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


class Client:
    """One keep-alive connection per node, for one thread."""

    def __init__(self, apis):
        import http.client
        self.conns = [http.client.HTTPConnection(a.removeprefix("http://"), timeout=30) for a in apis]
        self.retries = 0

    def post(self, node, path, body):
        """POST with an Idempotency-Key, retried (same key: created at most once) on a lost
        connection or a 503/504 (e.g. a follower's forward to the leader timed out)."""
        import uuid
        conn = self.conns[node % len(self.conns)]
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(6):
            try:
                conn.request("POST", path, body=data, headers=headers)
                resp = conn.getresponse(); payload = resp.read()
                if resp.status in (503, 504) and attempt < 5:
                    self.retries += 1; time.sleep(0.05 * (attempt + 1)); continue
                if resp.status >= 300: raise RuntimeError(f"POST {path}: {resp.status} {payload[:200]!r}")
                return json.loads(payload)
            except (ConnectionError, OSError) as e:
                conn.close(); self.retries += 1
                if attempt == 5: raise e


def rfc3339(t):
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z", ms / 1000


def create_tasks(apis, queue, bodies, threads=24):
    """POSTs every body to the queue (round robin over nodes) from `threads` threads; returns
    (ids in order of `bodies`, created-at times, seconds taken)."""
    ids = [None] * len(bodies); at = [0.0] * len(bodies)
    def work(k):
        c = Client(apis)
        for i in range(k, len(bodies), threads):
            ids[i] = c.post(i, f"/v1/queues/{queue}/tasks", bodies[i])["id"]; at[i] = time.time()
    t0 = time.time(); ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]; [t.join() for t in ts]
    return ids, at, time.time() - t0
