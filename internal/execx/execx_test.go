package execx

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunCapturesStdoutAndEnv(t *testing.T) {
	out, err := Run(context.Background(), Cmd{Args: []string{"sh", "-c", `printf '%s %s' "$LANG" "$X"`}, Env: []string{"X=y"}})
	if err != nil || string(out) != "C y" {
		t.Fatalf("out %q err %v", out, err)
	}
}

func TestFailureCarriesStderrAndExitCode(t *testing.T) {
	_, err := Run(context.Background(), Cmd{Args: []string{"sh", "-c", "echo boom >&2; exit 3"}})
	var ee *Error
	if !errors.As(err, &ee) || ee.ExitCode != 3 || ee.Stderr != "boom" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "exit status 3: boom") {
		t.Fatalf("message %q lacks the status and stderr", err)
	}
}

func TestDeadlineIsHonoured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Check(ctx, "sleep", "5")
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error does not say the deadline passed: %v", err)
	}
}

func TestMissingProgram(t *testing.T) {
	if Have("banger-no-such-program") {
		t.Fatal("Have found a missing program")
	}
	var ee *Error
	if err := Check(context.Background(), "banger-no-such-program"); !errors.As(err, &ee) || ee.ExitCode != -1 {
		t.Fatalf("err = %v", err)
	}
}
