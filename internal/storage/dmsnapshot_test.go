package storage

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/bangerdev/banger/internal/testenv"
)

func TestSnapshotTable(t *testing.T) {
	got := snapshotTable((1<<30)/512, "/dev/loop3", "/dev/loop4")
	if want := "0 2097152 snapshot /dev/loop3 /dev/loop4 P 8"; got != want {
		t.Errorf("table = %q, want %q", got, want)
	}
	if got, want := dmCreateArgs("banger-ov-x", got), []string{"dmsetup", "create", "banger-ov-x", "--table", "0 2097152 snapshot /dev/loop3 /dev/loop4 P 8"}; !reflect.DeepEqual(got, want) {
		t.Errorf("create argv = %q", got)
	}
	if got := losetupAttachArgs("/b.ext4", true); !reflect.DeepEqual(got, []string{"losetup", "--find", "--show", "--read-only", "/b.ext4"}) {
		t.Errorf("losetup argv = %q", got)
	}
	if got := dmRemoveArgs("banger-ov-x"); !reflect.DeepEqual(got, []string{"dmsetup", "remove", "--retry", "banger-ov-x"}) {
		t.Errorf("remove argv = %q", got)
	}
}

func TestDMName(t *testing.T) {
	a, b := dmName("/var/lib/banger/vms/a/root.cow"), dmName("/var/lib/banger/vms/b/root.cow")
	if a == b || a != dmName("/var/lib/banger/vms/a/root.cow") {
		t.Errorf("names not stable and distinct: %s %s", a, b)
	}
	if !regexp.MustCompile(`^banger-ov-[0-9a-f]{16}$`).MatchString(a) {
		t.Errorf("name %q", a)
	}
}

func TestCowSize(t *testing.T) {
	for _, base := range []int64{1 << 20, 1 << 30, 10<<30 + 4096} {
		c := cowSize(base)
		// every 4 KiB chunk may need copying, plus 16 bytes of metadata each
		if need := base + base/4096*16 + 4096; c < need || c%(1<<20) != 0 {
			t.Errorf("cowSize(%d) = %d, need ≥ %d in whole MiB", base, c, need)
		}
	}
}

// TestDMSnapshotOverlay runs the real thing where device-mapper exists.
func TestDMSnapshotOverlay(t *testing.T) {
	testenv.RequireRoot(t, "creates device-mapper snapshots")
	if a := probeDM(); !a.OK {
		t.Skip("dm-snapshot unavailable: " + a.Reason)
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.ext4")
	makeBase(t, base, 64<<20)
	before := fileHash(t, base)
	dst := filepath.Join(dir, "root.cow")
	ov, err := (Host{}).CreateOverlay(testCtx(t), KindDMSnapshot, base, dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = (Host{}).RemoveOverlay(testCtx(t), ov) })
	if ov.Device == "" || ov.DiskPath() != ov.Device {
		t.Fatalf("overlay = %+v", ov)
	}
	writeAt(t, ov.Device, 0, 0xab, 4096)
	if fileHash(t, base) != before {
		t.Error("writing the snapshot changed the base")
	}
	if err := (Host{}).DeactivateOverlay(testCtx(t), ov); err != nil {
		t.Fatal(err)
	}
	if ov, err = (Host{}).ActivateOverlay(testCtx(t), ov); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(ov.Device)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	_, err = f.ReadAt(b, 0)
	f.Close()
	if err != nil || b[0] != 0xab {
		t.Errorf("write lost across deactivate/activate: %x %v", b, err)
	}
	if err := (Host{}).RemoveOverlay(testCtx(t), ov); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ov.Device); err == nil {
		t.Error("mapping still present")
	}
}
