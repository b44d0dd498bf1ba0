#!/usr/bin/env python3
"""Measurements and tables of bench/storage_tiers.sh (storage tiers, nanodata beside Netdata 1.37).

  storage_measure.py snapshot PID                         memory of a process, one JSON line
  storage_measure.py part1 WHO ITER SAMPLES CACHE SNAP STOP_S [INFO]   disk per tier after a run
  storage_measure.py part3 ...                             part1's measure after the replicated day
  storage_measure.py part2 WHO LABEL TIMES RESPONSE       query times and what the answer held
  storage_measure.py report RESULTS CHILDREN DIMS         the Markdown tables

Disk is counted two ways: allocated (st_blocks × 512, what `du` shows) and apparent (st_size).
Netdata 1.37 keeps tier N in <cache>/dbengine (tier 0), <cache>/dbengine-tier1, -tier2 (datafiles
.ndf and journals .njf); nanodata keeps every tier of a dimension in that dimension's file
(<cache>/<machine guid>/<chart>/<dim>.db), preallocated rings, so its per-tier split comes from
the geometry it reports (see nanodata_tiers below) and its cost is per *retained* point.
"""

import json
import os
import statistics
import sys

WEEK_MINUTES = 7 * 24 * 60  # tier 1 points in a week
YEAR_HOURS = 365 * 24  # tier 2 points in a year
TIER_POINT_BYTES = (4, 14, 14)  # nanodata's layout (issue 17): tier 0 slot, tier 1/2 point


def kib_fields(path, names):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in names:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def snapshot(pid):
    status = kib_fields(f"/proc/{pid}/status", {"VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"})
    rollup = kib_fields(f"/proc/{pid}/smaps_rollup", {"Rss", "Pss", "Anonymous", "Pss_Anon", "Pss_File"})
    return {"status_kib": status, "smaps_rollup_kib": rollup}


def disk(root):
    """Bytes (allocated, apparent, files) under root, per first-level entry and per file type."""
    per_dir = {}
    files = 0
    for top in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        alloc = size = n = 0
        p = os.path.join(root, top)
        walker = os.walk(p) if os.path.isdir(p) else [(root, [], [top])]
        for d, _, names in walker:
            for name in names:
                try:
                    st = os.lstat(os.path.join(d, name))
                except OSError:
                    continue
                alloc += st.st_blocks * 512
                size += st.st_size
                n += 1
        per_dir[top] = {"alloc": alloc, "size": size, "files": n}
        files += n
    return per_dir


def nanodata_tiers(info):
    """Per-tier geometry nanodata reports in /api/v1/info: a list of tiers, each with its update
    every and slots per dimension. Accepts the shapes the issue asks for (`tiers`, `db_tiers`,
    `storage_tiers` lists of objects with `update_every` and one of `entries`/`slots`/`points`
    per dimension). Returns [(update_every, slots), ...] or None."""
    if not isinstance(info, dict):
        return None
    for key in ("storage-tiers", "db_tiers", "tiers", "storage_tiers", "dbengine_tiers"):
        tiers = info.get(key)
        if isinstance(tiers, list) and tiers and all(isinstance(t, dict) for t in tiers):
            out = []
            for t in tiers:
                ue = t.get("update_every") or t.get("update_every_s") or t.get("resolution")
                slots = next((t[k] for k in ("entries", "slots", "points", "points_per_dimension") if k in t), None)
                if ue is None or slots is None:
                    break
                out.append((int(ue), int(slots)))
            else:
                return out
    for v in info.values():
        if isinstance(v, dict):
            found = nanodata_tiers(v)
            if found:
                return found
    return None


