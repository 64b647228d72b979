// Package model is banger's domain: a VM with a typed state, the one table
// of which operation each state allows (and what the user is told when it
// does not), and the errors the daemon's operations return. It knows
// nothing of HTTP or SQL: the store persists these types and the HTTP edge
// projects them into the wire types of internal/api.
package model

import (
	"fmt"
	"strings"
)

// State is where a VM is in its life.
type State string

// The states of a VM.
const (
	// Creating: the record exists while create or clone builds its disks
	// and first boots it; only a daemon that died half-way leaves a VM
	// here, and adoption deletes it.
	Creating State = "creating"
	// Running: a VMM process runs the VM and it holds its runtime
	// resources (tap, NAT rules, overlay device, DNS record).
	Running State = "running"
	// Stopped: no VMM process and no runtime resource; the disks are kept.
	// A start or an adoption that failed leaves a VM here, with LastError
	// saying why (docs/decisions.md: there is no "error" state).
	Stopped State = "stopped"
	// Suspended: no VMM process; the guest's memory and device state is
	// saved in the VM's directory and a start resumes it.
	Suspended State = "suspended"
)

// States lists every state, in the order tables and tests walk them.
var States = []State{Creating, Running, Stopped, Suspended}

// Op is an operation on an existing VM that depends on its state.
type Op string

// The operations the transition table answers for.
const (
	// OpStart boots a stopped VM or resumes a suspended one.
	OpStart Op = "start"
	// OpStop powers a running VM off (restart is a stop then a start).
	OpStop Op = "stop"
	// OpKill signals a running VM's VMM process.
	OpKill Op = "kill"
	// OpSuspend saves a running VM's state and ends its VMM.
	OpSuspend Op = "suspend"
	// OpDelete removes a VM; OpForceDelete kills a running one first.
	OpDelete      Op = "delete"
	OpForceDelete Op = "delete --force"
	// OpResize changes vCPUs, memory or the work-disk size.
	OpResize Op = "set resources"
	// OpSetNAT turns NAT on or off.
	OpSetNAT Op = "set nat"
	// OpSnapshot copies a VM's disks (and its running state).
	OpSnapshot Op = "snapshot"
	// OpRestore puts a snapshot's disks back; OpForceRestore stops a
	// running VM first.
	OpRestore      Op = "restore"
	OpForceRestore Op = "restore --force"
	// OpClone makes a new VM from this one's disks.
	OpClone Op = "clone"
	// OpSaveImage saves the root disk as an image; OpStopSaveImage powers a
	// running VM off first.
	OpSaveImage     Op = "image save"
	OpStopSaveImage Op = "image save --stop"
)

// Ops lists every operation, in the order tables and tests walk them.
var Ops = []Op{OpStart, OpStop, OpKill, OpSuspend, OpDelete, OpForceDelete, OpResize, OpSetNAT,
	OpSnapshot, OpRestore, OpForceRestore, OpClone, OpSaveImage, OpStopSaveImage}

// Gone is the "state" after a delete.
const Gone State = ""

// rule is one cell of the table: an allowed operation and the state it
// leaves the VM in, or the refusal the user sees. Refusals may use {name},
// {state}, {vcpus} and {memory}.
type rule struct {
	to     State
	refuse string
}

func to(s State) rule        { return rule{to: s} }
func refuse(msg string) rule { return rule{refuse: msg} }
func (r rule) allowed() bool { return r.refuse == "" }

// stillCreating is the answer for every operation but delete on a VM that
// is being created.
var stillCreating = refuse("{name} is still being created; wait for it or delete it")

