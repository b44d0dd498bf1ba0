#!/usr/bin/env bash
# Prepares this Debian 12 machine for cross builds of nanodata (idempotent; quick when warm).
#
#   cross/setup.sh            host packages (as root), musl for every target, link dirs, wrappers
#   cross/setup.sh TARGET...  only these targets (e.g. the opt-in x86_64-unknown-linux-musl)
#   XC=/some/dir cross/setup.sh   keep the toolchain state somewhere else
#
# Needs only Debian's archive (as configured in the machine's apt sources) and the crate
# registry. See cross/README.md for why each piece exists.
set -eu
. "$(dirname "$0")/lib.sh"

PACKAGES="rustc-web cargo-web rust-web-src dpkg-dev make file qemu-user-static
  gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu gcc-mipsel-linux-gnu gcc-mips-linux-gnu"

host_packages() {
    local missing="" p
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run this script as root once)"
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || say "apt-get update reported errors; trying the install anyway"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
}

# The main archive URI of this machine's apt configuration, for the distribution we run on
# (deb822 .sources files and one-line .list files both count; security/updates suites don't).
main_archive_uri() {
    local codename=$1
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk -v c="$codename" '
                /^[[:space:]]*$/ { if (u != "" && s) print u; u = ""; s = 0; next }
                /^URIs:/   { u = $2 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) s = 1 }
                END        { if (u != "" && s) print u }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk -v c="$codename" '$1 == "deb" {
                    i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == c) print $i }' "$f"
        done
    } | head -n 1
}

musl_source() {
    [ -f "$XC/src/musl/configure" ] && return 0
    local codename uri apt keyring="" 
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    uri=$(main_archive_uri "$codename")
    [ -n "$uri" ] || die "no '$codename' archive found in the apt sources"
    say "fetching Debian's musl source ($codename)"
    apt="$XC/apt-src"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$XC/src"
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
        keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
    echo "deb-src ${keyring}$uri $codename main" > "$apt/sources.list"
    local opts=(-o "Dir::State::Lists=$apt/lists" -o "Dir::Etc::SourceList=$apt/sources.list"
                -o "Dir::Etc::SourceParts=$apt/parts" -o "Dir::Cache=$apt/cache")
    apt-get "${opts[@]}" update -qq
    rm -rf "$XC/src/dl" && mkdir -p "$XC/src/dl"
    (cd "$XC/src/dl" && apt-get "${opts[@]}" source --download-only -qq musl >/dev/null)
    # apt checked the files against the signed index; the .dsc signature needs no second look
    (cd "$XC/src/dl" && dpkg-source --no-check -x ./musl_*.dsc "$XC/src/musl.new" >/dev/null)
    mv "$XC/src/musl.new" "$XC/src/musl"
    rm -rf "$XC/src/dl"
}

# Small C helpers linked into every static binary; see README "Unwinding".
helper_sources() {
    mkdir -p "$XC/src"
    cat > "$XC/src/nd_eh_glue.c" <<'EOF'
/* Lets Debian's libgcc_eh.a (GCC 12, built for glibc) work inside a static musl binary. */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stddef.h>

/* glibc >= 2.35 API that libgcc_eh uses to find .eh_frame; musl has no such function.
   Layout as GCC reads it on arm64/MIPS (no eh_dbase/eh_count members there). */
struct dl_find_object {
    unsigned long long dlfo_flags;
    void *dlfo_map_start, *dlfo_map_end, *dlfo_link_map, *dlfo_eh_frame;
    unsigned long long dlfo_reserved[7];
};

struct nd_query { ElfW(Addr) pc; struct dl_find_object *out; };

static int nd_visit(struct dl_phdr_info *m, size_t len, void *arg)
{
    struct nd_query *q = arg;
    ElfW(Addr) lo = (ElfW(Addr))-1, hi = 0;
    void *eh = NULL;
    int mine = 0;
    (void)len;
    for (ElfW(Half) i = 0; i < m->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = m->dlpi_phdr + i;
        ElfW(Addr) start = m->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_GNU_EH_FRAME) {
            eh = (void *)start;
        } else if (ph->p_type == PT_LOAD) {
            ElfW(Addr) end = start + ph->p_memsz;
            lo = start < lo ? start : lo;
            hi = end > hi ? end : hi;
            mine |= q->pc >= start && q->pc < end;
        }
    }
    if (!mine)
        return 0;
    q->out->dlfo_flags = 0;
    q->out->dlfo_map_start = (void *)lo;
    q->out->dlfo_map_end = (void *)hi;
    q->out->dlfo_link_map = NULL;
    q->out->dlfo_eh_frame = eh;
    return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *out)
{
    struct nd_query q = { (ElfW(Addr))pc, out };
    return dl_iterate_phdr(nd_visit, &q) ? 0 : -1;
}

/* libgcc_eh calls these through weak references, which never pull a member out of a
   static libc.a: without a strong reference they resolve to NULL and the first unwind
   jumps to address 0. */
