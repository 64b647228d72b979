package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/units"
)

// key is one configuration key: how to set it from a TOML value and how to
// show it.
type key struct {
	name string
	// set validates the raw TOML value and stores it; its error is the
	// message after "file:line: key: ".
	set func(v any, ctx *valueCtx) error
	// show renders the effective value.
	show func() string
	// unset is shown instead of an empty value.
	unset string
}

// Limits of VM resources, shared by the config defaults and the daemon's
// request validation (firecracker and qemu microvm both top out at 32 vCPUs).
const (
	MinDiskSize  = 1 * units.GiB
	MaxDiskSize  = 2 * units.TiB
	MinMemoryMiB = 128
	MaxMemoryMiB = 65536
	MinVCPUs     = 1
	MaxVCPUs     = 32
)

// QEMU's TCG translation cache (tb-size): below 8 MiB a guest mostly
// retranslates; 1 GiB is QEMU's own default.
const (
	DefaultTCGCacheMiB = 64
	MinTCGCacheMiB     = 8
	MaxTCGCacheMiB     = 1024
)

const (
	minPrefix   = 16
	maxPrefix   = 29
	maxLinkName = 15
	minStop     = time.Second
	maxStop     = time.Hour
)

// keys lists every key in `banger config show` order, bound to c.
func (c *Config) keys() []key {
	const bundle = "(from the runtime bundle)"
	return []key{
		pathKey("runtime_dir", &c.RuntimeDir, mayBeMissing, "(next to the banger binary)"),
		programKey("firecracker_bin", &c.FirecrackerBin, "(runtime bundle, else PATH)"),
		programKey("mapdns_bin", &c.MapDNSBin, ""),
		pathKey("mapdns_data_file", &c.MapDNSDataFile, mayBeMissing, "(mapdns default)"),
		pathKey("ssh_key_path", &c.SSHKeyPath, mayBeMissing, ""),
		boolKey("ssh_key_from_bundle", &c.SSHKeyFromBundle),
		pathKey("namegen_path", &c.NamegenPath, mustBeFile, "(built-in word lists)"),
		pathKey("customize_script", &c.CustomizeScript, mustBeFile, "(none)"),
		pathKey("default_rootfs", &c.DefaultRootfs, mustBeFile, bundle),
		pathKey("default_base_rootfs", &c.DefaultBaseRootfs, mustBeFile, bundle),
		pathKey("default_kernel", &c.DefaultKernel, mustBeFile, bundle),
		pathKey("default_initrd", &c.DefaultInitrd, mustBeFile, bundle),
		pathKey("default_modules_dir", &c.DefaultModulesDir, mustBeDir, bundle),
		pathKey("default_packages_file", &c.DefaultPackagesFile, mustBeFile, bundle),
		enumKey("vmm", &c.VMM, VMMAuto, VMMFirecracker, VMMQEMU),
		{name: "vm_subnet", set: c.setSubnet, show: func() string { return c.VMSubnet.String() }},
		{name: "bridge_name", set: c.setBridge, show: func() string { return c.BridgeName }},
		{name: "default_disk_size", set: c.setDiskSize, show: func() string { return units.FormatSize(c.DefaultDiskSize) }},
		{name: "system_disk_size", set: c.setSystemSize, show: func() string { return units.FormatSize(c.SystemDiskSize) }},
		intKey("default_memory_mib", &c.DefaultMemoryMiB, MinMemoryMiB, MaxMemoryMiB),
		intKey("default_vcpus", &c.DefaultVCPUs, MinVCPUs, MaxVCPUs),
		enumKey("dns", &c.DNS, DNSBuiltin, DNSMapDNS, DNSNone),
		{name: "stop_timeout", set: c.setStopTimeout, show: func() string { return c.StopTimeout.String() }},
		enumKey("log_level", &c.LogLevel, "debug", "info", "warn", "error"),
		boolKey("resume_on_start", &c.ResumeOnStart),
		intKey("tcg_cache_mib", &c.TCGCacheMiB, MinTCGCacheMiB, MaxTCGCacheMiB),
	}
}

