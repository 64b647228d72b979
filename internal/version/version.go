// Package version holds the build's version string, set at link time with
// -ldflags "-X github.com/bangerdev/banger/internal/version.Version=...".
package version

// Version is the release or git-describe version of this build.
var Version = "dev"

// APIVersion is the daemon API generation; the client refuses to talk to a
// daemon with a different one.
const APIVersion = "v1"

// String returns the version for display.
func String() string { return Version }
