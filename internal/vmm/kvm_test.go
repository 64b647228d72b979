package vmm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCPUHasVirtFlags(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]bool{
		"processor\t: 0\nflags\t\t: fpu vme sse2 vmx ept\n":    true,
		"processor\t: 0\nflags\t\t: fpu svm\nflags : fpu\n":    true,
		"processor\t: 0\nflags\t\t: fpu vme hypervisor\n":      false,
		"processor\t: 0\nvmx flags\t: vnmi preemption_timer\n": false,
		"": false,
	}
	i := 0
	for content, want := range cases {
		i++
		p := writeFile(t, dir, "cpuinfo"+string(rune('a'+i)), content)
		got, err := cpuHasVirtFlags(p)
		if err != nil || got != want {
			t.Errorf("cpuHasVirtFlags(%q) = %v, %v; want %v", content, got, err, want)
		}
	}
}

func TestKVMUsableReasons(t *testing.T) {
	dir := t.TempDir()
	oldDev, oldCPU := kvmDevice, cpuinfoPath
	t.Cleanup(func() { kvmDevice, cpuinfoPath = oldDev, oldCPU })

	kvmDevice = filepath.Join(dir, "missing")
	if ok, why := KVMUsable(); ok || !strings.Contains(why, "does not exist") {
		t.Errorf("missing device: got %v %q", ok, why)
	}

	kvmDevice = writeFile(t, dir, "kvm", "")
	cpuinfoPath = writeFile(t, dir, "cpuinfo-novirt", "flags : fpu sse2 hypervisor\n")
	ok, why := KVMUsable()
	if ok || !strings.Contains(why, "does not advertise vmx or svm") || !strings.Contains(why, "TCG") {
		t.Errorf("no flags: got %v %q", ok, why)
	}

	cpuinfoPath = writeFile(t, dir, "cpuinfo-vmx", "flags : fpu vmx\n")
	if ok, why := KVMUsable(); !ok || why != "" {
		t.Errorf("usable: got %v %q", ok, why)
	}
}

func TestKVMUsableHost(t *testing.T) {
	ok, why := KVMUsable()
	t.Logf("this host: usable=%v reason=%q", ok, why)
	if !ok && why == "" {
		t.Fatal("unusable KVM must come with a reason")
	}
}

func chmodX(p string) error { return os.Chmod(p, 0o755) }

func TestHostCPUkHz(t *testing.T) {
	old := cpuinfoPath
	t.Cleanup(func() { cpuinfoPath = old })
	cpuinfoPath = writeFile(t, t.TempDir(), "cpuinfo", "processor : 0\ncpu MHz\t\t: 2445.404\nflags : fpu\n")
	if got := HostCPUkHz(); got != 2445404 {
		t.Errorf("HostCPUkHz = %d", got)
	}
	cpuinfoPath = writeFile(t, t.TempDir(), "cpuinfo", "processor : 0\n")
	if got := HostCPUkHz(); got != 0 {
		t.Errorf("HostCPUkHz without cpu MHz = %d", got)
	}
}
