#!/bin/sh
# The dashboard in a real headless browser (Debian's chromium via playwright-core).
# Needs: apt-get install -y chromium nodejs npm curl python3; writes target/dashboard.png.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
# The skip policy of tests/common/mod.rs (`require`): a missing program fails the run under
# CI (CI set to anything but empty, 0, false or no) and skips it, with a message, elsewhere.
missing=""
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
    case "$(printf '%s' "${CI:-}" | tr -d ' \t' | tr '[:upper:]' '[:lower:]')" in
        "" | 0 | false | no)
            echo "SKIPPED tests/browser: missing programs (apt-get install -y$missing), or set CI=true to fail instead" >&2
            exit 0
            ;;
        *)
            echo "FAILED tests/browser: missing programs under CI; apt-get install -y$missing (.ci/run does)" >&2
            exit 1
            ;;
    esac
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
