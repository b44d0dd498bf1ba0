#!/usr/bin/env bash
# Health on a parent: N simulated children (examples/stream_load.rs --set router: a router's
# charts with Netdata's ids and contexts) stream into a nanodata parent and then into a
# Netdata 1.37 parent, each with a database for the children (ram) and Debian's stock
# health.d (the same 76 files on both sides, notifications to /bin/true). Measured after a
# warm-up: the CPU of the health thread (nanodata `health`, Netdata `HEALTH`) as % of one
# core, and per evaluation. Evaluations are counted the same way on both sides from one
# child's `/api/v1/alarms?all`: every alarm that has run (status not UNINITIALIZED) runs
# once per `update_every`, and every child holds the same alarms.
#
#   bench/health_load.sh [CHILDREN]           default 1000
#   WARMUP=75 SECONDS_RUN=120 NETDATA=no bench/health_load.sh 200
#   BIN=/path/nanodata LOAD=/path/stream_load ...   given binaries, nothing built
#   ONLY=nanodata|netdata ...                       one side only
#
# Lookups of 10 minutes and more only run once 10 minutes of data are stored; with the
# defaults the window holds the alarms of shorter lookups and the calc-only ones, on both
# sides alike. Loopback only; everything lives in a temporary directory and is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
children=${1:-1000}
warmup=${WARMUP:-75}
secs=${SECONDS_RUN:-120}
with_netdata=${NETDATA:-yes}
connect_wait=${CONNECT_WAIT:-1500}
stock=/usr/lib/netdata/conf.d/health.d
key=11111111-2222-3333-4444-555555555555
bin=${BIN:-target/release/nanodata}
load=${LOAD:-target/release/examples/stream_load}
[ -d "$stock" ] || { echo "health_load: $stock is missing (Debian package netdata)" >&2; exit 1; }
[ -n "${BIN:-}" ] || cargo build --release --locked --bin nanodata >/dev/null 2>&1
[ -n "${LOAD:-}" ] || cargo build --release --locked --example stream_load >/dev/null 2>&1
state=$(mktemp -d)
chmod 755 "$state"
pids=()
pid=
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$state"; }
trap cleanup EXIT
. bench/netdata_parent.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ulimit -n 65536 2>/dev/null || true
history=$((warmup + secs + 120))