// table is the one list of which operation each state allows. Every
// operation asks it (VM.Allows) before it changes anything, so the same
// case gets the same words everywhere.
var table = map[Op]map[State]rule{
	OpStart: {
		Creating:  stillCreating,
		Running:   refuse("{name} is already running; use 'banger vm restart {name}' to reboot it"),
		Stopped:   to(Running),
		Suspended: to(Running),
	},
	OpStop: {
		Creating:  stillCreating,
		Running:   to(Stopped),
		Stopped:   refuse("{name} is not running (state {state}); nothing to stop"),
		Suspended: refuse("{name} is suspended: 'banger vm start {name}' resumes it, 'banger vm start --cold {name}' discards its saved state and boots it"),
	},
	OpKill: {
		Creating:  stillCreating,
		Running:   to(Stopped),
		Stopped:   refuse("{name} is not running; nothing to signal"),
		Suspended: refuse("{name} is not running; nothing to signal"),
	},
	OpSuspend: {
		Creating:  stillCreating,
		Running:   to(Suspended),
		Stopped:   refuse("{name} is {state}: only a running VM can be suspended"),
		Suspended: refuse("{name} is already suspended; 'banger vm resume {name}' continues it"),
	},
	OpDelete: {
		Creating:  to(Gone),
		Running:   refuse("{name} is running; stop it first with 'banger vm stop {name}' or pass --force"),
		Stopped:   to(Gone),
		Suspended: to(Gone),
	},
	OpForceDelete: {Creating: to(Gone), Running: to(Gone), Stopped: to(Gone), Suspended: to(Gone)},
	OpResize: {
		Creating:  stillCreating,
		Running:   refuse("{name} is running: memory, vcpu and disk size can only change while it is stopped; run 'banger vm stop {name}' first (--nat/--no-nat work while running)"),
		Stopped:   to(Stopped),
		Suspended: refuse("{name} is suspended: its saved state is for {vcpus} vCPUs, {memory} MiB and the current disks, so memory, vcpu and disk size cannot change; resume and stop it first, or discard the state with 'banger vm start --cold {name}'"),
	},
	OpSetNAT:   {Creating: stillCreating, Running: to(Running), Stopped: to(Stopped), Suspended: to(Suspended)},
	OpSnapshot: {Creating: stillCreating, Running: to(Running), Stopped: to(Stopped), Suspended: to(Suspended)},
	OpRestore: {
		Creating:  stillCreating,
		Running:   refuse("{name} is running; restoring replaces its disks: pass --force to stop it first"),
		Stopped:   to(Stopped),
		Suspended: to(Stopped),
	},
	OpForceRestore: {Creating: stillCreating, Running: to(Stopped), Stopped: to(Stopped), Suspended: to(Stopped)},
	OpClone: {
		Creating:  stillCreating,
		Running:   refuse("{name} is {state}: clone a stopped or suspended VM ('banger vm stop {name}' or 'banger vm suspend {name}' first)"),
		Stopped:   to(Stopped),
		Suspended: to(Suspended),
	},
	OpSaveImage: {
		Creating:  stillCreating,
		Running:   refuse("{name} is running; stop it first ('banger vm stop {name}') or pass --stop"),
		Stopped:   to(Stopped),
		Suspended: refuse("{name} is {state}; save needs a stopped VM"),
	},
	OpStopSaveImage: {
		Creating:  stillCreating,
		Running:   to(Stopped),
		Stopped:   to(Stopped),
		Suspended: refuse("{name} is {state}; save needs a stopped VM"),
	},
}

// Allows is nil when v's state allows op, else the conflict error the user
// sees, naming what to do instead.
func (v *VM) Allows(op Op) error {
	r, ok := table[op][v.State]
	if !ok {
		return Conflict("%s is in an unknown state %q; see 'banger vm show %s'", v.Name, v.State, v.Name)
	}
	if r.allowed() {
		return nil
	}
	return Conflict("%s", strings.NewReplacer(
		"{name}", v.Name, "{state}", string(v.State),
		"{vcpus}", fmt.Sprint(v.VCPUs), "{memory}", fmt.Sprint(v.MemoryMiB),
	).Replace(r.refuse))
}

// After is the state op leaves a VM in that starts in from, and whether
// the table allows op there at all. Gone means deleted. Operations with
// more than one outcome report the plain one: a kill with a signal that
// does not end the VMM leaves it running, a restore of a snapshot with
// memory leaves it suspended.
func After(from State, op Op) (State, bool) {
	r, ok := table[op][from]
	return r.to, ok && r.allowed()
}
