package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/vmm"
)

// The tests in this file write every field of a record with a distinct,
// non-zero value and read every field back, through every write path
// (insert, update, upsert) and every read path (get, list). A column left
// out of a statement, or two columns swapped, fails them.

// fieldDiffs lists the fields of two structs of the same type that differ,
// comparing time.Time fields with Equal.
func fieldDiffs(got, want any) []string {
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	var out []string
	for i := 0; i < g.NumField(); i++ {
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if gt, ok := gf.(time.Time); ok {
			if !gt.Equal(wf.(time.Time)) {
				out = append(out, g.Type().Field(i).Name)
			}
			continue
		}
		if !reflect.DeepEqual(gf, wf) {
			out = append(out, g.Type().Field(i).Name)
		}
	}
	return out
}

// zeroFields lists the fields of a struct that hold their zero value; a
// fixture with one would not prove that the field is stored.
func zeroFields(v any) []string {
	rv := reflect.ValueOf(v).Elem()
	var out []string
	for i := 0; i < rv.NumField(); i++ {
		if rv.Field(i).IsZero() {
			out = append(out, rv.Type().Field(i).Name)
		}
	}
	return out
}

var (
	created1 = time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC)
	created2 = time.Date(2025, 6, 2, 11, 30, 0, 987654321, time.UTC)
	started1 = time.Date(2024, 3, 1, 10, 5, 7, 1000, time.UTC)
	started2 = time.Date(2025, 7, 3, 12, 0, 9, 2000, time.UTC)
)

// fullVM returns a VM whose fields all differ from each other and from
// zero, so a swap of any two columns shows.
func fullVM() *model.VM {
	return &model.VM{
		Name: "calm-otter", Image: "img-a", State: "running", VCPUs: 3, MemoryMiB: 1536,
		DiskSize: 9 << 30, NAT: true, IP: "172.30.0.7", MAC: "06:00:ac:1e:00:07", Tap: "bgtap7",
		Driver: "qemu", Dir: "/state/vms/calm-otter", OverlayKind: "qcow2",
		OverlayPath: "/state/vms/calm-otter/system.qcow2", OverlayFormat: "qcow2-fmt",
		OverlayDevice: "/dev/mapper/banger-calm-otter", WorkDisk: "/state/vms/calm-otter/work.ext4",
		Kernel: "/rt/vmlinux-a", Initrd: "/rt/initrd-a", BaseImage: "/rt/rootfs-a.ext4",
		HostKeyPub: "ssh-ed25519 AAAA-host-a", Handle: &vmm.Handle{Driver: "qemu", PID: 41, StartTime: 7, ControlSocket: "/s/a"},
		LastError: "previous boot failed", CreatedAt: created1, StartedAt: started1,
		SavedState: &model.SavedState{Dir: "/s/state", Driver: "qemu", Size: 1, SavedAt: created1}, ResumeOnStart: true,
		BootTimings: &model.BootTimings{TotalMS: 11, HostSteps: map[string]int64{"tap": 3}},
	}
}

func putImages(t *testing.T, s *Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.PutImage(context.Background(), &Image{Name: n, Path: "/" + n + ".ext4", CreatedAt: created1}); err != nil {
			t.Fatal(err)
		}
	}
}

