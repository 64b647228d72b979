package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// FetchOptions says which bundle to fetch and where to put it.
type FetchOptions struct {
	// ManifestPath is runtime-bundle.toml; ignored when Manifest is set.
	ManifestPath string
	// Manifest is an already parsed manifest.
	Manifest *Manifest
	// TargetDir is the bundle directory to create or replace (./runtime or
	// $(prefix)/lib/banger). Its parent must be writable: the new bundle is
	// unpacked next to it and renamed into place.
	TargetDir string
	// CacheDir holds downloaded archives (e.g. ~/.cache/banger); required
	// for http(s) URLs.
	CacheDir string
	// Progress, when set, receives bytes read so far and the total (-1 when
	// unknown) while the archive is downloaded or verified.
	Progress func(done, total int64)
	// HTTPClient is used for http(s) URLs; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Result describes what Fetch did.
type Result struct {
	// TargetDir is the absolute bundle directory.
	TargetDir string
	// SHA256 is the verified archive checksum.
	SHA256 string
	// UpToDate is true when the target already held this bundle and
	// nothing was done.
	UpToDate bool
	// Downloaded is true when the archive was fetched over the network
	// (false for file:// URLs, cache hits and no-ops).
	Downloaded bool
	// Archive is the local archive that was unpacked.
	Archive string
	// MetadataSource is "archive" (bundle.json came with the bundle),
	// "manifest" (written from [bundle_metadata]) or "legacy" (neither).
	MetadataSource string
}

// Fetch downloads the bundle named by the manifest, verifies its SHA-256,
// unpacks it safely and swaps it into TargetDir. The previous bundle is
// replaced only after the new one verified and unpacked; on any failure it
// stays as it was and temporary files are removed. When TargetDir already
// holds a bundle stamped with the manifest's SHA-256, Fetch does nothing
// and reports UpToDate.
func Fetch(ctx context.Context, opts FetchOptions) (Result, error) {
	m := opts.Manifest
	if m == nil {
		if opts.ManifestPath == "" {
			return Result{}, errors.New("fetch runtime bundle: no manifest given")
		}
		var err error
		if m, err = LoadManifest(opts.ManifestPath); err != nil {
			return Result{}, err
		}
	}
	if err := m.CheckPublished(); err != nil {
		return Result{}, err
	}
	if opts.TargetDir == "" {
		return Result{}, errors.New("fetch runtime bundle: no target dir given")
	}
	target, err := filepath.Abs(opts.TargetDir)
	if err != nil {
		return Result{}, fmt.Errorf("fetch runtime bundle: %w", err)
	}
	want := strings.ToLower(m.SHA256)
	res := Result{TargetDir: target, SHA256: want}
	if stamp, err := os.ReadFile(filepath.Join(target, StampFile)); err == nil && strings.TrimSpace(string(stamp)) == want {
		res.UpToDate = true
		return res, nil
	}
	client := opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	src, err := obtain(ctx, m, opts.CacheDir, client, opts.Progress)
	if err != nil {
		return Result{}, err
	}
	res.Downloaded, res.Archive = src.downloaded, src.path
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, fmt.Errorf("fetch runtime bundle: create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".new-*")
	if err != nil {
		return Result{}, fmt.Errorf("fetch runtime bundle: %w", err)
	}
	defer removeTree(tmp) // no-op once swapped in
	root, err := unpackVerified(ctx, src.path, want, tmp)
	if err != nil {
		if ctx.Err() == nil && (src.cached || src.downloaded) {
			// The archive verified but cannot be unpacked: do not keep it.
			os.Remove(src.path)
		}
		return Result{}, err
	}
	if res.MetadataSource, err = ensureMetadata(root, m); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(filepath.Join(root, StampFile), []byte(want+"\n"), 0o644); err != nil {
		return Result{}, fmt.Errorf("fetch runtime bundle: write stamp: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("fetch runtime bundle: interrupted: %w", err)
	}
	if err := swapInto(root, target); err != nil {
		return Result{}, err
	}
	return res, nil
}

// unpackVerified unpacks archive into dir, hashing it again while reading
// so a file changed after verification is caught. It returns the bundle
// root: dir, or its only subdirectory when the archive wraps the bundle in
// one top-level directory.
func unpackVerified(ctx context.Context, archive, want, dir string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", fmt.Errorf("fetch runtime bundle: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if err := unpackTarGz(ctx, io.TeeReader(f, h), dir); err != nil {
		return "", err
	}
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", corrupt(ctx, err)
	}
	if err := checkSum(hex.EncodeToString(h.Sum(nil)), want, archive); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("fetch runtime bundle: %w", err)
	}
	if len(entries) == 1 && entries[0].IsDir() {
		return filepath.Join(dir, entries[0].Name()), nil
	}
	return dir, nil
}

// ensureMetadata writes bundle.json from the manifest's [bundle_metadata]
// when the archive carries none, and reports where the metadata came from.
func ensureMetadata(root string, m *Manifest) (string, error) {
	if _, err := os.Stat(filepath.Join(root, MetadataFile)); err == nil {
		if _, err := Load(root); err != nil {
			return "", fmt.Errorf("fetch runtime bundle: %w", err)
		}
		return "archive", nil
	}
	if m.BundleMetadata == nil {
		return LayoutLegacy, nil
	}
	meta := *m.BundleMetadata
	meta.Version = MetadataVersion
	// As in the legacy layout, optional items the archive lacks are dropped
	// rather than reported missing.
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(root, rel))
		return err == nil
	}
	for _, f := range meta.pathFields() {
		switch f.name {
		case "kernel", "rootfs", "packages_file":
		default:
			if *f.val != "" && !exists(*f.val) {
				*f.val = ""
			}
		}
	}
	helpers := map[string]string{}
	for name, rel := range meta.Helpers {
		if exists(rel) {
			helpers[name] = rel
		}
	}
	meta.Helpers = helpers
	data, err := meta.Marshal()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(root, MetadataFile), data, 0o644); err != nil {
		return "", fmt.Errorf("fetch runtime bundle: write bundle.json: %w", err)
	}
	return "manifest", nil
}

