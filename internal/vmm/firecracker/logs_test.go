package firecracker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/vmm"
)

// TestGuestHaltedAfterTheConsoleShrank: the daemon's console cap cuts a
// long log back to its newest part, below the offset recorded at start (a
// resumed VM starts with a large log). A halt printed after that is still
// seen; output before the offset of an unshrunk log is not.
func TestGuestHaltedAfterTheConsoleShrank(t *testing.T) {
	console := filepath.Join(t.TempDir(), "console.log")
	h := vmm.Handle{Console: console, ConsoleOffset: 8 << 20}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(console, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cut := "[banger: console log passed 8 MiB; older output dropped]\n" + strings.Repeat("x", 2000) + "\n"
	write(cut + "[  OK  ] Reached target poweroff.target.\r\n[   12.3] reboot: System halted\r\n")
	if !guestHalted(h) {
		t.Error("a halt after the console was cut back was not seen")
	}
	write(cut + "fakevm login: ")
	if guestHalted(h) {
		t.Error("a running guest's cut console was taken for halted")
	}
	// Unshrunk: only what came after the offset counts.
	old := "reboot: System halted\r\n"
	write(old + "booting again\r\n")
	if guestHalted(vmm.Handle{Console: console, ConsoleOffset: int64(len(old + "booting again\r\n"))}) {
		t.Error("a previous boot's halt line counted for a process that printed nothing yet")
	}
}
