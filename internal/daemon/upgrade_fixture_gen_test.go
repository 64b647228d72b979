//go:build upgradefixture

package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/store"
)

// TestWriteUpgradeFixture writes the state of today's banger into
// $BANGER_UPGRADE_FIXTURE (e.g. testdata/upgrade/v2): the state database made
// by the real daemon code (fake VMM, storage and network), with VMs in every
// state and a user-built image. The VM directories hold nothing under the
// fakes (disks are the fake storage's), so the test recreates them. Run it only to add a fixture for a new
// schema version; never regenerate a directory that has been committed:
//
//	BANGER_UPGRADE_FIXTURE=$PWD/testdata/upgrade/vN go test -tags upgradefixture -run TestWriteUpgradeFixture ./internal/daemon
//
// root.txt records the directory the paths inside the database start with,
// so the upgrade test can move them under its own temporary directory.
func TestWriteUpgradeFixture(t *testing.T) {
	out := os.Getenv("BANGER_UPGRADE_FIXTURE")
	if out == "" {
		t.Fatal("set BANGER_UPGRADE_FIXTURE to the output directory")
	}
	td := newTestDaemon(t)
	write := func() {
		// Closing the store folds its WAL into the database file.
		td.monitors.stopAll()
		if err := td.store.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Error(err)
			return
		}
		state := td.layout.StateDir
		for _, args := range [][]string{
			{"cp", td.layout.DBPath, filepath.Join(out, "state.db")},
		} {
			if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Errorf("%v: %v: %s", args, err, b)
			}
		}
		root := filepath.Dir(td.daemon.opts.RuntimeDir)
		rel, _ := filepath.Rel(root, state)
		if err := os.WriteFile(filepath.Join(out, "root.txt"), []byte(root+"\n"+rel+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	ctx := context.Background()
	root := filepath.Dir(td.daemon.opts.RuntimeDir)
	tools := &store.Image{Name: "tools", Path: filepath.Join(td.layout.ImagesDir, "tools.ext4"),
		Kernel: filepath.Join(td.daemon.opts.RuntimeDir, "bzImage"), Packages: []string{"jq", "curl"}, Size: 64 << 10, CreatedAt: time.Now()}
	if err := os.MkdirAll(td.layout.ImagesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tools.Path, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := td.store.InsertImage(ctx, tools); err != nil {
		t.Fatal(err)
	}
	mk := func(req api.CreateVMRequest) {
		req.NoWait, req.DiskSize = true, 1<<30
		if _, err := td.createVM(ctx, req, api.NopReporter{}); err != nil {
			t.Fatal(err)
		}
	}
	mk(api.CreateVMRequest{Name: "calm-otter", NAT: true})                                 // running, NAT
	mk(api.CreateVMRequest{Name: "busy-heron", Image: "tools", VCPUs: 2, MemoryMiB: 1024}) // running, built image
	mk(api.CreateVMRequest{Name: "quiet-wren", NAT: true, VCPUs: 1, MemoryMiB: 768})       // stopped
	mk(api.CreateVMRequest{Name: "broken-newt"})                                           // killed
	if _, err := td.stopVM(ctx, "quiet-wren", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := td.killVM(ctx, "broken-newt", "KILL"); err != nil {
		t.Fatal(err)
	}
	// Half-created: reserved (record + dir) but never finished, as after a
	// daemon crash during create.
	img, _ := td.store.GetImage(ctx, DefaultImageName)
	if _, err := td.reserveVM(ctx, api.CreateVMRequest{Name: "half-lynx", VCPUs: 1, MemoryMiB: 512, DiskSize: 1 << 30}, img); err != nil {
		t.Fatal(err)
	}
	write()
	t.Logf("fixture root %s", root)
}
