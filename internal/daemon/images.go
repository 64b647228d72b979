package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/store"
)

// DefaultImageName is the image registered from the bundle's default rootfs.
const DefaultImageName = "default"

// BaseImageName is the image registered from the bundle's plain base rootfs
// (default_base_rootfs, else rootfs.ext4) when the bundle has one apart
// from the default rootfs; `image build` starts from it.
const BaseImageName = "base"

// registerBundleImage (re)registers the bundle's default rootfs as the
// "default" image so new VMs can boot without any image build.
func (d *Daemon) registerBundleImage(ctx context.Context) error {
	if d.bundleErr != nil {
		return d.bundleErr
	}
	b := d.bundle
	if b.Rootfs == "" {
		return fmt.Errorf("bundle %s names no default rootfs", b.Dir)
	}
	st, err := os.Stat(b.Rootfs)
	if err != nil {
		return fmt.Errorf("default rootfs: %w; %s", err, bundleHint)
	}
	var pkgs []string
	if b.PackagesFile != "" {
		if data, err := os.ReadFile(b.PackagesFile); err == nil {
			for _, l := range strings.Split(string(data), "\n") {
				l = strings.TrimSpace(l)
				if l != "" && !strings.HasPrefix(l, "#") {
					pkgs = append(pkgs, l)
				}
			}
		}
	}
	if err := d.store.PutImage(ctx, &store.Image{
		Name: DefaultImageName, Path: b.Rootfs, Kernel: d.bootKernel(), Initrd: b.Initrd,
		Modules: b.ModulesDir, Packages: pkgs, Size: st.Size(), Builtin: true, CreatedAt: st.ModTime(),
	}); err != nil {
		return err
	}
	return d.registerBaseImage(ctx, pkgs)
}

// registerBaseImage (re)registers the bundle's base rootfs as "base", or
// drops a stale "base" record when the bundle no longer has a separate one
// (and no VM uses it). A user-built image named "base" is left alone.
func (d *Daemon) registerBaseImage(ctx context.Context, pkgs []string) error {
	b := d.bundle
	old, err := d.store.GetImage(ctx, BaseImageName)
	if err == nil && !old.Builtin {
		d.log.Warn("an image named base exists; the bundle's base rootfs is not registered and image build starts from it", "path", old.Path)
		return nil
	}
	st, serr := os.Stat(b.BaseRootfs)
	if b.BaseRootfsFallback || b.BaseRootfs == b.Rootfs || serr != nil {
		if err == nil {
			if used, _ := d.store.VMsUsingImage(ctx, BaseImageName); len(used) == 0 {
				return d.store.DeleteImage(ctx, BaseImageName)
			}
		}
		return nil
	}
	return d.store.PutImage(ctx, &store.Image{
		Name: BaseImageName, Path: b.BaseRootfs, Kernel: d.bootKernel(), Initrd: b.Initrd,
		Modules: b.ModulesDir, Packages: pkgs, Size: st.Size(), Builtin: true, CreatedAt: st.ModTime(),
	})
}

// bootKernel picks the bundle kernel the selected driver boots.
func (d *Daemon) bootKernel() string {
	b := d.bundle
	if d.driver == "firecracker" && b.Vmlinux != "" {
		return b.Vmlinux
	}
	if d.driver == "qemu" && b.BzImage != "" {
		return b.BzImage
	}
	return b.Kernel
}

func imageToAPI(im *store.Image, usedBy []string) api.Image {
	return api.Image{Name: im.Name, Path: im.Path, Kernel: im.Kernel, Initrd: im.Initrd, Modules: im.Modules,
		Packages: im.Packages, Size: im.Size, Builtin: im.Builtin, CreatedAt: im.CreatedAt, UsedBy: usedBy}
}

func (d *Daemon) handleListImages(w http.ResponseWriter, r *http.Request) {
	ims, err := d.store.ListImages(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]api.Image, 0, len(ims))
	for _, im := range ims {
		used, _ := d.store.VMsUsingImage(r.Context(), im.Name)
		out = append(out, imageToAPI(im, used))
	}
	writeJSON(w, http.StatusOK, out)
}

// loadImage loads an image record; a missing one is a 404 that says what to do.
func (d *Daemon) loadImage(ctx context.Context, name string) (*store.Image, error) {
	im, err := d.store.GetImage(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, model.NoSuchImage(name)
	}
	return im, err
}

func (d *Daemon) handleGetImage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	im, err := d.loadImage(r.Context(), name)
	if err != nil {
		writeError(w, err)
		return
	}
	used, _ := d.store.VMsUsingImage(r.Context(), name)
	writeJSON(w, http.StatusOK, imageToAPI(im, used))
}

func (d *Daemon) handleDeleteImage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	im, err := d.loadImage(r.Context(), name)
	if err != nil {
		writeError(w, err)
		return
	}
	if im.Builtin {
		key := "default_rootfs"
		if name == BaseImageName {
			key = "default_base_rootfs"
		}
		writeError(w, model.Conflict("image %q comes from the runtime bundle and cannot be deleted; set %s to use another", name, key))
		return
	}
	used, err := d.store.VMsUsingImage(r.Context(), name)
	if err != nil {
		writeError(w, err)
		return
	}
	if len(used) > 0 {
		writeError(w, model.Conflict("image %q is used by %s; delete those VMs first", name, strings.Join(used, ", ")))
		return
	}
	if err := d.store.DeleteImage(r.Context(), name); err != nil {
		writeError(w, err)
		return
	}
	if err := d.storage.RemoveImage(im.Path); err != nil {
		d.log.Warn("remove image file", "path", im.Path, "err", err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

func (d *Daemon) handleBuildImage(w http.ResponseWriter, r *http.Request) {
	streamImageJob(w, r, d.buildImage)
}

// streamImageJob decodes a request body of type T and streams the progress
// and result of job (an image build or save, at most 30 minutes).
func streamImageJob[T any](w http.ResponseWriter, r *http.Request, job func(context.Context, T, api.Reporter) (*api.Image, error)) {
	var req T
	if err := decode(r, &req); err != nil {
		writeError(w, err)
		return
	}
	stream(w, func(rep api.Reporter) (any, error) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Minute)
		defer cancel()
		return job(ctx, req, rep)
	})
}
