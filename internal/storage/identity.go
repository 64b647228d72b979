package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bangerdev/banger/internal/execx"
)

// Identity is what a new work disk carries so the guest trusts the user and
// presents its own pinned host key (see docs/guest-contract.md).
type Identity struct {
	// AuthorizedKey is the user's public key line.
	AuthorizedKey string
	// HostKeyPriv and HostKeyPub are the VM's SSH host key pair.
	HostKeyPriv, HostKeyPub []byte
}

// CreateWorkDisk creates a work disk of size bytes at path holding id,
// staging the files in a private temporary directory next to path that is
// removed afterwards. On failure nothing is left behind.
func (Host) CreateWorkDisk(ctx context.Context, path string, size int64, id Identity) error {
	stage, err := os.MkdirTemp(filepath.Dir(path), ".stage-")
	if err != nil {
		return fmt.Errorf("create work disk %s: staging directory: %w", path, err)
	}
	defer os.RemoveAll(stage)
	if err := StageIdentity(stage, id.AuthorizedKey, id.HostKeyPriv, id.HostKeyPub); err != nil {
		return err
	}
	return CreateStagedDisk(ctx, path, size, stage)
}

// FlattenOverlay writes the disk a VM sees through ov (base plus changes)
// to out as one sparse raw ext4 file, for saving a VM's root disk as an
// image. A dm-snapshot overlay is activated for the copy and released
// after. On failure out is removed.
func (Host) FlattenOverlay(ctx context.Context, ov Overlay, out string) (err error) {
	defer func() {
		if err != nil {
			os.Remove(out)
		}
	}()
	switch {
	case ov.Format == FormatQcow2:
		err = qemuImgConvert(ctx, ov.Path, out)
	case ov.Kind == KindDMSnapshot:
		act, aerr := (Host{}).ActivateOverlay(ctx, ov)
		if aerr != nil {
			return aerr
		}
		// A block device has no holes to seek; cp detects zero runs.
		err = execx.Check(ctx, "cp", "--sparse=always", act.DiskPath(), out)
		if derr := (Host{}).DeactivateOverlay(ctx, act); err == nil {
			err = derr
		}
	default:
		// Raw overlays (reflink, sparse copy) already hold the whole disk.
		err = cloneOrCopy(ctx, ov.Path, out)
	}
	if err != nil {
		return fmt.Errorf("save disk %s as %s: %w", ov.Path, out, err)
	}
	return nil
}

// cloneOrCopy makes dst a reflink clone of src where the filesystem can,
// else a sparse copy.
func cloneOrCopy(ctx context.Context, src, dst string) error {
	if err := createReflink(src, dst); err == nil {
		return nil
	}
	os.Remove(dst)
	return sparseCopy(ctx, src, dst)
}

// RemoveImage deletes a disk image file (an image or a work disk); one
// already gone is not an error.
func (Host) RemoveImage(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove image %s: %w", path, err)
	}
	return nil
}

// qemuImgConvert writes a qcow2 overlay with its backing chain as a sparse
// raw file.
func qemuImgConvert(ctx context.Context, src, dst string) error {
	return execx.Check(ctx, "qemu-img", "convert", "-O", "raw", "-S", "4k", src, dst)
}
