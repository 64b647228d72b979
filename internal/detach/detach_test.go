package detach

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a short-lived parent that starts a
// detached child and exits at once (see TestMain).
const helperEnv = "BANGER_DETACH_TEST_SPAWN_LOG"

func TestMain(m *testing.M) {
	if log := os.Getenv(helperEnv); log != "" {
		p, err := Start(Cmd{
			Args:   []string{"sh", "-c", "echo out; echo err >&2; exec sleep 60"},
			Stdout: log,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%d %d\n", p.PID, p.StartTime)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func killDetached(t *testing.T, pid int, st uint64) {
	t.Cleanup(func() {
		if ProcessAlive(pid, st) {
			_ = SignalProcess(pid, st, syscall.SIGKILL)
		}
	})
}

func TestStartOutlivesParent(t *testing.T) {
	log := filepath.Join(t.TempDir(), "child.log")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+log)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper parent: %v", err)
	}
	var pid int
	var st uint64
	if _, err := fmt.Sscan(string(out), &pid, &st); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	killDetached(t, pid, st)

	// The parent has exited; the child must still run, in its own session.
	if !ProcessAlive(pid, st) {
		t.Fatal("detached child died with its parent")
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if sid, _ := strconv.Atoi(fields[3]); sid != pid {
		t.Errorf("child session id %d, want its own pid %d (setsid)", sid, pid)
	}
	if in, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", pid)); in != os.DevNull {
		t.Errorf("child stdin is %q, want /dev/null", in)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), "out\n") && strings.Contains(string(b), "err\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %q lacks stdout and stderr lines", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartReapsChild(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(Cmd{
		Args:   []string{"sleep", "60"},
		Stdout: filepath.Join(dir, "out.log"),
		Stderr: filepath.Join(dir, "err.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	killDetached(t, p.PID, p.StartTime)
	if !ProcessAlive(p.PID, p.StartTime) {
		t.Fatal("child not alive after start")
	}
	if err := SignalProcess(p.PID, p.StartTime, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("child did not exit after SIGTERM")
	}
	if p.ExitErr() == nil {
		t.Error("exit by signal reported as success")
	}
	// Reaped: the pid no longer shows up, not even as a zombie.
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.PID)); err == nil {
		if s, err := readProcStat(p.PID); err == nil && s.startTime == p.StartTime {
			t.Fatalf("child still in the process table (state %c)", s.state)
		}
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(Cmd{}); err == nil {
		t.Error("empty command accepted")
	}
	_, err := Start(Cmd{Args: []string{"/nonexistent/banger-vmm"}})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/banger-vmm") {
		t.Errorf("missing program: %v", err)
	}
	_, err = Start(Cmd{Args: []string{"true"}, Stdout: "/nonexistent/dir/log"})
	if err == nil || !strings.Contains(err.Error(), "open log file") {
		t.Errorf("bad log path: %v", err)
	}
}

func TestTailFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, []byte("line one\nline two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := TailFile(p, 100); got != "line one\nline two" {
		t.Errorf("TailFile = %q", got)
	}
	if got := TailFile(p, 9); got != "…line two" {
		t.Errorf("TailFile short = %q", got)
	}
	if got := TailFile(p+"x", 9); got != "" {
		t.Errorf("TailFile missing = %q", got)
	}
}

// TestStartEnvAndDir: a replaced environment is the whole environment, and
// the process runs in / so it pins no directory of the caller.
func TestStartEnvAndDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p, err := Start(Cmd{Args: []string{"/bin/sh", "-c", "pwd; env"}, Env: []string{"ONLY=1"}, ReplaceEnv: true, Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "/" {
		t.Errorf("working dir = %q; want /", lines[0])
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "HOME=") || strings.HasPrefix(l, "USER=") {
			t.Errorf("inherited %q despite ReplaceEnv", l)
		}
	}
	if !strings.Contains(string(b), "ONLY=1") {
		t.Errorf("env lacks ONLY=1:\n%s", b)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode = %v, %v; want 0600", fi.Mode(), err)
	}
}
