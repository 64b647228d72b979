#!/usr/bin/env bash
# make-rootfs.sh: rebuilds the default image rootfs-docker.ext4 of a runtime
# bundle from its plain base rootfs.ext4, the package list and Docker Engine
# from Debian (docker.io, containerd, runc, iptables; socket-activated, so
# boot time does not grow). `make rootfs` runs it. Needs root (loop mount and
# chroot, see customize.sh) and the Debian mirror.
#
#   make-rootfs.sh [--base-rootfs PATH] [--packages FILE] [--runtime-dir DIR]
#                  [--grow SIZE] [--force | --check]
#
#   --runtime-dir  the bundle: $BANGER_RUNTIME_DIR, else the directory of this
#                  script when it is a bundle, else ./runtime
#   --base-rootfs  the plain image to start from (default DIR/rootfs.ext4)
#   --packages     package list (default ./packages.apt when present, else
#                  DIR/packages.apt)
#   --grow         room added for the packages before provisioning (768M)
#   --force        rebuild even when the stamp matches
#   --check        only say whether a build is needed: exit 0 when the image
#                  is up to date, 3 when it would be rebuilt
#
# It skips the build when DIR/rootfs-docker.ext4.packages.sha256 matches the
# package set, the recipe and the base image's content (its SHA-256, cached
# in DIR/.base-sha256 while the file is unchanged; file times do not count,
# so a freshly fetched bundle is up to date). It writes only
# DIR/rootfs-docker.ext4, that stamp and the cache; the rest of the bundle
# is left alone.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# shellcheck source=SCRIPTDIR/packages.sh
. "$here/packages.sh"

die() { echo "make-rootfs.sh: $*" >&2; exit 1; }

runtime=${BANGER_RUNTIME_DIR:-}
if [ -z "$runtime" ]; then
  if [ -f "$here/bundle.json" ]; then runtime=$here; else runtime=./runtime; fi
fi
base="" packages="" grow=768M force=0 check=0
while [ $# -gt 0 ]; do
  case $1 in
    --base-rootfs) [ $# -ge 2 ] || die "--base-rootfs needs a path"; base=$2; shift 2 ;;
    --packages) [ $# -ge 2 ] || die "--packages needs a file"; packages=$2; shift 2 ;;
    --runtime-dir) [ $# -ge 2 ] || die "--runtime-dir needs a directory"; runtime=$2; shift 2 ;;
    --grow) [ $# -ge 2 ] || die "--grow needs a size"; grow=$2; shift 2 ;;
    --force) force=1; shift ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) die "unknown argument $1: see --help" ;;
  esac
done
[ -d "$runtime" ] || die "no runtime bundle at $runtime: run 'make runtime-bundle' (or 'make runtime-bundle-local') first, or pass --runtime-dir"
base=${base:-$runtime/rootfs.ext4}
[ -f "$base" ] || die "base image $base not found: the bundle has no plain rootfs.ext4; pass --base-rootfs PATH"
if [ -z "$packages" ]; then
  if [ -f ./packages.apt ]; then packages=./packages.apt; else packages=$runtime/packages.apt; fi
fi
[ -f "$packages" ] || die "package list $packages not found: pass --packages FILE"

out=$runtime/rootfs-docker.ext4
stamp=$out.packages.sha256
hash=$(banger_rootfs_stamp "$packages" "$base" "$runtime/.base-sha256") || die "bad package list $packages, or $base is unreadable"
if [ $force -eq 0 ] && [ -f "$out" ] && banger_stamp_matches "$stamp" "$hash"; then
  echo "make-rootfs.sh: $out is up to date ($packages and $base unchanged)"
  exit 0
fi
# A stamp from before issue 27 keyed on the base's size and mtime: when it
# still matches, the image was built from this file as it is; take it over
# instead of rebuilding.
legacy=$(banger_packages_hash "$packages" "${BANGER_DOCKER_PACKAGES[@]}" \
  "recipe:$BANGER_PROVISION_VERSION" "base:$(stat -c '%s:%Y' "$base")") || legacy=""
if [ $force -eq 0 ] && [ -f "$out" ] && [ -n "$legacy" ] && banger_stamp_matches "$stamp" "$legacy"; then
  [ $check -eq 1 ] || banger_stamp_write "$stamp" "$hash" || die "cannot rewrite $stamp: run as its owner"
  echo "make-rootfs.sh: $out is up to date ($packages and $base unchanged; stamp now keyed on the base's content)"
  exit 0
fi
if [ $check -eq 1 ]; then
  echo "make-rootfs.sh: $out needs a build (missing, or $packages, the recipe or $base changed): run 'sudo make rootfs'"
  exit 3
fi
[ "$(id -u)" -eq 0 ] || die "building $out needs root (loop mount and chroot): run 'sudo make rootfs'"
for tool in e2fsck resize2fs mount chroot; do
  command -v "$tool" >/dev/null || die "$tool not found: install e2fsprogs and mount (Debian: apt-get install e2fsprogs mount)"
done

tmp=$runtime/.rootfs-docker.ext4.tmp
trap 'rm -f "$tmp"' EXIT
echo "make-rootfs.sh: building $out from $base + $packages + Docker Engine"
cp --sparse=always --reflink=auto "$base" "$tmp"
truncate -s "+$grow" "$tmp"
e2fsck -fp "$tmp" >/dev/null || [ $? -le 1 ] || die "e2fsck $base failed"
resize2fs -p "$tmp" >/dev/null 2>&1 || die "resize2fs failed on a copy of $base"
"$here/customize.sh" --packages-file "$packages" --docker --image "$tmp"
e2fsck -fp "$tmp" >/dev/null || [ $? -le 1 ] || die "e2fsck of the new image failed"
mv -f "$tmp" "$out"
banger_stamp_write "$stamp" "$hash"
echo "make-rootfs.sh: wrote $out"
