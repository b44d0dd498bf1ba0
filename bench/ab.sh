#!/usr/bin/env bash
# Old against new on the same machine in one run: bench/ab.sh OLD_REV [NEW_REV]
#
#   bench/ab.sh main                 main against the checked-out HEAD
#   bench/ab.sh v0.1 my-branch       any two revisions git knows
#   make bench-ab OLD=main [NEW=HEAD]
#
# Builds both revisions (git worktrees in a temporary directory, one shared cargo target
# directory so dependencies are compiled once, seeded from this checkout's target/release):
# the full release binary, the headless one (--no-default-features) for its size, and the
# load generator (examples/stream_load, from NEW, so both parents get the same load). Then,
# ROUNDS times, old and new alternately (new first on even rounds):
#   parent    bench/parent_load.sh: CHILDREN × DIMS dimensions/s into a nanodata parent;
#             samples per CPU-second of the parent (its CPU is read in 10 ms ticks: keep the
#             load at 1000 children or more, or the figure moves in steps of 10 %)
#   stream    bench/compare.py stream --bin old --bin new: both headless children (memory
#             mode none, web none, default collectors) at once, streaming to one Netdata
#             parent; child CPU s/min and RSS (with each child's smaps breakdown)
#   web       bench/web.sh NETDATA=no: wrk requests/s on /api/v1/data and allmetrics
# and prints one markdown table: old | new | new/old, medians over the rounds, plus the
# stripped binary sizes (x86_64 full and headless; armv7 and mips when the router
# toolchain of cross/setup.sh exists and CROSS is not "no").
#
# Knobs (environment): ROUNDS=3 CHILDREN=1000 DIMS=200 PARENT_SECONDS=20 STREAM_SECONDS=60
#   WEB_SECONDS=10 WEB_WARMUP=15 CROSS=yes|no (default yes if the toolchain exists)
#   CROSS_TARGETS="armv7-unknown-linux-musleabihf mips-unknown-linux-musl"
#   SKIP="parent stream web" (any of them) AB_DIR=dir (keep the work directory there)
# About 15 minutes with the defaults and CROSS=no on 2 cores (the first build of the
# dependencies adds a few minutes); CROSS adds 8 router builds of a minute or two each once
# the toolchain's target directory holds std and the dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
[ $# -ge 1 ] || { sed -n '2,30p' "$0"; exit 2; }
old_rev=$1
new_rev=${2:-HEAD}
rounds=${ROUNDS:-3}
children=${CHILDREN:-1000}
dims=${DIMS:-200}
parent_secs=${PARENT_SECONDS:-20}
stream_secs=${STREAM_SECONDS:-60}
web_secs=${WEB_SECONDS:-10}
web_warmup=${WEB_WARMUP:-15}
skip=" ${SKIP:-} "
xc=${XC:-${XDG_CACHE_HOME:-$HOME/.cache}/nanodata-cross}
cross=${CROSS:-$([ -f "$xc/stamp/setup" ] && echo yes || echo no)}
cross_targets=${CROSS_TARGETS:-armv7-unknown-linux-musleabihf mips-unknown-linux-musl}

work=${AB_DIR:-$(mktemp -d /tmp/nanodata-ab.XXXXXX)}
mkdir -p "$work"
chmod 755 "$work"
results=$work/results.tsv   # round, label, metric, value
: > "$results"
cleanup() {
    for l in old new; do
        [ -d "$work/src-$l" ] && git -C "$repo" worktree remove --force "$work/src-$l" 2>/dev/null || true
    done
    [ -n "${AB_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
say() { printf '== %s\n' "$*" >&2; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$results"; }

# ---------------------------------------------------------------- builds
export CARGO_TARGET_DIR=$work/target
if [ ! -d "$CARGO_TARGET_DIR/release" ] && [ -d target/release/deps ]; then
    mkdir -p "$CARGO_TARGET_DIR"
    cp -a target/release "$CARGO_TARGET_DIR/"   # compiled dependencies: only nanodata rebuilds
fi
declare -A rev_of=([old]=$old_rev [new]=$new_rev)
for l in old new; do
    src=$work/src-$l
    git -C "$repo" worktree add --detach "$src" "${rev_of[$l]}" >/dev/null 2>&1
    say "$l = ${rev_of[$l]} ($(git -C "$src" log --oneline -1 | cut -c1-70))"
    mkdir -p "$work/bin/$l"
    t0=$(date +%s)
    (cd "$src" && nice cargo build --release --locked --bin nanodata -q)
    cp "$CARGO_TARGET_DIR/release/nanodata" "$work/bin/$l/nanodata"
    (cd "$src" && nice cargo build --release --locked --bin nanodata --no-default-features -q)
    cp "$CARGO_TARGET_DIR/release/nanodata" "$work/bin/$l/nanodata-headless"
    if [ "$l" = new ]; then
        (cd "$src" && nice cargo build --release --locked --example stream_load -q)
        cp "$CARGO_TARGET_DIR/release/examples/stream_load" "$work/bin/stream_load"
    fi
    say "$l built in $(( $(date +%s) - t0 )) s"
    for b in nanodata nanodata-headless; do
        strip -o "$work/bin/$l/$b.stripped" "$work/bin/$l/$b"
        kind=$([ "$b" = nanodata ] && echo full || echo headless)
        record 0 "$l" "size x86_64 $kind, bytes" "$(stat -c %s "$work/bin/$l/$b.stripped")"
    done
    if [ "$cross" != no ]; then
        for t in $cross_targets; do
            for kind in full headless; do
                flag=$([ $kind = headless ] && echo --headless || true)
                out=$work/bin/$l/nanodata-$t-$kind
                # The router toolchain's own target directory: std and the dependencies built
                # with -Zbuild-std are reused, only nanodata is rebuilt (a minute or two each).
                if "$src/cross/build.sh" "$t" --release $flag --out "$out" \
                        >/dev/null 2>"$work/cross-$l-$t-$kind.log"; then
                    . "$repo/cross/lib.sh" && xc_target "$t"
                    "$XC_GNU-strip" -o "$out.stripped" "$out"
                    record 0 "$l" "size ${t%%-*} $kind, bytes" "$(stat -c %s "$out.stripped")"
                else
                    say "cross build $t $kind of $l failed (see $work/cross-$l-$t-$kind.log)"
                fi
            done
        done
    fi
done

# ---------------------------------------------------------------- runs
parent_run() {  # label round
    local out
    out=$(BIN="$work/bin/$1/nanodata" LOAD="$work/bin/stream_load" NETDATA=no DIMS=$dims \
        SECONDS_RUN=$parent_secs bench/parent_load.sh "$children" 2>&1) || { say "parent run of $1 failed"; return; }
    local spc
    spc=$(printf '%s\n' "$out" | sed -n 's/.*(\([0-9.]*\) samples per CPU-second).*/\1/p' | head -1)
    [ -n "$spc" ] && record "$2" "$1" "parent: samples per CPU-second ($children × $dims dims)" "$spc"
    local rss
    rss=$(printf '%s\n' "$out" | sed -n 's/.*KiB connected, \([0-9]*\) KiB at the end.*/\1/p' | head -1)
    [ -n "$rss" ] && record "$2" "$1" "parent: RSS at the end, KiB" "$rss"
}

web_run() {  # label round
    local out
    out=$(BIN="$work/bin/$1/nanodata" NETDATA=no WARMUP=$web_warmup bench/web.sh "$web_secs" 32 2>&1) \
        || { say "web run of $1 failed"; return; }
    printf '%s\n' "$out" | awk -v r="$2" -v l="$1" '$2 == "nanodata" && $3 ~ /^[0-9.]+$/ {
        split($1, a, "?"); printf "%s\t%s\tweb: %s req/s\t%s\n", r, l, a[1], $3 }' >> "$results"
}

stream_run() {  # round
    local j=$work/stream-$1.json
    python3 bench/compare.py stream --seconds "$stream_secs" --bin "old=$work/bin/old/nanodata" \
        --bin "new=$work/bin/new/nanodata" --smaps --json-out "$j" > "$work/stream-$1.md" 2>&1 \
        || { say "stream run failed (see $work/stream-$1.md)"; return; }
    python3 - "$j" "$1" >> "$results" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for label, v in r.items():
    print(f"{sys.argv[2]}\t{label}\tstream child: CPU s/min\t{v['cpu_s_per_min']:.4f}")
    print(f"{sys.argv[2]}\t{label}\tstream child: RSS KiB\t{v['rss_kib']}")
    print(f"{sys.argv[2]}\t{label}\tstream child: threads\t{v['threads']}")
    print(f"{sys.argv[2]}\t{label}\tstream: bytes per sample\t{v['bytes_per_sample']:.3f}")
EOF
}

t_start=$(date +%s)
for r in $(seq 1 "$rounds"); do
    order="old new"
    [ $((r % 2)) -eq 0 ] && order="new old"
    say "round $r/$rounds ($order)"
    for l in $order; do
        [[ $skip == *" parent "* ]] || parent_run "$l" "$r"
        [[ $skip == *" web "* ]] || web_run "$l" "$r"
    done
    [[ $skip == *" stream "* ]] || stream_run "$r"
done
say "runs took $(( $(date +%s) - t_start )) s"

# ---------------------------------------------------------------- the table
echo
echo "## A/B: old = $old_rev ($(git -C "$repo" rev-parse --short "$old_rev")), new = $new_rev ($(git -C "$repo" rev-parse --short "$new_rev")); medians of $rounds rounds"
echo
python3 - "$results" <<'EOF'
import statistics, sys
vals = {}
order = []
for line in open(sys.argv[1]):
    rnd, label, metric, value = line.rstrip("\n").split("\t")
    if metric not in vals:
        vals[metric] = {"old": [], "new": []}
        order.append(metric)
    vals[metric][label].append(float(value))
print("| measure | old | new | new / old | runs |")
print("|---|---:|---:|---:|---:|")
for m in order:
    o, n = vals[m]["old"], vals[m]["new"]
    if not o or not n:
        continue
    mo, mn = statistics.median(o), statistics.median(n)
    fmt = "{:.0f}" if max(mo, mn) >= 100 else "{:.3f}"
    ratio = mn / mo if mo else float("nan")
    print(f"| {m} | {fmt.format(mo)} | {fmt.format(mn)} | {ratio:.3f} | {len(o)} |")
EOF
echo
echo "(higher is better for samples per CPU-second and req/s; lower for CPU, RSS and sizes)"
if [ -f "$work/stream-$rounds.md" ]; then
    echo
    echo "### smaps of the stream children in the last round"
    sed -n '/^### smaps/,$p' "$work/stream-$rounds.md"
fi
