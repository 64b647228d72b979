package qemu

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/bangerdev/banger/internal/execx"
)

// Caps is what a qemu binary supports, as far as banger cares.
type Caps struct {
	// Version is the "major.minor.micro" version string.
	Version string
	// MachineOpts holds the -M microvm property names the binary accepts
	// (acpi, ioapic2, isa-serial, rtc, x-option-roms, pit, pic, ...).
	MachineOpts map[string]bool
	// Devices holds the -device names relevant to banger that are available.
	Devices map[string]bool
}

// Has reports whether the microvm machine accepts option name.
func (c Caps) Has(name string) bool { return c.MachineOpts[name] }

var (
	capsMu    sync.Mutex
	capsCache = map[string]Caps{}
)

var versionRe = regexp.MustCompile(`version (\d+\.\d+(?:\.\d+)?)`)

// Probe asks binary for its version, its microvm machine options and its
// virtio-mmio devices. Results are cached per binary for the process
// lifetime.
func Probe(ctx context.Context, binary string) (Caps, error) {
	capsMu.Lock()
	defer capsMu.Unlock()
	if c, ok := capsCache[binary]; ok {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ver, err := execx.Output(ctx, binary, "-version")
	if err != nil {
		return Caps{}, fmt.Errorf("probe qemu: %w: install qemu-system-x86 (Debian) or qemu-system-x86-core (Fedora)", err)
	}
	mopts, err := execx.Output(ctx, binary, "-M", "microvm,help")
	if err != nil {
		return Caps{}, fmt.Errorf("probe qemu microvm machine: %w: banger needs qemu 5.0 or newer with the microvm machine", err)
	}
	devs, err := execx.Output(ctx, binary, "-device", "help")
	if err != nil {
		return Caps{}, fmt.Errorf("probe qemu devices: %w", err)
	}
	c := parseCaps(string(ver), string(mopts), string(devs))
	capsCache[binary] = c
	return c, nil
}

// parseCaps reads the outputs of -version, -M microvm,help and -device help.
func parseCaps(version, machineHelp, deviceHelp string) Caps {
	c := Caps{MachineOpts: map[string]bool{}, Devices: map[string]bool{}}
	if m := versionRe.FindStringSubmatch(version); m != nil {
		c.Version = m[1]
	}
	for _, line := range strings.Split(machineHelp, "\n") {
		line = strings.TrimSpace(line)
		if name, _, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(name, " :") && name != "" {
			c.MachineOpts[name] = true
		}
	}
	for _, line := range strings.Split(deviceHelp, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), `name "`)
		if !ok {
			continue
		}
		if name, _, ok := strings.Cut(rest, `"`); ok {
			switch name {
			case "virtio-blk-device", "virtio-net-device", "vhost-vsock-device", "virtio-rng-device", "virtio-balloon-device":
				c.Devices[name] = true
			}
		}
	}
	return c
}
