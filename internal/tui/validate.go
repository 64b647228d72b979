package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/units"
)

// The form checks below mirror the daemon's own checks and wording (same
// ranges from internal/config, same name rules from internal/namegen), so
// a mistake shows next to its field before anything is sent. The daemon
// stays the authority: its refusals land next to the field too (fieldOf).

// checkName accepts an empty name (the daemon picks one) or a valid label.
func checkName(kind, s string) error {
	if s == "" {
		return nil
	}
	return namegen.Validate(kind, s)
}

// checkVCPUs parses a vCPU count; empty means the daemon's default (0).
func checkVCPUs(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < config.MinVCPUs || n > config.MaxVCPUs {
		return 0, fmt.Errorf("invalid vcpu count %s: use %d to %d", s, config.MinVCPUs, config.MaxVCPUs)
	}
	return n, nil
}

// checkMemory parses memory in MiB; empty means the daemon's default (0).
func checkMemory(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < config.MinMemoryMiB || n > config.MaxMemoryMiB {
		return 0, fmt.Errorf("invalid memory %s MiB: use %d to %d MiB", s, config.MinMemoryMiB, config.MaxMemoryMiB)
	}
	return n, nil
}

// checkDisk parses a disk size such as 16G; empty means the default (0).
func checkDisk(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := units.ParseSize(s)
	if err != nil {
		return 0, err
	}
	if n < config.MinDiskSize || n > config.MaxDiskSize {
		return 0, fmt.Errorf("invalid disk size %s: use %s to %s", units.FormatSize(n),
			units.FormatSize(config.MinDiskSize), units.FormatSize(config.MaxDiskSize))
	}
	return n, nil
}

// fieldOf names the form field a daemon error message is about, or "".
func fieldOf(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "no image named"):
		return "image"
	case strings.Contains(m, "vm name"), strings.Contains(m, "a vm named"), strings.Contains(m, "image name"),
		strings.Contains(m, "an image named"):
		return "name"
	case strings.Contains(m, "vcpu count"):
		return "vcpus"
	case strings.Contains(m, "invalid memory"):
		return "memory"
	case strings.Contains(m, "disk size"), strings.Contains(m, "work disk of"):
		return "disk"
	case strings.Contains(m, "package"):
		return "packages"
	}
	return ""
}
