package client

import (
	"context"
	"net/http"

	"github.com/bangerdev/banger/internal/api"
)

// SuspendVM saves a running VM's state and ends its VMM process.
func (c *Client) SuspendVM(ctx context.Context, name string, req api.SuspendRequest, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/suspend", req, onEvent, &vm)
}

// CloneVM makes a new VM from a stopped or suspended VM's disks.
func (c *Client) CloneVM(ctx context.Context, src string, req api.CloneRequest, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(src)+"/clone", req, onEvent, &vm)
}

// ListSnapshots returns a VM's snapshots, oldest first.
func (c *Client) ListSnapshots(ctx context.Context, name string) ([]api.Snapshot, error) {
	var out []api.Snapshot
	return out, c.Call(ctx, http.MethodGet, "/v1/vms/"+PathName(name)+"/snapshots", nil, &out)
}

// CreateSnapshot copies a VM's disks (and with req.Memory its state).
func (c *Client) CreateSnapshot(ctx context.Context, name string, req api.SnapshotRequest, onEvent func(api.Event)) (*api.Snapshot, error) {
	var sn api.Snapshot
	return &sn, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/snapshots", req, onEvent, &sn)
}

// RestoreSnapshot puts a snapshot back in place of the VM's disks.
func (c *Client) RestoreSnapshot(ctx context.Context, name, snap string, req api.RestoreRequest, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/snapshots/"+PathName(snap)+"/restore", req, onEvent, &vm)
}

// DeleteSnapshot removes a snapshot and its files.
func (c *Client) DeleteSnapshot(ctx context.Context, name, snap string) error {
	return c.Call(ctx, http.MethodDelete, "/v1/vms/"+PathName(name)+"/snapshots/"+PathName(snap), nil, nil)
}
