#!/usr/bin/env bash
# Builds nanodata for one router target.
#
#   cross/build.sh TARGET [--release] [--headless | --features LIST] [other cargo args]
#
#   --release    size profile (Cargo.toml), panic=abort; on MIPS also the no-op unwinder, so the
#                binary holds no FPU instruction. Without it: a debug build with unwinding.
#   --headless   the smallest build: --no-default-features (no web, TLS, compression,
#                exporting, health)
#   --out FILE   also copy the binary to FILE
#
# Prints the path of the binary on stdout. Output goes to $XC/target/TARGET/{release,debug}/.
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 TARGET [--release] [--headless | --features LIST] [cargo args]"
t=$1
shift
xc_target "$t"
xc_need_setup
case " $XC_EXTRA_TARGETS " in *" $t "*) xc_need_target "$t" ;; esac

kind=debug out=""
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --release) kind=release; args+=(--release) ;;
        --headless) args+=(--no-default-features ${XC_HEADLESS_FEATURES:+--features "$XC_HEADLESS_FEATURES"}) ;;
        --out) out=$2; shift ;;
        *) args+=("$1") ;;
    esac
    shift
done

xc_env "$t" "$kind"
xc_cargo build "$t" --locked --bin nanodata "${args[@]}" >&2
bin=$CARGO_TARGET_DIR/$t/$kind/nanodata
if [ -n "$out" ]; then
    mkdir -p "$(dirname "$out")" && cp "$bin" "$out"
fi
echo "$bin"
