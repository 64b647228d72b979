package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MetadataFile is the name of the metadata file inside a bundle directory.
const MetadataFile = "bundle.json"

// StampFile is written into a fetched bundle and holds the SHA-256 of the
// archive it was unpacked from; it is never packaged.
const StampFile = ".bundle-sha256"

// DigestCacheFile is make-rootfs.sh's cache of the base image's SHA-256
// (keyed by the file's inode and times, so only valid on this machine);
// like StampFile it is never packaged.
const DigestCacheFile = ".base-sha256"

// MetadataVersion is the bundle.json format version this package writes.
const MetadataVersion = 1

// Layout names reported by [Load] and [Resolve].
const (
	// LayoutJSON means the bundle was described by its bundle.json.
	LayoutJSON = "bundle.json"
	// LayoutLegacy means the bundle has no bundle.json and was read with the
	// fixed file names of the original banger.
	LayoutLegacy = "legacy"
)

// Kernel formats returned by [KernelFormat] and used in bundle.json.
const (
	// FormatELF is an uncompressed ELF vmlinux (what firecracker boots).
	FormatELF = "elf"
	// FormatBzImage is a compressed x86 boot image.
	FormatBzImage = "bzimage"
	// FormatUnknown is neither.
	FormatUnknown = "unknown"
)

// Metadata is the content of a bundle's bundle.json. Paths are relative to
// the bundle directory. The same fields (paths only) form the
// [bundle_metadata] table of runtime-bundle.toml.
type Metadata struct {
	// Version is the bundle.json format version.
	Version int `json:"version,omitempty" toml:"-"`
	// Kernel is the default guest kernel.
	Kernel string `json:"kernel" toml:"kernel,omitempty"`
	// KernelFormat is "elf" or "bzimage"; detected when empty.
	KernelFormat string `json:"kernel_format,omitempty" toml:"kernel_format,omitempty"`
	// Vmlinux is an uncompressed ELF kernel for firecracker, when separate.
	Vmlinux string `json:"vmlinux,omitempty" toml:"vmlinux,omitempty"`
	// BzImage is a compressed kernel for qemu, when separate.
	BzImage string `json:"bzimage,omitempty" toml:"bzimage,omitempty"`
	// Initrd is the initrd the kernel boots with (optional).
	Initrd string `json:"initrd,omitempty" toml:"initrd,omitempty"`
	// ModulesDir is the kernel modules tree (optional).
	ModulesDir string `json:"modules_dir,omitempty" toml:"modules_dir,omitempty"`
	// Rootfs is the default image, e.g. rootfs-docker.ext4.
	Rootfs string `json:"rootfs" toml:"rootfs,omitempty"`
	// BaseRootfs is the base image for image builds (optional; falls back
	// to Rootfs).
	BaseRootfs string `json:"base_rootfs,omitempty" toml:"base_rootfs,omitempty"`
	// PackagesFile is the apt package list, e.g. packages.apt.
	PackagesFile string `json:"packages_file,omitempty" toml:"packages_file,omitempty"`
	// Helpers maps a helper name (e.g. "customize") to its path.
	Helpers map[string]string `json:"helpers,omitempty" toml:"helpers,omitempty"`
	// Firecracker is the firecracker binary; empty means the bundle has none.
	Firecracker string `json:"firecracker,omitempty" toml:"firecracker,omitempty"`
	// Build records how the bundle was made.
	Build BuildInfo `json:"build,omitzero" toml:"-"`
	// Files maps every packaged file path to its SHA-256 (hex).
	Files map[string]string `json:"files,omitempty" toml:"-"`
	// Layout is how the metadata was obtained (LayoutJSON or LayoutLegacy);
	// it is not stored.
	Layout string `json:"-" toml:"-"`
}

// BuildInfo records how a bundle was built.
type BuildInfo struct {
	// DebianSuite is the Debian suite the rootfs was bootstrapped from.
	DebianSuite string `json:"debian_suite,omitempty"`
	// KernelVersion is the guest kernel release.
	KernelVersion string `json:"kernel_version,omitempty"`
	// Created is when the bundle was built (RFC 3339, UTC).
	Created string `json:"created,omitempty"`
}

