#!/usr/bin/env python3
"""Side-by-side benchmarks of nanodata and Netdata 1.37 (Debian's package) on this machine.

  bench/compare.py collect [--seconds 60]
      Every collector at 1 s: nanodata (all internal collectors) and Netdata (internal
      collectors only, external plugins off), both streaming to one Netdata parent so that
      the parent counts their charts and dimensions. CPU seconds per minute, RSS, threads,
      charts, dimensions, and CPU per 1000 dimensions.

  bench/compare.py stream [--seconds 60] [--compression yes|no]
      Headless children (memory mode none, default collectors) streaming to one Netdata
      parent through counting relays: RSS, threads, CPU per minute, bytes per second on the
      wire, samples per second and bytes per sample.

  bench/compare.py stream --bin old=/path/a --bin new=/path/b [--smaps] [--json-out F]
      Two (or more) nanodata binaries instead of nanodata vs Netdata (bench/ab.sh): the same
      children side by side, the last column the ratio of the last to the first. --smaps
      adds each child's /proc/PID/smaps breakdown (bench/smaps.py) at the end of the window.

Everything runs on 127.0.0.1 in temporary directories and is stopped at the end. Figures
on a shared machine are noisy: run it a few times and take the median.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETDATA = "/usr/sbin/netdata"
API_KEY = "11111111-2222-3333-4444-555555555555"
EXTERNAL = ["apps", "python.d", "charts.d", "go.d", "ebpf", "perf", "slabinfo", "cups", "nfacct",
            "fping", "ioping", "freeipmi", "checks"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.load(r)


# ---------------------------------------------------------------- processes and their cost

def proc_tree(root):
    """root and all its descendants."""
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ns(pid):
    """CPU time of every thread of a process in nanoseconds (schedstat: finer than the
    10 ms ticks of /proc/PID/stat, which a light process barely moves)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    return total


def status(pid):
    d = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads"):
                    d[k] = int(v.split()[0])
    except OSError:
        pass
    return d


class Cost:
    """CPU used by a process tree inside a window, and its memory at the end."""

    def __init__(self, pid):
        self.pid = pid
        self.start = {p: cpu_ns(p) for p in proc_tree(pid)}
        self.t0 = time.time()

    def finish(self):
        secs = time.time() - self.t0
        tree = proc_tree(self.pid)
        ns = sum(cpu_ns(p) - self.start.get(p, 0) for p in tree)
        main = status(self.pid)
        total_rss = sum(status(p).get("VmRSS", 0) for p in tree)
        return {
            "cpu_s_per_min": ns / 1e9 * 60 / secs,
            "daemon_cpu_s_per_min": (cpu_ns(self.pid) - self.start.get(self.pid, 0)) / 1e9 * 60 / secs,
            "rss_kib": main.get("VmRSS", 0),
            "hwm_kib": main.get("VmHWM", 0),
            "tree_rss_kib": total_rss,
            "threads": main.get("Threads", 0),
            "processes": len(tree),
        }


# ---------------------------------------------------------------- the agents

