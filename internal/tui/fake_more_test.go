package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/namegen"
)

// CreateVM checks the request as bangerd does (its error wording too),
// lists the VM as creating, streams five steps and boots it.
func (f *fakeBackend) CreateVM(ctx context.Context, req api.CreateVMRequest, onEvent func(api.Event)) (*api.VM, error) {
	if err := f.record("CreateVM %s image=%s memory=%d vcpus=%d disk=%d nat=%v", req.Name, req.Image,
		req.MemoryMiB, req.VCPUs, req.DiskSize, req.NAT); err != nil {
		return nil, err
	}
	if req.Name == "" {
		req.Name = "brave-heron"
	}
	if err := namegen.Validate("VM", req.Name); err != nil {
		return nil, err
	}
	if req.Image == "" {
		req.Image = "debian-12"
	}
	f.mu.Lock()
	if _, ok := f.vms[req.Name]; ok {
		f.mu.Unlock()
		return nil, fmt.Errorf("a VM named %q already exists; pick another name or delete it with 'banger vm delete %s'", req.Name, req.Name)
	}
	found := false
	for _, im := range f.images {
		found = found || im.Name == req.Image
	}
	if !found {
		f.mu.Unlock()
		return nil, fmt.Errorf("no image named %q; see 'banger image list'", req.Image)
	}
	vm := &api.VM{Name: req.Name, State: api.StateCreating, Image: req.Image, VCPUs: max(req.VCPUs, 2),
		MemoryMiB: max(req.MemoryMiB, 1024), DiskSize: max(req.DiskSize, 8<<30), NAT: req.NAT, Driver: "qemu",
		CreatedAt: epoch.Add(-30 * time.Second)}
	f.vms[req.Name] = vm
	f.mu.Unlock()
	steps := []string{"reserving name and address", "creating work disk and identity", "creating system overlay of " + req.Image,
		"booting", "waiting for ssh"}
	for i, s := range steps {
		onEvent(api.Event{Kind: api.EventStep, Index: i + 1, Total: len(steps), Step: s})
		if i == 1 && f.gate != nil {
			select {
			case <-f.gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	f.mu.Lock()
	vm.State, vm.IP = api.StateRunning, "172.16.0.9"
	c := *vm
	f.mu.Unlock()
	return &c, nil
}

// Logs serves the VM's console; with follow it then passes on whatever
// arrives on consoleMore until ctx ends.
func (f *fakeBackend) Logs(ctx context.Context, name string, follow bool) (io.ReadCloser, error) {
	if err := f.record("Logs %s follow=%v", name, follow); err != nil {
		return nil, err
	}
	f.mu.Lock()
	text := f.console[name]
	f.mu.Unlock()
	if !follow {
		return io.NopCloser(strings.NewReader(text)), nil
	}
	r, w := io.Pipe()
	go func() {
		if _, err := io.WriteString(w, text); err != nil {
			return
		}
		for {
			select {
			case more := <-f.consoleMore:
				if _, err := io.WriteString(w, more); err != nil {
					return
				}
			case <-ctx.Done():
				w.CloseWithError(ctx.Err())
				return
			}
		}
	}()
	return r, nil
}

func (f *fakeBackend) GetImage(_ context.Context, name string) (*api.Image, error) {
	if err := f.record("GetImage %s", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, im := range f.images {
		if im.Name == name {
			return &im, nil
		}
	}
	return nil, fmt.Errorf("no image named %q; see 'banger image list'", name)
}

// BuildImage streams a few log lines, then registers the image.
func (f *fakeBackend) BuildImage(ctx context.Context, req api.BuildImageRequest, onEvent func(api.Event)) (*api.Image, error) {
	if err := f.record("BuildImage %s docker=%v packages=%s", req.Name, req.Docker, strings.Join(req.Packages, ",")); err != nil {
		return nil, err
	}
	for _, p := range req.Packages {
		if strings.ContainsAny(p, " ;/") || p == "" {
			return nil, fmt.Errorf("invalid package name %q: use Debian package names like docker.io or ripgrep", p)
		}
	}
	onEvent(api.Event{Kind: api.EventStep, Index: 1, Total: 3, Step: "booting the base image"})
	onEvent(api.Event{Kind: api.EventLog, Message: "apt-get install -y " + strings.Join(req.Packages, " ")})
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	onEvent(api.Event{Kind: api.EventLog, Message: "Setting up " + strings.Join(req.Packages, " ") + " ..."})
	onEvent(api.Event{Kind: api.EventStep, Index: 3, Total: 3, Step: "saving the image"})
	im := api.Image{Name: req.Name, Size: 3 << 30, CreatedAt: epoch, Packages: req.Packages}
	f.mu.Lock()
	f.images = append(f.images, im)
	f.mu.Unlock()
	return &im, nil
}

// DeleteImage refuses while VMs use the image, naming them as bangerd does.
func (f *fakeBackend) DeleteImage(_ context.Context, name string) error {
	if err := f.record("DeleteImage %s", name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, im := range f.images {
		if im.Name != name {
			continue
		}
		if len(im.UsedBy) > 0 {
			return fmt.Errorf("image %q is used by %s; delete those VMs first", name, strings.Join(im.UsedBy, ", "))
		}
		f.images = append(f.images[:i], f.images[i+1:]...)
		return nil
	}
	return errors.New("no image named " + name)
}
