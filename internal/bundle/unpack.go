package bundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// unpackHook, when set (tests only), runs before each tar entry is written.
var unpackHook func(name string)

// Unpack limits. A bundle holds a kernel, an initrd, modules, helpers and
// root filesystem images of a few GiB; an entry or a total beyond these is
// a corrupt or hostile archive (a decompression bomb that would fill the
// disk), refused from its header before any of it is written. Variables so
// tests can lower them.
var (
	// maxEntrySize caps one file: 16 GiB, twice the largest system disk a
	// default image is built for.
	maxEntrySize int64 = 16 << 30
	// maxTotalSize caps the sum of all files: 32 GiB.
	maxTotalSize int64 = 32 << 30
)

// maxTrailer is how much data may follow tar's end-of-archive marker
// (padding to the record size, 10 KiB for GNU tar) before the archive is
// called corrupt.
const maxTrailer = 1 << 20

// ctxReader fails reads once ctx is done, so a cancelled fetch stops
// mid-archive.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// unpackTarGz extracts the gzip-compressed tar r into root, which must be
// an empty directory. It refuses entries that would land outside root:
// absolute paths, ".." components, paths through symlinks, symlinks or
// hard links whose target leaves root, and device or other special files.
// Permission bits and modification times are kept (see attrs.go); owners
// are not.
func unpackTarGz(ctx context.Context, r io.Reader, root string) error {
	zr, err := gzip.NewReader(ctxReader{ctx, r})
	if err != nil {
		return corrupt(ctx, err)
	}
	tr := tar.NewReader(zr)
	dirs := map[string]attrs{}
	seen := map[string]bool{}
	var total int64
	var deltas []pendingDelta
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Read the gzip stream to its end so its CRC-32 and length
			// are checked: tar stops at its end-of-archive marker. Only
			// tar's block padding may follow that marker.
			n, err := io.Copy(io.Discard, io.LimitReader(zr, maxTrailer+1))
			if err != nil {
				return corrupt(ctx, err)
			}
			if n > maxTrailer {
				return corrupt(ctx, fmt.Errorf("more than %d bytes after the end of the tar archive", maxTrailer))
			}
			break
		}
		if err != nil {
			return corrupt(ctx, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		rel, err := entryPath(hdr.Name)
		if err != nil {
			return err
		}
		if rel == "." {
			continue
		}
		if seen[rel] {
			return fmt.Errorf("unpack runtime bundle: entry %q appears twice: a bundle lists each path once, so the archive is corrupt or was tampered with", hdr.Name)
		}
		seen[rel] = true
		if err := checkSize(hdr, &total); err != nil {
			return err
		}
		if unpackHook != nil {
			unpackHook(rel)
		}
		if ctx.Err() != nil {
			return corrupt(ctx, ctx.Err())
		}
		if err := noSymlinkParents(root, rel); err != nil {
			return err
		}
		dst := filepath.Join(root, filepath.FromSlash(rel))
		perm := os.FileMode(hdr.Mode) & os.ModePerm
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o700); err != nil {
				return fmt.Errorf("unpack runtime bundle: %w", err)
			}
			dirs[dst] = attrs{perm, hdr.ModTime}
		case tar.TypeReg, tar.TypeRegA:
			if base, ok := hdr.PAXRecords[paxDeltaBase]; ok {
				baseRel, err := entryPath(base)
				if err != nil || baseRel == "." || baseRel == rel {
					return fmt.Errorf("unpack runtime bundle: entry %q is a delta against %q, which is not a file of the bundle", hdr.Name, base)
				}
				deltas = append(deltas, pendingDelta{rel: rel, base: baseRel, attrs: attrs{perm, hdr.ModTime}})
				if err := writeEntry(ctx, tr, dst+deltaSuffix, perm); err != nil {
					return err
				}
				break
			}
			if err := writeEntry(ctx, tr, dst, perm); err != nil {
				return err
			}
			if err := setMtime(dst, hdr.ModTime); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := checkLinkTarget(rel, hdr.Linkname); err != nil {
				return err
			}
			if err := prepare(dst); err != nil {
				return err
			}
			if err := os.Symlink(hdr.Linkname, dst); err != nil {
				return fmt.Errorf("unpack runtime bundle: %w", err)
			}
			if err := setLinkMtime(dst, hdr.ModTime); err != nil {
				return err
			}
		case tar.TypeLink:
			if err := hardlink(root, rel, hdr.Linkname, dst); err != nil {
				return err
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return fmt.Errorf("unpack runtime bundle: entry %q is a device or fifo, which a bundle must not contain: the archive is not a banger runtime bundle", hdr.Name)
		default:
			return fmt.Errorf("unpack runtime bundle: entry %q has unsupported tar type %q: the archive is not a banger runtime bundle", hdr.Name, hdr.Typeflag)
		}
	}
	for _, d := range deltas {
		if err := d.apply(ctx, root); err != nil {
			return err
		}
	}
	return applyDirAttrs(dirs)
}

