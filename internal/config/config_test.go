package config

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/units"
)

// setup returns a config file path inside a fresh config dir and an env
// whose HOME is a fresh directory.
func setup(t *testing.T, content string) (string, map[string]string) {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "banger")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path, map[string]string{"HOME": home, "PATH": "/usr/bin:/bin"}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func touch(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), mode); err != nil {
		t.Fatal(err)
	}
}

func TestMissingFileGivesDefaults(t *testing.T) {
	path, env := setup(t, "")
	c, err := Load(path, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.VMM != "auto" || c.VMSubnet != netip.MustParsePrefix("172.30.0.0/24") || c.BridgeName != "banger0" ||
		c.DefaultDiskSize != 8*units.GiB || c.DefaultMemoryMiB != 1024 || c.DefaultVCPUs != 2 ||
		c.DNS != "builtin" || c.StopTimeout != 30*time.Second || c.LogLevel != "info" || c.MapDNSBin != "mapdns" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if want := filepath.Join(filepath.Dir(path), "ssh", "id_ed25519"); c.SSHKeyPath != want {
		t.Errorf("SSHKeyPath = %s, want %s", c.SSHKeyPath, want)
	}
	if c.StateDir != filepath.Join(env["HOME"], ".local", "state", "banger") {
		t.Errorf("StateDir = %s", c.StateDir)
	}
	for _, k := range Keys() {
		if c.Sources[k] != SourceDefault {
			t.Errorf("source of %s = %q, want default", k, c.Sources[k])
		}
	}
}

func TestLoadAllKeys(t *testing.T) {
	path, env := setup(t, "")
	dir := filepath.Dir(path)
	home := env["HOME"]
	touch(t, filepath.Join(dir, "words.txt"), 0o644)
	touch(t, filepath.Join(home, "bundle", "customize.sh"), 0o755)
	touch(t, filepath.Join(home, "bundle", "rootfs.ext4"), 0o644)
	touch(t, filepath.Join(home, "bundle", "base.ext4"), 0o644)
	touch(t, filepath.Join(home, "bundle", "vmlinux"), 0o644)
	touch(t, filepath.Join(home, "bundle", "initrd.img"), 0o644)
	touch(t, filepath.Join(home, "bundle", "modules", "x"), 0o644)
	touch(t, filepath.Join(home, "bundle", "packages.apt"), 0o644)
	touch(t, filepath.Join(home, "bin", "firecracker"), 0o755)
	content := `# banger config
runtime_dir = "~/bundle"
firecracker_bin = "~/bin/firecracker"
mapdns_bin = "sh"
mapdns_data_file = "/var/lib/mapdns/records.json"
ssh_key_path = "keys/id"
ssh_key_from_bundle = true
namegen_path = "words.txt"
customize_script = "~/bundle/customize.sh"
default_rootfs = "~/bundle/rootfs.ext4"
default_base_rootfs = "~/bundle/base.ext4"
default_kernel = "~/bundle/vmlinux"
default_initrd = "~/bundle/initrd.img"
default_modules_dir = "~/bundle/modules"
default_packages_file = "~/bundle/packages.apt"
vmm = "qemu"
vm_subnet = "10.77.0.0/16"
bridge_name = "bgt-br0"
default_disk_size = "16G"
system_disk_size = "12G"
default_memory_mib = 2048
default_vcpus = 4
dns = "none"
stop_timeout = "1m30s"
log_level = "debug"
resume_on_start = true
tcg_cache_mib = 32
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"runtime_dir":           filepath.Join(home, "bundle"),
		"firecracker_bin":       filepath.Join(home, "bin", "firecracker"),
		"mapdns_bin":            "sh",
		"mapdns_data_file":      "/var/lib/mapdns/records.json",
		"ssh_key_path":          filepath.Join(dir, "keys", "id"),
		"ssh_key_from_bundle":   "true",
		"namegen_path":          filepath.Join(dir, "words.txt"),
		"default_modules_dir":   filepath.Join(home, "bundle", "modules"),
		"vmm":                   "qemu",
		"vm_subnet":             "10.77.0.0/16",
		"bridge_name":           "bgt-br0",
		"default_disk_size":     "16G",
		"system_disk_size":      "12G",
		"default_memory_mib":    "2048",
		"default_vcpus":         "4",
		"dns":                   "none",
		"stop_timeout":          "1m30s",
		"log_level":             "debug",
		"resume_on_start":       "true",
		"tcg_cache_mib":         "32",
		"default_packages_file": filepath.Join(home, "bundle", "packages.apt"),
	}
	rows := map[string]Row{}
	for _, r := range c.Rows() {
		rows[r.Key] = r
	}
	for k, v := range want {
		if rows[k].Value != v {
			t.Errorf("%s = %q, want %q", k, rows[k].Value, v)
		}
	}
	for i, k := range Keys() {
		if got, want := c.Sources[k], "config.toml:"+strconv.Itoa(i+2); got != want {
			t.Errorf("source of %s = %q, want %q", k, got, want)
		}
	}
	if c.DefaultDiskSize != 16*units.GiB || c.StopTimeout != 90*time.Second || c.SlogLevel().String() != "DEBUG" {
		t.Errorf("typed values wrong: %d %v %v", c.DefaultDiskSize, c.StopTimeout, c.SlogLevel())
	}
}

func TestEnvOverrides(t *testing.T) {
	path, env := setup(t, "runtime_dir = \"/from/file\"\nmapdns_data_file = \"/from/file.json\"\n")
	env["BANGER_RUNTIME_DIR"] = "/from/env"
	env["BANGER_MAPDNS_DATA_FILE"] = "/env/records.json"
	env["BANGER_STATE_DIR"] = "/srv/state"
	c, err := Load(path, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.RuntimeDir != "/from/env" || c.Sources["runtime_dir"] != "env BANGER_RUNTIME_DIR" {
		t.Errorf("runtime_dir = %q from %q", c.RuntimeDir, c.Sources["runtime_dir"])
	}
	if c.MapDNSDataFile != "/env/records.json" || c.Sources["mapdns_data_file"] != "env BANGER_MAPDNS_DATA_FILE" {
		t.Errorf("mapdns_data_file = %q from %q", c.MapDNSDataFile, c.Sources["mapdns_data_file"])
	}
	if c.StateDir != "/srv/state" || c.Sources["state_dir"] != "env BANGER_STATE_DIR" {
		t.Errorf("state_dir = %q from %q", c.StateDir, c.Sources["state_dir"])
	}
	var buf bytes.Buffer
	if err := c.Render(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"KEY", "SOURCE", "runtime_dir", "/from/env", "env BANGER_RUNTIME_DIR", "state_dir", "/srv/state", "default_kernel", "(from the runtime bundle)"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered table lacks %q:\n%s", want, out)
		}
	}
}

func TestResolveRuntimeDirFromExe(t *testing.T) {
	path, env := setup(t, "")
	c, err := Load(path, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	exe := filepath.Join(prefix, "bin", "banger")
	touch(t, exe, 0o755)
	if err := os.MkdirAll(filepath.Join(prefix, "lib", "banger"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.ResolveRuntimeDir(exe); err != nil {
		t.Fatal(err)
	}
	if c.RuntimeDir != filepath.Join(prefix, "lib", "banger") || !strings.Contains(c.Sources["runtime_dir"], "installed") {
		t.Errorf("runtime_dir = %q from %q", c.RuntimeDir, c.Sources["runtime_dir"])
	}
}
