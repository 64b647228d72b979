package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/steps"
	"github.com/bangerdev/banger/internal/vmm"
)

// boot is one start of a VM, fresh or from a saved state: the steps that
// bring up its host resources and VMM process and, with wait, wait until
// SSH authenticates. Create and clone run them after their own steps in one
// list, so one runner numbers, undoes and times the whole operation. A
// failed boot leaves the VM stopped with nothing attached.
type boot struct {
	d   *vms
	v   *model.VM
	run *steps.Runner
	rep api.Reporter
	drv vmm.Driver
	// wait waits for SSH; incoming is the saved state directory to resume
	// from ("" boots the kernel).
	wait     bool
	incoming string
	// ready is when the guest signalled readiness and how; verified when
	// the SSH check passed.
	ready, verified time.Time
	signal          string
	// started is the VMM process startVMM started, for killVMM: the record
	// step's undo, which runs first, clears v.Handle.
	started *vmm.Handle
}

// newBoot prepares a boot of v reported to rep and timed by run; v may be
// filled in by steps that run before the boot's.
func (d *vms) newBoot(v *model.VM, run *steps.Runner, rep api.Reporter, wait bool, incoming string) (*boot, error) {
	drv, err := d.driverNamed(d.driver)
	if err != nil {
		return nil, err
	}
	return &boot{d: d, v: v, run: run, rep: rep, drv: drv, wait: wait, incoming: incoming}, nil
}

// steps lists the boot. Its first numbered step announces the VMM start
// (the runtime resources the VMM needs come first), the second, with wait,
// the wait for SSH.
func (b *boot) steps() []steps.Step {
	d := b.d
	resources := func(afterVMM bool) []steps.Step {
		var out []steps.Step
		for _, res := range d.res.runtimeResources() {
			if res.afterVMM != afterVMM {
				continue
			}
			out = append(out, steps.Step{Name: res.name,
				Do: func(ctx context.Context) error {
					if err := res.attach(ctx, &attachment{v: b.v}); err != nil {
						return fmt.Errorf("start %s: %s: %w", b.v.Name, res.name, err)
					}
					return nil
				},
				Undo: func() error { return res.detach(context.Background(), b.v) }})
		}
		return out
	}
	out := resources(false)
	out[0].Label = func() string { return "starting " + b.drv.Name() + " VM on " + b.v.Tap }
	out = append(out,
		steps.Step{Name: "vmm", Do: b.startVMM, Undo: b.killVMM},
		steps.Step{Name: "record", Do: b.recordRunning, Undo: func() error {
			b.v.State, b.v.Handle = model.Stopped, nil
			return d.store.UpdateVM(context.Background(), b.v)
		}},
		steps.Step{Name: "pin", Do: func(context.Context) error { return d.guests.pinHostKey(b.v) }},
	)
	out = append(out, resources(true)...)
	if b.wait {
		out = append(out, steps.Step{Name: "ssh", Label: func() string { return "waiting for SSH on " + b.v.IP }, Do: b.waitReady})
	}
	return append(out, steps.Step{Name: "timings", Do: b.recordTimings})
}

// startVMM starts the VMM process: a fresh console log per boot keeps 'vm
// logs' about the current boot; a resumed guest continues its log.
func (b *boot) startVMM(ctx context.Context) error {
	v := b.v
	if b.incoming == "" {
		_ = os.Remove(v.ConsoleLog())
	}
	spec := b.d.spec(v)
	spec.IncomingState = b.incoming
	if !b.wait {
		// Nobody will verify SSH and send the release datagram: the guest
		// must not hold the rest of its boot for it.
		spec.Cmdline += " " + noHoldArg
	}
	h, err := b.drv.Start(ctx, spec)
	if err != nil {
		return fmt.Errorf("start %s: %s: %w", v.Name, b.drv.Name(), err)
	}
	v.Handle, b.started = &h, &h
	return nil
}

// killVMM undoes startVMM.
func (b *boot) killVMM() error {
	if h := b.started; h != nil {
		_ = b.drv.Kill(*h, 9)
		waitExit(b.drv, *h, 5*time.Second)
	}
	b.v.Handle, b.started = nil, nil
	return nil
}

// recordRunning records the VM running with its VMM handle.
func (b *boot) recordRunning(ctx context.Context) error {
	v := b.v
	v.State, v.Driver, v.StartedAt, v.LastError = model.Running, b.drv.Name(), time.Now(), ""
	return b.d.store.UpdateVM(ctx, v)
}

// waitReady waits until the guest's SSH proves the pinned host key and
// accepts the user's key, then releases the rest of its boot.
func (b *boot) waitReady(ctx context.Context) error {
	d, v := b.d, b.v
	var err error
	if b.incoming != "" {
		// A resumed guest runs already: its one SSH login both proves it
		// and sets its clock (a second connection would double the cost,
		// which after a restore is TCG retranslating sshd).
		b.ready, b.signal = time.Now(), signalResume
		err = d.guests.syncGuestClock(ctx, v, b.rep)
	} else {
		b.ready, b.signal, err = d.guests.waitGuestReady(ctx, v)
	}
	if err != nil {
		tail := consoleTail(v.ConsoleLog(), 15)
		return fmt.Errorf("start %s: guest did not become ready over SSH: %w\nlast console lines:\n%s", v.Name, err, tail)
	}
	b.verified = time.Now()
	if b.incoming == "" {
		if err := releaseBoot(net.JoinHostPort(v.IP, strconv.Itoa(bootReleasePort))); err != nil {
			d.log.Debug("release guest boot", "vm", v.Name, "err", err)
		}
	}
	return nil
}

// recordTimings stores the boot's timings, read from the runner's spans.
func (b *boot) recordTimings(ctx context.Context) error {
	t := b.clock().timings(time.Now())
	b.v.BootTimings = &t
	if err := b.d.store.UpdateVM(ctx, b.v); err != nil {
		return err
	}
	if b.wait {
		b.rep.Logf("ssh ready: host %d ms, guest %d ms, ready check %d ms (handshake %d ms, %s signal)", t.HostMS, t.GuestMS, t.ReadyMS, t.HandshakeMS, t.Signal)
	}
	return nil
}

// clock gathers the instants of this boot from the runner: the request,
// the host steps before the VMM, the VMM start and spawn, and the ready
// signal.
func (b *boot) clock() *bootClock {
	c := &bootClock{start: b.run.Start(), ready: b.ready, verified: b.verified, signal: b.signal}
	at, ok := b.run.StartOf("vmm")
	if !ok {
		return c
	}
	c.vmm = at
	c.steps = map[string]int64{}
	var host time.Duration
	for name, d := range b.run.TimeIn(at) {
		c.steps[name] = d.Microseconds()
		host += d
	}
	c.steps["other"] = (at.Sub(c.start) - host).Microseconds()
	for _, s := range b.run.Spans() {
		if s.Name == "vmm" {
			c.spawned = s.End
			break
		}
	}
	return c
}
