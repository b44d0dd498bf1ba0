#!/usr/bin/env python3
"""Where a process's resident memory goes, from /proc/PID/smaps, by category.

  bench/smaps.py PID            a markdown table: Rss, Pss, Private_Dirty per category
  bench/smaps.py PID --json     the same as one JSON object (for bench/ab.sh and scripts)
  bench/smaps.py PID --maps     every mapping with Rss > 0, largest first (to dig further)

Categories:
  binary text      the executable's read-only and executable file mappings (code, rodata)
  binary data      the executable's writable mappings (.data, .bss, relro)
  heap             [heap] (brk) and anonymous mappings that belong to a malloc arena
                   (any other anonymous mapping without a guard page below it)
  thread stacks    [stack] of the main thread, and anonymous mappings directly above a
                   PROT_NONE guard page (how glibc and musl lay out a thread's stack)
  libraries        file mappings of shared objects (libc, ld.so; a static build has none)
  other files      every other file mapping
  kernel           [vdso], [vvar], [vsyscall]

Thread stacks: only the pages a thread has touched are resident, so the figure is how deep
each stack has actually gone (plus the guard). The per-stack list under the table gives it.
"""
import json
import os
import re
import sys

HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$")


def mappings(pid):
    """Every mapping of pid with its fields (kB values) in address order."""
    out, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = HEADER.match(line)
            if m:
                cur = {"start": int(m.group(1), 16), "end": int(m.group(2), 16), "perms": m.group(3),
                       "inode": int(m.group(4)), "path": m.group(5).strip()}
                out.append(cur)
                continue
            k, _, v = line.partition(":")
            parts = v.split()
            if cur is not None and len(parts) == 2 and parts[1] == "kB":
                cur[k] = int(parts[0])
    return out


def classify(pid, maps):
    try:
        exe = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
    except OSError:
        exe = None
    stacks = []
    prev = None
    for m in maps:
        path, perms = m["path"], m["perms"]
        if exe and path == exe:
            m["cat"] = "binary data" if "w" in perms else "binary text"
        elif path == "[stack]":
            m["cat"] = "thread stacks"
            stacks.append(("main", m))
        elif path in ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]"):
            m["cat"] = "kernel"
        elif path == "[heap]":
            m["cat"] = "heap"
        elif path.startswith("/"):
            m["cat"] = "libraries" if ".so" in os.path.basename(path) else "other files"
        elif perms.startswith("---"):
            m["cat"] = "guard pages"
        elif (prev is not None and prev["perms"].startswith("---") and prev["end"] == m["start"]
              and prev["end"] - prev["start"] <= 64 * 1024 and not prev["path"]):
            # A small PROT_NONE page directly below a read-write anonymous mapping: a
            # thread's stack (glibc puts the guard at the low end; musl does the same).
            # A malloc arena's reserve is a PROT_NONE region *above* its used part instead.
            m["cat"] = "thread stacks"
            stacks.append((f"{m['start']:x}", m))
        else:
            m["cat"] = "heap"  # anonymous: malloc arenas and large (mmap) allocations
        prev = m
    return stacks


def summary(pid):
    maps = mappings(pid)
    stacks = classify(pid, maps)
    cats = {}
    for m in maps:
        c = cats.setdefault(m["cat"], {"rss_kib": 0, "pss_kib": 0, "private_dirty_kib": 0, "size_kib": 0, "n": 0})
        c["rss_kib"] += m.get("Rss", 0)
        c["pss_kib"] += m.get("Pss", 0)
        c["private_dirty_kib"] += m.get("Private_Dirty", 0)
        c["size_kib"] += m.get("Size", 0)
        c["n"] += 1
    total = sum(m.get("Rss", 0) for m in maps)
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads", "RssAnon", "RssFile"):
                status[k] = int(v.split()[0])
    return {
        "pid": pid,
        "total_rss_kib": total,
        "status": status,
        "categories": cats,
        "stacks": [{"at": name, "size_kib": m.get("Size", 0), "rss_kib": m.get("Rss", 0)} for name, m in stacks],
    }, maps


ORDER = ["binary text", "binary data", "libraries", "heap", "thread stacks", "guard pages", "other files", "kernel"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pid = int(sys.argv[1])
    s, maps = summary(pid)
    if "--json" in sys.argv:
        print(json.dumps(s))
        return
    if "--maps" in sys.argv:
        for m in sorted(maps, key=lambda m: -m.get("Rss", 0)):
            if m.get("Rss", 0):
                print(f"{m.get('Rss', 0):6} kB  {m['Size'] if 'Size' in m else 0:8} kB  {m['perms']}  "
                      f"{m['cat']:14} {m['path']}")
        return
    st = s["status"]
    print(f"pid {pid}: VmRSS {st.get('VmRSS')} KiB (anon {st.get('RssAnon')}, file {st.get('RssFile')}), "
          f"VmHWM {st.get('VmHWM')} KiB, {st.get('Threads')} threads\n")
    print("| category | mappings | size KiB | Rss KiB | Pss KiB | private dirty KiB |")
    print("|---|---:|---:|---:|---:|---:|")
    cats = s["categories"]
    for name in ORDER + sorted(set(cats) - set(ORDER)):
        if name in cats:
            c = cats[name]
            print(f"| {name} | {c['n']} | {c['size_kib']} | {c['rss_kib']} | {c['pss_kib']} | {c['private_dirty_kib']} |")
    print(f"| **total** | | | **{s['total_rss_kib']}** | | |")
    if s["stacks"]:
        print("\nthread stacks (size / resident KiB): " +
              ", ".join(f"{x['size_kib']}/{x['rss_kib']}" for x in s["stacks"]))


if __name__ == "__main__":
    main()
