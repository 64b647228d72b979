package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/bangerdev/banger/internal/execx"
)

// GrowOverlay makes the guest-visible size of a file overlay at least size
// bytes, so the VM's root filesystem (grown by the guest at boot, see
// docs/guest-contract.md) has room beyond what the image holds. Both forms
// stay sparse: a qcow2 overlay gets a larger virtual size, a raw one is
// extended with a hole. dm-snapshot overlays keep the image's size. A
// smaller size is a no-op, never a shrink.
func GrowOverlay(ctx context.Context, ov Overlay, size int64) error {
	switch {
	case ov.Kind == KindDMSnapshot:
		return nil
	case ov.Format == FormatQcow2:
		cur, err := qcow2VirtualSize(ctx, ov.Path)
		if err != nil {
			return err
		}
		if size <= cur {
			return nil
		}
		if err := execx.Check(ctx, "qemu-img", "resize", "-q", "-f", "qcow2", ov.Path, strconv.FormatInt(size, 10)); err != nil {
			return fmt.Errorf("grow overlay %s: %w", ov.Path, err)
		}
		return nil
	default:
		st, err := os.Stat(ov.Path)
		if err != nil {
			return fmt.Errorf("grow overlay: %w", err)
		}
		if size <= st.Size() {
			return nil
		}
		if err := os.Truncate(ov.Path, size); err != nil {
			return fmt.Errorf("grow overlay %s: %w", ov.Path, err)
		}
		return nil
	}
}

// qcow2VirtualSize reads the guest-visible size of a qcow2 file.
func qcow2VirtualSize(ctx context.Context, path string) (int64, error) {
	out, err := execx.Output(ctx, "qemu-img", "info", "--output=json", "-U", path)
	if err != nil {
		return 0, fmt.Errorf("inspect overlay %s: %w", path, err)
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return 0, fmt.Errorf("inspect overlay %s: %w", path, err)
	}
	return info.VirtualSize, nil
}
