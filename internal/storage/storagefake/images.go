package storagefake

import (
	"context"
	"fmt"

	"github.com/bangerdev/banger/internal/storage"
)

// FlattenOverlay records an image file at out.
func (f *Fake) FlattenOverlay(ctx context.Context, ov storage.Overlay, out string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("FlattenOverlay"); err != nil {
		return err
	}
	if _, ok := f.Overlays[ov.Path]; !ok {
		return fmt.Errorf("flatten overlay: %s does not exist", ov.Path)
	}
	if _, ok := f.Images[out]; ok {
		return fmt.Errorf("flatten overlay: %s already exists", out)
	}
	f.Images[out] = false
	return nil
}

// MakeReadOnly marks a recorded image read-only.
func (f *Fake) MakeReadOnly(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("MakeReadOnly"); err != nil {
		return err
	}
	f.Images[path] = true
	return nil
}

// RemoveImage forgets an image file or work disk.
func (f *Fake) RemoveImage(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("RemoveImage"); err != nil {
		return err
	}
	delete(f.Images, path)
	delete(f.WorkDisks, path)
	delete(f.Identity, path)
	return nil
}

// IsActive reports whether the overlay at path is activated.
func (f *Fake) IsActive(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Active[path]
}

// HasOverlay reports whether an overlay exists at path.
func (f *Fake) HasOverlay(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.Overlays[path]
	return ok
}

// HasWorkDisk reports whether a work disk exists at path.
func (f *Fake) HasWorkDisk(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.WorkDisks[path]
	return ok
}

// CopyDisk copies the record of an overlay or work disk at src to dst
// (replacing it with replace) and reports a sparse copy.
func (f *Fake) CopyDisk(ctx context.Context, src, dst string, replace bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("CopyDisk"); err != nil {
		return "", err
	}
	_, isOv := f.Overlays[dst]
	_, isWork := f.WorkDisks[dst]
	if (isOv || isWork) && !replace {
		return "", fmt.Errorf("copy disk: %s already exists", dst)
	}
	switch ov, ok := f.Overlays[src]; {
	case ok:
		ov.Path, ov.Device = dst, ""
		f.Overlays[dst] = ov
		f.Copies[dst] = src
	case f.WorkDisks[src] != 0:
		f.WorkDisks[dst] = f.WorkDisks[src]
		f.Identity[dst] = f.Identity[src]
		f.Copies[dst] = src
	default:
		return "", fmt.Errorf("copy disk: %s does not exist", src)
	}
	return storage.CopySparse, nil
}

// CopiedFrom returns the path the disk at dst was last copied from.
func (f *Fake) CopiedFrom(dst string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Copies[dst]
}
