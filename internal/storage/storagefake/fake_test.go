package storagefake

import (
	"context"
	"errors"
	"testing"

	"github.com/bangerdev/banger/internal/storage"
)

func TestFake(t *testing.T) {
	var f Fake
	ctx := context.Background()
	ov, err := f.CreateOverlay(ctx, storage.KindQcow2, "/base", "/vm/root", 0)
	if err != nil || ov.Format != storage.FormatQcow2 {
		t.Fatal(ov, err)
	}
	if _, err := f.CreateOverlay(ctx, storage.KindQcow2, "/base", "/vm/root", 0); err == nil {
		t.Error("duplicate overlay accepted")
	}
	if err := f.CreateWorkDisk(ctx, "/vm/work", 8<<30, storage.Identity{AuthorizedKey: "ssh-ed25519 AAAA"}); err != nil {
		t.Fatal(err)
	}
	var se *storage.ShrinkError
	if err := f.GrowWorkDisk(ctx, "/vm/work", 4<<30); !errors.As(err, &se) {
		t.Errorf("shrink: %v", err)
	}
	f.Fail = map[string]error{"RemoveOverlay": errors.New("boom")}
	if err := f.RemoveOverlay(ctx, ov); err == nil {
		t.Error("injected failure ignored")
	}
}
