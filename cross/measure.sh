#!/usr/bin/env bash
# Reproduces the footprint numbers of cross/README.md.
#
#   cross/measure.sh routers [TARGET...]   per router target: stripped size (all features,
#                                          headless), RSS of the headless collector under qemu
#                                          after MEASURE_SECS, 24Kc smoke test for MIPS
#   cross/measure.sh x86                   x86_64 RSS of nanodata next to a Netdata 1.37 headless
#                                          child (and its parent), all on loopback, one window
#   cross/measure.sh all                   both
#
# The node under test is a headless collector: [db] mode = none, [web] mode = none, the
# default collectors, its error log in a file, streaming (with the build's defaults) to a
# Netdata 1.37 parent on 127.0.0.1 when Debian's netdata is installed. Under qemu-user the RSS is the qemu process's: it includes
# qemu's own code and translation buffers, so the table also shows qemu running a C program
# that only sleeps, and the difference.
#
# The parent and the Netdata child are started with the peer scripts of ../shared/peer
# (PEER=dir to point elsewhere), like the published Netdata measurement; Debian's netdata
# package is installed when missing (as root). Without them, `routers` measures without
# streaming; `x86` needs them.
# x86 measures three builds: all features and headless (glibc, dynamic, cargo's defaults) and,
# when the cross setup exists, the static musl headless build of x86_64-unknown-linux-musl.
# Knobs: MEASURE_SECS (default 60), MEASURE_SETTLE (x86: s before the window, default 30).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

secs=${MEASURE_SECS:-60}
settle=${MEASURE_SETTLE:-30}
out=$XC/measure
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/nanodata-measure.XXXXXX")
chmod 755 "$work"   # Netdata drops to its own user and must reach its dirs in here
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    [ -n "${peer_child:-}" ] && "$PEER/stop-child.sh" --base "$peer_child" >/dev/null 2>&1
    [ -n "${peer_parent:-}" ] && ND_BASE=$peer_parent "$PEER/stop-parent.sh" --base "$peer_parent" >/dev/null 2>&1
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

# node_args DIR: the measured configuration, everything under DIR
node_args() {
    mkdir -p "$1/cache" "$1/lib" "$1/log"
    if [ -n "${parent_port:-}" ]; then
        printf '%s\n' -W set2 stream enabled yes -W set2 stream destination "127.0.0.1:$parent_port" \
            -W set2 stream "api key" 11111111-2222-3333-4444-555555555555
    fi
    printf '%s\n' -D -c "$XC_ROOT/conf.d/nanodata.conf" \
        -W set db mode none -W set web mode none \
        -W set directories config "$XC_ROOT/conf.d" \
        -W set directories cache "$1/cache" -W set directories lib "$1/lib" \
        -W set directories log "$1/log" -W set logs error "$1/log/error.log"
}

# a static musl C program that sleeps: the baseline of qemu-user itself
sleeper() { # TARGET -> path
    local t=$1 L=$XC/link/$1 f=$work/sleeper-$1
    printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' > "$work/sleeper.c"
    "$XC/bin/$t-cc" -O2 -c "$work/sleeper.c" -o "$f.o" &&
        "$XC_GNU-gcc" -static -nostdlib -o "$f" "$L/crt1.o" "$L/crti.o" "$L/crtbegin.o" "$f.o" \
            "$L/libc.a" -lgcc "$L/crtend.o" "$L/crtn.o" 2>/dev/null && echo "$f"
}

