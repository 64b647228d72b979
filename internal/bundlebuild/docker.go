package bundlebuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/scripts"
)

// DockerStampName is the stamp make-rootfs.sh writes beside the default
// image: the hash of the package set, the Docker packages, the recipe
// version and the base image it was derived from. A later `make rootfs`
// with the same inputs is a no-op.
const DockerStampName = RootfsName + ".packages.sha256"

// dockerImage derives the default image RootfsName from the plain base
// BaseRootfsName in stage: base + the package list + Docker Engine from
// Debian, socket-activated. It runs the shipped make-rootfs.sh (sparse copy
// of the base, grow, customize.sh --image --docker in a loop-mounted chroot,
// e2fsck), so the bundle builder, `make rootfs` and the helpers in the
// bundle share one recipe. Because the image starts as a block copy of the
// base, the blocks it shares with it stay byte-identical (what the archive
// delta of docs/bundle.md relies on).
func dockerImage(ctx context.Context, o Options, pl *PackageList, stage string) error {
	work, err := os.MkdirTemp(tmpDir(o), "docker-")
	if err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	defer os.RemoveAll(work)
	for _, h := range scripts.Helpers {
		b, err := scripts.FS.ReadFile(h.File)
		if err != nil {
			return fmt.Errorf("bundle build: helper %s: %w", h.File, err)
		}
		if err := os.WriteFile(filepath.Join(work, h.File), b, 0o755); err != nil {
			return fmt.Errorf("bundle build: %w", err)
		}
	}
	packages := filepath.Join(work, PackagesName)
	if err := os.WriteFile(packages, pl.Raw, 0o644); err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	state := filepath.Join(work, "state")
	args := []string{"bash", filepath.Join(work, "make-rootfs.sh"), "--runtime-dir", stage,
		"--base-rootfs", filepath.Join(stage, BaseRootfsName), "--packages", packages, "--force"}
	o.Log.Info("deriving the default image with Docker Engine", "image", RootfsName)
	if out, err := execx.Run(ctx, execx.Cmd{Args: args, Env: []string{"BANGER_STATE_DIR=" + state}}); err != nil {
		return fmt.Errorf("bundle build: %s (base + packages + Docker Engine): %w: check the Debian mirror is reachable and loop devices are available (losetup -f)\n%s",
			RootfsName, err, tailLines(string(out), 15))
	}
	return nil
}

// tailLines is the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
