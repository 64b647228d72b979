package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/model"
)

// The tests in this file run every query over several records chosen so
// that a wrong WHERE clause, a wrong column, a wrong join or a wrong order
// gives a different answer than the right one: two VMs with snapshots of
// the same name, an image that is one VM's image and (by name) another's
// base, records inserted out of order, a VM without an address.

// multiFixture is three images and three VMs:
//
//	zeta  image img-a, base "img-b", 172.30.0.9, created first
//	alpha image img-b, base "img-a", no address, created last
//	mid   image img-a, base "img-a", 172.30.0.10, created second
//
// Names, creation times and addresses sort differently, so an ORDER BY on
// the wrong column shows.
func multiFixture(t *testing.T) *Store {
	t.Helper()
	s := openTemp(t)
	ctx := context.Background()
	putImages(t, s, "img-c", "img-a", "img-b")
	vms := []*model.VM{
		{Name: "zeta", Image: "img-a", BaseImage: "img-b", State: "running", VCPUs: 1, MemoryMiB: 512, DiskSize: 1 << 30,
			IP: "172.30.0.9", MAC: "06:00:00:00:00:09", Tap: "tap-z", Dir: "/s/zeta", CreatedAt: created1},
		{Name: "alpha", Image: "img-b", BaseImage: "img-a", State: "stopped", VCPUs: 2, MemoryMiB: 1024, DiskSize: 2 << 30,
			MAC: "06:00:00:00:00:01", Tap: "tap-a", Dir: "/s/alpha", CreatedAt: created2},
		{Name: "mid", Image: "img-a", BaseImage: "img-a", State: "stopped", VCPUs: 3, MemoryMiB: 1536, DiskSize: 3 << 30,
			IP: "172.30.0.10", MAC: "06:00:00:00:00:05", Tap: "tap-m", Dir: "/s/mid", CreatedAt: created1.Add(time.Hour)},
	}
	for _, v := range vms {
		if err := s.InsertVM(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func vmNames(vs []*model.VM) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestVMQueriesOverSeveralRecords(t *testing.T) {
	s := multiFixture(t)
	ctx := context.Background()

	list, err := s.ListVMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := vmNames(list); !reflect.DeepEqual(got, []string{"alpha", "mid", "zeta"}) {
		t.Fatalf("ListVMs order = %v, want by name", got)
	}
	wantIP := map[string]string{"zeta": "172.30.0.9", "alpha": "", "mid": "172.30.0.10"}
	wantCPU := map[string]int{"zeta": 1, "alpha": 2, "mid": 3}
	for _, v := range list {
		if v.IP != wantIP[v.Name] || v.VCPUs != wantCPU[v.Name] {
			t.Errorf("ListVMs: %s has ip %q vcpus %d, want %q %d", v.Name, v.IP, v.VCPUs, wantIP[v.Name], wantCPU[v.Name])
		}
	}
	for name, ip := range wantIP {
		v, err := s.GetVM(ctx, name)
		if err != nil {
			t.Fatalf("GetVM(%s): %v", name, err)
		}
		if v.Name != name || v.IP != ip || v.VCPUs != wantCPU[name] {
			t.Errorf("GetVM(%s) = %s ip %q vcpus %d, want ip %q vcpus %d", name, v.Name, v.IP, v.VCPUs, ip, wantCPU[name])
		}
	}

	used, err := s.VMsUsingImage(ctx, "img-a")
	if err != nil || !reflect.DeepEqual(used, []string{"mid", "zeta"}) {
		t.Errorf("VMsUsingImage(img-a) = %v, %v; want [mid zeta] (alpha only has it as base)", used, err)
	}
	used, err = s.VMsUsingImage(ctx, "img-b")
	if err != nil || !reflect.DeepEqual(used, []string{"alpha"}) {
		t.Errorf("VMsUsingImage(img-b) = %v, %v; want [alpha] (zeta only has it as base)", used, err)
	}
	if used, err := s.VMsUsingImage(ctx, "img-c"); err != nil || len(used) != 0 {
		t.Errorf("VMsUsingImage(img-c) = %v, %v; want none", used, err)
	}

	ips, err := s.UsedAddresses(ctx)
	if err != nil || !reflect.DeepEqual(ips, []string{"172.30.0.10", "172.30.0.9"}) {
		t.Errorf("UsedAddresses = %v, %v", ips, err)
	}

	// Updating one VM changes that VM only.
	mid, _ := s.GetVM(ctx, "mid")
	mid.State, mid.VCPUs = "running", 7
	if err := s.UpdateVM(ctx, mid); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"zeta": 1, "alpha": 2, "mid": 7} {
		if v, _ := s.GetVM(ctx, name); v.VCPUs != want {
			t.Errorf("after updating mid, %s has %d vcpus, want %d", name, v.VCPUs, want)
		}
	}

	// Deleting one VM deletes that VM and its address only.
	if err := s.DeleteVM(ctx, "zeta"); err != nil {
		t.Fatal(err)
	}
	list, _ = s.ListVMs(ctx)
	if got := vmNames(list); !reflect.DeepEqual(got, []string{"alpha", "mid"}) {
		t.Errorf("after deleting zeta: %v", got)
	}
	if ips, _ := s.UsedAddresses(ctx); !reflect.DeepEqual(ips, []string{"172.30.0.10"}) {
		t.Errorf("after deleting zeta, addresses = %v", ips)
	}
	if err := s.DeleteVM(ctx, "zeta"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting zeta twice: %v, want ErrNotFound", err)
	}
}

func TestImageQueriesOverSeveralRecords(t *testing.T) {
	s := multiFixture(t)
	ctx := context.Background()
	list, err := s.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, im := range list {
		names = append(names, im.Name)
		if im.Path != "/"+im.Name+".ext4" {
			t.Errorf("ListImages: %s has path %s", im.Name, im.Path)
		}
	}
	if !reflect.DeepEqual(names, []string{"img-a", "img-b", "img-c"}) {
		t.Fatalf("ListImages = %v, want by name", names)
	}
	for _, n := range names {
		if im, err := s.GetImage(ctx, n); err != nil || im.Name != n || im.Path != "/"+n+".ext4" {
			t.Errorf("GetImage(%s) = %+v, %v", n, im, err)
		}
	}
	// PutImage over one record leaves the others alone.
	if err := s.PutImage(ctx, &Image{Name: "img-b", Path: "/new-b.ext4", CreatedAt: created2}); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]string{"img-a": "/img-a.ext4", "img-b": "/new-b.ext4", "img-c": "/img-c.ext4"} {
		if im, _ := s.GetImage(ctx, n); im.Path != want {
			t.Errorf("after PutImage(img-b), %s has path %s, want %s", n, im.Path, want)
		}
	}
	// An image in use is kept; an unused one goes, alone.
	if err := s.DeleteImage(ctx, "img-a"); err == nil {
		t.Error("deleting img-a, used by two VMs, succeeded")
	}
	if err := s.DeleteImage(ctx, "img-c"); err != nil {
		t.Fatal(err)
	}
	list, _ = s.ListImages(ctx)
	if len(list) != 2 || list[0].Name != "img-a" || list[1].Name != "img-b" {
		t.Errorf("after deleting img-c: %+v", list)
	}
	if err := s.DeleteImage(ctx, "img-c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting img-c twice: %v, want ErrNotFound", err)
	}
}

