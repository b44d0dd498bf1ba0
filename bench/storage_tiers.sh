#!/usr/bin/env bash
# Storage tiers on a parent (issue 17), nanodata beside Netdata 1.37.1 (dbengine, 3 tiers), both
# configured with the same Netdata keys ([db] mode = dbengine, storage tiers = 3, the three
# `dbengine ... multihost disk space MB` and `dbengine tier N update every iterations`) and fed
# the same load by examples/stream_load (the real protocol). Two parts, then the tables
# (bench/storage_measure.py):
#
# 1. Disk and RAM per tier: CHILDREN × DIMS dimensions stream for SECONDS_RUN s with the tiers
#    accelerated (tier 1 every ITER s, tier 2 every ITER² s; Netdata's minimum is 2); the RSS is
#    taken near the end with the children connected; the parent is stopped cleanly (Netdata
#    flushes its pages) and its cache directory measured: Netdata's dbengine/, dbengine-tier1/,
#    dbengine-tier2/ (datafiles + journals) ÷ the points stored in each tier (samples sent ÷
#    ITER^tier) = bytes per point, overhead included. nanodata's files are preallocated rings:
#    bytes per *retained* point = its file bytes ÷ the slots it reports per tier (/api/v1/info).
#    The tables project both to a week per minute and a year per hour for CHILDREN × DIMS.
#    SECONDS_RUN defaults to 1200 s: Netdata 1.37 writes a page when it is full (tier 0: 1024
#    points, 1024 s) and its hot pages' memory is touched as they fill, so a shorter run flushes
#    part-filled pages at exit (more overhead per point) and shows a lower RSS than steady state.
# 2. Query time: QUERY_CHILDREN × QUERY_DIMS dimensions with HISTORY s (a day) of history
#    replicated into each parent (stream_load --history answers REPLAY_CHART), default tier
#    grouping (60, 60); then REPS × `/host/load0/api/v1/data?chart=load.c0&after=-86400&points=1440`
#    (and the same with `&tier=1`, the per-minute tier forced) on one keep-alive connection,
#    median of curl's time_total, while the children stream live. After it Netdata's disk is
#    measured again (a replicated day at the real grouping: a cross-check of part 1's costs).
#
#   bench/storage_tiers.sh [CHILDREN]          default 1000 (× DIMS=200)
#   SECONDS_RUN=120 bench/storage_tiers.sh 50   a quicker look (Netdata's pages only partly filled)
#   ONLY=netdata|nanodata  PARTS="1 2"  VALUES=mixed|noisy|steady  ITER=2  HISTORY=86400
#   QUERY_CHILDREN=5 QUERY_DIMS=200 REPS=50  DISK0_MB=8192 DISK1_MB=4096 DISK2_MB=2048
#   BIN=/path/nanodata LOAD=/path/stream_load  (given binaries, nothing built)  PROFILE=fast
#   KEEP_STATE=1                               keep the temporary directory
#   SHARED=no                                  part 1's children each send their own values
#
# Part 1's children each send their own noisy values (stream_load --shared no; SHARED=yes sends
# every child the same bytes, which loads a parent harder per generator core): Netdata's
# dbengine LZ4s extents that hold many metrics' pages, so 1000 children sending identical
# values are deduplicated across series, a saving no real fleet gives it. Part 2's children
# replicate, which gives each its own stream and values too.
#
# The disk budgets are large enough that Netdata deletes nothing during the run (every point
# stored is still on disk). nanodata must store `[db] mode = dbengine` on disk: if it keeps
# the children in RAM (a build before issue 17), the nanodata side fails with a clear message.
# Loopback only; every process is started here, stopped by its PID at exit; the temporary
# directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
children=${1:-1000}
dims=${DIMS:-200}
secs=${SECONDS_RUN:-1200}
iter=${ITER:-2}
values=${VALUES:-mixed}
shared=${SHARED:-no}
history=${HISTORY:-86400}
qchildren=${QUERY_CHILDREN:-5}
qdims=${QUERY_DIMS:-200}
reps=${REPS:-50}
parts=${PARTS:-1 2}
disk0=${DISK0_MB:-8192}
disk1=${DISK1_MB:-4096}
disk2=${DISK2_MB:-2048}
only=${ONLY:-}
connect_wait=${CONNECT_WAIT:-900}
key=11111111-2222-3333-4444-555555555555
profile=${PROFILE:-release}
bin=${BIN:-target/$profile/nanodata}
load=${LOAD:-target/release/examples/stream_load}
[ "$iter" -ge 2 ] || { echo "storage_tiers: ITER must be at least 2 (Netdata 1.37 turns less into 2)" >&2; exit 2; }
sides=()
[ "$only" = netdata ] || sides+=(nanodata)
if [ "$only" != nanodata ]; then
    [ -x /usr/sbin/netdata ] || { echo "storage_tiers: /usr/sbin/netdata (Debian's netdata 1.37) is missing" >&2; exit 1; }
    sides+=(netdata)