routers() {
    local t targets=${*:-$XC_TARGETS} all head s_all s_head rss anon base_rss bp node f smoke q args link
    local table=$out/routers.md
    {
        echo "streaming to a Netdata parent: $([ -n "${parent_port:-}" ] && echo "yes, 127.0.0.1:$parent_port" || echo no)"
        echo
        echo "| target | stripped, all features | stripped, headless | RSS headless after ${secs} s under qemu (KiB) | qemu idle baseline (KiB) | difference (KiB) | RssAnon (KiB) | link to parent | 24Kc smoke |"
        echo "|---|---|---|---|---|---|---|---|---|"
    } > "$table"
    for t in $targets; do
        xc_target "$t"
        all=$out/$t-all head=$out/$t-headless
        "$here/build.sh" "$t" --release --out "$all" >/dev/null 2>"$out/build-$t.log" &&
            "$here/build.sh" "$t" --release --headless --out "$head" >/dev/null 2>>"$out/build-$t.log" ||
            { tail -n 20 "$out/build-$t.log" >&2; die "build failed for $t"; }
        s_all=$("$XC_GNU-strip" -o "$work/s" "$all" && stat -c %s "$work/s")
        s_head=$("$XC_GNU-strip" -o "$work/s" "$head" && stat -c %s "$work/s")

        q=()
        [ "$XC_MIPS" = 1 ] && q=(env QEMU_CPU=24Kc)
        base_rss="-" bp=""
        if f=$(sleeper "$t"); then
            "$XC_QEMU" "$f" & bp=$!
            pids+=("$bp")
        fi
        mapfile -t args < <(node_args "$work/$t")
        say "$t: headless collector under $XC_QEMU for ${secs} s"
        "${q[@]}" "$XC_QEMU" "$head" "${args[@]}" >"$work/$t.out" 2>&1 &
        node=$!
        pids+=("$node")
        sleep "$secs"
        rss=$(status_kib "$node" VmRSS) anon=$(status_kib "$node" RssAnon)
        [ -n "$bp" ] && base_rss=$(status_kib "$bp" VmRSS)
        kill -TERM "$node" $bp 2>/dev/null
        wait "$node" $bp 2>/dev/null
        [ -n "$rss" ] || { sed 's/^/    /' "$work/$t.out" "$work/$t/log/error.log" >&2; rss="(exited)"; }

        smoke="n/a (hard-float ABI)"
        if [ "$XC_MIPS" = 1 ]; then
            if SMOKE_SECS=6 "$here/smoke.sh" "$t" --bin "$all" >"$out/smoke-$t.log" 2>&1; then
                smoke="OK: $(grep -o '[0-9]* of [0-9]* slots' "$out/smoke-$t.log")"
            else
                smoke="FAILED"
            fi
        fi
        link=-
        [ -n "${parent_port:-}" ] && link=$(grep -q "established link" "$work/$t/log/error.log" && echo established || echo NONE)
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$s_all" "$s_head" "$rss" "$base_rss" \
            "$([ "$base_rss" != - ] && [ "$rss" -eq "$rss" ] 2>/dev/null && echo $((rss - base_rss)) || echo -)" \
            "$anon" "$link" "$smoke" >> "$table"
    done
    cat "$table"
}

# A Netdata 1.37 parent on 127.0.0.1 (sets parent_port), if netdata and the peer scripts
# are there; $1 = required: die instead of going on without one.
start_parent() {
    PEER=${PEER:-$XC_ROOT/../shared/peer}
    if [ ! -x "$PEER/start-parent.sh" ]; then
        [ "${1:-}" = required ] && die "peer scripts not found in $PEER (set PEER=)"
        say "no peer scripts in $PEER: measuring without streaming"
        return 0
    fi
    if ! command -v netdata >/dev/null 2>&1; then
        if [ "$(id -u)" != 0 ]; then
            [ "${1:-}" = required ] && die "netdata is not installed (apt-get install netdata, as root)"
            return 0
        fi
        say "installing Debian's netdata"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq netdata netdata-plugins-bash \
            netdata-plugins-python >/dev/null || die "apt-get install netdata failed"
    fi
    local port sport
    port=$(free_port 19999)
    sport=$(free_port 18126)
    peer_parent=$work/ndparent
    say "Netdata parent on 127.0.0.1:$port"
    ND_BASE=$peer_parent "$PEER/start-parent.sh" --base "$peer_parent" --port "$port" \
        --statsd-port "$sport" >"$out/peer-parent.log" 2>&1 || { cat "$out/peer-parent.log" >&2; die "parent"; }
    parent_port=$port
}

free_port() { # first free TCP port on 127.0.0.1 from $1 on
    local p=$1
    while ss -Htln "( sport = :$p )" | grep -q .; do p=$((p + 1)); done
    echo "$p"
}

