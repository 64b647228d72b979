package sshkeys

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }

// writeTemp writes data to a new temporary file in dir with mode and owner,
// synced to disk, and returns its path.
func writeTemp(dir string, data []byte, mode os.FileMode, uid, gid int) (string, error) {
	f, err := os.CreateTemp(dir, ".banger-tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil && (uid >= 0 || gid >= 0) {
		err = f.Chown(uid, gid)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// writeFileAtomic replaces path with data: readers see the old or the new
// content, never a partial file.
func writeFileAtomic(path string, data []byte, mode os.FileMode, uid, gid int) error {
	tmp, err := writeTemp(filepath.Dir(path), data, mode, uid, gid)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func chown(path string, uid, gid int) error {
	if uid < 0 && gid < 0 {
		return nil
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}
