package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/model"
)

// TestSavedStateAndSnapshots: the saved state and resume record persist,
// snapshots are unique per VM, and deleting a VM deletes its snapshots.
func TestSavedStateAndSnapshots(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.PutImage(ctx, &Image{Name: "default", Path: "/x.ext4", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v := testVM("sleepy", "172.30.0.2", "tap0")
	v.State, v.SavedState, v.ResumeOnStart = "suspended", &model.SavedState{Dir: "/d"}, true
	if err := s.InsertVM(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetVM(ctx, "sleepy")
	if err != nil || got.SavedState == nil || got.SavedState.Dir != "/d" || !got.ResumeOnStart {
		t.Fatalf("got %+v, %v", got, err)
	}
	got.SavedState, got.ResumeOnStart = nil, false
	if err := s.UpdateVM(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.GetVM(ctx, "sleepy"); got.SavedState != nil || got.ResumeOnStart {
		t.Fatalf("update not kept: %+v", got)
	}
	sn := &Snapshot{VM: "sleepy", Name: "s1", Dir: "/d/s1", Memory: true, Method: "reflink", Allocated: 42, CreatedAt: time.Now()}
	if err := s.InsertSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSnapshot(ctx, sn); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate snapshot: %v", err)
	}
	list, err := s.ListSnapshots(ctx, "sleepy")
	if err != nil || len(list) != 1 || !list[0].Memory || list[0].Method != "reflink" || list[0].Allocated != 42 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := s.DeleteVM(ctx, "sleepy"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSnapshot(ctx, "sleepy", "s1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot survived its VM: %v", err)
	}
}

// TestSnapshotFilesRoundTrip: a snapshot's files, saved state included,
// read back as written; an unreadable column reads as no files.
func TestSnapshotFilesRoundTrip(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.PutImage(ctx, &Image{Name: "default", Path: "/x.ext4", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertVM(ctx, testVM("snappy", "172.30.0.3", "tap3")); err != nil {
		t.Fatal(err)
	}
	files := model.SnapshotFiles{Overlay: "/d/s1/rootfs.qcow2", WorkDisk: "/d/s1/work.ext4",
		State: &model.SavedState{Dir: "/d/s1/state", Driver: "qemu", VCPUs: 2, MemoryMiB: 1024, Size: 7}}
	if err := s.InsertSnapshot(ctx, &Snapshot{VM: "snappy", Name: "s1", Dir: "/d/s1", Files: files, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSnapshot(ctx, "snappy", "s1")
	if err != nil || !reflect.DeepEqual(got.Files, files) {
		t.Fatalf("files = %+v (%v); want %+v", got.Files, err, files)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE snapshots SET meta = '{broken' WHERE name = 's1'`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSnapshot(ctx, "snappy", "s1"); err != nil || got.Files.Overlay != "" {
		t.Fatalf("unreadable files = %+v, %v; want none", got, err)
	}
}
