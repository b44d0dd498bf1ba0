#!/usr/bin/env bash
# Footprint of a running node: RSS (VmRSS/VmHWM) and CPU seconds per minute after a while.
#
#   bench/footprint.sh [SECONDS] [extra nanodata arguments...]
#
# Runs the release binary the way `make run` does (conf.d/ defaults, state in a temporary
# directory), waits SECONDS (default 60), prints one line of figures and stops the node.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
make -s build >/dev/null
bin=target/release/nanodata
state=$(mktemp -d)
chmod 755 "$state"  # run as user (netdata) must reach its directories
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$state"' EXIT
mkdir -p "$state/cache" "$state/lib" "$state/log"
"$bin" -D -c conf.d/nanodata.conf \
    -W set directories config "$PWD/conf.d" \
    -W set directories cache "$state/cache" \
    -W set directories lib "$state/lib" \
    -W set directories log "$state/log" \
    -W set logs error "$state/log/error.log" "$@" &
pid=$!
sleep "$secs"
threads=$(ls "/proc/$pid/task" | wc -l)
# CPU time of every thread in nanoseconds (schedstat), finer than the 10 ms ticks of stat.
ns=$(cat /proc/"$pid"/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}')
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
cpu=$(awk -v ns="$ns" -v t="$secs" 'BEGIN {printf "%.4f", ns / 1e9 * 60 / t}')
size=$(stat -c %s "$bin")
echo "after ${secs}s: VmRSS ${rss} KiB, VmHWM ${hwm} KiB, CPU ${cpu} s/min, threads ${threads}, binary ${size} bytes (stripped)"
kill -TERM "$pid"
wait "$pid" || true
