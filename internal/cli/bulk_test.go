package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
)

// bulkBackend is the output tests' fake whose suspend succeeds for every
// VM but fail, which fails with a daemon error.
type bulkBackend struct {
	*fakeBackend
	fail string
}

func (b bulkBackend) SuspendVM(_ context.Context, name string, req api.SuspendRequest, _ func(api.Event)) (*api.VM, error) {
	b.calls = append(b.calls, "suspend "+name)
	if name == b.fail {
		return nil, errors.New("suspend " + name + ": injected daemon failure")
	}
	v, err := b.vm(name)
	if err != nil {
		return nil, err
	}
	v.State = api.StateSuspended
	v.SavedState = &api.SavedState{Size: 1 << 30}
	return v, nil
}

// TestSuspendAllCarriesOnAndFails: one running VM failing to suspend does
// not keep the others running through a host shutdown: every running VM is
// tried, the failure is reported, the others are listed as suspended, and
// the command fails.
func TestSuspendAllCarriesOnAndFails(t *testing.T) {
	f := newFake()
	be := bulkBackend{fakeBackend: f, fail: "web"}
	out, stderr, err := run(t, be, "vm", "suspend", "--all")
	if err == nil || !strings.Contains(err.Error(), "some VMs were not suspended") {
		t.Fatalf("suspend --all with one failure: err = %v; want the command to fail", err)
	}
	if got := strings.Join(f.calls, "|"); got != "suspend web|suspend build-box" {
		t.Errorf("suspend calls = %s; want every running VM tried", got)
	}
	if !strings.Contains(stderr, "injected daemon failure") {
		t.Errorf("stderr %q lacks the failure", stderr)
	}
	if out != "build-box suspended (1G of saved state)\n" {
		t.Errorf("output %q; want the VM that was suspended", out)
	}
}

// TestBulkDeleteStopsAtTheFirstFailure: `vm delete a b c` with b missing
// deletes a, reports b and fails (exit status 1 through Main); what it did
// is said, what it did not do is not claimed.
func TestBulkDeleteStopsAtTheFirstFailure(t *testing.T) {
	f := newFake()
	out, _, err := run(t, f, "vm", "delete", "db", "nope", "build-box")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("delete with a missing VM: err = %v; want a failure naming it", err)
	}
	if !strings.HasPrefix(strings.Join(f.calls, "|"), "delete db|delete nope") {
		t.Errorf("calls = %v", f.calls)
	}
	if out != "db deleted\n" {
		t.Errorf("output %q; want only db reported deleted", out)
	}
}
