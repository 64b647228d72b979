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

// Host is the real Manager, operating on host files and tools; its
// methods are in the files of each concern (overlay.go, workdisk.go, ...).
type Host struct{}

var _ Manager = Host{}
