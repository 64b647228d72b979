package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
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