class Netdata:
    """A Netdata 1.37 instance in its own directories."""

    def __init__(self, name, port, role, stream_to=None, compression=True, plugins="internal"):
        self.base = tempfile.mkdtemp(prefix=f"nanodata-bench-{name}-")
        os.chmod(self.base, 0o755)  # the netdata user must reach its directories
        self.port = port
        for d in ("etc", "cache", "lib/registry", "lib/lock", "log"):
            os.makedirs(os.path.join(self.base, d), exist_ok=True)
        open(os.path.join(self.base, "etc/.opt-out-from-anonymous-statistics"), "w").close()
        b = self.base
        yes = "yes" if compression else "no"
        if role == "parent":
            plugin_lines = "\n".join(f"    {p} = no" for p in
                                     ["proc", "diskspace", "cgroups", "tc", "idlejitter", "timex", "statsd"] + EXTERNAL)
            web = f"    bind to = 127.0.0.1:{port}\n    allow streaming from = *\n"
            db = "    mode = ram\n"
            stream = (f"[stream]\n    enabled = no\n    enable compression = {yes}\n"
                      f"[{API_KEY}]\n    type = api\n    enabled = yes\n    allow from = *\n"
                      f"    default memory mode = ram\n    health enabled by default = no\n"
                      f"    enable compression = {yes}\n")
        else:
            if plugins == "internal":
                plugin_lines = "    enable running new plugins = no\n" + "\n".join(f"    {p} = no" for p in EXTERNAL)
            else:
                plugin_lines = ""
            web = "    mode = none\n"
            db = "    mode = none\n"
            stream = (f"[stream]\n    enabled = yes\n    destination = 127.0.0.1:{stream_to}\n"
                      f"    api key = {API_KEY}\n    enable compression = {yes}\n")
        conf = (f"[global]\n    hostname = {name}\n    run as user = netdata\n"
                f"[db]\n{db}    update every = 1\n"
                f"[directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n"
                f"    log = {b}/log\n    lock = {b}/lib/lock\n    home = {b}/lib\n"
                f"[web]\n{web}"
                f"[logs]\n    errors to trigger flood protection = 1000000\n"
                f"[registry]\n    enabled = no\n[health]\n    enabled = no\n"
                f"[statsd]\n    enabled = no\n[ml]\n    enabled = no\n"
                f"[plugins]\n{plugin_lines}\n")
        with open(os.path.join(b, "etc/netdata.conf"), "w") as f:
            f.write(conf)
        with open(os.path.join(b, "etc/stream.conf"), "w") as f:
            f.write(stream)
        subprocess.run(["chown", "-R", "netdata:", f"{b}/cache", f"{b}/lib", f"{b}/log"], check=True)
        env = dict(os.environ, DO_NOT_TRACK="1", DISABLE_TELEMETRY="1")
        self.proc = subprocess.Popen([NETDATA, "-D", "-c", f"{b}/etc/netdata.conf"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        if role == "parent":
            for _ in range(100):
                try:
                    get_json(port, "/api/v1/info")
                    break
                except OSError:
                    time.sleep(0.2)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)


class Nanodata:
    """A nanodata node built from this tree (release profile)."""

    def __init__(self, name, stream_to, mode, compression=True, binary=None):
        self.base = tempfile.mkdtemp(prefix=f"nanodata-bench-{name}-")
        b = self.base
        os.makedirs(f"{b}/etc")
        with open(f"{b}/nanodata.conf", "w") as f:
            f.write(f"[global]\n    hostname = {name}\n[db]\n    mode = {mode}\n    update every = 1\n"
                    f"[directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n"
                    f"    log = {b}/log\n    plugins = {b}/no-plugins\n"
                    f"[web]\n    mode = none\n"
                    f"[logs]\n    error = {b}/error.log\n    access = none\n    health = none\n")
        with open(f"{b}/etc/stream.conf", "w") as f:
            f.write(f"[stream]\n    enabled = yes\n    destination = 127.0.0.1:{stream_to}\n"
                    f"    api key = {API_KEY}\n    enable compression = {'yes' if compression else 'no'}\n")
        binary = binary or os.path.join(ROOT, "target/release/nanodata")
        self.proc = subprocess.Popen([binary, "-D", "-c", f"{b}/nanodata.conf"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)


class Relay(threading.Thread):
    """A TCP relay on 127.0.0.1 that counts the bytes each direction carries."""

    def __init__(self, target_port):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.target = target_port
        self.up = 0
        self.lock = threading.Lock()
        self.start()

    def run(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, False), daemon=True).start()

    def pipe(self, src, dst, upstream):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if upstream:
                    with self.lock:
                        self.up += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def bytes_up(self):
        with self.lock:
            return self.up


def child_size(parent_port, hostname):
    """charts, dimensions and samples per second of a child, as its parent sees it."""
    try:
        charts = get_json(parent_port, f"/host/{hostname}/api/v1/charts")["charts"]
    except (OSError, KeyError, ValueError):
        return 0, 0, 0.0, 0
    dims = sum(len(c["dimensions"]) for c in charts.values())
    samples = sum(len(c["dimensions"]) / max(1, c["update_every"]) for c in charts.values())
    # The agent's own self-monitoring charts (netdata.*: 4 charts for nanodata, over 100
    # for Netdata 1.37) are counters inside the daemon, not system metrics read from /proc.
    system_dims = sum(len(c["dimensions"]) for k, c in charts.items() if not k.startswith("netdata."))
    return len(charts), dims, samples, system_dims


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)


# ---------------------------------------------------------------- the benchmarks

