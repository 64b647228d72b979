package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// archiveSource is a verified archive on local disk.
type archiveSource struct {
	path       string
	downloaded bool
	cached     bool
}

// obtain returns a local archive with the manifest's SHA-256: the file
// itself for file:// URLs, else a cache entry (reused when it verifies,
// downloaded otherwise).
func obtain(ctx context.Context, m *Manifest, cacheDir string, client *http.Client, progress func(done, total int64)) (archiveSource, error) {
	u, err := url.Parse(m.URL)
	if err != nil {
		return archiveSource{}, fmt.Errorf("runtime bundle url %q: %w: fix url in runtime-bundle.toml", m.URL, err)
	}
	want := strings.ToLower(m.SHA256)
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return archiveSource{}, fmt.Errorf("runtime bundle url %q names host %q: file:// urls must be file:///absolute/path", m.URL, u.Host)
		}
		if err := verifyFile(ctx, u.Path, want, progress); err != nil {
			return archiveSource{}, err
		}
		return archiveSource{path: u.Path}, nil
	case "http", "https":
	default:
		return archiveSource{}, fmt.Errorf("runtime bundle url %q has unsupported scheme %q: use https://, http:// or file://", m.URL, u.Scheme)
	}
	if cacheDir == "" {
		return archiveSource{}, fmt.Errorf("download runtime bundle: no cache dir given")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return archiveSource{}, fmt.Errorf("download runtime bundle: create cache dir: %w", err)
	}
	cached := filepath.Join(cacheDir, "banger-runtime-"+want+".tar.gz")
	if _, err := os.Stat(cached); err == nil {
		if verifyFile(ctx, cached, want, nil) == nil {
			return archiveSource{path: cached, cached: true}, nil
		}
		os.Remove(cached) // stale or corrupt: download again
	}
	if err := download(ctx, client, m.URL, cached, want, progress); err != nil {
		return archiveSource{}, err
	}
	return archiveSource{path: cached, downloaded: true}, nil
}

// download fetches rawURL into a partial file in dst's directory and
// renames it to dst only when it is complete and has the wanted SHA-256.
func download(ctx context.Context, client *http.Client, rawURL, dst, want string, progress func(done, total int64)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("download runtime bundle: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download runtime bundle from %s: %w: check the network and the url in runtime-bundle.toml", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download runtime bundle from %s: server answered %s: check the url in runtime-bundle.toml", rawURL, resp.Status)
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-*")
	if err != nil {
		return fmt.Errorf("download runtime bundle: %w", err)
	}
	partial := f.Name()
	defer os.Remove(partial) // no-op once renamed
	h := sha256.New()
	total := resp.ContentLength
	n, cerr := io.Copy(io.MultiWriter(f, h), &progressReader{r: resp.Body, total: total, fn: progress})
	closeErr := f.Close()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("download runtime bundle: interrupted: %w", ctx.Err())
	case total >= 0 && n != total:
		return fmt.Errorf("download runtime bundle from %s: truncated: got %d of %d bytes: check the network and try again", rawURL, n, total)
	case cerr != nil:
		return fmt.Errorf("download runtime bundle from %s: %w: check the network and try again", rawURL, cerr)
	case closeErr != nil:
		return fmt.Errorf("download runtime bundle: %w", closeErr)
	}
	if err := checkSum(hex.EncodeToString(h.Sum(nil)), want, rawURL); err != nil {
		return err
	}
	if err := os.Rename(partial, dst); err != nil {
		return fmt.Errorf("download runtime bundle: %w", err)
	}
	return nil
}

// verifyFile hashes path and compares it to want.
func verifyFile(ctx context.Context, path, want string, progress func(done, total int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read runtime bundle archive: %w: run `make runtime-package` or fix url in runtime-bundle.toml", err)
	}
	defer f.Close()
	var total int64 = -1
	if fi, err := f.Stat(); err == nil {
		total = fi.Size()
	}
	h := sha256.New()
	if _, err := io.Copy(h, &progressReader{r: ctxReader{ctx, f}, total: total, fn: progress}); err != nil {
		return fmt.Errorf("read runtime bundle archive %s: %w", path, err)
	}
	return checkSum(hex.EncodeToString(h.Sum(nil)), want, path)
}

// checkSum compares a computed SHA-256 with the manifest's.
func checkSum(got, want, from string) error {
	if got != want {
		return fmt.Errorf("runtime bundle checksum mismatch for %s: got sha256 %s, runtime-bundle.toml says %s: the file is corrupt or the manifest is stale; re-run `banger bundle package --write-manifest` or fix sha256", from, got, want)
	}
	return nil
}

// progressReader reports cumulative bytes read to fn.
type progressReader struct {
	r     io.Reader
	done  int64
	total int64
	fn    func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.fn != nil && (n > 0 || errors.Is(err, io.EOF)) {
		p.fn(p.done, p.total)
	}
	return n, err
}
