package storage

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/testenv"
)

func requireTools(t *testing.T, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if !execx.Have(p) {
			t.Skipf("%s not installed", p)
		}
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t, "loop devices, mounts and device-mapper")
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := execx.Output(testCtx(t), args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return string(out)
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// writeAt writes a pattern of n bytes of b at off, creating path if needed.
func writeAt(t *testing.T, path string, off int64, b byte, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat(string([]byte{b}), n)), off); err != nil {
		t.Fatal(err)
	}
}

// makeBase creates a sparse raw base image of size bytes with data at the
// start and in the middle.
func makeBase(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, 0, 0x11, 64<<10)
	writeAt(t, path, size/2, 0x22, 128<<10)
}
