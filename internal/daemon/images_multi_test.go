package daemon

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/namegen"
)

// TestImagesOverSeveralVMs: with two images, one used by two VMs and one
// by a single VM, every image reports its own users (list and show), and
// an image in use by exactly one VM is refused naming that VM; once the
// VM is gone the image goes, and the other image keeps its users.
func TestImagesOverSeveralVMs(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	def, err := td.store.GetImage(ctx, DefaultImageName)
	if err != nil {
		t.Fatal(err)
	}
	extra := *def
	extra.Name, extra.Builtin, extra.CreatedAt = "extra", false, time.Now()
	if err := td.store.PutImage(ctx, &extra); err != nil {
		t.Fatal(err)
	}
	for name, image := range map[string]string{"a-one": DefaultImageName, "b-two": DefaultImageName, "c-three": "extra"} {
		if _, err := td.createVM(ctx, api.CreateVMRequest{Name: name, Image: image, NoWait: true, DiskSize: 1 << 30}, api.NopReporter{}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{DefaultImageName: {"a-one", "b-two"}, "extra": {"c-three"}}
	list, err := td.daemon.images.list(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range list {
		if w, ok := want[im.Name]; ok && !reflect.DeepEqual(im.UsedBy, w) {
			t.Errorf("image list: %s used by %v, want %v", im.Name, im.UsedBy, w)
		}
	}
	for name, w := range want {
		im, err := td.daemon.images.get(ctx, name)
		if err != nil || !reflect.DeepEqual(im.UsedBy, w) {
			t.Errorf("image show %s: used by %v (%v), want %v", name, im.UsedBy, err, w)
		}
	}
	err = td.daemon.images.delete(ctx, "extra")
	if err == nil || !strings.Contains(err.Error(), "is used by c-three") {
		t.Fatalf("deleting an image one VM uses: %v; want a refusal naming c-three", err)
	}
	if err := td.deleteVM(ctx, "c-three", true); err != nil {
		t.Fatal(err)
	}
	if err := td.daemon.images.delete(ctx, "extra"); err != nil {
		t.Fatalf("deleting the unused image: %v", err)
	}
	if im, err := td.daemon.images.get(ctx, DefaultImageName); err != nil || !reflect.DeepEqual(im.UsedBy, want[DefaultImageName]) {
		t.Errorf("default image after deleting extra: %+v, %v", im, err)
	}
	if _, err := td.store.GetImage(ctx, "extra"); err == nil {
		t.Error("extra's record outlived its delete")
	}
}

// TestGeneratedNamesAvoidTakenOnes: with a word list that makes one name,
// a second create without a name gets a numbered one instead of failing
// on the first VM's name.
func TestGeneratedNamesAvoidTakenOnes(t *testing.T) {
	td := newTestDaemon(t)
	gen, err := namegen.Parse(strings.NewReader("[adjectives]\ncalm\n[nouns]\notter\n"), "words")
	if err != nil {
		t.Fatal(err)
	}
	td.namegen = gen
	ctx := context.Background()
	var names []string
	for i := 0; i < 3; i++ {
		vm, err := td.createVM(ctx, api.CreateVMRequest{NoWait: true, DiskSize: 1 << 30}, api.NopReporter{})
		if err != nil {
			t.Fatalf("create %d without a name: %v", i+1, err)
		}
		names = append(names, vm.Name)
	}
	if names[0] != "calm-otter" || names[1] == names[0] || names[2] == names[1] || names[2] == names[0] {
		t.Errorf("generated names %v; want calm-otter then distinct numbered ones", names)
	}
}
