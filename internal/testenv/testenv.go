// Package testenv holds the checks tests share to decide whether they can
// run on this host. `go test -short` (make test-short) must boot no VM:
// every test that boots one, or needs root for something slow or
// host-wide, calls SkipShort or RequireRoot first, so the skip says why in
// one line. Quick root tests (private network namespaces) call
// RequireRootQuick and run under -short as root, as in CI.
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

// RequireRootQuick skips t only when the process is not root: for tests
// that need root but belong in the quick suite (`go test -short` as root,
// as CI runs), because they run in a few seconds and touch only private
// network namespaces or state they remove (real nftables and iptables in
// a namespace, the traffic lab). why says what needs root.
func RequireRootQuick(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s", why)
	}
}
