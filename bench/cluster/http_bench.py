#!/usr/bin/env python3
"""Trireme vs etcd, side by side in one run, on loopback (issue 4's benchmark).

  python3 bench/cluster/http_bench.py [--seconds 10] [--rounds 3] [--failover-trials 20]

Starts a three-node Trireme cluster (release build) and a three-node etcd cluster (Debian's
etcd-server), then for 1, 16 and 64 concurrent clients runs wrk against each leader: Trireme
creates a task (~200-byte payload) per request in a paused queue (creates only; nothing is
dispatched meanwhile), etcd puts a 200-byte value through its JSON
gateway. Both clusters run side by side and take turns, `--rounds` times per client count;
each figure is the median round, and the table lists every round's rate and the median round's
CPU per write of the whole cluster (user + system time of its three processes from /proc,
divided by the requests wrk made). Then it measures the failover gap (kill -9 the leader under light write load: time to
the next successful write) and each node's resident memory. Prints one table. Every process it
starts is stopped by PID when it ends, also on failure.
"""
import argparse, base64, json, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request, urllib.error

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRIREME = os.environ.get("TRIREME_BIN", os.path.join(ROOT, ".build", "release", "trireme"))
PAYLOAD = "x" * 170  # with the JSON around it, ~200 bytes per task

