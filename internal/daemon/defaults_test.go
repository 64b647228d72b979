package daemon

import (
	"context"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/units"
)

// TestConfigDefaultsReachTheVM: a create that names no resources gets the
// configured defaults (not the built-in ones) in its record, in the spec
// handed to the VMM, in its work disk and in its system overlay; a create
// that names them gets what it named. The configured vCPU count is the
// lowest accepted (1), which an off-by-one bound would refuse.
func TestConfigDefaultsReachTheVM(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	td.cfg.DefaultVCPUs, td.cfg.DefaultMemoryMiB = 1, 384
	td.cfg.DefaultDiskSize, td.cfg.SystemDiskSize = 3*units.GiB, 5*units.GiB

	check := func(vm *model.VM, vcpus, mem int, disk, system int64) {
		t.Helper()
		if vm.VCPUs != vcpus || vm.MemoryMiB != mem || vm.DiskSize != disk {
			t.Errorf("%s: record has %d vcpus, %d MiB, disk %d; want %d, %d, %d", vm.Name, vm.VCPUs, vm.MemoryMiB, vm.DiskSize, vcpus, mem, disk)
		}
		v, err := td.store.GetVM(ctx, vm.Name)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := v.Process()
		fv, ok := td.vmm.VM(h)
		if !ok || fv.Spec.VCPUs != vcpus || fv.Spec.MemoryMiB != mem {
			t.Errorf("%s: VMM spec has %d vcpus, %d MiB; want %d, %d", vm.Name, fv.Spec.VCPUs, fv.Spec.MemoryMiB, vcpus, mem)
		}
		if got := td.disks.WorkDisks[vm.WorkDisk]; got != disk {
			t.Errorf("%s: work disk of %d bytes, want %d", vm.Name, got, disk)
		}
		if got := td.disks.OverlaySize[vm.OverlayPath]; got != system {
			t.Errorf("%s: system overlay of %d bytes, want %d (system_disk_size)", vm.Name, got, system)
		}
	}

	vm, err := td.createVM(ctx, api.CreateVMRequest{Name: "plain", NoWait: true}, api.NopReporter{})
	if err != nil {
		t.Fatalf("create with the configured defaults (default_vcpus = 1): %v", err)
	}
	check(vm, 1, 384, 3*units.GiB, 5*units.GiB)

	vm, err = td.createVM(ctx, api.CreateVMRequest{Name: "named", NoWait: true, VCPUs: 32, MemoryMiB: 128, DiskSize: 2 * units.GiB}, api.NopReporter{})
	if err != nil {
		t.Fatalf("create at the bounds (32 vcpus, 128 MiB): %v", err)
	}
	check(vm, 32, 128, 2*units.GiB, 5*units.GiB)

	// One resource named at a time: the others still get their defaults.
	for i, req := range []api.CreateVMRequest{{VCPUs: 3}, {MemoryMiB: 640}, {DiskSize: 4 * units.GiB}} {
		req.Name, req.NoWait = []string{"cpus", "mem", "disk"}[i], true
		vm, err := td.createVM(ctx, req, api.NopReporter{})
		if err != nil {
			t.Fatal(err)
		}
		want := [3]int64{1, 384, 3 * units.GiB}
		for j, set := range []int64{int64(req.VCPUs), int64(req.MemoryMiB), req.DiskSize} {
			if set != 0 {
				want[j] = set
			}
		}
		check(vm, int(want[0]), int(want[1]), want[2], 5*units.GiB)
	}
}
