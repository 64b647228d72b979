package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// imagePair writes a base image and a "docker" image derived from it the
// way make-rootfs.sh does (copy, grow, change some blocks) into dir.
func imagePair(t *testing.T, dir string) (base, derived []byte) {
	t.Helper()
	const blk = deltaBlock
	base = make([]byte, 12*blk)
	rand.Read(base[:4*blk])         // data
	rand.Read(base[6*blk : 10*blk]) // blocks 4-5 and 10-11 stay zero (holes)
	derived = append(append([]byte(nil), base...), make([]byte, 5*blk+123)...)
	rand.Read(derived[2*blk : 3*blk])             // a changed block
	rand.Read(derived[13*blk : 15*blk])           // new data past the base
	copy(derived[len(derived)-50:], "tail-bytes") // a short last block
	writeFile(t, filepath.Join(dir, "rootfs.ext4"), string(base))
	writeFile(t, filepath.Join(dir, "rootfs-docker.ext4"), string(derived))
	writeFile(t, filepath.Join(dir, "vmlinux"), elfKernel())
	return base, derived
}

func TestPackageStoresDerivedImageAsDelta(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runtime")
	base, derived := imagePair(t, dir)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(out)
	// Random data does not compress: without the delta the archive holds
	// the base's 8 data blocks twice plus 3 changed or new ones (19
	// blocks); with it, 8 + 3 and a short tail.
	if st.Size() > 12*deltaBlock {
		t.Errorf("archive is %d bytes; with the delta it should hold about 11 blocks of data (%d)", st.Size(), 11*deltaBlock)
	}
	got := filepath.Join(t.TempDir(), "unpacked")
	os.MkdirAll(got, 0o755)
	f, _ := os.Open(out)
	defer f.Close()
	if err := unpackTarGz(context.Background(), f, got); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"rootfs.ext4": base, "rootfs-docker.ext4": derived} {
		b, err := os.ReadFile(filepath.Join(got, name))
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("%s unpacked differs (err %v, %d bytes, want %d)", name, err, len(b), len(want))
		}
	}
	if _, err := os.Stat(filepath.Join(got, "rootfs-docker.ext4"+deltaSuffix)); !os.IsNotExist(err) {
		t.Errorf("delta file left in the bundle: %v", err)
	}
	// Unpacked images are sparse: the zero blocks take no space.
	fi, _ := os.Stat(filepath.Join(got, "rootfs-docker.ext4"))
	if alloc := fi.Sys().(*syscall.Stat_t).Blocks * 512; alloc >= fi.Size()-2*deltaBlock {
		t.Errorf("rootfs-docker.ext4 allocates %d of %d bytes; zero blocks should be holes", alloc, fi.Size())
	}
}

func TestUnpackRefusesDeltaWithoutBase(t *testing.T) {
	body := deltaHeader(deltaBlock) + "s"
	archive := makeTarGz(t, entry{name: "img", typ: tar.TypeReg, body: body, mode: 0o644, pax: map[string]string{paxDeltaBase: "missing.ext4"}})
	err := unpackTarGz(context.Background(), bytes.NewReader(archive), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "delta against missing.ext4") {
		t.Fatalf("delta without its base: %v", err)
	}
	archive = makeTarGz(t, entry{name: "img", typ: tar.TypeReg, body: body, mode: 0o644, pax: map[string]string{paxDeltaBase: "../etc/passwd"}})
	if err := unpackTarGz(context.Background(), bytes.NewReader(archive), t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a file of the bundle") {
		t.Fatalf("delta against a path outside the bundle: %v", err)
	}
}

func TestUnpackRefusesDeltaDeclaringHugeFile(t *testing.T) {
	old := maxEntrySize
	maxEntrySize = 4 * deltaBlock
	t.Cleanup(func() { maxEntrySize = old })
	archive := makeTarGz(t, reg("base.ext4", strings.Repeat("b", deltaBlock)),
		entry{name: "img", typ: tar.TypeReg, body: deltaHeader(8*deltaBlock) + "ssssssss", mode: 0o644, pax: map[string]string{paxDeltaBase: "base.ext4"}})
	err := unpackTarGz(context.Background(), bytes.NewReader(archive), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "limit for one file") {
		t.Fatalf("delta declaring more than the limit: %v", err)
	}
	// Within the limit, 's' past the base's end is refused, not zero-filled.
	maxEntrySize = 16 * deltaBlock
	err = unpackTarGz(context.Background(), bytes.NewReader(archive), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "shorter than the delta needs") {
		t.Fatalf("delta copying past the base: %v", err)
	}
}
