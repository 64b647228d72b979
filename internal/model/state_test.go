package model

import (
	"strings"
	"testing"
)

// TestTableCoversEveryStateAndOp: every operation has an answer for every
// state, a refusal names the VM and is one line, and an allowed operation
// leaves the VM in a known state.
func TestTableCoversEveryStateAndOp(t *testing.T) {
	if len(table) != len(Ops) {
		t.Fatalf("table has %d operations, Ops lists %d", len(table), len(Ops))
	}
	known := map[State]bool{Gone: true}
	for _, s := range States {
		known[s] = true
	}
	for _, op := range Ops {
		if len(table[op]) != len(States) {
			t.Errorf("%s answers for %d states, want %d", op, len(table[op]), len(States))
		}
		for _, s := range States {
			v := &VM{Name: "calm-otter", State: s, VCPUs: 2, MemoryMiB: 1024}
			err := v.Allows(op)
			next, ok := After(s, op)
			if (err == nil) != ok {
				t.Errorf("%s in %s: Allows says %v, After says allowed=%v", op, s, err, ok)
			}
			if err != nil {
				msg := err.Error()
				if KindOf(err) != KindConflict || !strings.HasPrefix(msg, "calm-otter ") ||
					strings.Contains(msg, "{") || strings.Contains(msg, "\n") {
					t.Errorf("%s in %s: refusal %q is not a one-line conflict naming the VM", op, s, msg)
				}
				continue
			}
			if !known[next] {
				t.Errorf("%s in %s leads to unknown state %q", op, s, next)
			}
		}
	}
}

// TestRefusalWords pins the refusals users and scripts see (e2e checks the
// same words through the CLI) and that one case reads the same for every
// operation.
func TestRefusalWords(t *testing.T) {
	cases := []struct {
		state State
		op    Op
		want  string
	}{
		{Running, OpStart, "web is already running; use 'banger vm restart web' to reboot it"},
		{Running, OpDelete, "web is running; stop it first with 'banger vm stop web' or pass --force"},
		{Running, OpResize, "web is running: memory, vcpu and disk size can only change while it is stopped; run 'banger vm stop web' first (--nat/--no-nat work while running)"},
		{Suspended, OpResize, "web is suspended: its saved state is for 2 vCPUs, 1024 MiB and the current disks, so memory, vcpu and disk size cannot change; resume and stop it first, or discard the state with 'banger vm start --cold web'"},
		{Stopped, OpStop, "web is not running (state stopped); nothing to stop"},
		{Stopped, OpSuspend, "web is stopped: only a running VM can be suspended"},
		{Running, OpClone, "web is running: clone a stopped or suspended VM ('banger vm stop web' or 'banger vm suspend web' first)"},
		{Suspended, OpSaveImage, "web is suspended; save needs a stopped VM"},
	}
	for _, c := range cases {
		v := &VM{Name: "web", State: c.state, VCPUs: 2, MemoryMiB: 1024}
		if err := v.Allows(c.op); err == nil || err.Error() != c.want {
			t.Errorf("%s in %s: %v\nwant %s", c.op, c.state, err, c.want)
		}
	}
	creating := &VM{Name: "web", State: Creating}
	for _, op := range Ops {
		if op == OpDelete || op == OpForceDelete {
			if err := creating.Allows(op); err != nil {
				t.Errorf("%s of a VM being created: %v; want it allowed (adoption removes such VMs)", op, err)
			}
			continue
		}
		if err := creating.Allows(op); err == nil || err.Error() != "web is still being created; wait for it or delete it" {
			t.Errorf("%s of a VM being created: %v", op, err)
		}
	}
}

func TestUnknownStateIsRefused(t *testing.T) {
	v := &VM{Name: "web", State: "error"}
	if err := v.Allows(OpStart); KindOf(err) != KindConflict || !strings.Contains(err.Error(), "unknown state") {
		t.Fatalf("start in an unknown state: %v", err)
	}
}
