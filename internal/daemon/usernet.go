package daemon

import (
	"os"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/nethelper"
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
