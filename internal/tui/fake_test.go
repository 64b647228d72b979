package tui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

// epoch is the fixed "now" of every test.
var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeBackend is an in-memory daemon: VMs change state when asked, every
// call is recorded, and any method can be made to fail.
type fakeBackend struct {
	mu     sync.Mutex
	vms    map[string]*api.VM
	images []api.Image
	calls  []string
	errs   map[string]error // method name -> error to return
	// gate, when set, holds StartVM and CreateVM after their first event
	// until closed.
	gate chan struct{}
	// console is each VM's serial console output; consoleMore delivers
	// more of it to followers.
	console     map[string]string
	consoleMore chan string
	statsN      map[string]int // Stats calls per VM: the figures move
}

func newFake(vms ...api.VM) *fakeBackend {
	f := &fakeBackend{vms: map[string]*api.VM{}, errs: map[string]error{}, console: map[string]string{},
		consoleMore: make(chan string, 16), statsN: map[string]int{}}
	for i := range vms {
		vm := vms[i]
		f.vms[vm.Name] = &vm
	}
	f.images = []api.Image{
		{Name: "debian-12", Size: 2 << 30, Builtin: true, CreatedAt: epoch.Add(-72 * time.Hour), UsedBy: []string{"web", "db"}},
		{Name: "alpine-dev", Size: 512 << 20, CreatedAt: epoch.Add(-time.Hour)},
	}
	return f
}

// threeVMs is the standard fixture: two running, one stopped.
func threeVMs() []api.VM {
	return []api.VM{
		{Name: "web", State: api.StateRunning, Image: "debian-12", IP: "172.16.0.2", VCPUs: 2, MemoryMiB: 1024,
			DiskSize: 8 << 30, NAT: true, Driver: "qemu", Accel: "tcg", PID: 4242, DNSName: "web.vm",
			CreatedAt: epoch.Add(-3 * 24 * time.Hour), StartedAt: epoch.Add(-90 * time.Minute),
			Files: api.VMFiles{Dir: "/var/lib/banger/vms/web", ConsoleLog: "/var/lib/banger/vms/web/console.log"}},
		{Name: "db", State: api.StateStopped, Image: "debian-12", VCPUs: 1, MemoryMiB: 512,
			DiskSize: 4 << 30, Driver: "qemu", CreatedAt: epoch.Add(-5 * time.Hour)},
		{Name: "build-box", State: api.StateRunning, Image: "alpine-dev", IP: "172.16.0.4", VCPUs: 4, MemoryMiB: 4096,
			DiskSize: 20 << 30, Driver: "qemu", CreatedAt: epoch.Add(-10 * time.Minute)},
	}
}

func (f *fakeBackend) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, call)
	for method, err := range f.errs {
		if len(call) >= len(method) && call[:len(method)] == method {
			return err
		}
	}
	return nil
}

// called reports whether a call exactly equal to want was made.
func (f *fakeBackend) called(want string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.calls, want)
}

func (f *fakeBackend) setErr(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[method] = err
}

func (f *fakeBackend) get(name string) (*api.VM, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vm, ok := f.vms[name]
	if !ok {
		return nil, fmt.Errorf("vm %q not found", name)
	}
	c := *vm
	return &c, nil
}

func (f *fakeBackend) setState(name, state string) (*api.VM, error) {
	f.mu.Lock()
	vm, ok := f.vms[name]
	if ok {
		vm.State = state
	}
	f.mu.Unlock()
	return f.get(name)
}

func (f *fakeBackend) Status(context.Context) (*api.DaemonStatus, error) {
	if err := f.record("Status"); err != nil {
		return nil, err
	}
	return &api.DaemonStatus{Version: "0.9.0-test", VMM: "qemu"}, nil
}

