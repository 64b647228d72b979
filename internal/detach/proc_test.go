package detach

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestParseProcStatTrickyComm(t *testing.T) {
	// comm may contain spaces and parentheses; starttime is field 22.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654321 1000 10 18446744073709551615\n"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.state != 'S' || st.startTime != 987654321 {
		t.Fatalf("got state %c start %d", st.state, st.startTime)
	}
	for _, bad := range []string{"", "12 (x S 1", "12 (x) S 1 2 3", "12 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 nope 1"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", bad)
		}
	}
}

func TestProcStartTimeSelf(t *testing.T) {
	st, err := ProcStartTime(os.Getpid())
	if err != nil || st == 0 {
		t.Fatalf("ProcStartTime(self) = %d, %v", st, err)
	}
	if !ProcessAlive(os.Getpid(), st) {
		t.Error("self not alive")
	}
	if ProcessAlive(os.Getpid(), st+1) {
		t.Error("alive with a different start time (pid reuse not detected)")
	}
	if ProcessAlive(1<<22+7, st) {
		t.Error("missing pid reported alive")
	}
	if _, err := ProcStartTime(0); err == nil {
		t.Error("pid 0 accepted")
	}
}

func TestProcessAliveZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Wait() })
	// Not waited for: the child becomes a zombie once it exits.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := readProcStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if s.state == 'Z' {
			if ProcessAlive(pid, s.startTime) {
				t.Fatal("zombie reported alive")
			}
			if err := SignalProcess(pid, s.startTime, syscall.SIGTERM); !errors.Is(err, ErrNotRunning) {
				t.Fatalf("signal to zombie: %v", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child never became a zombie (state %c)", s.state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignalProcessChecksStartTime(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	st, err := ProcStartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := SignalProcess(cmd.Process.Pid, st+5, syscall.SIGKILL); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("signal with wrong start time: %v", err)
	}
	if !ProcessAlive(cmd.Process.Pid, st) {
		t.Fatal("process was signalled despite a start-time mismatch")
	}
	if err := SignalProcess(cmd.Process.Pid, st, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("wait: %v", err)
	}
}
