#!/usr/bin/env bash
# Exporting on a parent: N simulated children × M dimensions per second (examples/stream_load.rs,
# the real protocol) stream into a nanodata parent and into a Netdata 1.37 parent, each STORING
# the children (memory mode ram on both sides, so that `data source = average` has a database
# to read, and so that the comparison is the exporting and not the storage engine: Netdata's
# default is dbengine), and each exporting every EVERY s to loopback sinks (bench/exporting_sink.py;
# bench/exporting_measure.py takes the snapshots and prints the tables):
# graphite (plaintext), opentsdb (telnet) and json (plaintext) on both, Prometheus remote write
# (HTTP sink answering 204) on nanodata only (Debian's Netdata 1.37.1 has no remote write).
#
# One connector per parent run, so that each row's CPU is that connector's alone (Netdata 1.37
# formats the batches of all its instances in one thread, `EXPORTING`, and sends each from
# `EXPORTING-<n>`; nanodata has one thread per instance, `exp-<name>`). Per run: the children
# connect, WARMUP s pass, then SECONDS_RUN s are measured in windows of EVERY s that start half
# an interval after an export time, so that each window holds one batch. Reported per connector:
#   * CPU of the exporting threads (utime+stime of /proc/<pid>/task/<tid>/stat, threads found
#     by name: nanodata `^exp-`, Netdata `^EXPORTING`), as % of one core over the window;
#   * samples exported: lines at the sink (graphite, opentsdb, json: one line per sample), or
#     for remote write the samples of the protobuf WriteRequests received in the window,
#     decoded by the sink after the parent has been stopped;
#   * bytes on the wire per sample (remote write: the whole HTTP request, headers included);
#   * CPU µs per exported sample: the whole window, and the median of its windows;
#   * the parent's RSS at the end of the window, and its whole-process CPU;
#   * the ratio nanodata / Netdata per connector.
#
#   bench/exporting_load.sh [CHILDREN]            default 1000 (× DIMS=200)
#   DIMS=50 WARMUP=15 SECONDS_RUN=30 bench/exporting_load.sh 10     a quick check
#   CONNECTORS="graphite json" ONLY=netdata ...   some connectors, one side
#   SOURCE="as collected" EVERY=10 ...            data source and update every of the instances
#   BIN=/path/nanodata LOAD=/path/stream_load ... given binaries, nothing built
#   PROFILE=fast ...                              the speed-optimised build (default: release)
#   KEEP_STATE=1 KEEP_HEAD=256 ...                keep the temporary directory, with the first
#                                                 256 KB of each line-sink connection in dump/
#   OUTAGE=150 ...                                the backlog instead: every destination is a
#                                                 closed port for 150 s after the warm-up; reported
#                                                 are the batches, metrics and bytes kept (`buffer
#                                                 on failures` = 10), the memory they take (nanodata's
#                                                 `held`) and the parent's RSS growth
#
# Loopback only; every process lives in a temporary directory and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
children=${1:-1000}
dims=${DIMS:-200}
warmup=${WARMUP:-30}
secs=${SECONDS_RUN:-60}
every=${EVERY:-10}
source_=${SOURCE:-average}
connect_wait=${CONNECT_WAIT:-600}
with_netdata=${NETDATA:-yes}
connectors=(${CONNECTORS:-graphite opentsdb json remote_write})
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
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    if [ -n "${KEEP_STATE:-}" ]; then echo "state kept in $state" >&2; else rm -rf "$state"; fi
}
trap cleanup EXIT
. bench/netdata_parent.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ulimit -n 65536 2>/dev/null || true
# The children's database: the warm-up, the window and the exporting look-back, with margin.
history=$((warmup + secs + 4 * every + 120))
windows=$((secs / every))
[ "$windows" -ge 1 ] || { echo "exporting_load: SECONDS_RUN must be at least EVERY" >&2; exit 1; }
results=$state/results.jsonl

# The sinks, one process for the whole run (counters are read as differences).
declare -A sink_port
for c in graphite opentsdb json remote_write control; do sink_port[$c]=$(free_port); done
mkdir -p "$state/dump"
python3 bench/exporting_sink.py --tcp graphite="${sink_port[graphite]}" --tcp opentsdb="${sink_port[opentsdb]}" \
    --tcp json="${sink_port[json]}" --http remote_write="${sink_port[remote_write]}" \
    --control "${sink_port[control]}" --dump "$state/dump" --keep-head "${KEEP_HEAD:-0}" >"$state/sink.log" 2>&1 &
