#!/usr/bin/env bash
# Smoke test of the Go workflow against the current bangerd: create a VM,
# SSH in, check the work disk, optionally NAT (--nat: apt-get update in the
# guest), stop/start, delete. Leaves nothing behind.
#   verify.sh [--nat]
set -euo pipefail
cd "$(dirname "$0")/.."
nat=()
[ "${1:-}" = "--nat" ] && nat=(--nat)
name=verify-$$
b=./banger
cleanup() { $b vm delete --force "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
$b vm create --name "$name" --memory 512 --vcpu 1 --disk-size 1G "${nat[@]}"
$b vm ssh "$name" -- 'uname -a && echo ok > /root/verify && findmnt /root'
if [ ${#nat[@]} -gt 0 ]; then
  $b vm exec "$name" -- 'apt-get update -q >/dev/null && echo "nat: mirror reachable"'
fi
$b vm stop "$name"
$b vm start "$name"
test "$($b vm ssh "$name" -- cat /root/verify)" = ok
echo "verify: ok"