def http(method, url, body=None, timeout=2.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return None, b""

def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")

class Cluster:
    """Three processes; subclasses say how to start one and who leads."""
    def __init__(self, tmp, name):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.procs = {}
    def stop_all(self):
        for n, p in list(self.procs.items()):
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        self.procs.clear()
    def kill9(self, n):
        p = self.procs.pop(n, None)
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
    def pids(self):
        return {n: p.pid for n, p in self.procs.items() if p.poll() is None}

class Trireme(Cluster):
    name = "trireme"
    def __init__(self, tmp):
        super().__init__(tmp, "trireme")
        self.members = [{"id": i, "api": f"127.0.0.3{i}:7001", "peer": f"127.0.0.3{i}:7101"} for i in (1, 2, 3)]
    def api(self, n): return self.members[n - 1]["api"]
    def start(self, n):
        cfg = {"nodeId": n, "dataDir": os.path.join(self.dir, f"n{n}"), "members": self.members,
               "clusterSecret": "bench-secret-0123456789abcdef", "logLevel": "warning"}
        path = os.path.join(self.dir, f"n{n}.json")
        with open(path, "w") as f: json.dump(cfg, f)
        log = open(os.path.join(self.dir, f"n{n}.log"), "a")
        self.procs[n] = subprocess.Popen([TRIREME, "serve", "--config", path], stdout=log, stderr=log)
    def leader(self, among=(1, 2, 3)):
        for n in among:
            s, b = http("GET", f"http://{self.api(n)}/v1/cluster?consistency=stale", timeout=0.5)
            if s == 200:
                st = json.loads(b)
                if st.get("role") == "leader": return n
        return None
    def setup(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            l = self.leader()
            # Paused: the figure is the create path alone, as etcd's is a put alone. Running, the
            # queue would also dispatch each task to its (unreachable) URL and retry it up to 100
            # times meanwhile; dispatch throughput is issue 5's benchmark (celery_bench.py).
            if l and http("POST", f"http://{self.api(l)}/v1/queues", {"name": "bench"})[0] in (201, 409) \
                    and http("POST", f"http://{self.api(l)}/v1/queues/bench:pause", {})[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("trireme cluster not ready")
    def write_url(self, n): return f"http://{self.api(n)}/v1/queues/bench/tasks"
    def write_body(self, i=0): return {"kind": "http", "payload": {"url": "http://127.0.0.1:9/", "body": PAYLOAD}}
    def ok(self, status): return status == 201
    def wrk_path_body(self): return "/v1/queues/bench/tasks", json.dumps(self.write_body())

class Etcd(Cluster):
    name = "etcd"
    def __init__(self, tmp):
        super().__init__(tmp, "etcd")
        self.initial = ",".join(f"e{i}=http://127.0.0.4{i}:2380" for i in (1, 2, 3))
    def api(self, n): return f"127.0.0.4{n}:2379"
    def start(self, n):
        log = open(os.path.join(self.dir, f"e{n}.log"), "a")
        self.procs[n] = subprocess.Popen([
            "etcd", "--name", f"e{n}", "--data-dir", os.path.join(self.dir, f"e{n}"),
            "--listen-client-urls", f"http://127.0.0.4{n}:2379", "--advertise-client-urls", f"http://127.0.0.4{n}:2379",
            "--listen-peer-urls", f"http://127.0.0.4{n}:2380", "--initial-advertise-peer-urls", f"http://127.0.0.4{n}:2380",
            "--initial-cluster", self.initial, "--initial-cluster-state", "new", "--initial-cluster-token", "bench",
            "--log-level", "error"], stdout=log, stderr=log)
    def leader(self, among=(1, 2, 3)):
        for n in among:
            s, b = http("POST", f"http://{self.api(n)}/v3/maintenance/status", {}, timeout=0.5)
            if s == 200:
                st = json.loads(b)
                if st.get("leader") and st.get("leader") == st.get("header", {}).get("member_id"): return n
        return None
    def setup(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.leader(): return
            time.sleep(0.1)
        raise RuntimeError("etcd cluster not ready")
    def write_url(self, n): return f"http://{self.api(n)}/v3/kv/put"
    def write_body(self, i=0):
        return {"key": base64.b64encode(f"bench-{i}".encode()).decode(), "value": base64.b64encode(PAYLOAD.encode() + b"x" * 30).decode()}
    def ok(self, status): return status == 200
    def wrk_path_body(self): return "/v3/kv/put", json.dumps(self.write_body())

def run_wrk(host, path, body, clients, seconds):
    env = dict(os.environ, WRK_PATH=path, WRK_BODY=body)
    threads = min(2, clients)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--latency", "-s",
                          os.path.join(ROOT, "bench", "cluster", "post.lua"), f"http://{host}"],
                         env=env, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def ms(label):
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m: return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": int(bad.group(1)) if bad else 0,
            "requests": int(total.group(1)) if total else 0,
            "socket_errors": errors.group(0) if errors else ""}

def cpu_us(pids):
    """CPU time (user + system) the processes have used, in µs, from /proc/<pid>/stat."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) * 1e6 / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total

def failover(cluster, trials):
    gaps = []
    for t in range(trials):
        leader = None
        for _ in range(300):
            leader = cluster.leader()
            if leader: break
            time.sleep(0.05)
        if not leader: raise RuntimeError(f"{cluster.name}: no leader before trial {t}")
        survivors = [n for n in (1, 2, 3) if n != leader]
        # Light load: a write every 20 ms to a survivor (it forwards to the leader).
        for i in range(5):
            http("POST", cluster.write_url(survivors[0]), cluster.write_body(i), timeout=1)
            time.sleep(0.02)
        killed_at = time.monotonic()
        cluster.kill9(leader)
        gap = None
        i = 0
        while time.monotonic() - killed_at < 30:
            target = survivors[i % 2]
            s, _ = http("POST", cluster.write_url(target), cluster.write_body(i), timeout=0.5)
            i += 1
            if s is not None and cluster.ok(s):
                gap = time.monotonic() - killed_at
                break
            time.sleep(0.01)
        gaps.append(gap if gap is not None else float("inf"))
        cluster.start(leader)
        deadline = time.time() + 30
        while time.time() < deadline:
            if all(http("GET", f"http://{cluster.api(n)}/healthz" if cluster.name == "trireme" else f"http://{cluster.api(n)}/health", timeout=0.5)[0] == 200 for n in (1, 2, 3)):
                break
            time.sleep(0.1)
        time.sleep(0.5)
    gaps.sort()
    pct = lambda p: gaps[min(len(gaps) - 1, int(round(p / 100 * (len(gaps) - 1))))] * 1000
    return {"p50": pct(50), "p99": pct(99), "max": gaps[-1] * 1000}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--failover-trials", type=int, default=20)
    ap.add_argument("--clients", default="1,16,64")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per client count; the median is printed")
    args = ap.parse_args()
    for tool in ("etcd", "wrk"):
        if not shutil.which(tool): sys.exit(f"{tool} missing: apt-get install etcd-server wrk")
    if not os.access(TRIREME, os.X_OK): sys.exit(f"{TRIREME} missing: swift build -c release --product trireme")
    tmp = tempfile.mkdtemp(prefix="trireme-bench-")
    clusters = [Trireme(tmp), Etcd(tmp)]
    rows, results = [], {}
    try:
        for c in clusters:
            for n in (1, 2, 3): c.start(n)
            c.setup()
        time.sleep(1)
        for c in clusters:
            results[(c.name, "rss_rest")] = max(rss_mb(p) for p in c.pids().values())
        # Both clusters run all along and take turns, round by round, so that a change in the
        # machine's speed (its disk's fsync time moves by 3x here within minutes) hits both alike;
        # each figure is the median round.
        for clients in [int(x) for x in args.clients.split(",")]:
            runs = {c.name: [] for c in clusters}
            for _ in range(args.rounds):
                for c in clusters:
                    path, body = c.wrk_path_body()
                    pids = list(c.pids().values())
                    before = cpu_us(pids)
                    run = run_wrk(c.api(c.leader()), path, body, clients, args.seconds)
                    # The whole cluster's CPU per write (all three nodes; wrk not counted).
                    run["cpu"] = (cpu_us(pids) - before) / max(run["requests"], 1)
                    runs[c.name].append(run)
            for c in clusters:
                ordered = sorted(runs[c.name], key=lambda r: r["rps"])
                median = ordered[len(ordered) // 2]
                median["rounds"] = [r["rps"] for r in runs[c.name]]
                results[(c.name, clients)] = median
        for c in clusters:
            results[(c.name, "rss_load")] = max(rss_mb(p) for p in c.pids().values())
        if args.failover_trials > 0:
            for c in clusters:
                results[(c.name, "failover")] = failover(c, args.failover_trials)
    finally:
        for c in clusters: c.stop_all()
        if os.environ.get("KEEP_BENCH_DIR") is None: shutil.rmtree(tmp, ignore_errors=True)

    print("-" * 96)
    print(f"{'benchmark':44}{'trireme':>14}{'etcd':>14}{'ratio':>10}  unit")
    print("-" * 96)
    for clients in [int(x) for x in args.clients.split(",")]:
        t, e = results[("trireme", clients)], results[("etcd", clients)]
        print(f"{f'writes/s, {clients} clients':44}{t['rps']:>14.0f}{e['rps']:>14.0f}{t['rps'] / e['rps']:>10.2f}  req/s")
        print(f"{f'p50 latency, {clients} clients':44}{t['p50']:>14.2f}{e['p50']:>14.2f}{t['p50'] / e['p50']:>10.2f}  ms")
        print(f"{f'p99 latency, {clients} clients':44}{t['p99']:>14.2f}{e['p99']:>14.2f}{t['p99'] / e['p99']:>10.2f}  ms")
        print(f"{f'cluster CPU per write, {clients} clients':44}{t['cpu']:>14.0f}{e['cpu']:>14.0f}{t['cpu'] / max(e['cpu'], 1e-9):>10.2f}  us")
        rounds = lambda r: "/".join(f"{x:.0f}" for x in r["rounds"])
        print(f"{f'  rounds (req/s), {clients} clients':44}{rounds(t):>14} {rounds(e):>14}")
        if t["non2xx"] or e["non2xx"]:
            print(f"{f'non-2xx answers, {clients} clients':44}{t['non2xx']:>14}{e['non2xx']:>14}")
    for key in ("p50", "p99", "max") if args.failover_trials > 0 else ():
        t, e = results[("trireme", "failover")][key], results[("etcd", "failover")][key]
        print(f"{f'failover gap {key} ({args.failover_trials} kills)':44}{t:>14.0f}{e:>14.0f}{t / e:>10.2f}  ms")
    for key, label in (("rss_rest", "max node RSS at rest"), ("rss_load", "max node RSS after load")):
        t, e = results[("trireme", key)], results[("etcd", key)]
        print(f"{label:44}{t:>14.1f}{e:>14.1f}{t / e:>10.2f}  MiB")
    print(f"trireme binary's malloc: {malloc_of(TRIREME)}")

def malloc_of(binary):
    """jemalloc when the binary links it (Package.swift), else glibc's (or what ldd says)."""
    try:
        linked = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (ldd failed)"
    return "jemalloc" if "libjemalloc" in linked else "glibc"

if __name__ == "__main__":
    main()
