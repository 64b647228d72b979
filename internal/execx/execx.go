// Package execx is banger's single wrapper for running external programs.
//
// Every host command goes through Run: argv only (never a shell with user
// data), LANG=C so output is parseable, the context deadline honoured, and the
// program's stderr folded into the returned error so failures say why.
package execx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Cmd describes one program invocation.
type Cmd struct {
	// Args is the argv; Args[0] is the program (looked up in PATH).
	Args []string
	// Env is appended to the sanitised environment (KEY=VALUE entries).
	Env []string
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Stdin, when non-nil, is fed to the program.
	Stdin []byte
	// Stdout, when non-nil, also receives standard output as it is
	// written (for progress); Run still returns all of it.
	Stdout io.Writer
}

// Error is returned when a program fails to start or exits non-zero.
type Error struct {
	// Args is the argv that failed.
	Args []string
	// ExitCode is the exit status, or -1 when the program did not run.
	ExitCode int
	// Stderr is the trimmed standard error output (at most a few KiB).
	Stderr string
	// Err is the underlying error from os/exec.
	Err error
}

// Error renders "prog arg...: exit status N: stderr".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(strings.Join(quoteArgs(e.Args), " "))
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Stderr != "" {
		b.WriteString(": ")
		b.WriteString(e.Stderr)
	}
	return b.String()
}

// Unwrap exposes the os/exec error.
func (e *Error) Unwrap() error { return e.Err }

const maxStderr = 4096

// Run executes c and returns its standard output.
func Run(ctx context.Context, c Cmd) ([]byte, error) {
	if len(c.Args) == 0 {
		return nil, errors.New("execx: empty command")
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = append(baseEnv(), c.Env...)
	cmd.Dir = c.Dir
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(&stdout, c.Stdout)
	}
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return stdout.Bytes(), &Error{Args: c.Args, ExitCode: exitCode(err), Stderr: trimStderr(stderr.Bytes()), Err: err}
	}
	return stdout.Bytes(), nil
}

// Output is a shorthand for Run with only argv.
func Output(ctx context.Context, args ...string) ([]byte, error) {
	return Run(ctx, Cmd{Args: args})
}

// Check runs argv and discards stdout.
func Check(ctx context.Context, args ...string) error {
	_, err := Run(ctx, Cmd{Args: args})
	return err
}

// Have reports whether prog is found in PATH (or is an executable path).
func Have(prog string) bool {
	_, err := exec.LookPath(prog)
	return err == nil
}

func baseEnv() []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANGUAGE=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG=C", "LC_ALL=C")
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func trimStderr(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > maxStderr {
		s = "…" + s[len(s)-maxStderr:]
	}
	return s
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"") {
			out[i] = fmt.Sprintf("%q", a)
		} else {
			out[i] = a
		}
	}
	return out
}
