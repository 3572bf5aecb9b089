#!/usr/bin/env python3
"""Snapshots on a large store (issue 7's benchmark).

  python3 bench/cluster/snapshot_bench.py [--tasks 1000000] [--snapshot-entries 250000] [--window 5]

Starts a three-node Trireme release cluster (TRIREME_BIN, default .build/release/trireme) on
127.0.0.51-53, fills it with --tasks tasks through the HTTP API (wrk, 64 connections, in
--window-second runs); the nodes compact their logs every --snapshot-entries entries (a store
sync, no copy). Then a follower is killed, its data directory wiped, and it is restarted while
the wrk windows go on, so the leader writes a snapshot file of the whole store on demand
(VACUUM INTO + SHA-256, in the background) and the follower downloads and installs it:
  * snapshot creation: its size and time;
  * write latency p99 in the windows while the snapshot was written, sent and installed,
    against the last fill windows (same store size, no snapshot);
  * InstallSnapshot: the download rate (MB/s), the install time, and the time until the
    follower has caught up.
Prints one table. Every process it starts is stopped by PID when it ends, also on failure.
"""
import argparse, json, os, re, shutil, signal, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_bench as hb  # noqa: E402  (same helpers: http(), run_wrk(), rss_mb())


class BigCluster(hb.Trireme):
    def __init__(self, tmp, snapshot_entries):
        super().__init__(tmp)
        self.members = [{"id": i, "api": f"127.0.0.5{i}:7001", "peer": f"127.0.0.5{i}:7101"} for i in (1, 2, 3)]
        self.snapshot_entries = snapshot_entries

    def start(self, n):
        cfg = {"nodeId": n, "dataDir": os.path.join(self.dir, f"n{n}"), "members": self.members,
               "clusterSecret": "bench-secret-0123456789abcdef", "logLevel": "info",
               "snapshotEntries": self.snapshot_entries, "snapshotBytes": 1 << 40, "snapshotGrowth": 0}
        path = os.path.join(self.dir, f"n{n}.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        log = open(self.log_path(n), "a")
        self.procs[n] = subprocess.Popen([hb.TRIREME, "serve", "--config", path], stdout=log, stderr=log)

    def log_path(self, n):
        return os.path.join(self.dir, f"n{n}.log")

    def status(self, n):
        s, b = hb.http("GET", f"http://{self.api(n)}/v1/cluster?consistency=stale", timeout=1)
        return json.loads(b) if s == 200 else None


def log_events(path, event):
    """key=value pairs of every log line naming `event`."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            if event in line:
                out.append(dict(re.findall(r"(\w+)=([\w.\-]+)", line)))
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--snapshot-entries", type=int, default=250_000)
    ap.add_argument("--window", type=int, default=5, help="seconds per wrk run")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk missing: apt-get install wrk")
    if not os.access(hb.TRIREME, os.X_OK):
        sys.exit(f"{hb.TRIREME} missing: swift build -c release --product trireme")
    tmp = tempfile.mkdtemp(prefix="trireme-snapbench-")
    cluster = BigCluster(tmp, args.snapshot_entries)
    rows = []
    try:
        for n in (1, 2, 3):
            cluster.start(n)
        cluster.setup()
        leader = cluster.leader()
        path, body = cluster.wrk_path_body()
        fill = []  # wrk results while filling
        load_started = time.monotonic()
        while True:
            st = cluster.status(leader) or {}
            if st.get("appliedIndex", 0) >= args.tasks:
                break
            fill.append(hb.run_wrk(cluster.api(leader), path, body, 64, args.window))
        load_seconds = time.monotonic() - load_started
        compactions = log_events(cluster.log_path(leader), "log compacted")

        follower = next(n for n in (1, 2, 3) if n != leader)
        cluster.kill9(follower)
        shutil.rmtree(os.path.join(cluster.dir, f"n{follower}"))
        restarted = time.monotonic()
        cluster.start(follower)
        # The load goes on: windows until the follower has installed the snapshot and caught up
        # with the leader's commit index as of the window's end.
        during, caught_up = [], None
        while time.monotonic() - restarted < 600 and caught_up is None:
            during.append(hb.run_wrk(cluster.api(leader), path, body, 64, args.window))
            target = (cluster.status(leader) or {}).get("commitIndex", 0)
            for _ in range(50):
                st = cluster.status(follower)
                if st and st.get("appliedIndex", 0) >= target:
                    caught_up = time.monotonic() - restarted
                    break
                if not log_events(cluster.log_path(follower), "snapshot installed"):
                    break
                time.sleep(0.1)
        taken = log_events(cluster.log_path(leader), "snapshot taken")
        downloaded = log_events(cluster.log_path(follower), "snapshot downloaded")
        installed = log_events(cluster.log_path(follower), "snapshot installed")
        rss = {n: hb.rss_mb(p) for n, p in cluster.pids().items()}
    finally:
        cluster.stop_all()
        if os.environ.get("KEEP_BENCH_DIR") is None:
            shutil.rmtree(tmp, ignore_errors=True)

    outside = [w["p99"] for w in fill[-max(3, len(during)):]]
    during_p99 = [w["p99"] for w in during]
    rps = [w["rps"] for w in fill]
    last = taken[-1] if taken else {}
    dl = downloaded[-1] if downloaded else {}
    rows.append(("tasks written / load time", f"{args.tasks:,} in {load_seconds:.0f} s", f"{sum(rps) / max(1, len(rps)):.0f} writes/s avg"))
    durable = [int(e.get("durableMs", 0)) for e in compactions]
    rows.append(("log compactions on the leader (store sync)", str(len(compactions)),
                 f"every {args.snapshot_entries:,} entries; sync max {max(durable) if durable else 0} ms"))
    rows.append(("snapshots written on the leader", str(len(taken)), "on demand, for the wiped follower"))
    rows.append(("snapshot: size / creation time",
                 f"{int(last.get('bytes', 0)) / 2**20:.0f} MiB", f"{int(last.get('ms', 0))} ms (VACUUM INTO + SHA-256, background)"))
    rows.append(("write p99 while it is written and sent", f"{pct(during_p99, 50):.1f} ms (median of {len(during_p99)} windows)",
                 f"max {max(during_p99) if during_p99 else float('nan'):.1f} ms"))
    rows.append(("write p99 in the last fill windows", f"{pct(outside, 50):.1f} ms (median of {len(outside)} windows)",
                 f"max {max(outside) if outside else float('nan'):.1f} ms"))
    rows.append(("InstallSnapshot download (wiped follower)",
                 f"{int(dl.get('bytes', 0)) / 2**20:.0f} MiB in {int(dl.get('ms', 0))} ms", f"{dl.get('MBps', '?')} MB/s"))
    rows.append(("install (restore store from the file)", f"{installed[-1].get('ms', '?') if installed else '?'} ms", ""))
    rows.append(("wiped follower caught up after restart", f"{caught_up:.1f} s" if caught_up else "not within 600 s", ""))
    rows.append(("node RSS after the run", " / ".join(f"n{n} {v:.0f} MiB" for n, v in sorted(rss.items())), ""))
    print("-" * 100)
    for label, value, note in rows:
        print(f"{label:44}{value:>30}  {note}")
    print("-" * 100)


if __name__ == "__main__":
    main()
