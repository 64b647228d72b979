package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
)

// DefaultImageName is the image registered from the bundle's default rootfs.
const DefaultImageName = "default"

// BaseImageName is the image registered from the bundle's plain base rootfs
// (default_base_rootfs, else rootfs.ext4) when the bundle has one apart
// from the default rootfs; `image build` starts from it.
const BaseImageName = "base"

// images is the image side of the daemon: the runtime bundle's images,
// image build (in a builder VM) and save, listing and deletion. It reaches
// VMs only through builderVMs.
type images struct {
	store   *store.Store
	storage storage.Manager
	facts   hostfacts.Host
	log     *slog.Logger
	vms     builderVMs
	guests  *guests
	checks  *checks
	// dir holds built and saved images; stateDir stages customize.sh.
	dir, stateDir   string
	customizeScript string
	bundle          *bundle.Resolved
	bundleErr       error
	// kernel is the bundle kernel the selected VMM boots.
	kernel string
}

// builderVMs is what image build and save need of the VM lifecycle: a
// builder VM to create, provision over SSH, power off and delete, and the
// VM a save flattens.
type builderVMs interface {
	createVM(ctx context.Context, req api.CreateVMRequest, rep api.Reporter) (*model.VM, error)
	deleteVM(ctx context.Context, name string, force bool) error
	vmLock(name string) func()
	loadVM(ctx context.Context, name string) (*model.VM, error)
	powerOff(ctx context.Context, v *model.VM, rep api.Reporter) error
}

// registerBundleImage (re)registers the bundle's default rootfs as the
// "default" image so new VMs can boot without any image build.
func (m *images) registerBundleImage(ctx context.Context) error {
	if m.bundleErr != nil {
		return m.bundleErr
	}
	b := m.bundle
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
	if err := m.store.PutImage(ctx, &store.Image{
		Name: DefaultImageName, Path: b.Rootfs, Kernel: m.kernel, Initrd: b.Initrd,
		Modules: b.ModulesDir, Packages: pkgs, Size: st.Size(), Builtin: true, CreatedAt: st.ModTime(),
	}); err != nil {
		return err
	}
	return m.registerBaseImage(ctx, pkgs)
}

// registerBaseImage (re)registers the bundle's base rootfs as "base", or
// drops a stale "base" record when the bundle no longer has a separate one
// (and no VM uses it). A user-built image named "base" is left alone.
func (m *images) registerBaseImage(ctx context.Context, pkgs []string) error {
	b := m.bundle
	old, err := m.store.GetImage(ctx, BaseImageName)
	if err == nil && !old.Builtin {
		m.log.Warn("an image named base exists; the bundle's base rootfs is not registered and image build starts from it", "path", old.Path)
		return nil
	}
	st, serr := os.Stat(b.BaseRootfs)
	if b.BaseRootfsFallback || b.BaseRootfs == b.Rootfs || serr != nil {
		if err == nil {
			if used, _ := m.store.VMsUsingImage(ctx, BaseImageName); len(used) == 0 {
				return m.store.DeleteImage(ctx, BaseImageName)
			}
		}
		return nil
	}
	return m.store.PutImage(ctx, &store.Image{
		Name: BaseImageName, Path: b.BaseRootfs, Kernel: m.kernel, Initrd: b.Initrd,
		Modules: b.ModulesDir, Packages: pkgs, Size: st.Size(), Builtin: true, CreatedAt: st.ModTime(),
	})
}

// bootKernel picks the kernel of bundle b that driver boots.
func bootKernel(b *bundle.Resolved, driver string) string {
	if driver == "firecracker" && b.Vmlinux != "" {
		return b.Vmlinux
	}
	if driver == "qemu" && b.BzImage != "" {
		return b.BzImage
	}
	return b.Kernel
}

func imageToAPI(im *store.Image, usedBy []string) api.Image {
	return api.Image{Name: im.Name, Path: im.Path, Kernel: im.Kernel, Initrd: im.Initrd, Modules: im.Modules,
		Packages: im.Packages, Size: im.Size, Builtin: im.Builtin, CreatedAt: im.CreatedAt, UsedBy: usedBy}
}

// list returns every image with the VMs that use it.
func (m *images) list(ctx context.Context) ([]api.Image, error) {
	ims, err := m.store.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Image, 0, len(ims))
	for _, im := range ims {
		used, _ := m.store.VMsUsingImage(ctx, im.Name)
		out = append(out, imageToAPI(im, used))
	}
	return out, nil
}

// get returns the image called name with the VMs that use it.
func (m *images) get(ctx context.Context, name string) (*api.Image, error) {
	im, err := loadImage(ctx, m.store, name)
	if err != nil {
		return nil, err
	}
	used, _ := m.store.VMsUsingImage(ctx, name)
	out := imageToAPI(im, used)
	return &out, nil
}

// loadImage loads an image record; a missing one is a not-found error that
// says what to do.
func loadImage(ctx context.Context, st *store.Store, name string) (*store.Image, error) {
	im, err := st.GetImage(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, model.NoSuchImage(name)
	}
	return im, err
}

// delete removes an image no VM uses; the bundle's images stay.
func (m *images) delete(ctx context.Context, name string) error {
	im, err := loadImage(ctx, m.store, name)
	if err != nil {
		return err
	}
	if im.Builtin {
		key := "default_rootfs"
		if name == BaseImageName {
			key = "default_base_rootfs"
		}
		return model.Conflict("image %q comes from the runtime bundle and cannot be deleted; set %s to use another", name, key)
	}
	used, err := m.store.VMsUsingImage(ctx, name)
	if err != nil {
		return err
	}
	if len(used) > 0 {
		return model.Conflict("image %q is used by %s; delete those VMs first", name, strings.Join(used, ", "))
	}
	if err := m.store.DeleteImage(ctx, name); err != nil {
		return err
	}
	if err := m.storage.RemoveImage(im.Path); err != nil {
		m.log.Warn("remove image file", "path", im.Path, "err", err)
	}
	return nil
}
