package bundlebuild

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bangerdev/banger/internal/bundle"
)

// metadata accumulates bundle.json while the build runs.
type metadata struct {
	m bundle.Metadata
}

func newMetadata(o Options, pl *PackageList) *metadata {
	return &metadata{m: bundle.Metadata{
		Version:      bundle.MetadataVersion,
		Rootfs:       RootfsName,
		BaseRootfs:   BaseRootfsName,
		PackagesFile: PackagesName,
		Build: bundle.BuildInfo{
			DebianSuite: o.Suite,
			Created:     time.Now().UTC().Format(time.RFC3339),
		},
	}}
}

// microVM makes the compiled kernel the default: vmlinux (ELF) for
// firecracker and as the generic kernel, bzImage for qemu, no initrd.
func (md *metadata) microVM(release string) {
	md.m.Kernel = vmlinuxName
	md.m.KernelFormat = bundle.FormatELF
	md.m.Vmlinux = vmlinuxName
	md.m.BzImage = bzImageName
	md.m.Initrd = ""
	md.m.ModulesDir = ""
	md.m.Build.KernelVersion = release
}

// distro records the distro kernel. With KernelBoth the microVM kernel
// stays the default and the distro files are only listed in Files.
func (md *metadata) distro(o Options, release string) {
	if o.Kernel != KernelDistro {
		return
	}
	md.m.Kernel = vmlinuzName
	md.m.KernelFormat = bundle.FormatBzImage
	md.m.BzImage = vmlinuzName
	md.m.Initrd = initrdName
	md.m.ModulesDir = modulesName
	md.m.Build.KernelVersion = release
}

// writeMetadata hashes every staged file and writes bundle.json.
func writeMetadata(stage string, md *metadata) error {
	md.m.Files = map[string]string{}
	if err := hashTree(stage, ".", md.m.Files); err != nil {
		return fmt.Errorf("bundle build: hash files: %w", err)
	}
	if err := md.m.Validate(); err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	data, err := md.m.Marshal()
	if err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stage, MetadataFileName), data, 0o644); err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	return nil
}
