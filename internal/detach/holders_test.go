package detach

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A file a child process holds open is found with that process; a file
// nobody holds has no holders.
func TestHoldersOf(t *testing.T) {
	dir := t.TempDir()
	held := filepath.Join(dir, "console.log")
	free := filepath.Join(dir, "other.log")
	for _, p := range []string{held, free} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(held, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	cmd.Stdout = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var got map[string][]Holder
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got = HoldersOf(held, free); len(got[held]) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h := got[held]
	if len(h) != 1 || h[0].PID != cmd.Process.Pid || !ProcessAlive(h[0].PID, h[0].StartTime) {
		t.Fatalf("holders of the child's stdout = %+v, want the child %d", h, cmd.Process.Pid)
	}
	if len(got[free]) != 0 {
		t.Errorf("a file nobody holds has holders %+v", got[free])
	}
}
