// Package config loads banger's user configuration,
// ~/.config/banger/config.toml, strictly: an unknown key, a value of the
// wrong type or an invalid value is an error naming the file, the line and
// the key. It also records where every effective value came from (default,
// the file, or an environment variable) for `banger config show`.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/units"
)

// Environment variables that override configuration values.
const (
	EnvRuntimeDir     = paths.EnvRuntimeDir
	EnvStateDir       = paths.EnvStateDir
	EnvMapDNSDataFile = "BANGER_MAPDNS_DATA_FILE"
)

// Allowed values of the enumerated keys.
const (
	VMMAuto        = "auto"
	VMMFirecracker = "firecracker"
	VMMQEMU        = "qemu"

	DNSBuiltin = "builtin"
	DNSMapDNS  = "mapdns"
	DNSNone    = "none"
)

// Config is the effective configuration. Path values are absolute (or, for
// firecracker_bin and mapdns_bin, a bare program name looked up in PATH);
// an empty path means "not set": the runtime bundle's (or the tool's own)
// default applies.
type Config struct {
	// File is the config file that was read (it may not exist).
	File string
	// ConfigDir is the directory of File; relative paths resolve against it.
	ConfigDir string
	// StateDir and CacheDir come from the XDG layout (BANGER_STATE_DIR
	// overrides the state dir); shown by `banger config show`.
	StateDir string
	CacheDir string

	RuntimeDir          string
	FirecrackerBin      string
	MapDNSBin           string
	MapDNSDataFile      string
	SSHKeyPath          string
	NamegenPath         string
	CustomizeScript     string
	DefaultRootfs       string
	DefaultBaseRootfs   string
	DefaultKernel       string
	DefaultInitrd       string
	DefaultModulesDir   string
	DefaultPackagesFile string
	// SSHKeyFromBundle installs the runtime bundle's id_ed25519 as
	// SSHKeyPath when the user has no key yet (the original's layout;
	// off by default, see docs/decisions.md).
	SSHKeyFromBundle bool

	// VMM is "auto", "firecracker" or "qemu".
	VMM string
	// VMSubnet is the host-only IPv4 network VMs get addresses from.
	VMSubnet netip.Prefix
	// BridgeName is the host bridge the VMs' taps attach to.
	BridgeName string
	// DefaultDiskSize is the work disk size of new VMs, in bytes.
	DefaultDiskSize int64
	// SystemDiskSize is the size of a new VM's system overlay (its root
	// filesystem grows to it at boot), in bytes; never less than the image.
	SystemDiskSize int64
	// DefaultMemoryMiB is the memory of new VMs.
	DefaultMemoryMiB int
	// DefaultVCPUs is the vCPU count of new VMs.
	DefaultVCPUs int
	// DNS is "builtin", "mapdns" or "none".
	DNS string
	// StopTimeout bounds the wait for a guest to power off before it is killed.
	StopTimeout time.Duration
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string
	// TCGCacheMiB is QEMU's translated-code cache under TCG (tb-size): the
	// largest part of an idle emulated VM's resident memory beyond what the
	// guest uses (docs/boot.md "Memory"). Unused with KVM.
	TCGCacheMiB int
	// ResumeOnStart makes the daemon resume, when it starts, the VMs that
	// `banger vm suspend --all` suspended (see docs/suspend.md).
	ResumeOnStart bool

	// Sources maps each key (and "state_dir") to where its value came from.
	Sources Sources
}

// Sources maps a key to the origin of its value: "default",
// "config.toml:LINE" or "env NAME".
type Sources map[string]string

// SourceDefault marks a value that nobody set.
const SourceDefault = "default"

// Defaults returns the configuration used when config.toml sets nothing,
// for a config file at file.
func Defaults(file string) *Config {
	dir := filepath.Dir(file)
	c := &Config{
		File:             file,
		ConfigDir:        dir,
		MapDNSBin:        "mapdns",
		SSHKeyPath:       filepath.Join(dir, "ssh", "id_ed25519"),
		VMM:              VMMAuto,
		VMSubnet:         netip.MustParsePrefix("172.30.0.0/24"),
		BridgeName:       "banger0",
		DefaultDiskSize:  8 * units.GiB,
		SystemDiskSize:   8 * units.GiB,
		DefaultMemoryMiB: 1024,
		DefaultVCPUs:     2,
		TCGCacheMiB:      DefaultTCGCacheMiB,
		DNS:              DNSBuiltin,
		StopTimeout:      30 * time.Second,
		LogLevel:         "info",
		Sources:          Sources{},
	}
	for _, k := range c.keys() {
		c.Sources[k.name] = SourceDefault
	}
	return c
}

// LoadDefault loads the config file of the process environment's XDG layout.
func LoadDefault() (*Config, error) {
	l, err := paths.Default()
	if err != nil {
		return nil, err
	}
	return Load(l.ConfigFile, os.Getenv)
}

// Load reads the config file at path (a missing file means all defaults),
// validates every value, applies the environment overrides read through env
// (os.Getenv in production) and fills in the XDG state and cache dirs. All
// problems are reported together, one per line.
func Load(path string, env func(string) string) (*Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve config path %s: %w", path, err)
	}
	c := Defaults(abs)
	layout, err := paths.Resolve(env)
	if err != nil {
		return nil, err
	}
	c.StateDir, c.CacheDir = layout.StateDir, layout.CacheDir
	c.Sources["state_dir"] = layout.StateSource

	home, _ := homeDir(env)
	doc, err := os.ReadFile(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read config: %w; fix its permissions or move it away to use the defaults", err)
	default:
		if err := c.apply(doc, home, env); err != nil {
			return nil, err
		}
	}
	if err := c.applyEnv(env); err != nil {
		return nil, err
	}
	return c, nil
}

// applyEnv applies BANGER_RUNTIME_DIR and BANGER_MAPDNS_DATA_FILE.
func (c *Config) applyEnv(env func(string) string) error {
	for _, o := range []struct {
		name, key string
		field     *string
	}{
		{EnvRuntimeDir, "runtime_dir", &c.RuntimeDir},
		{EnvMapDNSDataFile, "mapdns_data_file", &c.MapDNSDataFile},
	} {
		v := env(o.name)
		if v == "" {
			continue
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return fmt.Errorf("resolve %s=%q: %w", o.name, v, err)
		}
		*o.field = abs
		c.Sources[o.key] = "env " + o.name
	}
	return nil
}

// ResolveRuntimeDir fills in RuntimeDir, when neither the environment nor
// config.toml set it, from the location of the banger binary exePath (see
// paths.ResolveRuntimeDir), and records the source.
func (c *Config) ResolveRuntimeDir(exePath string) error {
	if c.RuntimeDir != "" {
		return nil
	}
	dir, src, err := paths.ResolveRuntimeDir(exePath, "", func(string) string { return "" })
	if err != nil {
		return err
	}
	c.RuntimeDir = dir
	c.Sources["runtime_dir"] = src
	return nil
}

// SlogLevel returns LogLevel as a slog.Level.
func (c *Config) SlogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return slog.LevelInfo
	}
	return l
}
