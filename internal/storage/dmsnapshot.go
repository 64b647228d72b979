package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// dmChunkSectors is the snapshot chunk size in 512-byte sectors (4 KiB).
const dmChunkSectors = 8

// dmName is the device-mapper name of the snapshot whose copy-on-write store
// is cowPath: stable across reboots so the mapping can be found again.
func dmName(cowPath string) string {
	sum := sha256.Sum256([]byte(cowPath))
	return "banger-ov-" + hex.EncodeToString(sum[:8])
}

// snapshotTable is the dmsetup table of a persistent snapshot of origin
// (sectors long) storing changed chunks in cow.
func snapshotTable(sectors int64, origin, cow string) string {
	return fmt.Sprintf("0 %d snapshot %s %s P %d", sectors, origin, cow, dmChunkSectors)
}

// cowSize is the size of the sparse copy-on-write file for a base of
// baseSize bytes: large enough that the snapshot can never overflow even if
// the guest rewrites every block (data plus exception metadata plus header).
func cowSize(baseSize int64) int64 {
	const mib = 1 << 20
	size := baseSize + baseSize/64 + mib
	return (size + mib - 1) / mib * mib
}

func losetupAttachArgs(file string, readOnly bool) []string {
	args := []string{"losetup", "--find", "--show"}
	if readOnly {
		args = append(args, "--read-only")
	}
	return append(args, file)
}

func dmCreateArgs(name, table string) []string {
	return []string{"dmsetup", "create", name, "--table", table}
}

func dmRemoveArgs(name string) []string {
	return []string{"dmsetup", "remove", "--retry", name}
}

// createDMSnapshot creates the sparse copy-on-write file and activates the
// snapshot mapping. It never reads the base.
func createDMSnapshot(ctx context.Context, ov Overlay, baseSize int64) (Overlay, error) {
	if a := probeDM(); !a.OK {
		return Overlay{}, fmt.Errorf("dm-snapshot overlay: %s: choose another overlay mechanism", a.Reason)
	}
	if baseSize%512 != 0 {
		return Overlay{}, fmt.Errorf("dm-snapshot overlay: base %s is %d bytes, not a multiple of 512: rebuild the image", ov.Base, baseSize)
	}
	f, err := os.OpenFile(ov.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Overlay{}, fmt.Errorf("dm-snapshot overlay: %w", err)
	}
	err = f.Truncate(cowSize(baseSize))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	active := ov
	if err == nil {
		active, err = activateDMSnapshot(ctx, ov)
	}
	if err != nil {
		os.Remove(ov.Path)
		return Overlay{}, err
	}
	return active, nil
}

// activateDMSnapshot attaches loop devices for the base (read-only) and the
// copy-on-write file and creates the snapshot mapping, unless it exists. The
// loop devices are then detached lazily, so they go away with the mapping.
func activateDMSnapshot(ctx context.Context, ov Overlay) (_ Overlay, err error) {
	name := dmName(ov.Path)
	ov.Device = "/dev/mapper/" + name
	if dmExists(ctx, name) {
		return ov, nil
	}
	st, err := os.Stat(ov.Base)
	if err != nil {
		return Overlay{}, fmt.Errorf("dm-snapshot overlay: base image: %w", err)
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	attach := func(file string, ro bool) (string, error) {
		out, err := execx.Run(ctx, execx.Cmd{Args: losetupAttachArgs(file, ro)})
		if err != nil {
			return "", fmt.Errorf("dm-snapshot overlay: attach loop device: %w", err)
		}
		dev := strings.TrimSpace(string(out))
		undo = append(undo, func() { detachLoop(dev) })
		return dev, nil
	}
	origin, err := attach(ov.Base, true)
	if err != nil {
		return Overlay{}, err
	}
	cow, err := attach(ov.Path, false)
	if err != nil {
		return Overlay{}, err
	}
	table := snapshotTable(st.Size()/512, origin, cow)
	if err := execx.Check(ctx, dmCreateArgs(name, table)...); err != nil {
		return Overlay{}, fmt.Errorf("dm-snapshot overlay: %w", err)
	}
	undo = append(undo, func() { _ = execx.Check(context.Background(), dmRemoveArgs(name)...) })
	if err := execx.Check(ctx, "dmsetup", "mknodes", name); err != nil {
		return Overlay{}, fmt.Errorf("dm-snapshot overlay: %w", err)
	}
	// The mapping holds both loop devices open: detaching now only marks them
	// auto-clear, so the kernel frees them when the mapping is removed.
	detachLoop(origin)
	detachLoop(cow)
	return ov, nil
}

// removeDMSnapshot removes the mapping (freeing its auto-clear loop devices)
// and detaches any loop device still backed by the copy-on-write file.
func removeDMSnapshot(ctx context.Context, ov Overlay) error {
	name := dmName(ov.Path)
	if dmExists(ctx, name) {
		if err := execx.Check(ctx, dmRemoveArgs(name)...); err != nil {
			return fmt.Errorf("remove dm-snapshot %s: %w: stop the VM using it first", name, err)
		}
	}
	if !execx.Have("losetup") {
		return nil
	}
	out, err := execx.Output(ctx, "losetup", "--associated", ov.Path, "--noheadings", "--output", "NAME")
	if err != nil {
		var ee *execx.Error
		if errors.As(err, &ee) && ee.ExitCode > 0 {
			return nil // no loop device: nothing to detach
		}
		return fmt.Errorf("remove dm-snapshot %s: %w", name, err)
	}
	for _, dev := range strings.Fields(string(out)) {
		detachLoop(dev)
	}
	return nil
}

func dmExists(ctx context.Context, name string) bool {
	if !execx.Have("dmsetup") {
		return false
	}
	return execx.Check(ctx, "dmsetup", "info", name) == nil
}

func detachLoop(dev string) {
	if err := execx.Check(context.Background(), "losetup", "--detach", dev); err != nil {
		slog.Warn("detach loop device", "device", dev, "err", err)
	}
}
