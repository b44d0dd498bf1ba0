# nanodata — build, run, test, install.
#
#   make            release build (size-optimised, see Cargo.toml [profile.release])
#   make PROFILE=fast   the same optimised for speed, for a parent or proxy on a server
#   make run        a node in the foreground with conf.d/ and a local state/ directory
#   make test       the whole test suite (unit, integration)
#   make fuzz       every fuzz target for FUZZ_SECONDS (30) each from its seed corpus
#                   (libFuzzer on stable, see fuzz/run.sh); fails and keeps the input on a crash
#   make install DESTDIR=/path/to/staging   a firmware staging tree
#   make bench-attack [BIN=path/to/nanodata]   attacks on a parent with 100 good children (~4 min)
#
# Routers (see cross/README.md; needs Debian 12, run `make cross-setup` as root once):
#   make cross TARGET=mips-unknown-linux-musl [HEADLESS=1]   static release binary
#   make cross-all            release binaries for all router targets
#   make cross-test TARGET=…  unit tests under qemu
#   make cross-smoke TARGET=… start the release binary under qemu and check what it stored
#   make cross-install TARGET=… DESTDIR=… [INIT=openwrt|systemd|none]   firmware tree
#   make size                 stripped sizes of the release binaries built so far
#   make cross-ci             the cross part of CI

CARGO   ?= cargo
PREFIX  ?= /usr
SYSCONFDIR ?= /etc
# release: optimised for size (routers); fast: optimised for speed (parents on servers).
PROFILE ?= release
BIN     := target/$(PROFILE)/nanodata
STATE   ?= $(CURDIR)/state

.PHONY: fuzz
.PHONY: all build run test test-browser install install-files clean bench-collect bench-stream bench-footprint bench-parent lint bench-ab bench-health bench-exporting bench-storage

all: build

build:
	$(CARGO) build --profile $(PROFILE) --locked

# The README's first command: collect into ./state with the shipped defaults, logging to
# the terminal. Stop with Ctrl-C.
run: build
	@mkdir -p $(STATE)/cache $(STATE)/lib $(STATE)/log
	$(BIN) -D -c conf.d/nanodata.conf \
		-W set directories config $(CURDIR)/conf.d \
		-W set directories cache $(STATE)/cache \
		-W set directories lib $(STATE)/lib \
		-W set directories log $(STATE)/log \
		-W set logs error stderr

# The README's second command.
test:
	$(CARGO) test --locked --all-targets
	CARGO="$(CARGO)" sh tests/browser/run.sh

# Clippy with warnings as errors: among others, `Instant::now` outside src/clock.rs
# (clippy.toml) and the lint header of src/lib.rs.
lint:
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) clippy --locked --no-default-features --lib -- -D warnings

# Coverage-guided fuzzing of every parser of outside bytes (fuzz/, its own workspace).
# FUZZ_TARGETS narrows the run (e.g. `make fuzz FUZZ_TARGETS="http lz4"`).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) CARGO="$(CARGO)" fuzz/run.sh $(FUZZ_TARGETS)

# The dashboard in headless chromium (skipped when chromium or node is missing).
test-browser:
	CARGO="$(CARGO)" sh tests/browser/run.sh

# Side-by-side benchmarks with Netdata 1.37 (Debian's netdata package must be installed).
bench-collect:
	python3 bench/compare.py collect --seconds 60

# The headless child three ways: this machine's release build (glibc, all features), the
# router build (static musl, headless with compression: what goes into firmware), Netdata.
ROUTER_BIN := target/router/nanodata-x86_64-musl-headless
bench-stream: cross-setup
	$(CARGO) build --profile $(PROFILE) --locked --bin nanodata
	cross/build.sh x86_64-unknown-linux-musl --release --headless --features compression --out $(ROUTER_BIN) >/dev/null
	python3 bench/compare.py stream --seconds 60 --compression yes --bin nanodata=$(BIN) --bin router=$(ROUTER_BIN) --with-netdata --smaps
	python3 bench/compare.py stream --seconds 60 --compression no --bin nanodata=$(BIN) --bin router=$(ROUTER_BIN) --with-netdata

bench-footprint:
	bench/footprint.sh 60

# Parent ingestion: 10, 100, 1000 simulated children × 200 dimensions/s into nanodata and
# Netdata 1.37 parents, then nanodata alone at 1000 × 2000 (2 M samples/s).
bench-parent:
	bench/parent_load.sh 10 100 1000
	DIMS=2000 NETDATA=no bench/parent_load.sh 1000
	DIMS=2000 NETDATA=no PROFILE=fast bench/parent_load.sh 1000

# Health on a parent with 1000 simulated children and the stock alarms, beside Netdata 1.37.
bench-health:
	bench/health_load.sh 1000

