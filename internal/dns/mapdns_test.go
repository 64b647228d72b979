package dns

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bangerdev/banger/internal/execx"
)

func TestMapdnsKeepsForeignEntries(t *testing.T) {
	file := filepath.Join(t.TempDir(), "records.json")
	if err := os.WriteFile(file, []byte(`{"other.example.": {"AAAA": "2001:db8::1", "TXT": ["x"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	m := NewMapdns(file, "", "")
	if err := m.Publish("web", netip.MustParseAddr("172.30.0.5")); err != nil {
		t.Fatal(err)
	}
	recs, err := readRecords(file)
	var txt bytes.Buffer
	if err == nil {
		err = json.Compact(&txt, recs["other.example."]["TXT"])
	}
	if err != nil || len(recs) != 2 || txt.String() != `["x"]` {
		t.Fatalf("records = %v, %v", recs, err)
	}
	if err := os.WriteFile(file, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Publish("web", netip.MustParseAddr("172.30.0.5")); err == nil {
		t.Fatal("a corrupt data file was overwritten")
	}
}

func TestMapdnsDataFile(t *testing.T) {
	t.Setenv(MapdnsEnv, "")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if got := MapdnsDataFile(""); got != "/xdg/mapdns/records.json" {
		t.Errorf("default = %s", got)
	}
	t.Setenv(MapdnsEnv, "/env/records.json")
	if got := MapdnsDataFile(""); got != "/env/records.json" {
		t.Errorf("env = %s", got)
	}
	if got := MapdnsDataFile("/cfg.json"); got != "/cfg.json" {
		t.Errorf("configured = %s", got)
	}
}

const helperEnv = "BANGER_TEST_MAPDNS_HELPER"

// TestMapdnsHelperProcess is the second process of TestMapdnsConcurrent;
// run on its own it does nothing (a return, not a skip, so the skip
// summary of `make test` lists only tests that could not run).
func TestMapdnsHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	var file, prefix string
	if _, err := fmt.Sscanf(spec, "%s %s", &file, &prefix); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := NewMapdns(file, "", "").Publish(fmt.Sprintf("%s%d", prefix, i), netip.AddrFrom4([4]byte{172, 30, 1, byte(i + 1)})); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMapdnsConcurrent(t *testing.T) {
	file := filepath.Join(t.TempDir(), "records.json")
	var wg sync.WaitGroup
	errs := make(chan error, 128)
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := execx.Run(context.Background(), execx.Cmd{
				Args: []string{os.Args[0], "-test.run=^TestMapdnsHelperProcess$", "-test.count=1"},
				Env:  []string{fmt.Sprintf("%s=%s proc%d-", helperEnv, file, p)},
			})
			errs <- err
		}()
	}
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := NewMapdns(file, "", "") // a separate publisher per goroutine
			for i := range 5 {
				errs <- m.Publish(fmt.Sprintf("g%d-%d", g, i), netip.AddrFrom4([4]byte{172, 30, 2, byte(g*5 + i + 1)}))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := ReadMapdnsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2*20+16*5 {
		t.Fatalf("%d records survived, want %d", len(recs), 2*20+16*5)
	}
	if recs["proc1-19.vm."] != netip.MustParseAddr("172.30.1.20") || recs["g15-4.vm."] != netip.MustParseAddr("172.30.2.80") {
		t.Fatalf("records wrong: %v", recs)
	}
}
