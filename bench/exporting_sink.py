#!/usr/bin/env python3
"""Loopback sinks for bench/exporting_load.sh: what an exporting connector sends, counted.

    exporting_sink.py --tcp graphite=PORT --tcp opentsdb=PORT --tcp json=PORT \
        --http rw=PORT --control PORT --dump DIR

* `--tcp NAME=PORT`: a line sink (graphite plaintext, opentsdb telnet, json plaintext): it
  reads every connection to the end and counts bytes and newline-terminated lines (one line
  is one exported sample for all three formats); with `--keep-head KB` the first KB of each
  connection are written under `--dump` (`NAME.connN`), to look at.
* `--http NAME=PORT`: an HTTP/1.1 sink (Prometheus remote write): every request is answered
  `204 No Content` (keep-alive); it counts requests, bytes on the wire (request line, headers
  and body) and body bytes, and keeps each body as a file under `--dump` (at most
  `--dump-cap` MB; the rest are counted, not kept) so that its samples can be counted later
  without costing CPU while the exporter is measured.
* `--control PORT`: `GET /stats` gives every sink's counters as JSON; `GET /decode?name=rw&
  from=A&to=B` decodes the bodies of requests A..B-1 (snappy block format, then the protobuf
  `WriteRequest`) and gives the number of series and samples in them.

Loopback only. Stops on SIGTERM/SIGINT.
"""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
BURST_GAP = 1.0  # s without data that separates two batches
STATS = {}  # name -> dict of counters


def counters(name, kind):
    c = {"kind": kind, "connections": 0, "bytes": 0, "lines": 0, "bursts": [], "last_t": 0.0}
    if kind == "http":
        c.update({"requests": 0, "body_bytes": 0, "kept": 0, "kept_bytes": 0, "not_kept": 0})
    STATS[name] = c
    return c


def arrived(c):
    """Notes when a batch begins: data after BURST_GAP s of silence (the last 32 kept)."""
    now = time.time()
    if now - c["last_t"] > BURST_GAP:
        c["bursts"] = c["bursts"][-31:] + [now]
    c["last_t"] = now


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def serve(sock, handler, *args):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handler, args=(conn, *args), daemon=True).start()


def line_conn(conn, c, name, dump, head):
    with LOCK:
        c["connections"] += 1
        seq = c["connections"]
    kept = 0
    try:
        while True:
            b = conn.recv(1 << 20)
            if not b:
                break
            if dump and kept < head:
                with open(os.path.join(dump, f"{name}.conn{seq}"), "ab") as f:
                    f.write(b[:head - kept])
                kept += min(len(b), head - kept)
            n = b.count(b"\n")
            with LOCK:
                arrived(c)
                c["bytes"] += len(b)
                c["lines"] += n
    except OSError:
        pass
    finally:
        conn.close()


def http_conn(conn, c, name, dump, cap):
    with LOCK:
        c["connections"] += 1
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                b = conn.recv(1 << 16)
                if not b:
                    return
                buf += b
                if len(buf) > 1 << 20:
                    return  # no headers within 1 MB: not HTTP
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            while len(buf) < length:
                b = conn.recv(max(1 << 16, length - len(buf)))
                if not b:
                    return
                buf += b
            body, buf = buf[:length], buf[length:]
            with LOCK:
                arrived(c)
                seq = c["requests"]
                c["requests"] += 1
                c["bytes"] += len(head) + 4 + length
                c["body_bytes"] += length
                keep = bool(dump) and c["kept_bytes"] + length <= cap
                if keep:
                    c["kept_bytes"] += length
                    c["kept"] += 1
                else:
                    c["not_kept"] += 1
            if keep:
                with open(os.path.join(dump, f"{name}.{seq}"), "wb") as f:
                    f.write(body)
            conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


# --- decoding (after the measured window) ------------------------------------------------

