#!/usr/bin/env bash
# verify.sh: smoke test of the Go workflow against the current bangerd:
# create a VM, SSH in, check the work disk and its .vm name, optionally NAT
# (--nat: apt-get update in the guest), stop/start, delete. Leaves nothing
# behind. Run it as ./verify.sh [--nat] from the checkout root (a link to
# scripts/verify.sh) or from an installed bundle.
#
# BANGER is the banger CLI to use (default: ./banger in a checkout, else
# banger from PATH).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# shellcheck source=SCRIPTDIR/dns.sh
. "$here/dns.sh"

nat=()
case ${1:-} in
  --nat) nat=(--nat) ;;
  "") ;;
  *) echo "usage: verify.sh [--nat]" >&2; exit 2 ;;
esac
b=${BANGER:-}
if [ -z "$b" ]; then
  if [ -x "$here/../banger" ]; then b=$here/../banger; else b=banger; fi
fi
name=verify-$$
cleanup() { "$b" vm delete --force "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$b" vm create --name "$name" --memory 512 --vcpu 1 --disk-size 1G "${nat[@]}"
"$b" vm ssh "$name" -- 'uname -a && echo ok > /root/verify && findmnt /root'
ip=$(banger_dns_lookup "$name" || true)
if [ -n "$ip" ]; then
  echo "dns: $(banger_dns_fqdn "$name") -> $ip"
else
  echo "dns: $(banger_dns_fqdn "$name") does not resolve from the host (see banger doctor); continuing"
fi
if [ ${#nat[@]} -gt 0 ]; then
  "$b" vm exec "$name" -- 'apt-get update -q >/dev/null && echo "nat: mirror reachable"'
fi
"$b" vm stop "$name"
"$b" vm start "$name"
test "$("$b" vm ssh "$name" -- cat /root/verify)" = ok
echo "verify: ok"
