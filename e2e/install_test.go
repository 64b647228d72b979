package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMakeInstall installs into a temporary prefix and checks that the
// installed binaries find their bundle at ../lib/banger and run a daemon,
// from a working directory outside the checkout and with no banger
// variables set.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	prefix := filepath.Join(t.TempDir(), "prefix")
	bundle := t.TempDir()
	for name, data := range map[string]string{
		"bundle.json": `{"version":1,"kernel":"vmlinux","rootfs":"rootfs.ext4"}`,
		"vmlinux":     "\x7fELF-not-really",
		"rootfs.ext4": "x",
	} {
		if err := os.WriteFile(filepath.Join(bundle, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("make", "install", "PREFIX="+prefix, "RUNTIME="+bundle)
	cmd.Dir = repo
	cmd.Env = scrubbedEnviron()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	home, err := os.MkdirTemp("", "bgt-inst-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	n := randomNet(t)
	registerHostCleanup(t, n.Bridge, func() []string { return nil })
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_RUNTIME_DIR=" + filepath.Join(home, "run"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_STATE_HOME=" + filepath.Join(home, "state")}
	cfgDir := filepath.Join(home, "config", "banger")
	_ = os.MkdirAll(cfgDir, 0o700)
	cfg := fmt.Sprintf("bridge_name = %q\nvm_subnet = %q\n", n.Bridge, n.Subnet)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	banger := func(args ...string) ([]byte, error) {
		c := exec.Command(filepath.Join(prefix, "bin", "banger"), args...)
		c.Dir = "/"
		c.Env = env
		return c.CombinedOutput()
	}
	run := func(args ...string) string {
		out, err := banger(args...)
		if err != nil {
			t.Fatalf("banger %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// Registered after the host cleanups, so it runs before them.
	t.Cleanup(func() {
		if out, err := banger("daemon", "stop"); err != nil {
			t.Logf("daemon stop: %v\n%s", err, out)
		}
		killUnder(home)
	})
	var st struct {
		RuntimeDir string `json:"runtime_dir"`
		PID        int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(run("--output", "json", "daemon", "status")), &st); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(prefix, "lib", "banger")
	if st.RuntimeDir != want || st.PID == 0 {
		t.Fatalf("installed daemon: runtime dir %q pid %d, want %q", st.RuntimeDir, st.PID, want)
	}
	if out := run("bundle", "show"); !strings.Contains(out, filepath.Join(want, "vmlinux")) {
		t.Fatalf("bundle show of the installed bundle:\n%s", out)
	}
}
