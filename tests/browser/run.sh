#!/bin/sh
# The dashboards in a real headless browser (Debian's chromium via playwright-core):
# nanodata's built-in one (dashboard.test.js, target/dashboard*.png) and badges
# (badge.test.js, target/badge.png), then Netdata's own (Debian's netdata-web) served by
# nanodata for itself and a streamed child, and a custom page on Netdata's dashboard.js
# (netdata_dashboard.test.js, target/netdata-dashboard*.png, target/custom-dashboard.png).
# Needs: apt-get install -y chromium nodejs npm curl python3 netdata-web.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
# The skip policy of tests/common/mod.rs (`require`): a missing program fails the run under
# CI (CI set to anything but empty, 0, false or no) and skips it, with a message, elsewhere.
# skip_or_fail WHAT PACKAGES: exits 0 with SKIPPED, or 1 under CI.
skip_or_fail() {
    case "$(printf '%s' "${CI:-}" | tr -d ' \t' | tr '[:upper:]' '[:lower:]')" in
        "" | 0 | false | no)
            echo "SKIPPED $1: missing (apt-get install -y$2), or set CI=true to fail instead" >&2
            exit 0
            ;;
        *)
            echo "FAILED $1: missing under CI; apt-get install -y$2 (.ci/run does)" >&2
            exit 1
            ;;
    esac
}
missing=""
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
    skip_or_fail "tests/browser: programs" "$missing"
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    (cd "$here" && npm install --no-audit --no-fund --silent)
fi
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Processes this script started, and its scratch directory.
pids=""
tmp=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    if [ -n "$tmp" ] && [ -d "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM

${CARGO:-cargo} build --quiet --example web_two_hosts
port=$(free_port)
target/debug/examples/web_two_hosts "127.0.0.1:$port" 90 >/dev/null &
pid=$!
pids="$pid"
i=0
until curl -sf "http://127.0.0.1:$port/api/v1/info" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "server did not start" >&2; exit 1; }
    sleep 0.2
done
node "$here/dashboard.test.js" "http://127.0.0.1:$port/" "$repo/target/dashboard.png"
node "$here/badge.test.js" "http://127.0.0.1:$port/" "$repo/target/badge.png"
kill "$pid" 2>/dev/null || true

# Netdata's dashboard from Debian's netdata-web, served by the nanodata binary: a parent
# with `-W set directories web <netdata-web>` and Netdata's stock alarms when the netdata
# package is there, and a child streaming to it that serves the custom page from its own
# web directory (the fixture as index.html, with copies of dashboard.js and the lib/ and
# css/ files it loads: symlinks that leave a web directory are not followed).
web=${NETDATA_WEB:-/usr/share/netdata/web}
if [ ! -f "$web/index.html" ] || [ ! -f "$web/dashboard.js" ]; then
    skip_or_fail "tests/browser netdata_dashboard: Netdata's dashboard in $web" " netdata-web"
fi
${CARGO:-cargo} build --quiet --bin nanodata
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nanodata-browser-XXXXXX")
[ -n "$tmp" ] && [ -d "$tmp" ] || { echo "no scratch directory" >&2; exit 1; }
pport=$(free_port)
cport=$(free_port)
key=11111111-2222-3333-4444-555555555555
stock=""
if [ -d /usr/lib/netdata/conf.d/health.d ]; then
    stock="stock health config = /usr/lib/netdata/conf.d/health.d"
fi
mkdir -p "$tmp/parent/etc" "$tmp/parent/log" "$tmp/child/etc" "$tmp/child/log" "$tmp/custom"
{
    printf '[global]\n\thostname = browser-parent\n\trun as user =\n'
    printf '[directories]\n\tconfig = %s\n\tcache = %s\n\tlib = %s\n\tlog = %s\n\t%s\n' \
        "$tmp/parent/etc" "$tmp/parent/cache" "$tmp/parent/lib" "$tmp/parent/log" "$stock"
    printf '[logs]\n\terror = %s\n\taccess = none\n\thealth = none\n' "$tmp/parent/log/error.log"
    printf '[db]\n\tmode = ram\n\tupdate every = 1\n\tretention = 3600\n'
    printf '[web]\n\tbind to = 127.0.0.1:%s\n' "$pport"
    printf '[health]\n\tscript to execute on alarm = /bin/true\n'
} >"$tmp/parent/nanodata.conf"
printf '[%s]\n\tenabled = yes\n\tallow from = *\n' "$key" >"$tmp/parent/etc/stream.conf"
{
    printf '[global]\n\thostname = browser-child\n\trun as user =\n'
    printf '[directories]\n\tconfig = %s\n\tcache = %s\n\tlib = %s\n\tlog = %s\n\tweb = %s\n' \
        "$tmp/child/etc" "$tmp/child/cache" "$tmp/child/lib" "$tmp/child/log" "$tmp/custom"
    printf '[logs]\n\terror = %s\n\taccess = none\n\thealth = none\n' "$tmp/child/log/error.log"
    printf '[db]\n\tmode = ram\n\tupdate every = 1\n'
    printf '[web]\n\tbind to = 127.0.0.1:%s\n' "$cport"
    printf '[health]\n\tenabled = no\n'
} >"$tmp/child/nanodata.conf"
printf '[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:%s\n\tapi key = %s\n' "$pport" "$key" \
    >"$tmp/child/etc/stream.conf"
cp "$repo/tests/fixtures/web/custom-dashboard.html" "$tmp/custom/index.html"
for f in dashboard.js dashboard.css dashboard.slate.css lib css; do
    cp -RL "$web/$f" "$tmp/custom/"
done
target/debug/nanodata -D -c "$tmp/parent/nanodata.conf" -W set directories web "$web" >/dev/null 2>&1 &
pids="$pids $!"
target/debug/nanodata -D -c "$tmp/child/nanodata.conf" >/dev/null 2>&1 &
pids="$pids $!"
i=0
until curl -sf "http://127.0.0.1:$pport/api/v1/info" 2>/dev/null | grep -q '"browser-child"'; do
    i=$((i + 1))
    if [ $i -ge 150 ]; then
        echo "the child did not reach the parent; parent log:" >&2
        tail -20 "$tmp/parent/log/error.log" >&2 || true
        exit 1
    fi
    sleep 0.2
done
# A few seconds of data for the charts.
sleep 4
node "$here/netdata_dashboard.test.js" "http://127.0.0.1:$pport/" browser-child "http://127.0.0.1:$cport/" "$repo/target"