fi
if [ "$only" != netdata ] && [ -z "${BIN:-}" ]; then
    cargo build --profile "$profile" --locked --bin nanodata >/dev/null 2>&1
fi
[ -n "${LOAD:-}" ] || cargo build --release --locked --example stream_load >/dev/null 2>&1
usage=${USAGE:-target/release/examples/tier_usage}
[ -n "${USAGE:-}" ] || [ "$only" = netdata ] || cargo build --release --locked --example tier_usage >/dev/null 2>&1
state=$(mktemp -d)
chmod 755 "$state"
pids=()
pid=
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    if [ -n "${KEEP_STATE:-}" ]; then echo "state kept in $state" >&2; else rm -rf "$state"; fi
}
trap cleanup EXIT
# One memory mapping per dimension in nanodata's map/dbengine: a parent of more dimensions
# than vm.max_map_count (65 530 by default) needs it raised (the README says so); restored at exit.
old_maps=$(cat /proc/sys/vm/max_map_count)
want_maps=$(( ${1:-1000} * ${DIMS:-200} * 2 + 65536 ))
if [ "$old_maps" -lt "$want_maps" ] && [ "${ONLY:-}" != netdata ]; then
    if [ "$(id -u)" = 0 ]; then
        sysctl -qw vm.max_map_count="$want_maps"
        trap 'cleanup; sysctl -qw vm.max_map_count='"$old_maps" EXIT
    else
        echo "storage_tiers: vm.max_map_count is $old_maps, below the $want_maps mappings nanodata needs; run as root or raise it" >&2
    fi
fi
. bench/netdata_parent.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ulimit -n 65536 2>/dev/null || true
results=$state/results.jsonl
: > "$results"
fail() { echo "storage_tiers: $*" >&2; exit 1; }

# The [db] section both parents get; $1 = the tiers' update every iterations.
db_keys() {
    cat <<EOF
[db]
    mode = dbengine
    storage tiers = 3
    dbengine multihost disk space MB = $disk0
    dbengine tier 1 multihost disk space MB = $disk1
    dbengine tier 2 multihost disk space MB = $disk2
    dbengine tier 1 update every iterations = $1
    dbengine tier 2 update every iterations = $1
EOF
}

# The API key section both parents get (the seeds' parent recipe, with the bench's history).
api_key_section() {
    cat <<EOF
[$key]
    enabled = yes
    default memory mode = dbengine
    health enabled by default = no
    enable replication = yes
    seconds to replicate = $history
EOF
}

# Starts a parent: WHO NAME PORT ITER. Sets $pid and $dir.
start_parent() {
    local who=$1 name=$2 port=$3 it=$4
    dir=$state/$who-$name
    if [ "$who" = netdata ]; then
        netdata_parent_conf "$dir" "$port" no
        # The [db] of netdata_parent_conf (ram) is replaced; netdata's own charts are left out
        # so that only the children's dimensions are stored.
        python3 - "$dir/etc/netdata.conf" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"\[db\]\n(    .*\n)*", "", s)
