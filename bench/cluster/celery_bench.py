#!/usr/bin/env python3
"""No-op task throughput, end to end (enqueue → dispatch → complete), Trireme's local
three-node cluster side by side with Celery 5 on a local Redis, in one run (issue 5).

usage: python3 bench/cluster/celery_bench.py .build-schedrel/release/trireme [tasks=3000] [slots_per_node=8] [rounds=1]

- Trireme: 3 nodes × `slots_per_node` executor slots; `tasks` tasks of the `sleep` test kind with
  0 ms (a no-op) created by 24 client threads (keep-alive connections, Idempotency-Key, retried on
  503/504) round robin over the 3
  nodes (followers forward creates to the leader), and again all to the leader; the
  clock stops when the queue counts `tasks` succeeded. Every step (create, assign, start,
  complete) is a replicated, fsynced Raft entry.
- Celery: one worker per pool in CELERY_POOLS (default: prefork, then threads), concurrency =
  3 × `slots_per_node`, Redis broker (db 0) and
  result backend (db 1; a task is complete once its result is stored); a no-op task enqueued
  with `apply_async` by 24 client threads; the clock stops when db 1 holds `tasks` results.
  Redis runs with no persistence (its default config minus RDB snapshots).
Installs what is missing: `redis-server` with apt-get, celery[redis] into a venv (CELERY_VENV,
default /tmp/trireme-celery-venv) with pip. Every process is stopped by its PID."""
import os, shutil, subprocess, sys, tempfile, threading, time
from benchlib import Cluster, create_tasks, free_port, queue_counts, req

binary = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
slots = int(sys.argv[3]) if len(sys.argv) > 3 else 8
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 1
threads = 24
pools = os.environ.get("CELERY_POOLS", "prefork,threads").split(",")
venv = os.environ.get("CELERY_VENV", "/tmp/trireme-celery-venv")


def ensure_tools():
    if shutil.which("redis-server") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not os.path.exists(f"{venv}/bin/celery"):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([f"{venv}/bin/pip", "install", "-q", "celery[redis]>=5,<6"], check=True)


APP = """
from celery import Celery
import os
port = os.environ["BENCH_REDIS_PORT"]
app = Celery("noop", broker=f"redis://127.0.0.1:{port}/0", backend=f"redis://127.0.0.1:{port}/1")
app.conf.update(task_default_queue="bench", broker_connection_retry_on_startup=True, result_expires=None,
                worker_hijack_root_logger=False)
@app.task(name="noop")
def noop():
    return None
"""

CLIENT = """
import os, sys, threading, time, redis
from noop_app import app, noop
n, threads = int(sys.argv[1]), int(sys.argv[2])
results = redis.Redis(port=int(os.environ["BENCH_REDIS_PORT"]), db=1)
t0 = time.time()
def work(k):
    for i in range(k, n, threads): noop.apply_async()
ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]; enq = time.time()
while results.dbsize() < n and time.time() - t0 < 600: time.sleep(0.02)
t1 = time.time()
print(n / (enq - t0), n / (t1 - t0), results.dbsize())
"""


def run_celery(workdir, pool):
    port = free_port(); env = {**os.environ, "BENCH_REDIS_PORT": str(port), "PYTHONPATH": workdir}
    redis_proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() == b"PONG": break
            time.sleep(0.05)
        subprocess.run(["redis-cli", "-p", str(port), "flushall"], capture_output=True)
        worker = subprocess.Popen([f"{venv}/bin/celery", "-A", "noop_app", "worker", "--pool", pool,
                                   "--concurrency", str(3 * slots), "-Q", "bench", "--without-gossip", "--without-mingle",
                                   "--without-heartbeat", "--loglevel", "warning"], cwd=workdir, env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(f"{workdir}/worker.log", "w"))
        # Ready once it answers a ping.
        ping = [f"{venv}/bin/celery", "-A", "noop_app", "inspect", "ping", "--timeout", "1"]
        for _ in range(60):
            if subprocess.run(ping, cwd=workdir, env=env, capture_output=True).returncode == 0: break
        out = subprocess.run([f"{venv}/bin/python", "-c", CLIENT, str(N), str(threads)], cwd=workdir, env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        return float(out[0]), float(out[1]), int(out[2])
    finally:
        for p in (worker, redis_proc):
            if p is not None:
                p.terminate()
                try: p.wait(timeout=10)
                except subprocess.TimeoutExpired: p.kill(); p.wait()


def run_trireme(to_leader):
    cluster = Cluster(binary, slots)
    try:
        req("POST", cluster.apis[0] + "/v1/queues", {"name": "tp", "rateLimits": {
            "maxDispatchesPerSecond": 100000, "maxBurstSize": 100000, "maxConcurrentDispatches": 100000}})
        apis = cluster.apis
        if to_leader: apis = [apis[req("GET", apis[0] + "/v1/cluster")["leader"] - 1]]
        cpu0 = cluster.cpu_seconds(); t0 = time.time()
        done = {}
        def creator():
            _, _, took = create_tasks(apis, "tp", [{"kind": "sleep", "payload": {"ms": 0}}] * N, threads)
            done["took"] = took
        th = threading.Thread(target=creator); th.start()
        succeeded = 0
        while time.time() - t0 < 600:
            succeeded = max(succeeded, queue_counts(cluster.apis[0], "tp").get("succeeded", 0))
            if succeeded >= N: break
            time.sleep(0.05)
        t1 = time.time(); th.join()
        return N / done["took"], N / (t1 - t0), succeeded, (cluster.cpu_seconds() - cpu0) / (t1 - t0)
    finally:
        cluster.stop()


ensure_tools()
workdir = tempfile.mkdtemp(prefix="trireme-celery-")
with open(f"{workdir}/noop_app.py", "w") as f: f.write(APP)
rows = []
for r in range(rounds):
    rows.append(("Trireme, clients over all 3 nodes",) + run_trireme(False))
    rows.append(("Trireme, clients to the leader",) + run_trireme(True))
    for pool in pools:
        rows.append((f"Celery 5 + Redis, {pool} pool",) + run_celery(workdir, pool) + (float("nan"),))
print(f"no-op tasks end to end (enqueue → complete), {N} tasks, {threads} client threads, "
      f"{3 * slots} slots / worker processes, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
print("| system | enqueue/s | completed/s | completed | Trireme nodes' CPU, cores |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, enq, rate, count, cpu in rows:
    print(f"| {name} | {enq:.0f} | {rate:.0f} | {count} | {'' if cpu != cpu else f'{cpu:.2f}'} |")
def mean(label): return sum(r[2] for r in rows if r[0] == label) / max(1, sum(1 for r in rows if r[0] == label))
best_celery = max(mean(f"Celery 5 + Redis, {pool} pool") for pool in pools)
for label in ("Trireme, clients over all 3 nodes", "Trireme, clients to the leader"):
    print(f"ratio completed/s, {label} / best Celery pool: {mean(label) / best_celery:.2f}")
