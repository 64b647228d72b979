package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/bangerdev/banger/internal/api"
)

// syncBuffer is a goroutine-safe output sink for a real tea.Program.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runAsync starts Run on a pipe for input and returns the pipe's writer,
// the output and Run's result channel. The pipe is an io.Pipe, not an
// os.Pipe: bubbletea's epoll cancel reader races with its own Close on
// files, which the race detector reports.
func runAsync(t *testing.T, ctx context.Context, be Backend, opts Options) (*io.PipeWriter, *syncBuffer, <-chan error) {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	out := &syncBuffer{}
	opts.Input, opts.Output, opts.NoAltScreen = r, out, true
	opts.Now = func() time.Time { return epoch }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, be, opts) }()
	waitFor(t, "first render", func() bool { return strings.Contains(out.String(), "build-box") })
	return w, out, done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestRunCallsOnSSHAfterQuit(t *testing.T) {
	var got string
	sshErr := errors.New("ssh exited with status 255")
	w, _, done := runAsync(t, context.Background(), newFake(threeVMs()...), Options{
		OnSSH: func(name string) error { got = name; return sshErr },
	})
	if _, err := w.Write([]byte("x")); err != nil { // build-box is selected and running
		t.Fatal(err)
	}
	w.Close() // lets bubbletea's input reader end at once
	if err := wait(t, done); !errors.Is(err, sshErr) {
		t.Errorf("Run = %v, want the OnSSH error", err)
	}
	if got != "build-box" {
		t.Errorf("OnSSH got %q, want build-box", got)
	}
}

func TestRunQuitAndCancel(t *testing.T) {
	w, _, done := runAsync(t, context.Background(), newFake(threeVMs()...), Options{})
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := wait(t, done); err != nil {
		t.Errorf("Run after q = %v, want nil", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	w, _, done = runAsync(t, ctx, newFake(threeVMs()...), Options{})
	cancel()
	w.Close()
	if err := wait(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestColumnsFitNarrowTerminals(t *testing.T) {
	vms := threeVMs()
	vms[0].Name = "a-very-long-vm-name-that-does-not-fit-anywhere"
	vms[1].Image = "an-image-with-a-long-descriptive-name"
	for _, width := range []int{80, 100, 60} {
		m := newModel(context.Background(), newFake(), Options{Now: func() time.Time { return epoch }}, true)
		m.width, m.height = width, 24
		m.vms = vms
		m.loaded = true
		m.relist()
		total := m.list.width()
		if width >= 80 && total > width {
			t.Errorf("width %d: columns need %d cells", width, total)
		}
		for i, l := range strings.Split(m.View(), "\n") {
			if lw := lipgloss.Width(l); lw > width {
				t.Errorf("width %d: line %d is %d wide: %q", width, i, lw, l)
			}
		}
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[int64]string{0: "-", 512 << 10: "512K", 512 << 20: "512M", 1 << 30: "1G", 3 << 29: "1.5G", 2 << 40: "2T"} {
		if got := compactBytes(in); got != want {
			t.Errorf("compactBytes(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 300 << 20: "300 MiB", 5 << 40: "5 TiB"} {
		if got := humanBytes(in); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{-time.Second: "-", 45 * time.Second: "45s", 12 * time.Minute: "12m",
		47 * time.Hour: "47h", 72 * time.Hour: "3d"} {
		if got := age(in); got != want {
			t.Errorf("age(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{42 * time.Second: "42s", 90 * time.Minute: "1h30m", 50 * time.Hour: "2d2h"} {
		if got := uptime(in); got != want {
			t.Errorf("uptime(%v) = %q, want %q", in, got, want)
		}
	}
	ev := map[string]api.Event{
		"[2/5] boot": {Kind: api.EventStep, Index: 2, Total: 5, Step: "boot"},
		"copy 50%":   {Kind: api.EventProgress, Step: "copy", Done: 5, Size: 10},
		"hello":      {Kind: api.EventLog, Message: "hello"},
		"":           {Kind: api.EventResult},
	}
	for want, e := range ev {
		if got := eventText(e); got != want {
			t.Errorf("eventText(%+v) = %q, want %q", e, got, want)
		}
	}
}

func TestKeyHintsFit80Columns(t *testing.T) {
	f := newFake(threeVMs()...)
	m := newModel(context.Background(), f, Options{Now: func() time.Time { return epoch }}, true)
	m.vms = threeVMs()
	m.loaded = true
	m.relist()
	for _, s := range []screen{screenList, screenDetails, screenImages, screenHelp} {
		m.screen = s
		m.det = details{name: "web"}
		lines := strings.Split(m.View(), "\n")
		if len(lines) != 24 {
			t.Errorf("screen %d: %d lines, want 24", s, len(lines))
		}
		if last := lines[len(lines)-1]; strings.HasSuffix(last, "…") || last == "" {
			t.Errorf("screen %d: key hints cut or missing: %q", s, last)
		}
	}
	m.screen, m.confirm = screenList, &confirmation{vms: threeVMs()[:1], force: true}
	if v := m.View(); !strings.Contains(v, "force delete running VM web? (y/n)") || !strings.Contains(v, "y yes • n no") {
		t.Errorf("confirmation not shown:\n%s", v)
	}
}