// getAndList reads the record called name through both read paths: the
// single-record getter and the listing.
func getAndList[T any](t *testing.T, name string, get func(context.Context, string) (T, error),
	list func(context.Context) ([]T, error), nameOf func(T) string) (T, T) {
	t.Helper()
	ctx := context.Background()
	got, err := get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	all, err := list(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all {
		if nameOf(v) == name {
			return got, v
		}
	}
	t.Fatalf("listing lacks %s", name)
	return got, got
}

func getAndListVM(t *testing.T, s *Store, name string) (*model.VM, *model.VM) {
	t.Helper()
	return getAndList(t, name, s.GetVM, s.ListVMs, func(v *model.VM) string { return v.Name })
}

func TestVMInsertReadsBackEveryField(t *testing.T) {
	want := fullVM()
	if z := zeroFields(want); len(z) > 0 {
		t.Fatalf("fixture leaves fields zero: %v; give every field a distinct value", z)
	}
	s := openTemp(t)
	putImages(t, s, "img-a")
	if err := s.InsertVM(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	got, listed := getAndListVM(t, s, want.Name)
	if d := fieldDiffs(got, want); len(d) > 0 {
		t.Errorf("GetVM after InsertVM differs in %v:\ngot  %+v\nwant %+v", d, got, want)
	}
	if d := fieldDiffs(listed, want); len(d) > 0 {
		t.Errorf("ListVMs after InsertVM differs in %v", d)
	}
}

// vmUpdates changes one field each to a value distinct from fullVM's and
// from every other field's.
var vmUpdates = []struct {
	field string
	set   func(*model.VM)
}{
	{"Image", func(v *model.VM) { v.Image = "img-b" }},
	{"State", func(v *model.VM) { v.State = "stopped" }},
	{"VCPUs", func(v *model.VM) { v.VCPUs = 5 }},
	{"MemoryMiB", func(v *model.VM) { v.MemoryMiB = 2560 }},
	{"DiskSize", func(v *model.VM) { v.DiskSize = 11 << 30 }},
	{"NAT", func(v *model.VM) { v.NAT = false }},
	{"MAC", func(v *model.VM) { v.MAC = "06:00:ac:1e:00:09" }},
	{"Tap", func(v *model.VM) { v.Tap = "bgtap9" }},
	{"Driver", func(v *model.VM) { v.Driver = "firecracker" }},
	{"Dir", func(v *model.VM) { v.Dir = "/state2/vms/calm-otter" }},
	{"OverlayKind", func(v *model.VM) { v.OverlayKind = "dm-snapshot" }},
	{"OverlayPath", func(v *model.VM) { v.OverlayPath = "/state/vms/calm-otter/cow.img" }},
	{"OverlayFormat", func(v *model.VM) { v.OverlayFormat = "raw-fmt" }},
	{"OverlayDevice", func(v *model.VM) { v.OverlayDevice = "/dev/mapper/banger-other" }},
	{"WorkDisk", func(v *model.VM) { v.WorkDisk = "/state/vms/calm-otter/work2.ext4" }},
	{"Kernel", func(v *model.VM) { v.Kernel = "/rt/vmlinux-b" }},
	{"Initrd", func(v *model.VM) { v.Initrd = "/rt/initrd-b" }},
	{"BaseImage", func(v *model.VM) { v.BaseImage = "/rt/rootfs-b.ext4" }},
	{"HostKeyPub", func(v *model.VM) { v.HostKeyPub = "ssh-ed25519 AAAA-host-b" }},
	{"Handle", func(v *model.VM) { v.Handle = &vmm.Handle{Driver: "firecracker", PID: 42} }},
	{"LastError", func(v *model.VM) { v.LastError = "" }},
	{"StartedAt", func(v *model.VM) { v.StartedAt = started2 }},
	{"SavedState", func(v *model.VM) { v.SavedState = &model.SavedState{Dir: "/s/state2", Driver: "firecracker", Size: 2} }},
	{"ResumeOnStart", func(v *model.VM) { v.ResumeOnStart = false }},
	{"BootTimings", func(v *model.VM) { v.BootTimings = &model.BootTimings{TotalMS: 22} }},
}

// vmFixed are the fields UpdateVM keeps: the name is the key, the address
// lives in its own table, the creation time never changes.
var vmFixed = map[string]func(*model.VM){
	"Name":      func(v *model.VM) {},
	"IP":        func(v *model.VM) { v.IP = "172.30.0.99" },
	"CreatedAt": func(v *model.VM) { v.CreatedAt = created2 },
}

func TestVMUpdateReadsBackEveryField(t *testing.T) {
	// Every field is either updated or documented as fixed.
	covered := map[string]bool{}
	for _, u := range vmUpdates {
		covered[u.field] = true
	}
	for f := range vmFixed {
		covered[f] = true
	}
	for _, f := range reflect.VisibleFields(reflect.TypeOf(model.VM{})) {
		if !covered[f.Name] {
			t.Errorf("VM.%s is neither in vmUpdates nor in vmFixed", f.Name)
		}
	}

	// One field at a time: the changed field is stored, every other field
	// keeps its value.
	for _, u := range vmUpdates {
		t.Run(u.field, func(t *testing.T) {
			s := openTemp(t)
			putImages(t, s, "img-a", "img-b")
			ctx := context.Background()
			if err := s.InsertVM(ctx, fullVM()); err != nil {
				t.Fatal(err)
			}
			want := fullVM()
			u.set(want)
			if !reflect.DeepEqual(fieldDiffs(want, fullVM()), []string{u.field}) {
				t.Fatalf("update of %s changes %v", u.field, fieldDiffs(want, fullVM()))
			}
			if err := s.UpdateVM(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, listed := getAndListVM(t, s, want.Name)
			if d := fieldDiffs(got, want); len(d) > 0 {
				t.Errorf("GetVM after UpdateVM of %s differs in %v:\ngot  %+v\nwant %+v", u.field, d, got, want)
			}
			if d := fieldDiffs(listed, want); len(d) > 0 {
				t.Errorf("ListVMs after UpdateVM of %s differs in %v", u.field, d)
			}
		})
	}

	// All fields at once, including the fixed ones, which must not move.
	s := openTemp(t)
	putImages(t, s, "img-a", "img-b")
	ctx := context.Background()
	if err := s.InsertVM(ctx, fullVM()); err != nil {
		t.Fatal(err)
	}
	upd := fullVM()
	for _, u := range vmUpdates {
		u.set(upd)
	}
	for _, set := range vmFixed {
		set(upd)
	}
	if err := s.UpdateVM(ctx, upd); err != nil {
		t.Fatal(err)
	}
	want := *upd
	want.IP, want.CreatedAt = fullVM().IP, fullVM().CreatedAt
	got, _ := getAndListVM(t, s, want.Name)
	if d := fieldDiffs(got, &want); len(d) > 0 {
		t.Errorf("GetVM after a full UpdateVM differs in %v:\ngot  %+v\nwant %+v", d, got, &want)
	}
}

func fullImage() *Image {
	return &Image{
		Name: "debian-dev", Path: "/state/images/debian-dev.ext4", Kernel: "/rt/vmlinux-a",
		Initrd: "/rt/initrd-a", Modules: "/rt/modules-a", Packages: []string{"git", "curl", "make"},
		Size: 3 << 30, Builtin: true, CreatedAt: created1,
	}
}

func getAndListImage(t *testing.T, s *Store, name string) (*Image, *Image) {
	t.Helper()
	return getAndList(t, name, s.GetImage, s.ListImages, func(im *Image) string { return im.Name })
}

func TestImageWritesReadBackEveryField(t *testing.T) {
	want := fullImage()
	if z := zeroFields(want); len(z) > 0 {
		t.Fatalf("fixture leaves fields zero: %v", z)
	}
	writers := map[string]func(*Store, *Image) error{
		"InsertImage": func(s *Store, im *Image) error { return s.InsertImage(context.Background(), im) },
		"PutImage":    func(s *Store, im *Image) error { return s.PutImage(context.Background(), im) },
	}
	for name, write := range writers {
		s := openTemp(t)
		if err := write(s, want); err != nil {
			t.Fatal(err)
		}
		got, listed := getAndListImage(t, s, want.Name)
		if d := fieldDiffs(got, want); len(d) > 0 {
			t.Errorf("GetImage after %s differs in %v:\ngot  %+v\nwant %+v", name, d, got, want)
		}
		if d := fieldDiffs(listed, want); len(d) > 0 {
			t.Errorf("ListImages after %s differs in %v", name, d)
		}
	}

	// PutImage over an existing record replaces every field but the name
	// and the creation time.
	s := openTemp(t)
	if err := s.PutImage(context.Background(), fullImage()); err != nil {
		t.Fatal(err)
	}
	upd := &Image{
		Name: "debian-dev", Path: "/state/images/debian-dev-2.ext4", Kernel: "/rt/vmlinux-b",
		Initrd: "/rt/initrd-b", Modules: "/rt/modules-b", Packages: []string{"vim"},
		Size: 4 << 30, Builtin: false, CreatedAt: created2,
	}
	if d := fieldDiffs(upd, fullImage()); len(d) != reflect.TypeOf(Image{}).NumField()-1 {
		t.Fatalf("update fixture changes only %v", d)
	}
	if err := s.PutImage(context.Background(), upd); err != nil {
		t.Fatal(err)
	}
	wantUpd := *upd
	wantUpd.CreatedAt = created1
	got, listed := getAndListImage(t, s, upd.Name)
	if d := fieldDiffs(got, &wantUpd); len(d) > 0 {
		t.Errorf("GetImage after PutImage over a record differs in %v:\ngot  %+v\nwant %+v", d, got, &wantUpd)
	}
	if d := fieldDiffs(listed, &wantUpd); len(d) > 0 {
		t.Errorf("ListImages after PutImage over a record differs in %v", d)
	}
}
