// Package bundle reads, fetches, verifies and packages banger's runtime
// bundle: the directory (./runtime in a source checkout, $(prefix)/lib/banger
// when installed) that holds the guest kernel, the default root filesystem
// images, the apt package list, helper scripts and, optionally, the
// firecracker binary.
//
// # Layouts
//
// A bundle describes itself with bundle.json (see [Metadata]); every path in
// it is relative to the bundle directory and must stay inside it. A bundle
// without bundle.json is read with the legacy layout of the original banger,
// which uses these fixed names:
//
//	firecracker         firecracker binary (optional)
//	vmlinux             guest kernel (format detected: ELF or bzImage)
//	initrd.img          initrd (optional)
//	modules/            kernel modules tree (optional)
//	rootfs-docker.ext4  default rootfs image
//	rootfs.ext4         base rootfs for image builds (optional; falls back
//	                    to rootfs-docker.ext4)
//	packages.apt        apt packages baked into built images
//	customize.sh, interactive.sh, make-rootfs.sh, packages.sh, dns.sh,
//	verify.sh, nat.sh (scripts/, shipped by bundlebuild), namegen (legacy)
//	                    helpers (optional), keyed by name without ".sh"
//
// A legacy id_ed25519 in the bundle is ignored: banger generates a key pair
// per user and never uses a private key shipped in a bundle.
//
// # Manifest and fetch
//
// runtime-bundle.toml at the repository root names the published bundle
// (url, sha256) and a [bundle_metadata] table used as bundle.json when the
// unpacked archive has none. [Fetch] downloads (https, http, file), verifies
// the SHA-256 before unpacking, unpacks safely into a temporary directory
// next to the target and swaps it into place atomically, so a failure at any
// step leaves the previous bundle untouched. An archive that wraps the bundle
// in a single top-level directory is accepted. Unpacking keeps permission
// bits but not owners or times. The fetched bundle is stamped with the
// archive's SHA-256 (.bundle-sha256), so fetching the same bundle again is a
// no-op. [Package] builds the archive
// deterministically and can rewrite the manifest to point at it.
//
// Nothing in this package prints; progress is reported through callbacks.
package bundle
