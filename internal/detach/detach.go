// Package detach starts programs that must outlive the process that starts
// them: the VMM processes bangerd spawns (VMs keep running when the daemon
// stops or crashes) and the bangerd the CLI starts on first use. It is the
// one place banger starts a program it does not wait for; every other
// program runs through internal/execx.
package detach

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// Cmd describes a long-running program started outside the caller's
// session, such as a VMM process that must outlive the daemon.
type Cmd struct {
	// Args is the argv; Args[0] is the program (looked up in PATH).
	Args []string
	// Env is appended to the caller's environment (KEY=VALUE entries),
	// or replaces it when ReplaceEnv is set.
	Env []string
	// ReplaceEnv makes Env the whole environment.
	ReplaceEnv bool
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Stdout is the file receiving standard output (created or appended).
	Stdout string
	// Stderr is the file receiving standard error; empty means Stdout.
	Stderr string
}

// Process is a program started by Start.
type Process struct {
	// PID is the process id.
	PID int
	// StartTime is the process start time (see ProcStartTime).
	StartTime uint64

	done chan struct{}
	err  error
}

// Exited is closed when the process exits while the caller is still running.
func (p *Process) Exited() <-chan struct{} { return p.done }

// ExitErr returns the wait status after Exited is closed (nil for exit 0).
func (p *Process) ExitErr() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Start starts c in its own session (setsid) with stdin from /dev/null,
// stdout/stderr appended to log files (0600) and "/" as working directory
// unless Dir says otherwise, so it survives the caller exiting or being
// killed and pins no directory. A goroutine waits for the process so it
// never lingers as a zombie while the caller lives.
func Start(c Cmd) (*Process, error) {
	if len(c.Args) == 0 {
		return nil, errors.New("start detached process: empty command")
	}
	stdout, err := openLog(c.Stdout)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr := stdout
	if c.Stderr != "" && c.Stderr != c.Stdout {
		stderr, err = openLog(c.Stderr)
		if err != nil {
			return nil, err
		}
		defer stderr.Close()
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("start %s: open %s: %w", c.Args[0], os.DevNull, err)
	}
	defer devnull.Close()

	cmd := exec.Command(c.Args[0], c.Args[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	if c.ReplaceEnv {
		cmd.Env = c.Env
	}
	cmd.Dir = c.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	cmd.Stdin = devnull
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	p := &Process{PID: cmd.Process.Pid, done: make(chan struct{})}
	// Read the start time before the reaper can collect an early exit.
	st, stErr := ProcStartTime(p.PID)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if stErr != nil {
		<-p.done
		return nil, fmt.Errorf("start %s: process exited at once: %v", c.Args[0], p.err)
	}
	p.StartTime = st
	return p, nil
}

func openLog(path string) (*os.File, error) {
	if path == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return f, nil
}

// TailFile returns up to max bytes from the end of path, trimmed, for
// folding a process's log into an error message. Errors yield "".
func TailFile(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := fi.Size() - max
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if off > 0 {
		s = "…" + s
	}
	return s
}
