#!/usr/bin/env bash
# Web load benchmark: nanodata and Netdata 1.37.1 side by side, same machine, same run.
#
#   bench/web.sh [SECONDS per run, default 10] [CONNECTIONS, default 32]
#
# Both agents collect /proc/stat (system.cpu) every second on loopback; wrk (Debian
# package `wrk`, one thread) loads /api/v1/data?chart=system.cpu&after=-60 and
# /api/v1/allmetrics?format=prometheus on each; prints requests/s and p99 latency.
# Netdata runs twice: with its default web threads and with `web server threads = 1`
# (nanodata always serves from one event-loop thread).
# Needs: apt-get install -y wrk netdata ; the peer scripts in ../shared/peer beside the
# repository (or PEER=dir).
#
#   BIN=/path/nanodata NETDATA=no WARMUP=15 bench/web.sh 10 32
#       a given binary (nothing built), nanodata alone, after WARMUP seconds of history
#       (default 62) instead of Netdata's start (bench/ab.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
PEER=${PEER:-$PWD/../shared/peer}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
profile=${PROFILE:-release}
with_netdata=${NETDATA:-yes}
bin=${BIN:-target/$profile/nanodata}
[ -n "${BIN:-}" ] || make -s build PROFILE="$profile" >/dev/null
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
state=$(mktemp -d)
chmod 755 "$state"  # run as user (netdata) must reach its directories
nd_base=/tmp/ndpeer/webbench
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    ND_BASE=$nd_base "$PEER/stop-parent.sh" >/dev/null 2>&1 || true
    rm -rf "$state"
}
trap cleanup EXIT
mkdir -p "$state/cache" "$state/lib" "$state/log"

"$bin" -D -c conf.d/nanodata.conf \
    -W set directories config "$PWD/conf.d" -W set directories cache "$state/cache" \
    -W set directories lib "$state/lib" -W set directories log "$state/log" \
    -W set logs error "$state/log/error.log" -W set logs access none \
    -W set web "bind to" "127.0.0.1:$nport" -W set db mode ram &
pid=$!

start_netdata() {
    ND_BASE=$nd_base "$PEER/stop-parent.sh" >/dev/null 2>&1 || true
    "$PEER/start-parent.sh" --base "$nd_base" --port "$dport" --plugins noexternal --hostname ndbench \
        --set 'logs|access|none' --set "web|web server threads|$1" >/dev/null
}

wait_for() {
    for _ in $(seq 1 100); do
        curl -sf "$1" 2>/dev/null | grep -q '"labels"' && return 0
        sleep 0.2
    done
    echo "no system.cpu data at $1" >&2; exit 1
}

# One wrk run: prints "requests/s p99".
load() {
    wrk -t1 -c"$conns" -d"${secs}s" --latency "$1" 2>/dev/null | awk '
        /Requests\/sec/ {rps = $2}
        /^ +99%/ {p99 = $2}
        END {printf "%s %s", rps, p99}'
}

data='/api/v1/data?chart=system.cpu&after=-60'
prom='/api/v1/allmetrics?format=prometheus'
sleep 3
wait_for "http://127.0.0.1:$nport$data"
printf '%-34s %-12s %14s %10s\n' "endpoint" "server" "requests/s" "p99"
row() { set -- "$1" "$2" $3; printf '%-34s %-12s %14s %10s\n' "$1" "$2" "$3" "$4"; }
if [ "$with_netdata" = no ]; then
    sleep "${WARMUP:-62}"
    for ep in "$data" "$prom"; do
        name=${ep#/api/v1/}; name=${name:0:34}
        row "$name" "nanodata" "$(load "http://127.0.0.1:$nport$ep")"
    done
    exit 0
fi
for threads in 1 2; do
    start_netdata "$threads"
    wait_for "http://127.0.0.1:$dport$data"
    sleep 62  # both hold a full minute of history
    for ep in "$data" "$prom"; do
        name=${ep#/api/v1/}; name=${name:0:34}
        row "$name" "nanodata" "$(load "http://127.0.0.1:$nport$ep")"
        row "$name" "netdata-${threads}t" "$(load "http://127.0.0.1:$dport$ep")"
    done
done
echo "(wrk -t1 -c$conns -d${secs}s; nanodata: one event-loop thread; netdata-Nt: [web] web server threads = N;"
echo " charts: nanodata $(curl -s "http://127.0.0.1:$nport/api/v1/charts" | grep -c '"data_url"'), netdata $(curl -s "http://127.0.0.1:$dport/api/v1/charts" | grep -c '"data_url"'))"
