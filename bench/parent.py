#!/usr/bin/env python3
"""Streaming parents under load: nanodata and Netdata 1.37 (Debian's package), same load, one run.

  bench/parent.py [--children 10,100,1000] [--charts 20] [--dims 10] [--seconds 30]
                  [--compression yes|no] [--history 60] [--parents nanodata,netdata]

For each parent and each number of children, a fresh parent (memory mode ram, HISTORY slots
per dimension, no collectors of its own, health off) receives N simulated children from
`examples/stream_load.rs`, each streaming CHARTS x DIMS dimensions every second with the real
protocol. After the children have connected and a settle time, the parent's CPU (all its
threads and processes) and RSS are measured over the window. Reported per run:

  samples/s sent        what the children wrote (the parent read it: TCP would block otherwise)
  missed s              seconds a generator worker fell behind (the parent did not keep up)
  parent CPU %          of one core, over the window
  ns/sample             parent CPU per ingested sample
  capacity              samples/s one core would ingest at that cost (1e9 / ns per sample)
  RSS, RSS/child        the parent's RSS, and its growth over the idle parent per child
  db/child              what its database needs per child (dims x history x 4 bytes)

Everything runs on 127.0.0.1 in temporary directories. The machine's other core runs the
generator; figures on a shared machine are noisy: run it a few times, take the median.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (process accounting and the netdata binary's location)

ROOT = compare.ROOT
API_KEY = compare.API_KEY
LOADGEN = os.path.join(ROOT, "target/release/examples/stream_load")


def wait_http(port, seconds=30):
    for _ in range(seconds * 5):
        try:
            compare.get_json(port, "/api/v1/info")
            return True
        except OSError:
            time.sleep(0.2)
    return False


class NetdataParent:
    def __init__(self, port, history, compression):
        self.base = tempfile.mkdtemp(prefix="nanodata-bench-ndparent-")
        os.chmod(self.base, 0o755)  # the netdata user must reach its directories
        b = self.base
        for d in ("etc", "cache", "lib/registry", "lib/lock", "log"):
            os.makedirs(os.path.join(b, d), exist_ok=True)
        open(os.path.join(b, "etc/.opt-out-from-anonymous-statistics"), "w").close()
        yes = "yes" if compression else "no"
        plugins = "\n".join(f"    {p} = no" for p in
                            ["proc", "diskspace", "cgroups", "tc", "idlejitter", "timex", "statsd"] + compare.EXTERNAL)
        with open(f"{b}/etc/netdata.conf", "w") as f:
            f.write(f"[global]\n    hostname = ndparent\n    run as user = netdata\n"
                    f"[db]\n    mode = ram\n    retention = {history}\n    update every = 1\n"
                    f"[directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n"
                    f"    log = {b}/log\n    lock = {b}/lib/lock\n    home = {b}/lib\n"
                    f"[web]\n    bind to = 127.0.0.1:{port}\n    allow streaming from = *\n"
                    f"[logs]\n    errors to trigger flood protection = 1000000\n    access = none\n"
                    f"[registry]\n    enabled = no\n[health]\n    enabled = no\n"
                    f"[statsd]\n    enabled = no\n[ml]\n    enabled = no\n[plugins]\n{plugins}\n")
        with open(f"{b}/etc/stream.conf", "w") as f:
            f.write(f"[stream]\n    enabled = no\n    enable compression = {yes}\n"
                    f"[{API_KEY}]\n    type = api\n    enabled = yes\n    allow from = *\n"
                    f"    default memory mode = ram\n    default history = {history}\n"
                    f"    health enabled by default = no\n    enable compression = {yes}\n")
        subprocess.run(["chown", "-R", "netdata:", f"{b}/cache", f"{b}/lib", f"{b}/log"], check=True)
        env = dict(os.environ, DO_NOT_TRACK="1", DISABLE_TELEMETRY="1")
        self.proc = subprocess.Popen([compare.NETDATA, "-D", "-c", f"{b}/etc/netdata.conf"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.ok = wait_http(port)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)


class NanodataParent:
    def __init__(self, port, history, compression):
        self.base = tempfile.mkdtemp(prefix="nanodata-bench-parent-")
        b = self.base
        os.makedirs(f"{b}/etc")
        yes = "yes" if compression else "no"
        with open(f"{b}/nanodata.conf", "w") as f:
            f.write(f"[global]\n    hostname = nanoparent\n"
                    f"[db]\n    mode = ram\n    retention = {history}\n    update every = 1\n"
                    f"[directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n"
                    f"    log = {b}/log\n    plugins = {b}/no-plugins\n"
                    f"[web]\n    bind to = 127.0.0.1:{port}\n    allow streaming from = *\n"
                    f"[logs]\n    error = {b}/error.log\n    access = none\n    health = none\n"
                    f"[plugins]\n    proc = no\n    diskspace = no\n    netdata monitoring = no\n")
        with open(f"{b}/etc/stream.conf", "w") as f:
            f.write(f"[stream]\n    enabled = no\n    enable compression = {yes}\n"
                    f"[{API_KEY}]\n    type = api\n    enabled = yes\n    allow from = *\n"
                    f"    default memory mode = ram\n    default history = {history}\n"
                    f"    health enabled by default = no\n    enable compression = {yes}\n")
        binary = os.path.join(ROOT, "target/release/nanodata")
        self.proc = subprocess.Popen([binary, "-D", "-c", f"{b}/nanodata.conf"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ok = wait_http(port)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def one_run(kind, children, a):
    port = compare.free_port()
    cls = NanodataParent if kind == "nanodata" else NetdataParent
    parent = cls(port, a.history, a.compression == "yes")
    try:
        if not parent.ok:
            return {"error": f"{kind} parent did not answer on 127.0.0.1:{port}"}
        time.sleep(2)
        idle_rss = compare.status(parent.proc.pid).get("VmRSS", 0)
        cmd = [LOADGEN, "--dest", f"127.0.0.1:{port}", "--key", API_KEY, "--children", str(children),
               "--charts", str(a.charts), "--dims", str(a.dims), "--seconds", str(a.seconds),
               "--compression", a.compression, "--threads", "1"]
        gen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = gen.stdout.readline()
        if not line.startswith("STREAMING"):
            gen.wait()
            return {"error": f"generator: {line.strip()} {gen.stderr.read()[-500:]}"}
        settle = min(5, a.seconds // 4)
        time.sleep(settle)
        cost = compare.Cost(parent.proc.pid)
        gen_cost = compare.Cost(gen.pid)
        time.sleep(max(1, a.seconds - settle - 3))
        c = cost.finish()
        g = gen_cost.finish()
        rss = compare.status(parent.proc.pid).get("VmRSS", 0)
        tree_rss = sum(compare.status(p).get("VmRSS", 0) for p in compare.proc_tree(parent.proc.pid))
        out, err = gen.communicate(timeout=a.seconds + 120)
        res = [l for l in out.splitlines() if l.startswith("RESULT ")]
        if not res:
            return {"error": f"generator gave no result: {err[-500:]}"}
        r = json.loads(res[-1][7:])
        sps = r["samples_per_s"]
        cpu_frac = c["cpu_s_per_min"] / 60
        r.update({
            "parent_cpu_pct": 100 * cpu_frac,
            "ns_per_sample": cpu_frac * 1e9 / sps if sps else 0,
            "capacity": sps / cpu_frac if cpu_frac else 0,
            "rss_kib": rss,
            "tree_rss_kib": tree_rss,
            "idle_rss_kib": idle_rss,
            "rss_per_child_kib": (rss - idle_rss) / children,
            "db_per_child_kib": a.charts * a.dims * a.history * 4 / 1024,
            "threads": c["threads"],
            "generator_cpu_pct": 100 * g["cpu_s_per_min"] / 60,
            "bytes_per_sample": r["wire_bytes"] / max(1, r["samples_sent"]),
        })
        return r
    finally:
        parent.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--children", default="10,100,1000")
    ap.add_argument("--charts", type=int, default=20)
    ap.add_argument("--dims", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--compression", choices=["yes", "no"], default="yes")
    ap.add_argument("--history", type=int, default=60)
    ap.add_argument("--parents", default="nanodata,netdata")
    a = ap.parse_args()
    if not os.path.exists(LOADGEN) or not os.path.exists(os.path.join(ROOT, "target/release/nanodata")):
        subprocess.run(["cargo", "build", "--release", "--bin", "nanodata", "--example", "stream_load"],
                       cwd=ROOT, check=True)
    parents = a.parents.split(",")
    counts = [int(x) for x in a.children.split(",")]
    print(f"# {a.charts} charts x {a.dims} dimensions per child, 1 s, LZ4 {a.compression}, "
          f"history {a.history}, {a.seconds} s per run\n")
    print("| parent | children | samples/s sent | missed s | parent CPU % | ns/sample | capacity samples/s/core "
          "| RSS KiB | RSS/child KiB | db/child KiB | threads | bytes/sample |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in counts:
        for kind in parents:
            r = one_run(kind, n, a)
            if "error" in r:
                print(f"| {kind} | {n} | error: {r['error']} |||||||||")
                continue
            conn = "" if r["connected"] == n else f" ({r['connected']} connected)"
            print(f"| {kind} | {n}{conn} | {r['samples_per_s']:,.0f} | {r['missed_seconds']} | "
                  f"{r['parent_cpu_pct']:.1f} | {r['ns_per_sample']:.0f} | {r['capacity']:,.0f} | "
                  f"{r['rss_kib']:,} | {r['rss_per_child_kib']:.1f} | {r['db_per_child_kib']:.1f} | "
                  f"{r['threads']} | {r['bytes_per_sample']:.2f} |", flush=True)
            print("JSON " + json.dumps({"parent": kind, **r}), file=sys.stderr)


if __name__ == "__main__":
    main()
