package preflight

import (
	"errors"
	"path/filepath"
)

// Driver names accepted by ForVMStart.
const (
	DriverFirecracker = "firecracker"
	DriverQEMU        = "qemu"
)

// tunDevice is the tap device multiplexer.
const tunDevice = "/dev/net/tun"

// ForVMStart is what starting a VM with driver needs on the host. The daemon
// resolves vmm = "auto" before calling; "auto" or "" are treated as qemu,
// which works everywhere. The daemon appends the VM's files (kernel, rootfs,
// initrd) and, for firecracker, replaces the firecracker program need with
// the configured firecracker_bin path when it is set.
func ForVMStart(driver string) []Need {
	needs := []Need{
		NetPrivilege("create tap devices and the VM bridge"),
		Device(tunDevice, true, "tap network devices", "load the tun module: modprobe tun"),
		Program("mkfs.ext4", "builds VM work disks"),
	}
	switch driver {
	case DriverFirecracker:
		needs = append(needs,
			Program("firecracker", "boots VMs"),
			KVM("firecracker needs hardware virtualization"),
		)
	default:
		needs = append(needs,
			Program("qemu-system-x86_64", "boots VMs"),
			Program("qemu-img", "creates copy-on-write system overlays"),
		)
	}
	return needs
}

// ForNAT is what giving a VM NAT to the outside needs: privilege to change
// firewall rules and IP forwarding, and nftables or iptables.
func ForNAT() []Need {
	return []Need{
		NetPrivilege("change firewall rules and enable IP forwarding"),
		AnyOf("NAT firewall rules", Program("nft", ""), Program("iptables", "")),
	}
}

// ForImageBuild is what building an image needs besides starting the build
// VM (append ForVMStart for that): the ext4 tools that copy, check and
// grow the image and edit files in it.
func ForImageBuild() []Need {
	return []Need{
		Program("mkfs.ext4", "creates image filesystems"),
		Program("e2fsck", "checks image filesystems"),
		Program("resize2fs", "grows images"),
		Program("debugfs", "edits files inside images"),
		Program("e2cp", "copies files into images"),
	}
}

// ForDiskResize is what growing a VM's work disk needs.
func ForDiskResize() []Need {
	return []Need{
		Program("e2fsck", "checks the work disk before resizing"),
		Program("resize2fs", "grows the work disk filesystem"),
	}
}

// ForSSH is what `banger vm ssh` needs.
func ForSSH() []Need {
	return []Need{Program("ssh", "connects to VMs")}
}

// Kernel kinds for ForBundleBuild.
const (
	// KernelMicroVM compiles banger's microVM kernel from linux-source.
	KernelMicroVM = "microvm"
	// KernelDistro uses the distribution kernel, initrd and modules.
	KernelDistro = "distro"
)

// ForBundleBuild is what assembling a runtime bundle locally needs:
// debootstrap and ext4 tools for the rootfs, and, when kernel is
// KernelMicroVM, a kernel build toolchain and Debian's linux-source.
func ForBundleBuild(kernel string) []Need {
	needs := []Need{
		Root("debootstrap a root filesystem"),
		Program("debootstrap", "builds the Debian root filesystem"),
		Program("mkfs.ext4", "creates the rootfs image"),
		Program("e2fsck", "checks the rootfs image"),
		Program("resize2fs", "shrinks the rootfs image"),
		Program("mount", "loop-mounts the default image to install Docker Engine"),
		Program("chroot", "installs Docker Engine into the default image"),
	}
	if kernel != KernelMicroVM { // distro or both
		needs = append(needs,
			Program("apt-get", "downloads the distribution kernel"),
			Program("depmod", "indexes the distribution kernel's modules"),
		)
	}
	if kernel == KernelDistro {
		return needs
	}
	return append(needs,
		Program("make", "kernel build"),
		Program("gcc", "kernel build"),
		Program("bc", "kernel build"),
		Program("flex", "kernel build"),
		Program("bison", "kernel build"),
		Program("tar", "unpacks the kernel source"),
		Program("xz", "unpacks the kernel source"),
		Header("/usr/include/libelf.h", "kernel build", "libelf-dev", "elfutils-libelf-devel"),
		Header("/usr/include/openssl/opensslv.h", "kernel build", "libssl-dev", "openssl-devel"),
		LinuxSource("/usr/src"),
	)
}

// LinuxSource needs a Debian linux-source tarball (linux-source-*.tar.xz)
// under dir.
func LinuxSource(dir string) Need {
	n := Func("linux-source", func() error {
		m, _ := filepath.Glob(filepath.Join(dir, "linux-source-*.tar.xz"))
		if len(m) == 0 {
			return errors.New("no " + filepath.Join(dir, "linux-source-*.tar.xz"))
		}
		return nil
	})
	n.Purpose = "kernel source"
	n.Debian = "linux-source"
	n.Hint = "on other distributions build with the distro kernel instead"
	return n
}