def varint(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        if x < 0x80:
            return r, i
        s += 7


def snappy_block(b):
    """Snappy block format (the one the remote-write spec requires)."""
    n, i = varint(b, 0)
    out = bytearray()
    while i < len(b):
        tag = b[i]
        i += 1
        t = tag & 3
        if t == 0:  # literal
            ln = tag >> 2
            if ln >= 60:
                k = ln - 59
                ln = int.from_bytes(b[i:i + k], "little")
                i += k
            ln += 1
            out += b[i:i + ln]
            i += ln
            continue
        if t == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | b[i]
            i += 1
        elif t == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(b[i:i + 2], "little")
            i += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(b[i:i + 4], "little")
            i += 4
        if off == 0 or off > len(out):
            raise ValueError("snappy: bad offset")
        start = len(out) - off
        if off >= ln:
            out += out[start:start + ln]
        else:
            for k in range(ln):
                out.append(out[start + k])
    if len(out) != n:
        raise ValueError(f"snappy: {len(out)} bytes, header says {n}")
    return bytes(out)


def fields(b, i, end):
    """(field number, wire type, payload start, payload end) of each field in b[i:end]."""
    while i < end:
        key, i = varint(b, i)
        f, w = key >> 3, key & 7
        if w == 2:
            ln, i = varint(b, i)
            yield f, w, i, i + ln
            i += ln
        elif w == 0:
            _, j = varint(b, i)
            yield f, w, i, j
            i = j
        elif w == 1:
            yield f, w, i, i + 8
            i += 8
        elif w == 5:
            yield f, w, i, i + 4
            i += 4
        else:
            raise ValueError(f"protobuf: wire type {w}")


def count_write_request(body):
    raw = snappy_block(body)
    series = samples = 0
    for f, w, s, e in fields(raw, 0, len(raw)):
        if f == 1 and w == 2:  # TimeSeries
            series += 1
            samples += sum(1 for g, wg, _, _ in fields(raw, s, e) if g == 2 and wg == 2)
    return series, samples, len(raw)


class Control(BaseHTTPRequestHandler):
    dump = None

    def log_message(self, *a):
        pass

    def reply(self, obj, code=200):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/stats":
            with LOCK:
                return self.reply(STATS)
        if u.path == "/decode":
            name = q.get("name", "")
            a, b = int(q.get("from", 0)), int(q.get("to", 0))
            r = {"requests": 0, "series": 0, "samples": 0, "raw_bytes": 0, "missing": 0, "errors": 0}
            for k in range(a, b):
                p = os.path.join(self.dump or "", f"{name}.{k}")
                if not self.dump or not os.path.exists(p):
                    r["missing"] += 1
                    continue
                with open(p, "rb") as f:
                    body = f.read()
                try:
                    se, sa, raw = count_write_request(body)
                except (ValueError, IndexError) as e:
                    r["errors"] += 1
                    r["error"] = str(e)
                    continue
                r["requests"] += 1
                r["series"] += se
                r["samples"] += sa
                r["raw_bytes"] += raw
            return self.reply(r)
        self.reply({"error": "not found"}, 404)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tcp", action="append", default=[], metavar="NAME=PORT")
    ap.add_argument("--http", action="append", default=[], metavar="NAME=PORT")
    ap.add_argument("--control", type=int, required=True)
    ap.add_argument("--dump", help="directory for the HTTP bodies")
    ap.add_argument("--keep-head", type=int, default=0, metavar="KB",
                    help="KB kept of what each line-sink connection sends first (under --dump)")
    ap.add_argument("--dump-cap", type=int, default=512, help="MB of bodies kept at most")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for spec in a.tcp:
        name, port = spec.split("=")
        s = listen(int(port))
        c = counters(name, "tcp")
        threading.Thread(target=serve, args=(s, line_conn, c, name, a.dump, a.keep_head << 10), daemon=True).start()
    for spec in a.http:
        name, port = spec.split("=")
        s = listen(int(port))
        c = counters(name, "http")
        threading.Thread(target=serve, args=(s, http_conn, c, name, a.dump, a.dump_cap << 20), daemon=True).start()
    Control.dump = a.dump
    srv = ThreadingHTTPServer(("127.0.0.1", a.control), Control)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