func (f *fakeBackend) ListVMs(context.Context) ([]api.VM, error) {
	if err := f.record("ListVMs"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]api.VM, 0, len(f.vms))
	for _, vm := range f.vms {
		out = append(out, *vm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func (f *fakeBackend) GetVM(_ context.Context, name string) (*api.VM, error) {
	if err := f.record("GetVM %s", name); err != nil {
		return nil, err
	}
	return f.get(name)
}

// cpuSeq is the CPU % the fake reports on successive Stats calls.
var cpuSeq = []float64{12.5, 40, 85, 30, 60, 95, 20, 50}

func (f *fakeBackend) Stats(_ context.Context, name string) (*api.VMStats, error) {
	if err := f.record("Stats %s", name); err != nil {
		return nil, err
	}
	vm, err := f.get(name)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	n := f.statsN[name]
	f.statsN[name]++
	f.mu.Unlock()
	st := &api.VMStats{Name: name, State: vm.State, Host: api.HostStats{
		CPUSeconds: 125, CPUPercent: cpuSeq[n%len(cpuSeq)], RSSBytes: 300 << 20, WorkDiskSize: 8 << 30,
		WorkDiskAlloc: 1 << 30, OverlayAlloc: 200 << 20,
		NetRxBytes: 5<<20 + int64(n*n)*(100<<10), NetTxBytes: 1<<20 + int64(n)*(20<<10)}}
	if vm.State == api.StateRunning {
		st.Guest = &api.GuestStats{UptimeSeconds: 5400, Load1: 0.25, Load5: 0.5, Load15: 0.75,
			MemTotal: 1 << 30, MemAvailable: 768<<20 - int64(n%4)*(64<<20), RootSize: 4 << 30, RootUsed: 1 << 30,
			WorkSize: 8 << 30, WorkUsed: 2 << 30}
	}
	return st, nil
}

func (f *fakeBackend) StartVM(_ context.Context, name string, _ api.StartRequest, onEvent func(api.Event)) (*api.VM, error) {
	if err := f.record("StartVM %s", name); err != nil {
		return nil, err
	}
	onEvent(api.Event{Kind: api.EventStep, Index: 1, Total: 2, Step: "boot"})
	if f.gate != nil {
		<-f.gate
	}
	return f.setState(name, api.StateRunning)
}

func (f *fakeBackend) StopVM(_ context.Context, name string, _ func(api.Event)) (*api.VM, error) {
	if err := f.record("StopVM %s", name); err != nil {
		return nil, err
	}
	return f.setState(name, api.StateStopped)
}

func (f *fakeBackend) RestartVM(_ context.Context, name string, _ api.StartRequest, _ func(api.Event)) (*api.VM, error) {
	if err := f.record("RestartVM %s", name); err != nil {
		return nil, err
	}
	return f.setState(name, api.StateRunning)
}

func (f *fakeBackend) DeleteVM(_ context.Context, name string, force bool) error {
	if err := f.record("DeleteVM %s force=%v", name, force); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if vm, ok := f.vms[name]; ok && vm.State == api.StateRunning && !force {
		return fmt.Errorf("vm %s is running: stop it first or use --force", name)
	}
	delete(f.vms, name)
	return nil
}

func (f *fakeBackend) SetVM(_ context.Context, name string, req api.SetVMRequest) (*api.VM, error) {
	call := "SetVM " + name
	if req.MemoryMiB != nil {
		call += fmt.Sprintf(" memory=%d", *req.MemoryMiB)
	}
	if req.VCPUs != nil {
		call += fmt.Sprintf(" vcpus=%d", *req.VCPUs)
	}
	if req.DiskSize != nil {
		call += fmt.Sprintf(" disk=%d", *req.DiskSize)
	}
	if req.NAT != nil {
		call += fmt.Sprintf(" nat=%v", *req.NAT)
	}
	if err := f.record("%s", call); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vm, ok := f.vms[name]
	if !ok {
		return nil, fmt.Errorf("no vm named %q; see 'banger vm list'", name)
	}
	if vm.State == api.StateRunning && (req.VCPUs != nil || req.MemoryMiB != nil || req.DiskSize != nil) {
		return nil, fmt.Errorf("%s is running: memory, vcpu and disk size can only change while it is stopped; run 'banger vm stop %s' first (--nat/--no-nat work while running)", name, name)
	}
	if req.DiskSize != nil && *req.DiskSize < vm.DiskSize {
		return nil, fmt.Errorf("work disk of %s is %s; shrinking to %s is not supported: choose a size of at least %s", name,
			units.FormatSize(vm.DiskSize), units.FormatSize(*req.DiskSize), units.FormatSize(vm.DiskSize))
	}
	if req.MemoryMiB != nil {
		vm.MemoryMiB = *req.MemoryMiB
	}
	if req.VCPUs != nil {
		vm.VCPUs = *req.VCPUs
	}
	if req.DiskSize != nil {
		vm.DiskSize = *req.DiskSize
	}
	if req.NAT != nil {
		vm.NAT = *req.NAT
	}
	c := *vm
	return &c, nil
}

func (f *fakeBackend) ListImages(context.Context) ([]api.Image, error) {
	if err := f.record("ListImages"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.images), nil
}
