#!/usr/bin/env bash
# Parent ingestion: N simulated children × M dimensions per second (examples/stream_load.rs,
# the real protocol) into a nanodata parent, and the same load into a Netdata 1.37 parent
# when /usr/sbin/netdata exists. The children's hosts have no database (memory mode none),
# so RSS per child is what a connected child costs beyond its storage.
#
#   bench/parent_load.sh [CHILDREN...]        e.g. bench/parent_load.sh 10 100 1000
#   DIMS=200 SECONDS_RUN=20 COMPRESSION=yes bench/parent_load.sh 10 100
#   DIMS=2000 NETDATA=no bench/parent_load.sh 1000     nanodata only (saturation: 2 M samples/s)
#   SHARED=no ...                                     a payload per child (costlier generator)
#   PROFILE=fast ...                                  the speed-optimised build (default: release)
#   BIN=/path/nanodata LOAD=/path/stream_load ...     given binaries, nothing built (bench/ab.sh)
#
# Loopback only; every instance lives in a temporary directory and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
dims=${DIMS:-200}
secs=${SECONDS_RUN:-20}
comp=${COMPRESSION:-yes}
shared=${SHARED:-yes}
with_netdata=${NETDATA:-yes}
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10 100 1000)
key=11111111-2222-3333-4444-555555555555
profile=${PROFILE:-release}
bin=${BIN:-target/$profile/nanodata}
load=${LOAD:-target/release/examples/stream_load}
[ -n "${BIN:-}" ] || cargo build --profile "$profile" --locked --bin nanodata >/dev/null 2>&1
[ -n "${LOAD:-}" ] || cargo build --release --locked --example stream_load >/dev/null 2>&1
state=$(mktemp -d)
chmod 755 "$state"
pids=()
pid=
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$state"; }
trap cleanup EXIT
[ -n "${KEEP_STATE:-}" ] && trap - EXIT
. bench/netdata_parent.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ulimit -n 65536 2>/dev/null || true

nanodata_parent() {
    local dir=$state/nd-$1 port=$2
    mkdir -p "$dir/etc" "$dir/cache" "$dir/lib" "$dir/log"
    cat > "$dir/etc/stream.conf" <<EOF
[stream]
    max child hosts = 5000
[$key]
    enabled = yes
    default memory mode = none
    enable compression = $comp
EOF
    "$bin" -D -c /dev/null -W set directories config "$dir/etc" -W set directories cache "$dir/cache" \
        -W set directories lib "$dir/lib" -W set directories log "$dir/log" -W set logs error "$dir/log/error.log" \
        -W set logs access none -W set web "bind to" "127.0.0.1:$port" -W set web "max connections" 10000 \
        -W set plugins proc no -W set plugins diskspace no -W set db mode none >"$dir/stdout.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

netdata_parent() {
    local dir=$state/netdata-$1 port=$2
    netdata_parent_conf "$dir" "$port" no
    cat > "$dir/etc/stream.conf" <<EOF
[$key]
    enabled = yes
    default memory mode = none
    health enabled by default = no
    enable compression = $comp
EOF
    chown -R netdata: "$dir/cache" "$dir/lib" "$dir/log"
    DO_NOT_TRACK=1 /usr/sbin/netdata -D -c "$dir/etc/netdata.conf" >"$dir/stdout.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

wait_up() { for _ in $(seq 1 300); do curl -sf "127.0.0.1:$1/api/v1/info" >/dev/null && return; sleep 0.2; done; echo "parent on $1 did not start" >&2; exit 1; }

for n in "${counts[@]}"; do
    port=$(free_port)
    nanodata_parent "$n" "$port"
    wait_up "$port"
    echo "== nanodata parent (${BIN:-$profile build}), $n children × $dims dims/s, compression $comp"
    "$load" --port "$port" --children "$n" --dims "$dims" --seconds "$secs" --compression "$comp" --shared "$shared" --pid "$pid"
    kill "$pid"
    if [ "$with_netdata" = yes ] && [ -x /usr/sbin/netdata ]; then
        port=$(free_port)
        netdata_parent "$n" "$port"
        wait_up "$port"
        echo "== Netdata 1.37 parent, $n children × $dims dims/s, compression $comp"
        "$load" --port "$port" --children "$n" --dims "$dims" --seconds "$secs" --compression "$comp" --shared "$shared" --pid "$pid" || true
        kill "$pid"
    fi
done
