package config

import (
	"fmt"

	"github.com/bangerdev/banger/internal/units"
)

// CheckVCPUs refuses a vCPU count outside MinVCPUs..MaxVCPUs with the
// accepted range.
func CheckVCPUs(n int) error {
	if n < MinVCPUs || n > MaxVCPUs {
		return fmt.Errorf("invalid vcpu count %d: use %d to %d", n, MinVCPUs, MaxVCPUs)
	}
	return nil
}

// CheckMemoryMiB refuses a memory size outside MinMemoryMiB..MaxMemoryMiB
// with the accepted range.
func CheckMemoryMiB(n int) error {
	if n < MinMemoryMiB || n > MaxMemoryMiB {
		return fmt.Errorf("invalid memory %d MiB: use %d to %d MiB", n, MinMemoryMiB, MaxMemoryMiB)
	}
	return nil
}

// CheckDiskSize refuses a work disk size outside MinDiskSize..MaxDiskSize
// with the accepted range.
func CheckDiskSize(n int64) error {
	if n < MinDiskSize || n > MaxDiskSize {
		return fmt.Errorf("invalid disk size %s: use %s to %s", units.FormatSize(n), units.FormatSize(MinDiskSize), units.FormatSize(MaxDiskSize))
	}
	return nil
}
