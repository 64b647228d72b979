package vmm

import (
	"syscall"

	"github.com/bangerdev/banger/internal/detach"
)

// ErrNotRunning is returned when the process in a handle is gone (see
// detach.ErrNotRunning).
var ErrNotRunning = detach.ErrNotRunning

// DetachedCmd is detach.Cmd: a VMM process that must outlive the daemon.
type DetachedCmd = detach.Cmd

// Process is detach.Process.
type Process = detach.Process

// StartDetached starts a VMM process with detach.Start.
func StartDetached(c DetachedCmd) (*Process, error) { return detach.Start(c) }

// ProcStartTime is detach.ProcStartTime.
func ProcStartTime(pid int) (uint64, error) { return detach.ProcStartTime(pid) }

// ProcessAlive is detach.ProcessAlive.
func ProcessAlive(pid int, startTime uint64) bool { return detach.ProcessAlive(pid, startTime) }

// SignalProcess is detach.SignalProcess.
func SignalProcess(pid int, startTime uint64, sig syscall.Signal) error {
	return detach.SignalProcess(pid, startTime, sig)
}

// TailFile is detach.TailFile.
func TailFile(path string, max int64) string { return detach.TailFile(path, max) }
