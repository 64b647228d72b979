// Package storage builds and maintains a VM's disks without mounting them on
// the host: the copy-on-write system overlay of a shared read-only base image,
// the persistent ext4 work disk, and identity files written into it.
package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind names an overlay mechanism.
type Kind string

// Overlay mechanisms, cheapest first.
const (
	// KindDMSnapshot is a device-mapper snapshot over a read-only loop device
	// of the base, with a sparse copy-on-write file (root + device-mapper).
	KindDMSnapshot Kind = "dm-snapshot"
	// KindQcow2 is a qcow2 file whose backing file is the raw base (qemu only).
	KindQcow2 Kind = "qcow2"
	// KindReflink is a reflink clone of the base (btrfs, xfs with reflink).
	KindReflink Kind = "reflink"
	// KindSparseCopy is a copy of the base that skips holes; the portable
	// fallback, which reads the used blocks of the base once.
	KindSparseCopy Kind = "sparse-copy"
)

// Disk formats of an overlay as the VMM must open it.
const (
	FormatRaw   = "raw"
	FormatQcow2 = "qcow2"
)

// Overlay is one VM's system overlay. It is persisted by the daemon as JSON.
type Overlay struct {
	// Kind is the mechanism that created it.
	Kind Kind `json:"kind"`
	// Path is the overlay file: the clone, the qcow2 file or the dm-snapshot
	// copy-on-write store.
	Path string `json:"path"`
	// Format is FormatRaw or FormatQcow2.
	Format string `json:"format"`
	// Base is the absolute path of the read-only base image.
	Base string `json:"base"`
	// Device is the block device the VMM opens for a dm-snapshot
	// (/dev/mapper/banger-ov-...); empty for file overlays.
	Device string `json:"device,omitempty"`
}

// DiskPath is the path the VMM opens for the guest's root drive.
func (o Overlay) DiskPath() string {
	if o.Device != "" {
		return o.Device
	}
	return o.Path
}

// CreateOverlay creates a copy-on-write overlay of base at dst with the given
// mechanism, showing the guest at least size bytes (0 or less than the base:
// the base's size; see GrowOverlay). dst must not exist. On failure nothing
// it created is left behind.
func (Host) CreateOverlay(ctx context.Context, kind Kind, base, dst string, size int64) (Overlay, error) {
	absBase, err := filepath.Abs(base)
	if err != nil {
		return Overlay{}, fmt.Errorf("create overlay: resolve base %s: %w", base, err)
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return Overlay{}, fmt.Errorf("create overlay: resolve %s: %w", dst, err)
	}
	st, err := os.Stat(absBase)
	if err != nil {
		return Overlay{}, fmt.Errorf("create overlay: base image: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Overlay{}, fmt.Errorf("create overlay: base image %s is not a regular file", absBase)
	}
	if _, err := os.Lstat(absDst); err == nil {
		return Overlay{}, fmt.Errorf("create overlay: %s already exists: delete it or choose another path", absDst)
	}
	ov := Overlay{Kind: kind, Path: absDst, Format: FormatRaw, Base: absBase}
	switch kind {
	case KindQcow2:
		ov.Format = FormatQcow2
		// At its final size in the one qemu-img run (no resize after).
		err = createQcow2(ctx, absBase, absDst, max(size, st.Size()))
	case KindReflink:
		err = createReflink(absBase, absDst)
	case KindSparseCopy:
		err = sparseCopy(ctx, absBase, absDst)
	case KindDMSnapshot:
		ov, err = createDMSnapshot(ctx, ov, st.Size())
	default:
		return Overlay{}, fmt.Errorf("create overlay: unknown mechanism %q: use one of dm-snapshot, qcow2, reflink, sparse-copy", kind)
	}
	if err != nil {
		return Overlay{}, err
	}
	if kind != KindQcow2 {
		if err := GrowOverlay(ctx, ov, size); err != nil {
			_ = (Host{}).RemoveOverlay(ctx, ov)
			return Overlay{}, err
		}
	}
	return ov, nil
}

// RemoveOverlay deletes an overlay: for a dm-snapshot it removes the mapping
// (its loop devices detach with it) and then the copy-on-write file. Removing
// an overlay that is already gone is not an error.
func (Host) RemoveOverlay(ctx context.Context, ov Overlay) error {
	if ov.Kind == KindDMSnapshot {
		if err := (Host{}).DeactivateOverlay(ctx, ov); err != nil {
			return err
		}
	}
	if ov.Path == "" {
		return errors.New("remove overlay: empty path")
	}
	if err := os.Remove(ov.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove overlay %s: %w", ov.Path, err)
	}
	return nil
}

// ActivateOverlay makes an existing overlay usable after a host reboot or a
// DeactivateOverlay: for a dm-snapshot it sets up the loop devices and the
// mapping again when they are missing. File overlays need nothing.
func (Host) ActivateOverlay(ctx context.Context, ov Overlay) (Overlay, error) {
	if ov.Kind != KindDMSnapshot {
		return ov, nil
	}
	return activateDMSnapshot(ctx, ov)
}

// DeactivateOverlay releases host devices held by an overlay (dm-snapshot
// mapping and loop devices) while keeping its data, e.g. when the VM stops.
func (Host) DeactivateOverlay(ctx context.Context, ov Overlay) error {
	if ov.Kind != KindDMSnapshot {
		return nil
	}
	return removeDMSnapshot(ctx, ov)
}

// ParseKind parses a mechanism name as written in config or state.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.TrimSpace(s)); k {
	case KindDMSnapshot, KindQcow2, KindReflink, KindSparseCopy:
		return k, nil
	}
	return "", fmt.Errorf("unknown overlay mechanism %q: use one of dm-snapshot, qcow2, reflink, sparse-copy", s)
}