def run(kind, seconds, compression, bins=None, smaps=False, json_out=None, with_netdata=False):
    if not os.path.exists(NETDATA):
        sys.exit("Netdata is not installed (apt-get install netdata)")
    if not bins:
        build()
    parent_port = free_port()
    parent = Netdata("bench-parent", parent_port, "parent", compression=compression)
    agents = []
    try:
        mode = "ram" if kind == "collect" else "none"
        plugins = "internal" if kind == "collect" else "default"
        if bins:
            relays = {label: Relay(parent_port) for label, _ in bins}
            agents = [(label, Nanodata(f"bench-{label}", relays[label].port, mode, compression, path))
                      for label, path in bins]
            if with_netdata:
                relays["netdata"] = Relay(parent_port)
                agents.append(("netdata", Netdata("bench-netdata", 0, "child", relays["netdata"].port,
                                                  compression, plugins)))
        else:
            relays = {"nanodata": Relay(parent_port), "netdata": Relay(parent_port)}
            agents = [("nanodata", Nanodata("bench-nanodata", relays["nanodata"].port, mode, compression)),
                      ("netdata", Netdata("bench-netdata", 0, "child", relays["netdata"].port, compression, plugins))]
        # Warm up: connections, definitions, replication, first collections.
        time.sleep(15)
        costs = {name: Cost(a.proc.pid) for name, a in agents}
        sent0 = {name: r.bytes_up() for name, r in relays.items()}
        time.sleep(seconds)
        results = {}
        breakdowns = {}
        for name, a in agents:
            r = costs[name].finish()
            if smaps and isinstance(a, Nanodata):
                breakdowns[name] = subprocess.run(
                    [sys.executable, os.path.join(ROOT, "bench/smaps.py"), str(a.proc.pid)],
                    capture_output=True, text=True).stdout
            charts, dims, samples, system_dims = child_size(parent_port, f"bench-{name}")
            r.update(charts=charts, dimensions=dims, samples_per_s=samples, system_dimensions=system_dims)
            r["bytes_per_s"] = (relays[name].bytes_up() - sent0[name]) / seconds
            r["bytes_per_sample"] = r["bytes_per_s"] / samples if samples else 0.0
            r["cpu_s_per_min_per_1000_dims"] = r["cpu_s_per_min"] / dims * 1000 if dims else 0.0
            r["cpu_s_per_min_per_1000_system_dims"] = (
                r["cpu_s_per_min"] / system_dims * 1000 if system_dims else 0.0)
            results[name] = r
    finally:
        for _, a in agents:
            a.stop()
        parent.stop()
    names = [name for name, _ in agents]
    report(kind, seconds, compression, results, names)
    for name, text in breakdowns.items():
        print(f"### smaps of {name}\n\n{text}")
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"kind": kind, "seconds": seconds, "compression": compression, "results": results}, f)


def report(kind, seconds, compression, r, names=("nanodata", "netdata")):
    rows = [
        ("charts", "charts", "{:.0f}"),
        ("dimensions", "dimensions", "{:.0f}"),
        ("CPU s/min (all processes)", "cpu_s_per_min", "{:.3f}"),
        ("CPU s/min (the daemon alone)", "daemon_cpu_s_per_min", "{:.3f}"),
        ("CPU s/min per 1000 dimensions", "cpu_s_per_min_per_1000_dims", "{:.3f}"),
        ("dimensions outside the agent's own netdata.* charts", "system_dimensions", "{:.0f}"),
        ("CPU s/min per 1000 of those", "cpu_s_per_min_per_1000_system_dims", "{:.3f}"),
        ("RSS of the daemon, KiB", "rss_kib", "{:.0f}"),
        ("RSS of all its processes, KiB", "tree_rss_kib", "{:.0f}"),
        ("threads of the daemon", "threads", "{:.0f}"),
        ("processes", "processes", "{:.0f}"),
        ("stream bytes/s", "bytes_per_s", "{:.0f}"),
        ("samples/s", "samples_per_s", "{:.0f}"),
        ("stream bytes per sample", "bytes_per_sample", "{:.2f}"),
    ]
    print(f"## {kind}: {seconds} s window, compression {'on' if compression else 'off'}\n")
    heads = ["Netdata 1.37.1" if n == "netdata" else n for n in names]
    # nanodata against Netdata keeps its historical ratio (nanodata / Netdata); binaries
    # against each other read as new / old (the last over the first).
    ratio_head = f"{heads[0]} / {heads[-1]}" if names[-1] == "netdata" else f"{heads[-1]} / {heads[0]}"
    print(f"| measure | {' | '.join(heads)} | {ratio_head} |")
    print("|---" + "|---:" * (len(names) + 1) + "|")
    for label, key, fmt in rows:
        first, last = r[names[0]], r[names[-1]]
        ratio = last[key] / first[key] if first.get(key) else float("nan")
        if names[-1] == "netdata":  # the historical column order: nanodata / Netdata
            ratio = first[key] / last[key] if last.get(key) else float("nan")
        cells = " | ".join(fmt.format(r[n][key]) for n in names)
        print(f"| {label} | {cells} | {ratio:.2f} |")
    print()
    print(json.dumps({"kind": kind, "seconds": seconds, "compression": compression, "results": r}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["collect", "stream"])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--compression", choices=["yes", "no"], default="yes")
    ap.add_argument("--bin", action="append", default=[], metavar="LABEL=PATH",
                    help="a nanodata binary to run instead of nanodata vs Netdata (repeat)")
    ap.add_argument("--with-netdata", action="store_true",
                    help="with --bin: run a Netdata 1.37 child beside the nanodata binaries")
    ap.add_argument("--smaps", action="store_true", help="print each nanodata child's smaps breakdown")
    ap.add_argument("--json-out", help="write the results as JSON to this file")
    a = ap.parse_args()
    bins = []
    for b in a.bin:
        label, sep, path = b.partition("=")
        if not sep or not label or not os.path.exists(path):
            sys.exit(f"--bin {b}: expected LABEL=PATH of an existing binary")
        bins.append((label, os.path.abspath(path)))
    run(a.kind, a.seconds, a.compression == "yes", bins, a.smaps, a.json_out, a.with_netdata)


if __name__ == "__main__":
    main()
