#!/bin/sh
# The dashboard in a real headless browser (Debian's chromium via playwright-core).
# Needs: apt-get install -y chromium nodejs npm; writes target/dashboard.png.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "tests/browser: chromium not installed (apt-get install -y chromium); skipped" >&2
    exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "tests/browser: node/npm not installed (apt-get install -y nodejs npm); skipped" >&2
    exit 0
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    (cd "$here" && npm install --no-audit --no-fund --silent)
fi
${CARGO:-cargo} build --quiet --example web_two_hosts
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/debug/examples/web_two_hosts "127.0.0.1:$port" 90 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/api/v1/info" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "server did not start" >&2; exit 1; }
    sleep 0.2
done
node "$here/dashboard.test.js" "http://127.0.0.1:$port/" "$repo/target/dashboard.png"
