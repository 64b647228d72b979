package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/hostfacts"
)

// TestAdoptionEnablesForwardingForOneNATVM: a daemon that re-adopts a
// single running NAT VM (after a host where forwarding was turned off, as
// a reboot does) turns forwarding on again; with no NAT VM it leaves it.
func TestAdoptionEnablesForwardingForOneNATVM(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "lonely", true); err != nil {
		t.Fatal(err)
	}
	if _, err := td.create(t, "plain", false); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	fresh := &hostfacts.Fake{}
	td.host = fresh
	td.adopt(ctx)
	if !fresh.Forwarding() {
		t.Fatal("adoption of one running NAT VM left forwarding off")
	}

	td2 := newTestDaemon(t)
	if _, err := td2.create(t, "plain", false); err != nil {
		t.Fatal(err)
	}
	td2.monitors.stopAll()
	fresh2 := &hostfacts.Fake{}
	td2.host = fresh2
	td2.adopt(ctx)
	if fresh2.Forwarding() {
		t.Error("adoption without a NAT VM turned forwarding on")
	}
}

// TestAdoptionResumesOnlyWhenConfigured: a VM suspended by `suspend --all`
// is resumed by the daemon's start (a VMM is started for it) when
// resume_on_start is true, and left alone when it is false. The fake guest
// never answers SSH, so the resume itself then fails; what is checked is
// whether it began.
func TestAdoptionResumesOnlyWhenConfigured(t *testing.T) {
	for _, on := range []bool{false, true} {
		td := newTestDaemon(t)
		if _, err := td.create(t, "sleeper", false); err != nil {
			t.Fatal(err)
		}
		if _, err := td.suspendVM(context.Background(), "sleeper", true, api.NopReporter{}); err != nil {
			t.Fatal(err)
		}
		td.cfg.ResumeOnStart = on
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		handles := startedVMM(ctx, td, "sleeper")
		td.adopt(ctx)
		td.resumeWG.Wait()
		_, resumed := <-handles
		cancel()
		if resumed != on {
			t.Errorf("resume_on_start = %v: a resume began: %v", on, resumed)
		}
	}
}
