package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/dns"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/vmm"
)

// Options configure a daemon. Nil subsystems get their real implementation.
type Options struct {
	// Layout is the user's directory layout.
	Layout paths.Layout
	// Config is the loaded configuration.
	Config *config.Config
	// RuntimeDir is the resolved runtime bundle directory.
	RuntimeDir string
	// Logger receives the daemon log; nil means slog.Default().
	Logger *slog.Logger

	// Net manages bridge and taps.
	Net network.Manager
	// Firewall applies NAT rules.
	Firewall nat.Firewall
	// Drivers maps driver names to implementations; nil builds the real ones.
	Drivers map[string]vmm.Driver
	// Storage builds and removes overlays, work disks and image files.
	Storage storage.Manager
	// Host answers host-wide questions (default route, forwarding,
	// preflight probes).
	Host hostfacts.Host
}

// Daemon is a running bangerd.
type Daemon struct {
	opts     Options
	cfg      *config.Config
	layout   paths.Layout
	log      *slog.Logger
	store    *store.Store
	started  time.Time
	shutdown chan struct{}
	stopOnce sync.Once

	subnet    netip.Prefix
	bundle    *bundle.Resolved
	bundleErr error

	net       network.Manager
	storage   storage.Manager
	host      hostfacts.Host
	fw        nat.Firewall
	fwErr     error
	drivers   map[string]vmm.Driver
	driver    string
	driverWhy string
	driverErr error

	namegen   *namegen.Generator
	dnsBind   func(ctx context.Context) (net.PacketConn, net.Listener, error)
	dnsServer *dns.Server
	publisher dns.Publisher

	monitors *monitors

	// The parts, built by assemble once the subsystems are up, each with
	// what it needs: the VM lifecycle, images, the observer, the HTTP edge,
	// SSH to guests and the runtime resources of VMs.
	vms    *vms
	images *images
	obs    *observer
	http   *server
	guests *guests
	res    *resources
}

// New prepares a daemon; Run starts it.
func New(opts Options) (*Daemon, error) {
	if opts.Config == nil {
		return nil, fmt.Errorf("daemon: no config")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	subnet := opts.Config.VMSubnet
	if !subnet.IsValid() {
		return nil, fmt.Errorf("vm_subnet is not set; fix it in config.toml")
	}
	d := &Daemon{
		opts:     opts,
		cfg:      opts.Config,
		layout:   opts.Layout,
		log:      log,
		shutdown: make(chan struct{}),
		subnet:   subnet.Masked(),
		net:      opts.Net,
		fw:       opts.Firewall,
		storage:  opts.Storage,
		host:     opts.Host,
	}
	d.monitors = &monitors{vmsDir: d.layout.VMsDir, log: log, onExit: func(ctx context.Context, name string, h vmm.Handle) { d.vms.vmExited(ctx, name, h) }, running: map[string]context.CancelFunc{},
		driver: func(name string) (vmm.Driver, bool) { drv, ok := d.drivers[name]; return drv, ok }}
	if os.Geteuid() != 0 && opts.Net == nil && opts.Firewall == nil {
		d.useNetworkHelper()
	}
	if d.net == nil {
		d.net = network.NewNetlinkManager()
	}
	if d.storage == nil {
		d.storage = storage.Host{}
	}
	if d.host == nil {
		d.host = hostfacts.Real{}
	}
	return d, nil
}

// Run serves until ctx ends or a client asks the daemon to stop. VMs keep
// running after it returns.
func (d *Daemon) Run(ctx context.Context) error {
	// Everything the daemon and the programs it runs create (database, logs,
	// disks, sockets) is for its user only: 0600 files, 0700 directories.
	syscall.Umask(0o077)
	if err := d.layout.Ensure(); err != nil {
		return err
	}
	ln, release, err := listen(d.layout.SocketPath, filepath.Join(d.layout.StateDir, "bangerd.lock"))
	if err != nil {
		return err
	}
	defer release()
	d.started = time.Now()
	st, err := store.Open(ctx, d.layout.DBPath)
	if err != nil {
		return err
	}
	d.store = st
	defer st.Close()

	d.initSubsystems(ctx)
	defer d.closeSubsystems() // runs before st.Close (LIFO)
	d.assemble()
	if err := d.images.registerBundleImage(ctx); err != nil {
		d.log.Warn("default image not registered", "err", err)
	}
	d.vms.adopt(ctx)

	d.log.Info("bangerd listening", "socket", d.layout.SocketPath, "pid", os.Getpid(), "vmm", d.driver, "state", d.layout.StateDir)
	err = d.serve(ctx, ln)
	d.vms.resumeWG.Wait()
	d.monitors.stopAll()
	d.log.Info("bangerd stopped; running VMs keep running")
	return err
}

// assemble builds the parts from the subsystems, each with what it needs.
func (d *Daemon) assemble() {
	kernel := bootKernel(d.bundle, d.driver)
	d.guests = &guests{keyPath: d.cfg.SSHKeyPath, log: d.log}
	d.res = &resources{net: d.net, fw: d.fw, fwErr: d.fwErr, facts: d.host, storage: d.storage, publisher: d.publisher,
		monitors: d.monitors, bridge: d.cfg.BridgeName, subnet: d.subnet, log: d.log}
	chk := &checks{host: d.host, driver: d.driver, driverErr: d.driverErr}
	d.vms = &vms{checks: chk, store: d.store, cfg: d.cfg, layout: d.layout, log: d.log, subnet: d.subnet, storage: d.storage,
		host: d.host, guests: d.guests, res: d.res, monitors: d.monitors, drivers: d.drivers, driver: d.driver,
		driverErr: d.driverErr, namegen: d.namegen, bundle: d.bundle, locks: map[string]*nameLock{}}
	d.images = &images{store: d.store, storage: d.storage, facts: d.host, log: d.log, vms: d.vms, guests: d.guests, checks: chk,
		dir: d.layout.ImagesDir, stateDir: d.layout.StateDir, customizeScript: d.cfg.CustomizeScript,
		bundle: d.bundle, bundleErr: d.bundleErr, kernel: kernel}
	d.obs = &observer{store: d.store, storage: d.storage, facts: d.host, guest: d.guests.sshRun,
		layout: d.layout, runtimeDir: d.opts.RuntimeDir, started: d.started,
		vmm:    vmmChoice{name: d.driver, why: d.driverWhy, err: d.driverErr},
		bundle: d.bundle, bundleErr: d.bundleErr, kernel: kernel, fw: d.fw, fwErr: d.fwErr,
		dnsMode: d.cfg.DNS, publisher: d.publisher, gateway: network.Gateway(d.subnet)}
	d.http = &server{vms: d.vms, images: d.images, obs: d.obs, log: d.log, shutdown: d.requestShutdown}
}

// requestShutdown makes Run return; VMs are left running.
func (d *Daemon) requestShutdown() {
	d.stopOnce.Do(func() { close(d.shutdown) })
}