open(p, "w").write(s)
PY
        { db_keys "$it"; printf '[plugins]\n    netdata monitoring = no\n'; } >> "$dir/etc/netdata.conf"
        api_key_section > "$dir/etc/stream.conf"
        chown -R netdata: "$dir/cache" "$dir/lib" "$dir/log"
        DO_NOT_TRACK=1 /usr/sbin/netdata -D -c "$dir/etc/netdata.conf" >"$dir/stdout.log" 2>&1 &
    else
        mkdir -p "$dir/etc" "$dir/cache" "$dir/lib" "$dir/log"
        db_keys "$it" > "$dir/etc/nanodata.conf"
        # Sized for the children from the first start (else the first 1000 dimensions would
        # share the budget until a restart re-sizes the rings).
        echo "    dbengine expected dimensions = $((name_dims + 2000))" >> "$dir/etc/nanodata.conf"
        { printf '[stream]\n    max child hosts = 5000\n'; api_key_section; } > "$dir/etc/stream.conf"
        "$bin" -D -c "$dir/etc/nanodata.conf" -W set directories config "$dir/etc" -W set directories cache "$dir/cache" \
            -W set directories lib "$dir/lib" -W set directories log "$dir/log" -W set logs error "$dir/log/error.log" \
            -W set logs access none -W set logs "errors to trigger flood protection" 1000000 \
            -W set web "bind to" "127.0.0.1:$port" -W set web "max connections" 10000 \
            -W set plugins proc no -W set plugins diskspace no -W set health enabled no \
            >"$dir/stdout.log" 2>&1 &
    fi
    pid=$!
    pids+=("$pid")
}

wait_up() {
    for _ in $(seq 1 300); do
        curl -sf "127.0.0.1:$1/api/v1/info" >/dev/null && return
        kill -0 "$pid" 2>/dev/null || fail "the $2 parent exited at start (see its log: $dir/log/error.log, $dir/stdout.log)"
        sleep 0.2
    done
    fail "the $2 parent on port $1 did not answer within 60 s"
}

# Stops the parent cleanly (TERM, then waits up to 10 minutes: Netdata flushes its pages);
# prints the seconds it took.
stop_parent() {
    local t0 t1
    t0=$(date +%s.%N)
    kill "$pid"
    for _ in $(seq 1 3000); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && fail "the parent $pid did not stop within 10 minutes"
    wait "$pid" 2>/dev/null || true
    t1=$(date +%s.%N)
    python3 -c "print(round($t1 - $t0, 1))"
}

# The memory mode the parent reports for child load0's charts.
child_mode() {
    curl -sf "127.0.0.1:$1/host/load0/api/v1/charts" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("memory_mode"))' || echo "unknown"
}

# nanodata must keep the children on disk in dbengine (map with tiers), not in RAM.
check_storage() {
    local who=$1 port=$2 mode
    mode=$(child_mode "$port")
    if [ "$who" = nanodata ] && [ "$mode" != dbengine ] && [ "$mode" != map ]; then
        fail "nanodata keeps the children in memory mode '$mode' with '[db] mode = dbengine' and 'default memory mode = dbengine': this build has no dbengine storage (issue 17). Its log: $(grep -i -m3 'dbengine\|memory mode' "$dir/log/error.log" "$dir/stdout.log" 2>/dev/null | tr '\n' ' ')"
    fi
    echo "$mode"
}

part1() {
    local who=$1 port log snap samples stop_s mode
    port=$(free_port)
    name_dims=$((children * dims)) start_parent "$who" part1 "$port" "$iter"
    wait_up "$port" "$who"
    log=$state/$who-part1-load.log
    echo "== part 1, $who: $children children × $dims dims ($values values) for $secs s, tiers every $iter and $((iter * iter)) s" >&2
    nice "$load" --port "$port" --children "$children" --dims "$dims" --seconds "$secs" --values "$values" \
        --shared "$shared" --pid "$pid" >"$log" 2>&1 &
    local gen=$! waited=0
    pids+=("$gen")
    until grep -q "connected and defined" "$log"; do
        kill -0 "$gen" 2>/dev/null || fail "stream_load ended early: $(tail -3 "$log")"
        [ "$waited" -lt "$connect_wait" ] || fail "the children did not connect within $connect_wait s"
        sleep 1
        waited=$((waited + 1))
    done
    mode=$(check_storage "$who" "$port")
    # The RSS near the end of the run, children connected (3 s of warm-up come first).
    sleep $((secs > 10 ? secs - 5 : secs))
    snap=$state/$who-part1-mem.json
    python3 bench/storage_measure.py snapshot "$pid" >"$snap"
    curl -sf "127.0.0.1:$port/api/v1/info" >"$state/$who-part1-info.json" || true
    wait "$gen" || fail "stream_load failed: $(tail -3 "$log")"
    sed 's/^/   /' "$log" >&2
    samples=$(sed -n 's/^sent \([0-9]*\) samples in all.*/\1/p' "$log")
    [ -n "$samples" ] || fail "no sample count in $log"
    stop_s=$(stop_parent)
    echo "   $who stored the children in '$mode'; stopped in $stop_s s" >&2
    python3 bench/storage_measure.py part1 "$who" "$iter" "$samples" "$dir/cache" "$snap" "$stop_s" \
        "$state/$who-part1-info.json" >>"$results"
    if [ "$who" = nanodata ]; then
        # nanodata's upper tiers are rings plus compressed archives: what a retained point
        # costs is read from the files themselves (a sample of 20 000 dimensions).
        "$usage" "$dir/cache" 20000 > "$state/nanodata-tier-usage.md" || fail "tier_usage failed"
    fi
    if [ -z "${KEEP_STATE:-}" ]; then rm -rf "$dir/cache"; fi
}

