#!/usr/bin/env bash
# Runs the library's unit tests for one target under qemu-user.
#
#   cross/test.sh TARGET [--headless] [extra cargo test args, e.g. -- --skip NAME]
#
# Debug profile with unwinding (Debian's libgcc_eh.a as the unwinder), so #[should_panic]
# works; that unwinder uses FPU instructions on MIPS, so these run on qemu's default CPU,
# not 24Kc (the release smoke test covers FPU-less CPUs). Debug info is left out to keep
# the std build quick.
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 TARGET [--headless] [cargo test args]"
t=$1
shift
xc_target "$t"
xc_need_setup
args=()
for a in "$@"; do
    case $a in
        --headless) args+=(--no-default-features ${XC_HEADLESS_FEATURES:+--features "$XC_HEADLESS_FEATURES"}) ;;
        *) args+=("$a") ;;
    esac
done

xc_env "$t" test
export CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_TEST_DEBUG=false
unset QEMU_CPU
say "unit tests for $t under $XC_QEMU"
xc_cargo test "$t" --locked --lib "${args[@]}"
