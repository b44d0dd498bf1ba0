# nanodata — build, run, test, install.
#
#   make            release build (size-optimised, see Cargo.toml [profile.release])
#   make run        a node in the foreground with conf.d/ and a local state/ directory
#   make test       the whole test suite (unit, integration)
#   make install DESTDIR=/path/to/staging   a firmware staging tree

CARGO   ?= cargo
PREFIX  ?= /usr
SYSCONFDIR ?= /etc
BIN     := target/release/nanodata
STATE   ?= $(CURDIR)/state

.PHONY: all build run test test-browser install clean bench-collect bench-stream bench-footprint

all: build

build:
	$(CARGO) build --release --locked

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

# The dashboard in headless chromium (skipped when chromium or node is missing).
test-browser:
	CARGO="$(CARGO)" sh tests/browser/run.sh

# Side-by-side benchmarks with Netdata 1.37 (Debian's netdata package must be installed).
bench-collect:
	python3 bench/compare.py collect --seconds 60

bench-stream:
	python3 bench/compare.py stream --seconds 60 --compression yes
	python3 bench/compare.py stream --seconds 60 --compression no

bench-footprint:
	bench/footprint.sh 60

# A staging tree for a firmware image or a package.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/nanodata
	install -D -m 0644 conf.d/nanodata.conf $(DESTDIR)$(SYSCONFDIR)/nanodata/nanodata.conf
	install -D -m 0644 conf.d/stream.conf $(DESTDIR)$(SYSCONFDIR)/nanodata/stream.conf
	install -d $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d
	install -m 0644 conf.d/*.conf $(DESTDIR)$(PREFIX)/lib/nanodata/conf.d/
	install -d $(DESTDIR)$(PREFIX)/libexec/nanodata/plugins.d
	for f in plugins.d/*; do [ -f "$$f" ] && install -m 0755 "$$f" $(DESTDIR)$(PREFIX)/libexec/nanodata/plugins.d/; done; true

clean:
	$(CARGO) clean
	rm -rf $(STATE)
