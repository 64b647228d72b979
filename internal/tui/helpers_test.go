package tui

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
)

// startSized runs the TUI against be in a width x height test terminal with
// a still spinner; tune may adjust the model first.
func startSized(t *testing.T, be Backend, width, height int, tune func(*model)) *teatest.TestModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := newModel(ctx, be, Options{Refresh: 100 * time.Millisecond, Now: func() time.Time { return epoch }}, true)
	m.spin = spinner.New(spinner.WithSpinner(spinner.Spinner{Frames: []string{"* "}, FPS: time.Hour}))
	if tune != nil {
		tune(&m)
	}
	return teatest.NewTestModel(t, peekable{m}, teatest.WithInitialTermSize(width, height))
}

// peekMsg asks a peekable for the screen it would draw now.
type peekMsg struct{ reply chan<- string }

// peekable is the model plus an answer to peekMsg, so a test can read the
// current screen without quitting.
type peekable struct{ model }

func (p peekable) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if pm, ok := msg.(peekMsg); ok {
		pm.reply <- p.View()
		return p, nil
	}
	next, cmd := p.model.Update(msg)
	return peekable{next.(model)}, cmd
}

// stepClock returns a clock that advances by step on every call.
func stepClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := epoch
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

// requireGolden compares view with testdata/name.golden (-update rewrites
// it) and checks that it fills the terminal without overflowing it.
func requireGolden(t *testing.T, name, view string, width, height int) {
	t.Helper()
	checkFits(t, name, view, width, height)
	path := filepath.Join("testdata", name+".golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(view), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test -update to create it)", err)
	}
	if string(want) != view {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, view, want)
	}
}

// checkFits checks a view has exactly height lines of at most width cells.
func checkFits(t *testing.T, name, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != height {
		t.Errorf("%s: %d lines, want %d", name, len(lines), height)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("%s: line %d is %d cells wide (max %d): %q", name, i, w, width, l)
		}
	}
}

// typeText types s into the TUI, one key per rune as a person would.
func typeText(tm *teatest.TestModel, s string) {
	for _, r := range s {
		if r == ' ' {
			tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			continue
		}
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// press sends special keys.
func press(tm *teatest.TestModel, keys ...tea.KeyType) {
	for _, k := range keys {
		tm.Send(tea.KeyMsg{Type: k})
	}
}

// clearField empties the focused text field.
func clearField(tm *teatest.TestModel) {
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU})
}

// finalView quits and returns the last screen the model rendered.
func finalView(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(peekable).View()
}
