#!/usr/bin/env bash
# Installs the Debian packages banger, its bundle builder and its tests use.
# Fast no-op when everything is present. Needs root (or sudo).
set -euo pipefail

pkgs=(
  qemu-system-x86 qemu-utils seabios  # qemu driver, qcow2 overlays
  e2fsprogs e2tools btrfs-progs       # work disks, images; reflink tests
  openssh-client                      # banger vm ssh
  iproute2 nftables iptables          # network, NAT
  dnsutils                            # dig (tests, doctor hints)
  debootstrap kmod                    # bundle builder: rootfs; depmod for the distro kernel
  linux-source-6.1 bc flex bison libelf-dev libssl-dev make gcc cpio xz-utils  # microVM kernel
  shellcheck jq                       # helper-script tests, dns.sh
  ca-certificates curl tmux
  strace acl                          # helper security tests: forced interleaving; setfacl for the tun udev rule
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
