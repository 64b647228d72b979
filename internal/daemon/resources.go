package daemon

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/storage"
)

// hostResource is one kind of host resource a running VM holds besides its
// VMM process. runtimeResources below is the only list of them: boot and
// adoption attach every entry in order, stop, crash detection and delete
// detach them in reverse order, so a new kind of resource is added in
// exactly one place.
type hostResource struct {
	// name labels the resource in logs and undo lists.
	name string
	// afterVMM is true for resources that need the VMM process (its
	// handle) and false for those the VMM needs before it starts.
	afterVMM bool
	// attach brings the resource up for v. With a.adopt set the VM is
	// already running and attach restores what a previous daemon had.
	attach func(ctx context.Context, a *attachment) error
	// detach releases the resource; what is already gone is not an error.
	detach func(ctx context.Context, v *model.VM) error
}

// attachment carries one attach pass over the resources of a VM.
type attachment struct {
	v *model.VM
	// adopt is set when re-adopting a VM that kept running without us
	// (see reattach).
	adopt bool
	// wantNAT collects the NAT rules of adopted VMs; adopt syncs the
	// firewall to them once, leaving unchanged rules untouched.
	wantNAT *[]nat.Rule
}

// runtimeResources lists, in attach order: the tap on the bridge (with the
// bridge and the firewall base rules that keep VMs host-only), the VM's NAT
// rules, its activated system overlay (a dm-snapshot device; nothing for
// file overlays), its DNS record and the monitor that notices its VMM
// exiting.
func (d *Daemon) runtimeResources() []hostResource {
	return []hostResource{
		{name: "tap", attach: d.attachTap, detach: func(ctx context.Context, v *model.VM) error {
			return d.net.DeleteTap(ctx, v.Tap)
		}},
		{name: "nat", attach: d.attachNAT, detach: func(ctx context.Context, v *model.VM) error {
			return d.removeNAT(ctx, v.Name)
		}},
		{name: "overlay", attach: d.attachOverlay, detach: func(ctx context.Context, v *model.VM) error {
			if v.OverlayPath == "" {
				return nil
			}
			return d.storage.DeactivateOverlay(ctx, overlayOf(v))
		}},
		{name: "dns", afterVMM: true, attach: func(_ context.Context, a *attachment) error {
			d.publishDNS(a.v)
			return nil
		}, detach: func(_ context.Context, v *model.VM) error {
			d.unpublishDNS(v)
			return nil
		}},
		{name: "monitor", afterVMM: true, attach: func(_ context.Context, a *attachment) error {
			h, ok := a.v.Process()
			if !ok {
				return fmt.Errorf("no VMM handle recorded")
			}
			d.startMonitor(a.v.Name, h)
			return nil
		}, detach: func(_ context.Context, v *model.VM) error {
			d.stopMonitor(v.Name)
			return nil
		}},
	}
}

// reattach restores, in order, the runtime resources of a VM that kept
// running while no daemon watched it (adoption). What fails is logged, not
// undone: the VM runs, and the rest is still restored. Boots attach the
// same list as steps (boot.steps), each with its detach as undo.
func (d *Daemon) reattach(ctx context.Context, a *attachment) {
	for _, res := range d.runtimeResources() {
		if err := res.attach(ctx, a); err != nil {
			d.log.Warn("restore "+res.name, "vm", a.v.Name, "err", err)
		}
	}
}

// detachResources releases every runtime resource of v, last attached
// first. Failures are logged and the rest still released; the VM's disks
// are never touched.
func (d *Daemon) detachResources(ctx context.Context, v *model.VM) {
	all := d.runtimeResources()
	for i := len(all) - 1; i >= 0; i-- {
		if err := all[i].detach(ctx, v); err != nil {
			d.log.Warn("release "+all[i].name, "vm", v.Name, "err", err)
		}
	}
}

func (d *Daemon) attachTap(ctx context.Context, a *attachment) error {
	if err := d.net.EnsureBridge(ctx, d.cfg.BridgeName, d.subnet); err != nil {
		return fmt.Errorf("bridge %s: %w", d.cfg.BridgeName, err)
	}
	d.ensureFirewallBase(ctx)
	if !a.adopt {
		a.v.Tap = ownTapName(a.v.Tap)
	}
	if err := d.net.CreateTap(ctx, a.v.Tap, d.cfg.BridgeName); err != nil {
		return fmt.Errorf("tap %s: %w", a.v.Tap, err)
	}
	return nil
}

func (d *Daemon) attachNAT(ctx context.Context, a *attachment) error {
	if !a.v.NAT {
		return nil
	}
	if !a.adopt {
		return d.addNAT(ctx, a.v)
	}
	rule, err := d.natRule(a.v)
	if err != nil {
		return err
	}
	*a.wantNAT = append(*a.wantNAT, rule)
	return nil
}

func (d *Daemon) attachOverlay(ctx context.Context, a *attachment) error {
	if a.v.OverlayPath == "" {
		return fmt.Errorf("no system overlay recorded; delete the VM and create it again")
	}
	ov, err := d.storage.ActivateOverlay(ctx, overlayOf(a.v))
	if err != nil {
		return err
	}
	a.v.OverlayDevice = ov.Device
	return nil
}

// natRule is v's NAT rule out of the host's default-route interface.
func (d *Daemon) natRule(v *model.VM) (nat.Rule, error) {
	out, err := d.host.DefaultRouteInterface()
	if err != nil {
		return nat.Rule{}, fmt.Errorf("find the host's default route: %w; NAT needs one", err)
	}
	ip, err := netip.ParseAddr(v.IP)
	if err != nil {
		return nat.Rule{}, fmt.Errorf("VM address %q: %w", v.IP, err)
	}
	return nat.Rule{Name: v.Name, IP: ip, Tap: v.Tap, OutIface: out}, nil
}

// overlayOf is the system overlay recorded for v.
func overlayOf(v *model.VM) storage.Overlay {
	return storage.Overlay{Kind: storage.Kind(v.OverlayKind), Path: v.OverlayPath, Format: v.OverlayFormat,
		Base: v.BaseImage, Device: v.OverlayDevice}
}
