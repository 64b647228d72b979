package bundlebuild

import (
	"bytes"
	"fmt"
	"sync"
	"time"
)

// compileCounter reads the kernel build's output ("  CC      kernel/fork.o")
// and reports how many files were compiled so far, every interval, so a
// multi-minute compile is never silent.
type compileCounter struct {
	mu       sync.Mutex
	report   func(string)
	every    time.Duration
	start    time.Time
	last     time.Time
	compiled int
	partial  []byte
}

func newCompileCounter(report func(string), every time.Duration) *compileCounter {
	now := time.Now()
	return &compileCounter{report: report, every: every, start: now, last: now}
}

// Write counts compile lines in p.
func (c *compileCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data := append(c.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		f := bytes.Fields(data[:i])
		if len(f) >= 2 && (bytes.Equal(f[0], []byte("CC")) || bytes.Equal(f[0], []byte("AS"))) {
			c.compiled++
		}
		data = data[i+1:]
	}
	c.partial = append(c.partial[:0], data...)
	if c.report != nil && time.Since(c.last) >= c.every {
		c.last = time.Now()
		c.report(c.line())
	}
	return len(p), nil
}

func (c *compileCounter) line() string {
	return fmt.Sprintf("kernel: %d files compiled (%s)", c.compiled, time.Since(c.start).Round(time.Second))
}

// done reports the final count.
func (c *compileCounter) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.report != nil && c.compiled > 0 {
		c.report(c.line())
	}
}
