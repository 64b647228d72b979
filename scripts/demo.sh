#!/usr/bin/env bash
# make demo: the main job on a fresh Debian machine. Installs the packages
# banger needs, builds banger, builds a runtime bundle from Debian packages
# (cached), creates a VM, runs `uname -a` in it over SSH and says how to get
# a shell. Re-running reuses the bundle and the VM.
#   NAME=calm-otter   VM name
#   CACHE=~/.cache/banger
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${NAME:-calm-otter}
CACHE=${CACHE:-$HOME/.cache/banger}

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
  step "installing host packages (if missing)"
  ./scripts/install-deps.sh
fi
step "building banger, bangerd and banger-nethelper"
make build
if [ ! -f runtime/bundle.json ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "no runtime bundle yet: run 'sudo make setup' once (it builds the bundle and sets up this account)" >&2
    exit 1
  fi
  step "building the runtime bundle from Debian packages (first time: ~20 min on 2 cores)"
  ./banger bundle build --dir runtime --cache-dir "$CACHE"
fi
step "starting bangerd and checking the host"
./banger daemon status
./banger doctor || true
state=$(./banger --output json vm show "$NAME" 2>/dev/null | sed -n 's/^  "state": "\(.*\)",$/\1/p' || true)
case "$state" in
  "") step "creating VM $NAME"; ./banger vm create --name "$NAME" ;;
  running) step "VM $NAME is already running" ;;
  *) step "starting VM $NAME"; ./banger vm start "$NAME" ;;
esac
step "running uname -a in $NAME over SSH"
./banger vm ssh "$NAME" -- uname -a
cat <<MSG

$NAME is up. Next:
  ./banger vm ssh $NAME            # a shell in the VM
  ./banger ssh-config --install    # then plain: ssh $NAME.vm
  ./banger vm list | stats $NAME | stop $NAME | delete --force $NAME
  ./banger tui
MSG
