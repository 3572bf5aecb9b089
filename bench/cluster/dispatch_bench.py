#!/usr/bin/env python3
"""Dispatch latency of a local three-node cluster (issue 5, Performance): from a task's
scheduleTime to the executor starting it, at a given number of due tasks per second.

usage: python3 bench/cluster/dispatch_bench.py .build-schedrel/release/trireme [rates=100,2000] [seconds=5] [slots=128]

The tasks are created AHEAD of time (not part of the measure) with scheduleTime spread evenly
over `seconds` in the future, `rate` per second, so the cluster must dispatch `rate` due tasks a
second without having to accept `rate` creates a second. Each task is an `http` task to a local
asyncio sink; "started" is the arrival of its request at the sink (the executor's runner sends it
first thing, so this is the start plus one loopback connect). Latency = arrival − scheduleTime.
Tasks whose create was answered after their scheduleTime are left out (counted as "late").
PERF=/tmp/x.data records a perf profile of the three nodes while the tasks fall due."""
import os, subprocess, sys, time
from benchlib import Cluster, Sink, create_tasks, percentile, rfc3339, req

binary = sys.argv[1]
rates = [int(r) for r in (sys.argv[2] if len(sys.argv) > 2 else "100,2000").split(",")]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5
slots = int(sys.argv[4]) if len(sys.argv) > 4 else 128

sink = Sink(); cluster = Cluster(binary, slots)
rows = []; create_rate = 400.0
try:
    for rate in rates:
        queue = f"lat{rate}"
        req("POST", cluster.apis[0] + "/v1/queues", {"name": queue, "rateLimits": {
            "maxDispatchesPerSecond": 100000, "maxBurstSize": 100000, "maxConcurrentDispatches": 100000}})
        n = int(rate * seconds)
        # Leave creation enough time (measured create rate, with margin) before the first is due.
        start = time.time() + n / create_rate * 1.5 + 1.0
        bodies, due = [], []
        for i in range(n):
            text, at = rfc3339(start + i / rate)
            due.append(at)
            bodies.append({"kind": "http", "scheduleTime": text,
                           "payload": {"url": f"http://127.0.0.1:{sink.port}/t"}})
        # Creation is not measured: send it to the leader (followers would forward it).
        leader = req("GET", cluster.apis[0] + "/v1/cluster")["leader"]
        ids, created, took = create_tasks([cluster.apis[leader - 1]], queue, bodies)
        create_rate = max(50.0, n / took)
        if os.environ.get("PERF"):  # profile the nodes while the tasks fall due: PERF=out.data
            time.sleep(max(0.0, start - time.time()))
            subprocess.Popen(["perf", "record", "-F", "499", "-g", "-o", os.environ["PERF"], "-p",
                              ",".join(str(p.pid) for p in cluster.procs), "--", "sleep", str(seconds)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.time() < due[-1] + 10 and sum(1 for i in ids if i in sink.arrivals) < n:
            time.sleep(0.1)
        lat, late, missing = [], 0, 0
        for i, task in enumerate(ids):
            if task is None or created[i] > due[i]: late += 1; continue
            if task not in sink.arrivals: missing += 1; continue
            lat.append((sink.arrivals[task] - due[i]) * 1000)
        lat.sort()
        rows.append((rate, n, len(lat), late, missing, percentile(lat, 0.5), percentile(lat, 0.99), lat[-1] if lat else float("nan"),
                     create_rate))
finally:
    cluster.stop()

print(f"dispatch latency, scheduleTime → executor start (sink arrival), 3 nodes × {slots} slots, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
print(f"| due/s | tasks | measured | late-created | not started | p50 ms | p99 ms | max ms |")
print(f"| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for rate, n, m, late, missing, p50, p99, mx, _ in rows:
    print(f"| {rate} | {n} | {m} | {late} | {missing} | {p50:.1f} | {p99:.1f} | {mx:.1f} |")
