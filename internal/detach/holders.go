package detach

import (
	"os"
	"path/filepath"
	"strconv"
)

// Holder is a process that holds a file open.
type Holder struct {
	// PID is the process id.
	PID int
	// StartTime is the process start time (see ProcStartTime), for
	// SignalProcess and ProcessAlive.
	StartTime uint64
}

// HoldersOf returns, for each of paths (absolute, as opened), the processes
// that hold it open, read from /proc/PID/fd in one pass. Processes this user
// may not inspect, and those that exit during the scan, are left out.
func HoldersOf(paths ...string) map[string][]Holder {
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[filepath.Clean(p)] = true
	}
	out := map[string][]Holder{}
	ents, err := os.ReadDir("/proc")
	if err != nil || len(want) == 0 {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err != nil || !want[target] || seen[target] {
				continue
			}
			st, err := ProcStartTime(pid)
			if err != nil {
				break
			}
			seen[target] = true
			out[target] = append(out[target], Holder{PID: pid, StartTime: st})
		}
	}
	return out
}
