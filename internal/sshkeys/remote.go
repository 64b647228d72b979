package sshkeys

import (
	"context"
	"io"
)

// Remote is what the daemon needs to talk to a VM over SSH, so it can be
// replaced in unit tests. Client is the real implementation; for a real
// server in tests see package sshtest.
type Remote interface {
	// WaitReady waits until the VM passes an SSH probe: the pinned host key
	// proven and the user's key accepted (see sshkeys.WaitReady).
	WaitReady(ctx context.Context, t Target) error
	// Exec runs a command and returns its exit code.
	Exec(ctx context.Context, t Target, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
}

// Client is the real Remote, using golang.org/x/crypto/ssh.
type Client struct{}

var _ Remote = Client{}

// WaitReady calls the package function WaitReady.
func (Client) WaitReady(ctx context.Context, t Target) error { return WaitReady(ctx, t, nil) }

// Exec calls the package function Exec.
func (Client) Exec(ctx context.Context, t Target, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return Exec(ctx, t, cmd, stdin, stdout, stderr)
}
