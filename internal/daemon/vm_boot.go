package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/revert"
	"github.com/bangerdev/banger/internal/vmm"
)

// sshReadyTimeout bounds the wait for a passing SSH probe (sshkeys.Probe).
const sshReadyTimeout = 5 * time.Minute

// kernelCmdline is the per-VM part of the kernel command line (see
// docs/guest-contract.md).
func (d *Daemon) kernelCmdline(v *model.VM) string {
	gw := network.Gateway(d.subnet)
	return fmt.Sprintf("banger.name=%s banger.ip=%s/%d banger.gw=%s banger.dns=%s",
		v.Name, v.IP, d.subnet.Bits(), gw, gw)
}

// spec builds the VMM spec for v.
func (d *Daemon) spec(v *model.VM) vmm.Spec {
	kernel := v.Kernel
	return vmm.Spec{
		Name: v.Name, Dir: v.Dir, Kernel: kernel, Initrd: v.Initrd, Cmdline: d.kernelCmdline(v),
		VCPUs: v.VCPUs, MemoryMiB: v.MemoryMiB,
		Drives: []vmm.Drive{
			{ID: "rootfs", Path: overlayDiskPath(v), Format: v.OverlayFormat, Root: true},
			{ID: "work", Path: v.WorkDisk, Format: "raw"},
		},
		Net:        &vmm.NetIface{Tap: v.Tap, MAC: v.MAC},
		ConsoleLog: v.ConsoleLog(),
	}
}

func overlayDiskPath(v *model.VM) string {
	if v.OverlayDevice != "" {
		return v.OverlayDevice
	}
	return v.OverlayPath
}

// bootVM brings up the VM's host resources and VMM process, then (with
// wait) waits until SSH authenticates. On failure it undoes what it did and
// leaves the VM stopped. Steps are numbered from first of total.
func (d *Daemon) bootVM(ctx context.Context, v *model.VM, wait bool, rep api.Reporter, first, total int) (*model.VM, error) {
	return d.bootVMFrom(ctx, v, "", wait, rep, first, total)
}

// bootVMFrom is bootVM; with incoming set the VMM loads the saved state in
// that directory instead of booting the kernel (see resumeVM).
func (d *Daemon) bootVMFrom(ctx context.Context, v *model.VM, incoming string, wait bool, rep api.Reporter, first, total int) (*model.VM, error) {
	drv, err := d.driverFor(v)
	if err != nil {
		return nil, err
	}
	r := revert.New()
	defer r.Fail()
	rep.Step(first, total, "starting "+drv.Name()+" VM on "+v.Tap)
	a := &attachment{v: v}
	if err := d.attachResources(ctx, a, false, r); err != nil {
		return nil, err
	}
	// A fresh console log per boot keeps 'vm logs' about the current boot;
	// a resumed guest continues its log.
	if incoming == "" {
		_ = os.Remove(v.ConsoleLog())
	}
	spec := d.spec(v)
	spec.IncomingState = incoming
	if !wait {
		// Nobody will verify SSH and send the release datagram: the guest
		// must not hold the rest of its boot for it.
		spec.Cmdline += " " + noHoldArg
	}
	clk := clockOf(ctx)
	clk.vmmStarting()
	h, err := drv.Start(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("start %s: %s: %w", v.Name, drv.Name(), err)
	}
	clk.spawned = time.Now()
	r.Add("kill vmm", func() error {
		_ = drv.Kill(h, 9)
		waitExit(drv, h, 5*time.Second)
		return nil
	})
	v.Handle, v.State, v.Driver, v.StartedAt, v.LastError = &h, model.Running, drv.Name(), time.Now(), ""
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	r.Add("mark stopped", func() error {
		v.State, v.Handle = model.Stopped, nil
		return d.store.UpdateVM(context.Background(), v)
	})
	if err := d.pinHostKey(v); err != nil {
		return nil, err
	}
	if err := d.attachResources(ctx, a, true, r); err != nil {
		return nil, err
	}

	if wait {
		rep.Step(first+1, total, "waiting for SSH on "+v.IP)
		var (
			at  time.Time
			how string
			err error
		)
		if incoming != "" {
			// A resumed guest runs already: its one SSH login both proves
			// it and sets its clock (a second connection would double the
			// cost, which after a restore is TCG retranslating sshd).
			at, how = time.Now(), signalResume
			err = d.syncGuestClock(ctx, v, rep)
		} else {
			at, how, err = d.waitGuestReady(ctx, v)
		}
		if err != nil {
			tail := consoleTail(v.ConsoleLog(), 15)
			return nil, fmt.Errorf("start %s: guest did not become ready over SSH: %w\nlast console lines:\n%s", v.Name, err, tail)
		}
		clk.ready, clk.signal, clk.verified = at, how, time.Now()
		if incoming == "" {
			if err := releaseBoot(net.JoinHostPort(v.IP, strconv.Itoa(bootReleasePort))); err != nil {
				d.log.Debug("release guest boot", "vm", v.Name, "err", err)
			}
		}
	}
	t := clk.timings(time.Now())
	v.BootTimings = &t
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	if wait {
		rep.Logf("ssh ready: host %d ms, guest %d ms, ready check %d ms (handshake %d ms, %s signal)", t.HostMS, t.GuestMS, t.ReadyMS, t.HandshakeMS, t.Signal)
	}
	r.Success()
	return v, nil
}

// waitExit polls until h is gone or limit passes.
func waitExit(drv vmm.Driver, h vmm.Handle, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !drv.Alive(h) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !drv.Alive(h)
}

// consoleTail returns the last n lines of the console log.
func consoleTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no console output: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startVM boots a stopped VM or resumes a suspended one (cold: discard the
// saved state and boot).
func (d *Daemon) startVM(ctx context.Context, name string, wait, cold bool, rep api.Reporter) (*api.VM, error) {
	ctx = withBootClock(ctx)
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := v.Allows(model.OpStart); err != nil {
		return nil, err
	}
	if v.State == model.Suspended {
		if !cold {
			return d.resumeVM(ctx, v, wait, rep)
		}
		if err := d.discardState(ctx, v); err != nil {
			return nil, err
		}
		rep.Logf("discarded the saved state of %s; booting it afresh", name)
	}
	if err := d.preflightStart(v.Kernel, v.BaseImage, v.NAT); err != nil {
		return nil, err
	}
	clockOf(ctx).mark("preflight")
	if _, err := d.bootVM(ctx, v, wait, rep, 1, 2); err != nil {
		// bootVM's undo left it stopped; say why (there is no error state).
		v.LastError = err.Error()
		if uerr := d.store.UpdateVM(context.Background(), v); uerr != nil {
			d.log.Error("record failed start", "vm", v.Name, "err", uerr)
		}
		return nil, err
	}
	out := d.toAPI(v)
	return &out, nil
}

// addNAT adds v's NAT rule out of the host's default-route interface.
func (d *Daemon) addNAT(ctx context.Context, v *model.VM) error {
	if d.fw == nil {
		return fmt.Errorf("no usable firewall: %v", d.fwErr)
	}
	rule, err := d.natRule(v)
	if err != nil {
		return err
	}
	if err := d.host.EnableForwarding(); err != nil {
		return err
	}
	if err := d.fw.EnsureBase(ctx, d.cfg.BridgeName, d.subnet); err != nil {
		return err
	}
	return d.fw.AddVM(ctx, rule)
}

func (d *Daemon) removeNAT(ctx context.Context, name string) error {
	if d.fw == nil {
		return nil
	}
	return d.fw.RemoveVM(ctx, name)
}
