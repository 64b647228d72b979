package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoManifestIsPlaceholder(t *testing.T) {
	m, err := LoadManifest(filepath.Join("..", "..", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.BundleMetadata == nil || m.BundleMetadata.Rootfs != "rootfs-docker.ext4" || m.BundleMetadata.Helpers["customize"] != "customize.sh" {
		t.Errorf("bundle_metadata = %+v", m.BundleMetadata)
	}
	err = m.CheckPublished()
	if err == nil || !strings.Contains(err.Error(), "placeholder") || !strings.Contains(err.Error(), "banger bundle package --write-manifest") {
		t.Errorf("CheckPublished = %v", err)
	}
}

func TestCheckPublished(t *testing.T) {
	good := strings.Repeat("ab", 32)
	cases := []struct {
		m    Manifest
		want string
	}{
		{Manifest{URL: "https://example.invalid/x.tar.gz", SHA256: good}, "placeholder"},
		{Manifest{URL: "https://h/banger-runtime-REPLACE.tar.gz", SHA256: good}, "placeholder"},
		{Manifest{URL: "https://h/x.tar.gz", SHA256: "REPLACE_WITH_SHA256"}, "not a sha-256"},
		{Manifest{URL: "https://h/x.tar.gz", SHA256: good[:60]}, "not a sha-256"},
		{Manifest{SHA256: good}, "no url"},
		{Manifest{URL: "https://h/x.tar.gz", SHA256: strings.ToUpper(good)}, ""},
	}
	for _, c := range cases {
		err := c.m.CheckPublished()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckPublished(%+v) = %v, want %q", c.m, err, c.want)
		}
	}
}

func TestParseManifestStrict(t *testing.T) {
	_, err := ParseManifest("runtime-bundle.toml", []byte("url = \"file:///x\"\nsha256 = \"y\"\n\n[bundle_metadata]\nkernel = \"k\"\nkernal = \"typo\"\n"))
	if err == nil || !strings.Contains(err.Error(), "runtime-bundle.toml line 6: unknown key \"bundle_metadata.kernal\"") {
		t.Errorf("unknown key: %v", err)
	}
	_, err = ParseManifest("m.toml", []byte("url = \"file:///x\"\nsha256 = \n"))
	if err == nil || !strings.Contains(err.Error(), "m.toml line 2") {
		t.Errorf("syntax error: %v", err)
	}
	_, err = ParseManifest("m.toml", []byte("[bundle_metadata]\nrootfs = \"/abs\"\n"))
	if err == nil || !strings.Contains(err.Error(), "is absolute") {
		t.Errorf("absolute metadata path: %v", err)
	}
}

func TestWriteManifestURLKeepsTheRest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "runtime-bundle.toml")
	orig, err := os.ReadFile(filepath.Join("..", "..", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, string(orig))
	sha := strings.Repeat("0f", 32)
	if err := WriteManifestURL(p, "file:///tmp/a b/banger-runtime.tar.gz", sha, nil); err != nil {
		t.Fatal(err)
	}
	m, err := LoadManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.URL != "file:///tmp/a b/banger-runtime.tar.gz" || m.SHA256 != sha || m.CheckPublished() != nil {
		t.Errorf("manifest after rewrite: %+v", m)
	}
	if m.BundleMetadata == nil || m.BundleMetadata.Kernel != "vmlinux" {
		t.Errorf("bundle_metadata lost: %+v", m.BundleMetadata)
	}
	got, _ := os.ReadFile(p)
	if !strings.Contains(string(got), "# Runtime bundle manifest") || strings.Contains(string(got), "REPLACE_WITH_SHA256") {
		t.Errorf("comments should stay and placeholders go:\n%s", got)
	}

	// A manifest without url/sha256 gets them added before the table.
	writeFile(t, p, "# hi\n[bundle_metadata]\nrootfs = \"r.ext4\"\n")
	if err := WriteManifestURL(p, "file:///x.tar.gz", sha, nil); err != nil {
		t.Fatal(err)
	}
	if m, err = LoadManifest(p); err != nil || m.URL != "file:///x.tar.gz" || m.BundleMetadata.Rootfs != "r.ext4" {
		t.Errorf("added keys: %+v, %v", m, err)
	}

	// A missing manifest is created with the given metadata.
	p2 := filepath.Join(t.TempDir(), "new.toml")
	meta := &Metadata{Kernel: "vmlinux", Rootfs: "r.ext4", Files: map[string]string{"a": "b"}}
	if err := WriteManifestURL(p2, "file:///y.tar.gz", sha, meta); err != nil {
		t.Fatal(err)
	}
	if m, err = LoadManifest(p2); err != nil || m.BundleMetadata.Kernel != "vmlinux" || m.SHA256 != sha {
		t.Errorf("new manifest: %+v, %v", m, err)
	}
}
