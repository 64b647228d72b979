package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/units"
)

// ResourceFlags are the --memory, --vcpu and --disk-size flags shared by
// `vm create` and `vm set`. A flag that was not given means "default" (create)
// or "unchanged" (set); a flag that was given is checked against the
// accepted range, zero included.
type ResourceFlags struct {
	Memory   int
	VCPUs    int
	DiskSize string

	memorySet, vcpuSet, diskSet bool
}

// Resources are the parsed, range-checked values; nil means not given.
type Resources struct {
	MemoryMiB *int
	VCPUs     *int
	DiskSize  *int64
}

// noteChanged records which of the flags were given on the command line.
func (r *ResourceFlags) noteChanged(f *pflag.FlagSet) {
	r.memorySet = f.Changed("memory")
	r.vcpuSet = f.Changed("vcpu")
	r.diskSet = f.Changed("disk-size")
}

// parse checks the given flags; sizeExample completes the message of an
// unparsable --disk-size.
func (r *ResourceFlags) parse(sizeExample string) (Resources, error) {
	var res Resources
	if r.memorySet || r.Memory != 0 {
		if err := config.CheckMemoryMiB(r.Memory); err != nil {
			return res, err
		}
		res.MemoryMiB = &r.Memory
	}
	if r.vcpuSet || r.VCPUs != 0 {
		if err := config.CheckVCPUs(r.VCPUs); err != nil {
			return res, err
		}
		res.VCPUs = &r.VCPUs
	}
	if r.diskSet || r.DiskSize != "" {
		n, err := units.ParseSize(r.DiskSize)
		if isZeroSize(r.DiskSize) {
			n, err = 0, nil // refused below with the accepted range
		}
		if err != nil {
			return res, fmt.Errorf("invalid --disk-size %q: %v; use a size like %s", r.DiskSize, err, sizeExample)
		}
		if err := config.CheckDiskSize(n); err != nil {
			return res, err
		}
		res.DiskSize = &n
	}
	return res, nil
}

// isZeroSize reports whether s spells a size of zero ("0", "0G", "0.0MiB"),
// which units.ParseSize refuses without naming the accepted range.
func isZeroSize(s string) bool {
	num := strings.TrimRight(strings.TrimSpace(s), "bBiIkKmMgGtT")
	if num == "" || strings.Count(num, ".") > 1 {
		return false
	}
	return strings.Trim(num, "0.") == "" && strings.Contains(num, "0")
}