time_query() {
    local who=$1 port=$2 label=$3 url=$4 n args=()
    url="http://127.0.0.1:$port$url"
    curl -sf "$url&options=jsonwrap" >"$state/$who-$label.json" || fail "$who: $url failed"
    for n in $(seq 1 "$reps"); do args+=(-o /dev/null "$url"); done
    curl -s -w '%{time_total}\n' "${args[@]}" >"$state/$who-$label.times"
    python3 bench/storage_measure.py part2 "$who" "$label" "$state/$who-$label.times" "$state/$who-$label.json" >>"$results"
}

part2() {
    local who=$1 port log mode samples stop_s live=$((reps / 5 + 120))
    port=$(free_port)
    name_dims=$((qchildren * qdims)) start_parent "$who" part2 "$port" 60
    wait_up "$port" "$who"
    log=$state/$who-part2-load.log
    echo "== part 2, $who: $qchildren children × $qdims dims replicate $history s of history, then stream live" >&2
    local t0 t1
    t0=$(date +%s)
    nice "$load" --port "$port" --children "$qchildren" --dims "$qdims" --seconds "$live" --values "$values" \
        --history "$history" --history-limit 3600 >"$log" 2>&1 &
    local gen=$!
    pids+=("$gen")
    until grep -q "connected and defined" "$log"; do
        kill -0 "$gen" 2>/dev/null || fail "stream_load ended during replication: $(tail -3 "$log")"
        sleep 1
    done
    t1=$(date +%s)
    echo "   replication took $((t1 - t0)) s" >&2
    mode=$(check_storage "$who" "$port")
    sleep 10
    time_query "$who" "$port" "after=-86400&points=1440" "/host/load0/api/v1/data?chart=load.c0&after=-86400&points=1440"
    time_query "$who" "$port" "after=-86400&points=1440&tier=1" "/host/load0/api/v1/data?chart=load.c0&after=-86400&points=1440&tier=1"
    kill "$gen" 2>/dev/null || true
    wait "$gen" 2>/dev/null || true
    sed 's/^/   /' "$log" | grep -v "^   child " >&2 || true
    snap=$state/$who-part2-mem.json
    python3 bench/storage_measure.py snapshot "$pid" >"$snap"
    stop_s=$(stop_parent)
    # Points the parent holds: the replicated day and the live seconds.
    samples=$((qchildren * qdims * ($(date +%s) - t0 + history)))
    if [ "$who" = netdata ]; then
        python3 bench/storage_measure.py part3 "$who" 60 "$samples" "$dir/cache" "$snap" "$stop_s" >>"$results"
    fi
    echo "   $who kept the children in '$mode'" >&2
}

for p in $parts; do
    for who in "${sides[@]}"; do
        "part$p" "$who"
    done
done
echo
python3 bench/storage_measure.py report "$results" "$children" "$dims"
if [ -f "$state/nanodata-tier-usage.md" ]; then
    echo "nanodata's upper tiers, read from its files (examples/tier_usage): the bytes of the archive records"
    echo "per archived point (the newest points sit uncompressed in each tier's ring of 14-byte points; above,"
    echo "the geometry-based nanodata figures for tiers 1 and 2 count that ring only and do not apply):"
    echo
    cat "$state/nanodata-tier-usage.md"
    echo
fi
echo "Raw numbers (one JSON line per measurement):"
echo '```'
cat "$results"
echo '```'
