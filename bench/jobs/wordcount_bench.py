#!/usr/bin/env python3
"""WordCount throughput, side by side in one run (issue 6, "Performance"):

  (a) Trireme: a fresh three-node release cluster per corpus (config files and data under the
      work dir, which is the nodes' dataRoot), one `wordcount` job through POST /v1/jobs, timed
      from the POST until GET /v1/jobs/ID says DONE; peak RSS per node from /proc (VmHWM);
  (b) Apache Beam's `python -m apache_beam.examples.wordcount`, DirectRunner, installed into a
      cached virtual environment; on at most --beam-max-mb of input (a prefix of the corpus);
  (c) bench/jobs/wc_baseline.c, one process on one core, gcc -O2.

Outputs are checked: Trireme's shards equal the C baseline's lines on every corpus (exact on
these corpora, see corpus.py) and Beam's on every input Beam ran in full. Prints one table.

  python3 bench/jobs/wordcount_bench.py [--sizes 100,1000] [--beam-max-mb 100] [--workdir DIR]
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import jobbench  # noqa: E402
from jobbench import log  # noqa: E402

MB = 1_000_000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100,1000", help="corpus sizes in MB (10^6 bytes), comma-separated")
    p.add_argument("--beam-max-mb", type=int, default=100,
                   help="Beam runs on a prefix of at most this many MB of each corpus (0: skip Beam)")
    p.add_argument("--workdir", default=jobbench.DEFAULT_WORKDIR, help="corpora, venv, cluster data, outputs")
    p.add_argument("--split-mb", type=int, default=128, help="the cluster's jobSplitBytes, in MiB")
    p.add_argument("--shards", type=int, default=3, help="numShards of the job")
    p.add_argument("--executor-slots", type=int, default=2, help="executorSlots of each node")
    p.add_argument("--no-build", action="store_true", help="use the existing release binary")
    p.add_argument("--binary", help="a trireme release binary to use instead of building one")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the nodes
    sizes = [int(s) for s in args.sizes.split(",") if s]
    os.makedirs(args.workdir, exist_ok=True)
    work = os.path.abspath(args.workdir)
    binary = args.binary or jobbench.trireme_binary(build=not args.no_build)
    baseline = os.path.join(work, "wc_baseline")
    subprocess.run(["gcc", "-O2", "-o", baseline, os.path.join(os.path.dirname(__file__), "wc_baseline.c")], check=True)
    beam_py = jobbench.beam_python(work) if args.beam_max_mb > 0 else None
    corpora = {mb: corpus.ensure(work, mb, args.seed, log=log) for mb in sorted(sizes)}

    rows, problems, beam_runs = [], [], {}
    for mb, path in corpora.items():
        size = os.path.getsize(path)
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # same warm page cache for all

        # (c) C baseline
        c_out = os.path.join(work, f"c-{mb}MB.txt")
        with open(c_out, "wb") as f:
            c_sec, c_rss, code, c_cpu = jobbench.timed_child([baseline, path], stdout=f)
        if code != 0:
            raise RuntimeError("wc_baseline failed")
        c_counts = jobbench.read_counts([c_out])

        # (b) Beam on the corpus or a prefix of it (the smaller corpus is a prefix of the larger)
        beam = None
        if beam_py:
            beam_mb = min(mb, args.beam_max_mb)
            beam_input = path if beam_mb == mb else corpus.ensure(work, beam_mb, args.seed, log=log)
            if beam_input not in beam_runs:
                log(f"Beam DirectRunner on {os.path.getsize(beam_input) / MB:.0f} MB ...")
                sec, rss, files, cpu = jobbench.run_beam_wordcount(beam_py, beam_input,
                                                                   os.path.join(work, f"beam-{beam_mb}MB", "counts"))
                beam_runs[beam_input] = (sec, rss, os.path.getsize(beam_input), jobbench.read_counts(files), cpu)
            beam = beam_runs[beam_input]

        # (a) Trireme cluster
        log(f"Trireme cluster on {size / MB:.0f} MB ...")
        name = f"{mb}MB"
        with jobbench.Cluster(binary, work, name, args.split_mb << 20, args.executor_slots) as cluster:
            cpu0 = cluster.cpu_seconds()
            t_sec, job = jobbench.run_wordcount(cluster, os.path.basename(path), f"out-{name}/counts", args.shards,
                                                temp_rel=f"tmp-{name}")
            t_cpu = cluster.cpu_seconds() - cpu0
            peaks = [hwm for hwm, _ in cluster.memory()]
        t_counts = jobbench.read_counts(jobbench.trireme_outputs(work, f"out-{name}/counts", args.shards))

        diff = jobbench.diff_counts(t_counts, c_counts, "trireme", "c")
        if diff:
            problems.append(f"{mb} MB: Trireme and the C baseline differ:\n" + "\n".join(diff))
        if beam and beam[2] == size:
            diff = jobbench.diff_counts(t_counts, beam[3], "trireme", "beam")
            if diff:
                problems.append(f"{mb} MB: Trireme and Beam differ:\n" + "\n".join(diff))
        beam_rate = beam[2] / MB / beam[0] if beam else None
        c_rate = size / MB / c_sec
        t_rate = size / MB / t_sec
        beam_note = "" if not beam else ("" if beam[2] == size else f" (on {beam[2] / MB:.0f} MB prefix)")
        scale = size / beam[2] if beam else 1
        if beam:
            rows.append((f"{size / MB:.0f}", "Beam DirectRunner" + beam_note, beam[0] * scale, beam_rate, 1.0,
                         beam_rate / c_rate, beam[4] * scale, f"{beam[1] / MB:.0f} (1 process)",
                         "time and CPU extrapolated" if beam_note else ""))
        rows.append((f"{size / MB:.0f}", "C baseline (1 core, -O2)", c_sec, c_rate, c_rate / beam_rate if beam else None,
                     1.0, c_cpu, f"{c_rss / MB:.0f} (1 process)", ""))
        rows.append((f"{size / MB:.0f}", "Trireme 3-node cluster", t_sec, t_rate, t_rate / beam_rate if beam else None,
                     t_rate / c_rate, t_cpu, " / ".join(f"{p / MB:.0f}" for p in peaks),
                     f"{job['counters'].get('tasksTotal', '?')} tasks"))

    print_table(rows, args)
    for p in problems:
        print("MISMATCH " + p)
    checked = "Trireme = C baseline on every corpus" + ("; Trireme = Beam on every input Beam read in full"
                                                          if beam_runs else " (Beam not run)")
    print("outputs: " + ("MISMATCH" if problems else checked))
    return 1 if problems else 0


def print_table(rows, args):
    print(f"\nWordCount, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; cluster: jobSplitBytes {args.split_mb} MiB, numShards {args.shards}, "
          f"executorSlots {args.executor_slots}; MB = 10^6 bytes\n")
    head = ("input MB", "system", "seconds", "MB/s", "x Beam", "x C", "CPU s", "MB/CPU-s", "peak RSS MB per node", "note")
    fmt = "| {:>8} | {:<34} | {:>8} | {:>8} | {:>7} | {:>6} | {:>7} | {:>8} | {:<22} | {} |"
    print(fmt.format(*head))
    print("|" + "|".join("-" * (w + 2) for w in (8, 34, 8, 8, 7, 6, 7, 8, 22, 4)) + "|")
    for size, system, sec, rate, xb, xc, cpu, rss, note in rows:
        print(fmt.format(size, system, f"{sec:.1f}", f"{rate:.1f}", "-" if xb is None else f"{xb:.1f}",
                         f"{xc:.2f}", f"{cpu:.1f}", f"{float(size) / cpu:.1f}" if cpu > 0 else "-", rss, note))


if __name__ == "__main__":
    sys.exit(main())
