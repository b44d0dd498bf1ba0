#!/usr/bin/env python3
"""Measurement and tables of bench/exporting_load.sh.

    exporting_measure.py window PID REGEX EVERY WINDOWS SINK_URL > SNAPS.json
    exporting_measure.py record WHO CONNECTOR CHILDREN SNAPS.json SINK_URL >> RESULTS.jsonl
    exporting_measure.py report RESULTS.jsonl EVERY

* `window` waits until the wall clock is half an interval past a multiple of EVERY (exports
  happen on multiples of `update every` on both parents, so each window then holds one
  batch), then takes WINDOWS+1 snapshots EVERY s apart, at fixed times: the time, utime+stime
  of the threads of PID whose name matches REGEX (read from /proc/PID/task/*/stat in this one
  process: a parent may have a thousand threads), of the whole process, its VmRSS and the
  sinks' counters (`SINK_URL/stats`).
* `record` makes one JSON line of a run; for remote write it asks the sink to decode the
  requests of each window (snappy, protobuf) and count their samples — to be called once the
  parent is stopped, so that decoding does not take CPU from it.
* `report` prints one row per parent and connector, then nanodata / Netdata.
"""

import json
import os
import re
import statistics
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def get(url):
    with urllib.request.urlopen(url, timeout=600) as r:
        return json.load(r)


def cpu_of(stat_path):
    """utime + stime (s) from a /proc stat file (fields 14 and 15)."""
    with open(stat_path) as f:
        after = f.read().rsplit(") ", 1)[1].split()
    return (int(after[11]) + int(after[12])) / TICK


def snapshot(pid, name_re, sink):
    t = time.time()
    cpu, n = 0.0, 0
    task = f"/proc/{pid}/task"
    for tid in os.listdir(task):
        try:
            with open(f"{task}/{tid}/comm") as f:
                comm = f.read().rstrip("\n")
            if name_re.search(comm):
                cpu += cpu_of(f"{task}/{tid}/stat")
                n += 1
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"t": t, "cpu": cpu, "threads": n, "proc": cpu_of(f"/proc/{pid}/stat"), "rss_kib": rss,
            "sink": get(f"{sink}/stats")}


def window(pid, regex, every, windows, sink):
    every, windows, name_re = float(every), int(windows), re.compile(regex)
    now = time.time()
    start = (now // every) * every + every / 2
    while start < now + 1:
        start += every
    snaps = []
    for k in range(windows + 1):
        time.sleep(max(0.0, start + k * every - time.time()))
        snaps.append(snapshot(pid, name_re, sink))
    json.dump(snaps, sys.stdout)


def record(who, connector, children, snaps_path, sink):
    with open(snaps_path) as f:
        snaps = json.load(f)
    decodes = []
    if connector == "remote_write":
        for a, b in zip(snaps, snaps[1:]):
            lo, hi = a["sink"][connector]["requests"], b["sink"][connector]["requests"]
            decodes.append(get(f"{sink}/decode?name={connector}&from={lo}&to={hi}"))
    print(json.dumps({"who": who, "connector": connector, "children": int(children), "snaps": snaps,
                      "decodes": decodes}))


def run_row(r):
    c = r["connector"]
    snaps = r["snaps"]
    w = len(snaps) - 1
    per = []  # (cpu s, samples, wire bytes, payload bytes, batches begun) per window
    bursts = snaps[-1]["sink"][c].get("bursts", [])
    for k in range(1, w + 1):
        a, b = snaps[k - 1], snaps[k]
        sa, sb = a["sink"][c], b["sink"][c]
        cpu = b["cpu"] - a["cpu"]
        wire = sb["bytes"] - sa["bytes"]
        if c == "remote_write":
            d = r["decodes"][k - 1] if k - 1 < len(r["decodes"]) else {}
            samples = d.get("samples", 0)
            payload = sb["body_bytes"] - sa["body_bytes"]
        else:
            samples = sb["lines"] - sa["lines"]
            payload = wire
        begun = sum(1 for t in bursts if a["t"] <= t < b["t"])
        per.append((cpu, samples, wire, payload, begun))
    secs = snaps[-1]["t"] - snaps[0]["t"]
    cpu = sum(p[0] for p in per)
    samples = sum(p[1] for p in per)
    wire = sum(p[2] for p in per)
    payload = sum(p[3] for p in per)
    us = [p[0] / p[1] * 1e6 for p in per if p[1]]
    nan = float("nan")
    return {
        "who": r["who"],
        "connector": c,
        "children": r["children"],
        "threads": snaps[-1]["threads"],
        "batch": statistics.median(p[1] for p in per),
        "samples": samples,
        "wire_per": wire / samples if samples else nan,
        "payload_per": payload / samples if samples else nan,
        "cpu_pct": cpu / secs * 100 if secs else nan,
        "us": cpu / samples * 1e6 if samples else nan,
        "us_med": statistics.median(us) if us else nan,
        "proc_pct": (snaps[-1]["proc"] - snaps[0]["proc"]) / secs * 100 if secs else nan,
        "rss_mib": snaps[-1]["rss_kib"] / 1024,
        "begun": [p[4] for p in per],
        "errors": sum(d.get("errors", 0) + d.get("missing", 0) for d in r["decodes"]),
    }


def report(path, every):
    with open(path) as f:
        rows = [run_row(json.loads(line)) for line in f if line.strip()]
    print(f"| parent | connector | children | exporting threads | samples per batch (median) | samples in window "
          f"| wire B/sample | payload B/sample | exporting CPU (% of a core) | CPU µs/sample | "
          f"median of the {every} s windows | parent CPU (% of a core) | parent RSS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for x in rows:
        print(f"| {x['who']} | {x['connector']} | {x['children']} | {x['threads']} | {x['batch']:.0f} | {x['samples']} "
              f"| {x['wire_per']:.2f} | {x['payload_per']:.2f} | {x['cpu_pct']:.2f} % | {x['us']:.3f} | "
              f"{x['us_med']:.3f} | {x['proc_pct']:.1f} % | {x['rss_mib']:.0f} MiB |")
        if any(b != 1 for b in x["begun"]):
            notes.append(f"{x['who']} {x['connector']}: batches begun per window {x['begun']} (1 each expected; "
                         "the window median mixes batches)")
        if x["errors"]:
            notes.append(f"{x['who']} {x['connector']}: {x['errors']} remote-write request(s) not decoded")
    for n in notes:
        print(f"\n* {n}", end="")
    if notes:
        print()
    by = {(x["who"], x["connector"]): x for x in rows}
    pairs = [(c, by[("nanodata", c)], by[("netdata", c)]) for (w, c) in by if w == "nanodata" and ("netdata", c) in by]
    if pairs:
        print()
        print("| connector | CPU µs/sample, nanodata / Netdata | median of windows | wire B/sample | exporting CPU "
              "| parent CPU | parent RSS |")
        print("|---|---:|---:|---:|---:|---:|---:|")

        def q(a, b):
            return f"{a / b:.3f}" if b else "n/a"

        for c, n, d in pairs:
            print(f"| {c} | {q(n['us'], d['us'])} | {q(n['us_med'], d['us_med'])} | {q(n['wire_per'], d['wire_per'])} "
                  f"| {q(n['cpu_pct'], d['cpu_pct'])} | {q(n['proc_pct'], d['proc_pct'])} "
                  f"| {q(n['rss_mib'], d['rss_mib'])} |")


def main():
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "window" and len(args) == 5:
        window(*args)
    elif cmd == "record" and len(args) == 5:
        record(*args)
    elif cmd == "report" and len(args) == 2:
        report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
