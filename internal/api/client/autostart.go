package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bangerdev/banger/internal/detach"
)

// StartOptions say how to start bangerd when nothing answers on the socket.
type StartOptions struct {
	// DaemonBin is the bangerd executable.
	DaemonBin string
	// LogFile receives the daemon's stdout and stderr.
	LogFile string
	// Env is the daemon's environment; nil means the caller's.
	Env []string
	// Wait bounds how long to wait for the new daemon to answer.
	Wait time.Duration
}

// Connect returns a client for socket, starting bangerd first when no daemon
// answers there. A stale socket file left by a dead daemon is replaced by the
// new daemon.
func Connect(ctx context.Context, socket string, opts StartOptions) (*Client, error) {
	c := New(socket)
	if _, err := c.Ping(ctx); err == nil {
		return c, nil
	} else if !isUnreachable(err) {
		return nil, err
	}
	if err := spawn(socket, opts); err != nil {
		return nil, err
	}
	wait := opts.Wait
	if wait == 0 {
		wait = 20 * time.Second
	}
	deadline := time.Now().Add(wait)
	var last error
	for time.Now().Before(deadline) {
		if _, err := c.Ping(ctx); err == nil {
			return c, nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("started bangerd but it did not answer on %s within %s (%v); see its log %s", socket, wait, last, opts.LogFile)
}

func isUnreachable(err error) bool {
	var de *DialError
	return errors.As(err, &de)
}

// spawn starts bangerd detached from this process: its own session, no
// controlling terminal, output to the log file. It survives the CLI.
func spawn(socket string, opts StartOptions) error {
	bin := opts.DaemonBin
	if bin == "" {
		return errors.New("bangerd is not running and its executable was not found; install banger with 'make install' or put bangerd next to banger")
	}
	if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if opts.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(opts.LogFile), 0o700); err != nil {
			return fmt.Errorf("create log dir: %w", err)
		}
	}
	cmd := detach.Cmd{Args: []string{bin, "--socket", socket}, Stdout: opts.LogFile}
	if opts.Env != nil {
		cmd.Env, cmd.ReplaceEnv = opts.Env, true
	}
	// Do not wait: the daemon outlives us.
	if _, err := detach.Start(cmd); err != nil {
		return fmt.Errorf("%w; check the path or reinstall banger", err)
	}
	return nil
}
