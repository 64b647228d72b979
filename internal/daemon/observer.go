package daemon

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/dns"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/version"
)

// vmmChoice is the VMM driver the daemon selected, why, or why none is
// usable.
type vmmChoice struct {
	name, why string
	err       error
}

// observer reports how the daemon, its VMs and the host are doing: daemon
// status, per-VM stats and doctor's checks. It changes nothing.
type observer struct {
	store   *store.Store
	storage storage.Manager
	facts   hostfacts.Host
	// guest runs a command in a running VM over SSH (stats).
	guest      func(ctx context.Context, v *model.VM, cmd string) ([]byte, error)
	layout     paths.Layout
	runtimeDir string
	started    time.Time
	vmm        vmmChoice
	bundle     *bundle.Resolved
	bundleErr  error
	kernel     string
	fw         nat.Firewall
	fwErr      error
	dnsMode    string
	publisher  dns.Publisher
	gateway    netip.Addr
}

// status describes the daemon and counts its VMs by state.
func (o *observer) status(ctx context.Context) (api.DaemonStatus, error) {
	vms, err := o.store.ListVMs(ctx)
	if err != nil {
		return api.DaemonStatus{}, err
	}
	counts := map[string]int{}
	for _, v := range vms {
		counts[string(v.State)]++
	}
	return api.DaemonStatus{
		PID: os.Getpid(), Version: version.Version, APIVersion: version.APIVersion,
		StartedAt: o.started, Uptime: time.Since(o.started).Round(time.Second).String(), Socket: o.layout.SocketPath,
		StateDir: o.layout.StateDir, RuntimeDir: o.runtimeDir,
		VMM: o.vmm.name, VMMReason: o.vmm.why, VMCounts: counts, Goroutines: runtime.NumGoroutine(),
	}, nil
}
