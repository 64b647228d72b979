package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bareEnv is an env with no bundle: enough for daemon plumbing tests, which
// need neither root nor a VM.
func bareEnv(t *testing.T) *Env {
	return newEnvAt(t, filepath.Join(t.TempDir(), "no-bundle"), "")
}

func waitDead(pid int) bool {
	for i := 0; i < 200; i++ {
		if !processAlive(pid) {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

func TestDaemonAutoStartAndStop(t *testing.T) {
	e := bareEnv(t)
	out := e.MustRun("daemon", "status")
	for _, want := range []string{"pid:", "version:", "uptime:", "socket:", e.Socket, "state dir:", "vms:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status lacks %q:\n%s", want, out)
		}
	}
	pid := e.DaemonPID()
	// The daemon outlived the CLI that started it, and the socket is private.
	if !processAlive(pid) {
		t.Fatal("daemon died with the CLI")
	}
	st, err := os.Stat(e.Socket)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", st.Mode(), err)
	}
	dst, _ := os.Stat(filepath.Dir(e.Socket))
	if dst.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir mode %v, want 0700", dst.Mode().Perm())
	}
	if got := strings.TrimSpace(e.MustRun("daemon", "socket")); got != e.Socket {
		t.Fatalf("daemon socket = %q, want %q", got, e.Socket)
	}
	// A second command talks to the same daemon.
	if e.DaemonPID() != pid {
		t.Fatal("second command started another daemon")
	}

	db := filepath.Join(e.Home, "state", "banger", "banger.db")
	out = e.MustRun("daemon", "stop")
	if !strings.Contains(out, "stopped") || !waitDead(pid) {
		t.Fatalf("daemon stop: %q, alive %v", out, processAlive(pid))
	}
	if _, err := os.Stat(e.Socket); !os.IsNotExist(err) {
		t.Fatalf("socket left after graceful stop: %v", err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("state database gone after stop: %v", err)
	}
	if out := e.MustRun("daemon", "stop"); !strings.Contains(out, "not running") {
		t.Fatalf("second stop: %q", out)
	}
	if e.DaemonPID() == pid {
		t.Fatal("daemon not restarted")
	}
}

func TestDaemonReplacesStaleSocket(t *testing.T) {
	e := bareEnv(t)
	pid := e.DaemonPID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitDead(pid) {
		t.Fatal("daemon did not die")
	}
	if _, err := os.Stat(e.Socket); err != nil {
		t.Fatalf("expected a stale socket file after SIGKILL: %v", err)
	}
	// A child the daemon was forking when it died may hold the listening
	// socket until its exec; wait for nothing to answer.
	refused := false
	for i := 0; i < 100 && !refused; i++ {
		c, err := net.Dial("unix", e.Socket)
		if err != nil {
			refused = true
		} else {
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !refused {
		t.Fatal("stale socket still answers")
	}
	pid2 := e.DaemonPID()
	if pid2 == pid || !processAlive(pid2) {
		t.Fatalf("no new daemon: %d", pid2)
	}
	// A leftover plain file where the socket should be is replaced too.
	e.MustRun("daemon", "stop")
	if err := os.WriteFile(e.Socket, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if e.DaemonPID() == 0 {
		t.Fatal("no daemon after junk socket")
	}
}

func TestVersionMismatchIsReported(t *testing.T) {
	e := bareEnv(t)
	for i, kv := range e.env {
		if strings.HasPrefix(kv, "BANGER_DAEMON_BIN=") {
			e.env[i] = "BANGER_DAEMON_BIN=" + filepath.Join(binDir, "bangerd-other")
		}
	}
	r := e.Run("daemon", "status")
	if r.Code != 0 {
		t.Fatalf("status: %+v", r)
	}
	want := "warning: bangerd is version other but banger is e2e; run 'banger daemon stop' so the next command starts the matching daemon"
	if !strings.Contains(r.Stderr, want) {
		t.Fatalf("stderr %q lacks %q", r.Stderr, want)
	}
	if !strings.Contains(r.Stdout, "other (banger is e2e") {
		t.Fatalf("status does not show the mismatch: %s", r.Stdout)
	}
}

func TestConfigErrorsNameFileLineAndKey(t *testing.T) {
	e := bareEnv(t)
	cases := map[string]string{
		"vmm = \"auto\"\nfirecracker_bim = \"/x\"\n": `config.toml:2: unknown key "firecracker_bim"`,
		"default_vcpus = \"two\"\n":                  `config.toml:1: default_vcpus`,
	}
	for doc, want := range cases {
		if err := os.WriteFile(e.cfgFile, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		r := e.Run("config", "show")
		if r.Code == 0 || !strings.Contains(r.Stderr, want) {
			t.Errorf("config %q: exit %d stderr %q, want it to contain %q", doc, r.Code, r.Stderr, want)
		}
	}
}
