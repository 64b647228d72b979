package preflight

import (
	"os"
	"strings"
	"testing"
)

func TestKVMUsableReal(t *testing.T) {
	err := KVMUsable()
	cpu, _ := os.ReadFile("/proc/cpuinfo")
	hasFlags := strings.Contains(string(cpu), " vmx") || strings.Contains(string(cpu), " svm")
	if !hasFlags && err == nil {
		t.Fatal("KVMUsable passed on a CPU without vmx/svm")
	}
	if err != nil && !strings.Contains(err.Error(), "TCG") && !strings.Contains(err.Error(), "kvm") {
		t.Errorf("KVMUsable error says nothing useful: %v", err)
	}
}
