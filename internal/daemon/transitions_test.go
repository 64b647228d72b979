package daemon

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
	"github.com/bangerdev/banger/internal/model"
)

// opCalls drive each operation of the transition table through the HTTP
// API, as the CLI does. tag keeps the names they create unique.
var opCalls = map[model.Op]func(ctx context.Context, c *client.Client, vm, tag string) error{
	model.OpStart: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.StartVM(ctx, vm, api.StartRequest{NoWait: true}, nil)
		return err
	},
	model.OpStop: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.StopVM(ctx, vm, nil)
		return err
	},
	model.OpKill: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.KillVM(ctx, vm, "KILL")
		return err
	},
	model.OpSuspend: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.SuspendVM(ctx, vm, api.SuspendRequest{}, nil)
		return err
	},
	model.OpDelete: func(ctx context.Context, c *client.Client, vm, _ string) error {
		return c.DeleteVM(ctx, vm, false)
	},
	model.OpForceDelete: func(ctx context.Context, c *client.Client, vm, _ string) error {
		return c.DeleteVM(ctx, vm, true)
	},
	model.OpResize: func(ctx context.Context, c *client.Client, vm, _ string) error {
		n := 3
		_, err := c.SetVM(ctx, vm, api.SetVMRequest{VCPUs: &n})
		return err
	},
	model.OpSetNAT: func(ctx context.Context, c *client.Client, vm, _ string) error {
		on := true
		_, err := c.SetVM(ctx, vm, api.SetVMRequest{NAT: &on})
		return err
	},
	model.OpSnapshot: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.CreateSnapshot(ctx, vm, api.SnapshotRequest{Name: "s1", NoWait: true}, nil)
		return err
	},
	model.OpRestore: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.RestoreSnapshot(ctx, vm, "s0", api.RestoreRequest{}, nil)
		return err
	},
	model.OpForceRestore: func(ctx context.Context, c *client.Client, vm, _ string) error {
		_, err := c.RestoreSnapshot(ctx, vm, "s0", api.RestoreRequest{Force: true}, nil)
		return err
	},
	model.OpClone: func(ctx context.Context, c *client.Client, vm, tag string) error {
		_, err := c.CloneVM(ctx, vm, api.CloneRequest{Name: "copy-" + tag, NoWait: true}, nil)
		return err
	},
	model.OpSaveImage: func(ctx context.Context, c *client.Client, vm, tag string) error {
		_, err := c.SaveImage(ctx, api.SaveImageRequest{VM: vm, Name: "saved-" + tag}, nil)
		return err
	},
	model.OpStopSaveImage: func(ctx context.Context, c *client.Client, vm, tag string) error {
		_, err := c.SaveImage(ctx, api.SaveImageRequest{VM: vm, Name: "saved-" + tag, Stop: true}, nil)
		return err
	},
}

// putInState makes a VM called name with a disk snapshot "s0" and brings
// it into state s.
func putInState(t *testing.T, td *testDaemon, c *client.Client, name string, s model.State) {
	t.Helper()
	ctx := context.Background()
	if _, err := td.create(t, name, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopVM(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSnapshot(ctx, name, api.SnapshotRequest{Name: "s0"}, nil); err != nil {
		t.Fatal(err)
	}
	switch s {
	case model.Stopped:
	case model.Running, model.Suspended:
		if _, err := c.StartVM(ctx, name, api.StartRequest{NoWait: true}, nil); err != nil {
			t.Fatal(err)
		}
		if s == model.Suspended {
			if _, err := c.SuspendVM(ctx, name, api.SuspendRequest{}, nil); err != nil {
				t.Fatal(err)
			}
		}
	case model.Creating:
		// What a daemon that died half-way through a create leaves.
		v, err := td.store.GetVM(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		v.State = model.Creating
		if err := td.store.UpdateVM(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := td.store.GetVM(ctx, name); err != nil || v.State != s {
		t.Fatalf("setting up %s in state %s: %+v, %v", name, s, v, err)
	}
}

// TestEveryStateAndOperationThroughTheAPI walks every (state, operation)
// pair: the HTTP API refuses exactly what the transition table refuses,
// with a 409 and the table's words, and an allowed operation leaves the VM
// in the state the table names.
func TestEveryStateAndOperationThroughTheAPI(t *testing.T) {
	if len(opCalls) != len(model.Ops) {
		t.Fatalf("opCalls drives %d operations, the table has %d", len(opCalls), len(model.Ops))
	}
	for _, s := range model.States {
		t.Run(string(s), func(t *testing.T) {
			td := newTestDaemon(t)
			c := serveTest(t, td)
			ctx := context.Background()
			for i, op := range model.Ops {
				name := fmt.Sprintf("vm-%d", i)
				putInState(t, td, c, name, s)
				before, err := td.store.GetVM(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				refusal := before.Allows(op)
				err = opCalls[op](ctx, c, name, fmt.Sprint(i))
				if refusal != nil {
					if client.StatusOf(err) != http.StatusConflict || err.Error() != refusal.Error() {
						t.Errorf("%s in %s: API answered %v (status %d); the table says 409 %q",
							op, s, err, client.StatusOf(err), refusal)
					}
					if after, _ := td.store.GetVM(ctx, name); after == nil || after.State != s {
						t.Errorf("%s in %s: refused, yet the VM changed to %+v", op, s, after)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s in %s: the table allows it, the API answered %v", op, s, err)
					continue
				}
				want, _ := model.After(s, op)
				after, gerr := td.store.GetVM(ctx, name)
				switch {
				case want == model.Gone && client.IsNotFound(mapStore(gerr)):
				case want == model.Gone:
					t.Errorf("%s in %s: VM still there (%v); the table says it is deleted", op, s, gerr)
				case gerr != nil || after.State != want:
					t.Errorf("%s in %s: VM is %+v (%v); the table says %s", op, s, after, gerr, want)
				}
			}
		})
	}
}

// mapStore turns a store error into the client error the API would give.
func mapStore(err error) error {
	if err == nil {
		return nil
	}
	return &client.APIError{Status: errorStatus(err), Message: err.Error()}
}
