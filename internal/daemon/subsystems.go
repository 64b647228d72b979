package daemon

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/dns"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/firecracker"
	"github.com/bangerdev/banger/internal/vmm/qemu"
)

// initSubsystems resolves the bundle and sets up the VMM drivers, network,
// firewall and DNS. Problems are recorded, not fatal: the daemon still
// serves status and doctor, and commands that need a broken part fail with
// its preflight message.
func (d *Daemon) initSubsystems(ctx context.Context) {
	c := d.cfg
	d.bundle, d.bundleErr = bundle.Resolve(d.opts.RuntimeDir, bundle.Overrides{
		DefaultKernel: c.DefaultKernel, DefaultInitrd: c.DefaultInitrd, DefaultModulesDir: c.DefaultModulesDir,
		DefaultRootfs: c.DefaultRootfs, DefaultBaseRootfs: c.DefaultBaseRootfs,
		DefaultPackagesFile: c.DefaultPackagesFile, FirecrackerBin: c.FirecrackerBin,
	})
	if d.bundleErr != nil {
		d.bundleErr = fmt.Errorf("runtime bundle %s: %w; %s", d.opts.RuntimeDir, d.bundleErr, bundleHint)
		d.bundle = &bundle.Resolved{}
	}

	d.drivers = d.opts.Drivers
	fcBin := d.bundle.Firecracker
	if d.drivers == nil {
		d.drivers = realDrivers(c, fcBin)
	}
	d.driver, d.driverWhy, d.driverErr = vmm.Select(c.VMM, fcBin)
	if d.driverErr == nil {
		if _, ok := d.drivers[d.driver]; !ok {
			d.driverErr = fmt.Errorf("vmm driver %q is not available in this daemon", d.driver)
		}
	}
	if d.driverErr != nil {
		d.log.Warn("no usable VMM", "err", d.driverErr)
	}

	if d.fw == nil {
		fw, why, err := nat.DetectFor(ctx, d.cfg.BridgeName)
		d.fw, d.fwErr = fw, err
		d.log.Info("firewall backend", "backend", why)
	}

	gen := namegen.New()
	if c.NamegenPath != "" {
		if g, err := namegen.LoadFile(c.NamegenPath); err == nil {
			gen = g
		} else {
			d.log.Warn("namegen word list unusable; using built-in words", "path", c.NamegenPath, "err", err)
		}
	}
	d.namegen = gen

	d.initDNS(ctx)
}

// initDNS starts the built-in .vm server on the bridge address or sets up
// starts (or adopts) mapdns, per config.
func (d *Daemon) initDNS(ctx context.Context) {
	switch d.cfg.DNS {
	case "none":
		return
	case "mapdns":
		m := dns.NewMapdns(d.cfg.MapDNSDataFile, d.cfg.MapDNSBin, "")
		if err := m.Start(ctx); err != nil {
			d.log.Warn("mapdns not running; records go to its data file only", "err", err)
		}
		d.publisher = m
		return
	}
	if err := d.net.EnsureBridge(ctx, d.cfg.BridgeName, d.subnet); err != nil {
		d.log.Warn("bridge unavailable; .vm names disabled", "err", err)
		return
	}
	gw := network.Gateway(d.subnet)
	srv, err := dns.NewServer(dns.Options{Listen: netip.AddrPortFrom(gw, 53), Zone: dns.DefaultZone, Subnet: d.subnet,
		Upstream: hostResolvers(), Logger: d.log, Bind: d.dnsBind})
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		d.log.Warn("built-in DNS server not started; .vm names disabled", "err", err)
		return
	}
	d.dnsServer = srv
	d.publisher = srv
	if err := dns.ResolvedLink(ctx, d.cfg.BridgeName, gw); err != nil {
		d.log.Info("host resolver not wired for .vm", "why", err)
	}
}

// closeSubsystems stops the DNS server and, when no VM is running, removes
// the bridge and banger's firewall table so a stopped daemon leaves no host
// state behind. With running VMs both stay: the VMs keep their network.
func (d *Daemon) closeSubsystems() {
	if d.dnsServer != nil {
		_ = d.dnsServer.Close()
	}
	if m, ok := d.publisher.(*dns.Mapdns); ok {
		_ = m.Close() // stops mapdns only if bangerd started it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vms, err := d.store.ListVMs(ctx)
	if err != nil {
		return
	}
	for _, v := range vms {
		if v.State == model.Running || v.State == model.Creating {
			return
		}
	}
	if d.fw != nil {
		if err := d.fw.Teardown(ctx); err != nil {
			d.log.Warn("remove firewall rules", "err", err)
		}
	}
	if err := d.net.TeardownBridge(ctx, d.cfg.BridgeName); err != nil {
		d.log.Warn("remove bridge", "bridge", d.cfg.BridgeName, "err", err)
	}
}

// hostResolvers are the host's own nameservers. Guests use the bridge
// address as their resolver; names outside .vm are forwarded to these so
// NAT'd VMs resolve the internet as the host does. The server listens only
// on the bridge, so it is never an open resolver.
func hostResolvers() []string {
	for _, f := range []string{"/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"} {
		cc, err := mdns.ClientConfigFromFile(f)
		if err != nil || len(cc.Servers) == 0 {
			continue
		}
		out := make([]string, 0, len(cc.Servers))
		for _, s := range cc.Servers {
			out = append(out, net.JoinHostPort(s, cc.Port))
		}
		return out
	}
	return nil
}

// realDrivers returns the VMM drivers configured from c; fcBin is the
// firecracker binary the bundle or config names.
func realDrivers(c *config.Config, fcBin string) map[string]vmm.Driver {
	return map[string]vmm.Driver{
		"qemu":        &qemu.Driver{TBSizeMiB: c.TCGCacheMiB},
		"firecracker": firecracker.New(fcBin),
	}
}
