package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/model"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testVM(name, ip, tap string) *model.VM {
	return &model.VM{Name: name, Image: "default", State: "stopped", VCPUs: 2, MemoryMiB: 1024, DiskSize: 8 << 30,
		IP: ip, MAC: "02:00:00:00:00:01", Tap: tap, Dir: "/tmp/" + name, CreatedAt: time.Now()}
}

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != len(migrations) {
			t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
		}
		s.Close()
	}
}

func TestVMRoundTripAndUniqueness(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.PutImage(ctx, &Image{Name: "default", Path: "/x.ext4", Packages: []string{"git", "curl"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v := testVM("calm-otter", "172.30.0.2", "bgt1")
	v.NAT = true
	if err := s.InsertVM(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetVM(ctx, "calm-otter")
	if err != nil {
		t.Fatal(err)
	}
	if got.IP != "172.30.0.2" || !got.NAT || got.DiskSize != 8<<30 || got.CreatedAt.IsZero() {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if err := s.InsertVM(ctx, testVM("calm-otter", "172.30.0.3", "bgt2")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name: err = %v, want ErrExists", err)
	}
	if err := s.InsertVM(ctx, testVM("other", "172.30.0.2", "bgt3")); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate address: err = %v, want ErrExists", err)
	}
	// The failed insert must not leave a half-written VM behind.
	if _, err := s.GetVM(ctx, "other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed insert left a record: %v", err)
	}
	if err := s.DeleteImage(ctx, "default"); err == nil {
		t.Fatal("deleting an image in use succeeded")
	}
	got.State = "running"
	got.BootTimings = &model.BootTimings{HostMS: 40}
	if err := s.UpdateVM(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, err := s.GetVM(ctx, "calm-otter"); err != nil || again.BootTimings == nil || again.BootTimings.HostMS != 40 {
		t.Fatalf("boot timings not kept: %+v %v", again, err)
	}
	if err := s.DeleteVM(ctx, "calm-otter"); err != nil {
		t.Fatal(err)
	}
	if ips, _ := s.UsedAddresses(ctx); len(ips) != 0 {
		t.Fatalf("address kept after delete: %v", ips)
	}
	im, err := s.GetImage(ctx, "default")
	if err != nil || len(im.Packages) != 2 {
		t.Fatalf("image = %+v, %v", im, err)
	}
}
