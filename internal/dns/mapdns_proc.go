package dns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/bangerdev/banger/internal/detach"
)

// proc is the mapdns process a Mapdns signals: adopted from the pid file or
// started by Start (then owned and stopped by Close).
type proc struct {
	pid   int
	start uint64
	owned *detach.Process
}

// mapdnsStartTimeout bounds how long Start waits for a started mapdns to
// answer queries.
const mapdnsStartTimeout = 10 * time.Second

// Start makes sure a mapdns serves DataFile: it adopts the process named by
// PidFile when that process runs Bin, else it starts Bin as
//
//	<mapdns_bin> --data-file <DataFile> [--listen <Listen>]
//
// in its own session (output to LogFile), writes PidFile and waits until it
// answers a query on Listen (when set). The data file is created ("{}") first
// because mapdns reads it on start.
func (m *Mapdns) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc.pid != 0 && detach.ProcessAlive(m.proc.pid, m.proc.start) {
		return nil
	}
	m.proc = proc{}
	if err := m.rewrite(func(map[string]map[string]json.RawMessage) {}); err != nil {
		return err
	}
	if pid, st, ok := m.running(); ok {
		m.proc.pid, m.proc.start = pid, st
		return nil
	}
	bin, err := exec.LookPath(m.bin())
	if err != nil {
		return fmt.Errorf("start mapdns: program %q not found: install mapdns, set mapdns_bin, or use dns = \"builtin\"", m.bin())
	}
	args := []string{bin, "--data-file", m.DataFile}
	if m.Listen.IsValid() {
		args = append(args, "--listen", m.Listen.String())
	}
	logFile := m.logFile()
	p, err := detach.Start(detach.Cmd{Args: args, Stdout: logFile})
	if err != nil {
		return fmt.Errorf("start mapdns: %w", err)
	}
	m.proc = proc{pid: p.PID, start: p.StartTime, owned: p}
	err = writePidFile(m.PidFile, p.PID)
	if err == nil {
		err = m.waitReady(ctx, p)
	}
	if err != nil {
		m.stopLocked()
		if tail := detach.TailFile(logFile, 600); tail != "" {
			err = fmt.Errorf("%w; its log %s ends: %s", err, logFile, tail)
		}
		return err
	}
	return nil
}

// waitReady waits until p answers a DNS query on Listen; without Listen it
// only checks that p did not exit at once.
func (m *Mapdns) waitReady(ctx context.Context, p *detach.Process) error {
	ctx, cancel := context.WithTimeout(ctx, mapdnsStartTimeout)
	defer cancel()
	c := &mdns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	q := new(mdns.Msg)
	q.SetQuestion("banger-mapdns-probe.invalid.", mdns.TypeA)
	for {
		if !m.Listen.IsValid() {
			select {
			case <-p.Exited():
			case <-time.After(300 * time.Millisecond):
				return nil
			}
		} else if _, _, err := c.ExchangeContext(ctx, q, m.Listen.String()); err == nil {
			return nil
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("start mapdns: %s exited: %v", m.bin(), p.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("start mapdns: no answer on %s within %s: check mapdns_bin and that the address is free", m.Listen, mapdnsStartTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops the mapdns process Start started (SIGTERM, then SIGKILL after
// 5s) and removes its pid file. A mapdns banger adopted keeps running.
func (m *Mapdns) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopLocked()
}

func (m *Mapdns) stopLocked() error {
	p := m.proc.owned
	m.proc = proc{}
	if p == nil {
		return nil
	}
	_ = detach.SignalProcess(p.PID, p.StartTime, syscall.SIGTERM)
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second):
		_ = detach.SignalProcess(p.PID, p.StartTime, syscall.SIGKILL)
		<-p.Exited()
	}
	if pid, err := readPidFile(m.PidFile); err == nil && pid == p.PID {
		_ = os.Remove(m.PidFile)
	}
	return nil
}

// Running reports the pid of the mapdns banger signals (0: none known).
func (m *Mapdns) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc.pid != 0 && detach.ProcessAlive(m.proc.pid, m.proc.start) {
		return m.proc.pid
	}
	return 0
}

// reload sends SIGHUP to mapdns. Without a known process it adopts one from
// the pid file; with none running it does nothing (mapdns reads the file on
// start). A process that was known and has died is an error.
func (m *Mapdns) reload() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc.pid == 0 {
		pid, st, ok := m.running()
		if !ok {
			return nil
		}
		m.proc.pid, m.proc.start = pid, st
	}
	err := detach.SignalProcess(m.proc.pid, m.proc.start, syscall.SIGHUP)
	if errors.Is(err, detach.ErrNotRunning) {
		pid := m.proc.pid
		m.proc = proc{}
		return fmt.Errorf("mapdns (pid %d) is no longer running: records are in %s but not served; restart bangerd or mapdns", pid, m.DataFile)
	}
	if err != nil {
		return fmt.Errorf("signal mapdns to reload: %w", err)
	}
	return nil
}

// running returns the process named by the pid file when it runs the mapdns
// program (its executable or argv[0] has Bin's base name), so a stale pid
// reused by another process is never signalled.
func (m *Mapdns) running() (int, uint64, bool) {
	pid, err := readPidFile(m.PidFile)
	if err != nil {
		return 0, 0, false
	}
	want := filepath.Base(m.bin())
	names := []string{}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil {
		names = append(names, filepath.Base(strings.TrimSuffix(exe, " (deleted)")))
	}
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		argv0, _, _ := strings.Cut(string(cmd), "\x00")
		names = append(names, filepath.Base(argv0))
	}
	for _, n := range names {
		if n == want {
			st, err := detach.ProcStartTime(pid)
			return pid, st, err == nil
		}
	}
	return 0, 0, false
}

func (m *Mapdns) logFile() string {
	if m.LogFile != "" {
		return m.LogFile
	}
	return filepath.Join(filepath.Dir(m.DataFile), "mapdns.log")
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: no pid", path)
	}
	return pid, nil
}

func writePidFile(path string, pid int) error {
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write mapdns pid file: %w", err)
	}
	return nil
}
