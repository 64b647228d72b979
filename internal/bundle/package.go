package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// PackageOptions says what to package and where.
type PackageOptions struct {
	// RuntimeDir is the bundle directory to package (./runtime).
	RuntimeDir string
	// OutPath is the archive to write (dist/banger-runtime.tar.gz).
	OutPath string
	// ManifestPath is runtime-bundle.toml; used with WriteManifest.
	ManifestPath string
	// WriteManifest rewrites the manifest's url to file://<abs OutPath>
	// and its sha256, keeping [bundle_metadata].
	WriteManifest bool
}

// Package refreshes bundle.json in the runtime dir (metadata from the
// existing bundle.json or the legacy layout, detected kernel format, and a
// SHA-256 for every file) and writes a deterministic .tar.gz of the dir:
// entries sorted, mtimes to the second (unpacking restores them), uid/gid
// 0, no names, no gzip timestamp, so the same tree gives the same bytes and
// a fetched bundle packs to the archive it came from. The stamp file and
// the digest cache are left out. It returns the archive's SHA-256 and
// prints nothing.
func Package(ctx context.Context, opts PackageOptions) (string, error) {
	dir, err := filepath.Abs(opts.RuntimeDir)
	if err != nil {
		return "", fmt.Errorf("package runtime bundle: %w", err)
	}
	out, err := filepath.Abs(opts.OutPath)
	if err != nil || opts.OutPath == "" {
		return "", fmt.Errorf("package runtime bundle: no usable output path %q", opts.OutPath)
	}
	if rel, err := filepath.Rel(dir, out); err == nil && filepath.IsLocal(rel) {
		return "", fmt.Errorf("package runtime bundle: output %s is inside the runtime dir %s: write it elsewhere (e.g. dist/banger-runtime.tar.gz)", out, dir)
	}
	meta, err := refreshMetadata(ctx, dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("package runtime bundle: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return "", fmt.Errorf("package runtime bundle: %w", err)
	}
	partial := f.Name()
	defer os.Remove(partial) // no-op once renamed
	h := sha256.New()
	deltas, err := planDeltas(ctx, dir, meta)
	if err != nil {
		f.Close()
		return "", fmt.Errorf("package runtime bundle: %w", err)
	}
	werr := writeTarGz(ctx, io.MultiWriter(f, h), dir, deltas)
	if err := errors.Join(werr, f.Close(), os.Chmod(partial, 0o644)); err != nil {
		return "", fmt.Errorf("package runtime bundle: %w", err)
	}
	if err := os.Rename(partial, out); err != nil {
		return "", fmt.Errorf("package runtime bundle: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if opts.WriteManifest {
		if opts.ManifestPath == "" {
			return sum, errors.New("package runtime bundle: write manifest: no manifest path given")
		}
		u := (&url.URL{Scheme: "file", Path: out}).String()
		if err := WriteManifestURL(opts.ManifestPath, u, sum, meta); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// refreshMetadata rewrites dir/bundle.json (only when its content changes)
// and returns it.
func refreshMetadata(ctx context.Context, dir string) (*Metadata, error) {
	meta, err := Load(dir)
	if err != nil {
		return nil, err
	}
	meta.Version = MetadataVersion
	if meta.KernelFormat == "" && meta.Kernel != "" {
		if f, err := KernelFormat(filepath.Join(dir, meta.Kernel)); err == nil && f != FormatUnknown {
			meta.KernelFormat = f
		}
	}
	if meta.Build.Created == "" {
		meta.Build.Created = time.Now().UTC().Format(time.RFC3339)
	}
	meta.Files = map[string]string{}
	err = walkBundle(dir, func(rel, abs string, d fs.DirEntry) error {
		if !d.Type().IsRegular() || rel == MetadataFile {
			return nil
		}
		sum, err := hashFile(ctx, abs)
		if err != nil {
			return err
		}
		meta.Files[rel] = sum
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("package runtime bundle: %w", err)
	}
	data, err := meta.Marshal()
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, MetadataFile)
	if old, err := os.ReadFile(p); err != nil || !bytes.Equal(old, data) {
		if err := writeFileAtomic(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("package runtime bundle: %w", err)
		}
	}
	meta.Layout = LayoutJSON
	return meta, nil
}

// walkBundle visits every entry of dir in lexical order except the root,
// the stamp file and the digest cache, with slash paths.
func walkBundle(dir string, fn func(rel, abs string, d fs.DirEntry) error) error {
	return filepath.WalkDir(dir, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if abs == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, abs)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == StampFile || rel == DigestCacheFile {
			return nil
		}
		return fn(rel, abs, d)
	})
}

// delta is how one bundle file is stored: as block ops against base.
type delta struct {
	base string
	ops  []byte
	size int64
}

// planDeltas decides which files go into the archive as deltas: the
// default rootfs against the base rootfs when they are two files sharing
// blocks (see delta.go).
func planDeltas(ctx context.Context, dir string, meta *Metadata) (map[string]delta, error) {
	out := map[string]delta{}
	if meta.Rootfs == "" || meta.BaseRootfs == "" || meta.Rootfs == meta.BaseRootfs {
		return out, nil
	}
	target, base := filepath.Join(dir, meta.Rootfs), filepath.Join(dir, meta.BaseRootfs)
	for _, p := range []string{target, base} {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			return out, nil
		}
	}
	ops, size, err := deltaOps(ctx, target, base)
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(ops, 's') < 0 {
		return out, nil
	}
	out[filepath.ToSlash(filepath.Clean(meta.Rootfs))] = delta{base: filepath.ToSlash(filepath.Clean(meta.BaseRootfs)), ops: ops, size: size}
	return out, nil
}

// writeTarGz writes dir as a deterministic gzip-compressed tar to w, the
// files of deltas as block deltas.
func writeTarGz(ctx context.Context, w io.Writer, dir string, deltas map[string]delta) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	err = walkBundle(dir, func(rel, abs string, d fs.DirEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := os.Lstat(abs)
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Name:    rel,
			Mode:    int64(fi.Mode().Perm()),
			ModTime: fi.ModTime().Truncate(time.Second),
		}
		switch {
		case fi.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
		case fi.Mode().IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
			if d, ok := deltas[rel]; ok {
				hdr.Size, hdr.PAXRecords = d.size, map[string]string{paxDeltaBase: d.base}
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				return writeDelta(ctx, tw, abs, d.ops)
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(abs)
			if err != nil {
				return err
			}
			if err := checkLinkTarget(rel, target); err != nil {
				return fmt.Errorf("%s: a bundle must be self-contained: %w", abs, err)
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		default:
			return fmt.Errorf("%s is a special file (%s), which a bundle must not contain: remove it", abs, fi.Mode().Type())
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(abs)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, ctxReader{ctx, f})
		if err == nil && n != hdr.Size {
			err = fmt.Errorf("%s changed size while packaging", abs)
		}
		return err
	})
	return errors.Join(err, tw.Close(), zw.Close())
}

// hashFile returns the hex SHA-256 of the file at path.
func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
