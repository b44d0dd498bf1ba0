#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target to fuzz/corpus/<target>/.

Seeds are cut from real Netdata 1.37 traffic (the captures in ../shared/peer/captures, when
present) and hand-written for each parser. The result is checked in; run this again only to
change the seeds (`python3 fuzz/make_seeds.py [captures dir]`). The fuzzer's own findings
are never written back here by `make fuzz` (it runs on a copy).
"""
import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The captures live beside the checkout: ../shared/peer/captures from the project root.
CAPS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "peer", "captures")


def cap(name):
    p = os.path.join(CAPS, name)
    with open(p, "rb") as f:
        return f.read()


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lines_upto(text, limit):
    """The whole lines of `text` that fit in `limit` bytes."""
    cut = text[:limit]
    return cut[: cut.rfind(b"\n") + 1]


# ---- HTTP request heads and query strings ----------------------------------------------
def get(target, extra=""):
    return f"GET {target} HTTP/1.1\r\nHost: localhost:19999\r\nAccept-Encoding: gzip, deflate\r\n{extra}\r\n"


http = {
    "info": get("/api/v1/info"),
    "charts": get("/api/v1/charts"),
    "chart": get("/api/v1/chart?chart=system.cpu"),
    "data-json": get("/api/v1/data?chart=system.cpu&format=json&after=-60&before=0&points=20&group=average&gtime=0&options=ms%7Cflip%7Cjsonwrap%7Cnonzero"),
    "data-csv": get("/api/v1/data?chart=system.net&format=csv&after=-30&points=5&group=max&options=abs%7Cpercentage%7Cnull2zero&dimensions=a%7Cb"),
    "data-context": get("/api/v1/data?context=net&format=datatable&group=median&group_options=5&points=0"),
    "data-html": get("/api/v1/data?chart=system.cpu&format=html&group=percentile&group_options=95&after=1700000000&before=1700000060&filename=x.html"),
    "data-bad": get("/api/v1/data?chart=system.cpu&points=-1&after=abc&group=nope&format=%zz"),
    "allmetrics": get("/api/v1/allmetrics?format=prometheus&help=yes&types=yes&timestamps=no&source=sum&server=prom1&prefix=nd&names=no"),
    "allmetrics-shell": get("/api/v1/allmetrics?format=shell"),
    "allmetrics-json": get("/api/v1/allmetrics?format=json&filter=system.*"),
    "alarms": get("/api/v1/alarms?all"),
    "alarm_variables": get("/api/v1/alarm_variables?chart=system.cpu"),
    "registry": get("/api/v1/registry?action=hello"),
    "badge": get("/api/v1/badge.svg?chart=system.cpu&after=-60&points=3&group=max&options=percentage%7Cunaligned&label=cpu%20%26%20%3Cme%3E&units=seconds%20ago&multiply=-3&divide=0&precision=60&scale=100000&refresh=auto&value_color=red%3E5%7Cyellow%3C%3Dnull%7C%7Cgreen&label_color=ff0&text_color_val=%23000&fixed_width_lbl=9&fixed_width_val=1000000000"),
    "badge-alarm": get("/host/fuzz/api/v1/badge.svg?chart=system.net&alarm=no_such&dimension=a&dim=b&refresh=-2147483648"),
    "host": get("/host/fuzz/api/v1/data?chart=system.net&points=3", "Connection: close\r\n"),
    "host-guid": get("/host/fuzz-guid/api/v1/charts"),
    "netdata-conf": get("/netdata.conf"),
    "index": "GET / HTTP/1.0\r\n\r\n",
    "options": "OPTIONS /api/v1/data HTTP/1.1\r\nOrigin: http://x\r\n\r\n",
    "head": "HEAD /favicon.ico HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
    "pipelined": get("/api/v1/info") + get("/api/v1/data?chart=system.cpu&points=1") + "GET /index.html HTTP/1.1\r\n\r\n",
    "percent": get("/api/v1/data?chart=system%2Ecpu&format=json&options=seconds+flip"),
    "post": "POST /api/v1/info HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
}
for k, v in http.items():
    put("http", k, v)
put("http", "stream-capture", cap("nocomp-1-child-request.raw"))

# ---- static web files: request targets, traversal spellings --------------------------------
web_files = {
    "index": get("/"),
    "file": get("/app.js"),
    "deep": get("/sub/deeper/page.html", "If-None-Match: W/\"1-2-3\"\r\n"),
    "dir": get("/sub"),
    "dotdot": get("/../secret.txt"),
    "encoded": get("/%2e%2e/secret.txt"),
    "double": get("/%252e%252e/secret.txt"),
    "backslash": get("/sub\\..\\..\\secret.txt"),
    "symlink-out": get("/out.txt"),
    "symlink-up": get("/sub/up.txt"),
    "symlink-base": get("/base/secret.txt"),
    "symlink-in": get("/in.js", "If-Modified-Since: Tue, 17 Jan 2023 17:56:13 GMT\r\n"),
    "host": get("/host/fuzz/base/web/app.js"),
    "slashes": get("//base//secret.txt"),
}
for k, v in web_files.items():
    put("web_files", k, v)

# ---- the STREAM request ---------------------------------------------------------------
put("stream_request", "nocomp-capture", cap("nocomp-1-child-request.raw"))
put("stream_request", "comp-capture", cap("comp-1-child-request.raw"))
put("stream_request", "minimal",
    "STREAM key=11111111-2222-3333-4444-555555555555&hostname=h&machine_guid=08beed44-e5fb-11f1-a5d6-02fc00000001 HTTP/1.1\r\n\r\n")
put("stream_request", "v1-old",
    "STREAM key=11111111-2222-3333-4444-555555555555&hostname=old+child&registry_hostname=r&machine_guid=08beed44-e5fb-11f1-a5d6-02fc00000002&update_every=2&os=linux&timezone=Europe%2FAthens&abbrev_timezone=EET&utc_offset=7200&hops=3&tags=a%20b HTTP/1.1\r\nUser-Agent: netdata/v1.10.0\r\nAccept: */*\r\n\r\n")
put("stream_request", "no-key", "STREAM hostname=h&ver=5 HTTP/1.1\r\n\r\n")
put("stream_request", "bad-escape", "STREAM key=%zz&hostname=%00 HTTP/1.1\r\n\r\n")

# ---- the line protocol ----------------------------------------------------------------
head = cap("nocomp-3-child-stream-head.txt")
steady = cap("nocomp-5-child-steady-one-iteration.txt")
fake1 = cap("fake-1-no-replication-begin-usec.txt")
fake2 = cap("fake-2-function-call-and-result.txt")
fake3 = cap("fake-3-replication-window-reply.txt")
to_child = cap("nocomp-4-parent-to-child-all.txt")
decoded = cap("comp-5-decoded-head.txt")
strip_comments = lambda b: b"".join(l for l in b.splitlines(True) if not l.startswith(b"#"))

# One line per distinct keyword (and a few variants) for the tokenizer and the parser.
seen = {}
for line in (head + steady + strip_comments(fake1 + fake2 + fake3)).splitlines():
    w = line.split(b" ", 1)[0]
    if w and seen.get(w, 0) < 2:
        seen[w] = seen.get(w, 0) + 1
        name = re.sub(rb"[^A-Za-z_]", b"", w).decode() or "x"
        put("words", f"{name}-{seen[w]}", line[:400])
        put("command", f"{name}-{seen[w]}", line[:400] + b"\n")
plugin_lines = [
    "CHART test.one '' 'One thing' 'things' family context line 100 1 'obsolete detail store_first hidden' plugin module",
    "DIMENSION x 'the x' incremental -1 1024 hidden",
    "DIMENSION y '' percentage-of-absolute-row 0 0 'obsolete noreset nooverflow'",
    "BEGIN test.one 1000000",
    "SET x = -9223372036854775808",
    "SET y = 0x7fffffffffffffff",
    "SET z =",
    "VARIABLE GLOBAL gv = 1.5e308",
    "VARIABLE CHART cv = -inf",
    "LABEL 'k' = 4 \"v\"",
    "CLABEL k v 1",
    "FUNCTION GLOBAL \"processes\" 10 \"help\"",
    "FUNCTION_RESULT_BEGIN tx 200 application/json 1795301138",
    "RBEGIN '' 1795301175 1795301176 1795301235",
    "RSET user 12.5 \"R\"",
    "RDSTATE user 1795300178185851 26 0.5 0.25",
    "RSSTATE 1795300178185851 1795300178000000",
    "REND 1 1795301175 1795301235 true 1795301175 1795301235 1795301235",
    "CLAIMED_ID 08beed44-e5fb-11f1-a5d6-02fc00000001 NULL",
    "CHART_DEFINITION_END 1795300000 1795300178 1795300178",
    "a=b='c d'\"e\"   \t\r",
]
for i, l in enumerate(plugin_lines):
    put("words", f"hand-{i}", l)
    put("command", f"hand-{i}", l + "\n")
put("command", "block-cpu", lines_upto(strip_comments(fake3), 1800))

# Sessions: byte 0 = trust (bit 0: a streaming child) and clock step per line (bits 1..).
defs = head[head.find(b"CHART "):]
first_charts = lines_upto(defs, 6000)
charts = set(re.findall(rb'^CHART "([^"]+)"', first_charts, re.M))
iter_blocks = [b for b in re.split(rb"(?=^BEGIN )", steady, flags=re.M) if b.startswith(b"BEGIN ")]
sys_cpu = next(b for b in iter_blocks if b.startswith(b'BEGIN "system.cpu"'))
cpu_def = re.search(rb'^CHART "system\.cpu".*?(?=^CHART )', head, re.M | re.S).group(0)
put("session", "child-head", b"\x01" + lines_upto(head, 7000))
put("session", "child-cpu-iterations", b"\x09" + lines_upto(head, 1500) + cpu_def + sys_cpu * 4)
put("session", "child-replication", b"\x05" + cpu_def + strip_comments(fake3))
put("session", "child-function", b"\x03" + strip_comments(fake2))
put("session", "child-decoded", b"\x01" + lines_upto(decoded, 6000))
put("session", "plugin", b"\x08" + ("\n".join([
    "CHART test.one '' 'One' 'things' '' '' line 100 1",
    "DIMENSION x '' absolute 1 1",
    "DIMENSION y '' incremental 1 1",
    "DIMENSION z '' percentage-of-incremental-row 1 1",
    "CLABEL a b 1", "CLABEL_COMMIT",
    "BEGIN test.one", "SET x = 1", "SET y = 10", "SET z = 5", "END",
    "BEGIN test.one 1000000", "SET x = 2", "SET y = 30", "SET z = 5", "END",
    "BEGIN test.one 2000000", "SET x = 3", "SET y = 20", "END",
    "VARIABLE CHART v = 5", "FLUSH",
    "BEGIN test.one 3599000000", "SET x = 4", "END",
    "CHART test.one '' 'One' 'things' '' '' area 100 5 obsolete",
    "LABEL x = 1 y", "OVERWRITE labels", "DISABLE", ""])).encode())
put("session", "extremes", b"\x01" + ("\n".join([
    "CHART x.y '' 'X' 'u' f c line 1 1",
    "DIMENSION a '' incremental 1 1", "DIMENSION b '' absolute -1 9223372036854775807",
    "BEGIN x.y", "SET a = 9223372036854775807", "SET b = -9223372036854775808", "END",
    "BEGIN x.y 18446744073709551615", "SET a = -1", "END",
    "RSSTATE 1700000000500000 1700000000000000",
    "RDSTATE a 18446744073709551615 -9223372036854775808 1e308 -inf",
    "BEGIN x.y 1000000", "SET a = 0x7fffffffffffffff", "END",
    "CHART_DEFINITION_END -9223372036854775808 9223372036854775807 0",
    "REND 4294967295 -1 9223372036854775807 true -9223372036854775808 9223372036854775807 0",
    "RBEGIN x.y 9223372036854775807 -9223372036854775808 1", "RSET a 1e308 R", ""])).encode())
put("session", "plugin-replay", b"\x01" + ("\n".join([
    "CHART a.b '' 'AB' 'u' f c line 1 1",
    "DIMENSION d1 '' absolute 1 1", "DIMENSION d2 '' absolute 1 1",
    "CHART_DEFINITION_END 1700000000 1700000010 1700000010",
    "RBEGIN a.b 1699999999 1700000000 1700000010",
    "RSET d1 1.5 ''", "RSET d2 NAN E",
    "RBEGIN '' 1700000000 1700000001 1700000010", "RSET d1 2 R",
    "RDSTATE d1 1700000001000000 7 1.5 2", "RSSTATE 1700000001000000 1700000001000000",
    "REND 1 1700000000 1700000001 true 1699999999 1700000001 1700000010",
    "BEGIN a.b 1000000", "SET d1 = 3", "END", ""])).encode())

# ---- LZ4 ------------------------------------------------------------------------------
lz = cap("comp-3-child-stream-head-32KiB.bin")
put("lz4", "stream-32k", b"\x00" + lz)
blocks_end = 0
at = 0
while at + 4 <= len(lz) and at < 6000:
    h = lz[at:at + 4]
    n = (h[1] & 0x7F) | (h[2] & 0x7F) << 7
    at += 4 + n
put("lz4", "stream-6k", b"\x00" + lz[:at])
put("lz4", "stream-first-block", b"\x00" + lz[:4 + ((lz[1] & 0x7F) | (lz[2] & 0x7F) << 7)])
put("lz4", "plain-mixed", b"\x00" + b"BEGIN x\n" + lz[:200])
put("lz4", "roundtrip-protocol", b"\x07" + lines_upto(steady, 5000))
put("lz4", "roundtrip-small-chunks", b"\x01" + lines_upto(head, 1200))
put("lz4", "bomb-header", b"\x00" + bytes([0xFA, 0xFF, 0xFF, 0x0A]) + b"\x1f\x00" * 64)

# ---- configuration --------------------------------------------------------------------
for f in sorted(os.listdir(os.path.join(ROOT, "conf.d"))):
    p = os.path.join(ROOT, "conf.d", f)
    if f.endswith(".conf") and os.path.isfile(p):
        with open(p, "rb") as fh:
            data = fh.read()
        put("config", f, (b"\x01" if f == "stream.conf" else b"\x00") + data[:12000])
put("config", "hand-netdata", b"\x00" + b"""\xef\xbb\xbf# comment
[global]
    hostname = router
    history = 3600
    update every = 2s
    memory mode = map
    run as user = netdata
