package vmm

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Paths read by KVMUsable; variables so tests can point them at fixtures.
var (
	kvmDevice   = "/dev/kvm"
	cpuinfoPath = "/proc/cpuinfo"
)

// KVMUsable reports whether hardware-accelerated guests can run: /dev/kvm
// opens read-write and the CPU advertises vmx or svm. When it returns false
// the string says why, in a form fit to show the user.
func KVMUsable() (bool, string) {
	f, err := os.OpenFile(kvmDevice, os.O_RDWR, 0)
	if err != nil {
		switch {
		case os.IsNotExist(err):
			return false, "/dev/kvm does not exist (KVM module not loaded or no hardware virtualization); using TCG, which is slow"
		case os.IsPermission(err):
			return false, "/dev/kvm is not writable by this user: add the user to the kvm group (sudo usermod -aG kvm $USER) and log in again; using TCG, which is slow"
		default:
			return false, "cannot open /dev/kvm: " + err.Error() + "; using TCG, which is slow"
		}
	}
	f.Close()
	ok, err := cpuHasVirtFlags(cpuinfoPath)
	if err != nil {
		return false, "cannot read " + cpuinfoPath + ": " + err.Error() + "; using TCG, which is slow"
	}
	if !ok {
		return false, "/dev/kvm exists but the CPU does not advertise vmx or svm (nested KVM without hardware virtualization); using TCG, which is slow"
	}
	return true, ""
}

// cpuHasVirtFlags reports whether any "flags" line of a cpuinfo file lists
// vmx (Intel VT-x) or svm (AMD-V).
func cpuHasVirtFlags(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(key) != "flags" {
			continue
		}
		for _, flag := range strings.Fields(val) {
			if flag == "vmx" || flag == "svm" {
				return true, nil
			}
		}
	}
	return false, sc.Err()
}

// HostCPUkHz returns the first "cpu MHz" of /proc/cpuinfo in kHz, or 0 when
// unknown. Under TCG the guest TSC ticks at the host TSC rate, and hosts that
// run TCG guests are usually VMs whose reported frequency is that rate.
func HostCPUkHz() int {
	f, err := os.Open(cpuinfoPath)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(key) != "cpu MHz" {
			continue
		}
		mhz, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || mhz <= 0 {
			return 0
		}
		return int(mhz * 1000)
	}
	return 0
}
