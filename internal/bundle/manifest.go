package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// ManifestFile is the manifest's name at the repository root.
const ManifestFile = "runtime-bundle.toml"

// manifestFix is the next step for a manifest that names no real bundle.
const manifestFix = "run `make runtime-package` then `banger bundle package --write-manifest`, or set url and sha256 to a published bundle"

// Manifest is runtime-bundle.toml: where the bundle archive is and what its
// SHA-256 is, plus bundle.json defaults for archives that carry none.
type Manifest struct {
	// URL is an https://, http:// or file:// URL of a .tar.gz bundle.
	URL string `toml:"url"`
	// SHA256 is the hex SHA-256 of the archive.
	SHA256 string `toml:"sha256"`
	// BundleMetadata is used as bundle.json when the archive has none.
	BundleMetadata *Metadata `toml:"bundle_metadata,omitempty"`
}

// LoadManifest reads and parses the manifest at path.
func LoadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read runtime bundle manifest: %w", err)
	}
	return ParseManifest(path, data)
}

// ParseManifest parses manifest content strictly: unknown keys and syntax
// errors are reported with the file name (name) and line.
func ParseManifest(name string, data []byte) (*Manifest, error) {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict) && len(strict.Errors) > 0:
			e := strict.Errors[0]
			line, _ := e.Position()
			return nil, fmt.Errorf("%s line %d: unknown key %q: allowed keys are url, sha256 and [bundle_metadata] with %s", name, line, strings.Join(e.Key(), "."), metadataKeys)
		case errors.As(err, &de):
			line, col := de.Position()
			return nil, fmt.Errorf("%s line %d column %d: %s: fix the TOML syntax", name, line, col, strings.TrimPrefix(de.Error(), "toml: "))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if m.BundleMetadata != nil {
		if err := m.BundleMetadata.Validate(); err != nil {
			return nil, fmt.Errorf("%s [bundle_metadata]: %w", name, err)
		}
	}
	return &m, nil
}

const metadataKeys = "kernel, kernel_format, vmlinux, bzimage, initrd, modules_dir, rootfs, base_rootfs, packages_file, firecracker and [bundle_metadata.helpers]"

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckPublished fails when the manifest still holds placeholders: a URL
// containing REPLACE or example.invalid, or a sha256 that is not 64 hex
// digits.
func (m *Manifest) CheckPublished() error {
	switch {
	case m.URL == "":
		return fmt.Errorf("runtime bundle manifest has no url: %s", manifestFix)
	case strings.Contains(m.URL, "REPLACE") || strings.Contains(m.URL, "example.invalid"):
		return fmt.Errorf("runtime bundle manifest url %q is a placeholder: %s", m.URL, manifestFix)
	case !hexSHA256.MatchString(strings.ToLower(m.SHA256)):
		return fmt.Errorf("runtime bundle manifest sha256 %q is not a sha-256 (64 hex digits): %s", m.SHA256, manifestFix)
	}
	return nil
}

// WriteManifestURL sets url and sha256 in the manifest at path, keeping
// everything else (comments, [bundle_metadata]) as it is. When the file does
// not exist it is created with meta (paths only) as [bundle_metadata].
func WriteManifestURL(path, url, sha string, meta *Metadata) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return writeNewManifest(path, url, sha, meta)
	}
	if err != nil {
		return fmt.Errorf("read runtime bundle manifest: %w", err)
	}
	urlLine, err := tomlLine("url", url)
	if err != nil {
		return err
	}
	shaLine, err := tomlLine("sha256", sha)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	keyRe := regexp.MustCompile(`^\s*(url|sha256)\s*=`)
	seen := map[string]bool{}
	var out []string
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "[") {
			// End of the top-level keys: add what was not there.
			out = append(out, missingLines(seen, urlLine, shaLine)...)
			out = append(out, lines[i:]...)
			seen["url"], seen["sha256"] = true, true
			break
		}
		if mm := keyRe.FindStringSubmatch(l); mm != nil {
			seen[mm[1]] = true
			if mm[1] == "url" {
				l = urlLine
			} else {
				l = shaLine
			}
		}
		out = append(out, l)
	}
	if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
		out[n-1] += "\n"
	}
	out = append(out, missingLines(seen, urlLine, shaLine)...)
	content := []byte(strings.Join(out, ""))
	got, err := ParseManifest(path, content)
	if err != nil {
		return fmt.Errorf("rewrite runtime bundle manifest: %w", err)
	}
	if got.URL != url || got.SHA256 != sha {
		return fmt.Errorf("rewrite runtime bundle manifest %s: url or sha256 did not take: edit the file by hand", path)
	}
	return writeFileAtomic(path, content, 0o644)
}

func missingLines(seen map[string]bool, urlLine, shaLine string) []string {
	var out []string
	if !seen["url"] {
		out = append(out, urlLine)
	}
	if !seen["sha256"] {
		out = append(out, shaLine)
	}
	return out
}

// tomlLine renders `key = "value"` with TOML quoting and a newline.
func tomlLine(key, value string) (string, error) {
	data, err := toml.Marshal(map[string]string{key: value})
	if err != nil {
		return "", fmt.Errorf("encode manifest %s: %w", key, err)
	}
	return strings.TrimRight(string(data), "\n") + "\n", nil
}

func writeNewManifest(path, url, sha string, meta *Metadata) error {
	m := Manifest{URL: url, SHA256: sha}
	if meta != nil {
		pathsOnly := *meta
		pathsOnly.Files, pathsOnly.Build = nil, BuildInfo{}
		m.BundleMetadata = &pathsOnly
	}
	body, err := toml.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode runtime bundle manifest: %w", err)
	}
	header := "# Runtime bundle manifest, written by `banger bundle package --write-manifest`.\n"
	return writeFileAtomic(path, append([]byte(header), body...), 0o644)
}

// writeFileAtomic writes data to a temp file next to path and renames it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, mode)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
