package daemon

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

// statsOf asks the stats route for name's figures (the guest part fails
// fast: there is no guest to reach).
func (td *testDaemon) statsOf(t *testing.T, name string) api.VMStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest("GET", "/v1/vms/"+name+"/stats", nil).WithContext(ctx)
	r.SetPathValue("name", name)
	w := httptest.NewRecorder()
	td.daemon.http.handleStats(w, r)
	var st api.VMStats
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatalf("stats of %s: %v: %s", name, err, w.Body.String())
	}
	return st
}

// TestMappedStateStaysUntilTheVMMExits: a VMM that maps its loaded state
// (firecracker's memory file) keeps it after resume, counted in the VM's
// disk usage, until the next suspend replaces it or the VMM exits; a VMM
// that does not (qemu) has it removed at once.
func TestMappedStateStaysUntilTheVMMExits(t *testing.T) {
	td := newTestDaemon(t)
	td.vmm.SetStateTraits(vmm.StateTraits{MappedAfterLoad: true})
	ctx := context.Background()
	if _, err := td.create(t, "mapped", false); err != nil {
		t.Fatal(err)
	}
	out, err := td.suspendVM(ctx, "mapped", false, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(out.SavedState.Dir, vmmfake.StateFileName)
	if _, err := td.startVM(ctx, "mapped", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stateFile); err != nil {
		t.Fatalf("the state the running VMM maps was removed after resume: %v", err)
	}
	if st := td.statsOf(t, "mapped"); st.Host.StateAlloc <= 0 {
		t.Fatalf("vm stats does not count the mapped state: %+v", st.Host)
	}
	// A daemon restart must not take the spent state for a fresh one.
	td.adopt(ctx)
	if v, _ := td.store.GetVM(ctx, "mapped"); v.State != api.StateRunning {
		t.Fatalf("after adoption: %s; the spent state was taken for a saved one", v.State)
	}
	// The next suspend replaces it.
	again, err := td.suspendVM(ctx, "mapped", false, api.NopReporter{})
	if err != nil {
		t.Fatalf("suspend after a resume: %v", err)
	}
	if again.SavedState.SavedAt.Before(out.SavedState.SavedAt) {
		t.Fatal("the second suspend kept the old state")
	}
	if _, err := td.startVM(ctx, "mapped", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	// The VMM exits: the state goes with it.
	if _, err := td.stopVM(ctx, "mapped", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out.SavedState.Dir); !os.IsNotExist(err) {
		t.Fatalf("spent state kept after the VMM exited: %v", err)
	}
	if st := td.statsOf(t, "mapped"); st.Host.StateAlloc != 0 {
		t.Fatalf("stopped VM still counts %d bytes of state", st.Host.StateAlloc)
	}
}

// TestStateWithMovedDrivesIsRefused: a state that records its drives'
// paths (firecracker) is refused, with the reason and --cold, when a drive
// is no longer where it was; the tap may change (it is overridden on
// load). A driver whose state does not record paths loads it anyway.
func TestStateWithMovedDrivesIsRefused(t *testing.T) {
	for _, fixed := range []bool{true, false} {
		td := newTestDaemon(t)
		td.vmm.SetStateTraits(vmm.StateTraits{DrivePathsFixed: fixed})
		ctx := context.Background()
		vm, err := td.create(t, "moved", false)
		if err != nil {
			t.Fatal(err)
		}
		out, err := td.suspendVM(ctx, "moved", false, api.NopReporter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.SavedState.DrivePaths) != 2 || out.SavedState.DrivePaths[1] != vm.Files.WorkDisk || out.SavedState.Tap != vm.Tap {
			t.Fatalf("saved state does not record drives and tap: %+v", out.SavedState)
		}
		v, _ := td.store.GetVM(ctx, "moved")
		moved := filepath.Join(filepath.Dir(v.WorkDisk), "elsewhere.ext4")
		v.WorkDisk = moved
		if err := td.store.UpdateVM(ctx, v); err != nil {
			t.Fatal(err)
		}
		_, err = td.startVM(ctx, "moved", false, false, api.NopReporter{})
		if !fixed {
			if err != nil {
				t.Fatalf("a state without recorded paths refused after a move: %v", err)
			}
			continue
		}
		if statusOf(err) != 409 || !strings.Contains(err.Error(), moved) || !strings.Contains(err.Error(), "--cold") {
			t.Fatalf("resume with a moved work disk: %v", err)
		}
		if v, _ := td.store.GetVM(ctx, "moved"); v.State != api.StateSuspended {
			t.Fatalf("state after refused resume: %s", v.State)
		}
		if _, err := os.Stat(filepath.Join(out.SavedState.Dir, vmmfake.StateFileName)); err != nil {
			t.Fatalf("state lost after a refused resume: %v", err)
		}
	}
}
