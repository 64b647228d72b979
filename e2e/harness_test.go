// Package e2e drives the built banger and bangerd binaries against real VMs
// (QEMU, TCG where KVM is unusable), real taps, real SQLite, real ssh. Each
// test gets its own XDG dirs, socket, bridge and subnet, and removes every
// VM, link, firewall rule and process it made, even when it fails.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/testenv"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "banger-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	for _, b := range []string{"banger", "bangerd", "bangerd-other"} {
		pkg, ldflags := "./cmd/"+b, "-X github.com/bangerdev/banger/internal/version.Version=e2e"
		if b == "bangerd-other" {
			pkg, ldflags = "./cmd/bangerd", "-X github.com/bangerdev/banger/internal/version.Version=other"
		}
		cmd := exec.Command("go", "build", "-ldflags", ldflags, "-o", filepath.Join(dir, b), pkg)
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", b, err)
			os.Exit(1)
		}
	}
	binDir = dir
	// A user's banger variables are replaced by a canary state dir with a
	// VM record; every banger the suite runs gets a scrubbed environment,
	// and the canary must come out of the run untouched.
	can, err := plantCanary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "plant canary state dir:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if err := can.check(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	} else {
		fmt.Printf("canary: exported BANGER_STATE_DIR with a VM record untouched (%d files and dirs)\n", len(can.sums))
	}
	os.Exit(code)
}

// runtimeDir returns the bundle to boot, or skips the test.
func runtimeDir(t testing.TB) string {
	t.Helper()
	testenv.SkipShort(t, "boots VMs")
	dir := os.Getenv("BANGER_TEST_RUNTIME")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(filepath.Dir(file)), "runtime")
	}
	if _, err := os.Stat(filepath.Join(dir, "bundle.json")); err != nil {
		t.Skipf("no runtime bundle at %s (build one with 'make runtime-bundle-local' or set BANGER_TEST_RUNTIME)", dir)
	}
	return dir
}

func requireRoot(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t, "taps, bridge and firewall rules for VMs")
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
	}
}

// Env is one isolated banger installation.
type Env struct {
	t       testing.TB
	Home    string
	Socket  string
	Bridge  string
	Subnet  string
	Gateway string
	cfgFile string
	env     []string
	taps    []string // every tap vm list showed, removed on cleanup
}

// newEnv creates isolated dirs and a config with a unique bridge and subnet.
func newEnv(t testing.TB, extraConfig string) *Env {
	t.Helper()
	return newEnvAt(t, runtimeDir(t), extraConfig)
}

// newEnvAt is newEnv with an explicit runtime dir (which need not exist).
func newEnvAt(t testing.TB, rt, extraConfig string) *Env {
	t.Helper()
	home, err := os.MkdirTemp("", "bgt-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	n := randomNet(t)
	e := &Env{
		t: t, Home: home, Socket: filepath.Join(home, "run", "bangerd.sock"),
		Bridge: n.Bridge, Subnet: n.Subnet, Gateway: n.Gateway,
	}
	assignedNet(e)
	registerHostCleanup(t, e.Bridge, func() []string { return e.taps })
	cfgDir := filepath.Join(home, "config", "banger")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("bridge_name = %q\nvm_subnet = %q\nstop_timeout = \"20s\"\nlog_level = \"debug\"\n%s", e.Bridge, e.Subnet, extraConfig)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.env = append(scrubbedEnviron(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_STATE_HOME="+filepath.Join(home, "state"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_RUNTIME_DIR="+filepath.Join(home, "xdgrun"),
		"BANGER_RUNTIME_DIR="+rt,
		"BANGER_DAEMON_BIN="+filepath.Join(binDir, "bangerd"),
	)
	e.cfgFile = filepath.Join(cfgDir, "config.toml")
	t.Cleanup(e.cleanup)
	return e
}

// envCount numbers the envs of this test process for assignedNet.
var envCount int

// assignedNet applies BANGER_E2E_NET=PREFIX:A.B.C, for a machine shared by
// several people who each got a bridge name and a /24: the first env of the
// process uses bridge PREFIX0 and A.B.C.0/25, the second PREFIX1 and
// A.B.C.128/25; later ones keep their random network.
func assignedNet(e *Env) {
	prefix, net3, ok := strings.Cut(os.Getenv("BANGER_E2E_NET"), ":")
	if !ok || envCount > 1 {
		return
	}
	base := 128 * envCount
	e.Bridge = fmt.Sprintf("%s%d", prefix, envCount)
	e.Subnet = fmt.Sprintf("%s.%d/25", net3, base)
	e.Gateway = fmt.Sprintf("%s.%d", net3, base+1)
	envCount++
}

// Result is one CLI run.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs banger with args and returns its output and exit code.
func (e *Env) Run(args ...string) Result {
	e.t.Helper()
	return e.RunTimeout(10*time.Minute, args...)
}

// RunTimeout is Run with an explicit bound.
func (e *Env) RunTimeout(d time.Duration, args ...string) Result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	full := append([]string{"--socket", e.Socket}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "banger"), full...)
	cmd.Env = e.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			e.t.Fatalf("banger %s: %v", strings.Join(args, " "), err)
		}
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// MustRun runs banger and fails the test on a non-zero exit.
func (e *Env) MustRun(args ...string) string {
	e.t.Helper()
	r := e.Run(args...)
	if r.Code != 0 {
		e.t.Fatalf("banger %s: exit %d\nstdout: %s\nstderr: %s\ndaemon log:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr, e.DaemonLog(40))
	}
	return r.Stdout
}

// JSON runs banger with --output json and decodes stdout into v.
func (e *Env) JSON(v any, args ...string) {
	e.t.Helper()
	out := e.MustRun(append([]string{"--output", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("decode %s output: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// DaemonLog returns the last n lines of the daemon log.
func (e *Env) DaemonLog(n int) string {
	b, _ := os.ReadFile(filepath.Join(e.Home, "state", "banger", "bangerd.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// DaemonPID reads the daemon's pid from status.
func (e *Env) DaemonPID() int {
	var st struct {
		PID int `json:"pid"`
	}
	e.JSON(&st, "daemon", "status")
	return st.PID
}

// cleanup force-deletes every VM, stops the daemon and kills any VMM left
// from this env; the host resources (taps, bridge, firewall, ip_forward)
// go in the cleanups registerHostCleanup registered before it.
func (e *Env) cleanup() {
	var vms []struct {
		Name string `json:"name"`
		Tap  string `json:"tap"`
	}
	r := e.RunTimeout(time.Minute, "--output", "json", "vm", "list")
	if r.Code == 0 {
		_ = json.Unmarshal([]byte(r.Stdout), &vms)
		for _, v := range vms {
			if v.Tap != "" {
				e.taps = append(e.taps, v.Tap)
			}
			e.RunTimeout(time.Minute, "vm", "delete", "--force", v.Name)
		}
	}
	e.RunTimeout(time.Minute, "daemon", "stop")
	// Belt and braces: no qemu of this env may survive a failed test.
	killUnder(e.Home)
	if e.t.Failed() {
		e.t.Logf("daemon log tail:\n%s", e.DaemonLog(60))
	}
}
