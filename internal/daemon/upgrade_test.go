package daemon

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
)

// seedFixture returns a seed for newTestDaemonSeeded that puts the state
// of an older banger (testdata/upgrade/<version>) in place: its database,
// with the paths recorded in it moved under this test's directory (on that
// version's own columns, before any migration), the VM directories and the
// user image file, and the fake storage told about the disks the VMs had.
func seedFixture(t *testing.T, version string) func(td *testDaemon, l paths.Layout, root string) {
	return func(td *testDaemon, l paths.Layout, root string) {
		t.Helper()
		dir := filepath.Join("..", "..", "testdata", "upgrade", version)
		meta, err := os.ReadFile(filepath.Join(dir, "root.txt"))
		if err != nil {
			t.Fatal(err)
		}
		oldRoot := strings.SplitN(string(meta), "\n", 2)[0]
		b, err := os.ReadFile(filepath.Join(dir, "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.DBPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", "file:"+l.DBPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// The v1 columns that hold paths.
		for table, cols := range map[string][]string{
			"vms":    {"dir", "overlay_path", "work_disk", "kernel", "initrd", "base_image", "handle"},
			"images": {"path", "kernel", "initrd", "modules"},
		} {
			for _, c := range cols {
				if _, err := db.Exec(`UPDATE `+table+` SET `+c+` = replace(`+c+`, ?, ?)`, oldRoot, root); err != nil {
					t.Fatal(err)
				}
			}
		}
		rows, err := db.Query(`SELECT dir, state, overlay_path, work_disk, base_image FROM vms`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		ctx := context.Background()
		for rows.Next() {
			var vdir, state, ov, work, base string
			if err := rows.Scan(&vdir, &state, &ov, &work, &base); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(vdir, 0o700); err != nil {
				t.Fatal(err)
			}
			if state == api.StateCreating {
				continue
			}
			if _, err := td.disks.CreateOverlay(ctx, storage.KindQcow2, base, ov, 0); err != nil {
				t.Fatal(err)
			}
			if err := td.disks.CreateWorkDisk(ctx, work, 1<<30, storage.Identity{}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(base); errors.Is(err, os.ErrNotExist) {
				_ = os.MkdirAll(filepath.Dir(base), 0o755)
				if err := os.WriteFile(base, make([]byte, 64<<10), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestV1StateAdoptsStartsStopsAndDeletes runs today's daemon on the state
// database of banger v1: adoption marks the VMs whose process is gone
// stopped and removes the half-created one; every other VM then starts with
// its recorded resources, stops and is deleted, leaving no tap or NAT rule.
func TestV1StateAdoptsStartsStopsAndDeletes(t *testing.T) {
	td := newTestDaemonSeeded(t, storage.KindQcow2, seedFixture(t, "v1"))
	ctx := context.Background()
	td.adopt(ctx)

	if _, err := td.store.GetVM(ctx, "half-lynx"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half-created VM after adoption: %v; want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(td.layout.VMsDir, "half-lynx")); !os.IsNotExist(err) {
		t.Fatalf("half-created VM's dir after adoption: %v", err)
	}
	type want struct {
		nat        bool
		vcpus, mem int
		image      string
	}
	wants := map[string]want{
		"calm-otter":  {true, 2, 1024, "default"},
		"busy-heron":  {false, 2, 1024, "tools"},
		"quiet-wren":  {true, 1, 768, "default"},
		"broken-newt": {false, 2, 1024, "default"},
	}
	vms, err := td.store.ListVMs(ctx)
	if err != nil || len(vms) != len(wants) {
		t.Fatalf("VMs after adoption: %d, %v; want %d", len(vms), err, len(wants))
	}
	for _, v := range vms {
		if v.State != api.StateStopped {
			t.Errorf("%s is %s after adoption; its process is gone, want stopped", v.Name, v.State)
		}
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 0 {
		t.Fatalf("NAT rules for stopped VMs: %+v", rules)
	}

	for name, w := range wants {
		vm, err := td.startVM(ctx, name, false, false, api.NopReporter{})
		if err != nil {
			t.Fatalf("start %s from v1 state: %v", name, err)
		}
		if vm.State != api.StateRunning || vm.Image != w.image {
			t.Fatalf("%s after start: %+v", name, vm)
		}
		v, _ := td.store.GetVM(ctx, name)
		h, _ := v.Process()
		fv, ok := td.vmm.VM(h)
		if !ok {
			t.Fatalf("%s: no VMM started", name)
		}
		sp := fv.Spec
		if sp.VCPUs != w.vcpus || sp.MemoryMiB != w.mem || sp.Net == nil || sp.Net.Tap != v.Tap || sp.Net.MAC != v.MAC ||
			sp.Drives[0].Path != v.OverlayPath || sp.Drives[1].Path != v.WorkDisk || !strings.Contains(sp.Cmdline, "banger.ip="+v.IP+"/") {
			t.Fatalf("%s: spec handed to the VMM %+v does not match its v1 record %+v", name, sp, v)
		}
		if _, ok := td.net.HasTap(v.Tap); !ok {
			t.Fatalf("%s: tap %s not created", name, v.Tap)
		}
	}
	rules, _ := td.fw.List(ctx)
	var natted []string
	for _, r := range rules {
		natted = append(natted, r.Name)
	}
	if strings.Join(natted, ",") != "calm-otter,quiet-wren" && strings.Join(natted, ",") != "quiet-wren,calm-otter" {
		t.Fatalf("NAT rules = %v; want calm-otter and quiet-wren", natted)
	}

	for name := range wants {
		vm, err := td.stopVM(ctx, name, api.NopReporter{})
		if err != nil || vm.State != api.StateStopped {
			t.Fatalf("stop %s: %+v, %v", name, vm, err)
		}
		if err := td.deleteVM(ctx, name, false); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
	}
	if vms, _ := td.store.ListVMs(ctx); len(vms) != 0 {
		t.Fatalf("VMs left after deleting all: %d", len(vms))
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 0 {
		t.Fatalf("NAT rules left: %+v", rules)
	}
	if ports, _ := td.net.Ports(ctx, td.cfg.BridgeName); len(ports) != 0 {
		t.Fatalf("taps left: %v", ports)
	}
	if err := td.store.DeleteImage(ctx, "tools"); err != nil {
		t.Fatalf("delete the v1 user image: %v", err)
	}
}
