#!/usr/bin/env python3
"""The tables of bench/exporting_load.sh from its results (one JSON line per parent run).

    exporting_report.py RESULTS.jsonl EVERY

Each run holds snapshots at the window boundaries (time, CPU of the exporting threads and of
the process, RSS, the sinks' counters) and, for remote write, the decoded samples of each
window's requests. Printed: one row per parent and connector, then nanodata / Netdata.
"""

import json
import statistics
import sys


def run_row(r):
    c = r["connector"]
    snaps = r["snaps"]
    w = len(snaps) - 1
    per = []  # (cpu s, samples, wire bytes, payload bytes) per window
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
        per.append((cpu, samples, wire, payload))
    secs = snaps[-1]["t"] - snaps[0]["t"]
    cpu = sum(p[0] for p in per)
    samples = sum(p[1] for p in per)
    wire = sum(p[2] for p in per)
    payload = sum(p[3] for p in per)
    us = [p[0] / p[1] * 1e6 for p in per if p[1]]
    # Batches that began in the window, and how close one came to a window boundary.
    bounds = [x["t"] for x in snaps]
    bursts = [t for t in snaps[-1]["sink"][c].get("bursts", []) if bounds[0] <= t <= bounds[-1]]
    near = min((abs(t - b) for t in bursts for b in bounds), default=float("nan"))
    return {
        "who": r["who"],
        "connector": c,
        "children": r["children"],
        "threads": snaps[-1]["threads"],
        "batch": statistics.median(p[1] for p in per),
        "samples": samples,
        "wire_per": wire / samples if samples else float("nan"),
        "payload_per": payload / samples if samples else float("nan"),
        "cpu_pct": cpu / secs * 100 if secs else float("nan"),
        "us": cpu / samples * 1e6 if samples else float("nan"),
        "us_med": statistics.median(us) if us else float("nan"),
        "proc_pct": (snaps[-1]["proc"] - snaps[0]["proc"]) / secs * 100 if secs else float("nan"),
        "rss_mib": snaps[-1]["rss_kib"] / 1024,
        "batches": len(bursts),
        "windows": w,
        "near": near,
        "errors": sum(d.get("errors", 0) + d.get("missing", 0) for d in r["decodes"]),
    }


def snaps_of(x):
    return range(x["windows"])


def main():
    path, every = sys.argv[1], sys.argv[2]
    rows = [run_row(json.loads(line)) for line in open(path) if line.strip()]
    print(f"| parent | connector | children | exporting threads | samples per batch (median) | samples in window "
          f"| wire B/sample | payload B/sample | exporting CPU (% of a core) | CPU µs/sample | "
          f"median of {every} s windows | parent CPU (% of a core) | parent RSS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for x in rows:
        print(f"| {x['who']} | {x['connector']} | {x['children']} | {x['threads']} | {x['batch']:.0f} | {x['samples']} "
              f"| {x['wire_per']:.2f} | {x['payload_per']:.2f} | {x['cpu_pct']:.2f} % | {x['us']:.3f} | "
              f"{x['us_med']:.3f} | {x['proc_pct']:.1f} % | {x['rss_mib']:.0f} MiB |")
        if x["batches"] != len(snaps_of(x)) or x["near"] < 1:
            print(f"|   | {x['batches']} batches began in the window, one {x['near']:.1f} s from a window edge "
                  f"(windows may hold 0 or 2 batches) | | | | | | | | | | | |")
        if x["errors"]:
            print(f"|   | {x['errors']} remote-write request(s) not decoded | | | | | | | | | | | |")
    by = {(x["who"], x["connector"]): x for x in rows}
    pairs = [(c, by[("nanodata", c)], by[("netdata", c)]) for (w, c) in by if w == "nanodata" and ("netdata", c) in by]
    if pairs:
        print()
        print("| connector | CPU µs/sample nanodata / Netdata | median windows | wire B/sample | exporting CPU % "
              "| parent RSS |")
        print("|---|---:|---:|---:|---:|---:|")

        def q(a, b):
            return f"{a / b:.3f}" if b else "n/a"

        for c, n, d in pairs:
            print(f"| {c} | {q(n['us'], d['us'])} | {q(n['us_med'], d['us_med'])} | {q(n['wire_per'], d['wire_per'])} "
                  f"| {q(n['cpu_pct'], d['cpu_pct'])} | {q(n['rss_mib'], d['rss_mib'])} |")


if __name__ == "__main__":
    main()
