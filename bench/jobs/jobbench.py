"""Shared pieces of bench/jobs/wordcount_bench.py and bench/jobs/beam_equality.py (stdlib only).

- `beam_python(workdir)`: a virtual environment with apache-beam, created once and cached.
- `Cluster`: a three-node release Trireme cluster on free loopback ports, config files and data
  under the work dir (which is also the nodes' dataRoot); every process is stopped by its PID.
- `run_wordcount(cluster, ...)`: POST /v1/jobs, poll until a terminal state.
- `read_counts(paths)`: the `word: count` lines of output files as a Counter (a multiset).
"""
import collections
import glob
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_WORKDIR = "/tmp/trireme-jobs-bench"
RELEASE_SCRATCH = ".build-benchrel"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def beam_python(workdir, beam_spec="apache-beam"):
    """Path of a python with apache_beam importable; installs it into WORKDIR/beam-venv once."""
    venv = os.path.join(workdir, "beam-venv")
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".beam-installed")
    if os.path.exists(stamp):
        return python
    log(f"installing {beam_spec} into {venv} (once; a few minutes)")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", beam_spec], check=True)
    subprocess.run([python, "-c", "import apache_beam"], check=True)
    with open(stamp, "w") as f:
        f.write(subprocess.run([python, "-c", "import apache_beam; print(apache_beam.__version__)"],
                               check=True, capture_output=True, text=True).stdout)
    return python


def beam_version(python):
    return subprocess.run([python, "-c", "import apache_beam; print(apache_beam.__version__)"],
                          check=True, capture_output=True, text=True).stdout.strip()


