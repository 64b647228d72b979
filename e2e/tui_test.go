package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxTerm is one detached tmux session on a private server socket.
type tmuxTerm struct {
	t      *testing.T
	server string
	dir    string // where captured screens are written
	shots  int
}

func (x *tmuxTerm) tmux(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.server}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen captures the visible pane as plain text.
func (x *tmuxTerm) screen() string {
	out, err := exec.Command("tmux", "-L", x.server, "capture-pane", "-p", "-t", "tui").Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// keys sends tmux key names (Enter, Escape, C-u) or literal text (-l).
func (x *tmuxTerm) keys(args ...string) {
	x.t.Helper()
	x.tmux(append([]string{"send-keys", "-t", "tui"}, args...)...)
}

// waitFor polls the screen until every string is on it, then saves the
// screen under name and returns it.
func (x *tmuxTerm) waitFor(name string, d time.Duration, want ...string) string {
	x.t.Helper()
	deadline := time.Now().Add(d)
	var s string
	for time.Now().Before(deadline) {
		s = x.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			x.shots++
			path := filepath.Join(x.dir, name+".txt")
			_ = os.WriteFile(path, []byte(s), 0o644)
			return s
		}
		time.Sleep(250 * time.Millisecond)
	}
	x.t.Fatalf("screen never showed %q within %s; last screen:\n%s", want, d, s)
	return ""
}

// startTUI runs `banger tui` of env e in a detached 80x24 tmux session.
func startTUI(t *testing.T, e *Env) *tmuxTerm {
	t.Helper()
	x := &tmuxTerm{t: t, server: "bgt-" + filepath.Base(e.Home), dir: os.Getenv("BANGER_TUI_SCREENS")}
	if x.dir == "" {
		x.dir = t.TempDir()
	}
	// env -i: the tmux server's own environment (the test process's, with
	// the canary BANGER_*/XDG_* dirs) must not reach banger.
	argv := []string{"new-session", "-d", "-s", "tui", "-x", "80", "-y", "24", "--", "env", "-i"}
	for _, kv := range e.env {
		if strings.HasPrefix(kv, "TMUX") || strings.HasPrefix(kv, "NO_COLOR") {
			continue
		}
		argv = append(argv, kv)
	}
	argv = append(argv, "TERM=xterm-256color", filepath.Join(binDir, "banger"), "--socket", e.Socket, "tui")
	x.tmux(argv...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", x.server, "kill-server").Run() })
	return x
}

// quit presses q and waits for the TUI (and so the session) to end.
func (x *tmuxTerm) quit() {
	x.t.Helper()
	x.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "-L", x.server, "has-session", "-t", "tui").Run() == nil {
		if time.Now().After(deadline) {
			x.t.Fatalf("banger tui did not quit on q:\n%s", x.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTUIRefusalInTmux needs no bundle: the real daemon's refusal of a
// create lands in the form of the real TUI.
func TestTUIRefusalInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (apt-get install tmux)")
	}
	e := newEnvAt(t, filepath.Join(t.TempDir(), "no-bundle"), "")
	x := startTUI(t, e)
	x.waitFor("refusal-01-list", time.Minute, "0 VMs", "c create")
	x.keys("c")
	x.waitFor("refusal-02-form", 20*time.Second, "Create VM")
	x.keys("C-u")
	x.keys("-l", "Bad_Name")
	x.keys("Enter")
	x.waitFor("refusal-03-inline", 20*time.Second, `! invalid VM name "Bad_Name"`)
	x.keys("C-u")
	x.keys("-l", "ok-name")
	x.keys("Enter")
	// The daemon has no image without a bundle; its answer sits under image.
	s := x.waitFor("refusal-04-daemon", time.Minute, `! no image named`)
	if i := strings.Index(s, "image    ‹"); i < 0 || i > strings.Index(s, "! no image named") {
		t.Errorf("the refusal is not under the image field:\n%s", s)
	}
	if strings.Contains(s, "creating ok-name") {
		t.Errorf("a refused create still shows as running:\n%s", s)
	}
	x.keys("Escape")
	x.waitFor("refusal-05-list", 20*time.Second, "0 VMs", "c create")
	x.quit()
}

// TestTUIInTmux drives the real `banger tui` in an 80x24 tmux pane against
// a real daemon: create a VM from the form, watch it boot, find the login
// prompt on its console, stop it and delete it.
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (apt-get install tmux)")
	}
	requireRoot(t)
	e := newEnv(t, "")
	x := startTUI(t, e)
	x.waitFor("01-empty", time.Minute, "0 VMs", "c create")
	x.keys("c")
	x.waitFor("02-form", 20*time.Second, "Create VM", "‹ ")
	x.keys("C-u")
	x.keys("-l", "tui-e2e")
	x.keys("Tab", "Tab")
	x.keys("-l", "512")
	x.keys("Enter")
	x.waitFor("03-creating", 2*time.Minute, "tui-e2e", "creating ")
	s := x.waitFor("04-running", 5*time.Minute, "created tui-e2e: running")
	if !strings.Contains(s, "running") || !strings.Contains(s, "tui-e2e") {
		t.Fatalf("list does not show tui-e2e running:\n%s", s)
	}
	x.keys("l")
	x.waitFor("05-console", 2*time.Minute, "console of tui-e2e", "login:")
	x.keys("/")
	x.keys("-l", "login:")
	x.keys("Enter")
	x.waitFor("06-search", 20*time.Second, `"login:": match`)
	x.keys("Escape")
	x.waitFor("07-list", 20*time.Second, "c create")
	x.keys("S")
	x.waitFor("08-stopped", 2*time.Minute, "stopped tui-e2e")
	x.keys("d")
	x.waitFor("09-confirm", 20*time.Second, "delete VM tui-e2e? (y/n)")
	x.keys("y")
	x.waitFor("10-deleted", time.Minute, "deleted tui-e2e", "0 VMs")
	x.quit()
	var vms []vmJSON
	e.JSON(&vms, "vm", "list")
	if len(vms) != 0 {
		t.Errorf("VMs left after the TUI deleted tui-e2e: %+v", vms)
	}
	t.Logf("screens in %s (%d captured)", x.dir, x.shots)
}
