package bundlebuild

import (
	"strings"
	"testing"
)

func TestCompileCounterCountsAcrossWrites(t *testing.T) {
	var got []string
	c := newCompileCounter(func(s string) { got = append(got, s) }, 0)
	for _, chunk := range []string{"  CC      kernel/fo", "rk.o\n  AS      arch/x86/entry/entry_64.o\n  LD      vmlinux\n", "  CC      mm/slub.o\n"} {
		if _, err := c.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	c.done()
	last := got[len(got)-1]
	if !strings.HasPrefix(last, "kernel: 3 files compiled") {
		t.Fatalf("reports %q; want 3 files (CC, AS, CC; LD is not a compile)", got)
	}
}
