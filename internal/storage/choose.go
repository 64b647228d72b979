package storage

import (
	"fmt"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// Availability says whether one overlay mechanism can be used and why.
type Availability struct {
	// Kind is the mechanism.
	Kind Kind
	// OK is true when the mechanism works for this driver and directory.
	OK bool
	// Reason explains the verdict in a few words.
	Reason string
}

// Report is the result of probing every overlay mechanism.
type Report struct {
	// Chosen is the cheapest usable mechanism.
	Chosen Kind
	// Reason explains the choice.
	Reason string
	// All lists every mechanism, cheapest first, with its verdict.
	All []Availability
}

// Probe checks every overlay mechanism for the driver and directory. The
// order of preference is qcow2 (qemu only), dm-snapshot, reflink, sparse-copy;
// firecracker needs a raw disk, so qcow2 never qualifies for it.
func (Host) Probe(driver, dir string) Report {
	all := []Availability{
		probeQcow2(driver),
		probeDM(),
		probeReflink(dir),
		{Kind: KindSparseCopy, OK: true, Reason: "portable fallback: copies the used blocks of the base"},
	}
	r := Report{All: all}
	for _, a := range all {
		if a.OK {
			r.Chosen, r.Reason = a.Kind, a.Reason
			break
		}
	}
	return r
}

// Describe renders the report for `banger doctor`: the chosen mechanism on
// the first line, then one line per mechanism that is unavailable.
func (r Report) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "overlay: %s (%s)", r.Chosen, r.Reason)
	for _, a := range r.All {
		if !a.OK {
			fmt.Fprintf(&b, "\n%s unavailable: %s", a.Kind, a.Reason)
		}
	}
	return b.String()
}

func probeQcow2(driver string) Availability {
	a := Availability{Kind: KindQcow2}
	switch {
	case driver != "qemu":
		a.Reason = driver + " driver needs a raw disk"
	case !execx.Have("qemu-img"):
		a.Reason = "qemu-img not found: install qemu-utils (Debian) or qemu-img (Fedora)"
	default:
		a.OK, a.Reason = true, "qemu driver: backing file, O(1)"
	}
	return a
}

func probeDM() Availability {
	a := Availability{Kind: KindDMSnapshot}
	switch {
	case !kernelHasDM():
		a.Reason = "kernel has no device-mapper"
	case os.Geteuid() != 0:
		a.Reason = "needs root"
	case !execx.Have("dmsetup"):
		a.Reason = "dmsetup not found: install dmsetup (Debian) or device-mapper (Fedora)"
	case !execx.Have("losetup"):
		a.Reason = "losetup not found: install mount (Debian) or util-linux (Fedora)"
	default:
		a.OK, a.Reason = true, "device-mapper snapshot over a loop device, O(1)"
	}
	return a
}

// kernelHasDM reports whether device-mapper (and so dm-snapshot, built in or
// loadable on demand) is usable.
func kernelHasDM() bool {
	if _, err := os.Stat("/sys/module/dm_snapshot"); err == nil {
		return true
	}
	data, err := os.ReadFile("/proc/devices")
	if err != nil {
		return false
	}
	return hasDeviceMapper(string(data))
}

// hasDeviceMapper looks for the "device-mapper" block major in /proc/devices.
func hasDeviceMapper(procDevices string) bool {
	for _, line := range strings.Split(procDevices, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "device-mapper" {
			return true
		}
	}
	return false
}

func probeReflink(dir string) Availability {
	a := Availability{Kind: KindReflink}
	if err := reflinkProbe(dir); err != nil {
		a.Reason = err.Error()
		return a
	}
	a.OK, a.Reason = true, "filesystem clones files by reflink, O(1)"
	return a
}
