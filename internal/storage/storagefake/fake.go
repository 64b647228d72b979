// Package storagefake is an in-memory storage.Manager for daemon unit tests:
// it records overlays and work disks by path, touches no host file, and can
// be told to fail any operation.
package storagefake

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/bangerdev/banger/internal/storage"
)

// Fake implements storage.Manager in memory. The zero value is ready to use.
type Fake struct {
	mu sync.Mutex
	// Overlays maps overlay path to the overlay.
	Overlays map[string]storage.Overlay
	// Active holds overlay paths that are activated.
	Active map[string]bool
	// WorkDisks maps work disk path to its size.
	WorkDisks map[string]int64
	// Identity maps work disk path to its authorized key.
	Identity map[string]string
	// OverlaySize maps overlay path to the size it was created with.
	OverlaySize map[string]int64
	// Images maps image files written by FlattenOverlay to whether they
	// are read-only.
	Images map[string]bool
	// Activations counts ActivateOverlay calls per overlay path.
	Activations map[string]int
	// Copies maps each disk CopyDisk wrote to its source.
	Copies map[string]string
	// Fail makes the named method ("CreateOverlay", "GrowWorkDisk", ...)
	// return the error.
	Fail map[string]error
	// Kind is what Probe chooses; default sparse-copy.
	Kind storage.Kind
}

var _ storage.Manager = (*Fake)(nil)

func (f *Fake) fail(op string) error {
	if f.Overlays == nil {
		f.Overlays, f.Active = map[string]storage.Overlay{}, map[string]bool{}
		f.WorkDisks, f.Identity = map[string]int64{}, map[string]string{}
		f.OverlaySize, f.Images, f.Activations = map[string]int64{}, map[string]bool{}, map[string]int{}
		f.Copies = map[string]string{}
	}
	return f.Fail[op]
}

// Probe reports Kind as chosen.
func (f *Fake) Probe(driver, dir string) storage.Report {
	k := f.Kind
	if k == "" {
		k = storage.KindSparseCopy
	}
	return storage.Report{Chosen: k, Reason: "fake", All: []storage.Availability{{Kind: k, OK: true, Reason: "fake"}}}
}

// CreateOverlay records an overlay at dst.
func (f *Fake) CreateOverlay(ctx context.Context, kind storage.Kind, base, dst string, size int64) (storage.Overlay, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("CreateOverlay"); err != nil {
		return storage.Overlay{}, err
	}
	if _, ok := f.Overlays[dst]; ok {
		return storage.Overlay{}, fmt.Errorf("create overlay: %s already exists", dst)
	}
	ov := storage.Overlay{Kind: kind, Path: dst, Base: base, Format: storage.FormatRaw}
	if kind == storage.KindQcow2 {
		ov.Format = storage.FormatQcow2
	}
	f.Overlays[dst] = ov
	f.OverlaySize[dst] = size
	return ov, nil
}

// RemoveOverlay forgets the overlay.
func (f *Fake) RemoveOverlay(ctx context.Context, ov storage.Overlay) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("RemoveOverlay"); err != nil {
		return err
	}
	delete(f.Overlays, ov.Path)
	delete(f.Active, ov.Path)
	return nil
}

// ActivateOverlay marks the overlay active.
func (f *Fake) ActivateOverlay(ctx context.Context, ov storage.Overlay) (storage.Overlay, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("ActivateOverlay"); err != nil {
		return storage.Overlay{}, err
	}
	if _, ok := f.Overlays[ov.Path]; !ok {
		return storage.Overlay{}, fmt.Errorf("activate overlay: %s does not exist", ov.Path)
	}
	f.Active[ov.Path] = true
	f.Activations[ov.Path]++
	if ov.Kind == storage.KindDMSnapshot {
		ov.Device = "/dev/mapper/fake-" + filepath.Base(filepath.Dir(ov.Path))
	}
	return ov, nil
}

// DeactivateOverlay marks the overlay inactive.
func (f *Fake) DeactivateOverlay(ctx context.Context, ov storage.Overlay) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("DeactivateOverlay"); err != nil {
		return err
	}
	delete(f.Active, ov.Path)
	return nil
}

// CreateWorkDisk records a work disk of size bytes and its identity.
func (f *Fake) CreateWorkDisk(ctx context.Context, path string, size int64, id storage.Identity) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("CreateWorkDisk"); err != nil {
		return err
	}
	if _, ok := f.WorkDisks[path]; ok {
		return fmt.Errorf("create work disk: %s already exists", path)
	}
	f.WorkDisks[path] = size
	f.Identity[path] = id.AuthorizedKey
	return nil
}

// GrowWorkDisk changes the recorded size; shrinking yields *ShrinkError.
func (f *Fake) GrowWorkDisk(ctx context.Context, path string, newSize int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("GrowWorkDisk"); err != nil {
		return err
	}
	cur, ok := f.WorkDisks[path]
	if !ok {
		return fmt.Errorf("grow work disk: %s does not exist", path)
	}
	if newSize < cur {
		return &storage.ShrinkError{Path: path, Current: cur, Requested: newSize}
	}
	f.WorkDisks[path] = newSize
	return nil
}

// UpdateIdentity records the authorized key.
func (f *Fake) UpdateIdentity(ctx context.Context, image, authorizedKey string, hostKeyPriv, hostKeyPub []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("UpdateIdentity"); err != nil {
		return err
	}
	f.Identity[image] = authorizedKey
	return nil
}

// ImageSize is the apparent size ImageInfo reports for a flattened image.
const ImageSize = 2 << 30

// ImageInfo returns the recorded work disk size, or ImageSize for an image
// FlattenOverlay made (allocated: a tenth).
func (f *Fake) ImageInfo(path string) (int64, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("ImageInfo"); err != nil {
		return 0, 0, err
	}
	if size, ok := f.WorkDisks[path]; ok {
		return size, size / 10, nil
	}
	if _, ok := f.Images[path]; ok {
		return ImageSize, ImageSize / 10, nil
	}
	return 0, 0, fmt.Errorf("image info: %s does not exist", path)
}
