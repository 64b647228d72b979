package firecracker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bangerdev/banger/internal/vmm"
)

// freshLog moves the previous boot's log at path to path.prev and creates
// an empty one. Firecracker opens its log file without O_APPEND or
// O_TRUNC, so each boot would overwrite the last one from offset 0 and
// leave its tail behind.
func freshLog(path string) error {
	if err := os.Rename(path, path+".prev"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keep previous firecracker log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("create firecracker log file: %w", err)
	}
	return f.Close()
}

// haltLines are what Linux prints last when it stops without a reset:
// kernel_halt ("System halted") and kernel_power_off ("Power down").
var haltLines = [][]byte{[]byte("reboot: System halted"), []byte("reboot: Power down")}

// guestHalted reports whether the last line the guest of h printed on its
// console since the process started is Linux's final halt or power-off
// message. On x86 firecracker has no ACPI power management, so a guest
// power-off halts the vCPUs and the process runs on with nothing to do.
//
// The console file may have shrunk below h.ConsoleOffset since: the
// daemon cuts a long log back to its newest part (a resumed VM's log
// starts large). Everything in a shrunk file is then the newest output,
// and its tail is read.
func guestHalted(h vmm.Handle) bool {
	if h.Console == "" {
		return false
	}
	f, err := os.Open(h.Console)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == h.ConsoleOffset || fi.Size() == 0 {
		return false
	}
	start := h.ConsoleOffset
	if fi.Size() < start {
		start = 0
	}
	from := max(start, fi.Size()-512)
	tail, err := io.ReadAll(io.NewSectionReader(f, from, fi.Size()-from))
	if err != nil {
		return false
	}
	tail = bytes.TrimRight(tail, "\r\n\x00 ")
	last := tail[bytes.LastIndexAny(tail, "\r\n")+1:]
	for _, l := range haltLines {
		if bytes.HasSuffix(last, l) {
			return true
		}
	}
	return false
}
