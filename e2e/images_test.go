package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// containerCheck runs a container with no registry: it packs dash and the
// libraries it loads into a tar, `docker import`s it and runs it. dockerd
// is socket-activated, so the first docker command starts it.
const containerCheck = `set -e
docker info --format 'server={{.ServerVersion}} driver={{.Driver}}'
files="/usr/bin/dash $(ldd /usr/bin/dash | grep -o '/[^ ]*')"
# shellcheck disable=SC2086
tar -chf /tmp/mini.tar $files 2>/dev/null
docker import /tmp/mini.tar banger-mini >/dev/null
docker run --rm banger-mini /usr/bin/dash -c 'echo container-ok'`

// longSuite skips t unless BANGER_E2E_LONG=1 (make test-long): image
// builds under TCG take several minutes each.
func longSuite(t *testing.T) {
	t.Helper()
	if os.Getenv("BANGER_E2E_LONG") != "1" {
		t.Skip("long suite: image builds take minutes under TCG; run with BANGER_E2E_LONG=1 (make test-long)")
	}
}

// checkContainer runs containerCheck in vm and fails t unless a container
// ran.
func checkContainer(t *testing.T, e *Env, vm string) {
	t.Helper()
	r := e.RunTimeout(6*time.Minute, "vm", "ssh", vm, "--", containerCheck)
	if r.Code != 0 || !strings.Contains(r.Stdout, "container-ok") || !strings.Contains(r.Stdout, "driver=overlay2") {
		t.Fatalf("%s: container did not run: %+v", vm, r)
	}
	t.Logf("%s: %s", vm, strings.SplitN(r.Stdout, "\n", 2)[0])
}

// TestDefaultImageRunsDocker boots a VM of the default image and runs a
// container with no setup; dockerd is not running until first used.
func TestDefaultImageRunsDocker(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	const vm = "dock-finch"
	e.MustRun("vm", "create", "--name", vm, "--memory", "1024", "--vcpu", "2", "--disk-size", "2G")
	r := e.guest(vm, "systemctl is-enabled docker.socket; systemctl is-active docker.service || true")
	if f := strings.Fields(r.Stdout); len(f) != 2 || f[0] != "enabled" || f[1] != "inactive" {
		t.Fatalf("want docker.socket enabled and docker.service idle after boot (socket activation), got %+v", r)
	}
	checkContainer(t, e, vm)
}

// TestImageBuildAndSave builds one image with a package and Docker from the
// bundle's base image, boots it (jq present, a container runs), changes the
// root filesystem, saves the VM with `image save --stop` and boots the
// saved image to find the change. One build covers --package and --docker:
// each build takes minutes under TCG.
func TestImageBuildAndSave(t *testing.T) {
	requireRoot(t)
	longSuite(t)
	e := newEnv(t, "")
	start := time.Now()
	out := e.MustRun("image", "build", "--name", "tools", "--package", "jq", "--docker")
	t.Logf("image build took %s: %s", time.Since(start).Round(time.Second), strings.TrimSpace(out))
	var im struct {
		Packages []string `json:"packages"`
	}
	e.JSON(&im, "image", "show", "tools")
	if !contains(im.Packages, "jq") || !contains(im.Packages, "docker.io") {
		t.Errorf("image tools packages = %v, want jq and docker.io", im.Packages)
	}

	const vm = "tools-owl"
	e.MustRun("vm", "create", "--name", vm, "--image", "tools", "--memory", "1024", "--vcpu", "2", "--disk-size", "2G")
	if r := e.guest(vm, `echo '{"a":41}' | jq '.a+1'`); r.Code != 0 || strings.TrimSpace(r.Stdout) != "42" {
		t.Fatalf("jq in a VM of the built image: %+v", r)
	}
	checkContainer(t, e, vm)

	if r := e.guest(vm, "echo saved > /etc/banger-saved && sync"); r.Code != 0 {
		t.Fatalf("write to /: %+v", r)
	}
	if r := e.Run("image", "save", vm, "--name", "tools-saved"); r.Code == 0 || !strings.Contains(r.Stderr, "--stop") {
		t.Fatalf("save of a running VM without --stop: %+v", r)
	}
	e.MustRun("image", "save", vm, "--name", "tools-saved", "--stop")
	if st := e.show(vm).State; st != "stopped" {
		t.Errorf("after image save --stop the VM is %s, want stopped", st)
	}
	e.MustRun("vm", "create", "--name", "saved-owl", "--image", "tools-saved", "--memory", "512", "--vcpu", "1", "--disk-size", "1G")
	if r := e.guest("saved-owl", "cat /etc/banger-saved; jq --version"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "saved\njq-") {
		t.Fatalf("VM of the saved image: %+v", r)
	}
	if r := e.Run("image", "delete", "tools-saved"); r.Code == 0 {
		t.Errorf("deleting an image a VM uses must fail: %+v", r)
	}
}

// TestVerifyScriptNAT runs ./verify.sh --nat from the checkout root against
// this test's daemon, as a user would after installing.
func TestVerifyScriptNAT(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	wrapper := filepath.Join(e.Home, "banger")
	script := "#!/bin/sh\nexec " + filepath.Join(binDir, "banger") + " --socket " + e.Socket + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("./verify.sh", "--nat")
	cmd.Dir = ".."
	cmd.Env = append(append([]string(nil), e.env...), "BANGER="+wrapper)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nat: mirror reachable") || !strings.HasSuffix(strings.TrimSpace(string(out)), "verify: ok") {
		t.Fatalf("./verify.sh --nat: %v\n%s\ndaemon log:\n%s", err, out, e.DaemonLog(30))
	}
}
