# shellcheck shell=bash
# Sourced by the cross/*.sh scripts: the target table, the cache layout and the cargo
# environment for one target. Nothing here runs on its own.
#
# Cache layout under $XC (computed at run time, never committed):
#   musl/<target>/        musl's headers, crt objects and libc.a, built from Debian's source
#   link/<target>/        what rustc's self-contained musl link looks for (-L native=)
#   link/<target>/nostub  (MIPS) a no-op libunwind.a for FPU-less panic=abort release builds
#   bin/<target>-cc       C compiler wrapper for cc-rs (ring): gnu cross gcc + musl headers
#   src/                  Debian's musl source and our small C helpers
#   target/               cargo target directory shared by all cross builds (incremental)
#   stamp/                markers for finished setup steps

set -o pipefail

XC=${XC:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/nanodata-cross}
XC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # the nanodata checkout
XC_CARGO=/usr/bin/cargo    # Debian's cargo-web; rustup's shims in ~/.cargo/bin would shadow it
XC_RUSTC=/usr/bin/rustc    # Debian's rustc-web, the same build as /usr/lib/rustlib/src
XC_TARGETS="armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl mipsel-unknown-linux-musl mips-unknown-linux-musl"
# Built on request only (x86 routers such as OpenWrt x86_64, small servers, and the x86_64
# footprint measurement): a static musl binary that runs natively, no qemu.
XC_EXTRA_TARGETS="x86_64-unknown-linux-musl"
# Features of the smallest build: a collector that only stores (and later streams).
XC_HEADLESS_FEATURES=""

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Sets XC_GNU (Debian cross triple), XC_QEMU, XC_CFLAGS and XC_MIPS (1 for MIPS) for a target.
xc_target() {
    XC_CFLAGS="" XC_MIPS=0
    case $1 in
        armv7-unknown-linux-musleabihf) XC_GNU=arm-linux-gnueabihf XC_QEMU=qemu-arm-static ;;
        aarch64-unknown-linux-musl)     XC_GNU=aarch64-linux-gnu   XC_QEMU=qemu-aarch64-static ;;
        mipsel-unknown-linux-musl)      XC_GNU=mipsel-linux-gnu    XC_QEMU=qemu-mipsel-static XC_CFLAGS=-msoft-float XC_MIPS=1 ;;
        mips-unknown-linux-musl)        XC_GNU=mips-linux-gnu      XC_QEMU=qemu-mips-static   XC_CFLAGS=-msoft-float XC_MIPS=1 ;;
        x86_64-unknown-linux-musl)      XC_GNU=x86_64-linux-gnu    XC_QEMU="" ;;
        *) die "unknown target '$1' (known: $XC_TARGETS $XC_EXTRA_TARGETS)" ;;
    esac
}

# Exports what cargo needs to build for $1. $2 = "release" links the no-op unwinder on MIPS
# (panic=abort builds for FPU-less CPUs), anything else links libgcc_eh (tests need unwinding).
xc_env() {
    local t=$1 kind=${2:-test} up low link
    xc_target "$t"
    up=$(printf '%s' "$t" | tr 'a-z-' 'A-Z_')
    low=$(printf '%s' "$t" | tr '-' '_')
    link="-L native=$XC/link/$t"
    if [ "$kind" = release ] && [ "$XC_MIPS" = 1 ]; then
        link="-L native=$XC/link/$t/nostub $link"   # searched first: its libunwind.a wins
    fi
    if [ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
        say "RUSTFLAGS is set; it would replace the per-target flags below, so it is ignored here"
        unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
    fi
    export RUSTC=$XC_RUSTC RUSTC_BOOTSTRAP=1
    export CARGO_TARGET_DIR=${XC_TARGET_DIR:-$XC/target}
    # XC_TIME64=1: musl's 64-bit time_t ABI on 32-bit targets (Y2038-safe) for the libc crate,
    # std included. Opt-in: the libc crate calls this mode unstable. Own target dir, so
    # switching does not rebuild everything.
    if [ "${XC_TIME64:-0}" = 1 ]; then
        export RUST_LIBC_UNSTABLE_MUSL_V1_2_3=1
        CARGO_TARGET_DIR=${XC_TARGET_DIR:-$XC/target-time64}
    else
        unset RUST_LIBC_UNSTABLE_MUSL_V1_2_3
    fi
    export "CARGO_TARGET_${up}_LINKER=$XC_GNU-gcc"
    if [ -n "$XC_QEMU" ]; then
        export "CARGO_TARGET_${up}_RUNNER=$XC_QEMU"
    fi
    export "CARGO_TARGET_${up}_RUSTFLAGS=-C target-feature=+crt-static $link"
    export "CC_${low}=$XC/bin/$t-cc" "AR_${low}=$XC_GNU-ar"
}

# cargo SUBCOMMAND for target $1 with std built from Debian's rust-web-src.
xc_cargo() {
    local sub=$1 t=$2
    shift 2
    (cd "$XC_ROOT" && nice "$XC_CARGO" "$sub" -Zbuild-std=std,panic_abort --target "$t" "$@")
}

xc_need_setup() {
    [ -x "$XC_CARGO" ] && [ -f "$XC/stamp/setup" ] || die "run cross/setup.sh first (XC=$XC)"
}

# Sets up an opt-in target ($XC_EXTRA_TARGETS) on first use: musl, cc wrapper, link dir.
xc_need_target() {
    [ -s "$XC/link/$1/libc.a" ] && return 0
    "$XC_ROOT/cross/setup.sh" "$1" || die "setup of $1 failed"
}