// checkSize refuses a regular file larger than maxEntrySize or one that
// takes the archive's total past maxTotalSize, adding its size to *total.
func checkSize(hdr *tar.Header, total *int64) error {
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
		return nil
	}
	if hdr.Size < 0 || hdr.Size > maxEntrySize {
		return fmt.Errorf("unpack runtime bundle: entry %q is %d bytes, more than the %d-byte limit for one file: the archive is not a banger runtime bundle", hdr.Name, hdr.Size, maxEntrySize)
	}
	*total += hdr.Size
	if *total > maxTotalSize {
		return fmt.Errorf("unpack runtime bundle: entry %q takes the unpacked size past the %d-byte limit: the archive is not a banger runtime bundle", hdr.Name, maxTotalSize)
	}
	return nil
}

// corrupt wraps a read error; cancellation is reported as such.
func corrupt(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("unpack runtime bundle: interrupted: %w", ctx.Err())
	}
	return fmt.Errorf("unpack runtime bundle: corrupt archive: %w: download it again or re-run `make runtime-package`", err)
}

// entryPath validates a tar entry name and returns it cleaned (slash
// separated, relative; "." for the root).
func entryPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("unpack runtime bundle: entry with an empty name: the archive is corrupt")
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("unpack runtime bundle: entry %q has an absolute path: refusing to write outside the bundle dir", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("unpack runtime bundle: entry %q contains \"..\": refusing to write outside the bundle dir", name)
		}
	}
	return path.Clean(name), nil
}

// checkLinkTarget refuses a symlink at rel whose target leaves the root.
func checkLinkTarget(rel, target string) error {
	if target == "" || path.IsAbs(target) {
		return fmt.Errorf("unpack runtime bundle: symlink %q points to %q, outside the bundle dir: refusing it", rel, target)
	}
	resolved := path.Join(path.Dir(rel), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("unpack runtime bundle: symlink %q points to %q, outside the bundle dir: refusing it", rel, target)
	}
	return nil
}

// noSymlinkParents refuses entries whose parent directories include a
// symlink: writing through one could land outside root even when every
// link target looks relative and inside.
func noSymlinkParents(root, rel string) error {
	cur := root
	parts := strings.Split(path.Dir(rel), "/")
	for _, p := range parts {
		if p == "." {
			continue
		}
		cur = filepath.Join(cur, p)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack runtime bundle: %w", err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("unpack runtime bundle: entry %q goes through symlink %q: refusing to write through links", rel, p)
		}
	}
	return nil
}

// prepare creates dst's parent. Duplicate entries are refused before this
// point, so an existing dst can only be left by the filesystem (e.g. a
// case-insensitive one); it is refused rather than replaced when it is a
// directory and removed otherwise.
func prepare(dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("unpack runtime bundle: %w", err)
	}
	if fi, err := os.Lstat(dst); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("unpack runtime bundle: entry %q replaces a directory: the archive is corrupt", dst)
		}
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("unpack runtime bundle: %w", err)
		}
	}
	return nil
}

func writeEntry(ctx context.Context, r io.Reader, dst string, perm os.FileMode) error {
	if err := prepare(dst); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("unpack runtime bundle: %w", err)
	}
	cerr := copySparse(f, r)
	if err := errors.Join(cerr, f.Close()); err != nil {
		return corrupt(ctx, err)
	}
	if err := os.Chmod(dst, perm); err != nil {
		return fmt.Errorf("unpack runtime bundle: %w", err)
	}
	return nil
}

// hardlink links dst to an earlier regular file of the archive.
func hardlink(root, rel, linkname, dst string) error {
	target, err := entryPath(linkname)
	if err != nil || target == "." {
		return fmt.Errorf("unpack runtime bundle: hard link %q points to %q, outside the bundle dir: refusing it", rel, linkname)
	}
	if err := noSymlinkParents(root, target); err != nil {
		return err
	}
	src := filepath.Join(root, filepath.FromSlash(target))
	fi, err := os.Lstat(src)
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("unpack runtime bundle: hard link %q points to %q, which is not an earlier regular file of the archive", rel, linkname)
	}
	if err := prepare(dst); err != nil {
		return err
	}
	if err := os.Link(src, dst); err != nil {
		return fmt.Errorf("unpack runtime bundle: %w", err)
	}
	return nil
}

// pendingDelta is a delta-encoded entry (see delta.go), applied once the
// whole archive, its base included, is unpacked.
type pendingDelta struct {
	rel, base string
	attrs     attrs
}

func (p pendingDelta) apply(ctx context.Context, root string) error {
	if err := noSymlinkParents(root, p.base); err != nil {
		return err
	}
	base := filepath.Join(root, filepath.FromSlash(p.base))
	if fi, err := os.Lstat(base); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("unpack runtime bundle: %s is a delta against %s, which the archive does not hold as a regular file", p.rel, p.base)
	}
	dst := filepath.Join(root, filepath.FromSlash(p.rel))
	if err := applyDelta(ctx, dst+deltaSuffix, base, dst, p.attrs.perm); err != nil {
		return corrupt(ctx, fmt.Errorf("apply delta: %w", err))
	}
	if err := setMtime(dst, p.attrs.mtime); err != nil {
		return err
	}
	return os.Remove(dst + deltaSuffix)
}
