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
