// Package scripts holds banger's shell helpers. The runtime-bundle ones are
// embedded so the bundle builder ships them (see Helpers); the rest
// (bench.sh, demo.sh, ...) are for the source checkout only.
package scripts

import "embed"

// FS holds the helper scripts that go into a runtime bundle.
//
//go:embed customize.sh make-rootfs.sh interactive.sh verify.sh packages.sh dns.sh nat.sh
var FS embed.FS

// Helper is one shell helper of a runtime bundle.
type Helper struct {
	// Name is the bundle.json helpers key, e.g. "customize".
	Name string
	// File is the file name in FS and in the bundle, e.g. "customize.sh".
	File string
	// Executable is true for programs, false for sourced libraries.
	Executable bool
}

// Helpers lists the bundle's helpers in a fixed order.
var Helpers = []Helper{
	{"customize", "customize.sh", true},
	{"make-rootfs", "make-rootfs.sh", true},
	{"interactive", "interactive.sh", true},
	{"verify", "verify.sh", true},
	{"packages", "packages.sh", false},
	{"dns", "dns.sh", false},
	{"nat", "nat.sh", true},
}
