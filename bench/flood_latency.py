#!/usr/bin/env python3
"""Latency of /api/v1/info on a nanodata parent while one scripted child misbehaves.

Starts the given nanodata binary as a parent on loopback (RAM mode, a temporary directory),
connects one child with the STREAM handshake and, while it sends its load, asks
/api/v1/info over and over on fresh connections. Prints p50/p99/max latency and how many
answers arrived.

Loads:
  flood  one chart of --dims dimensions, BEGIN (no duration) / SET x dims / END as fast
         as the socket takes it, for --seconds.
  leap   the attack of issue 12: a chart of 1000 dimensions, then --lines groups of
         `BEGIN "c" 3599000000` / one SET / END (each moves the chart's clock an hour).
  query  a child replicates two points 5200 s apart into a chart of 1000 dimensions; then
         another client asks, over and over, --query (default: every dimension over the
         whole stored range, 5.2 M stored points).

  python3 bench/flood_latency.py --bin target/release/nanodata --load flood --seconds 10
  python3 bench/flood_latency.py --bin target/release/nanodata --load leap --lines 300
  python3 bench/flood_latency.py --bin target/release/nanodata --load query --seconds 10
"""

import argparse
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

KEY = "11111111-2222-3333-4444-555555555555"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_parent(binary, port):
    d = tempfile.mkdtemp(prefix="flood-latency-")
    os.makedirs(f"{d}/etc")
    os.makedirs(f"{d}/log")
    with open(f"{d}/nanodata.conf", "w") as f:
        f.write(
            f"[global]\n\thostname = flood-parent\n"
            f"[directories]\n\tconfig = {d}/etc\n\tcache = {d}/cache\n\tlib = {d}/lib\n\tlog = {d}/log\n"
            f"[logs]\n\terror = {d}/log/error.log\n\taccess = none\n\thealth = none\n"
            f"[db]\n\tmode = ram\n\tupdate every = 1\n\tretention = 3600\n"
            f"[web]\n\tbind to = 127.0.0.1:{port}\n"
        )
    with open(f"{d}/etc/stream.conf", "w") as f:
        f.write(f"[{KEY}]\n\tenabled = yes\n")
    p = subprocess.Popen([binary, "-D", "-c", f"{d}/nanodata.conf"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, d
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the parent did not start")


def replicate(s, dims=1000, span=5200):
    """A chart flood.c of `dims` dimensions holding two points `span` - 1 seconds apart."""
    t = int(time.time())
    first, last = t - span, t - 1
    s.sendall(definition(dims) + f"CHART_DEFINITION_END {first} {last} {t}\n".encode())
    buf = b""
    while True:
        while b"\n" not in buf:
            buf += s.recv(4096)
        line, buf = buf.split(b"\n", 1)
        w = line.decode().split()
        flag, a, b = w[2].strip('"'), int(w[3]), int(w[4])
        out = ['RBEGIN "flood.c"']
        for end in (first + 1, last):
            if end - 1 >= a and end <= b:
                out.append(f"RBEGIN '' {end - 1} {end} {t}")
                out += [f'RSET "d{i}" {i + 1}.0000000 ""' for i in range(dims)]
        out.append(f"REND 1 {first} {last} {flag} {a} {b} {t}")
        s.sendall(("\n".join(out) + "\n").encode())
        if flag == "true":
            return


def asker(port, path, stop, stats, gzip):
    while not stop.is_set():
        t = time.monotonic()
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=120)
            enc = "Accept-Encoding: gzip\r\n" if gzip else ""
            c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{enc}Connection: close\r\n\r\n".encode())
            got = b""
            while True:
                b = c.recv(1 << 20)
                if not b:
                    break
                got += b
            c.close()
            stats.append((got[9:12].decode(errors="replace"), len(got), time.monotonic() - t))
        except OSError:
            pass


def child(port):
    s = socket.create_connection(("127.0.0.1", port))
    q = (f"key={KEY}&hostname=flooder&machine_guid={uuid.uuid4()}&update_every=1&os=linux"
         f"&hops=1&ver=15352")
    s.sendall(f"STREAM {q} HTTP/1.1\r\nUser-Agent: flood/1\r\n\r\n".encode())
    reply = s.recv(256)
    if not reply.startswith(b"Hit me baby"):
        raise SystemExit(f"not accepted: {reply!r}")
    return s


def definition(dims):
    out = ['CHART "flood.c" "" "t" "u" "f" "flood.c" "line" 1 1 "   " "p" ""']
    out += [f'DIMENSION "d{i}" "d{i}" "absolute" 1 1 "  "' for i in range(dims)]
    return ("\n".join(out) + "\n").encode()


def drain(sock, stop):
    # select, not a socket timeout: the sending thread shares the socket.
    while not stop.is_set():
        try:
            if select.select([sock], [], [], 0.2)[0] and not sock.recv(65536):
                return
        except OSError:
            return


def info_latency(port, stop, seconds):
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop.is_set():
        t = time.monotonic()
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=60)
            c.sendall(b"GET /api/v1/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                got += b
            c.close()
            if got.startswith(b"HTTP/1.1 200"):
                lat.append(time.monotonic() - t)
        except OSError:
            pass
        time.sleep(0.01)
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--load", choices=["flood", "leap", "query"], default="flood")
    ap.add_argument("--query", default="/host/flooder/api/v1/data?chart=flood.c&after=-6000&points=0")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--gzip", action="store_true", help="the query client accepts gzip")
    ap.add_argument("--dims", type=int, default=100)
    ap.add_argument("--lines", type=int, default=300)
    a = ap.parse_args()
    port = free_port()
    parent, d = start_parent(a.bin, port)
    stop = threading.Event()
    try:
        time.sleep(1.5)
        s = child(port)
        stats = []
        if a.load == "query":
            replicate(s)
            threading.Thread(target=asker, args=(port, a.query, stop, stats, a.gzip), daemon=True).start()
        threading.Thread(target=drain, args=(s, stop), daemon=True).start()
        if a.load == "query":
            pass
        elif a.load == "flood":
            s.sendall(definition(a.dims))
            batch = ('BEGIN "flood.c"\n' + "".join(f'SET "d{i}" = {i}\n' for i in range(a.dims))
                     + "END\n").encode() * 50

            def send():
                end = time.monotonic() + a.seconds
                n = 0
                while time.monotonic() < end and not stop.is_set():
                    try:
                        s.sendall(batch)
                    except OSError:
                        break  # the parent is being stopped
                    n += len(batch)
                print(f"child sent {n / 1e6:.1f} MB")

            threading.Thread(target=send, daemon=True).start()
        else:
            s.sendall(definition(1000))
            time.sleep(0.5)
            leap = b'BEGIN "flood.c" 3599000000\nSET "d0" = 1\nEND\n' * a.lines
            s.sendall(leap)
            print(f"child sent {len(leap)} bytes of leaps")
        lat = info_latency(port, stop, a.seconds)
        stop.set()
        if stats:
            took = sorted(x[2] for x in stats)
            print(f"query: {len(stats)} answers, status {sorted(set(x[0] for x in stats))}, "
                  f"{max(x[1] for x in stats)} bytes max, {took[len(took) // 2] * 1000:.0f} ms p50, "
                  f"{took[-1] * 1000:.0f} ms max")
        lat.sort()
        if not lat:
            print("no /api/v1/info answer at all")
            return
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        print(f"load={a.load} answers={len(lat)} p50={p(0.5):.1f}ms p99={p(0.99):.1f}ms "
              f"max={lat[-1] * 1000:.1f}ms")
    finally:
        stop.set()
        parent.terminate()
        try:
            parent.wait(10)
        except subprocess.TimeoutExpired:
            parent.kill()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
