package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/bangerdev/banger/internal/vmm"
)

// monitors watch the VMM processes of running VMs, one goroutine each:
// while a VMM runs its console log is capped (capConsoleLog); when it
// exits on its own, onExit is called with the monitor's context, which is
// cancelled if the monitor was stopped meanwhile.
type monitors struct {
	driver func(name string) (vmm.Driver, bool)
	vmsDir string
	log    *slog.Logger
	onExit func(ctx context.Context, name string, h vmm.Handle)

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

// consoleLog is the console log of the VM named name.
func (m *monitors) consoleLog(name string) string {
	return filepath.Join(m.vmsDir, name, "console.log")
}

// start watches the VMM in h of the VM called name, replacing an earlier
// monitor of that name.
func (m *monitors) start(name string, h vmm.Handle) {
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	if old, ok := m.running[name]; ok {
		old()
	}
	m.running[name] = cancel
	m.mu.Unlock()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			drv, ok := m.driver(h.Driver)
			if !ok || drv.Alive(h) {
				if cut, err := capConsoleLog(m.consoleLog(name), consoleLogCap, consoleLogKeep); err != nil {
					m.log.Warn("console log", "vm", name, "err", err)
				} else if cut {
					m.log.Info("console log capped", "vm", name, "cap_bytes", consoleLogCap)
				}
				continue
			}
			m.onExit(ctx, name, h)
			return
		}
	}()
}

// stop ends the monitor of the VM called name.
func (m *monitors) stop(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.running[name]; ok {
		c()
		delete(m.running, name)
	}
}

// stopAll ends every monitor (the daemon stops; the VMs keep running).
func (m *monitors) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for n, c := range m.running {
		c()
		delete(m.running, n)
	}
}
