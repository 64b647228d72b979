package daemon

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
)

// clockTicks is USER_HZ, fixed at 100 on Linux for /proc accounting.
const clockTicks = 100

// stats measures v on the host (VMM process, files, tap) and, while it
// runs, inside the guest over SSH.
func (o *observer) stats(ctx context.Context, v *model.VM) api.VMStats {
	st := api.VMStats{Name: v.Name, State: string(v.State)}
	st.Host.WorkDiskSize, st.Host.WorkDiskAlloc, _ = o.storage.ImageInfo(v.WorkDisk)
	_, st.Host.OverlayAlloc, _ = o.storage.ImageInfo(v.OverlayPath)
	st.Host.StateAlloc = dirAllocated(stateDir(v))
	if h, ok := v.Process(); ok && v.State == model.Running {
		procStats(h.PID, &st.Host)
		st.Host.NetRxBytes = readInt(fmt.Sprintf("/sys/class/net/%s/statistics/tx_bytes", v.Tap)) // tap tx = guest rx
		st.Host.NetTxBytes = readInt(fmt.Sprintf("/sys/class/net/%s/statistics/rx_bytes", v.Tap))
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		out, err := o.guest(ctx, v, "cat /proc/uptime /proc/loadavg; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo; df -B1 --output=size,used / /root | tail -n 2")
		if err != nil {
			st.GuestError = "guest figures unavailable: " + err.Error()
		} else if g, err := parseGuestStats(out); err != nil {
			st.GuestError = "guest figures unreadable: " + err.Error()
		} else {
			st.Guest = g
		}
	}
	return st
}

// procStats fills CPU, RSS and disk I/O of a process from /proc.
func procStats(pid int, h *api.HostStats) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			f := strings.Fields(s[i+1:])
			// Fields after comm: state is f[0]; utime f[11], stime f[12], starttime f[19].
			if len(f) > 19 {
				ut, _ := strconv.ParseFloat(f[11], 64)
				stt, _ := strconv.ParseFloat(f[12], 64)
				start, _ := strconv.ParseFloat(f[19], 64)
				h.CPUSeconds = (ut + stt) / clockTicks
				if up := uptimeSeconds(); up > 0 {
					if life := up - start/clockTicks; life > 0 {
						h.CPUPercent = 100 * h.CPUSeconds / life
					}
				}
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				f := strings.Fields(l)
				if len(f) >= 2 {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					h.RSSBytes = kb << 10
				}
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			k, val, ok := strings.Cut(l, ": ")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			switch k {
			case "read_bytes":
				h.DiskReadBytes = n
			case "write_bytes":
				h.DiskWriteBytes = n
			}
		}
	}
}

func uptimeSeconds() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// parseGuestStats reads the output of the stats command run in the guest:
// /proc/uptime, /proc/loadavg, two meminfo lines, two df lines.
func parseGuestStats(out []byte) (*api.GuestStats, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 6 {
		return nil, fmt.Errorf("expected 6 lines, got %d", len(lines))
	}
	g := &api.GuestStats{}
	fmt.Sscanf(lines[0], "%f", &g.UptimeSeconds)
	fmt.Sscanf(lines[1], "%f %f %f", &g.Load1, &g.Load5, &g.Load15)
	for _, l := range lines[2:4] {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "MemTotal:":
			g.MemTotal = kb << 10
		case "MemAvailable:":
			g.MemAvailable = kb << 10
		}
	}
	if _, err := fmt.Sscanf(lines[4], "%d %d", &g.RootSize, &g.RootUsed); err != nil {
		return nil, fmt.Errorf("df /: %w", err)
	}
	if _, err := fmt.Sscanf(lines[5], "%d %d", &g.WorkSize, &g.WorkUsed); err != nil {
		return nil, fmt.Errorf("df /root: %w", err)
	}
	return g, nil
}
