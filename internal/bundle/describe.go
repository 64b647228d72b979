package bundle

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
)

// File statuses reported by [Describe].
const (
	// StatusOK means the file exists and matches bundle.json's checksum.
	StatusOK = "ok"
	// StatusUnverified means the file exists but bundle.json records no
	// checksum for it (legacy bundles, overrides, directories).
	StatusUnverified = "unverified"
	// StatusModified means the file's checksum differs from bundle.json.
	StatusModified = "modified"
	// StatusMissing means the file is named but absent, or a required item
	// is not named at all.
	StatusMissing = "missing"
)

// FileInfo describes one item of a resolved bundle.
type FileInfo struct {
	// Role is what the item is: "kernel", "rootfs", "helper customize", ...
	Role string `json:"role"`
	// Path is the absolute path (empty for an unset required item).
	Path string `json:"path"`
	// Dir is true for directories (the modules tree).
	Dir bool `json:"dir,omitempty"`
	// Size is the file size, or the total size of a directory's files.
	Size int64 `json:"size"`
	// SHA256 is the file's checksum (empty for directories and missing
	// files).
	SHA256 string `json:"sha256,omitempty"`
	// Status is StatusOK, StatusUnverified, StatusModified or StatusMissing.
	Status string `json:"status"`
}

// Describe resolves the bundle in dir without overrides and describes it;
// see [Resolved.Describe].
func Describe(dir string) ([]FileInfo, error) {
	r, err := Resolve(dir, Overrides{})
	if err != nil {
		return nil, err
	}
	return r.Describe(context.Background())
}

// Describe lists every item of the resolved bundle with its size and
// SHA-256, checked against bundle.json's files map, and marks what is
// missing. It hashes every file, so it reads the whole bundle.
func (r *Resolved) Describe(ctx context.Context) ([]FileInfo, error) {
	var out []FileInfo
	for _, it := range r.items() {
		fi := FileInfo{Role: it.role, Path: it.path, Status: StatusMissing}
		if it.path == "" {
			if it.required {
				out = append(out, fi)
			}
			continue
		}
		st, err := os.Stat(it.path)
		if err != nil {
			out = append(out, fi)
			continue
		}
		fi.Status = StatusUnverified
		if st.IsDir() {
			fi.Dir = true
			fi.Size = dirSize(it.path)
			out = append(out, fi)
			continue
		}
		fi.Size = st.Size()
		if fi.SHA256, err = hashFile(ctx, it.path); err != nil {
			return nil, err
		}
		if want, ok := r.recordedSum(it.path); ok {
			fi.Status = StatusOK
			if want != fi.SHA256 {
				fi.Status = StatusModified
			}
		}
		out = append(out, fi)
	}
	return out, nil
}

// recordedSum returns bundle.json's checksum for an absolute path inside
// the bundle.
func (r *Resolved) recordedSum(abs string) (string, bool) {
	if r.Metadata == nil || r.Metadata.Files == nil {
		return "", false
	}
	rel, err := filepath.Rel(r.Dir, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	sum, ok := r.Metadata.Files[filepath.ToSlash(rel)]
	return sum, ok
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
