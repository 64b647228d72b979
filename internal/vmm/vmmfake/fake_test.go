package vmmfake

import (
	"errors"
	"syscall"
	"testing"

	"github.com/bangerdev/banger/internal/vmm"
)

func TestFakeLifecycle(t *testing.T) {
	d := New("qemu")
	if d.Name() != "qemu" {
		t.Fatal(d.Name())
	}
	h, err := d.Start(t.Context(), vmm.Spec{Name: "a", Dir: "/run/a"})
	if err != nil || !d.Alive(h) || h.Driver != "qemu" {
		t.Fatalf("start: %+v %v", h, err)
	}
	d.IgnoreShutdown(true)
	if err := d.Shutdown(t.Context(), h); err != nil || !d.Alive(h) {
		t.Fatalf("ignored shutdown: %v alive=%v", err, d.Alive(h))
	}
	stale := h
	stale.StartTime++
	if err := d.Kill(stale, syscall.SIGKILL); !errors.Is(err, vmm.ErrNotRunning) || !d.Alive(h) {
		t.Fatalf("kill through stale handle: %v", err)
	}
	if err := d.Kill(h, syscall.SIGTERM); err != nil || d.Alive(h) {
		t.Fatalf("kill: %v", err)
	}
	vm, _ := d.VM(h)
	if vm.Shutdowns != 1 || len(vm.Signals) != 1 || vm.Spec.Name != "a" {
		t.Errorf("vm %+v", vm)
	}
	if err := d.Shutdown(t.Context(), h); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("shutdown of stopped vm: %v", err)
	}

	d.IgnoreShutdown(false)
	h2, _ := d.Start(t.Context(), vmm.Spec{Name: "b"})
	if h2.PID == h.PID {
		t.Error("pid reused")
	}
	if err := d.Shutdown(t.Context(), h2); err != nil || d.Alive(h2) {
		t.Errorf("honoured shutdown: %v", err)
	}
	h3, _ := d.Start(t.Context(), vmm.Spec{Name: "c"})
	d.Crash(h3)
	if d.Alive(h3) {
		t.Error("crashed vm alive")
	}
	d.FailStart(errors.New("boom"))
	if _, err := d.Start(t.Context(), vmm.Spec{}); err == nil {
		t.Error("FailStart ignored")
	}
}
