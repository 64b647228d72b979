package vmm_test

import (
	"testing"

	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/firecracker"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

func TestGuestStopCommand(t *testing.T) {
	if got := vmm.GuestStopCommand(vmmfake.New("qemu")); got != vmm.DefaultGuestStopCommand {
		t.Errorf("driver without its own command: %q", got)
	}
	// Firecracker on x86 exits on a guest reboot (reboot=k), not on a
	// power-off, which only halts the guest.
	if got := vmm.GuestStopCommand(firecracker.New("")); got != "systemctl reboot || reboot" {
		t.Errorf("firecracker: %q", got)
	}
}