x86() {
    [ -n "${parent_port:-}" ] || start_parent required
    local cargo tdir=$XC/host-target v sport
    cargo=$(command -v cargo || echo "$XC_CARGO")
    for v in all headless; do
        local feat=()
        [ "$v" = headless ] && feat=(--no-default-features)
        say "x86_64 release build ($v)"
        (cd "$XC_ROOT" && CARGO_TARGET_DIR=$tdir nice "$cargo" build --release --locked "${feat[@]}" \
            >"$out/build-x86-$v.log" 2>&1) || { tail -n 20 "$out/build-x86-$v.log" >&2; die "x86 build failed"; }
        cp "$tdir/release/nanodata" "$out/x86_64-$v"
    done
    # What an x86 router image would carry: the static musl headless build (cross setup needed)
    local variants="all headless"
    if [ -f "$XC/stamp/setup" ]; then
        say "x86_64 static musl release build (headless)"
        "$here/build.sh" x86_64-unknown-linux-musl --release --headless --out "$out/x86_64-musl-headless" \
            >/dev/null 2>"$out/build-x86-musl.log" || { tail -n 20 "$out/build-x86-musl.log" >&2; die "x86 musl build failed"; }
        variants="$variants musl-headless"
    fi

    sport=$(free_port 18125)
    peer_child=$work/ndchild
    say "Netdata headless child streaming to the parent"
    "$PEER/start-child.sh" --base "$peer_child" --dest "127.0.0.1:$parent_port" --statsd-port "$sport" \
        >"$out/peer-child.log" 2>&1 || { cat "$out/peer-child.log" >&2; die "child"; }
    local extra=()
    for v in $variants; do
        extra+=("nanodata-$v=$work/nd-$v")
        mapfile -t args < <(node_args "$work/nd-$v")
        mkdir -p "$work/nd-$v/run"
        "$out/x86_64-$v" "${args[@]}" >"$work/nd-$v.out" 2>&1 & pids+=($!)
        echo "$!" > "$work/nd-$v/run/netdata.pid.launch"   # where measure.py looks
    done
    say "settling ${settle} s, then measuring ${secs} s"
    sleep "$settle"
    python3 "$PEER/measure.py" --duration "$secs" netdata-child="$peer_child" "${extra[@]}" > "$out/x86.md"
    grep -v '^JSON' "$out/x86.md"
    python3 - "$out/x86.md" <<'EOF'
import json, sys
j = json.loads([l for l in open(sys.argv[1]) if l.startswith("JSON ")][-1][5:])
inst = j["instances"]
nd = [p for p in inst["netdata-child"]["procs"] if p["cmd"].startswith("netdata -D") or p["cmd"].endswith("/netdata -D")]
daemon = nd[0]["rss_kib"] if nd else None
total = inst["netdata-child"]["totals"]["rss"]
print("\n| x86_64, after settle + window | VmRSS KiB | RssAnon KiB | threads | Netdata daemon / this | Netdata total / this |")
print("|---|---|---|---|---|---|")
print(f"| Netdata 1.37.1 child, all processes | {total} | {inst['netdata-child']['totals']['anon']} | {inst['netdata-child']['totals']['thr']} | | |")
if nd:
    print(f"| Netdata 1.37.1 child, `netdata -D` alone | {daemon} | {nd[0]['anon_kib']} | {nd[0]['threads']} | | |")
for k in ("nanodata-all", "nanodata-headless", "nanodata-musl-headless"):
    if k not in inst:
        continue
    t = inst[k]["totals"]
    r1 = f"{daemon / t['rss']:.1f}x" if daemon and t["rss"] else "-"
    r2 = f"{total / t['rss']:.1f}x" if t["rss"] else "-"
    print(f"| {k} | {t['rss']} | {t['anon']} | {t['thr']} | {r1} | {r2} |")
EOF
}

case ${1:-} in
    routers) shift; xc_need_setup; start_parent; routers "$@" ;;
    x86) x86 ;;
    all) xc_need_setup; start_parent; routers; x86 ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
esac
