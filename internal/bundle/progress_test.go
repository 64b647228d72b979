package bundle

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewProgressBar(t *testing.T) {
	var buf bytes.Buffer
	fn := NewProgressBar(&buf, -1)
	fn(512, 2048) // the total becomes known
	fn(2048, 2048)
	if out := buf.String(); !strings.Contains(out, "runtime bundle") || !strings.Contains(out, "100%") {
		t.Errorf("progress output %q", out)
	}
}
