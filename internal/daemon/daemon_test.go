package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/storage/storagefake"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

// testDaemon is a daemon with fake network, firewall, storage, host facts
// and VMM, but real SQLite and real keys, not serving HTTP. It touches no
// host resource and needs no root.
type testDaemon struct {
	*vms
	daemon  *Daemon
	net     *network.Fake
	fw      *nat.Fake
	vmm     *vmmfake.Driver
	disks   *storagefake.Fake
	hostFax *hostfacts.Fake
}

func newTestDaemon(t *testing.T) *testDaemon {
	return newTestDaemonWith(t, storage.KindQcow2)
}

// newTestDaemonWith builds a test daemon whose storage chooses kind.
func newTestDaemonWith(t *testing.T, kind storage.Kind) *testDaemon {
	t.Helper()
	return newTestDaemonSeeded(t, kind, nil)
}

// newTestDaemonSeeded is newTestDaemonWith with seed run after the layout
// and bundle exist and before the store is opened (to put an older state
// database in place); root is the directory holding both.
func newTestDaemonSeeded(t *testing.T, kind storage.Kind, seed func(td *testDaemon, l paths.Layout, root string)) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	l, err := paths.Resolve(func(k string) string {
		switch k {
		case "HOME":
			return dir
		case "XDG_RUNTIME_DIR":
			return filepath.Join(dir, "run")
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	bundleDir := filepath.Join(dir, "bundle")
	_ = os.MkdirAll(bundleDir, 0o755)
	for name, data := range map[string]string{
		"bundle.json": `{"version":1,"kernel":"bzImage","rootfs":"rootfs.ext4"}`,
		"bzImage":     strings.Repeat("k", 1024),
		"rootfs.ext4": strings.Repeat("\x00", 64<<10),
	} {
		if err := os.WriteFile(filepath.Join(bundleDir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Defaults(l.ConfigFile)
	cfg.DNS = "none"
	cfg.StopTimeout = 2 * time.Second
	cfg.SSHKeyPath = filepath.Join(dir, "ssh", "id_ed25519")
	td := &testDaemon{net: network.NewFake(), fw: nat.NewFake(), vmm: vmmfake.New("qemu"),
		disks: &storagefake.Fake{Kind: kind}, hostFax: &hostfacts.Fake{}}
	d, err := New(Options{Layout: l, Config: cfg, RuntimeDir: bundleDir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Net:    td.net, Firewall: td.fw, Drivers: map[string]vmm.Driver{"qemu": td.vmm},
		Storage: td.disks, Host: td.hostFax})
	if err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		seed(td, l, dir)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, l.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	d.store = st
	d.initSubsystems(ctx)
	if d.driver != "qemu" {
		t.Fatalf("driver = %q (%v)", d.driver, d.driverErr)
	}
	d.assemble()
	if err := d.images.registerBundleImage(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.monitors.stopAll(); st.Close() })
	td.vms, td.daemon = d.vms, d
	return td
}

func (td *testDaemon) create(t *testing.T, name string, nat bool) (*api.VM, error) {
	v, err := td.createVM(context.Background(), api.CreateVMRequest{Name: name, NAT: nat, NoWait: true, DiskSize: 1 << 30}, api.NopReporter{})
	if err != nil {
		return nil, err
	}
	out := vmToAPI(v)
	return &out, nil
}

func TestCreateAndDeleteLeaveNothing(t *testing.T) {
	td := newTestDaemon(t)
	vm, err := td.create(t, "calm-otter", true)
	if err != nil {
		t.Fatal(err)
	}
	if vm.State != api.StateRunning {
		t.Fatalf("state %s", vm.State)
	}
	if _, ok := td.net.HasTap(vm.Tap); !ok {
		t.Fatal("no tap")
	}
	if rules, _ := td.fw.List(context.Background()); len(rules) != 1 || rules[0].Name != "calm-otter" {
		t.Fatalf("nat rules = %+v", rules)
	}
	if !td.disks.HasWorkDisk(vm.Files.WorkDisk) || !td.disks.HasOverlay(vm.Files.Overlay) {
		t.Fatalf("disks not created: %+v", td.disks)
	}
	if !td.hostFax.Forwarding() {
		t.Fatal("NAT VM started without IP forwarding")
	}
	if err := td.deleteVM(context.Background(), "calm-otter", false); err == nil || !strings.Contains(err.Error(), "pass --force") {
		t.Fatalf("delete of a running VM without force: %v", err)
	}
	if err := td.deleteVM(context.Background(), "calm-otter", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := td.net.HasTap(vm.Tap); ok {
		t.Fatal("tap survived delete")
	}
	if rules, _ := td.fw.List(context.Background()); len(rules) != 0 {
		t.Fatalf("nat rules survived delete: %+v", rules)
	}
	if _, err := os.Stat(vm.Files.Dir); !os.IsNotExist(err) {
		t.Fatalf("VM dir survived delete: %v", err)
	}
	if td.disks.HasWorkDisk(vm.Files.WorkDisk) || td.disks.HasOverlay(vm.Files.Overlay) {
		t.Fatal("disks survived delete")
	}
}

func TestFailedBootUndoesEverything(t *testing.T) {
	td := newTestDaemon(t)
	td.vmm.FailStart(errors.New("injected vmm failure"))
	_, err := td.create(t, "doomed", true)
	if err == nil || !strings.Contains(err.Error(), "start doomed") || !strings.Contains(err.Error(), "injected vmm failure") {
		t.Fatalf("err = %v; want it to name the step and the cause", err)
	}
	if _, err := td.store.GetVM(context.Background(), "doomed"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record left behind: %v", err)
	}
	if ips, _ := td.store.UsedAddresses(context.Background()); len(ips) != 0 {
		t.Fatalf("address left reserved: %v", ips)
	}
	if ports, _ := td.net.Ports(context.Background(), td.cfg.BridgeName); len(ports) != 0 {
		t.Fatalf("taps left behind: %v", ports)
	}
	if rules, _ := td.fw.List(context.Background()); len(rules) != 0 {
		t.Fatalf("nat rules left behind: %+v", rules)
	}
	if _, err := os.Stat(filepath.Join(td.layout.VMsDir, "doomed")); !os.IsNotExist(err) {
		t.Fatalf("VM dir left behind: %v", err)
	}
}

func TestCrashedVMIsMarkedStoppedAndKeepsItsDisks(t *testing.T) {
	td := newTestDaemon(t)
	vm, err := td.create(t, "crashy", false)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := td.store.GetVM(context.Background(), "crashy")
	h, _ := v.Process()
	td.vmm.Crash(h)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if v, _ := td.store.GetVM(context.Background(), "crashy"); v.State == api.StateStopped {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v, _ := td.store.GetVM(context.Background(), "crashy"); v.State != api.StateStopped {
		t.Fatalf("crashed VM still %s", v.State)
	}
	if _, ok := td.net.HasTap(vm.Tap); ok {
		t.Fatal("tap of a crashed VM kept")
	}
	if !td.disks.HasWorkDisk(vm.Files.WorkDisk) || !td.disks.HasOverlay(vm.Files.Overlay) {
		t.Fatal("disks lost after crash")
	}
}

func TestAdoptMarksDeadVMsStopped(t *testing.T) {
	td := newTestDaemon(t)
	if _, err := td.create(t, "ghost", false); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	v, _ := td.store.GetVM(context.Background(), "ghost")
	h, _ := v.Process()
	td.vmm.Crash(h)
	td.adopt(context.Background())
	v, _ = td.store.GetVM(context.Background(), "ghost")
	if v.State != api.StateStopped || !strings.Contains(v.LastError, "exited while bangerd was not running") {
		t.Fatalf("after adopt: state %s, last error %q", v.State, v.LastError)
	}
}
