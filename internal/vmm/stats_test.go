package vmm

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTapStats(t *testing.T) {
	dir := t.TempDir()
	old := sysClassNet
	t.Cleanup(func() { sysClassNet = old })
	sysClassNet = dir
	st := filepath.Join(dir, "tap0", "statistics")
	if err := os.MkdirAll(st, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"tx_bytes": "100\n", "rx_bytes": "200\n", "tx_packets": "3\n", "rx_packets": "4\n"} {
		writeFile(t, st, name, v)
	}
	got, err := TapStats("tap0")
	if err != nil {
		t.Fatal(err)
	}
	want := NetStats{RxBytes: 100, TxBytes: 200, RxPackets: 3, TxPackets: 4}
	if got != want {
		t.Errorf("TapStats = %+v, want %+v (guest view: tap tx is guest rx)", got, want)
	}
	for _, bad := range []string{"", "..", "a/b", "missing"} {
		if _, err := TapStats(bad); err == nil {
			t.Errorf("TapStats(%q) succeeded", bad)
		}
	}
}

func TestTapStatsLoopback(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo/statistics"); err != nil {
		t.Skip("no /sys/class/net/lo")
	}
	if _, err := TapStats("lo"); err != nil {
		t.Fatal(err)
	}
}
