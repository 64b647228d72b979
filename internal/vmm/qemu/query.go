package qemu

import (
	"context"
	"strings"

	"github.com/bangerdev/banger/internal/vmm"
)

// Status is the live state of a qemu VM as reported over QMP.
type Status struct {
	// State is QEMU's run state ("running", "paused", "shutdown", ...).
	State string `json:"state"`
	// Running is true while guest CPUs execute.
	Running bool `json:"running"`
	// Blocks are I/O counters per drive, keyed by Drive.ID.
	Blocks []vmm.BlockStats `json:"blocks"`
}

type statusInfo struct {
	Status  string `json:"status"`
	Running bool   `json:"running"`
}

type blockStatsEntry struct {
	Device string `json:"device"`
	Stats  struct {
		RdBytes      uint64 `json:"rd_bytes"`
		WrBytes      uint64 `json:"wr_bytes"`
		RdOperations uint64 `json:"rd_operations"`
		WrOperations uint64 `json:"wr_operations"`
	} `json:"stats"`
}

// Query reads run state (query-status) and per-drive I/O counters
// (query-blockstats) from the VM in h. Network counters come from the tap
// (vmm.TapStats).
func Query(ctx context.Context, h vmm.Handle) (Status, error) {
	c, err := DialQMP(ctx, h.ControlSocket)
	if err != nil {
		return Status{}, err
	}
	defer c.Close()
	return query(ctx, c)
}

func query(ctx context.Context, c *QMP) (Status, error) {
	var si statusInfo
	if err := c.Execute(ctx, "query-status", nil, &si); err != nil {
		return Status{}, err
	}
	var bs []blockStatsEntry
	if err := c.Execute(ctx, "query-blockstats", nil, &bs); err != nil {
		return Status{}, err
	}
	st := Status{State: si.Status, Running: si.Running}
	for _, b := range bs {
		name, ok := strings.CutPrefix(b.Device, drivePrefix)
		if !ok {
			continue
		}
		st.Blocks = append(st.Blocks, vmm.BlockStats{
			Drive:      name,
			ReadBytes:  b.Stats.RdBytes,
			WriteBytes: b.Stats.WrBytes,
			ReadOps:    b.Stats.RdOperations,
			WriteOps:   b.Stats.WrOperations,
		})
	}
	return st, nil
}
