// Package backend names the parts of bangerd's API that the front ends use:
// Manager for the TUI, Backend for the CLI. The typed API client
// (*client.Client) satisfies both; unit tests of the CLI and TUI pass
// in-memory fakes instead, so they run without a daemon.
package backend

import (
	"context"
	"io"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
)

// Manager is what an interactive front end needs: create, list, inspect,
// start, stop, restart, change and delete VMs, follow their consoles, and
// list, build and delete images.
type Manager interface {
	// Status returns the daemon status (version, VMM, counts).
	Status(ctx context.Context) (*api.DaemonStatus, error)
	// ListVMs returns every VM.
	ListVMs(ctx context.Context) ([]api.VM, error)
	// GetVM returns one VM.
	GetVM(ctx context.Context, name string) (*api.VM, error)
	// Stats returns host and guest statistics of a VM.
	Stats(ctx context.Context, name string) (*api.VMStats, error)
	// StartVM boots a stopped VM, reporting progress to onEvent.
	StartVM(ctx context.Context, name string, req api.StartRequest, onEvent func(api.Event)) (*api.VM, error)
	// StopVM powers a VM off gracefully, reporting progress to onEvent.
	StopVM(ctx context.Context, name string, onEvent func(api.Event)) (*api.VM, error)
	// RestartVM stops and starts a VM, reporting progress to onEvent.
	RestartVM(ctx context.Context, name string, req api.StartRequest, onEvent func(api.Event)) (*api.VM, error)
	// DeleteVM removes a VM; force stops a running one first.
	DeleteVM(ctx context.Context, name string, force bool) error
	// SetVM changes a VM's settings.
	SetVM(ctx context.Context, name string, req api.SetVMRequest) (*api.VM, error)
	// CreateVM creates and boots a VM, reporting progress to onEvent.
	CreateVM(ctx context.Context, req api.CreateVMRequest, onEvent func(api.Event)) (*api.VM, error)
	// Logs streams a VM's serial console; with follow it stays open and
	// delivers new output until ctx ends.
	Logs(ctx context.Context, name string, follow bool) (io.ReadCloser, error)
	// ListImages returns every image.
	ListImages(ctx context.Context) ([]api.Image, error)
	// GetImage returns one image.
	GetImage(ctx context.Context, name string) (*api.Image, error)
	// BuildImage builds an image, reporting progress to onEvent.
	BuildImage(ctx context.Context, req api.BuildImageRequest, onEvent func(api.Event)) (*api.Image, error)
	// DeleteImage removes an image no VM uses.
	DeleteImage(ctx context.Context, name string) error
}

// Backend is every daemon call the CLI makes.
type Backend interface {
	Manager
	// SaveImage saves a VM's root disk as a new image, reporting progress
	// to onEvent.
	SaveImage(ctx context.Context, req api.SaveImageRequest, onEvent func(api.Event)) (*api.Image, error)
	// Ping returns the daemon status with a short timeout; it fails with a
	// *client.DialError when no daemon listens.
	Ping(ctx context.Context) (*api.DaemonStatus, error)
	// Shutdown asks the daemon to exit (VMs keep running).
	Shutdown(ctx context.Context) error
	// Doctor runs the host checks.
	Doctor(ctx context.Context) ([]api.DoctorCheck, error)
	// SuspendVM saves a running VM's memory and device state and ends its VMM.
	SuspendVM(ctx context.Context, name string, req api.SuspendRequest, onEvent func(api.Event)) (*api.VM, error)
	// CloneVM makes a new VM from a stopped or suspended one's disks.
	CloneVM(ctx context.Context, src string, req api.CloneRequest, onEvent func(api.Event)) (*api.VM, error)
	// ListSnapshots returns a VM's snapshots.
	ListSnapshots(ctx context.Context, name string) ([]api.Snapshot, error)
	// CreateSnapshot takes a point-in-time copy of a VM.
	CreateSnapshot(ctx context.Context, name string, req api.SnapshotRequest, onEvent func(api.Event)) (*api.Snapshot, error)
	// RestoreSnapshot puts a VM back to a snapshot.
	RestoreSnapshot(ctx context.Context, name, snap string, req api.RestoreRequest, onEvent func(api.Event)) (*api.VM, error)
	// DeleteSnapshot removes a snapshot.
	DeleteSnapshot(ctx context.Context, name, snap string) error
	// KillVM sends a signal to a VM's VMM process.
	KillVM(ctx context.Context, name, signal string) (*api.VM, error)
	// SSHTarget says how to reach a VM over SSH.
	SSHTarget(ctx context.Context, name string) (*api.SSHTarget, error)
}

var _ Backend = (*client.Client)(nil)