func TestSnapshotQueriesOverSeveralRecords(t *testing.T) {
	s := multiFixture(t)
	ctx := context.Background()
	// Two VMs with snapshots of the same names; each VM's are created in an
	// order that differs from their names' order.
	snaps := []*Snapshot{
		{VM: "zeta", Name: "s2", Dir: "/z/s2", Allocated: 1, CreatedAt: created1},
		{VM: "zeta", Name: "s1", Dir: "/z/s1", Allocated: 2, CreatedAt: created1.Add(time.Minute)},
		{VM: "mid", Name: "s1", Dir: "/m/s1", Allocated: 3, Memory: true, CreatedAt: created1.Add(2 * time.Minute)},
		{VM: "mid", Name: "s2", Dir: "/m/s2", Allocated: 4, CreatedAt: created1.Add(3 * time.Minute)},
		{VM: "alpha", Name: "zeta", Dir: "/a/zeta", Allocated: 5, CreatedAt: created1.Add(4 * time.Minute)},
	}
	for _, sn := range snaps {
		if err := s.InsertSnapshot(ctx, sn); err != nil {
			t.Fatalf("insert %s/%s: %v", sn.VM, sn.Name, err)
		}
	}
	dirs := func(l []*Snapshot) []string {
		var out []string
		for _, sn := range l {
			out = append(out, sn.Dir)
		}
		return out
	}
	for vm, want := range map[string][]string{"zeta": {"/z/s2", "/z/s1"}, "mid": {"/m/s1", "/m/s2"}, "alpha": {"/a/zeta"}} {
		l, err := s.ListSnapshots(ctx, vm)
		if err != nil || !reflect.DeepEqual(dirs(l), want) {
			t.Errorf("ListSnapshots(%s) = %v, %v; want %v (oldest first)", vm, dirs(l), err, want)
		}
	}
	for _, sn := range snaps {
		got, err := s.GetSnapshot(ctx, sn.VM, sn.Name)
		if err != nil || got.Dir != sn.Dir || got.VM != sn.VM || got.Allocated != sn.Allocated || got.Memory != sn.Memory {
			t.Errorf("GetSnapshot(%s, %s) = %+v, %v; want dir %s", sn.VM, sn.Name, got, err, sn.Dir)
		}
	}
	// A snapshot named like another VM is not that VM's snapshot.
	if _, err := s.GetSnapshot(ctx, "zeta", "alpha"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSnapshot(zeta, alpha): %v, want ErrNotFound", err)
	}
	if _, err := s.GetSnapshot(ctx, "alpha", "s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSnapshot(alpha, s1): %v, want ErrNotFound", err)
	}

	// Deleting zeta's s1 leaves mid's s1 and zeta's s2.
	if err := s.DeleteSnapshot(ctx, "zeta", "s1"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListSnapshots(ctx, "zeta"); !reflect.DeepEqual(dirs(l), []string{"/z/s2"}) {
		t.Errorf("after deleting zeta/s1, zeta has %v", dirs(l))
	}
	if l, _ := s.ListSnapshots(ctx, "mid"); !reflect.DeepEqual(dirs(l), []string{"/m/s1", "/m/s2"}) {
		t.Errorf("after deleting zeta/s1, mid has %v", dirs(l))
	}
	if err := s.DeleteSnapshot(ctx, "zeta", "s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting zeta/s1 twice: %v, want ErrNotFound", err)
	}
	// Deleting a VM deletes its snapshots only.
	if err := s.DeleteVM(ctx, "mid"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListSnapshots(ctx, "zeta"); !reflect.DeepEqual(dirs(l), []string{"/z/s2"}) {
		t.Errorf("after deleting mid, zeta has %v", dirs(l))
	}
	if l, _ := s.ListSnapshots(ctx, "mid"); len(l) != 0 {
		t.Errorf("mid's snapshots outlived it: %v", dirs(l))
	}
}
