# shellcheck shell=bash
# packages.sh: package-list helpers shared by customize.sh and make-rootfs.sh.
# Source it; it defines functions only and changes no shell options.
#
# A package list (packages.apt) has one Debian package name a line; '#'
# starts a comment, blank lines are ignored.

# Docker Engine from Debian, as installed by --docker. apparmor is only a
# Recommends of docker.io, but on a kernel with AppArmor enabled (Debian's
# distro kernel) dockerd refuses to start containers without apparmor_parser.
BANGER_DOCKER_PACKAGES=(docker.io containerd runc iptables apparmor)

# Version of the provisioning recipe; bump it when the script printed by
# banger_provision_script changes in a way that must rebuild images.
# shellcheck disable=SC2034 # used by the scripts that source this file
BANGER_PROVISION_VERSION=2

# banger_package_valid NAME: succeeds when NAME is a Debian package name.
banger_package_valid() {
  [[ $1 =~ ^[a-z0-9][a-z0-9+.-]*$ ]]
}

# banger_packages_read FILE: prints the package names of FILE one a line,
# sorted and without duplicates. Fails naming the line of an invalid name.
banger_packages_read() {
  local file=$1 line n=0 names=()
  [ -r "$file" ] || { echo "packages: cannot read $file" >&2; return 1; }
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [ -n "$line" ] || continue
    if ! banger_package_valid "$line"; then
      echo "packages: $file:$n: invalid package name \"$line\": use Debian names like docker.io" >&2
      return 1
    fi
    names+=("$line")
  done <"$file"
  [ ${#names[@]} -eq 0 ] || printf '%s\n' "${names[@]}" | LC_ALL=C sort -u
}

# banger_packages_hash FILE [WORD...]: prints the SHA-256 (hex) of the
# package set of FILE plus WORDs (extra packages, recipe version, base image
# identity). Comments, blank lines, order and duplicates do not change it.
banger_packages_hash() {
  local file=$1 list
  shift
  list=$(banger_packages_read "$file") || return 1
  { printf '%s\n' "$list"; printf 'extra:%s\n' "$@"; } | sha256sum | cut -d' ' -f1
}

# banger_file_sha256 FILE CACHE: prints the SHA-256 of FILE's content. The
# digest is kept in the file CACHE with FILE's device, inode, size, mtime
# and ctime, and reused while they are unchanged (any write to FILE changes
# its ctime, which cannot be set back), so a multi-GiB image is read once
# per change, not at every run. Writing CACHE is best effort.
banger_file_sha256() {
  local file=$1 cache=$2 key line sum
  key=$(stat -L -c '%d:%i:%s:%.9Y:%.9Z' "$file") || return 1
  if [ -f "$cache" ]; then
    while IFS= read -r line; do
      if [ "${line% *}" = "$key" ]; then
        echo "${line##* }"
        return 0
      fi
    done <"$cache"
  fi
  echo "packages: reading $file to identify it (once per change of the file)" >&2
  sum=$(sha256sum <"$file") || return 1
  sum=${sum%% *}
  { printf '%s %s\n' "$key" "$sum" >"$cache.tmp" && mv -f "$cache.tmp" "$cache"; } 2>/dev/null || rm -f "$cache.tmp" 2>/dev/null || true
  echo "$sum"
}

# banger_rootfs_stamp PACKAGES BASE CACHE: prints the stamp of the default
# image built from the base image BASE with the package list PACKAGES: the
# package set, the Docker packages, the recipe version and BASE's content
# (banger_file_sha256, cached in CACHE), never its file times, so a fetched
# bundle's image (files unpacked anew) matches the stamp it was built with.
banger_rootfs_stamp() {
  local digest
  digest=$(banger_file_sha256 "$2" "$3") || return 1
  banger_packages_hash "$1" "${BANGER_DOCKER_PACKAGES[@]}" "recipe:$BANGER_PROVISION_VERSION" "base:sha256:$digest"
}

# banger_stamp_matches STAMP HASH: succeeds when the stamp file holds HASH.
banger_stamp_matches() {
  [ -f "$1" ] && [ "$(tr -d '[:space:]' <"$1")" = "$2" ]
}

# banger_stamp_write STAMP HASH: writes HASH to the stamp file atomically.
banger_stamp_write() {
  printf '%s\n' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# banger_provision_script [--docker] PACKAGE...: prints the bash script that
# provisions a Debian guest as root: apt-get install of the packages (and
# Docker Engine with --docker: docker.socket enabled, docker.service not
# started at boot, so boot time does not grow; dockerd starts on first use of
# /run/docker.sock), then apt caches cleaned.
banger_provision_script() {
  local docker=0 p pkgs=()
  for p in "$@"; do
    if [ "$p" = --docker ]; then
      docker=1
    elif banger_package_valid "$p"; then
      pkgs+=("$p")
    else
      echo "packages: invalid package name \"$p\"" >&2
      return 1
    fi
  done
  [ $docker -eq 0 ] || pkgs+=("${BANGER_DOCKER_PACKAGES[@]}")
  echo 'set -euo pipefail'
  echo 'export DEBIAN_FRONTEND=noninteractive LC_ALL=C'
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo 'apt-get update -q'
    echo "apt-get install -y -q --no-install-recommends ${pkgs[*]}"
  fi
  if [ $docker -eq 1 ]; then
    cat <<'DOCKER'
mkdir -p /etc/docker
[ -f /etc/docker/daemon.json ] || printf '{\n  "storage-driver": "overlay2"\n}\n' >/etc/docker/daemon.json
systemctl disable docker.service containerd.service >/dev/null 2>&1 || true
systemctl enable docker.socket >/dev/null 2>&1
DOCKER
  fi
  echo 'apt-get clean'
  echo 'rm -rf /var/lib/apt/lists/*'
}
