#!/usr/bin/env bash
# Stripped sizes of the release binaries built so far (cross/build.sh --release).
#
#   cross/size.sh [TARGET...]
set -eu
. "$(dirname "$0")/lib.sh"

printf '%-32s %10s %s\n' target bytes binary
for t in ${*:-$XC_TARGETS}; do
    xc_target "$t"
    f=${XC_TARGET_DIR:-$XC/target}/$t/release/nanodata
    if [ ! -f "$f" ]; then
        printf '%-32s %10s %s\n' "$t" - "(not built: make cross TARGET=$t)"
        continue
    fi
    tmp=$(mktemp)
    "$XC_GNU-strip" -o "$tmp" "$f"
    printf '%-32s %10s %s\n' "$t" "$(stat -c %s "$tmp")" "$f"
    rm -f "$tmp"
done
