package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/bangerdev/banger/internal/api"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// start runs the TUI against be in an 80x24 test terminal.
func start(t *testing.T, be Backend) *teatest.TestModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, be, Options{Refresh: 100 * time.Millisecond, Now: func() time.Time { return epoch }}, true)
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
}

// waitOutput waits until the screen output contains every string.
func waitOutput(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// finish quits and returns the final model.
func finish(t *testing.T, tm *teatest.TestModel) model {
	t.Helper()
	tm.Type("q")
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(model)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// select moves the cursor to the row of name (rows are sorted by name).
func selectVM(tm *teatest.TestModel, names []string, name string) {
	for _, n := range names {
		if n == name {
			return
		}
		tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	}
}

// sorted names of threeVMs.
var names = []string{"build-box", "db", "web"}

func TestListGolden(t *testing.T) {
	tm := start(t, newFake(threeVMs()...))
	waitOutput(t, tm, "build-box", "web", "3 VMs")
	view := finish(t, tm).View()
	for _, want := range []string{"NAME", "STATE", "db", "stopped", "running", "172.16.0.2", "3 VMs: 2 running, 1 stopped", "0.9.0-test"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	if n := strings.Count(view, "\n") + 1; n != 24 {
		t.Errorf("view has %d lines, want 24", n)
	}
	teatest.RequireEqualOutput(t, []byte(view))
}

func TestStopRunningVM(t *testing.T) {
	f := newFake(threeVMs()...)
	tm := start(t, f)
	waitOutput(t, tm, "web")
	// Letters typed fast reach the program as one message.
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjS")})
	waitFor(t, "StopVM web", func() bool { return f.called("StopVM web") })
	waitOutput(t, tm, "stopped web")
	m := finish(t, tm)
	if f.called("StopVM build-box") || f.called("StopVM db") {
		t.Errorf("stop reached the wrong VM: %v", f.calls)
	}
	row := m.list.selected()
	if len(row) < 2 || row[0] != "web" || row[1] != api.StateStopped {
		t.Errorf("selected row after stop = %v, want web stopped", row)
	}
	if !strings.Contains(m.View(), "3 VMs: 1 running, 2 stopped") {
		t.Errorf("counts not updated:\n%s", m.View())
	}
}

func TestDeleteConfirmation(t *testing.T) {
	f := newFake(threeVMs()...)
	tm := start(t, f)
	waitOutput(t, tm, "web")
	selectVM(tm, names, "db")
	tm.Type("d")
	waitOutput(t, tm, "delete VM db? (y/n)")
	tm.Type("n")
	waitOutput(t, tm, "kept db")
	if f.called("DeleteVM db force=false") || f.called("DeleteVM db force=true") {
		t.Fatalf("answering n still deleted: %v", f.calls)
	}
	tm.Type("dy")
	waitFor(t, "DeleteVM db", func() bool { return f.called("DeleteVM db force=false") })
	waitOutput(t, tm, "deleted db")

	// A running VM needs force.
	selectVM(tm, []string{"build-box"}, "build-box")
	tm.Send(tea.KeyMsg{Type: tea.KeyUp})
	tm.Type("d")
	waitOutput(t, tm, "force delete running VM build-box? (y/n)")
	tm.Type("y")
	waitFor(t, "forced DeleteVM", func() bool { return f.called("DeleteVM build-box force=true") })
	waitOutput(t, tm, "deleted build-box")
	m := finish(t, tm)
	if len(m.vms) != 1 || m.vms[0].Name != "web" {
		t.Errorf("VMs left = %v, want only web", m.vms)
	}
}

func TestBackendErrorInStatusLine(t *testing.T) {
	f := newFake(threeVMs()...)
	f.setErr("StopVM", errors.New("vm web: guest did not power off in 30s: use banger vm kill"))
	tm := start(t, f)
	waitOutput(t, tm, "web")
	selectVM(tm, names, "web")
	tm.Type("S")
	waitOutput(t, tm, "error: stop web: vm web: guest did not power off")
	f.setErr("ListVMs", errors.New("daemon unreachable"))
	waitOutput(t, tm, "error: list VMs: daemon unreachable")
	m := finish(t, tm)
	if len(m.vms) != 3 {
		t.Errorf("a failed refresh dropped the list: %v", m.vms)
	}
}

func TestActionsAndViews(t *testing.T) {
	f := newFake(threeVMs()...)
	f.gate = make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-f.gate:
		default:
			close(f.gate)
		}
	})
	tm := start(t, f)
	waitOutput(t, tm, "web")
	selectVM(tm, names, "db")
	tm.Type("s")
	waitOutput(t, tm, "starting db: [1/2] boot…")
	tm.Type("S")
	waitOutput(t, tm, "db is busy (starting db)")
	close(f.gate)
	waitOutput(t, tm, "started db")
	if f.called("StopVM db") {
		t.Errorf("a busy VM got a second operation: %v", f.calls)
	}
	tm.Type("n")
	waitOutput(t, tm, "NAT on for db")
	tm.Type("r")
	waitOutput(t, tm, "restarted db")
	for _, c := range []string{"StartVM db", "SetVM db nat=true", "RestartVM db"} {
		if !f.called(c) {
			t.Errorf("fake did not see %q: %v", c, f.calls)
		}
	}

	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitOutput(t, tm, "12.5%", "300 MiB resident", "0.25 0.50 0.75", "256 MiB used of 1 GiB", "/var/lib/banger/vms/web")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Type("i")
	waitOutput(t, tm, "alpine-dev", "web,db")
	tm.Type("?")
	waitOutput(t, tm, "NAT on/off")
	tm.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	m := finish(t, tm)
	lines := strings.Split(m.View(), "\n")
	if len(lines) != 40 {
		t.Errorf("view at 120x40 has %d lines", len(lines))
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > 120 {
			t.Errorf("line wider than 120 (%d): %q", w, l)
		}
	}
}

func TestSSHQuitsWithTarget(t *testing.T) {
	f := newFake(threeVMs()...)
	tm := start(t, f)
	waitOutput(t, tm, "web")
	selectVM(tm, names, "db")
	tm.Type("x")
	waitOutput(t, tm, "cannot ssh into db: it is stopped")
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Type("x")
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(model)
	if m.sshTarget != "web" {
		t.Errorf("ssh target = %q, want web", m.sshTarget)
	}
}

// TestCreateFormPreselectsTheDefaultImage: the picker starts on the image
// bangerd boots when none is named, whatever the list order.
func TestCreateFormPreselectsTheDefaultImage(t *testing.T) {
	m := model{images: []api.Image{{Name: "base", Builtin: true}, {Name: "mine"}, {Name: "default", Builtin: true}}}
	got := m.imageChoices()
	if len(got) != 3 || got[0] != "default" || got[1] != "base" || got[2] != "mine" {
		t.Fatalf("choices = %v; want default first, then base, then the user's", got)
	}
}
