package daemon

import (
	"context"
	"testing"

	"github.com/bangerdev/banger/internal/api"
)

// TestCloneCarriesTheSourcesMachine: a clone gets the source's vCPUs,
// memory, work disk size, kernel, initrd and base image (not the
// configured defaults), in its record and in the spec its VMM boots.
func TestCloneCarriesTheSourcesMachine(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.createVM(ctx, api.CreateVMRequest{Name: "origin", VCPUs: 3, MemoryMiB: 768, DiskSize: 2 << 30, NoWait: true}, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := td.stopVM(ctx, "origin", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	// The source booted an initrd (an image built with one).
	sv, _ := td.store.GetVM(ctx, "origin")
	sv.Initrd = sv.Kernel + ".initrd"
	if err := td.store.UpdateVM(ctx, sv); err != nil {
		t.Fatal(err)
	}
	if _, err := td.cloneVM(ctx, "origin", api.CloneRequest{Name: "copy", NoWait: true}, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	cv, _ := td.store.GetVM(ctx, "copy")
	if cv.VCPUs != 3 || cv.MemoryMiB != 768 || cv.DiskSize != 2<<30 {
		t.Errorf("clone has %d vcpus, %d MiB, disk %d; want the source's 3, 768, %d", cv.VCPUs, cv.MemoryMiB, cv.DiskSize, 2<<30)
	}
	if cv.Kernel != sv.Kernel || cv.Initrd != sv.Initrd || cv.BaseImage != sv.BaseImage {
		t.Errorf("clone boots kernel %q initrd %q base %q; want the source's %q %q %q", cv.Kernel, cv.Initrd, cv.BaseImage, sv.Kernel, sv.Initrd, sv.BaseImage)
	}
	fv, _ := td.fakeVM(t, "copy")
	if fv.Spec.VCPUs != 3 || fv.Spec.MemoryMiB != 768 || fv.Spec.Initrd != sv.Initrd {
		t.Errorf("clone's VMM spec: %d vcpus, %d MiB, initrd %q", fv.Spec.VCPUs, fv.Spec.MemoryMiB, fv.Spec.Initrd)
	}
}