def run_beam_wordcount(python, input_path, output_prefix):
    """Runs Beam's WordCount example (DirectRunner): (seconds, peak RSS bytes, files, CPU seconds)."""
    for old in glob.glob(output_prefix + "-*"):
        os.remove(old)
    os.makedirs(os.path.dirname(output_prefix), exist_ok=True)
    cmd = [python, "-m", "apache_beam.examples.wordcount", "--input", input_path,
           "--output", output_prefix, "--runner", "DirectRunner"]
    seconds, rss, code, cpu = timed_child(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if code != 0:
        raise RuntimeError(f"Beam wordcount failed ({code}): {' '.join(cmd)}")
    return seconds, rss, sorted(glob.glob(output_prefix + "-*-of-*")), cpu


def timed_child(cmd, **popen_args):
    """Runs cmd to completion: wall seconds, the child's peak RSS (bytes, from wait4), exit code,
    CPU seconds (user + system, the child and the descendants it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, **popen_args)
    err = b""
    try:
        if popen_args.get("stderr") == subprocess.PIPE:
            err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # Ctrl-C or SIGTERM: do not leave the child running
        proc.kill()
        proc.wait()
        raise
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 and err:
        log(err.decode(errors="replace")[-3000:])
    return seconds, usage.ru_maxrss * 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def read_counts(paths):
    """A Counter of the output lines (bytes) of every file: the multiset of `word: count` lines."""
    lines = collections.Counter()
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                lines[line.rstrip(b"\n")] += 1
    return lines


def diff_counts(a, b, name_a, name_b, limit=10):
    """Lines that differ between two multisets, as printable strings (empty when equal)."""
    out = []
    for line in sorted(set(a) | set(b)):
        if a[line] != b[line]:
            out.append(f"  {line.decode(errors='backslashreplace')!r}: {name_a} x{a[line]}, {name_b} x{b[line]}")
            if len(out) >= limit:
                break
    return out


def trireme_binary(build=True):
    """The release `trireme` binary under RELEASE_SCRATCH, built if asked."""
    if build:
        log(f"building trireme (release, --scratch-path {RELEASE_SCRATCH})")
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", RELEASE_SCRATCH,
                        "--product", "trireme"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(REPO, RELEASE_SCRATCH, "release", "trireme")
    if not os.path.exists(path):
        raise RuntimeError(f"{path} does not exist (build it or drop --no-build)")
    return path


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Cluster:
    """Three `trireme serve` processes with dataRoot = root; use as a context manager."""

    def __init__(self, binary, root, name, split_bytes, executor_slots):
        self.binary, self.root = binary, os.path.abspath(root)
        self.dir = os.path.join(self.root, "cluster-" + name)
        self.split_bytes, self.executor_slots = split_bytes, executor_slots
        self.procs = []

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        subprocess.run(["rm", "-rf", self.dir], check=True)
        os.makedirs(self.dir)
        secret = os.path.join(self.dir, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(24).hex())
        ports = free_ports(6)
        members = [{"id": i + 1, "api": f"127.0.0.1:{ports[2 * i]}", "peer": f"127.0.0.1:{ports[2 * i + 1]}"}
                   for i in range(3)]
        self.apis = [m["api"] for m in members]
        for i in range(3):
            config = {"nodeId": i + 1, "dataDir": os.path.join(self.dir, f"n{i + 1}"), "clusterSecretFile": secret,
                      "members": members, "tickMs": 10, "heartbeatTicks": 5, "electionTicks": 15,
                      "logLevel": "warning", "dataRoot": self.root, "jobSplitBytes": self.split_bytes,
                      "executorSlots": self.executor_slots}
            path = os.path.join(self.dir, f"n{i + 1}.json")
            with open(path, "w") as f:
                json.dump(config, f, indent=2)
            logf = open(os.path.join(self.dir, f"n{i + 1}.log"), "ab")
            self.procs.append(subprocess.Popen([self.binary, "serve", "--config", path], stdout=logf,
                                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
            logf.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            self.check_alive()
            if all(self.ready(api) for api in self.apis):
                return
            time.sleep(0.2)
        raise RuntimeError(f"cluster not ready within 60 s; logs in {self.dir}")

    def check_alive(self):
        for i, p in enumerate(self.procs):
            if p.poll() is not None:
                raise RuntimeError(f"node n{i + 1} exited with {p.returncode}; see {self.dir}/n{i + 1}.log")

    @staticmethod
    def ready(api):
        try:
            with urllib.request.urlopen(f"http://{api}/readyz", timeout=1) as r:
                return b'"ready"' in r.read()
        except (OSError, urllib.error.URLError):
            return False

    def stop(self):
        """SIGTERM every node we started (by PID), SIGKILL after 10 s."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.time() + 10
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def memory(self):
        """Per node: (VmHWM, VmRSS) in bytes, read from /proc."""
        out = []
        for p in self.procs:
            fields = {}
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    for line in f:
                        key, _, value = line.partition(":")
                        if key in ("VmHWM", "VmRSS"):
                            fields[key] = int(value.split()[0]) * 1024
            except OSError:
                pass
            out.append((fields.get("VmHWM", 0), fields.get("VmRSS", 0)))
        return out

    def cpu_seconds(self):
        """User + system CPU seconds used so far by all nodes (from /proc/PID/stat)."""
        total = 0
        for p in self.procs:
            try:
                with open(f"/proc/{p.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def request(self, method, path, body=None, timeout=30):
        last = None
        for api in self.apis:
            data = None if body is None else json.dumps(body).encode()
            req = urllib.request.Request(f"http://{api}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code < 500:
                    raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")
                last = e
            except OSError as e:
                last = e
        raise RuntimeError(f"{method} {path}: no node answered ({last})")


def run_wordcount(cluster, input_rel, output_rel, num_shards, temp_rel="tmp", timeout=3600, poll=0.05):
    """Submits a wordcount job and waits for a terminal state: (seconds, job body)."""
    for old in glob.glob(os.path.join(cluster.root, output_rel) + "-*"):
        os.remove(old)
    params = {"inputFile": input_rel, "output": output_rel, "numShards": num_shards, "tempLocation": temp_rel}
    start = time.perf_counter()
    job = cluster.request("POST", "/v1/jobs", {"template": "wordcount", "parameters": params})
    while job["state"] not in ("DONE", "FAILED", "CANCELLED"):
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"job {job['id']} not done after {timeout} s: {job}")
        cluster.check_alive()
        time.sleep(poll)
        job = cluster.request("GET", f"/v1/jobs/{job['id']}")
    seconds = time.perf_counter() - start
    if job["state"] != "DONE":
        raise RuntimeError(f"job {job['id']} ended {job['state']}: {job.get('error')}")
    return seconds, job


def trireme_outputs(root, output_rel, num_shards):
    paths = [os.path.join(root, f"{output_rel}-{s:05d}-of-{num_shards:05d}") for s in range(num_shards)]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise RuntimeError(f"missing output shards: {missing}")
    return paths
