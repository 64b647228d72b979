package cli

import (
	"strings"
	"testing"
)

func TestVMSuspendArgs(t *testing.T) {
	e := testEnv()
	var got *SuspendOptions
	run := func(o *SuspendOptions) error { got = o; return nil }
	if err := execute(newVMSuspendCmd(e, run), "--all"); err != nil || !got.All || len(got.Names) != 0 {
		t.Fatalf("--all: %+v %v", got, err)
	}
	if err := execute(newVMSuspendCmd(e, run), "a", "b"); err != nil || got.All || strings.Join(got.Names, ",") != "a,b" {
		t.Fatalf("names: %+v %v", got, err)
	}
	if err := execute(newVMSuspendCmd(e, run), "--all", "a"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("--all with names: %v", err)
	}
	if err := execute(newVMSuspendCmd(e, run)); err == nil || !strings.Contains(err.Error(), "--all") {
		t.Fatalf("no names: %v", err)
	}
}

func TestVMCloneAndSnapshotArgs(t *testing.T) {
	e := testEnv()
	var cl *CloneOptions
	if err := execute(newVMCloneCmd(e, func(o *CloneOptions) error { cl = o; return nil }), "src", "dst", "--nat"); err != nil ||
		cl.Source != "src" || cl.Name != "dst" || !cl.NAT {
		t.Fatalf("clone: %+v %v", cl, err)
	}
	if err := execute(newVMCloneCmd(e, nil), "src"); err == nil || !strings.Contains(err.Error(), "new name") {
		t.Fatalf("clone with one argument: %v", err)
	}
	var sc *SnapshotCreateOptions
	if err := execute(newSnapshotCreateCmd(e, func(o *SnapshotCreateOptions) error { sc = o; return nil }), "vm1", "--memory"); err != nil ||
		sc.VM != "vm1" || sc.Name != "" || !sc.Memory {
		t.Fatalf("snapshot create: %+v %v", sc, err)
	}
	var sr *SnapshotRestoreOptions
	if err := execute(newSnapshotRestoreCmd(e, func(o *SnapshotRestoreOptions) error { sr = o; return nil }), "vm1", "s1", "--force"); err != nil ||
		sr.VM != "vm1" || sr.Name != "s1" || !sr.Force {
		t.Fatalf("snapshot restore: %+v %v", sr, err)
	}
}
