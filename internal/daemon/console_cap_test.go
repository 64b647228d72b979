package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCapConsoleLogNeverEmptyAndInPlace: a reader polling the console log
// while it is cut never finds it empty; the cut file is the marker and the
// newest whole lines; a writer holding the file open with O_APPEND (as the
// VMMs do) keeps writing at the new end of the same file.
func TestCapConsoleLogNeverEmptyAndInPlace(t *testing.T) {
	const limit, keep = 1 << 20, 64 << 10
	path := filepath.Join(t.TempDir(), "console.log")
	line := strings.Repeat("x", 99) + "\n"
	for round := 0; round < 20; round++ {
		var content strings.Builder
		for content.Len() <= limit {
			content.WriteString(line)
		}
		content.WriteString("newest line\n")
		if err := os.WriteFile(path, []byte(content.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		vmm, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		var stop, empty atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
					empty.Store(true)
				}
			}
		}()
		cut, err := capConsoleLog(path, limit, keep)
		stop.Store(true)
		<-done
		if err != nil || !cut {
			t.Fatalf("round %d: capConsoleLog = %v, %v", round, cut, err)
		}
		if empty.Load() {
			t.Fatalf("round %d: a reader saw the console log empty (or missing) during the cut", round)
		}
		b, _ := os.ReadFile(path)
		marker := "[banger: console log passed 1 MiB; older output dropped]\n"
		if !strings.HasPrefix(string(b), marker+line) || !strings.HasSuffix(string(b), line+"newest line\n") || len(b) > keep+len(marker) {
			t.Fatalf("round %d: cut file is %d bytes, starts %q", round, len(b), b[:min(len(b), 80)])
		}
		if body := b[len(marker):]; bytes.Count(body, []byte("\n")) != len(bytes.TrimSuffix(body, []byte("newest line\n")))/len(line)+1 {
			t.Fatalf("round %d: kept a partial line", round)
		}
		if _, err := vmm.Write([]byte("after the cut\n")); err != nil {
			t.Fatal(err)
		}
		vmm.Close()
		after, _ := os.ReadFile(path)
		if string(after) != string(b)+"after the cut\n" {
			t.Fatalf("round %d: the VMM's next write is not at the end of the cut file (%d bytes, was %d)", round, len(after), len(b))
		}
	}
	// Below the limit nothing changes.
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cut, err := capConsoleLog(path, limit, keep); cut || err != nil {
		t.Fatalf("short log: cut %v, %v", cut, err)
	}
}

// TestLogsFollowAfterCutAndRestart: `vm logs -f` keeps showing new console
// output after the cap cut the file below what it had read (it starts again
// at the marker) and after a start replaced the file.
func TestLogsFollowAfterCutAndRestart(t *testing.T) {
	td := newTestDaemon(t)
	c := serveTest(t, td)
	vm, err := td.create(t, "chatty", false)
	if err != nil {
		t.Fatal(err)
	}
	path := vm.Files.ConsoleLog
	line := strings.Repeat("x", 99) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, 20<<10)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc, err := c.Logs(ctx, "chatty", true)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var mu sync.Mutex
	var got bytes.Buffer
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := rc.Read(buf)
			mu.Lock()
			got.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	waitFor := func(what string, ok func(b []byte) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			done := ok(got.Bytes())
			n := got.Len()
			mu.Unlock()
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("vm logs -f: %s did not arrive (%d bytes read)", what, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the whole log", func(b []byte) bool { return len(b) == 20<<10*len(line) })

	if cut, err := capConsoleLog(path, 1<<20, 64<<10); err != nil || !cut {
		t.Fatalf("cap: %v, %v", cut, err)
	}
	app, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = app.WriteString("after the cut\n")
	app.Close()
	waitFor("output after the cut", func(b []byte) bool {
		return bytes.Contains(b, []byte("[banger: console log passed 1 MiB")) && bytes.HasSuffix(b, []byte("after the cut\n"))
	})

	// A start removes the log and the VMM writes a new one.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("second boot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("output of the next boot", func(b []byte) bool { return bytes.HasSuffix(b, []byte("after the cut\nsecond boot\n")) })
}
