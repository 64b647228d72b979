package fakefc

import (
	"fmt"
	"strings"
	"time"
)

// keyboard models firecracker's i8042 device and the guest driver reading
// it: 4 bytes per Ctrl-Alt-Del in a 16-byte buffer that only the guest
// empties, once its driver is up.
type keyboard struct {
	readyAt  time.Time // when the guest driver comes up
	inited   bool      // the driver probed (and flushed) the controller
	buffered int       // unread bytes
}

const (
	kbdBufSize       = 16
	ctrlAltDelLength = 4
)

// sync applies what the guest did since the last request: its keyboard
// driver came up (flushing early presses) or, if up and running, it read
// the buffer. It reports whether the guest read a Ctrl-Alt-Del.
func (s *Server) syncKeyboard() bool {
	if s.state != StateRunning || s.halted {
		return false // paused vCPUs read nothing
	}
	k := &s.kbd
	if !k.inited {
		if time.Now().Before(k.readyAt) {
			return false
		}
		k.inited, k.buffered = true, 0
		return false
	}
	if k.buffered == 0 {
		return false
	}
	k.buffered = 0
	return true
}

// guestReboots runs the guest's reaction to a Ctrl-Alt-Del it read: an
// orderly shutdown and a reset through the keyboard controller
// (reboot=k), which ends firecracker with status 0.
func (s *Server) guestReboots() {
	fmt.Fprintf(s.opts.Console, "\r\n[  OK  ] Reached target ctrl-alt-del.target.\r\nreboot: Restarting system\r\n")
	s.halted = true // nothing more runs in the guest
	s.exitAfter(s.opts.RebootDelay+20*time.Millisecond, 0)
}

func (s *Server) putAction(body []byte) (int, string) {
	var v action
	if e := decode(body, &v); e != "" {
		return badRequest, e
	}
	if v.ActionType == nil {
		return badRequest, missing("action_type")
	}
	switch *v.ActionType {
	case "InstanceStart":
		if s.state != StateNotStarted {
			return badRequest, faultPostBoot
		}
		return s.instanceStart()
	case "SendCtrlAltDel":
		if s.state == StateNotStarted {
			return badRequest, faultPreBoot
		}
		s.syncKeyboard()
		if kbdBufSize-s.kbd.buffered < ctrlAltDelLength {
			return badRequest, faultKbdBufferFull
		}
		s.kbd.buffered += ctrlAltDelLength
		if !s.kbd.inited {
			fmt.Fprintln(s.opts.Log, "[fakefc:WARN] Failed to trigger i8042 kbd interrupt (disabled by guest OS)")
		}
		if s.syncKeyboard() {
			s.guestReboots()
		}
	case "FlushMetrics":
		if s.state == StateNotStarted {
			return badRequest, faultPreBoot
		}
	default:
		return badRequest, fmt.Sprintf("An error occurred when deserializing the json body of a request: unknown variant `%s`, expected one of `FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`.", *v.ActionType)
	}
	return noContent, ""
}

// instanceStart boots the configured microVM.
func (s *Server) instanceStart() (int, string) {
	if s.boot == nil {
		return badRequest, "Start microvm error: Cannot start microvm without kernel configuration."
	}
	if s.rootDrive() == "" {
		return badRequest, "Start microvm error: no root block device configured (the fake requires one)."
	}
	cmdline := s.finalCmdline()
	if len(cmdline)+1 > MaxCmdline {
		return badRequest, "Start microvm error: Kernel command line error: Operation would have made the command line too large."
	}
	if e := checkKernel(*s.boot.KernelImagePath); e != "" {
		fmt.Fprintf(s.opts.Log, "[fakefc:ERROR] %s\n", e)
		return badRequest, faultKernelLoad
	}
	s.state = StateRunning
	s.kbd = keyboard{readyAt: time.Now().Add(s.opts.KeyboardReady)}
	fmt.Fprintf(s.opts.Console, "fakefc: booting kernel %s\r\nCommand line: %s\r\nfakefc: drives %v\r\n\r\nfakevm login: ", *s.boot.KernelImagePath, cmdline, s.driveOrder)
	if d := s.opts.PowerOffAfter; d > 0 {
		time.AfterFunc(d, s.guestPowersOff)
	}
	return noContent, ""
}

// guestPowersOff is `poweroff` in the guest: without ACPI power management
// on x86 Linux halts the CPUs and firecracker keeps running.
func (s *Server) guestPowersOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted {
		return
	}
	s.halted = true
	fmt.Fprintf(s.opts.Console, "\r\n[  OK  ] Reached target poweroff.target.\r\n[   12.345678] reboot: System halted\r\n")
}

// finalCmdline is the command line the guest gets: boot_args (or
// firecracker's default) plus what firecracker appends.
func (s *Server) finalCmdline() string {
	args := "reboot=k panic=1 nomodule 8250.nr_uarts=0 i8042.noaux i8042.nomux i8042.dumbkbd swiotlb=noforce"
	if s.boot.BootArgs != nil {
		args = *s.boot.BootArgs
	}
	parts := []string{args, "pci=off"}
	if root := s.rootDrive(); root != "" {
		mode := "rw"
		if *s.drives[root].IsReadOnly {
			mode = "ro"
		}
		parts = append(parts, "root=/dev/vda", mode)
	}
	n := len(s.drives) + len(s.ifaces)
	if s.vsock != nil {
		n++
	}
	for i := 0; i < n; i++ {
		parts = append(parts, fmt.Sprintf("virtio_mmio.device=4K@0x%08x:%d", 0xc0001000+i*0x1000, 5+i))
	}
	return strings.Join(parts, " ")
}

func (s *Server) rootDrive() string {
	for _, id := range s.driveOrder {
		if *s.drives[id].IsRootDevice {
			return id
		}
	}
	return ""
}

// patchVM pauses or resumes the vCPUs.
func (s *Server) patchVM(body []byte) (int, string) {
	if s.state == StateNotStarted {
		return badRequest, faultPreBoot
	}
	var v vmState
	if e := decode(body, &v); e != "" {
		return badRequest, e
	}
	if v.State == nil {
		return badRequest, missing("state")
	}
	switch *v.State {
	case "Paused":
		if s.syncKeyboard() {
			s.guestReboots()
		}
		s.state = StatePaused
	case "Resumed":
		s.state = StateRunning
		if s.syncKeyboard() {
			s.guestReboots()
		}
	default:
		return badRequest, fmt.Sprintf("An error occurred when deserializing the json body of a request: unknown variant `%s`, expected `Paused` or `Resumed`.", *v.State)
	}
	return noContent, ""
}
