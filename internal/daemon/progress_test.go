package daemon

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
)

// stepLog records the numbered steps an operation reports.
type stepLog struct{ steps []string }

func (s *stepLog) Step(i, n int, name string) {
	s.steps = append(s.steps, fmt.Sprintf("[%d/%d] %s", i, n, name))
}
func (s *stepLog) Logf(string, ...any) {}

// TestLongOperationsNumberTheirSteps: create, clone, start and restore
// number their steps 1..n of one total (a clone used to count [1/4] and
// then [4/5]), and the boot timings of a clone include its disk copy.
func TestLongOperationsNumberTheirSteps(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	rep := &stepLog{}
	vm, err := td.createVM(ctx, api.CreateVMRequest{Name: "src", NoWait: true, DiskSize: 1 << 30}, rep)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[1/4] reserving name and address", "[2/4] creating work disk and identity",
		"[3/4] creating system overlay of default", "[4/4] starting qemu VM on " + vm.Tap}
	if !reflect.DeepEqual(rep.steps, want) {
		t.Fatalf("create steps:\n%s\nwant\n%s", strings.Join(rep.steps, "\n"), strings.Join(want, "\n"))
	}
	if _, err := td.stopVM(ctx, "src", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := td.createSnapshot(ctx, "src", api.SnapshotRequest{Name: "s0"}, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}

	rep = &stepLog{}
	cl, err := td.cloneVM(ctx, "src", api.CloneRequest{Name: "copy", NoWait: true}, rep)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"[1/4] reserving name and address", "[2/4] copying the disks of src",
		"[3/4] giving copy its own SSH host key", "[4/4] starting qemu VM on " + cl.Tap}
	if !reflect.DeepEqual(rep.steps, want) {
		t.Fatalf("clone steps:\n%s\nwant\n%s", strings.Join(rep.steps, "\n"), strings.Join(want, "\n"))
	}
	if _, ok := cl.BootTimings.HostSteps["copy"]; !ok {
		t.Errorf("clone timings lack the disk copy: %+v", cl.BootTimings)
	}

	rep = &stepLog{}
	if _, err := td.restoreSnapshot(ctx, "src", "s0", false, rep); err != nil {
		t.Fatal(err)
	}
	if want := []string{"[1/1] restoring disks from snapshot s0"}; !reflect.DeepEqual(rep.steps, want) {
		t.Fatalf("restore of a stopped VM: %q; want %q", rep.steps, want)
	}
	rep = &stepLog{}
	if _, err := td.startVM(ctx, "src", false, false, rep); err != nil {
		t.Fatal(err)
	}
	if want := []string{"[1/1] starting qemu VM on " + vm.Tap}; !reflect.DeepEqual(rep.steps, want) {
		t.Fatalf("start without wait: %q; want %q", rep.steps, want)
	}
	rep = &stepLog{}
	if _, err := td.restoreSnapshot(ctx, "src", "s0", true, rep); err != nil {
		t.Fatal(err)
	}
	if want := []string{"[1/2] stopping src", "[2/2] restoring disks from snapshot s0"}; !reflect.DeepEqual(rep.steps, want) {
		t.Fatalf("forced restore of a running VM: %q; want %q", rep.steps, want)
	}
}
