package bundle

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNewProgressBar(t *testing.T) {
	var buf bytes.Buffer
	fn := NewProgressBar(&buf, -1)
	fn(512, 2048) // the total becomes known
	fn(2048, 2048)
	if out := buf.String(); !strings.Contains(out, "runtime bundle") || !strings.Contains(out, "100%") {
		t.Errorf("progress output %q", out)
	}
	if out := buf.String(); strings.Contains(out, "/s") {
		t.Errorf("a read of a few microseconds shows a rate: %q", out)
	}
}

// TestProgressLabelRate: no rate before a second has passed (a local
// archive read in 2 ms must not claim hundreds of GB/s), a true average
// after.
func TestProgressLabelRate(t *testing.T) {
	if got := progressLabel(600<<20, 600<<20, 2*time.Millisecond); got != "runtime bundle 600M/600M" {
		t.Errorf("fast local read: %q", got)
	}
	if got := progressLabel(20<<20, -1, 2*time.Second); got != "runtime bundle 20M, 10M/s" {
		t.Errorf("download: %q", got)
	}
}
