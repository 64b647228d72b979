#!/usr/bin/env bash
# customize.sh: the provisioning of banger guest images. It turns package
# names (and --docker) into one root shell script for a Debian guest and runs
# it in the target:
#
#   customize.sh [PKG OPTIONS] --print            print the script
#   customize.sh [PKG OPTIONS] --image IMAGE      provision an ext4 image in
#                                                 place (root: loop mount + chroot)
#   customize.sh [PKG OPTIONS] -- COMMAND...      feed the script to COMMAND,
#                                                 e.g. ssh root@172.30.0.2 bash -s
# PKG OPTIONS:
#   --package NAME        a Debian package (repeatable)
#   --packages-file FILE  a package list (packages.apt format)
#   --bundle-packages     the bundle's list, $BANGER_RUNTIME_DIR/packages.apt
#   --docker              Docker Engine from Debian, socket-activated
#
# `banger image build` runs this provisioning in its builder VM.
# Environment: BANGER_RUNTIME_DIR (bundle assets), BANGER_STATE_DIR
# (transient mount points; default $XDG_STATE_HOME/banger).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# shellcheck source=SCRIPTDIR/packages.sh
. "$here/packages.sh"

die() { echo "customize.sh: $*" >&2; exit 1; }

args=() mode="" image=""
while [ $# -gt 0 ]; do
  case $1 in
    --package) [ $# -ge 2 ] || die "--package needs a name"; args+=("$2"); shift 2 ;;
    --packages-file)
      [ $# -ge 2 ] || die "--packages-file needs a file"
      mapfile -t list < <(banger_packages_read "$2") || die "bad package list $2"
      args+=("${list[@]}"); shift 2 ;;
    --bundle-packages)
      [ -n "${BANGER_RUNTIME_DIR:-}" ] || die "--bundle-packages needs BANGER_RUNTIME_DIR"
      mapfile -t list < <(banger_packages_read "$BANGER_RUNTIME_DIR/packages.apt") || die "bad package list"
      args+=("${list[@]}"); shift ;;
    --docker) args+=(--docker); shift ;;
    --print) mode=print; shift ;;
    --image) [ $# -ge 2 ] || die "--image needs a file"; mode=image image=$2; shift 2 ;;
    --) shift; mode="command"; break ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1: see --help" ;;
  esac
done
[ -n "$mode" ] || die "say where to provision: --print, --image IMAGE or -- COMMAND..."
script=$(banger_provision_script "${args[@]}") || die "invalid package list"

case $mode in
  print) printf '%s\n' "$script" ;;
  command)
    [ $# -gt 0 ] || die "-- needs a command that runs bash -s as root in the target"
    printf '%s\n' "$script" | "$@" ;;
  image)
    [ "$(id -u)" -eq 0 ] || die "--image needs root (loop mount and chroot): run it with sudo"
    [ -f "$image" ] || die "image $image not found"
    state=${BANGER_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/banger}
    mkdir -p "$state"
    mnt=$(mktemp -d "$state/customize.XXXXXX")
    mounted=() policy=""
    cleanup() {
      local i
      [ -z "$policy" ] || rm -f "$policy"
      [ ! -e "$mnt/etc/resolv.conf.banger" ] || mv -f "$mnt/etc/resolv.conf.banger" "$mnt/etc/resolv.conf"
      for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || umount -l "${mounted[i]}" || true; done
      rmdir "$mnt" 2>/dev/null || true
    }
    trap cleanup EXIT
    mount -o loop "$image" "$mnt"; mounted+=("$mnt")
    for fs in proc sys dev dev/pts; do
      mount --bind "/$fs" "$mnt/$fs"; mounted+=("$mnt/$fs")
    done
    # Name resolution for apt, and no service starts inside the chroot.
    if [ -e "$mnt/etc/resolv.conf" ] || [ -L "$mnt/etc/resolv.conf" ]; then
      mv -f "$mnt/etc/resolv.conf" "$mnt/etc/resolv.conf.banger"
    fi
    cp -L /etc/resolv.conf "$mnt/etc/resolv.conf"
    if [ ! -e "$mnt/usr/sbin/policy-rc.d" ]; then
      policy=$mnt/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' >"$policy"
      chmod 755 "$policy"
    fi
    printf '%s\n' "$script" | chroot "$mnt" /bin/bash -s
    ;;
esac
