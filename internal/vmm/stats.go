package vmm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// BlockStats are cumulative I/O counters of one guest drive.
type BlockStats struct {
	// Drive is the Drive.ID the counters belong to.
	Drive string `json:"drive"`
	// ReadBytes and WriteBytes are bytes transferred since boot.
	ReadBytes  uint64 `json:"read_bytes"`
	WriteBytes uint64 `json:"write_bytes"`
	// ReadOps and WriteOps are completed requests since boot.
	ReadOps  uint64 `json:"read_ops"`
	WriteOps uint64 `json:"write_ops"`
}

// NetStats are cumulative counters of the guest network interface, seen from
// the guest: Rx is what the guest received.
type NetStats struct {
	RxBytes   uint64 `json:"rx_bytes"`
	TxBytes   uint64 `json:"tx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
}

// sysClassNet is the sysfs network class directory; a variable for tests.
var sysClassNet = "/sys/class/net"

// TapStats reads the counters of host tap device tap and returns them from
// the guest's point of view (the tap's transmit is the guest's receive). It
// works for every driver, since both back the guest NIC with a tap.
func TapStats(tap string) (NetStats, error) {
	if tap == "" || strings.ContainsAny(tap, "/\x00") || tap == "." || tap == ".." {
		return NetStats{}, fmt.Errorf("read tap statistics: invalid device name %q", tap)
	}
	dir := filepath.Join(sysClassNet, tap, "statistics")
	var vals [4]uint64
	for i, name := range []string{"tx_bytes", "rx_bytes", "tx_packets", "rx_packets"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return NetStats{}, fmt.Errorf("read tap statistics of %s: %w", tap, err)
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return NetStats{}, fmt.Errorf("read tap statistics of %s: %s: %w", tap, name, err)
		}
		vals[i] = v
	}
	return NetStats{RxBytes: vals[0], TxBytes: vals[1], RxPackets: vals[2], TxPackets: vals[3]}, nil
}
