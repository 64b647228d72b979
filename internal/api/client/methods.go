package client

import (
	"context"
	"io"
	"net/http"

	"github.com/bangerdev/banger/internal/api"
)

// Status returns the daemon status.
func (c *Client) Status(ctx context.Context) (*api.DaemonStatus, error) {
	var st api.DaemonStatus
	return &st, c.Call(ctx, http.MethodGet, "/v1/status", nil, &st)
}

// Shutdown asks the daemon to exit; running VMs keep running.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.Call(ctx, http.MethodPost, "/v1/shutdown", nil, nil)
}

// Doctor runs the daemon's host checks.
func (c *Client) Doctor(ctx context.Context) ([]api.DoctorCheck, error) {
	var out []api.DoctorCheck
	return out, c.Call(ctx, http.MethodGet, "/v1/doctor", nil, &out)
}

// ListVMs returns every VM.
func (c *Client) ListVMs(ctx context.Context) ([]api.VM, error) {
	var out []api.VM
	return out, c.Call(ctx, http.MethodGet, "/v1/vms", nil, &out)
}

// GetVM returns one VM.
func (c *Client) GetVM(ctx context.Context, name string) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Call(ctx, http.MethodGet, "/v1/vms/"+PathName(name), nil, &vm)
}

// CreateVM creates and boots a VM, reporting progress to onEvent.
func (c *Client) CreateVM(ctx context.Context, req api.CreateVMRequest, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms", req, onEvent, &vm)
}

// StartVM boots a stopped VM.
func (c *Client) StartVM(ctx context.Context, name string, req api.StartRequest, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/start", req, onEvent, &vm)
}

// RestartVM stops and starts a VM.
func (c *Client) RestartVM(ctx context.Context, name string, req api.StartRequest, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/restart", req, onEvent, &vm)
}

// StopVM powers a VM off gracefully (then forcibly after the timeout).
func (c *Client) StopVM(ctx context.Context, name string, onEvent func(api.Event)) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Stream(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/stop", nil, onEvent, &vm)
}

// KillVM sends a signal to a VM's VMM process.
func (c *Client) KillVM(ctx context.Context, name, signal string) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Call(ctx, http.MethodPost, "/v1/vms/"+PathName(name)+"/kill", api.KillRequest{Signal: signal}, &vm)
}

// DeleteVM removes a VM and all its files; force stops a running one first.
func (c *Client) DeleteVM(ctx context.Context, name string, force bool) error {
	path := "/v1/vms/" + PathName(name)
	if force {
		path += "?force=1"
	}
	return c.Call(ctx, http.MethodDelete, path, nil, nil)
}

// SetVM changes a VM's settings.
func (c *Client) SetVM(ctx context.Context, name string, req api.SetVMRequest) (*api.VM, error) {
	var vm api.VM
	return &vm, c.Call(ctx, http.MethodPatch, "/v1/vms/"+PathName(name), req, &vm)
}

// Stats returns host and guest statistics of a VM.
func (c *Client) Stats(ctx context.Context, name string) (*api.VMStats, error) {
	var st api.VMStats
	return &st, c.Call(ctx, http.MethodGet, "/v1/vms/"+PathName(name)+"/stats", nil, &st)
}

// SSHTarget returns what is needed to SSH into a VM.
func (c *Client) SSHTarget(ctx context.Context, name string) (*api.SSHTarget, error) {
	var t api.SSHTarget
	return &t, c.Call(ctx, http.MethodGet, "/v1/vms/"+PathName(name)+"/ssh", nil, &t)
}

// Logs returns the serial console log; with follow it stays open.
func (c *Client) Logs(ctx context.Context, name string, follow bool) (io.ReadCloser, error) {
	path := "/v1/vms/" + PathName(name) + "/logs"
	if follow {
		path += "?follow=1"
	}
	return c.Raw(ctx, http.MethodGet, path)
}

// ListImages returns every image.
func (c *Client) ListImages(ctx context.Context) ([]api.Image, error) {
	var out []api.Image
	return out, c.Call(ctx, http.MethodGet, "/v1/images", nil, &out)
}

// GetImage returns one image.
func (c *Client) GetImage(ctx context.Context, name string) (*api.Image, error) {
	var im api.Image
	return &im, c.Call(ctx, http.MethodGet, "/v1/images/"+PathName(name), nil, &im)
}

// BuildImage builds a new image, reporting progress to onEvent.
func (c *Client) BuildImage(ctx context.Context, req api.BuildImageRequest, onEvent func(api.Event)) (*api.Image, error) {
	var im api.Image
	return &im, c.Stream(ctx, http.MethodPost, "/v1/images", req, onEvent, &im)
}

// SaveImage saves a stopped VM's root disk as a new image, reporting
// progress to onEvent.
func (c *Client) SaveImage(ctx context.Context, req api.SaveImageRequest, onEvent func(api.Event)) (*api.Image, error) {
	var im api.Image
	return &im, c.Stream(ctx, http.MethodPost, "/v1/images/save", req, onEvent, &im)
}

// DeleteImage removes an image no VM uses.
func (c *Client) DeleteImage(ctx context.Context, name string) error {
	return c.Call(ctx, http.MethodDelete, "/v1/images/"+PathName(name), nil, nil)
}
