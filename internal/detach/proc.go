package detach

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procRoot is the proc filesystem mount; a variable for tests.
var procRoot = "/proc"

// procStat is the part of /proc/PID/stat banger needs.
type procStat struct {
	state     byte
	startTime uint64
}

// readProcStat parses /proc/PID/stat. The comm field is parenthesised and
// may itself contain spaces and parentheses, so parsing resumes after the
// last ')'.
func readProcStat(pid int) (procStat, error) {
	if pid <= 0 {
		return procStat{}, fmt.Errorf("invalid pid %d", pid)
	}
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(s string) (procStat, error) {
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return procStat{}, errors.New("malformed /proc stat line: no ')' after comm")
	}
	// Fields after comm start at field 3 (state); starttime is field 22.
	rest := strings.Fields(s[end+1:])
	const startTimeIdx = 22 - 3
	if len(rest) <= startTimeIdx {
		return procStat{}, fmt.Errorf("malformed /proc stat line: %d fields after comm, need %d", len(rest), startTimeIdx+1)
	}
	if len(rest[0]) != 1 {
		return procStat{}, fmt.Errorf("malformed /proc stat line: state %q", rest[0])
	}
	st, err := strconv.ParseUint(rest[startTimeIdx], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat line: starttime: %w", err)
	}
	return procStat{state: rest[0][0], startTime: st}, nil
}

// ProcStartTime returns the start time of pid in clock ticks since boot
// (field 22 of /proc/PID/stat).
func ProcStartTime(pid int) (uint64, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, fmt.Errorf("read start time of pid %d: %w", pid, err)
	}
	return st.startTime, nil
}

// ProcessAlive reports whether pid runs and is the process that was started
// at startTime: false for a missing pid, a zombie or dead task, or a pid that
// was reused by another process.
func ProcessAlive(pid int, startTime uint64) bool {
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	if st.state == 'Z' || st.state == 'X' || st.state == 'x' {
		return false
	}
	return st.startTime == startTime
}

// ErrNotRunning is returned by SignalProcess when the process in the handle
// is gone (or its pid now belongs to another process).
var ErrNotRunning = errors.New("vmm process is not running")

// SignalProcess sends sig to pid after checking that the pid still belongs to
// the process started at startTime, so a reused pid is never signalled.
func SignalProcess(pid int, startTime uint64, sig syscall.Signal) error {
	if !ProcessAlive(pid, startTime) {
		return fmt.Errorf("signal pid %d: %w", pid, ErrNotRunning)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("signal pid %d: %w", pid, ErrNotRunning)
		}
		return fmt.Errorf("signal pid %d with %v: %w", pid, sig, err)
	}
	return nil
}
