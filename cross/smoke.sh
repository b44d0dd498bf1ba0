#!/usr/bin/env bash
# Smoke test of a release binary under qemu-user: start it, let it collect, stop it with
# SIGTERM and check what it stored on disk.
#
#   cross/smoke.sh TARGET [--headless] [--bin FILE] [--stream] [--web]
#
# MIPS runs with QEMU_CPU=24Kc, a CPU without FPU: any hard-float instruction is a SIGILL.
# The node runs with [db] mode = map, so every dimension is a file whose header and slots are
# checked here: <cache>/<machine guid>/system.cpu/user.db must have the magic, a recent last_t
# and several stored slots. SMOKE_SECS (default 6) sets how long it collects.
# --stream: the node also streams to a stand-in parent on 127.0.0.1 (cross/fake-parent.py,
# needs python3), and what arrives must hold the STREAM request and system.cpu's
# BEGIN/SET/END lines.
# The web server (in builds that have it) listens on 127.0.0.1 only, on a free port; --web
# requires it to answer GET /api/v1/info with 200.
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 TARGET [--headless] [--bin FILE] [--stream] [--web]"
t=$1
shift
xc_target "$t"
bin="" build=(--release) stream=0 web=0
while [ $# -gt 0 ]; do
    case $1 in
        --headless) build+=(--headless) ;;
        --bin) bin=$2; shift ;;
        --stream) stream=1 ;;
        --web) web=1 ;;
        *) die "unknown option $1" ;;
    esac
    shift
done
[ -n "$bin" ] || bin=$("$(dirname "$0")/build.sh" "$t" "${build[@]}")
secs=${SMOKE_SECS:-6}

cpu=""
[ "$XC_MIPS" = 1 ] && cpu=24Kc
work=$(mktemp -d "${TMPDIR:-/tmp}/nanodata-smoke.XXXXXX")
chmod 755 "$work"  # run as user (netdata) must reach its directories
pid="" ppid=""
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    [ -n "$ppid" ] && kill -KILL "$ppid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/cache" "$work/lib" "$work/log"

fail() {
    printf 'SMOKE FAIL %s: %s\n' "$t" "$*" >&2
    [ -f "$work/log/error.log" ] && sed 's/^/    log: /' "$work/log/error.log" | tail -n 20 >&2
    exit 1
}

# little-endian integers out of a file: le FILE OFFSET BYTES
le() { od -An -v -t "d$3" --endian=little -j "$2" -N "$3" "$1" | tr -d ' '; }

set2=()
if [ "$stream" = 1 ]; then
    command -v python3 >/dev/null || fail "--stream needs python3"
    python3 "$(dirname "$0")/fake-parent.py" "$work/port" "$work/received" "$((secs + 5))" &
    ppid=$!
    for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
    [ -s "$work/port" ] || fail "the stand-in parent did not start"
    set2=(-W set2 stream enabled yes -W set2 stream destination "127.0.0.1:$(cat "$work/port")"
          -W set2 stream "api key" 11111111-2222-3333-4444-555555555555)
fi

port=$((20000 + RANDOM % 20000))
while ss -Htln "( sport = :$port )" 2>/dev/null | grep -q .; do port=$((port + 1)); done

say "smoke $t${cpu:+ (QEMU_CPU=$cpu)}: $(basename "$bin"), collecting ${secs} s${ppid:+, streaming}"
started=$(date +%s)
if [ -n "$cpu" ]; then export QEMU_CPU=$cpu; else unset QEMU_CPU; fi
"$XC_QEMU" "$bin" -D -c "$XC_ROOT/conf.d/nanodata.conf" \
    -W set db mode map \
    -W set db retention 600 \
    -W set directories config "$XC_ROOT/conf.d" \
    -W set directories cache "$work/cache" \
    -W set directories lib "$work/lib" \
    -W set directories log "$work/log" \
    -W set logs error "$work/log/error.log" \
    -W set web "bind to" "127.0.0.1:$port" \
    "${set2[@]}" >"$work/stdout" 2>&1 &
pid=$!
sleep "$secs"
kill -0 "$pid" 2>/dev/null || { wait "$pid" && rc=0 || rc=$?; pid=""; fail "exited early with status $rc: $(head -c 400 "$work/stdout")"; }
answer=""
if [ "$web" = 1 ]; then
    answer=$( exec 3<>"/dev/tcp/127.0.0.1/$port" &&
        printf 'GET /api/v1/info HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3 &&
        timeout 10 head -n 1 <&3 | tr -d '\r' ) || true
    case $answer in "HTTP/1.1 200"*) ;; *) kill -TERM "$pid"; fail "web: GET /api/v1/info on 127.0.0.1:$port answered '$answer'" ;; esac
fi
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "still running 10 s after SIGTERM"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM (132 = SIGILL: an FPU instruction?)"

guid_file=$work/lib/registry/netdata.public.unique.id
[ -s "$guid_file" ] || fail "no machine GUID in $guid_file"
guid=$(cat "$guid_file")
db=$work/cache/$guid/system.cpu/user.db
[ -f "$db" ] || fail "no $db (found: $(cd "$work/cache" && find . -name '*.db' | head -n 5 | tr '\n' ' '))"
[ "$(head -c 7 "$db")" = NDRRDv1 ] || fail "bad magic in $db"
last_t=$(le "$db" 40 8)
now=$(date +%s)
[ "$last_t" -ge "$started" ] && [ "$last_t" -le "$now" ] ||
    fail "last_t $last_t is not within the run ($started..$now)"
stored=$(od -An -v -t x4 --endian=little -j 64 "$db" | tr -s ' ' '\n' | grep -c '^[0-9a-f]\{8\}$' | tr -d ' ')
filled=$(od -An -v -t x4 --endian=little -j 64 "$db" | tr -s ' ' '\n' | grep -v '^0\{8\}$' | grep -c '^[0-9a-f]\{8\}$' || true)
[ "$filled" -ge 2 ] || fail "only $filled of $stored slots hold a value"
files=$(find "$work/cache/$guid" -name '*.db' | wc -l)
streamed=""
if [ -n "$ppid" ]; then
    wait "$ppid" || { ppid=""; fail "no child connected to the stand-in parent"; }
    ppid=""
    r=$work/received
    head -c 200 "$r" | grep -q "^STREAM key=11111111-2222-3333-4444-555555555555&" || fail "no STREAM request received"
    grep -aq "machine_guid=$guid" "$r" || fail "the STREAM request lacks machine_guid=$guid"
    begins=$(grep -ac '^BEGIN "system.cpu"' "$r" || true)
    sets=$(grep -ac '^SET "user" = ' "$r" || true)
    [ "$begins" -ge 2 ] && [ "$sets" -ge 2 ] ||
        fail "streamed $begins BEGIN \"system.cpu\" and $sets SET \"user\" lines (want 2+): $(head -c 300 "$r" | tr '\r\n' '  ')"
    streamed=", streamed $(stat -c %s "$r") bytes ($begins x BEGIN \"system.cpu\")"
fi
printf 'SMOKE OK %s%s: exit 0 after SIGTERM, %s dimension files, system.cpu/user: %s of %s slots, last_t %s%s\n' \
    "$t" "${cpu:+ (QEMU_CPU=$cpu)}" "$files" "$filled" "$stored" "$last_t" "$streamed${answer:+, web: $answer}"
