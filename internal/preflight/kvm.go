package preflight

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// KVMUsable reports whether this host can run KVM guests: /dev/kvm opens
// read-write and the CPU advertises hardware virtualization (vmx or svm).
// A /dev/kvm without those flags (some nested setups) cannot run ordinary
// guests, so it counts as unusable. The error says why and what to do.
func KVMUsable() error {
	return kvmUsable("/dev/kvm", "/proc/cpuinfo")
}

func kvmUsable(dev, cpuinfo string) error {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s does not exist: enable virtualization in the firmware and load kvm_intel or kvm_amd (modprobe kvm_intel), or use vmm = \"qemu\" (slow, no KVM)", dev)
		case errors.Is(err, os.ErrPermission):
			return fmt.Errorf("%s is not writable by this user: add the user to the kvm group (usermod -aG kvm $USER) and log in again, or run as root", dev)
		}
		return fmt.Errorf("open %s: %w", dev, err)
	}
	f.Close()
	c, err := os.Open(cpuinfo)
	if err != nil {
		return fmt.Errorf("read %s: %w", cpuinfo, err)
	}
	defer c.Close()
	ok, err := hasVirtFlag(c)
	if err != nil {
		return fmt.Errorf("read %s: %w", cpuinfo, err)
	}
	if !ok {
		return errors.New("the CPU does not advertise vmx or svm (virtualization disabled in the firmware, or a VM without nested virtualization): enable it, or use vmm = \"qemu\" (slow, no KVM)")
	}
	return nil
}

// hasVirtFlag scans cpuinfo text for a "flags" line with vmx or svm.
func hasVirtFlag(r io.Reader) (bool, error) {
	sc := bufio.NewScanner(r)
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
