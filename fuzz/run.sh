#!/bin/sh
# Builds the fuzz targets with libFuzzer instrumentation on the stable toolchain and runs
# each for FUZZ_SECONDS from a copy of its checked-in corpus (fuzz/corpus/<target>/), so the
# checked-in corpus never grows during CI. Prints, per target, the executions, libFuzzer's
# final coverage figures (cov: edges, ft: features) and whether it crashed; a crash input is
# kept under fuzz/artifacts/<target>/ and the script exits non-zero.
#
#   fuzz/run.sh [target ...]        (default: every target)
#   FUZZ_SECONDS=30 (per target)  FUZZ_JOBS=1  FUZZ_KEEP=1 (keep the work directory)
#
# Why the flags: libfuzzer-sys needs the sancov passes that `cargo fuzz` would add on
# nightly; they are plain -C options on stable. The explicit --target keeps them away from
# build scripts (whose link would fail). Overflow checks and debug assertions are on (see
# the [profile.release] of fuzz/Cargo.toml), so an arithmetic overflow is a crash too.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
CARGO=${CARGO:-cargo}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
triple=$(rustc -vV | sed -n 's/^host: //p')
targets=${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^nanodata-fuzz$')}

RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cdebug-assertions -Coverflow-checks \
 --cfg fuzzing" \
CARGO_TARGET_DIR="$here/target" \
    $CARGO build --release --locked --target "$triple" --bins >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/nanodata-fuzz.XXXXXX")
[ -n "${FUZZ_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
failed=0
printf '%-16s %12s %8s %8s %7s  %s\n' target execs cov ft crashes result
for t in $targets; do
    bin="$here/target/$triple/release/$t"
    mkdir -p "$work/$t/corpus" "$here/artifacts/$t"
    if [ -d "corpus/$t" ]; then
        cp -R "corpus/$t/." "$work/$t/corpus/"
    fi
    dict=
    [ -f "dict/$t.dict" ] && dict="-dict=$here/dict/$t.dict"
    log="$work/$t/log"
    # -timeout: one input taking 10 s is a finding; -rss_limit_mb: so is 2 GiB of memory.
    set +e
    "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$here/artifacts/$t/" $dict \
        "$work/$t/corpus" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    # The last status line carries the final cov:/ft: figures.
    status=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(printf '%s\n' "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    crashes=$(grep -cE '^==[0-9]+== ERROR: libFuzzer|^==[0-9]+== libFuzzer: (deadly signal|run interrupted|out-of-memory|timeout)|^artifact_prefix=.*Test unit written' "$log" || true)
    if [ "$rc" -ne 0 ]; then
        failed=1
        result="CRASH (exit $rc): $(grep -m1 -o 'Test unit written to .*' "$log" || echo 'see log')"
        [ "$crashes" -gt 0 ] || crashes=1
        sed -n '/panicked at\|ERROR: libFuzzer\|deadly signal\|Test unit written/p' "$log" | head -5 >&2
        cp "$log" "$here/artifacts/$t/last.log"
    else
        result=ok
        crashes=0
    fi
    printf '%-16s %12s %8s %8s %7s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$result"
done
exit $failed