// Legacy file names of the original banger (see the package doc).
const (
	legacyFirecracker = "firecracker"
	legacyKernel      = "vmlinux"
	legacyInitrd      = "initrd.img"
	legacyModules     = "modules"
	legacyRootfs      = "rootfs-docker.ext4"
	legacyBaseRootfs  = "rootfs.ext4"
	legacyPackages    = "packages.apt"
)

// legacyHelpers maps helper names to their legacy file names.
var legacyHelpers = map[string]string{
	"customize":   "customize.sh",
	"interactive": "interactive.sh",
	"make-rootfs": "make-rootfs.sh",
	"packages":    "packages.sh",
	"dns":         "dns.sh",
	"nat":         "nat.sh",
	"verify":      "verify.sh",
	"namegen":     "namegen",
}

// Load reads dir/bundle.json, or builds the legacy layout when the bundle
// has none. Metadata.Layout says which was used.
func Load(dir string) (*Metadata, error) {
	p := filepath.Join(dir, MetadataFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("read runtime bundle %s: %w: run `make runtime-bundle` or set runtime_dir", dir, serr)
		}
		return legacyMetadata(dir), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	m, err := ParseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// ParseMetadata decodes and validates bundle.json content; unknown fields
// are errors.
func ParseMetadata(data []byte) (*Metadata, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Metadata
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse bundle metadata: %w: fix or delete bundle.json", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	m.Layout = LayoutJSON
	return &m, nil
}

// Validate checks that every path is relative and stays inside the bundle
// and that kernel_format is known.
func (m *Metadata) Validate() error {
	for _, f := range m.pathFields() {
		if err := checkRelPath(f.name, *f.val); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(m.Helpers) {
		if err := checkRelPath("helper "+name, m.Helpers[name]); err != nil {
			return err
		}
	}
	switch m.KernelFormat {
	case "", FormatELF, FormatBzImage:
	default:
		return fmt.Errorf("bundle metadata: kernel_format %q is not \"elf\" or \"bzimage\"", m.KernelFormat)
	}
	return nil
}

// Marshal renders m as indented bundle.json content with a trailing newline.
func (m *Metadata) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode bundle metadata: %w", err)
	}
	return append(data, '\n'), nil
}

type pathField struct {
	name string
	val  *string
}

// pathFields lists the single-path fields by their bundle.json names.
func (m *Metadata) pathFields() []pathField {
	return []pathField{
		{"kernel", &m.Kernel}, {"vmlinux", &m.Vmlinux}, {"bzimage", &m.BzImage},
		{"initrd", &m.Initrd}, {"modules_dir", &m.ModulesDir}, {"rootfs", &m.Rootfs},
		{"base_rootfs", &m.BaseRootfs}, {"packages_file", &m.PackagesFile},
		{"firecracker", &m.Firecracker},
	}
}

func checkRelPath(field, p string) error {
	if p == "" {
		return nil
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("bundle metadata: %s path %q is absolute: paths must be relative to the bundle dir (use a config override for files outside it)", field, p)
	}
	c := filepath.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return fmt.Errorf("bundle metadata: %s path %q leaves the bundle dir: paths must stay inside it", field, p)
	}
	return nil
}

// legacyMetadata describes dir with the original fixed names. Optional
// files are named only when present.
func legacyMetadata(dir string) *Metadata {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	optional := func(name string) string {
		if exists(name) {
			return name
		}
		return ""
	}
	m := &Metadata{
		Kernel:       legacyKernel,
		Initrd:       optional(legacyInitrd),
		ModulesDir:   optional(legacyModules),
		Rootfs:       legacyRootfs,
		BaseRootfs:   optional(legacyBaseRootfs),
		PackagesFile: legacyPackages,
		Firecracker:  optional(legacyFirecracker),
		Layout:       LayoutLegacy,
	}
	for name, file := range legacyHelpers {
		if exists(file) {
			if m.Helpers == nil {
				m.Helpers = map[string]string{}
			}
			m.Helpers[name] = file
		}
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
