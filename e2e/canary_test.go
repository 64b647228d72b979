package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/store"
)

// scrubbedEnviron is the process environment without any BANGER_* or XDG_*
// variable: the base of every banger the suite runs, so a user's own
// BANGER_STATE_DIR, XDG_STATE_HOME or socket can never reach it.
func scrubbedEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BANGER_") || strings.HasPrefix(kv, "XDG_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// canary is a banger state directory with a VM record, standing in for a
// user's real one: TestMain exports it (BANGER_STATE_DIR and the XDG dirs)
// as a user of banger would have them, and checks after the run that no
// file in it changed, appeared or vanished.
type canary struct {
	root string
	sums map[string]string
}

// plantCanary creates the canary and exports it in the process
// environment; on failure it leaves nothing behind.
func plantCanary() (c *canary, err error) {
	root, err := os.MkdirTemp("", "bgt-canary-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(root)
		}
	}()
	state := filepath.Join(root, "state-dir")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(state, "banger.db"))
	if err != nil {
		return nil, err
	}
	vmDir := filepath.Join(state, "vms", "canary-vm")
	err = st.InsertImage(ctx, &store.Image{Name: "default", Path: filepath.Join(root, "runtime", "rootfs.ext4"),
		Kernel: filepath.Join(root, "runtime", "vmlinux"), Builtin: true, CreatedAt: time.Now()})
	if err == nil {
		err = st.InsertVM(ctx, &model.VM{Name: "canary-vm", Image: "default", State: "running", VCPUs: 1, MemoryMiB: 256,
			DiskSize: 1 << 30, IP: "172.30.0.250", MAC: "02:b4:ac:1e:00:fa", Tap: "bgtcanary", Driver: "qemu", Dir: vmDir,
			CreatedAt: time.Now()})
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("canary vm record: %w", err)
	}
	if err := os.MkdirAll(vmDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(vmDir, "work.ext4"), []byte("the user's work"), 0o600); err != nil {
		return nil, err
	}
	for k, v := range map[string]string{
		"BANGER_STATE_DIR":        state,
		"BANGER_RUNTIME_DIR":      filepath.Join(root, "runtime"),
		"BANGER_MAPDNS_DATA_FILE": filepath.Join(root, "mapdns.json"),
		"XDG_STATE_HOME":          filepath.Join(root, "xdg-state"),
		"XDG_CONFIG_HOME":         filepath.Join(root, "xdg-config"),
		"XDG_CACHE_HOME":          filepath.Join(root, "xdg-cache"),
		"XDG_RUNTIME_DIR":         filepath.Join(root, "xdg-run"),
	} {
		os.Setenv(k, v)
	}
	c = &canary{root: root}
	if c.sums, err = c.hash(); err != nil {
		return nil, err
	}
	return c, nil
}

// hash maps every file and directory below the canary root to its
// content hash ("dir" for directories).
func (c *canary) hash() (map[string]string, error) {
	sums := map[string]string{}
	err := filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.root, p)
		if d.IsDir() {
			sums[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		sums[rel] = hex.EncodeToString(s[:])
		return nil
	})
	return sums, err
}

// check reports any difference from the planted canary, then removes it.
func (c *canary) check() error {
	defer os.RemoveAll(c.root)
	now, err := c.hash()
	if err != nil {
		return fmt.Errorf("canary state dir %s: %w", c.root, err)
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(c.sums, now))) {
		if c.sums[k] != now[k] {
			diffs = append(diffs, fmt.Sprintf("%s: %q -> %q", k, c.sums[k], now[k]))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the e2e suite touched the exported BANGER_STATE_DIR/XDG canary %s:\n%s", c.root, strings.Join(diffs, "\n"))
	}
	return nil
}

func mergeKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// TestHarnessIgnoresUserEnv proves through the banger binary that the
// canary's exported BANGER_STATE_DIR and XDG dirs (as a user would have
// them) do not reach a harness installation: every directory banger
// resolves lies in the env's private home.
func TestHarnessIgnoresUserEnv(t *testing.T) {
	if os.Getenv("BANGER_STATE_DIR") == "" {
		t.Fatal("TestMain did not export the canary BANGER_STATE_DIR")
	}
	e := newEnvAt(t, filepath.Join(t.TempDir(), "no-bundle"), "")
	for _, kv := range e.env {
		if strings.HasPrefix(kv, "BANGER_STATE_DIR=") || strings.HasPrefix(kv, "BANGER_MAPDNS_DATA_FILE=") {
			t.Errorf("harness env passes %s", kv)
		}
	}
	var rows []struct{ Key, Value, Source string }
	e.JSON(&rows, "config", "show")
	seen := 0
	for _, r := range rows {
		switch r.Key {
		case "state_dir", "cache_dir", "runtime_dir", "ssh_key_path", "mapdns_data_file":
			seen++
			if filepath.IsAbs(r.Value) && !strings.HasPrefix(r.Value, e.Home+"/") && !strings.HasPrefix(r.Value, os.TempDir()) {
				t.Errorf("%s = %q (%s), outside the private home %s", r.Key, r.Value, r.Source, e.Home)
			}
			if strings.Contains(r.Value, "bgt-canary-") {
				t.Errorf("%s = %q comes from the user's (canary) environment", r.Key, r.Value)
			}
		}
	}
	if seen < 4 {
		t.Errorf("config show lacks the directory keys: %+v", rows)
	}
}
