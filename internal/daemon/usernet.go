package daemon

import (
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/nethelper"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
)

// useNetworkHelper wires an ordinary user's daemon to banger-nethelper:
// bridge, taps, firewall, forwarding and the DNS sockets go through it,
// and the daemon uses the bridge and subnet system install allocated to
// this account (the helper allows no other). Without an allocation the
// daemon keeps the direct implementations, and the network-privilege
// preflight tells the user to run system install.
func (d *Daemon) useNetworkHelper() {
	alloc, err := system.LoadForUID(os.Getuid())
	if err != nil {
		d.log.Warn("VM network unavailable for this account", "err", err)
		return
	}
	hc := &nethelper.Client{Path: system.HelperPath}
	d.net, d.fw, d.host = hc, hc, hostfacts.ViaHelper{Bridge: alloc.Bridge}
	d.dnsBind = hc.DNSSockets
	for key, want := range map[string]string{"bridge_name": alloc.Bridge, "vm_subnet": alloc.Subnet.String()} {
		if src := d.cfg.Sources[key]; src != "" && src != config.SourceDefault {
			d.log.Warn(key+" in the config is ignored: this account's network is the one system install allocated", "source", src, "using", want)
		}
	}
	d.cfg.BridgeName, d.cfg.VMSubnet, d.subnet = alloc.Bridge, alloc.Subnet, alloc.Subnet
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
