// Command fakebangerd is bangerd with an in-memory VMM, network, firewall
// and host facts, for the reliability tests in e2e/ that need many VMs or
// a daemon to SIGKILL but not guests: the real CLI, auto-start, socket,
// lock, SQLite store, state directory, keys and disk files (qcow2 overlay,
// ext4 work disk) are used as in bangerd. It needs no root and is never
// installed. Its fake VMs exist only in its memory: after a restart the
// daemon finds their processes gone and marks them stopped, as it would
// after a host reboot.
package main

import (
	"os"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/daemon"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

func main() {
	os.Exit(daemon.Main("fakebangerd", os.Args[1:], os.Stderr, func(cfg *config.Config, o *daemon.Options) {
		cfg.DNS, cfg.VMM = "none", "qemu"
		o.Net, o.Firewall, o.Host = network.NewFake(), nat.NewFake(), &hostfacts.Fake{}
		o.Drivers = map[string]vmm.Driver{"qemu": vmmfake.New("qemu")}
	}))
}
