package vmm

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
)

// Driver names accepted by Select and stored in Handle.Driver.
const (
	DriverFirecracker = "firecracker"
	DriverQEMU        = "qemu"
)

// kvmCheck is KVMUsable; a variable so tests can simulate hosts.
var kvmCheck = KVMUsable

// hostArch is runtime.GOARCH; a variable so tests can simulate hosts.
var hostArch = runtime.GOARCH

// firecrackerArchWhy says why the firecracker driver cannot run on arch,
// or "". The driver is written for x86_64 firecracker: on aarch64
// firecracker boots only the PE Image kernel format (not the vmlinux ELF
// banger checks and bundles), answers SendCtrlAltDel with 400 (there is no
// i8042 keyboard), and a guest poweroff or reboot ends the process, so the
// driver's stop path and kernel checks do not apply there.
func firecrackerArchWhy(arch string) string {
	if arch == "amd64" {
		return ""
	}
	return "banger drives firecracker only on x86_64 (amd64) hosts and this one is " + arch +
		" (aarch64 firecracker boots a PE Image kernel and has no Ctrl-Alt-Del stop)"
}

// Select picks the VMM driver for the config value pref ("auto", "" as auto,
// "firecracker" or "qemu"). fcBin is the configured firecracker binary (a
// path or a name looked up in PATH). auto chooses firecracker only on an
// x86_64 host where its binary exists and KVM is usable, else qemu. reason
// says why, for logs, `banger doctor` and `banger daemon status`.
func Select(pref, fcBin string) (driverName, reason string, err error) {
	switch pref {
	case "", "auto":
		fcPath, fcErr := findBinary(fcBin)
		kvmOK, kvmWhy := kvmCheck()
		switch {
		case firecrackerArchWhy(hostArch) != "":
			return DriverQEMU, "auto: " + firecrackerArchWhy(hostArch) + "; using qemu", nil
		case fcErr != nil:
			return DriverQEMU, "auto: " + fcErr.Error() + "; using qemu", nil
		case !kvmOK:
			return DriverQEMU, "auto: firecracker needs KVM but " + kvmWhy, nil
		default:
			return DriverFirecracker, "auto: firecracker binary " + fcPath + " found and KVM usable", nil
		}
	case DriverFirecracker:
		if why := firecrackerArchWhy(hostArch); why != "" {
			return "", "", fmt.Errorf("vmm = \"firecracker\" but %s: set vmm = \"qemu\" or \"auto\"", why)
		}
		fcPath, fcErr := findBinary(fcBin)
		if fcErr != nil {
			return "", "", fmt.Errorf("vmm = \"firecracker\" but %v: install firecracker and set firecracker_bin, or set vmm = \"qemu\"", fcErr)
		}
		if ok, why := kvmCheck(); !ok {
			return "", "", fmt.Errorf("vmm = \"firecracker\" but KVM is not usable (%s): set vmm = \"qemu\" or \"auto\"", why)
		}
		return DriverFirecracker, "configured: firecracker (" + fcPath + ")", nil
	case DriverQEMU:
		return DriverQEMU, "configured: qemu", nil
	default:
		return "", "", fmt.Errorf("unknown vmm %q: use \"auto\", \"firecracker\" or \"qemu\"", pref)
	}
}

// findBinary resolves bin as a path or a PATH name and checks it is an
// executable file.
func findBinary(bin string) (string, error) {
	if bin == "" {
		bin = "firecracker"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("firecracker binary %q not found", bin)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() {
		return "", fmt.Errorf("firecracker binary %q not usable", p)
	}
	return p, nil
}
