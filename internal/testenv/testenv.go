// Package testenv holds the checks tests share to decide whether they can
// run on this host. `go test -short` (make test-short) must boot no VM and
// need no root: every test that does either calls SkipShort or
// RequireRoot first, so the skip says why in one line.
package testenv

import (
	"os"
	"testing"
)

// SkipShort skips t under -short; what says what the test does that short
// mode avoids, e.g. "boots a VM".
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: %s", what)
	}
}

// RequireRoot skips t under -short and when the process is not root; why
// says what needs root, e.g. "creates network namespaces".
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	SkipShort(t, "needs root: "+why)
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s", why)
	}
}