# Exporting on a parent with 1000 simulated children × 200 dimensions stored in ram, every 10 s
# to loopback sinks (graphite, opentsdb, json; remote write on nanodata only), beside Netdata 1.37.
bench-exporting:
	bench/exporting_load.sh 1000

# Storage tiers (issue 17) beside Netdata 1.37 dbengine with 3 tiers: disk and RAM per tier for
# 1000 simulated children × 200 dimensions (tiers accelerated: every 2 and 4 s), projected to a
# week per minute and a year per hour; query time of a day on one chart (a day replicated into
# 5 children). bench/storage_tiers.sh documents the knobs (ONLY=, PARTS=, VALUES=, ...).
bench-storage:
	bench/storage_tiers.sh 1000

# Old against new in one run on this machine (bench/ab.sh: parent ingestion, headless child
# CPU and RSS, web req/s, binary sizes; medians, old | new | ratio). `make bench-ab OLD=main`.
OLD ?= main
NEW ?= HEAD
bench-ab:
	bench/ab.sh $(OLD) $(NEW)

# Attacks on a parent with 100 good children (examples/attack.rs): latency of /api/v1/info and
# of a data query, and the good children's lost seconds, per attack. `BIN=` on the command line
# attacks another binary (it is then not built); ATTACK_ARGS="--only time-leap" and so on.
ATTACK_ARGS ?=
.PHONY: bench-attack
bench-attack:
	$(CARGO) build --release --locked --example attack
	$(if $(filter command line,$(origin BIN)),,$(CARGO) build --profile $(PROFILE) --locked --bin nanodata)
	target/release/examples/attack --bin $(BIN) $(ATTACK_ARGS)

# A staging tree for a firmware image or a package. INIT=openwrt or INIT=systemd adds the
# service definition.
INIT    ?= none
install: build
	@$(MAKE) --no-print-directory install-files

install-files:
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/nanodata
	install -D -m 0644 conf.d/nanodata.conf $(DESTDIR)$(SYSCONFDIR)/nanodata/nanodata.conf
	install -D -m 0644 conf.d/stream.conf $(DESTDIR)$(SYSCONFDIR)/nanodata/stream.conf
	install -D -m 0644 conf.d/exporting.conf $(DESTDIR)$(SYSCONFDIR)/nanodata/exporting.conf
	install -d $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d
	install -m 0644 conf.d/*.conf $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d/
	install -d $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d/health.d
	install -m 0644 conf.d/health.d/*.conf $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d/health.d/
	for r in conf.d/roles/*/; do \
		install -d $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d/roles/$$(basename $$r) && \
		install -m 0644 $$r*.conf $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d/roles/$$(basename $$r)/ || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/libexec/nanodata/plugins.d
	for f in plugins.d/*; do [ -f "$$f" ] && install -m 0755 "$$f" $(DESTDIR)$(PREFIX)/libexec/nanodata/plugins.d/; done; true
ifeq ($(INIT),openwrt)
	install -D -m 0755 cross/openwrt/nanodata.init $(DESTDIR)$(SYSCONFDIR)/init.d/nanodata
endif
ifeq ($(INIT),systemd)
	install -D -m 0644 cross/systemd/nanodata.service $(DESTDIR)$(PREFIX)/lib/systemd/system/nanodata.service
endif

clean:
	$(CARGO) clean
	rm -rf $(STATE)

# ---- routers: cross builds under cross/ (TARGET is a Rust target triple) ----------------
TARGET  ?= mipsel-unknown-linux-musl
CROSS_TARGETS := armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl mipsel-unknown-linux-musl mips-unknown-linux-musl
CROSS_FLAGS := $(if $(HEADLESS),--headless)

.PHONY: cross-setup cross cross-all cross-test cross-smoke cross-install cross-ci size

cross-setup:
	cross/setup.sh

cross: cross-setup
	cross/build.sh $(TARGET) --release $(CROSS_FLAGS)

cross-all: cross-setup
	for t in $(CROSS_TARGETS); do cross/build.sh $$t --release $(CROSS_FLAGS) || exit 1; done

cross-test: cross-setup
	cross/test.sh $(TARGET) $(CROSS_FLAGS)

cross-smoke: cross-setup
	cross/smoke.sh $(TARGET) $(CROSS_FLAGS)

cross-install: INIT = openwrt
cross-install: cross-setup
	bin=$$(cross/build.sh $(TARGET) --release $(CROSS_FLAGS)) && \
		$(MAKE) --no-print-directory install-files BIN="$$bin" INIT=$(INIT)

cross-ci:
	cross/ci.sh

size:
	@cross/size.sh $(CROSS_TARGETS)
