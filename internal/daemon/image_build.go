package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/preflight"
	"github.com/bangerdev/banger/internal/steps"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/units"
	"github.com/bangerdev/banger/scripts"
)

// buildImage makes a new image the way a user would by hand, with no host
// mounts: boot a throwaway VM of the base image (the bundle's plain base
// rootfs unless --base names another image) with NAT, run the provisioning
// of customize.sh (packages, --docker) and then the customize_script hook
// over SSH, power it off, and flatten its system overlay into a new
// read-only ext4 image. The builder VM is always deleted.
func (m *images) buildImage(ctx context.Context, req api.BuildImageRequest, rep api.Reporter) (*api.Image, error) {
	if err := namegen.Validate("image", req.Name); err != nil {
		return nil, model.Invalid("%v", err)
	}
	pkgs := append([]string(nil), req.Packages...)
	for _, p := range pkgs {
		if !scripts.PackageName.MatchString(p) {
			return nil, model.Invalid("invalid package name %q: use Debian package names like docker.io or ripgrep", p)
		}
	}
	if _, err := m.store.GetImage(ctx, req.Name); err == nil {
		return nil, model.Conflict("an image named %q already exists; delete it with 'banger image delete %s' or pick another name", req.Name, req.Name)
	}
	base := req.Base
	if base == "" {
		base = m.buildBase(ctx)
	}
	baseImg, err := loadImage(ctx, m.store, base)
	if err != nil {
		return nil, err
	}
	needs := append(preflight.ForImageBuild(), natNeeds(m.facts)...)
	if err := model.Precondition(m.facts.Checker().Check("image build", needs...)); err != nil {
		return nil, err
	}
	if err := m.checks.preflightStart(baseImg.Kernel, baseImg.Path, true); err != nil {
		return nil, err
	}

	out := filepath.Join(m.dir, req.Name+".ext4")
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(out); err == nil {
		return nil, model.Conflict("%s already exists; remove it or pick another image name", out)
	}

	builder := "imgbuild-" + req.Name
	if len(builder) > 63 {
		builder = builder[:63]
	}
	builder = strings.TrimRight(builder, "-")
	var v *model.VM
	built := false
	// The builder VM goes whatever happens (it is no part of the result).
	defer func() {
		if !built {
			return
		}
		if err := m.vms.deleteVM(context.Background(), builder, true); err != nil {
			m.log.Warn("delete image builder VM", "vm", builder, "err", err)
		}
	}()
	installed := pkgs
	if req.Docker {
		installed = append(append([]string(nil), pkgs...), scripts.DockerPackages...)
	}
	var im *store.Image
	err = steps.New(rep).Run(ctx,
		steps.Step{Name: "builder", Label: steps.Fixed("booting builder VM from " + base), Do: func(ctx context.Context) error {
			req := api.CreateVMRequest{Name: builder, Image: base, NAT: true, MemoryMiB: 1024, VCPUs: 2, DiskSize: 1 << 30}
			if _, err := m.vms.createVM(ctx, req, api.NopReporter{}); err != nil {
				return fmt.Errorf("image build: builder VM: %w", err)
			}
			built = true
			var err error
			v, err = m.store.GetVM(ctx, builder)
			return err
		}},
		steps.Step{Name: "provision", Label: steps.Fixed("provisioning (customize.sh): " + orNothing(installed)), Do: func(ctx context.Context) error {
			return m.provision(ctx, v, pkgs, req.Docker, rep)
		}},
		steps.Step{Name: "power_off", Label: steps.Fixed("powering the builder off"), Do: func(ctx context.Context) error {
			unlock := m.vms.vmLock(builder)
			defer unlock()
			return m.vms.powerOff(ctx, v, rep)
		}},
		steps.Step{Name: "save", Label: steps.Fixed("saving image " + req.Name), Do: func(ctx context.Context) error {
			if err := m.storage.FlattenOverlay(ctx, overlayOf(v), out); err != nil {
				return fmt.Errorf("image build: save image: %w", err)
			}
			return nil
		}, Undo: func() error { return m.storage.RemoveImage(out) }},
		steps.Step{Name: "record", Do: func(ctx context.Context) error {
			if req.Size > 0 {
				if err := m.storage.GrowWorkDisk(ctx, out, req.Size); err != nil {
					return fmt.Errorf("image build: grow to %s: %w", units.FormatSize(req.Size), err)
				}
			}
			if err := m.storage.MakeReadOnly(out); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			im = &store.Image{Name: req.Name, Path: out, Kernel: baseImg.Kernel, Initrd: baseImg.Initrd, Modules: baseImg.Modules,
				Packages: mergePackages(baseImg.Packages, installed), Size: st.Size(), CreatedAt: time.Now()}
			return m.store.InsertImage(ctx, im)
		}},
	)
	if err != nil {
		return nil, err
	}
	res := imageToAPI(im, nil)
	return &res, nil
}

// provision runs customize.sh's provisioning (packages, Docker) and then
// the customize_script hook in the builder VM v.
func (m *images) provision(ctx context.Context, v *model.VM, pkgs []string, docker bool, rep api.Reporter) error {
	script, err := m.provisionScript(ctx, pkgs, docker)
	if err != nil {
		return err
	}
	if err := m.runGuestScript(ctx, v, "customize.sh provisioning", bytes.NewReader(script)); err != nil {
		return fmt.Errorf("image build: %w: check the package names exist in Debian and the host can reach the mirror (NAT)", err)
	}
	if m.customizeScript == "" {
		return nil
	}
	rep.Logf("running customize_script %s in the builder", m.customizeScript)
	f, err := os.Open(m.customizeScript)
	if err != nil {
		return fmt.Errorf("image build: customize_script: %w", err)
	}
	defer f.Close()
	if err := m.runGuestScript(ctx, v, m.customizeScript, f); err != nil {
		return fmt.Errorf("image build: customize_script: %w", err)
	}
	return nil
}

func orNothing(p []string) string {
	if len(p) == 0 {
		return "nothing (no packages given)"
	}
	return strings.Join(p, " ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// buildBase is the image a build starts from: the bundle's plain base
// rootfs (image "base", from default_base_rootfs or rootfs.ext4) when
// registered, else the default image (rootfs-docker.ext4).
func (m *images) buildBase(ctx context.Context) string {
	if im, err := m.store.GetImage(ctx, BaseImageName); err == nil && im.Builtin {
		return BaseImageName
	}
	return DefaultImageName
}

// mergePackages is a followed by the names of b it lacks.
func mergePackages(a, b []string) []string {
	out := append([]string(nil), a...)
	seen := map[string]bool{}
	for _, p := range a {
		seen[p] = true
	}
	for _, p := range b {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