pids+=("$!")
sink="127.0.0.1:${sink_port[control]}"
# Where the instances send: the sinks, or (OUTAGE) ports nobody listens on.
declare -A dest_port
for c in graphite opentsdb json remote_write; do
    if [ -n "${OUTAGE:-}" ]; then dest_port[$c]=$(free_port); else dest_port[$c]=${sink_port[$c]}; fi
done
for _ in $(seq 1 50); do curl -sf "$sink/stats" >/dev/null && break; sleep 0.1; done

# exporting.conf with the one instance of connector $2, into directory $1.
exporting_conf() {
    local dir=$1 c=$2 type name
    case $c in
        graphite) type=graphite name=g ;;
        opentsdb) type=opentsdb name=o ;;
        json) type=json name=j ;;
        remote_write) type=prometheus_remote_write name=rw ;;
        *) echo "exporting_load: unknown connector $c" >&2; exit 1 ;;
    esac
    cat > "$dir/exporting.conf" <<EOF
[exporting:global]
    enabled = yes
[$type:$name]
    enabled = yes
    destination = 127.0.0.1:${dest_port[$c]}
    data source = $source_
    update every = $every
    send hosts matching = *
    buffer on failures = 10
EOF
    [ "$c" != remote_write ] || echo "    remote write URL path = /api/v1/write" >> "$dir/exporting.conf"
}

nanodata_parent() {
    local dir=$state/nd-$1 port=$2
    mkdir -p "$dir/etc" "$dir/cache" "$dir/lib" "$dir/log"
    cat > "$dir/etc/stream.conf" <<EOF
[stream]
    max child hosts = 5000
[$key]
    enabled = yes
    default memory mode = ram
    default history = $history
    health enabled by default = no
EOF
    exporting_conf "$dir/etc" "$1"
    "$bin" -D -c /dev/null -W set directories config "$dir/etc" -W set directories cache "$dir/cache" \
        -W set directories lib "$dir/lib" -W set directories log "$dir/log" -W set logs error "$dir/log/error.log" \
        -W set logs access none -W set web "bind to" "127.0.0.1:$port" -W set web "max connections" 10000 \
        -W set plugins proc no -W set plugins diskspace no -W set db mode ram -W set health enabled no \
        >"$dir/stdout.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

netdata_parent() {
    local dir=$state/netdata-$1 port=$2
    netdata_parent_conf "$dir" "$port" no
    cat > "$dir/etc/stream.conf" <<EOF
[$key]
    enabled = yes
    default memory mode = ram
    default history = $history
    health enabled by default = no
EOF
    exporting_conf "$dir/etc" "$1"
    chown -R netdata: "$dir/cache" "$dir/lib" "$dir/log"
    DO_NOT_TRACK=1 /usr/sbin/netdata -D -c "$dir/etc/netdata.conf" >"$dir/stdout.log" 2>&1 &
    pid=$!
    pids+=("$pid")
}

wait_up() { for _ in $(seq 1 300); do curl -sf "127.0.0.1:$1/api/v1/info" >/dev/null && return; sleep 0.2; done; echo "parent on $1 did not start" >&2; exit 1; }

# Children connected now (reachable hosts other than the parent itself).
connected() {
    curl -sf "127.0.0.1:$1/api/v1/info" | python3 -c '
import json, sys
print(sum(1 for h in json.load(sys.stdin)["mirrored_hosts_status"][1:] if h.get("reachable")))'
}

run() {
    local who=$1 c=$2 re port
    [ "$who" = nanodata ] && re='^exp-' || re='^EXPORTING'
    port=$(free_port)
    "${who}_parent" "$c" "$port"
    wait_up "$port"
    "$load" --port "$port" --children "$children" --dims "$dims" --seconds $((connect_wait + warmup + secs + 60)) \
        >"$state/$who-$c-load.log" 2>&1 &
    local gen=$! waited=0
    pids+=("$gen")
    while [ "$(connected "$port" || echo 0)" -lt "$children" ] && [ "$waited" -lt "$connect_wait" ]; do
        sleep 2
        waited=$((waited + 2))
    done
    local up
    up=$(connected "$port" || echo 0)
    echo "   $who $c: $up children connected after ${waited} s; warm-up ${warmup} s, then $windows windows of $every s" >&2
    sleep "$warmup"
    python3 bench/exporting_measure.py window "$pid" "$re" "$every" "$windows" "http://$sink" >"$state/snaps.json"
    up=$(connected "$port" || echo 0)
    kill "$gen" 2>/dev/null || true
    wait "$gen" 2>/dev/null || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    python3 bench/exporting_measure.py record "$who" "$c" "$up" "$state/snaps.json" "http://$sink" >>"$results"
}

# The backlog while the backend is away: OUTAGE seconds after the warm-up.
outage_run() {
    local who=$1 c=$2 port name rss0 rss1
    case $c in graphite) name=g ;; opentsdb) name=o ;; json) name=j ;; remote_write) name=rw ;; esac
    port=$(free_port)
    "${who}_parent" "$c" "$port"
    wait_up "$port"
    "$load" --port "$port" --children "$children" --dims "$dims" --seconds $((connect_wait + warmup + OUTAGE + 60)) \
        >"$state/$who-$c-load.log" 2>&1 &
    local gen=$! waited=0
    pids+=("$gen")
    while [ "$(connected "$port" || echo 0)" -lt "$children" ] && [ "$waited" -lt "$connect_wait" ]; do
        sleep 2
        waited=$((waited + 2))
    done
    sleep "$warmup"
    rss0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    sleep "$OUTAGE"
    rss1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    python3 - "$who" "$c" "$port" "$name" "$rss0" "$rss1" <<'PY'
