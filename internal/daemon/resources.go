package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/dns"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/storage"
)

// resources attaches and detaches the host resources of running VMs (tap
// and bridge, firewall rules, activated overlay, DNS record, monitor),
// holding the subsystems they live in and nothing else.
type resources struct {
	net       network.Manager
	fw        nat.Firewall
	fwErr     error
	facts     hostfacts.Host
	storage   storage.Manager
	publisher dns.Publisher
	monitors  *monitors
	bridge    string
	subnet    netip.Prefix
	log       *slog.Logger
}

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
func (rs *resources) runtimeResources() []hostResource {
	return []hostResource{
		{name: "tap", attach: rs.attachTap, detach: func(ctx context.Context, v *model.VM) error {
			return rs.net.DeleteTap(ctx, v.Tap)
		}},
		{name: "nat", attach: rs.attachNAT, detach: func(ctx context.Context, v *model.VM) error {
			return rs.removeNAT(ctx, v.Name)
		}},
		{name: "overlay", attach: rs.attachOverlay, detach: func(ctx context.Context, v *model.VM) error {
			if v.OverlayPath == "" {
				return nil
			}
			return rs.storage.DeactivateOverlay(ctx, overlayOf(v))
		}},
		{name: "dns", afterVMM: true, attach: func(_ context.Context, a *attachment) error {
			rs.publishDNS(a.v)
			return nil
		}, detach: func(_ context.Context, v *model.VM) error {
			rs.unpublishDNS(v)
			return nil
		}},
		{name: "monitor", afterVMM: true, attach: func(_ context.Context, a *attachment) error {
			h, ok := a.v.Process()
			if !ok {
				return fmt.Errorf("no VMM handle recorded")
			}
			rs.monitors.start(a.v.Name, h)
			return nil
		}, detach: func(_ context.Context, v *model.VM) error {
			rs.monitors.stop(v.Name)
			return nil
		}},
	}
}

// reattach restores, in order, the runtime resources of a VM that kept
// running while no daemon watched it (adoption). What fails is logged, not
// undone: the VM runs, and the rest is still restored. Boots attach the
// same list as steps (boot.steps), each with its detach as undo.
func (rs *resources) reattach(ctx context.Context, a *attachment) {
	for _, res := range rs.runtimeResources() {
		if err := res.attach(ctx, a); err != nil {
			rs.log.Warn("restore "+res.name, "vm", a.v.Name, "err", err)
		}
	}
}

// detachResources releases every runtime resource of v, last attached
// first. Failures are logged and the rest still released; the VM's disks
// are never touched.
func (rs *resources) detachResources(ctx context.Context, v *model.VM) {
	all := rs.runtimeResources()
	for i := len(all) - 1; i >= 0; i-- {
		if err := all[i].detach(ctx, v); err != nil {
			rs.log.Warn("release "+all[i].name, "vm", v.Name, "err", err)
		}
	}
}

func (rs *resources) attachTap(ctx context.Context, a *attachment) error {
	if err := rs.net.EnsureBridge(ctx, rs.bridge, rs.subnet); err != nil {
		return fmt.Errorf("bridge %s: %w", rs.bridge, err)
	}
	rs.ensureFirewallBase(ctx)
	if !a.adopt {
		a.v.Tap = ownTapName(a.v.Tap)
	}
	if err := rs.net.CreateTap(ctx, a.v.Tap, rs.bridge); err != nil {
		return fmt.Errorf("tap %s: %w", a.v.Tap, err)
	}
	return nil
}

func (rs *resources) attachNAT(ctx context.Context, a *attachment) error {
	if !a.v.NAT {
		return nil
	}
	if !a.adopt {
		return rs.addNAT(ctx, a.v)
	}
	rule, err := rs.natRule(a.v)
	if err != nil {
		return err
	}
	*a.wantNAT = append(*a.wantNAT, rule)
	return nil
}

func (rs *resources) attachOverlay(ctx context.Context, a *attachment) error {
	if a.v.OverlayPath == "" {
		return fmt.Errorf("no system overlay recorded; delete the VM and create it again")
	}
	ov, err := rs.storage.ActivateOverlay(ctx, overlayOf(a.v))
	if err != nil {
		return err
	}
	a.v.OverlayDevice = ov.Device
	return nil
}

// natRule is v's NAT rule out of the host's default-route interface.
func (rs *resources) natRule(v *model.VM) (nat.Rule, error) {
	out, err := rs.facts.DefaultRouteInterface()
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

// publishDNS makes <name>.vm resolve to the VM's address.
func (rs *resources) publishDNS(v *model.VM) {
	if rs.publisher == nil {
		return
	}
	ip, err := netip.ParseAddr(v.IP)
	if err != nil {
		return
	}
	if err := rs.publisher.Publish(v.Name, ip); err != nil {
		rs.log.Warn("publish dns", "vm", v.Name, "err", err)
	}
}

func (rs *resources) unpublishDNS(v *model.VM) {
	if rs.publisher == nil {
		return
	}
	if err := rs.publisher.Unpublish(v.Name); err != nil {
		rs.log.Warn("unpublish dns", "vm", v.Name, "err", err)
	}
}

// addNAT adds v's NAT rule out of the host's default-route interface.
func (rs *resources) addNAT(ctx context.Context, v *model.VM) error {
	if rs.fw == nil {
		return fmt.Errorf("no usable firewall: %v", rs.fwErr)
	}
	rule, err := rs.natRule(v)
	if err != nil {
		return err
	}
	if err := rs.facts.EnableForwarding(); err != nil {
		return err
	}
	if err := rs.fw.EnsureBase(ctx, rs.bridge, rs.subnet); err != nil {
		return err
	}
	return rs.fw.AddVM(ctx, rule)
}

func (rs *resources) removeNAT(ctx context.Context, name string) error {
	if rs.fw == nil {
		return nil
	}
	return rs.fw.RemoveVM(ctx, name)
}

// ensureFirewallBase creates banger's table and chains (isolating non-NAT
// VMs from the outside) when a firewall is usable.
func (rs *resources) ensureFirewallBase(ctx context.Context) {
	if rs.fw == nil {
		return
	}
	if err := rs.fw.EnsureBase(ctx, rs.bridge, rs.subnet); err != nil {
		rs.log.Warn("firewall base rules", "err", err)
	}
}

// tapName is the tap name of a new VM with id: of this account's own
// prefix, which no other account can create (network.TapPrefixFor).
func tapName(id string) string { return network.TapNameFor(os.Getuid(), id) }

// ownTapName keeps tap when it is of this account's prefix and otherwise
// (a VM created before per-account prefixes) derives one from its suffix,
// so the network helper accepts it; the boot saves the new name.
func ownTapName(tap string) string {
	if network.IsTapNameOf(os.Getuid(), tap) {
		return tap
	}
	return tapName(strings.TrimPrefix(tap, network.TapPrefix))
}
