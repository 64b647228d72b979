package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/vmm"
)

// fakeQMP is a QMP server on a unix socket that behaves like qemu for the
// commands banger uses: capabilities negotiation is required first, events
// may precede replies, unknown commands fail with CommandNotFound.
type fakeQMP struct {
	path string
	ln   net.Listener

	mu        sync.Mutex
	commands  []string
	powerdown int
}

func newFakeQMP(t *testing.T) *fakeQMP {
	t.Helper()
	dir, err := os.MkdirTemp("", "bgtqmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeQMP{path: filepath.Join(dir, "qmp.sock")}
	f.ln, err = net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.ln.Close() })
	go f.serve()
	return f
}

func (f *fakeQMP) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.handle(c)
	}
}

func (f *fakeQMP) handle(c net.Conn) {
	defer c.Close()
	w := bufio.NewWriter(c)
	send := func(v any) {
		b, _ := json.Marshal(v)
		w.Write(append(b, '\n'))
		w.Flush()
	}
	fail := func(class, desc string) {
		send(map[string]any{"error": map[string]string{"class": class, "desc": desc}})
	}
	send(map[string]any{"QMP": map[string]any{"version": map[string]any{"qemu": map[string]int{"major": 7, "minor": 2, "micro": 0}}, "capabilities": []string{"oob"}}})
	negotiated := false
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		var req struct {
			Execute   string          `json:"execute"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			fail("GenericError", "JSON parse error")
			continue
		}
		f.mu.Lock()
		f.commands = append(f.commands, req.Execute)
		f.mu.Unlock()
		if !negotiated && req.Execute != "qmp_capabilities" {
			fail("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'")
			continue
		}
		switch req.Execute {
		case "qmp_capabilities":
			negotiated = true
			send(map[string]any{"return": map[string]any{}})
		case "query-status":
			send(map[string]any{"event": "RESUME", "timestamp": map[string]int{"seconds": 1}})
			send(map[string]any{"return": map[string]any{"status": "running", "running": true, "singlestep": false}})
		case "query-blockstats":
			send(map[string]any{"return": []map[string]any{
				{"device": "drive-rootfs", "stats": map[string]any{"rd_bytes": 4096, "wr_bytes": 512, "rd_operations": 2, "wr_operations": 1}},
				{"device": "", "node-name": "x", "stats": map[string]any{"rd_bytes": 1}},
				{"device": "drive-work", "stats": map[string]any{"rd_bytes": 10, "wr_bytes": 20, "rd_operations": 3, "wr_operations": 4}},
			}})
		case "system_powerdown":
			f.mu.Lock()
			f.powerdown++
			f.mu.Unlock()
			send(map[string]any{"return": map[string]any{}})
			send(map[string]any{"event": "POWERDOWN", "timestamp": map[string]int{"seconds": 2}})
		case "stall":
			time.Sleep(2 * time.Second)
		default:
			fail("CommandNotFound", fmt.Sprintf("The command %s has not been found", req.Execute))
		}
	}
}

func TestQMPClient(t *testing.T) {
	f := newFakeQMP(t)
	ctx := t.Context()
	c, err := DialQMP(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var si statusInfo
	if err := c.Execute(ctx, "query-status", nil, &si); err != nil {
		t.Fatal(err)
	}
	if si.Status != "running" || !si.Running {
		t.Errorf("status %+v", si)
	}
	err = c.Execute(ctx, "no-such-command", map[string]int{"x": 1}, nil)
	var qe *QMPError
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("unknown command: %v", err)
	}
	// The connection is still usable after an error reply.
	if err := c.Execute(ctx, "system_powerdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	// The POWERDOWN event after the reply must not confuse the next command.
	st, err := query(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []vmm.BlockStats{
		{Drive: "rootfs", ReadBytes: 4096, WriteBytes: 512, ReadOps: 2, WriteOps: 1},
		{Drive: "work", ReadBytes: 10, WriteBytes: 20, ReadOps: 3, WriteOps: 4},
	}
	if st.State != "running" || len(st.Blocks) != 2 || st.Blocks[0] != want[0] || st.Blocks[1] != want[1] {
		t.Errorf("query = %+v", st)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.commands[0] != "qmp_capabilities" {
		t.Errorf("first command %q, want qmp_capabilities", f.commands[0])
	}
}

func TestQMPDeadline(t *testing.T) {
	f := newFakeQMP(t)
	c, err := DialQMP(t.Context(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Execute(ctx, "stall", nil, nil); err == nil {
		t.Fatal("stalled command returned no error")
	}
	if time.Since(start) > time.Second {
		t.Errorf("deadline not honoured: %v", time.Since(start))
	}
}

func TestQMPDialErrors(t *testing.T) {
	_, err := DialQMP(t.Context(), filepath.Join(t.TempDir(), "none.sock"))
	if err == nil || !strings.Contains(err.Error(), "connect to qmp socket") {
		t.Errorf("missing socket: %v", err)
	}
	// A server that does not speak QMP.
	dir, _ := os.MkdirTemp("", "bgtqmp")
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("{\"hello\": 1}\n"))
			time.Sleep(time.Second)
			c.Close()
		}
	}()
	if _, err := DialQMP(t.Context(), p); err == nil || !strings.Contains(err.Error(), "greet") {
		t.Errorf("non-qmp server: %v", err)
	}
}

func TestDriverShutdownAndQueryViaHandle(t *testing.T) {
	f := newFakeQMP(t)
	// A handle pointing at this test process: alive, with the fake socket.
	st, err := detach.ProcStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	h := vmm.Handle{Driver: Name, PID: os.Getpid(), StartTime: st, ControlSocket: f.path, Accel: "tcg"}
	d := New("")
	if !d.Alive(h) {
		t.Fatal("handle of this process not alive")
	}
	if err := d.Shutdown(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	if s, err := Query(t.Context(), h); err != nil || !s.Running {
		t.Fatalf("Query = %+v, %v", s, err)
	}
	f.mu.Lock()
	n := f.powerdown
	f.mu.Unlock()
	if n != 1 {
		t.Errorf("system_powerdown sent %d times", n)
	}
	dead := h
	dead.StartTime++
	if err := d.Shutdown(t.Context(), dead); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("shutdown of a dead handle: %v", err)
	}
}
