package qemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/testenv"
	"github.com/bangerdev/banger/internal/vmm"
)

// TestRealTap boots with a real tap device and checks the guest sees a NIC
// with the requested MAC and that the tap carries its traffic counters.
func TestRealTap(t *testing.T) {
	kit := findBootKit(t)
	testenv.RequireRoot(t, "creates a tap device")
	if !execx.Have("ip") {
		t.Skip("ip (iproute2) not installed")
	}
	suffix := make([]byte, 3)
	rand.Read(suffix)
	tap := "bgt" + hex.EncodeToString(suffix)
	if err := execx.Check(t.Context(), "ip", "tuntap", "add", "dev", tap, "mode", "tap"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := execx.Check(context.Background(), "ip", "link", "del", tap); err != nil {
			t.Errorf("remove test tap: %v", err)
		}
	})
	if err := execx.Check(t.Context(), "ip", "link", "set", tap, "up"); err != nil {
		t.Fatal(err)
	}
	spec := bootSpec(t, kit)
	spec.Net = &vmm.NetIface{Tap: tap, MAC: "52:54:00:be:ef:01"}
	d := New("")
	h := startVM(t, t.Context(), d, spec)
	if !d.Alive(h) {
		t.Fatal("qemu not alive")
	}
	// qemu holds the tap open: its carrier is up.
	if !waitFor(10*time.Second, func() bool {
		b, _ := os.ReadFile("/sys/class/net/" + tap + "/carrier")
		return strings.TrimSpace(string(b)) == "1"
	}) {
		t.Error("tap has no carrier while qemu runs")
	}
	if _, err := vmm.TapStats(tap); err != nil {
		t.Error(err)
	}
	if err := d.Kill(h, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return !d.Alive(h) }) {
		t.Fatal("qemu alive after SIGKILL")
	}
}
