package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Paths inside the work disk (relative to its root, the guest's /root), as
// docs/guest-contract.md specifies.
const (
	AuthorizedKeysPath = ".ssh/authorized_keys"
	HostKeyPath        = ".banger/ssh_host_ed25519_key"
	HostKeyPubPath     = ".banger/ssh_host_ed25519_key.pub"
)

// StageIdentity writes the guest identity files into the staging directory
// of a new work disk: .ssh/authorized_keys (0600, directory 0700) with the
// user's public key, and the VM's SSH host key in .banger/ (private 0600,
// public 0644, directory 0700).
func StageIdentity(dir, authorizedKey string, hostKeyPriv, hostKeyPub []byte) error {
	if strings.TrimSpace(authorizedKey) == "" {
		return fmt.Errorf("stage identity in %s: empty authorized key", dir)
	}
	files := []struct {
		rel  string
		data []byte
		mode os.FileMode
	}{
		{AuthorizedKeysPath, withNewline([]byte(authorizedKey)), 0o600},
		{HostKeyPath, withNewline(hostKeyPriv), 0o600},
		{HostKeyPubPath, withNewline(hostKeyPub), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("stage identity: %w", err)
		}
		if err := os.Chmod(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("stage identity: %w", err)
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return fmt.Errorf("stage identity: %w", err)
		}
		if err := os.Chmod(p, f.mode); err != nil { // umask-proof
			return fmt.Errorf("stage identity: %w", err)
		}
	}
	return nil
}

func withNewline(b []byte) []byte {
	if len(b) == 0 || b[len(b)-1] == '\n' {
		return b
	}
	return append(append([]byte(nil), b...), '\n')
}

// ImageInfo returns the apparent size of a disk image and the bytes it
// really occupies on the host (sparse files occupy less).
func (Host) ImageInfo(path string) (size, allocated int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("image info: %w", err)
	}
	size = st.Size()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		allocated = sys.Blocks * 512
	}
	return size, allocated, nil
}

// MakeReadOnly marks a base image read-only (0444) so no VM or tool writes
// to the shared image by mistake.
func (Host) MakeReadOnly(path string) error {
	if err := os.Chmod(path, 0o444); err != nil {
		return fmt.Errorf("make image read-only: %w", err)
	}
	return nil
}

// UpdateIdentity rewrites the identity files of an existing work disk image
// (stopped VM) in place, without mounting it: the authorized key, and the
// host key pair when hostKeyPriv is non-nil. Modes are as in StageIdentity.
func (Host) UpdateIdentity(ctx context.Context, image, authorizedKey string, hostKeyPriv, hostKeyPub []byte) error {
	if strings.TrimSpace(authorizedKey) == "" {
		return fmt.Errorf("update identity in %s: empty authorized key", image)
	}
	if err := WriteFileToExt4(ctx, image, "/"+AuthorizedKeysPath, withNewline([]byte(authorizedKey)), 0o600); err != nil {
		return err
	}
	if hostKeyPriv == nil {
		return nil
	}
	if err := WriteFileToExt4(ctx, image, "/"+HostKeyPath, withNewline(hostKeyPriv), 0o600); err != nil {
		return err
	}
	return WriteFileToExt4(ctx, image, "/"+HostKeyPubPath, withNewline(hostKeyPub), 0o644)
}
