package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// errLine is one line of a config error: "<file>:<line>: <what>".
var errLine = regexp.MustCompile(`^(.+):([0-9]+): (.*)$`)

// FuzzLoad feeds arbitrary config.toml contents to Load. It must never
// panic. Every line of an error names the file and a line of it, then
// either a known key, an unknown key or a TOML syntax problem. An accepted
// file records, for each key it set, a line of the file as its source, and
// loading it again gives the same configuration.
func FuzzLoad(f *testing.F) {
	home := f.TempDir()
	dir := filepath.Join(home, ".config", "banger")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	env := getenv(map[string]string{"HOME": home, "PATH": "/usr/bin:/bin", "XDG_STATE_HOME": filepath.Join(home, "state")})
	f.Fuzz(func(t *testing.T, doc string) {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(doc, "\n") + 1
		c, err := Load(path, env)
		if err != nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				m := errLine.FindStringSubmatch(l)
				if m == nil || m[1] != path {
					t.Fatalf("error line does not start with %s:<line>: %q\nfile:\n%s", path, l, doc)
				}
				if n, _ := strconv.Atoi(m[2]); n < 1 || n > lines {
					t.Fatalf("error names line %d of a %d-line file: %q", n, lines, l)
				}
				what := m[3]
				key, _, _ := strings.Cut(what, ":")
				if !strings.HasPrefix(what, "invalid TOML: ") && !strings.HasPrefix(what, "unknown key ") && !slices.Contains(Keys(), key) {
					t.Fatalf("error line names no key: %q", l)
				}
			}
			return
		}
		for k, src := range c.Sources {
			n, ok := strings.CutPrefix(src, "config.toml:")
			if !ok {
				continue
			}
			if i, err := strconv.Atoi(n); err != nil || i < 1 || i > lines {
				t.Fatalf("key %s has source %q in a %d-line file", k, src, lines)
			}
		}
		again, err := Load(path, env)
		if err != nil || !reflect.DeepEqual(again.Rows(), c.Rows()) {
			t.Fatalf("second load differs: %v", err)
		}
	})
}
