#!/usr/bin/env bash
# nat.sh: the original's host NAT helper, for guests booted outside bangerd
# (by hand, by a shell flow). It writes the rules bangerd writes, in the same
# nftables table, so the two agree on what NAT means:
#
#   nat.sh up NAME IP [--bridge BR] [--out IFACE]   NAT for the guest NAME at IP
#   nat.sh down NAME [--bridge BR]                  remove the NAT of NAME
#   nat.sh list [--bridge BR]                       "NAME IP IFACE" per guest
#   nat.sh teardown [--bridge BR]                   delete the whole table
#
#   --bridge  the VM bridge (default banger0; its table is "banger", another
#             bridge's is "banger-BR", as bangerd names them)
#   --out     the host interface guests leave by (default: the default
#             route's)
#
# `up` creates the table (family inet) with its forward and postrouting
# chains and the base rules when missing: forwarded traffic between the
# bridge and any other interface is dropped, so guests without NAT stay
# host-only. It then puts the guest's three rules ahead of those drops (out
# of IFACE from IP, replies back, masquerade), each commented
# "banger:vm=NAME", replacing older ones of NAME in the same transaction, and
# turns on net.ipv4.ip_forward when it is off (as bangerd does). `down`
# removes exactly the rules commented for NAME. bangerd owns the rules of its
# own VMs (use 'banger vm set NAME --nat'); when it starts it removes rules
# of names it does not know, nat.sh's included. `teardown` removes bangerd's
# rules of BR too (it recreates them at its next start).
#
# Needs root (or CAP_NET_ADMIN) and nft (Debian and Fedora: package
# nftables). bangerd falls back to iptables where nftables is unusable;
# nat.sh does not.
set -euo pipefail

die() { echo "nat.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; }

name_re='^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'
iface_re='^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$'
ipv4_re='^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$'

[ $# -gt 0 ] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
  -h|--help|help) usage; exit 0 ;;
  up|down|list|teardown) ;;
  *) die "unknown command $cmd: use up, down, list or teardown (see --help)" ;;
esac
bridge=banger0 out="" args=()
while [ $# -gt 0 ]; do
  case $1 in
    --bridge) [ $# -ge 2 ] || die "--bridge needs a name"; bridge=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs an interface"; out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1: see --help" ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ $bridge =~ $iface_re ]] || die "invalid bridge name \"$bridge\": an interface name has at most 15 letters, digits, '.', '_', '@' or '-'"
table=banger
[ "$bridge" = banger0 ] || table=banger-$bridge

want_args() {
  [ ${#args[@]} -eq "$1" ] || die "$cmd takes $2 (got ${#args[@]} arguments): see --help"
}
check_name() {
  [[ $1 =~ $name_re ]] || die "invalid guest name \"$1\": use letters, digits, '.', '_' or '-' (at most 63)"
}

# need_nft: nft is installed and may change the ruleset.
need_nft() {
  command -v nft >/dev/null || die "nft not found: install nftables (Debian, Fedora: package nftables)"
  nft list tables >/dev/null 2>&1 || die "nft cannot read the ruleset: run nat.sh as root (it needs CAP_NET_ADMIN)"
}

have_table() { nft list table inet "$table" >/dev/null 2>&1; }

# handles CHAIN NAME: the handles of CHAIN's rules commented for guest NAME.
handles() {
  nft -a list chain inet "$table" "$1" 2>/dev/null |
    grep -F "comment \"banger:vm=$2\" # handle " | sed 's/.*# handle //' || true
}

# delete_batch NAME: nft commands that delete every rule of guest NAME.
delete_batch() {
  local chain h
  for chain in forward postrouting; do
    for h in $(handles "$chain" "$1"); do
      echo "delete rule inet $table $chain handle $h"
    done
  done
}

case $cmd in
  up)
    want_args 2 "NAME IP"
    name=${args[0]} ip=${args[1]}
    check_name "$name"
    [[ $ip =~ $ipv4_re ]] || die "invalid address \"$ip\": give the guest's IPv4 address, e.g. 172.30.0.2"
    [ -z "$out" ] || [[ $out =~ $iface_re ]] || die "invalid outgoing interface \"$out\": pass --out IFACE"
    need_nft
    if [ -z "$out" ]; then
      out=$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
      [ -n "$out" ] || die "the host has no IPv4 default route: pass --out IFACE"
    fi
    [[ $out =~ $iface_re ]] || die "invalid outgoing interface \"$out\": pass --out IFACE"
    [ "$out" != "$bridge" ] || die "--out $out is the VM bridge itself: name the host's uplink"
    batch="add table inet $table
add chain inet $table forward { type filter hook forward priority filter; policy accept; }
add chain inet $table postrouting { type nat hook postrouting priority srcnat; policy accept; }"
    # Read the chain whole: with pipefail, grep -q could end nft by SIGPIPE.
    fwd=$(nft list chain inet "$table" forward 2>/dev/null || true)
    if [[ $fwd != *'comment "banger:base"'* ]]; then
      batch+="
add rule inet $table forward iifname \"$bridge\" oifname != \"$bridge\" drop comment \"banger:base\"
add rule inet $table forward oifname \"$bridge\" iifname != \"$bridge\" drop comment \"banger:base\""
    fi
    old=$(delete_batch "$name")
    [ -z "$old" ] || batch+=$'\n'"$old"
    batch+="
insert rule inet $table forward iifname \"$bridge\" oifname \"$out\" ip saddr $ip accept comment \"banger:vm=$name\"
insert rule inet $table forward iifname \"$out\" oifname \"$bridge\" ip daddr $ip ct state established,related accept comment \"banger:vm=$name\"
add rule inet $table postrouting oifname \"$out\" ip saddr $ip masquerade comment \"banger:vm=$name\""
    err=$(nft -f - <<<"$batch" 2>&1) || die "add nat rules for $name: $err: check that the kernel has nf_tables with NAT (modprobe nf_tables nft_chain_nat)"
    if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
      echo 1 >/proc/sys/net/ipv4/ip_forward || die "enable ip forwarding failed: set net.ipv4.ip_forward=1 (sysctl -w net.ipv4.ip_forward=1)"
      echo "nat.sh: turned on net.ipv4.ip_forward (guests without NAT stay host-only: the base rules drop their forwarded traffic)"
    fi
    echo "nat.sh: $name ($ip) reaches the outside through $out (table inet $table)"
    ;;
  down)
    want_args 1 "NAME"
    name=${args[0]}
    check_name "$name"
    need_nft
    have_table || exit 0
    batch=$(delete_batch "$name")
    [ -n "$batch" ] || exit 0
    err=$(nft -f - <<<"$batch" 2>&1) || die "remove nat rules for $name: $err"
    echo "nat.sh: removed the NAT of $name"
    ;;
  list)
    want_args 0 "no arguments"
    need_nft
    have_table || exit 0
    nft list chain inet "$table" postrouting |
      sed -n 's/.*oifname "\([^"]*\)" ip saddr \([0-9.]*\) masquerade comment "banger:vm=\([^"]*\)".*/\3 \2 \1/p' | LC_ALL=C sort
    ;;
  teardown)
    want_args 0 "no arguments"
    need_nft
    have_table || exit 0
    err=$(nft delete table inet "$table" 2>&1) || die "delete table inet $table: $err"
    echo "nat.sh: deleted table inet $table"
    ;;
esac
