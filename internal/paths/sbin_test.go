package paths

import (
	"os/exec"
	"strings"
	"testing"
)

func TestEnsureSbinInPath(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin")
	got := EnsureSbinInPath()
	if got != "/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin" {
		t.Fatalf("PATH = %q", got)
	}
	if p, err := exec.LookPath("mkfs.ext4"); err == nil && !strings.Contains(p, "sbin") {
		t.Errorf("mkfs.ext4 found at %s", p)
	}
	t.Setenv("PATH", "/sbin:/usr/bin")
	if got := EnsureSbinInPath(); got != "/sbin:/usr/bin:/usr/local/sbin:/usr/sbin" {
		t.Errorf("PATH with /sbin present = %q", got)
	}
}
