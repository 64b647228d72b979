package bundle

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// legacyTree writes a small legacy-layout runtime dir.
func legacyTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "runtime")
	writeFile(t, filepath.Join(dir, "vmlinux"), elfKernel())
	writeFile(t, filepath.Join(dir, "rootfs-docker.ext4"), strings.Repeat("d", 5000))
	writeFile(t, filepath.Join(dir, "packages.apt"), "git\ncurl\n")
	writeFile(t, filepath.Join(dir, "modules/6.1.0/modules.dep"), "")
	writeFile(t, filepath.Join(dir, "customize.sh"), "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(dir, "customize.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("vmlinux", filepath.Join(dir, "vmlinux-6.1")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, StampFile), "stale\n")
	return dir
}

func TestPackageDeterministic(t *testing.T) {
	dir := legacyTree(t)
	out := filepath.Join(t.TempDir(), "dist", "banger-runtime.tar.gz")
	sum1, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(out)
	if sumOf(first) != sum1 {
		t.Errorf("returned sha %s, file sha %s", sum1, sumOf(first))
	}
	// The same tree packs to the same bytes; access times, sub-second
	// parts of mtimes, the stamp and the digest cache do not count.
	writeFile(t, filepath.Join(dir, DigestCacheFile), "/x 1:2:3:4:5 abc\n")
	for _, f := range []string{"packages.apt", "vmlinux"} {
		fi, _ := os.Stat(filepath.Join(dir, f))
		os.Chtimes(filepath.Join(dir, f), time.Now().Add(time.Hour), fi.ModTime().Truncate(time.Second).Add(time.Millisecond))
	}
	sum2, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out})
	if err != nil {
		t.Fatal(err)
	}
	if sum1 != sum2 {
		t.Errorf("packing twice gave %s then %s", sum1, sum2)
	}
	// Modification times are recorded (unpacking restores them).
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "packages.apt"), later, later)
	if sum, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out}); err != nil || sum == sum1 {
		t.Errorf("a new mtime gave %s (%v), the same archive", sum, err)
	}
	meta, err := Load(dir)
	if err != nil || meta.Layout != LayoutJSON {
		t.Fatalf("bundle.json after Package: %+v, %v", meta, err)
	}
	if meta.KernelFormat != FormatELF || meta.Helpers["customize"] != "customize.sh" || meta.ModulesDir != "modules" || meta.Build.Created == "" {
		t.Errorf("metadata %+v", meta)
	}
	wantFiles := []string{"customize.sh", "modules/6.1.0/modules.dep", "packages.apt", "rootfs-docker.ext4", "vmlinux"}
	var gotFiles []string
	for f := range meta.Files {
		gotFiles = append(gotFiles, f)
	}
	sort.Strings(gotFiles)
	if !reflect.DeepEqual(gotFiles, wantFiles) {
		t.Errorf("files map %q, want %q", gotFiles, wantFiles)
	}
	if meta.Files["packages.apt"] != sumOf([]byte("git\ncurl\n")) {
		t.Errorf("packages.apt sha %s", meta.Files["packages.apt"])
	}
	// A changed file changes the archive.
	writeFile(t, filepath.Join(dir, "packages.apt"), "git\n")
	if sum3, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out}); err != nil || sum3 == sum1 {
		t.Errorf("changed tree gave %s (%v), same as before", sum3, err)
	}
}

func TestPackageRoundTrip(t *testing.T) {
	dir := legacyTree(t)
	out := filepath.Join(t.TempDir(), "banger-runtime.tar.gz")
	manifest := filepath.Join(t.TempDir(), ManifestFile)
	orig, err := os.ReadFile(filepath.Join("..", "..", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, manifest, string(orig))
	sum, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out, ManifestPath: manifest, WriteManifest: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.SHA256 != sum || m.URL != "file://"+out || m.BundleMetadata == nil || m.BundleMetadata.Initrd != "initrd.img" {
		t.Errorf("manifest after --write-manifest: %+v", m)
	}
	target := filepath.Join(t.TempDir(), "runtime")
	res, err := Fetch(context.Background(), FetchOptions{ManifestPath: manifest, TargetDir: target})
	if err != nil {
		t.Fatal(err)
	}
	if res.MetadataSource != "archive" {
		t.Errorf("metadata source %q", res.MetadataSource)
	}
	want, got := treeOf(t, dir), treeOf(t, target)
	delete(want, StampFile)
	if got[StampFile] != sum+"\n" {
		t.Errorf("stamp %q, want %s", got[StampFile], sum)
	}
	delete(got, StampFile)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fetched tree differs:\n got %q\nwant %q", got, want)
	}
	st, _ := os.Stat(filepath.Join(target, "customize.sh"))
	if st.Mode().Perm() != 0o755 {
		t.Errorf("customize.sh mode %v", st.Mode())
	}
	infos, err := Describe(target)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range infos {
		switch fi.Role {
		case "kernel", "rootfs", "packages_file", "helper customize":
			if fi.Status != StatusOK || fi.SHA256 == "" || fi.Size == 0 {
				t.Errorf("%s: %+v", fi.Role, fi)
			}
		case "modules_dir":
			if !fi.Dir || fi.Status != StatusUnverified {
				t.Errorf("modules: %+v", fi)
			}
		default:
			t.Errorf("unexpected item %+v", fi)
		}
	}
}

func TestDescribeModifiedAndMissing(t *testing.T) {
	dir := legacyTree(t)
	if _, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: filepath.Join(t.TempDir(), "x.tar.gz")}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "vmlinux"), elfKernel()+"patched")
	os.Remove(filepath.Join(dir, "packages.apt"))
	infos, err := Describe(dir)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, fi := range infos {
		status[fi.Role] = fi.Status
	}
	if status["kernel"] != StatusModified || status["packages_file"] != StatusMissing || status["rootfs"] != StatusOK {
		t.Errorf("statuses %v", status)
	}
}

func TestPackageRefusesOutputInsideRuntimeDir(t *testing.T) {
	dir := legacyTree(t)
	_, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: filepath.Join(dir, "b.tar.gz")})
	if err == nil || !strings.Contains(err.Error(), "inside the runtime dir") {
		t.Errorf("got %v", err)
	}
}

func TestPackageRefusesEscapingSymlink(t *testing.T) {
	dir := legacyTree(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "pw")); err != nil {
		t.Fatal(err)
	}
	_, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: filepath.Join(t.TempDir(), "b.tar.gz")})
	if err == nil || !strings.Contains(err.Error(), "self-contained") {
		t.Errorf("got %v", err)
	}
}