nanodata_parent() {
    local dir=$state/nd port=$1
    mkdir -p "$dir/etc" "$dir/cache" "$dir/lib" "$dir/log" "$dir/health.d"
    cat > "$dir/etc/stream.conf" <<EOF
[stream]
    max child hosts = 5000
[$key]
    enabled = yes
    default memory mode = ram
    default history = $history
    health enabled by default = yes
    default postpone alarms on connect seconds = 0
EOF
    "$bin" -D -c /dev/null -W set directories config "$dir/etc" -W set directories cache "$dir/cache" \
        -W set directories lib "$dir/lib" -W set directories log "$dir/log" -W set logs error "$dir/log/error.log" \
        -W set logs access none -W set logs health none -W set web "bind to" "127.0.0.1:$port" \
        -W set web "max connections" 10000 -W set plugins proc no -W set plugins diskspace no \
        -W set db mode ram -W set health enabled yes -W set health "script to execute on alarm" /bin/true \
        -W set directories "stock health config" "$stock" -W set directories "health config" "$dir/health.d" \
        >"$dir/stdout.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

netdata_parent() {
    local dir=$state/netdata port=$1
    netdata_parent_conf "$dir" "$port" yes
    cat > "$dir/etc/stream.conf" <<EOF
[$key]
    enabled = yes
    default memory mode = ram
    default history = $history
    health enabled by default = yes
    default postpone alarms on connect seconds = 0
EOF
    chown -R netdata: "$dir/cache" "$dir/lib" "$dir/log"
    DO_NOT_TRACK=1 /usr/sbin/netdata -D -c "$dir/etc/netdata.conf" >"$dir/stdout.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

wait_up() { for _ in $(seq 1 300); do curl -sf "127.0.0.1:$1/api/v1/info" >/dev/null && return; sleep 0.2; done; echo "parent on $1 did not start" >&2; exit 1; }

# utime+stime (s) of the threads of $1 whose name matches the regex $2, summed (nanodata has
# one `health` thread; Netdata 1.37 one `HEALTH[<hostname>]` thread per host).
thread_cpu() {
    local pid=$1 re=$2 t sum=0 n=0
    for t in /proc/"$pid"/task/*; do
        if [[ "$(cat "$t/comm" 2>/dev/null)" =~ $re ]]; then
            sum=$(awk -v s="$sum" '{ sub(/^.*\) /, ""); print s + ($12 + $13) / 100 }' "$t/stat")
            n=$((n + 1))
        fi
    done
    [ "$n" -gt 0 ] || echo "no thread matching $re in $pid" >&2
    echo "$sum"
}

# Children connected now (reachable hosts other than the parent itself).
connected() {
    curl -sf "127.0.0.1:$1/api/v1/info" | python3 -c '
import json, sys
print(sum(1 for h in json.load(sys.stdin)["mirrored_hosts_status"][1:] if h.get("reachable")))'
}

# Evaluations per second per child, from one child's alarms (see the header).
evals_per_s() {
    curl -sf "127.0.0.1:$1/host/load0/api/v1/alarms?all" | python3 -c '
import json, sys
a = json.load(sys.stdin)["alarms"].values()
ran = [x for x in a if x["status"] != "UNINITIALIZED" and x["update_every"] > 0]
print(len(a), len(ran), sum(1.0 / x["update_every"] for x in ran))'
}

run() {
    local who=$1 thread=$2 port
    port=$(free_port)
    "${who}_parent" "$port"
    wait_up "$port"
    "$load" --port "$port" --children "$children" --set router --seconds $((warmup + secs + 60)) >"$state/$who-load.log" 2>&1 &
    local gen=$! waited=0
    # Every child connected (at most CONNECT_WAIT s: Netdata 1.37 takes about a second per
    # child here, loading its health.d for each new host), then the warm-up.
    while [ "$(connected "$port" || echo 0)" -lt "$children" ] && [ "$waited" -lt "$connect_wait" ]; do
        sleep 2
        waited=$((waited + 2))
    done
    sleep "$warmup"
    local c0 c1
    c0=$(thread_cpu "$pid" "$thread")
    sleep "$secs"
    c1=$(thread_cpu "$pid" "$thread")
    read -r bound ran per_s < <(evals_per_s "$port")
    local up
    up=$(connected "$port")
    kill "$gen" 2>/dev/null || true
    wait "$gen" 2>/dev/null || true
    kill "$pid"
    python3 - "$who" "$up" "$secs" "$c0" "$c1" "$bound" "$ran" "$per_s" <<'EOF'
import sys
who, n, secs, c0, c1, bound, ran, per_s = sys.argv[1:]
n, secs, cpu, per_s = int(n), float(secs), float(sys.argv[5]) - float(c0), float(per_s)
evals = per_s * n * secs
print(f"| {who} | {n} | {bound} | {ran} | {evals:.0f} | {cpu / secs * 100:.2f} % | {cpu / evals * 1e6 if evals else float('nan'):.2f} µs |")
EOF
}

echo "## health: $children children × the router set, Debian's stock health.d, ${secs} s after a ${warmup} s warm-up"
echo
echo "| parent | children connected | alarms per child | alarms that ran | evaluations | health thread CPU (% of a core) | CPU per evaluation |"
echo "|---|---:|---:|---:|---:|---:|---:|"
[ "${ONLY:-nanodata}" = netdata ] || run nanodata '^health$'
if [ "$with_netdata" = yes ] && [ -x /usr/sbin/netdata ] && [ "${ONLY:-netdata}" = netdata ]; then
    run netdata '^HEALTH'
fi
