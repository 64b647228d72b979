package vmm

import "github.com/bangerdev/banger/internal/detach"

// ErrNotRunning is returned when the process in a handle is gone (see
// detach.ErrNotRunning); drivers and their callers test for it.
var ErrNotRunning = detach.ErrNotRunning