[db]
    mode = ram
    retention = 1h
    dbengine multihost disk space MB = 256MiB
[web]
    bind to = 127.0.0.1=dashboard|registry ^SSL=optional *:19998
    allow connections from = localhost 10.*
    default port = 70000
    enable gzip compression = maybe
[plugin:proc]
    /proc/stat = yes
[broken
    lost = key
key without section
[directories]
    cache = /tmp/x  ; not a comment
""")
put("config", "hand-stream", b"\x01" + b"""[stream]
    enabled = yes
    destination = tcp:10.0.0.1:19999:SSL [::1]:2000 unix:/run/x.sock
    api key = 11111111-2222-3333-4444-555555555555
    timeout seconds = 60
    buffer size bytes = 10MiB
    enable compression = yes
[11111111-2222-3333-4444-555555555555]
    type = api
    enabled = yes
    allow from = * !10.1.*
    default memory mode = dbengine
    health enabled by default = auto
[08beed44-e5fb-11f1-a5d6-02fc00000001]
    type = machine
    memory mode = none
""")

# ---- database files -------------------------------------------------------------------
def fnv(b, h=0xCBF29CE484222325):
    for c in b:
        h ^= c
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def dbfile(entries, update_every=1, last_t=None, first_t=None, slots=None, chart="fuzz.chart", dim="dim"):
    nt = -(1 << 63)
    ids = fnv(dim.encode(), fnv(b"\0", fnv(chart.encode())))
    b = b"NDRRDv1\0" + struct.pack("<IIII", 1, 64, update_every, entries) + struct.pack("<Q", ids)
    h = fnv(b)
    b += struct.pack("<II", (h ^ (h >> 32)) & 0xFFFFFFFF, 0)
    b += struct.pack("<qqq", nt if last_t is None else last_t, nt if first_t is None else first_t, 0)
    slots = slots if slots is not None else [(1 << 24) | i for i in range(entries)]
    return b + b"".join(struct.pack("<I", s) for s in slots)


# byte 0: bit 0 fix checksum, bit 1 fix owner, bit 2 map; bits 3-4 update_every-1. byte 1: entries.
put("db_file", "valid-save", bytes([0, 16]) + dbfile(16, 1, 1_699_999_990, 1_699_999_975))
put("db_file", "valid-map", bytes([4, 16]) + dbfile(16, 1, 1_699_999_990, 1_699_999_975))
put("db_file", "resize", bytes([4, 8]) + dbfile(32, 1, 1_699_999_990, 1_699_999_960))
put("db_file", "empty-times", bytes([0, 4]) + dbfile(4))

# archive_block: byte 0 even = codec × 2 then a stored block; odd = point bytes to encode.
put("archive_block", "columns-zero-counter", bytes([4, 120, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
put("archive_block", "columns-steady-rate", bytes([4, 120, 0, 0x00, 0xD0, 0x0F, 0, 0x20, 0, 0, 0x30, 0, 0]))
put("archive_block", "points-thousandths", bytes([1]) + struct.pack("<fffH", 80.236, 12.345, 67.891, 2))
put("archive_block", "points-gap", bytes([1]) + struct.pack("<fffH", 3.0, 1.0, 2.0, 2) + bytes(14))
put("db_file", "ue2-future", bytes([8, 4]) + dbfile(4, 2, 1_700_200_000, 1_700_199_994))
put("db_file", "fixups", bytes([7, 3]) + dbfile(3, 1, 5, 3, chart="other"))
put("db_file", "truncated", bytes([3, 16]) + dbfile(16, 1, 100, 90)[:70])
put("db_file", "header-only", bytes([1, 1]) + dbfile(0, 1, slots=[]))

# ---- simple patterns, bind to, destination --------------------------------------------
for i, s in enumerate([
    "*\nanything\n",
    "!*.cpu system.* *net* !apps.*\nsystem.cpu\nsystem.net\napps.cpu\n",
    "localhost 10.* 192.168.* !10.0.0.1 ::1\n127.0.0.1\n10.0.0.1\n10.1.2.3\n",
    "a*b*c* !**x** *|*\nabc\naxbxc\n",
    "   \n\n",
    "|!|*|\n*\n",
]):
    put("simple_pattern", f"hand-{i}", s)
for i, s in enumerate([
    "* [::]:19999 127.0.0.1:19998=dashboard|registry",
    "localhost:19999^SSL=force [::1]^SSL=optional=streaming|netdata.conf",
    "10.0.0.1:0 [fe80::1%eth0]:65535 *:65536 unix:/run/netdata.sock",
    "=dashboard ^SSL= [ ]: :: [::",
]):
    put("bind", f"hand-{i}", s)
for i, s in enumerate([
    "10.0.0.1 10.0.0.2:19999 [::1]:20000 parent.example.org",
    "tcp:10.0.0.1:19999:SSL udp:1.2.3.4 tcp:[fe80::1%eth0]:19999 unix:/run/x",
    "host:99999 :19999 [::1 tcp: :SSL",
]):
    put("destination", f"hand-{i}", s)
# ---- health: expressions and health.d entries (hand-written, nanodata's own) --------------
for i, s in enumerate([
    "$this > (($status >= $WARNING) ? (75) : (85))",
    "($this * 100 / $load_cpu_number) > (($status >= $WARNING) ? 175 : 200)",
    "${a b} + $x.y - abs(-3) * 2 / 0",
    "nan == nan AND inf != 1 or NOT 0",
    "$used * 100 / ($avail + $used)",
    "1 ? 2 : 3 ? 4 : 5",
    "((((((1))))))",
    "$ ${ } = <> !! -- ++",
]):
    put("health_expr", f"hand-{i}", s)
for i, s in enumerate([
    " template: cpu_busy\n       on: system.cpu\n   lookup: average -10m unaligned of user,system\n"
    "    every: 1m\n     warn: $this > 80\n     crit: $this > 95\n    delay: up 1m down 5m multiplier 1.5 max 1h\n"
    "   repeat: warning 1h critical 10m\n  options: no-clear-notification\n       to: sysadmin\n",
    "    alarm: a\n       on: x.y\n     calc: $v\n    every: 10s\n     info: one \\\n      two\n"
    "    alarm: b\n       on: x.y\n   lookup: bogus -1m\n    every: 1s\n"
    "    alarm: c\n       on: x.y\n   lookup: sum -1h at -5m every 2m absolute percentage min2max null2zero match-names of a b foreach *\n",
    "host labels: _os=linux\n template: t\n on: ctx\n families: !/dev *\n hosts: *\n os: linux freebsd\n"
    " plugin: proc\n module: /proc/net/dev\n charts: net.*\n green: 1\n red: 2e3\n calc: $green\n every: never\n",
]):
    put("health_config", f"hand-{i}", s)
# ---- what a child reads from its parent ------------------------------------------------
reply = cap("nocomp-2-parent-reply.raw").rstrip(b"\r\n") + b"\n"
put("parent_lines", "capture-head", reply + lines_upto(strip_comments(to_child), 3000))
put("parent_lines", "hand", reply + b"""REPLAY_CHART "system.cpu" "true" 1700000010 1700000100
REPLAY_CHART system.cpu false 1700000000 1700000050
REPLAY_CHART 'system.cpu' "true" 0 0
REPLAY_CHART x true 1 2
REPLAY_CHART system.cpu false 9223372036854775807 -9223372036854775808
FUNCTION 2a4c8bd4-0000-11f1-8000-000000000001 10 "processes"
HELLO
""")
put("parent_lines", "rejected", b"SAME LOCALHOST\nREPLAY_CHART system.cpu true -5 -1\n")
# ---- exporting: backend answers and backlog spool files (hand-written) ---------------------
for i, s in enumerate([
    b"\x05HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n",
    b"\x01HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\ncannot parse the WriteRequest",
    b"\x10HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nConnection: close\r\n\r\n",
    b"\x1fHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: t\r\n\r\n",
    b"\x82HTTP/1.0 503 Service Unavailable\r\n\r\nbody until close",
    b"\x03HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
]):
    put("http_response", f"hand-{i}", s)


def spool(kind, last_export, records):
    out = b"NDXSPL1\n" + struct.pack("<Q", len(kind)) + kind + struct.pack("<q", last_export)
    for compressed, raw_len, metrics, made, data in records:
        out += bytes([compressed]) + struct.pack("<QQq", raw_len, metrics, made)
        out += struct.pack("<Q", len(data)) + data
    return out


line = b"netdata.node.system.cpu.user 1.5000000 1700000000\n"
# An LZ4 block of literals only: a token with the literal count, then the literals.
lz4_hello = bytes([0x50]) + b"hello"
kind = b"graphite average netdata"
put("exporting_spool", "empty", spool(kind, 1700000000, []))
put("exporting_spool", "plain", spool(kind, 1700000010, [(0, len(line), 1, 1700000000, line)] * 2))
put("exporting_spool", "lz4", spool(kind, 1700000020, [(1, 5, 1, 1700000010, lz4_hello), (0, len(line), 1, 1700000020, line)]))
put("exporting_spool", "other-kind", spool(b"opentsdb sum netdata", 0, [(0, 1, 1, 0, b"x")]))
put("exporting_spool", "bad-length", spool(kind, 0, [(1, 1 << 40, 1, 0, lz4_hello)]))

print("seeds written under", os.path.join(HERE, "corpus"))
