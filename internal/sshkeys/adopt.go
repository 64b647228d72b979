package sshkeys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// AdoptKey installs the private key at src (a runtime bundle's id_ed25519)
// as the user key at dst, only when dst does not exist yet and src does. It
// reports whether it installed the key. The key must parse and have no
// passphrase; dst is written 0600 (its directory 0700) and never replaced,
// and EnsureUserKey then writes dst.pub beside it. Callers use it only when
// the user opted in (config ssh_key_from_bundle): a key shipped in a bundle
// is shared by everyone who has the bundle.
func AdoptKey(src, dst string) (bool, error) {
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	data, err := os.ReadFile(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read bundle ssh key: %w", err)
	}
	if _, err := ssh.ParsePrivateKey(data); err != nil {
		return false, fmt.Errorf("bundle ssh key %s is not a usable private key without passphrase: %v: remove it or unset ssh_key_from_bundle", src, err)
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create ssh key directory: %w", err)
	}
	tmp, err := writeTemp(dir, data, 0o600, -1, -1)
	if err != nil {
		return false, fmt.Errorf("install bundle ssh key: %w", err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("install bundle ssh key: %w", err)
	}
	return true, nil
}
