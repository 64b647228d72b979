package daemon

import (
	"context"
	"time"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/preflight"
)

const bundleHint = "build a bundle with 'make runtime-bundle-local' or fetch one with 'make runtime-bundle'"

// checks are the preflights of VM operations: each names what is missing
// and how to get it, before anything changes (a precondition error).
type checks struct {
	host hostfacts.Host
	// driver is the selected VMM, or driverErr why none is usable.
	driver    string
	driverErr error
}

// preflightStart checks what booting a VM needs before anything changes.
func (d *checks) preflightStart(kernel, baseImage string, nat bool) error {
	if d.driverErr != nil {
		return model.Precondition(d.driverErr)
	}
	needs := preflight.ForVMStart(d.driver)
	needs = append(needs,
		preflight.File(kernel, "guest kernel", bundleHint),
		preflight.File(baseImage, "base image", bundleHint),
	)
	if d.driver == "firecracker" {
		needs = append(needs, preflight.Func("ELF kernel for firecracker", func() error {
			return bundle.CheckFirecrackerKernel(kernel)
		}))
	}
	if nat {
		needs = append(needs, natNeeds(d.host)...)
	}
	return model.Precondition(d.host.Checker().Check("vm start", needs...))
}

// natNeeds: root, a firewall backend banger can drive (nftables through
// netlink, else iptables), a writable ip_forward sysctl and a default route.
func natNeeds(host hostfacts.Host) []preflight.Need {
	return []preflight.Need{
		preflight.NetPrivilege("change firewall rules and enable IP forwarding"),
		preflight.Func("nat", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return host.NATUsable(ctx)
		}),
	}
}

// preflightNAT checks what NAT needs.
func (d *checks) preflightNAT() error {
	return model.Precondition(d.host.Checker().Check("nat", natNeeds(d.host)...))
}

// preflightResize checks what growing a work disk needs.
func (d *checks) preflightResize() error {
	return model.Precondition(d.host.Checker().Check("work-disk resize", preflight.ForDiskResize()...))
}
