#!/usr/bin/env bash
# Boots the bundle's kernel + rootfs with qemu directly (no banger) and waits
# until SSH answers, printing the seconds it took. The baseline for banger's
# create->SSH overhead in `make bench`. Root; cleans up after itself.
#   boot-direct.sh RUNTIME_DIR
# TB_SIZE (MiB) sets the TCG translation cache as banger does (default 64;
# 0 keeps QEMU's 1 GiB default); MEM (MiB) and SMP size the VM (512, 1).
# KEEP_RSS_AFTER=N waits N s after SSH and
# prints the qemu RSS in MiB as a second line.
set -euo pipefail
rt=${1:?usage: boot-direct.sh RUNTIME_DIR}
kernel=$rt/bzImage
[ -f "$kernel" ] || kernel=$rt/vmlinuz
rootfs=$rt/rootfs-docker.ext4
work=$(mktemp -d /tmp/bgt-direct-XXXX)
br=bgtdirect0
tap=bgtdirtap0
ip=172.31.251.2
accel=tcg; cpu=max; extra=""
tb=${TB_SIZE:-64}
if [ -w /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo; then
  accel=kvm; cpu=host
else
  # Same as banger's qemu driver: under TCG the guest cannot calibrate its
  # TSC on the microvm machine and may hang early in boot without this.
  mhz=$(awk -F: '/^cpu MHz/ {printf "%d", $2; exit}' /proc/cpuinfo)
  [ -n "$mhz" ] && [ "$mhz" -gt 0 ] && extra="tsc_early_khz=$((mhz * 1000)) tsc=reliable"
  [ "$tb" -gt 0 ] && accel="tcg,tb-size=$tb"
fi

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -f "$work/qemu.pid" ]; then kill -9 "$(cat "$work/qemu.pid")" 2>/dev/null || true; fi
  sleep 0.2
  ip link del "$tap" 2>/dev/null || true
  ip link del "$br" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s.%N)
qemu-img create -q -f qcow2 -F raw -b "$(readlink -f "$rootfs")" "$work/root.qcow2"
ssh-keygen -q -t ed25519 -N '' -f "$work/id"
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
mkdir -p "$work/stage/.ssh" "$work/stage/.banger"
chmod 700 "$work/stage/.ssh" "$work/stage/.banger"
cp "$work/id.pub" "$work/stage/.ssh/authorized_keys"
cp "$work/hostkey" "$work/stage/.banger/ssh_host_ed25519_key"
cp "$work/hostkey.pub" "$work/stage/.banger/ssh_host_ed25519_key.pub"
truncate -s 2G "$work/work.ext4"
mkfs.ext4 -q -F -L banger-work -E root_owner=0:0 -d "$work/stage" "$work/work.ext4"
ip link add "$br" type bridge 2>/dev/null || true
ip addr add 172.31.251.1/24 dev "$br" 2>/dev/null || true
ip link set "$br" up
ip tuntap add dev "$tap" mode tap
ip link set "$tap" master "$br" up
qemu-system-x86_64 -M microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=on -accel "$accel" -cpu "$cpu" \
  -nodefaults -no-user-config -display none -no-reboot -m "${MEM:-512}" -smp "${SMP:-1}" \
  -kernel "$kernel" -append "console=ttyS0 reboot=t panic=-1 root=/dev/vda rw banger.name=direct banger.ip=$ip/24 banger.gw=172.31.251.1 banger.dns=172.31.251.1 $extra" \
  -drive id=root,file="$work/root.qcow2",format=qcow2,if=none -device virtio-blk-device,drive=root \
  -drive id=work,file="$work/work.ext4",format=raw,if=none -device virtio-blk-device,drive=work \
  -netdev tap,id=n0,ifname=$tap,script=no,downscript=no -device virtio-net-device,netdev=n0 \
  -serial file:"$work/console.log" -pidfile "$work/qemu.pid" -daemonize
echo "$ip $(cut -d' ' -f1-2 "$work/hostkey.pub")" > "$work/known_hosts"
deadline=$(( $(date +%s) + 180 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if ssh -q -i "$work/id" -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=yes \
       -o ConnectTimeout=2 -o BatchMode=yes root@$ip true 2>/dev/null; then
    end=$(date +%s.%N)
    echo "$end - $start" | bc
    if [ -n "${KEEP_RSS_AFTER:-}" ]; then
      sleep "$KEEP_RSS_AFTER"
      awk '/^VmRSS:/ {printf "%.0f\n", $2/1024}' "/proc/$(cat "$work/qemu.pid")/status"
    fi
    exit 0
  fi
  sleep 0.1
done
echo "direct boot: no SSH after 180 s; console:" >&2
tail -20 "$work/console.log" >&2
exit 1
