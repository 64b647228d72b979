#!/usr/bin/env bash
# make setup: the one privileged line for an ordinary account. Run as
#   sudo make setup
# It installs the host packages, builds banger and the runtime bundle
# (cached in /var/cache/banger), and runs 'banger system install' for the
# account that called sudo, so that account then runs 'make demo', 'banger
# vm create' and everything else without root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "setup changes the host once: run it as 'sudo make setup'" >&2
  exit 1
fi
CACHE=${CACHE:-/var/cache/banger}
USER_NAME=${SUDO_USER:-}

step() { printf '\n==> %s\n' "$*"; }

step "installing host packages (if missing)"
./scripts/install-deps.sh
step "building banger, bangerd and banger-nethelper"
make build
if [ ! -f runtime/bundle.json ]; then
  step "building the runtime bundle from Debian packages (first time: ~20 min on 2 cores)"
  ./banger bundle build --dir runtime --cache-dir "$CACHE"
fi
if [ -n "$USER_NAME" ] && [ "$USER_NAME" != root ]; then
  # The checkout belongs to the user; the binaries and bundle root built
  # must stay readable and the build outputs writable by them.
  # install runs from root-owned copies in a root-owned directory: it
  # refuses a helper another account could swap before it is given
  # capabilities (docs/security.md), and the checkout is the user's.
  trusted=$(mktemp -d /tmp/banger-setup.XXXXXX)
  trap 'rm -rf "$trusted"' EXIT
  install -o root -g root -m 0755 banger banger-nethelper "$trusted/"
  chown "$USER_NAME": banger bangerd banger-nethelper
  step "letting $USER_NAME run banger without sudo"
  "$trusted/banger" system install --user "$USER_NAME"
  printf '\nDone. As %s, run: make demo\n' "$USER_NAME"
else
  printf '\nDone. root runs banger as it is; for an ordinary account run: sudo make setup (via sudo from that account)\n'
fi
