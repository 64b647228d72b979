// Package preflight checks, before a command changes anything, that the
// host has what the command needs (programs, files, devices, privileges,
// KVM) and reports everything missing in one actionable error with the
// Debian and Fedora package names.
//
// Commands declare their needs as []Need (see the For* need-sets, to which
// the daemon appends file needs such as the kernel and rootfs) and call
// Check; `banger doctor` shows Report's rows.
package preflight

// Kind says what a Need checks.
type Kind int

// Kinds of needs.
const (
	// KindProgram is an executable found in PATH (or at an absolute path).
	KindProgram Kind = iota + 1
	// KindFile is a file or directory that must exist.
	KindFile
	// KindDevice is a device node that must be openable (read-write when asked).
	KindDevice
	// KindRoot is root privilege.
	KindRoot
	// KindKVM is a usable /dev/kvm on a CPU with hardware virtualization.
	KindKVM
	// KindFunc is a custom check.
	KindFunc
	// KindNetPrivilege is the right to change the VM network: root, or an
	// account set up by `sudo banger system install`.
	KindNetPrivilege
	// KindAnyOf is satisfied when one of its alternatives is.
	KindAnyOf
)

// String names the kind for tables ("program", "file", ...).
func (k Kind) String() string {
	switch k {
	case KindProgram:
		return "program"
	case KindFile:
		return "file"
	case KindDevice:
		return "device"
	case KindRoot:
		return "privilege"
	case KindKVM:
		return "kvm"
	case KindFunc:
		return "check"
	case KindNetPrivilege:
		return "privilege"
	case KindAnyOf:
		return "one of"
	}
	return "unknown"
}

// Need is one requirement of a command. Build needs with the constructors;
// the fields are exported so callers can adjust a purpose or hint.
type Need struct {
	// Kind is what is checked.
	Kind Kind
	// Name is the program name or path, the file or device path, or a label.
	Name string
	// Purpose says in a few words why the command needs it ("boots VMs").
	Purpose string
	// Debian and Fedora are the packages that provide it, when any.
	Debian, Fedora string
	// Hint says how to get or fix it when no package does (or in addition).
	Hint string
	// Write asks a device to be writable as well as readable.
	Write bool
	// Dir asks a file need to be a directory.
	Dir bool
	// Alternatives are the choices of a KindAnyOf need.
	Alternatives []Need
	// Func is the check of a KindFunc need (and an optional override of
	// the KVM check); its error text is shown as the detail.
	Func func() error
}

// Program needs the executable name (looked up in PATH; a name containing a
// slash is checked directly). Packages and hints come from the catalogue,
// keyed by the base name.
func Program(name, purpose string) Need {
	n := Need{Kind: KindProgram, Name: name, Purpose: purpose}
	if e, ok := lookupCatalogue(name); ok {
		n.Debian, n.Fedora, n.Hint = e.debian, e.fedora, e.hint
	}
	return n
}

// Package needs a program that is not in the catalogue, with the packages
// that provide it.
func Package(name, purpose, debian, fedora string) Need {
	return Need{Kind: KindProgram, Name: name, Purpose: purpose, Debian: debian, Fedora: fedora}
}

// File needs a file at path; hint says how to get it.
func File(path, purpose, hint string) Need {
	return Need{Kind: KindFile, Name: path, Purpose: purpose, Hint: hint}
}

// Dir needs a directory at path; hint says how to get it.
func Dir(path, purpose, hint string) Need {
	return Need{Kind: KindFile, Name: path, Purpose: purpose, Hint: hint, Dir: true}
}

// Header needs a file installed by a package, typically a C header for a
// build ("/usr/include/libelf.h").
func Header(path, purpose, debian, fedora string) Need {
	return Need{Kind: KindFile, Name: path, Purpose: purpose, Debian: debian, Fedora: fedora}
}

// Device needs the device node at path, openable read-write when readWrite.
func Device(path string, readWrite bool, purpose, hint string) Need {
	return Need{Kind: KindDevice, Name: path, Purpose: purpose, Hint: hint, Write: readWrite}
}

// Root needs root privilege.
func Root(purpose string) Need {
	return Need{Kind: KindRoot, Name: "root privilege", Purpose: purpose,
		Hint: "run it as root (for example with sudo)"}
}

// NetPrivilege needs the right to change the VM network (bridge, taps,
// firewall): root, or an account `sudo banger system install` set up.
func NetPrivilege(purpose string) Need {
	return Need{Kind: KindNetPrivilege, Name: "network privilege", Purpose: purpose}
}

// KVM needs hardware virtualization: /dev/kvm read-write and a CPU that
// advertises vmx or svm.
func KVM(purpose string) Need {
	return Need{Kind: KindKVM, Name: "/dev/kvm", Purpose: purpose}
}

// Func needs a custom check to pass; check's error explains what is wrong
// and how to fix it.
func Func(name string, check func() error) Need {
	return Need{Kind: KindFunc, Name: name, Func: check}
}

// AnyOf needs at least one of alts (e.g. nft or iptables). A failed AnyOf
// suggests the first alternative's fix.
func AnyOf(purpose string, alts ...Need) Need {
	name := ""
	for i, a := range alts {
		if i > 0 {
			name += " or "
		}
		name += a.Name
	}
	return Need{Kind: KindAnyOf, Name: name, Purpose: purpose, Alternatives: alts}
}