// swapInto moves the unpacked bundle at src to target: the old target is
// renamed aside, src renamed into place, then the old one removed. When the
// second rename fails the old bundle is put back.
func swapInto(src, target string) error {
	if err := os.Chmod(src, 0o755); err != nil {
		return fmt.Errorf("fetch runtime bundle: %w", err)
	}
	old, aside := "", ""
	if _, err := os.Lstat(target); err == nil {
		var err error
		aside, err = os.MkdirTemp(filepath.Dir(target), "."+filepath.Base(target)+".old-*")
		if err != nil {
			return fmt.Errorf("fetch runtime bundle: %w", err)
		}
		old = filepath.Join(aside, "bundle")
		if err := os.Rename(target, old); err != nil {
			os.Remove(aside)
			return fmt.Errorf("fetch runtime bundle: move old bundle aside: %w", err)
		}
	}
	if err := os.Rename(src, target); err != nil {
		if old != "" {
			if rerr := os.Rename(old, target); rerr != nil {
				return fmt.Errorf("fetch runtime bundle: install new bundle: %w; restoring the old one failed too: %v (it is at %s)", err, rerr, old)
			}
		}
		os.Remove(aside)
		return fmt.Errorf("fetch runtime bundle: install new bundle: %w", err)
	}
	if aside != "" {
		if err := removeTree(aside); err != nil {
			return fmt.Errorf("fetch runtime bundle: installed, but removing the old bundle failed: %w: delete %s by hand", err, aside)
		}
	}
	return nil
}

// removeTree removes dir like os.RemoveAll, first making its directories
// writable: a bundle may hold read-only directories (their modes are kept
// on unpack), whose entries a normal user cannot otherwise delete.
func removeTree(dir string) error {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
