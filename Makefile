# banger: build, bundle, test.
PREFIX  ?= $(HOME)/.local
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/bangerdev/banger/internal/version.Version=$(VERSION)
CACHE   ?= $(HOME)/.cache/banger
KERNEL  ?= microvm
RUNTIME ?= runtime

.PHONY: setup rootfs verify all build install uninstall runtime-bundle runtime-bundle-local runtime-package test test-short reliability mutation bench vet fmt demo deps clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o banger ./cmd/banger
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bangerd ./cmd/bangerd
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o banger-nethelper ./cmd/banger-nethelper

# Installed binaries find their bundle at $(PREFIX)/lib/banger and keep
# working after the checkout is deleted. install never fetches a bundle.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/banger
	install -m 0755 banger bangerd banger-nethelper $(DESTDIR)$(PREFIX)/bin/
	@if [ -d $(RUNTIME) ]; then cp -a $(RUNTIME)/. $(DESTDIR)$(PREFIX)/lib/banger/; \
	else echo "note: no $(RUNTIME) bundle to install; run 'make runtime-bundle' or 'make runtime-bundle-local' first"; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/banger $(DESTDIR)$(PREFIX)/bin/bangerd $(DESTDIR)$(PREFIX)/bin/banger-nethelper
	rm -rf $(DESTDIR)$(PREFIX)/lib/banger

# Fetch the published bundle named by runtime-bundle.toml (SHA-256 pinned).
runtime-bundle: build
	./banger bundle fetch --dir runtime --manifest runtime-bundle.toml

# Build a bundle from Debian packages (debootstrap + microVM kernel); root.
runtime-bundle-local: build
	./banger bundle build --dir runtime --cache-dir $(CACHE) --kernel $(KERNEL)

# Rebuild ./runtime/rootfs-docker.ext4 from ./runtime/rootfs.ext4 +
# packages.apt + Docker Engine; a no-op while its packages stamp matches.
# Root (loop mount + chroot). Other base: make rootfs ROOTFS_ARGS="--base-rootfs PATH".
rootfs:
	./scripts/make-rootfs.sh $(ROOTFS_ARGS)

# Smoke test against the running daemon (NAT=1 adds an apt-get in the guest).
verify: build
	./scripts/verify.sh $(if $(NAT),--nat)

# Pack ./runtime into dist/banger-runtime.tar.gz and print its SHA-256.
runtime-package: build
	./banger bundle package --dir runtime --out dist/banger-runtime.tar.gz --manifest runtime-bundle.toml $(if $(WRITE_MANIFEST),--write-manifest)

# Installs the Debian packages banger and its tests use (root).
deps:
	./scripts/install-deps.sh

# Installs missing packages, builds a bundle if none (cached), vets, tests.
test:
	CACHE=$(CACHE) ./scripts/test.sh

# No VM, no root: unit tests and everything that runs as a normal user.
test-short:
	GO=$(GO) ./scripts/gotest.sh -short -count=1 ./...

# Fuzz targets (FUZZTIME each, default 20s), tampered-bundle checks and,
# with RELIABILITY_VM=1, the real-VM checks; prints "figure: NAME VALUE UNIT".
reliability:
	GO=$(GO) $(if $(FUZZTIME),FUZZTIME=$(FUZZTIME)) ./scripts/reliability.sh

# Deliberately broken copies of the tree that the tests must fail on
# (scripts/mutation.sh); no VM; the internal/nat mutants need root (skipped
# otherwise). CI runs it before make test. `scripts/mutation.sh --check`
# only checks that every mutant still applies.
mutation:
	./scripts/mutation.sh

bench: build
	./scripts/bench.sh

# make test plus the long suite (image builds in VMs: minutes each under TCG).
.PHONY: test-long
test-long:
	BANGER_E2E_LONG=1 CACHE=$(CACHE) ./scripts/test.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | tee /dev/stderr)"

fmt:
	gofmt -w .

# The one privileged line for an ordinary account: sudo make setup.
setup:
	./scripts/setup.sh

# The main job on a fresh machine: packages, build, bundle, boot a VM, SSH in.
demo:
	./scripts/demo.sh

clean:
	rm -f banger bangerd banger-nethelper
	rm -rf dist
