package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHasVirtFlag(t *testing.T) {
	cases := map[string]bool{
		"processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n": true,
		"flags\t\t: fpu svm\n":                                true,
		"flags\t\t: fpu vme hypervisor\n":                     false,
		"model name\t: vmx pretender\n":                       false,
	}
	for in, want := range cases {
		got, err := hasVirtFlag(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("hasVirtFlag(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestKVMUsableFake(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "kvm")
	cpu := filepath.Join(dir, "cpuinfo")
	if err := kvmUsable(dev, cpu); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing device: %v", err)
	}
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpu, []byte("flags\t: fpu hypervisor\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := kvmUsable(dev, cpu); err == nil || !strings.Contains(err.Error(), "vmx or svm") {
		t.Errorf("no flags: %v", err)
	}
	if err := os.WriteFile(cpu, []byte("flags\t: fpu vmx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := kvmUsable(dev, cpu); err != nil {
		t.Errorf("usable: %v", err)
	}
}

func TestKVMUsableReal(t *testing.T) {
	// Whatever the host, the answer must be definite and, when negative,
	// say what to do.
	if err := KVMUsable(); err != nil {
		if !strings.Contains(err.Error(), "qemu") && !strings.Contains(err.Error(), "kvm group") {
			t.Errorf("KVMUsable error gives no next step: %v", err)
		}
		t.Logf("KVM not usable here: %v", err)
	}
}
