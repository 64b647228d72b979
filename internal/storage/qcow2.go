package storage

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/bangerdev/banger/internal/execx"
)

// createQcow2 creates a qcow2 overlay of size bytes whose backing file is
// the raw base. It only writes the qcow2 header: O(1) in the size of the
// base.
func createQcow2(ctx context.Context, base, dst string, size int64) error {
	if !execx.Have("qemu-img") {
		return fmt.Errorf("qcow2 overlay: qemu-img not found: install qemu-utils (Debian) or qemu-img (Fedora)")
	}
	_, err := execx.Run(ctx, execx.Cmd{Args: []string{"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, dst, strconv.FormatInt(size, 10)}})
	if err != nil {
		os.Remove(dst)
		return fmt.Errorf("qcow2 overlay: %w", err)
	}
	return nil
}