import json, sys, urllib.request
who, c, port, name, rss0, rss1 = sys.argv[1:]
def last(chart):
    url = f"http://127.0.0.1:{port}/api/v1/data?chart=netdata.exporting_{name}_{chart}&after=-30&points=1&group=max&format=json&options=jsonwrap"
    try:
        j = json.load(urllib.request.urlopen(url, timeout=10))
    except Exception as e:
        return {}
    r = j["result"]
    return dict(zip(r["labels"][1:], r["data"][0][1:])) if r["data"] else {}
m, b = last("metrics"), last("bytes")
held = b.get("held")
print(f"| {who} | {c} | {m.get('buffered', 0):.0f} | {b.get('buffered', 0) / 1024:.1f} | "
      + (f"{held / 1024:.1f}" if held is not None else "n/a") + f" | {(int(rss1) - int(rss0)) / 1024:.1f} |")
PY
    kill "$gen" 2>/dev/null || true
    wait "$gen" 2>/dev/null || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

if [ -n "${OUTAGE:-}" ]; then
    echo "## exporting backlog: $children children × $dims dims/s, every destination closed for $OUTAGE s after a $warmup s warm-up, buffer on failures = 10, update every $every s"
    echo
    echo "| parent | connector | metrics kept | MiB kept (wire) | MiB held in memory | RSS growth MiB |"
    echo "|---|---|---:|---:|---:|---:|"
    [ -x /usr/sbin/netdata ] || with_netdata=no
    for c in "${connectors[@]}"; do
        [ "${ONLY:-nanodata}" = netdata ] || outage_run nanodata "$c"
        if [ "$with_netdata" = yes ] && [ "${ONLY:-netdata}" = netdata ] && [ "$c" != remote_write ]; then
            outage_run netdata "$c"
        fi
    done
    exit 0
fi

echo "## exporting: $children children × $dims dims/s stored in ram, data source $source_, update every $every s;" \
    "$secs s measured after a $warmup s warm-up"
echo
[ -x /usr/sbin/netdata ] || with_netdata=no
for c in "${connectors[@]}"; do
    [ "${ONLY:-nanodata}" = netdata ] || run nanodata "$c"
    if [ "$with_netdata" = yes ] && [ "${ONLY:-netdata}" = netdata ] && [ "$c" != remote_write ]; then
        run netdata "$c"
    fi
done
python3 bench/exporting_measure.py report "$results" "$every"