def part1(who, iterations, samples, cache, snap_path, stop_s, info_path=None, part=1):
    with open(snap_path) as f:
        snap = json.load(f)
    d = disk(cache)
    out = {"part": part, "who": who, "iterations": iterations, "samples": samples, "stop_seconds": stop_s,
           "memory": snap, "disk": d}
    pts = [samples, samples // iterations, samples // (iterations * iterations)]
    out["points"] = pts
    if who == "netdata":
        names = ["dbengine", "dbengine-tier1", "dbengine-tier2"]
        tiers = []
        for i, n in enumerate(names):
            e = d.get(n, {"alloc": 0, "size": 0, "files": 0})
            tiers.append({"tier": i, "alloc": e["alloc"], "size": e["size"], "points": pts[i],
                          "bytes_per_point": e["alloc"] / pts[i] if pts[i] else None,
                          "apparent_per_point": e["size"] / pts[i] if pts[i] else None})
        out["tiers"] = tiers
        if sum(t["alloc"] for t in tiers) < 64 * 1024:
            out["error"] = "Netdata wrote (almost) nothing under dbengine*/"
    else:
        info = None
        if info_path and os.path.exists(info_path):
            try:
                with open(info_path) as f:
                    info = json.load(f)
            except ValueError:
                info = None
        hosts = {k: v for k, v in d.items() if v["files"] > 0 and os.path.isdir(os.path.join(cache, k))}
        alloc = sum(v["alloc"] for v in hosts.values())
        size = sum(v["size"] for v in hosts.values())
        files = sum(v["files"] for v in hosts.values())
        out["total"] = {"alloc": alloc, "size": size, "files": files}
        geo = nanodata_tiers(info)
        out["geometry"] = geo
        if alloc < 64 * 1024:
            out["error"] = ("nanodata stored (almost) nothing under its cache directory: this build does not "
                            "store `[db] mode = dbengine` on disk (issue 17 not merged yet?)")
        if geo and files:
            # Bytes per retained point: each tier's share of a file is slots × point size (the
            # layout); the measured file size says whether anything else (headers) is there.
            ring = sum(s * TIER_POINT_BYTES[min(i, 2)] for i, (_, s) in enumerate(geo))
            per_file = size / files
            overhead = (per_file - ring) / len(geo)  # header bytes, spread over the tiers
            out["tiers"] = [{"tier": i, "update_every": ue, "slots": s,
                             "bytes_per_point": (s * TIER_POINT_BYTES[min(i, 2)] + overhead) / s if s else None,
                             "file_bytes_per_dim": s * TIER_POINT_BYTES[min(i, 2)] + overhead}
                            for i, (ue, s) in enumerate(geo)]
            out["per_file"] = {"measured": per_file, "rings": ring}
    print(json.dumps(out))


def part2(who, label, times_path, resp_path):
    with open(times_path) as f:
        times = [float(x) for x in f.read().split()]
    out = {"part": 2, "who": who, "label": label, "n": len(times)}
    if times:
        out.update(median_ms=statistics.median(times) * 1000, min_ms=min(times) * 1000,
                   p90_ms=sorted(times)[int(len(times) * 0.9) - 1] * 1000 if len(times) >= 10 else None)
    try:
        with open(resp_path) as f:
            j = json.load(f)
        rows = j["result"]["data"]
        out["rows"] = len(rows)
        out["rows_with_data"] = sum(1 for r in rows if any(v is not None for v in r[1:]))
        out["db_points_per_tier"] = j.get("db_points_per_tier")
        out["first_entry"], out["last_entry"] = j.get("first_entry"), j.get("last_entry")
        out["bytes"] = os.path.getsize(resp_path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        out["error"] = f"the answer is not a jsonwrap data answer: {e}"
    print(json.dumps(out))


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def mib(b):
    return b / (1024 * 1024)


def report(results, children, dims):
    rows = []
    with open(results) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    ndims = children * dims
    p1 = {r["who"]: r for r in rows if r.get("part") == 1}
    print(f"## Storage tiers: disk and RAM ({children} children × {dims} dimensions = {ndims} dimensions)\n")
    if p1:
        it = next(iter(p1.values()))["iterations"]
        print(f"Tiers accelerated for the run: tier 1 every {it} s, tier 2 every {it * it} s (Netdata's minimum "
              f"`update every iterations` is 2); Netdata stopped cleanly (pages flushed) before `du`. "
              f"Bytes per point include datafile and journal overhead (Netdata) or the file header (nanodata).\n")
        print("| tier | nanodata bytes/point | Netdata bytes/point (du) | Netdata apparent | Netdata points stored | ratio nanodata/Netdata |")
        print("|---|---:|---:|---:|---:|---:|")
        nd, nt = p1.get("nanodata", {}), p1.get("netdata", {})
        for i in range(3):
            a = (nd.get("tiers") or [{}] * 3)[i] if i < len(nd.get("tiers") or []) else {}
            b = (nt.get("tiers") or [{}] * 3)[i] if i < len(nt.get("tiers") or []) else {}
            ra = a.get("bytes_per_point")
            rb = b.get("bytes_per_point")
            ratio = ra / rb if ra and rb else None
            print(f"| {i} | {fmt(ra)} | {fmt(rb)} | {fmt(b.get('apparent_per_point'))} | {fmt(b.get('points'))} | {fmt(ratio)} |")
        print()
        print(f"Disk for {ndims} dimensions at those costs (tier 0 not sized here: it is whatever the budget allows):\n")
        print("| history | nanodata GiB | Netdata GiB |")
        print("|---|---:|---:|")
        for label, i, n in (("a week per minute (tier 1, 10080 points)", 1, WEEK_MINUTES),
                            ("a year per hour (tier 2, 8760 points)", 2, YEAR_HOURS)):
            vals = []
            for r in (nd, nt):
                t = (r.get("tiers") or [])
                bpp = t[i].get("bytes_per_point") if i < len(t) else None
                vals.append(bpp * n * ndims / 2**30 if bpp else None)
            print(f"| {label} | {fmt(vals[0])} | {fmt(vals[1])} |")
        print()
        print("RAM at the end of the run, children connected (KiB; nanodata `map` RAM = mapped pages resident):\n")
        print("| parent | VmRSS | RssAnon | RssFile | Pss | KiB per dimension |")
        print("|---|---:|---:|---:|---:|---:|")
        for who in ("nanodata", "netdata"):
            r = p1.get(who)
            if not r:
                continue
            s = r["memory"]["status_kib"]
            sm = r["memory"]["smaps_rollup_kib"]
            per = s.get("VmRSS", 0) / ndims if ndims else 0
            print(f"| {who} | {s.get('VmRSS')} | {s.get('RssAnon')} | {s.get('RssFile')} | {sm.get('Pss')} | {per:.2f} |")
        print()
        for who, r in p1.items():
            if r.get("error"):
                print(f"**{who}: {r['error']}**\n")
        if nd and not nd.get("tiers") and not nd.get("error"):
            print("**nanodata: /api/v1/info did not report its tiers' geometry (see nanodata_tiers in "
                  f"bench/storage_measure.py); measured {nd.get('total')}**\n")
    p2 = [r for r in rows if r.get("part") == 2]
    if p2:
        print("## Query time: one chart, a day of history\n")
        print("| query | parent | median ms | min ms | p90 ms | rows with data | points read per tier |")
        print("|---|---|---:|---:|---:|---:|---|")
        by = {}
        for r in p2:
            by.setdefault(r["label"], {})[r["who"]] = r
            print(f"| `{r['label']}` | {r['who']} | {fmt(r.get('median_ms'), 3)} | {fmt(r.get('min_ms'), 3)} | "
                  f"{fmt(r.get('p90_ms'), 3)} | {r.get('rows_with_data', 'n/a')}/{r.get('rows', 'n/a')} | "
                  f"{r.get('db_points_per_tier')} |")
        print()
        for label, sides in by.items():
            a, b = sides.get("nanodata", {}).get("median_ms"), sides.get("netdata", {}).get("median_ms")
            if a and b:
                print(f"- `{label}`: nanodata/Netdata median = {a / b:.2f}")
        for r in p2:
            if r.get("error"):
                print(f"**{r['who']} {r['label']}: {r['error']}**")
        print()
    p3 = [r for r in rows if r.get("part") == 3]
    for r in p3:
        print(f"Cross-check, {r['who']} after the replicated day (tier grouping 60 × 60, not accelerated): "
              + ", ".join(f"tier {t['tier']} {fmt(t.get('bytes_per_point'))} B/point ({t['points']} points)"
                          for t in r.get("tiers", [])) + "\n")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "snapshot":
        print(json.dumps(snapshot(int(argv[2]))))
    elif cmd in ("part1", "part3"):
        part1(argv[2], int(argv[3]), int(argv[4]), argv[5], argv[6], float(argv[7]),
              argv[8] if len(argv) > 8 else None, part=1 if cmd == "part1" else 3)
    elif cmd == "part2":
        part2(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "report":
        report(argv[2], int(argv[3]), int(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
