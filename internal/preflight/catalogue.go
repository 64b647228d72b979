package preflight

import "path/filepath"

type entry struct {
	debian, fedora, hint string
}

// catalogue maps program names to the packages that provide them.
var catalogue = map[string]entry{
	"qemu-system-x86_64": {"qemu-system-x86", "qemu-system-x86-core", ""},
	"qemu-img":           {"qemu-utils", "qemu-img", ""},
	"mkfs.ext4":          {"e2fsprogs", "e2fsprogs", ""},
	"e2fsck":             {"e2fsprogs", "e2fsprogs", ""},
	"resize2fs":          {"e2fsprogs", "e2fsprogs", ""},
	"debugfs":            {"e2fsprogs", "e2fsprogs", ""},
	"tune2fs":            {"e2fsprogs", "e2fsprogs", ""},
	"dumpe2fs":           {"e2fsprogs", "e2fsprogs", ""},
	"e2cp":               {"e2tools", "e2tools", ""},
	"e2rm":               {"e2tools", "e2tools", ""},
	"e2mkdir":            {"e2tools", "e2tools", ""},
	"ssh":                {"openssh-client", "openssh-clients", ""},
	"ssh-keygen":         {"openssh-client", "openssh-clients", ""},
	"scp":                {"openssh-client", "openssh-clients", ""},
	"debootstrap":        {"debootstrap", "debootstrap", ""},
	"depmod":             {"kmod", "kmod", ""},
	"apt-get":            {"apt", "", "the distribution kernel is fetched from Debian's archive"},
	"nft":                {"nftables", "nftables", ""},
	"iptables":           {"iptables", "iptables-nft", ""},
	"ip":                 {"iproute2", "iproute", ""},
	"resolvectl":         {"systemd-resolved", "systemd-resolved", ""},
	"dig":                {"dnsutils", "bind-utils", ""},
	"sysctl":             {"procps", "procps-ng", ""},
	"losetup":            {"mount", "util-linux", ""},
	"mount":              {"mount", "util-linux", ""},
	"chroot":             {"coreutils", "coreutils", ""},
	"dmsetup":            {"dmsetup", "device-mapper", ""},
	"cp":                 {"coreutils", "coreutils", ""},
	"tar":                {"tar", "tar", ""},
	"xz":                 {"xz-utils", "xz", ""},
	"make":               {"make", "make", ""},
	"gcc":                {"gcc", "gcc", ""},
	"bc":                 {"bc", "bc", ""},
	"flex":               {"flex", "flex", ""},
	"bison":              {"bison", "bison", ""},
	"firecracker": {"", "", "no distribution package: download a firecracker release " +
		"(github.com/firecracker-microvm/firecracker/releases) and set firecracker_bin, " +
		"or build the runtime bundle with one; or set vmm = \"qemu\""},
	"mapdns": {"", "", "install mapdns and set mapdns_bin, or set dns = \"builtin\""},
}

// lookupCatalogue finds the catalogue entry for a program name or path.
func lookupCatalogue(name string) (entry, bool) {
	e, ok := catalogue[filepath.Base(name)]
	return e, ok
}

// installHint renders the package instructions of n, e.g. "apt-get install
// e2fsprogs (Debian) / dnf install e2fsprogs (Fedora)", followed by the hint.
func installHint(n Need) string {
	var s string
	switch {
	case n.Debian != "" && n.Fedora != "":
		s = "apt-get install " + n.Debian + " (Debian) / dnf install " + n.Fedora + " (Fedora)"
	case n.Debian != "":
		s = "apt-get install " + n.Debian + " (Debian)"
	case n.Fedora != "":
		s = "dnf install " + n.Fedora + " (Fedora)"
	}
	if n.Hint != "" {
		if s != "" {
			s += "; "
		}
		s += n.Hint
	}
	return s
}
