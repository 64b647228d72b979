package storage

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func allocated(t *testing.T, path string) int64 {
	t.Helper()
	_, a, err := (Host{}).ImageInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestQcow2Overlay(t *testing.T) {
	requireTools(t, "qemu-img", "qemu-io")
	dir := t.TempDir()
	base := filepath.Join(dir, "base.ext4")
	makeBase(t, base, 64<<20)
	if err := (Host{}).MakeReadOnly(base); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, base)
	dst := filepath.Join(dir, "vm", "root.qcow2")
	if err := os.Mkdir(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	ov, err := (Host{}).CreateOverlay(testCtx(t), KindQcow2, base, dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Format != FormatQcow2 || ov.DiskPath() != dst || ov.Base != base {
		t.Errorf("overlay = %+v", ov)
	}
	var info struct {
		Format          string `json:"format"`
		VirtualSize     int64  `json:"virtual-size"`
		BackingFilename string `json:"backing-filename"`
		BackingFormat   string `json:"backing-filename-format"`
	}
	if err := json.Unmarshal([]byte(run(t, "qemu-img", "info", "--output=json", dst)), &info); err != nil {
		t.Fatal(err)
	}
	if info.Format != "qcow2" || info.BackingFilename != base || info.BackingFormat != "raw" || info.VirtualSize != 64<<20 {
		t.Errorf("qemu-img info = %+v", info)
	}
	if a := allocated(t, dst); a > 1<<20 {
		t.Errorf("qcow2 overlay occupies %d bytes: base was copied?", a)
	}
	run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 4k", dst)
	if out := run(t, "qemu-io", "-f", "qcow2", "-c", "read -P 0xab 0 4k", "-c", "read -P 0x22 32M 4k", dst); strings.Contains(out, "fail") {
		t.Errorf("read through overlay: %s", out)
	}
	if fileHash(t, base) != before {
		t.Error("writing through the overlay changed the base")
	}
	if err := (Host{}).RemoveOverlay(testCtx(t), ov); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("overlay still there: %v", err)
	}
	if err := (Host{}).RemoveOverlay(testCtx(t), ov); err != nil {
		t.Errorf("second remove: %v", err)
	}
}

func TestSparseCopyKeepsHoles(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.ext4")
	makeBase(t, base, 64<<20)
	writeAt(t, base, 40<<20, 0, 1<<20) // allocated zeros become a hole
	dst := filepath.Join(dir, "root.img")
	ov, err := (Host{}).CreateOverlay(testCtx(t), KindSparseCopy, base, dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Format != FormatRaw || ov.Kind != KindSparseCopy {
		t.Errorf("overlay = %+v", ov)
	}
	if fileHash(t, dst) != fileHash(t, base) {
		t.Fatal("copy differs from base")
	}
	b, d := allocated(t, base), allocated(t, dst)
	if d > b || d > 1<<20 {
		t.Errorf("copy occupies %d bytes, base %d: holes not kept", d, b)
	}
	if d == 0 {
		t.Error("copy occupies nothing: data not written")
	}
	if st, _ := os.Stat(dst); st.Sys().(*syscall.Stat_t).Blocks*512 != d || st.Size() != 64<<20 {
		t.Errorf("size = %d", st.Size())
	}
}

func TestCreateOverlayFailureCleansUp(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.ext4")
	makeBase(t, base, 64<<20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, k := range []Kind{KindSparseCopy, KindQcow2} {
		if k == KindQcow2 && !haveQemuImg() {
			continue
		}
		dst := filepath.Join(dir, string(k)+".img")
		if _, err := (Host{}).CreateOverlay(ctx, k, base, dst, 0); err == nil {
			t.Errorf("%s: want error with a cancelled context", k)
		}
		if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: half-made overlay left behind", k)
		}
	}
	// An existing destination is never overwritten.
	dst := filepath.Join(dir, "taken.img")
	writeAt(t, dst, 0, 7, 3)
	if _, err := (Host{}).CreateOverlay(testCtx(t), KindSparseCopy, base, dst, 0); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("existing dst: %v", err)
	}
	if st, _ := os.Stat(dst); st.Size() != 3 {
		t.Error("existing file was changed")
	}
	if _, err := (Host{}).CreateOverlay(testCtx(t), "zfs", base, filepath.Join(dir, "x"), 0); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := (Host{}).CreateOverlay(testCtx(t), KindSparseCopy, filepath.Join(dir, "nobase"), filepath.Join(dir, "y"), 0); err == nil {
		t.Error("missing base accepted")
	}
}

func haveQemuImg() bool { return probeQcow2("qemu").OK }

func TestChoose(t *testing.T) {
	dir := t.TempDir()
	if haveQemuImg() {
		r := (Host{}).Probe("qemu", dir)
		k, why := r.Chosen, r.Reason
		if k != KindQcow2 || why != "qemu driver: backing file, O(1)" {
			t.Errorf("qemu: %s (%s)", k, why)
		}
		if d := (Host{}).Probe("qemu", dir).Describe(); !strings.HasPrefix(d, "overlay: qcow2 (qemu driver: backing file, O(1))") {
			t.Errorf("Describe = %q", d)
		}
	}
	r := (Host{}).Probe("firecracker", dir)
	if r.Chosen == KindQcow2 || r.Reason == "" {
		t.Errorf("firecracker: %s (%s)", r.Chosen, r.Reason)
	}
	if !kernelHasDM() && !strings.Contains(r.Describe(), "dm-snapshot unavailable: kernel has no device-mapper") {
		t.Errorf("Describe = %q", r.Describe())
	}
	if !strings.Contains(r.Describe(), "qcow2 unavailable: firecracker driver needs a raw disk") {
		t.Errorf("Describe = %q", r.Describe())
	}
	t.Logf("firecracker here:\n%s", r.Describe())
	if _, err := ParseKind("reflink"); err != nil {
		t.Error(err)
	}
	if _, err := ParseKind("zfs"); err == nil {
		t.Error("ParseKind accepted zfs")
	}
}

func TestHasDeviceMapper(t *testing.T) {
	with := "Character devices:\n  1 mem\n\nBlock devices:\n  7 loop\n253 device-mapper\n254 virtblk\n"
	if !hasDeviceMapper(with) || hasDeviceMapper("Block devices:\n  7 loop\n") {
		t.Error("hasDeviceMapper misreads /proc/devices")
	}
}