// Keys returns the valid configuration keys in display order.
func Keys() []string {
	ks := Defaults("config.toml").keys()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.name
	}
	return out
}

func enumKey(name string, field *string, allowed ...string) key {
	return key{
		name: name,
		set: func(v any, _ *valueCtx) error {
			s, err := asString(v, `"`+allowed[0]+`"`)
			if err != nil {
				return err
			}
			for _, a := range allowed {
				if s == a {
					*field = s
					return nil
				}
			}
			return fmt.Errorf("%q is not allowed: use %s", s, quoteList(allowed))
		},
		show: func() string { return *field },
	}
}

func boolKey(name string, field *bool) key {
	return key{
		name: name,
		set: func(v any, _ *valueCtx) error {
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("expected true or false, got %s", tomlType(v))
			}
			*field = b
			return nil
		},
		show: func() string { return strconv.FormatBool(*field) },
	}
}

func intKey(name string, field *int, lo, hi int) key {
	return key{
		name: name,
		set: func(v any, _ *valueCtx) error {
			n, ok := v.(int64)
			if !ok {
				return fmt.Errorf("expected an integer, got %s", tomlType(v))
			}
			if n < int64(lo) || n > int64(hi) {
				return fmt.Errorf("%d is out of range: use %d to %d", n, lo, hi)
			}
			*field = int(n)
			return nil
		},
		show: func() string { return strconv.Itoa(*field) },
	}
}

func (c *Config) setSubnet(v any, _ *valueCtx) error {
	s, err := asString(v, `"172.30.0.0/24"`)
	if err != nil {
		return err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return fmt.Errorf("%q is not an IPv4 network in CIDR form: use e.g. \"172.30.0.0/24\"", s)
	}
	if p.Bits() < minPrefix || p.Bits() > maxPrefix {
		return fmt.Errorf("prefix length /%d is out of range: use /%d to /%d", p.Bits(), minPrefix, maxPrefix)
	}
	if p.Masked() != p {
		return fmt.Errorf("%q has host bits set: use %q", s, p.Masked().String())
	}
	c.VMSubnet = p
	return nil
}

func (c *Config) setBridge(v any, _ *valueCtx) error {
	s, err := asString(v, `"banger0"`)
	if err != nil {
		return err
	}
	if err := ValidateLinkName(s); err != nil {
		return err
	}
	c.BridgeName = s
	return nil
}

// ValidateLinkName checks a network interface name: 1-15 characters of
// letters, digits, '-', '_' and '.', and not "." or "..".
func ValidateLinkName(s string) error {
	bad := s == "" || len(s) > maxLinkName || s == "." || s == ".."
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("%q is not a valid interface name: use 1-%d letters, digits, '-', '_' or '.'", s, maxLinkName)
	}
	return nil
}

func (c *Config) setDiskSize(v any, _ *valueCtx) error {
	return setSize(v, &c.DefaultDiskSize)
}

func (c *Config) setSystemSize(v any, _ *valueCtx) error {
	return setSize(v, &c.SystemDiskSize)
}

// setSize parses a disk size within MinDiskSize..MaxDiskSize into dst.
func setSize(v any, dst *int64) error {
	s, err := asString(v, `"8G"`)
	if err != nil {
		return err
	}
	n, err := units.ParseSize(s)
	if err != nil {
		return err
	}
	if n < MinDiskSize || n > MaxDiskSize {
		return fmt.Errorf("%s is out of range: use %s to %s", s, units.FormatSize(MinDiskSize), units.FormatSize(MaxDiskSize))
	}
	*dst = n
	return nil
}

func (c *Config) setStopTimeout(v any, _ *valueCtx) error {
	s, err := asString(v, `"30s"`)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: use e.g. \"30s\" or \"2m\"", s)
	}
	if d < minStop || d > maxStop {
		return fmt.Errorf("%s is out of range: use %s to %s", s, minStop, maxStop)
	}
	c.StopTimeout = d
	return nil
}

// asString returns v as a string or a type error showing example.
func asString(v any, example string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("expected a string like %s, got %s", example, tomlType(v))
	}
	return s, nil
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date/time"
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
