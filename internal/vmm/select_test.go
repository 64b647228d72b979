package vmm

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	dir := t.TempDir()
	fc := writeFile(t, dir, "firecracker", "#!/bin/sh\n")
	if err := chmodX(fc); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope")
	old := kvmCheck
	t.Cleanup(func() { kvmCheck = old })
	kvmOK := func() (bool, string) { return true, "" }
	kvmNo := func() (bool, string) { return false, "/dev/kvm exists but the CPU does not advertise vmx or svm" }

	cases := []struct {
		pref, bin string
		kvm       func() (bool, string)
		want      string
		errHas    string
		reasonHas string
	}{
		{"auto", fc, kvmOK, "firecracker", "", "found and KVM usable"},
		{"", fc, kvmOK, "firecracker", "", ""},
		{"auto", missing, kvmOK, "qemu", "", "not found"},
		{"auto", fc, kvmNo, "qemu", "", "vmx or svm"},
		{"qemu", fc, kvmOK, "qemu", "", "configured"},
		{"firecracker", fc, kvmOK, "firecracker", "", ""},
		{"firecracker", missing, kvmOK, "", "firecracker_bin", ""},
		{"firecracker", fc, kvmNo, "", "KVM is not usable", ""},
		{"xen", fc, kvmOK, "", "unknown vmm", ""},
	}
	for _, c := range cases {
		kvmCheck = c.kvm
		hostArch = "amd64"
		got, reason, err := Select(c.pref, c.bin)
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("Select(%q, %q) err = %v, want containing %q", c.pref, c.bin, err, c.errHas)
			}
			continue
		}
		if err != nil || got != c.want || !strings.Contains(reason, c.reasonHas) {
			t.Errorf("Select(%q, %q) = %q, %q, %v; want %q (reason with %q)", c.pref, c.bin, got, reason, err, c.want, c.reasonHas)
		}
	}
}

// TestSelectArch: firecracker is chosen only on x86_64 hosts; on arm64 auto
// falls back to qemu saying why, and an explicit choice is refused.
func TestSelectArch(t *testing.T) {
	dir := t.TempDir()
	fc := writeFile(t, dir, "firecracker", "#!/bin/sh\n")
	if err := chmodX(fc); err != nil {
		t.Fatal(err)
	}
	oldKVM, oldArch := kvmCheck, hostArch
	t.Cleanup(func() { kvmCheck, hostArch = oldKVM, oldArch })
	kvmCheck = func() (bool, string) { return true, "" }
	hostArch = "arm64"
	got, reason, err := Select("auto", fc)
	if err != nil || got != DriverQEMU || !strings.Contains(reason, "only on x86_64") || !strings.Contains(reason, "arm64") {
		t.Errorf("auto on arm64 = %q, %q, %v; want qemu with the architecture as reason", got, reason, err)
	}
	if _, _, err := Select("firecracker", fc); err == nil || !strings.Contains(err.Error(), "arm64") || !strings.Contains(err.Error(), `set vmm = "qemu"`) {
		t.Errorf("vmm = firecracker on arm64: err = %v; want a refusal naming the architecture and the fix", err)
	}
	hostArch = "amd64"
	if got, _, err := Select("auto", fc); err != nil || got != DriverFirecracker {
		t.Errorf("auto on amd64 = %q, %v; want firecracker", got, err)
	}
}
