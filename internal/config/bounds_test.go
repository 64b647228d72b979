package config

import (
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/units"
)

// TestEveryBoundIsInclusive: every bounded key takes its lowest and its
// highest value (`default_vcpus = 1` must work) and the value reaches the
// Config; one step outside either end is refused naming the range.
func TestEveryBoundIsInclusive(t *testing.T) {
	cases := []struct {
		key            string
		lo, hi         string // accepted TOML values
		below, above   string // refused TOML values ("" when there is none)
		gotLo, gotHi   any
		field          func(*Config) any
		refusedMessage string
	}{
		{"default_vcpus", "1", "32", "0", "33", 1, 32, func(c *Config) any { return c.DefaultVCPUs }, "out of range: use 1 to 32"},
		{"default_memory_mib", "128", "65536", "127", "65537", 128, 65536, func(c *Config) any { return c.DefaultMemoryMiB }, "out of range: use 128 to 65536"},
		{"tcg_cache_mib", "8", "1024", "7", "1025", 8, 1024, func(c *Config) any { return c.TCGCacheMiB }, "out of range: use 8 to 1024"},
		{"default_disk_size", `"1G"`, `"2T"`, `"1023M"`, `"2049G"`, int64(units.GiB), int64(2 * units.TiB), func(c *Config) any { return c.DefaultDiskSize }, "out of range: use 1G to 2T"},
		{"system_disk_size", `"1G"`, `"2T"`, `"1023M"`, `"2049G"`, int64(units.GiB), int64(2 * units.TiB), func(c *Config) any { return c.SystemDiskSize }, "out of range: use 1G to 2T"},
		{"stop_timeout", `"1s"`, `"1h"`, `"999ms"`, `"61m"`, time.Second, time.Hour, func(c *Config) any { return c.StopTimeout }, "out of range: use 1s to 1h0m0s"},
		{"vm_subnet", `"10.77.0.0/16"`, `"10.77.7.8/29"`, `"10.76.0.0/15"`, `"10.77.7.8/30"`, "10.77.0.0/16", "10.77.7.8/29", func(c *Config) any { return c.VMSubnet.String() }, "out of range: use /16 to /29"},
		{"bridge_name", `"b"`, `"bgts0123456789a"`, `""`, `"bgts0123456789ab"`, "b", "bgts0123456789a", func(c *Config) any { return c.BridgeName }, "is not a valid interface name: use 1-15"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			for _, ok := range []struct {
				val  string
				want any
			}{{tc.lo, tc.gotLo}, {tc.hi, tc.gotHi}} {
				path, env := setup(t, tc.key+" = "+ok.val+"\n")
				c, err := Load(path, getenv(env))
				if err != nil {
					t.Errorf("%s = %s refused: %v", tc.key, ok.val, err)
					continue
				}
				if got := tc.field(c); got != ok.want {
					t.Errorf("%s = %s gives %v (%T), want %v (%T)", tc.key, ok.val, got, got, ok.want, ok.want)
				}
				if c.Sources[tc.key] == SourceDefault {
					t.Errorf("%s = %s still shows as the default", tc.key, ok.val)
				}
			}
			for _, bad := range []string{tc.below, tc.above} {
				if msg := loadErr(t, tc.key+" = "+bad+"\n"); !strings.Contains(msg, tc.refusedMessage) {
					t.Errorf("%s = %s: error %q lacks %q", tc.key, bad, msg, tc.refusedMessage)
				}
			}
		})
	}
}

// TestDefaultsAreWithinTheirBounds: the built-in defaults pass the same
// checks the daemon applies to a request.
func TestDefaultsAreWithinTheirBounds(t *testing.T) {
	c := Defaults("config.toml")
	for _, err := range []error{CheckVCPUs(c.DefaultVCPUs), CheckMemoryMiB(c.DefaultMemoryMiB),
		CheckDiskSize(c.DefaultDiskSize), CheckDiskSize(c.SystemDiskSize)} {
		if err != nil {
			t.Error(err)
		}
	}
}
