package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fixtureV1 is a state database written by the banger of schema version 1
// (see testdata/upgrade/README.md). It is never regenerated: a later schema
// must open, migrate and keep everything in it.
const fixtureV1 = "../../testdata/upgrade/v1/state.db"

// copyFixture copies the fixture database into a fresh directory and
// returns the copy's path.
func copyFixture(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestV1DatabaseOpensMigratesAndKeepsEveryRecord(t *testing.T) {
	ctx := context.Background()
	path := copyFixture(t, fixtureV1)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open v1 database: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version after open = %d, %v; want %d", v, err, len(migrations))
	}
	vms, err := s.ListVMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		image, state string
		vcpus, mem   int
		nat          bool
		lastErr      string
		running      bool
	}
	wants := map[string]want{
		"busy-heron":  {"tools", "running", 2, 1024, false, "", true},
		"calm-otter":  {"default", "running", 2, 1024, true, "", true},
		"quiet-wren":  {"default", "stopped", 1, 768, true, "", false},
		"broken-newt": {"default", "stopped", 2, 1024, false, "killed with KILL", false},
		"half-lynx":   {"default", "creating", 1, 512, false, "", false},
	}
	if len(vms) != len(wants) {
		t.Fatalf("%d VMs after upgrade, want %d", len(vms), len(wants))
	}
	ips, taps := map[string]bool{}, map[string]bool{}
	for _, v := range vms {
		w, ok := wants[v.Name]
		if !ok {
			t.Fatalf("unexpected VM %q", v.Name)
		}
		if v.Image != w.image || string(v.State) != w.state || v.VCPUs != w.vcpus || v.MemoryMiB != w.mem || v.NAT != w.nat || v.LastError != w.lastErr {
			t.Errorf("%s = image %s state %s vcpus %d mem %d nat %v last_error %q; want %+v",
				v.Name, v.Image, v.State, v.VCPUs, v.MemoryMiB, v.NAT, v.LastError, w)
		}
		if v.DiskSize != 1<<30 || v.IP == "" || v.MAC == "" || v.Tap == "" || v.CreatedAt.IsZero() ||
			!strings.HasSuffix(v.Dir, "/vms/"+v.Name) || !strings.HasSuffix(v.WorkDisk, "/work.ext4") || v.Kernel == "" || v.BaseImage == "" {
			t.Errorf("%s lost a field: %+v", v.Name, v)
		}
		if (v.Handle != nil) != w.running || v.StartedAt.IsZero() != (v.State == "creating") {
			t.Errorf("%s: handle %+v started %v; want running=%v", v.Name, v.Handle, v.StartedAt, w.running)
		}
		if v.State != "creating" && (v.OverlayPath == "" || v.OverlayFormat == "" || v.HostKeyPub == "") {
			t.Errorf("%s lost its overlay or host key: %+v", v.Name, v)
		}
		if ips[v.IP] || taps[v.Tap] {
			t.Errorf("%s: address %s or tap %s shared with another VM", v.Name, v.IP, v.Tap)
		}
		ips[v.IP], taps[v.Tap] = true, true
	}
	used, _ := s.UsedAddresses(ctx)
	if len(used) != len(wants) {
		t.Errorf("used addresses = %v; want one per VM", used)
	}
	imgs, err := s.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, im := range imgs {
		names = append(names, im.Name)
		switch im.Name {
		case "default":
			if !im.Builtin || im.Path == "" || im.Kernel == "" || im.CreatedAt.IsZero() {
				t.Errorf("default image = %+v", im)
			}
		case "tools":
			if im.Builtin || strings.Join(im.Packages, ",") != "jq,curl" || im.Size != 64<<10 || im.CreatedAt.IsZero() {
				t.Errorf("tools image = %+v", im)
			}
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "default,tools" {
		t.Fatalf("images after upgrade = %v", names)
	}

	// The migrated records are writable the way the daemon writes them.
	v, _ := s.GetVM(ctx, "quiet-wren")
	v.State, v.VCPUs = "running", 2
	if err := s.UpdateVM(ctx, v); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetVM(ctx, "quiet-wren"); got.State != "running" || got.VCPUs != 2 || got.MemoryMiB != 768 {
		t.Fatalf("update after upgrade read back %+v", got)
	}
	if err := s.DeleteVM(ctx, "busy-heron"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteImage(ctx, "tools"); err != nil {
		t.Fatalf("delete image after its last VM: %v", err)
	}
}

// newerFixture makes a copy of the v1 fixture that claims a schema version
// above this code's, in the given journal mode, and returns its path.
func newerFixture(t *testing.T, journal string) string {
	t.Helper()
	path := copyFixture(t, fixtureV1)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO schema_migrations(version) VALUES (` + strconv.Itoa(len(migrations)+1) + `), (` + strconv.Itoa(len(migrations)+7) + `)`,
		`CREATE TABLE from_the_future (x INTEGER)`,
		`PRAGMA journal_mode=` + journal,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

func TestNewerDatabaseIsRefusedAndNeverRewritten(t *testing.T) {
	for _, journal := range []string{"wal", "delete"} {
		t.Run(journal, func(t *testing.T) {
			path := newerFixture(t, journal)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			filesBefore := dirNames(t, filepath.Dir(path))
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("a database from a newer banger was opened")
			}
			msg := err.Error()
			for _, want := range []string{path, "newer", "upgrade banger"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, "move it aside") {
				t.Errorf("error %q tells the user to throw away a newer database", msg)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("refusing a newer database changed its bytes")
			}
			if got := dirNames(t, filepath.Dir(path)); strings.Join(got, ",") != strings.Join(filesBefore, ",") {
				t.Fatalf("files next to the database: %v, want %v", got, filesBefore)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
