package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/store"
)

func TestBaseImageRegistration(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if got := td.daemon.images.buildBase(ctx); got != DefaultImageName {
		t.Fatalf("bundle without a base rootfs: build base = %q, want default", got)
	}
	base := filepath.Join(td.bundle.Dir, "base.ext4")
	if err := os.WriteFile(base, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	td.bundle.BaseRootfs, td.bundle.BaseRootfsFallback = base, false
	if err := td.daemon.images.registerBundleImage(ctx); err != nil {
		t.Fatal(err)
	}
	im, err := td.store.GetImage(ctx, BaseImageName)
	if err != nil || !im.Builtin || im.Path != base {
		t.Fatalf("base image = %+v, %v; want builtin at %s", im, err, base)
	}
	if got := td.daemon.images.buildBase(ctx); got != BaseImageName {
		t.Fatalf("build base = %q, want base", got)
	}
	// The bundle loses its base: the record goes.
	td.bundle.BaseRootfs, td.bundle.BaseRootfsFallback = td.bundle.Rootfs, true
	if err := td.daemon.images.registerBundleImage(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := td.store.GetImage(ctx, BaseImageName); err == nil {
		t.Fatal("stale base image still registered")
	}
	// A user's own image named base is never replaced.
	mine := &store.Image{Name: BaseImageName, Path: "/x/mine.ext4", Kernel: "k"}
	if err := td.store.InsertImage(ctx, mine); err != nil {
		t.Fatal(err)
	}
	td.bundle.BaseRootfs, td.bundle.BaseRootfsFallback = base, false
	if err := td.daemon.images.registerBundleImage(ctx); err != nil {
		t.Fatal(err)
	}
	if im, _ := td.store.GetImage(ctx, BaseImageName); im == nil || im.Path != "/x/mine.ext4" || im.Builtin {
		t.Fatalf("user image base replaced: %+v", im)
	}
}

func TestSaveImage(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "calm-otter", false); err != nil {
		t.Fatal(err)
	}
	req := api.SaveImageRequest{VM: "calm-otter", Name: "otter-img"}
	if _, err := td.daemon.images.saveImage(ctx, req, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), "--stop") {
		t.Fatalf("save of a running VM: %v", err)
	}
	req.Stop = true
	im, err := td.daemon.images.saveImage(ctx, req, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Name != "otter-img" || im.Builtin || im.Kernel == "" || !strings.HasSuffix(im.Path, "otter-img.ext4") {
		t.Fatalf("saved image = %+v", im)
	}
	if v, _ := td.store.GetVM(ctx, "calm-otter"); v.State != api.StateStopped {
		t.Errorf("VM after save --stop is %s, want stopped", v.State)
	}
	if _, err := td.daemon.images.saveImage(ctx, req, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second save with the same name: %v", err)
	}
	if _, err := td.daemon.images.saveImage(ctx, api.SaveImageRequest{VM: "nope", Name: "x"}, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("save of an unknown VM: %v", err)
	}
	// A VM can boot from the saved image.
	if _, err := td.createVM(ctx, api.CreateVMRequest{Name: "from-saved", Image: "otter-img", NoWait: true, DiskSize: 1 << 30}, api.NopReporter{}); err != nil {
		t.Fatalf("create from the saved image: %v", err)
	}
}
