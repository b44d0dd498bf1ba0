#!/usr/bin/env bash
# The cross part of CI (called by .ci/run after `make test`).
#
#   cross/ci.sh
#
# 1. setup (Debian packages when missing, musl, link dirs; quick when the cache is warm)
# 2. release builds for armv7 (little-endian) and mips (big-endian, soft-float): all
#    features and headless; size budget check on the stripped static binaries; MIPS binaries
#    must contain no FPU instruction
# 3. the library's unit tests under qemu for both targets
# 4. smoke tests under qemu: MIPS (both builds) with QEMU_CPU=24Kc, armv7 with all features;
#    each stores to database files and streams to a stand-in parent on 127.0.0.1; the
#    all-features builds must answer /api/v1/info on 127.0.0.1
# Prints a summary table; exits non-zero when any step failed. Each step has a time limit.
#
# Knobs: XC (cache dir), CROSS_CI_TARGETS (default: armv7 + mips), CROSS_CI_STEP_TIMEOUT
# (s, default 900), CROSS_CI_BUDGET (s for the whole run, default 1200: a step that would
# start later is not run and counts as a failure).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

targets=${CROSS_CI_TARGETS:-"armv7-unknown-linux-musleabihf mips-unknown-linux-musl"}
step_timeout=${CROSS_CI_STEP_TIMEOUT:-900}
budget=${CROSS_CI_BUDGET:-1200}
budget_all=$((3 * 1024 * 1024))
budget_headless=$((3 * 1024 * 1024 / 2))
out=$XC/ci
mkdir -p "$out"
rows=()
failed=0
t0=$SECONDS

# step NAME COMMAND...: runs it with a time limit, output to $out/NAME.log
step() {
    local name=$1 s=$SECONDS rc=0 limit=$step_timeout left=$((budget - (SECONDS - t0)))
    shift
    if [ "$left" -le 0 ]; then
        failed=1
        rows+=("$name|NOT RUN (budget)|-")
        return 0
    fi
    [ "$left" -lt "$limit" ] && limit=$left
    say "$name"
    timeout --kill-after=30 "$limit" "$@" >"$out/$name.log" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        rows+=("$name|ok|$((SECONDS - s)) s")
    else
        failed=1
        [ "$rc" = 124 ] && rc="timeout"
        rows+=("$name|FAILED ($rc)|$((SECONDS - s)) s")
        tail -n 30 "$out/$name.log" | sed 's/^/    /' >&2
    fi
    return 0
}

# size and FPU checks of a built variant; appends to the size table
check_variant() { # TARGET all|headless
    local t=$1 v=$2 f=$out/bin/$1/nanodata-$2 s budget fpu="-"
    xc_target "$t"
    [ -f "$f" ] || { echo "not built: $f"; return 1; }
    cp "$f" "$f.stripped" && "$XC_GNU-strip" "$f.stripped"
    s=$(stat -c %s "$f.stripped")
    budget=$budget_all
    [ "$v" = headless ] && budget=$budget_headless
    file "$f" | grep -q 'statically linked' || { echo "not a static executable: $(file -b "$f")"; return 1; }
    if [ "$XC_MIPS" = 1 ]; then
        fpu=$("$XC_GNU-objdump" -d "$f" | grep -cE "$FPU_INSNS" || true)
    fi
    sizes+=("$t|$v|$s|$budget|$fpu")
    echo "$t $v: $s bytes stripped (budget $budget), FPU instructions: $fpu"
    [ "$s" -le "$budget" ] || { echo "over the size budget"; return 1; }
    [ "$fpu" = - ] || [ "$fpu" = 0 ] || { echo "MIPS binary contains FPU instructions"; return 1; }
}
# coprocessor-1 loads/stores/moves and floating-point arithmetic (x.s / x.d / x.ps)
FPU_INSNS='[[:space:]](lwc1|swc1|ldc1|sdc1|lwxc1|swxc1|ldxc1|sdxc1|mtc1|mfc1|mthc1|mfhc1|ctc1|cfc1|bc1[ft]l?|[a-z]+\.(s|d|ps))[[:space:]]'

sizes=()
step setup "$here/setup.sh"
if [ "$failed" = 0 ]; then
    for t in $targets; do
        for v in all headless; do
            args=(--release --out "$out/bin/$t/nanodata-$v")
            [ "$v" = headless ] && args+=(--headless)
            rm -f "$out/bin/$t/nanodata-$v"
            step "build-$t-$v" "$here/build.sh" "$t" "${args[@]}"
            check_variant "$t" "$v" >"$out/size-$t-$v.log" 2>&1 || { failed=1; rows+=("size-$t-$v|FAILED|-"); cat "$out/size-$t-$v.log" >&2; }
        done
    done
    for t in $targets; do
        step "test-$t" "$here/test.sh" "$t"
    done
    stream=()
    command -v python3 >/dev/null && stream=(--stream)   # else: no stand-in parent, store only
    for t in $targets; do
        xc_target "$t"
        step "smoke-$t-all" "$here/smoke.sh" "$t" --bin "$out/bin/$t/nanodata-all" --web "${stream[@]}"
        [ "$XC_MIPS" = 1 ] && step "smoke-$t-headless" "$here/smoke.sh" "$t" --bin "$out/bin/$t/nanodata-headless" "${stream[@]}"
    done
fi

{
    echo
    echo "cross CI summary ($((SECONDS - t0)) s, cache $XC)"
    printf '%-52s %-14s %s\n' step result time
    for r in "${rows[@]}"; do IFS='|' read -r a b c <<<"$r"; printf '%-52s %-14s %s\n' "$a" "$b" "$c"; done
    echo
    printf '%-32s %-9s %10s %10s %s\n' target features stripped budget "FPU insns"
    for r in "${sizes[@]}"; do
        IFS='|' read -r a b c d e <<<"$r"
        printf '%-32s %-9s %10s %10s %s\n' "$a" "$b" "$c" "$d" "$e"
    done
    for t in $targets; do
        grep -h '^SMOKE' "$out"/smoke-"$t"-*.log 2>/dev/null
        grep -h '^test result' "$out/test-$t.log" 2>/dev/null | sed "s/^/$t: /"
    done
} | tee "$out/summary.txt"

[ "$failed" = 0 ] || { echo "cross CI: FAILED (logs in $out)" >&2; exit 1; }
echo "cross CI: OK"
