package bundle

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestResolveBundleJSON(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bundle.json"), `{
  "version": 1,
  "kernel": "boot/bzImage",
  "vmlinux": "boot/vmlinux",
  "rootfs": "images/rootfs-docker.ext4",
  "packages_file": "packages.apt",
  "helpers": {"customize": "scripts/customize.sh"},
  "build": {"debian_suite": "bookworm", "kernel_version": "6.1.0", "created": "2025-01-01T00:00:00Z"},
  "files": {"boot/bzImage": "00"}
}`)
	writeFile(t, filepath.Join(dir, "boot/bzImage"), bzKernel())
	writeFile(t, filepath.Join(dir, "boot/vmlinux"), elfKernel())
	writeFile(t, filepath.Join(dir, "images/rootfs-docker.ext4"), "fs")
	writeFile(t, filepath.Join(dir, "packages.apt"), "git\n")

	r, err := Resolve(dir, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Layout != LayoutJSON || r.Metadata.Build.DebianSuite != "bookworm" {
		t.Errorf("layout %q, build %+v", r.Layout, r.Metadata.Build)
	}
	if r.Kernel != filepath.Join(dir, "boot/bzImage") || r.KernelFormat != FormatBzImage || r.BzImage != r.Kernel {
		t.Errorf("kernel %q format %q bzimage %q", r.Kernel, r.KernelFormat, r.BzImage)
	}
	if fk, err := r.FirecrackerKernel(); err != nil || fk != filepath.Join(dir, "boot/vmlinux") {
		t.Errorf("FirecrackerKernel = %q, %v", fk, err)
	}
	if r.QEMUKernel() != r.Kernel {
		t.Errorf("QEMUKernel = %q", r.QEMUKernel())
	}
	if !r.BaseRootfsFallback || r.BaseRootfs != r.Rootfs {
		t.Errorf("base rootfs %q should fall back to rootfs %q", r.BaseRootfs, r.Rootfs)
	}
	if r.Firecracker != "" || r.Initrd != "" {
		t.Errorf("firecracker %q initrd %q: want none", r.Firecracker, r.Initrd)
	}
	want := []string{"helper customize: " + filepath.Join(dir, "scripts/customize.sh")}
	if got := r.Missing(); !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %q, want %q", got, want)
	}
}

func TestResolveLegacy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "vmlinux"), elfKernel())
	writeFile(t, filepath.Join(dir, "rootfs-docker.ext4"), "docker")
	writeFile(t, filepath.Join(dir, "rootfs.ext4"), "base")
	writeFile(t, filepath.Join(dir, "modules/6.1/modules.dep"), "")
	writeFile(t, filepath.Join(dir, "customize.sh"), "#!/bin/sh\n")
	writeFile(t, filepath.Join(dir, "id_ed25519"), "secret")

	r, err := Resolve(dir, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Layout != LayoutLegacy {
		t.Fatalf("layout %q, want legacy", r.Layout)
	}
	checks := map[string][2]string{
		"kernel":  {r.Kernel, "vmlinux"},
		"vmlinux": {r.Vmlinux, "vmlinux"},
		"rootfs":  {r.Rootfs, "rootfs-docker.ext4"},
		"base":    {r.BaseRootfs, "rootfs.ext4"},
		"modules": {r.ModulesDir, "modules"},
		"helper":  {r.Helpers["customize"], "customize.sh"},
	}
	for name, c := range checks {
		if c[0] != filepath.Join(dir, c[1]) {
			t.Errorf("%s = %q, want %s", name, c[0], c[1])
		}
	}
	if r.Initrd != "" || r.Firecracker != "" || r.BaseRootfsFallback {
		t.Errorf("absent optional files should stay unset: initrd %q firecracker %q fallback %v", r.Initrd, r.Firecracker, r.BaseRootfsFallback)
	}
	// packages.apt is part of the legacy layout but absent here.
	want := []string{"packages_file: " + filepath.Join(dir, "packages.apt")}
	if got := r.Missing(); !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %q, want %q", got, want)
	}
}

func TestResolveLegacyBaseFallback(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rootfs-docker.ext4"), "docker")
	r, err := Resolve(dir, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.BaseRootfs != filepath.Join(dir, "rootfs-docker.ext4") || !r.BaseRootfsFallback {
		t.Errorf("base rootfs %q, fallback %v", r.BaseRootfs, r.BaseRootfsFallback)
	}
	got := strings.Join(r.Missing(), "\n")
	if !strings.Contains(got, "kernel: "+filepath.Join(dir, "vmlinux")) {
		t.Errorf("Missing should name the kernel: %q", got)
	}
}

func TestResolveOverrides(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "vmlinux"), elfKernel())
	writeFile(t, filepath.Join(dir, "rootfs-docker.ext4"), "docker")
	writeFile(t, filepath.Join(dir, "firecracker"), "fc")
	ov := Overrides{
		DefaultKernel:       filepath.Join(other, "bzImage"),
		DefaultInitrd:       filepath.Join(other, "initrd.img"),
		DefaultModulesDir:   filepath.Join(other, "modules"),
		DefaultRootfs:       filepath.Join(other, "root.ext4"),
		DefaultBaseRootfs:   filepath.Join(other, "base.ext4"),
		DefaultPackagesFile: filepath.Join(other, "pk.apt"),
		FirecrackerBin:      filepath.Join(other, "fc"),
	}
	writeFile(t, ov.DefaultKernel, bzKernel())
	writeFile(t, ov.DefaultRootfs, "root")
	r, err := Resolve(dir, ov)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{r.Kernel, r.Initrd, r.ModulesDir, r.Rootfs, r.BaseRootfs, r.PackagesFile, r.Firecracker}
	want := []string{ov.DefaultKernel, ov.DefaultInitrd, ov.DefaultModulesDir, ov.DefaultRootfs, ov.DefaultBaseRootfs, ov.DefaultPackagesFile, ov.FirecrackerBin}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolved %q\nwant %q", got, want)
	}
	// The override kernel is a bzImage and replaces the bundle's vmlinux.
	if r.KernelFormat != FormatBzImage || r.Vmlinux != "" || r.BzImage != ov.DefaultKernel {
		t.Errorf("format %q vmlinux %q bzimage %q", r.KernelFormat, r.Vmlinux, r.BzImage)
	}
	if _, err := r.FirecrackerKernel(); err == nil || !strings.Contains(err.Error(), "is a bzImage") {
		t.Errorf("FirecrackerKernel with a bzImage override: %v", err)
	}
	wantMissing := []string{
		"initrd: " + ov.DefaultInitrd, "modules_dir: " + ov.DefaultModulesDir,
		"base_rootfs: " + ov.DefaultBaseRootfs, "packages_file: " + ov.DefaultPackagesFile,
		"firecracker: " + ov.FirecrackerBin,
	}
	if m := r.Missing(); !reflect.DeepEqual(m, wantMissing) {
		t.Errorf("Missing = %q\nwant %q", m, wantMissing)
	}
	if _, err := Resolve(dir, Overrides{DefaultRootfs: "rel/root.ext4"}); err == nil || !strings.Contains(err.Error(), "default_rootfs") {
		t.Errorf("relative override: got %v", err)
	}
}

func TestLoadRejectsBadMetadata(t *testing.T) {
	cases := map[string]string{
		`{"kernel": "/boot/vmlinux", "rootfs": "r"}`:                "is absolute",
		`{"kernel": "../vmlinux", "rootfs": "r"}`:                   "leaves the bundle dir",
		`{"kernel": "k", "rootfs": "r", "colour": "red"}`:           "unknown field",
		`{"kernel": "k", "rootfs": "r", "kernel_format": "zimage"}`: "kernel_format",
		`{"kernel": "k", "helpers": {"x": "../../x"}}`:              "helper x",
	}
	for body, want := range cases {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "bundle.json"), body)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) = %v, want error containing %q", body, err, want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "make runtime-bundle") {
		t.Errorf("missing dir: %v", err)
	}
}
