#!/usr/bin/env python3
"""A/B of trireme release binaries at one client count, with each node's CPU per write.

  python3 bench/cluster/ab_bench.py BIN [BIN ...] [--pairs 3] [--seconds 8] [--warm 3] [--clients 64] [--threads]

For each pair, every binary in turn (the order alternates between pairs, so a machine that
drifts does not favour one) gets a fresh three-node cluster on the same loopback addresses as
http_bench.py, a paused queue, a warm-up wrk round, then a measured wrk round of creates
against the leader. Prints one line per round: writes/s, p99, and the CPU (user + system, from
/proc) each node spent per write; with --threads also the leader's and one follower's CPU per
write by thread name (HTTP handler tasks run on Swift's cooperative pool, `*.default-qos`).
Then the median round per binary. Quote only figures from one run: on a shared 2-core VM the
rate moves by a sixth between runs minutes apart. Every process it starts is stopped by PID.
"""
import argparse, os, shutil, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_bench as hb

def thread_cpu(pid):
    """{thread name: CPU ticks} for one process, summed over threads of the same name."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out

def per_write(before, after, requests):
    tick = os.sysconf("SC_CLK_TCK")
    rows = {name: (after[name] - before.get(name, 0)) * 1e6 / tick / max(requests, 1) for name in after}
    return {k: v for k, v in sorted(rows.items(), key=lambda kv: -kv[1]) if v >= 1}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bins", nargs="+")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--threads", action="store_true")
    a = ap.parse_args()
    results = {b: [] for b in a.bins}
    for p in range(a.pairs):
        for b in (a.bins if p % 2 == 0 else list(reversed(a.bins))):
            hb.TRIREME = b
            tmp = tempfile.mkdtemp(prefix="trireme-ab-")
            c = hb.Trireme(tmp)
            try:
                for n in (1, 2, 3): c.start(n)
                c.setup()
                leader = c.leader()
                path, body = c.wrk_path_body()
                if a.warm: hb.run_wrk(c.api(leader), path, body, a.clients, a.warm)
                pids = c.pids()
                follower = next(n for n in pids if n != leader)
                before = {n: hb.cpu_us([pid]) for n, pid in pids.items()}
                threads_before = {n: thread_cpu(pids[n]) for n in (leader, follower)}
                r = hb.run_wrk(c.api(leader), path, body, a.clients, a.seconds)
                after = {n: hb.cpu_us([pid]) for n, pid in pids.items()}
                threads_after = {n: thread_cpu(pids[n]) for n in (leader, follower)}
                per = {n: (after[n] - before[n]) / max(r["requests"], 1) for n in pids}
                total = sum(per.values())
                results[b].append((r["rps"], total))
                others = ", ".join(f"{per[n]:.0f}" for n in pids if n != leader)
                print(f"pair {p} {os.path.basename(b):>14}: {r['rps']:8.0f} writes/s  p99 {r['p99']:6.1f} ms  "
                      f"CPU/write {total:4.0f} us (leader {per[leader]:.0f}, followers {others})  non-2xx {r['non2xx']}", flush=True)
                if a.threads:
                    for role, n in (("leader", leader), ("follower", follower)):
                        rows = per_write(threads_before[n], threads_after[n], r["requests"])
                        print(f"    {role:>8} us/write by thread: " + "  ".join(f"{k} {v:.0f}" for k, v in rows.items()), flush=True)
            finally:
                c.stop_all()
                shutil.rmtree(tmp, ignore_errors=True)
    for b in a.bins:
        rates = sorted(x[0] for x in results[b])
        cpus = sorted(x[1] for x in results[b])
        print(f"median {os.path.basename(b):>14}: {rates[len(rates) // 2]:8.0f} writes/s  CPU/write {cpus[len(cpus) // 2]:4.0f} us  "
              f"(rounds: {' / '.join(f'{x[0]:.0f}' for x in results[b])})")

if __name__ == "__main__":
    main()
