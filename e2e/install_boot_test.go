package e2e

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestInstalledPrefixBootsVM installs banger and the real bundle into a
// temporary prefix with `make install`, then boots, uses and deletes a VM
// with the installed binaries alone: no BANGER_* variable, run from /.
func TestInstalledPrefixBootsVM(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	rt := runtimeDir(t)
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	prefix := filepath.Join(t.TempDir(), "prefix")
	cmd := exec.Command("make", "install", "PREFIX="+prefix, "RUNTIME="+rt)
	cmd.Dir = repo
	cmd.Env = scrubbedEnviron()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	e := newEnvAt(t, rt, "")
	var env []string
	for _, kv := range e.env {
		if !strings.HasPrefix(kv, "BANGER_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) Result {
		t.Helper()
		c := exec.Command(filepath.Join(prefix, "bin", "banger"), append([]string{"--socket", e.Socket}, args...)...)
		c.Dir, c.Env = "/", env
		var r Result
		out, err := c.Output()
		r.Stdout = string(out)
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code, r.Stderr = ee.ExitCode(), string(ee.Stderr)
		} else if err != nil {
			t.Fatal(err)
		}
		return r
	}
	const name = "inst-otter"
	start := time.Now()
	if r := run("vm", "create", "--name", name, "--memory", "384", "--vcpu", "1", "--disk-size", "1G"); r.Code != 0 {
		t.Fatalf("installed banger vm create: exit %d\n%s%s\ndaemon log:\n%s", r.Code, r.Stdout, r.Stderr, e.DaemonLog(40))
	}
	t.Logf("VM from the installed prefix up in %s", time.Since(start).Round(time.Second))
	if r := run("--output", "json", "daemon", "status"); !strings.Contains(r.Stdout, filepath.Join(prefix, "lib", "banger")) {
		t.Fatalf("installed daemon does not use the installed bundle: %s", r.Stdout)
	}
	if r := run("vm", "ssh", name, "--", "uname", "-n"); r.Code != 0 || strings.TrimSpace(r.Stdout) != name {
		t.Fatalf("ssh into the VM of the installed banger: %+v", r)
	}
	if r := run("vm", "delete", "--force", name); r.Code != 0 {
		t.Fatalf("vm delete: %+v", r)
	}
	run("daemon", "stop")
}
