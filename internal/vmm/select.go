package vmm

import (
	"fmt"
	"os"
	"os/exec"
)

// Driver names accepted by Select and stored in Handle.Driver.
const (
	DriverFirecracker = "firecracker"
	DriverQEMU        = "qemu"
)

// kvmCheck is KVMUsable; a variable so tests can simulate hosts.
var kvmCheck = KVMUsable

// Select picks the VMM driver for the config value pref ("auto", "" as auto,
// "firecracker" or "qemu"). fcBin is the configured firecracker binary (a
// path or a name looked up in PATH). auto chooses firecracker only when its
// binary exists and KVM is usable, else qemu. reason says why, for logs and
// `banger doctor`-style output.
func Select(pref, fcBin string) (driverName, reason string, err error) {
	switch pref {
	case "", "auto":
		fcPath, fcErr := findBinary(fcBin)
		kvmOK, kvmWhy := kvmCheck()
		switch {
		case fcErr != nil:
			return DriverQEMU, "auto: " + fcErr.Error() + "; using qemu", nil
		case !kvmOK:
			return DriverQEMU, "auto: firecracker needs KVM but " + kvmWhy, nil
		default:
			return DriverFirecracker, "auto: firecracker binary " + fcPath + " found and KVM usable", nil
		}
	case DriverFirecracker:
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