__attribute__((used)) void *const nd_eh_strong_refs[] = {
    (void *)pthread_once, (void *)pthread_key_create, (void *)pthread_getspecific,
    (void *)pthread_setspecific, (void *)pthread_mutex_lock, (void *)pthread_mutex_unlock,
};
EOF
    cat > "$XC/src/nd_nounwind.c" <<'EOF'
/* The unwinder entry points a panic=abort std still references, doing nothing: backtraces
   come out empty, and no FPU instruction gets linked (Debian's libgcc_eh.a has some). */
#include <stdint.h>
struct _Unwind_Context;
typedef int (*nd_trace_fn)(struct _Unwind_Context *, void *);
enum { ND_URC_END_OF_STACK = 5 };
int _Unwind_Backtrace(nd_trace_fn fn, void *arg) { (void)fn; (void)arg; return ND_URC_END_OF_STACK; }
uintptr_t _Unwind_GetIP(struct _Unwind_Context *ctx) { (void)ctx; return 0; }
uintptr_t _Unwind_GetCFA(struct _Unwind_Context *ctx) { (void)ctx; return 0; }
void *_Unwind_FindEnclosingFunction(void *pc) { return pc; }
EOF
}

# musl's libc.a and crt objects for one target; MIPS gets the soft-float ABI OpenWrt uses.
musl_build() {
    local t=$1 prefix=$XC/musl/$1 b=$XC/src/build-$1
    [ -s "$prefix/lib/libc.a" ] && return 0
    xc_target "$t"
    say "building musl for $t"
    rm -rf "$b" "$prefix" && cp -a "$XC/src/musl" "$b"
    (cd "$b" &&
        ./configure --target="$XC_GNU" CC="$XC_GNU-gcc $XC_CFLAGS" CFLAGS=-O2 \
            --disable-shared --prefix="$prefix" --syslibdir="$prefix/lib" &&
        nice make -j"$(nproc)" && make install) >"$b.log" 2>&1 ||
        die "musl build for $t failed; see $b.log"
    rm -rf "$b" "$b.log"
}

# Compiler wrapper for cc-rs (compiles only; rustc drives the link itself).
cc_wrapper() {
    local t=$1 w=$XC/bin/$1-cc
    xc_target "$t"
    mkdir -p "$XC/bin"
    cat > "$w.new" <<EOF
#!/bin/sh
# cc for $t: Debian's cross gcc with musl's headers instead of glibc's
exec $XC_GNU-gcc $XC_CFLAGS -nostdinc -isystem "$XC/musl/$t/include" -isystem "$("$XC_GNU-gcc" -print-file-name=include)" "\$@"
EOF
    chmod +x "$w.new" && mv "$w.new" "$w"
}

# What rustc's self-contained musl link expects, in one -L native= directory.
link_dir() {
    local t=$1 d=$XC/link/$1 gcclib f
    xc_target "$t"
    gcclib=$(dirname "$("$XC_GNU-gcc" -print-libgcc-file-name)")
    rm -rf "$d.new" && mkdir -p "$d.new"
    for f in crt1.o crti.o crtn.o rcrt1.o Scrt1.o libc.a; do cp "$XC/musl/$t/lib/$f" "$d.new/"; done
    for f in crtbegin.o crtbeginS.o crtbeginT.o crtend.o crtendS.o; do cp "$gcclib/$f" "$d.new/"; done
    "$XC/bin/$t-cc" -O2 -fPIC -c "$XC/src/nd_eh_glue.c" -o "$d.new/nd_eh_glue.o"
    cp "$gcclib/libgcc_eh.a" "$d.new/libunwind.a"      # std's unwind crate asks for -lunwind
    "$XC_GNU-ar" rs "$d.new/libunwind.a" "$d.new/nd_eh_glue.o" 2>/dev/null
    rm "$d.new/nd_eh_glue.o"
    if [ "$XC_MIPS" = 1 ]; then
        mkdir -p "$d.new/nostub"
        "$XC/bin/$t-cc" -O2 -fPIC -c "$XC/src/nd_nounwind.c" -o "$d.new/nostub/nd_nounwind.o"
        "$XC_GNU-ar" rcs "$d.new/nostub/libunwind.a" "$d.new/nostub/nd_nounwind.o"
        rm "$d.new/nostub/nd_nounwind.o"
    fi
    rm -rf "$d" && mv "$d.new" "$d"
}

main() {
    local t start=$SECONDS
    host_packages
    mkdir -p "$XC/stamp"
    [ -f /usr/lib/rustlib/src/rust/library/Cargo.lock ] || die "rust-web-src is not installed"
    musl_source
    helper_sources
    for t in ${*:-$XC_TARGETS}; do
        xc_target "$t"
        musl_build "$t"
        cc_wrapper "$t"
        link_dir "$t"
    done
    [ $# -gt 0 ] || touch "$XC/stamp/setup"
    say "setup done in $((SECONDS - start)) s: $("$XC_RUSTC" -V), cache $XC"
}

main "$@"
