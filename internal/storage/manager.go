package storage

import "context"

// Manager is the storage subsystem as the daemon uses it: every overlay,
// work-disk and image-file operation goes through it. Host is the real
// implementation; storagefake.Fake is an in-memory one for unit tests.
type Manager interface {
	// Probe reports the overlay mechanisms for a driver and directory.
	Probe(driver, dir string) Report
	// CreateOverlay creates a VM's system overlay of at least size bytes
	// (see CreateOverlay).
	CreateOverlay(ctx context.Context, kind Kind, base, dst string, size int64) (Overlay, error)
	// RemoveOverlay deletes an overlay (see RemoveOverlay).
	RemoveOverlay(ctx context.Context, ov Overlay) error
	// ActivateOverlay readies an overlay for a VM start (see ActivateOverlay).
	ActivateOverlay(ctx context.Context, ov Overlay) (Overlay, error)
	// DeactivateOverlay releases host devices on VM stop.
	DeactivateOverlay(ctx context.Context, ov Overlay) error
	// FlattenOverlay saves what a VM sees through ov as one raw file.
	FlattenOverlay(ctx context.Context, ov Overlay, out string) error
	// CreateWorkDisk builds a work disk holding the VM's identity.
	CreateWorkDisk(ctx context.Context, path string, size int64, id Identity) error
	// GrowWorkDisk grows a work disk; shrinking yields *ShrinkError.
	GrowWorkDisk(ctx context.Context, path string, newSize int64) error
	// UpdateIdentity rewrites identity files in an existing work disk.
	UpdateIdentity(ctx context.Context, image, authorizedKey string, hostKeyPriv, hostKeyPub []byte) error
	// ImageInfo returns apparent and allocated size of an image file.
	ImageInfo(path string) (size, allocated int64, err error)
	// MakeReadOnly marks a base image read-only.
	MakeReadOnly(path string) error
	// RemoveImage deletes a disk image file (an image or a work disk).
	RemoveImage(path string) error
	// CopyDisk copies a VM disk (overlay or work disk) for snapshots and
	// clones and names the method used (see CopyDisk).
	CopyDisk(ctx context.Context, src, dst string, replace bool) (string, error)
}

// Host is the real Manager, operating on host files and tools.
type Host struct{}

var _ Manager = Host{}

// Probe calls the package function Probe.
func (Host) Probe(driver, dir string) Report { return Probe(driver, dir) }

// CreateOverlay calls the package function CreateOverlay.
func (Host) CreateOverlay(ctx context.Context, kind Kind, base, dst string, size int64) (Overlay, error) {
	return CreateOverlay(ctx, kind, base, dst, size)
}

// RemoveOverlay calls the package function RemoveOverlay.
func (Host) RemoveOverlay(ctx context.Context, ov Overlay) error { return RemoveOverlay(ctx, ov) }

// ActivateOverlay calls the package function ActivateOverlay.
func (Host) ActivateOverlay(ctx context.Context, ov Overlay) (Overlay, error) {
	return ActivateOverlay(ctx, ov)
}

// DeactivateOverlay calls the package function DeactivateOverlay.
func (Host) DeactivateOverlay(ctx context.Context, ov Overlay) error {
	return DeactivateOverlay(ctx, ov)
}

// FlattenOverlay calls the package function FlattenOverlay.
func (Host) FlattenOverlay(ctx context.Context, ov Overlay, out string) error {
	return FlattenOverlay(ctx, ov, out)
}

// CreateWorkDisk calls CreateIdentityDisk.
func (Host) CreateWorkDisk(ctx context.Context, path string, size int64, id Identity) error {
	return CreateIdentityDisk(ctx, path, size, id)
}

// GrowWorkDisk calls the package function GrowWorkDisk.
func (Host) GrowWorkDisk(ctx context.Context, path string, newSize int64) error {
	return GrowWorkDisk(ctx, path, newSize)
}

// UpdateIdentity calls the package function UpdateIdentity.
func (Host) UpdateIdentity(ctx context.Context, image, authorizedKey string, hostKeyPriv, hostKeyPub []byte) error {
	return UpdateIdentity(ctx, image, authorizedKey, hostKeyPriv, hostKeyPub)
}

// ImageInfo calls the package function ImageInfo.
func (Host) ImageInfo(path string) (int64, int64, error) { return ImageInfo(path) }

// MakeReadOnly calls the package function MakeReadOnly.
func (Host) MakeReadOnly(path string) error { return MakeReadOnly(path) }

// RemoveImage calls the package function RemoveImage.
func (Host) RemoveImage(path string) error { return RemoveImage(path) }

// CopyDisk calls the package function CopyDisk.
func (Host) CopyDisk(ctx context.Context, src, dst string, replace bool) (string, error) {
	return CopyDisk(ctx, src, dst, replace)
}
