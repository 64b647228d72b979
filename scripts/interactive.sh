#!/usr/bin/env bash
# interactive.sh: customize an image by hand. Boots a one-off VM of IMAGE
# (with NAT, so apt works), opens an SSH session, and when you log out offers
# to save the VM's root filesystem as a new image with
# `banger image save VM --name NAME`. The VM is deleted at the end.
#
#   interactive.sh IMAGE [--no-nat]
#
# BANGER is the banger CLI to use (default: ./banger in a checkout, else
# banger from PATH).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# shellcheck source=SCRIPTDIR/dns.sh
. "$here/dns.sh"

die() { echo "interactive.sh: $*" >&2; exit 1; }
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then die "usage: interactive.sh IMAGE [--no-nat]"; fi
image=$1
nat=(--nat)
[ "${2:-}" != --no-nat ] || nat=()
b=${BANGER:-}
if [ -z "$b" ]; then
  if [ -x "$here/../banger" ]; then b=$here/../banger; else b=banger; fi
fi
command -v "$b" >/dev/null || die "banger CLI $b not found: build it (make build) or set BANGER"

vm=interactive-$$
cleanup() { "$b" vm delete --force "$vm" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$b" vm create --name "$vm" --image "$image" "${nat[@]}"
echo "interactive.sh: VM $vm ($(banger_dns_fqdn "$vm")) from image $image; log out to finish"
"$b" vm ssh "$vm" || true

if [ -t 0 ]; then
  read -r -p "save this VM as a new image? name (empty: discard): " name
else
  name=""
fi
if [ -n "$name" ]; then
  "$b" vm stop "$vm"
  "$b" image save "$vm" --name "$name"
  echo "interactive.sh: saved image $name; boot it with: banger vm create --image $name"
else
  echo "interactive.sh: discarded $vm"
fi
