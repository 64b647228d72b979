package dns

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bangerdev/banger/internal/execx"
	"golang.org/x/sys/unix"
)

// MapdnsEnv overrides the mapdns data file (config key mapdns_data_file).
const MapdnsEnv = "BANGER_MAPDNS_DATA_FILE"

// MapdnsDataFile resolves the mapdns data file: configured (mapdns_data_file)
// when set, else $BANGER_MAPDNS_DATA_FILE, else mapdns's own default
// $XDG_DATA_HOME/mapdns/records.json (~/.local/share/mapdns/records.json).
func MapdnsDataFile(configured string) string {
	if configured != "" {
		return configured
	}
	if v := os.Getenv(MapdnsEnv); v != "" {
		return v
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "mapdns", "records.json")
}

// Mapdns publishes records into the JSON data file of a mapdns server: an
// object from FQDN to record types,
//
//	{"calm-otter.vm.": {"A": "172.30.0.2"}}
//
// Every change takes an exclusive flock on "<file>.lock", reads the file,
// edits it and replaces it atomically (temp file + rename), so concurrent
// banger processes never lose each other's records. Entries banger did not
// write are kept as they are.
//
// Start runs the mapdns program (Bin) unless one is already running (found
// by PidFile); after every change mapdns is sent SIGHUP to reload the file.
// Close stops mapdns only when Start started it. See docs/networking.md for
// the contract a mapdns program must follow.
type Mapdns struct {
	// DataFile is the JSON data file (see MapdnsDataFile).
	DataFile string
	// Bin is the mapdns program (config mapdns_bin); "mapdns" when empty.
	Bin string
	// PidFile holds mapdns's pid; "mapdns.pid" beside DataFile when empty.
	PidFile string
	// Listen is passed to a started mapdns as --listen; mapdns's own
	// default when invalid (zero).
	Listen netip.AddrPort
	// LogFile receives a started mapdns's output; "mapdns.log" beside
	// DataFile when empty.
	LogFile string
	// Zone is the zone names are published in; DefaultZone when empty.
	Zone string

	mu   sync.Mutex // guards proc
	proc proc
}

// NewMapdns returns a Mapdns publisher for dataFile (resolved with
// MapdnsDataFile), bin and pidFile (empty: "mapdns.pid" beside the data
// file).
func NewMapdns(dataFile, bin, pidFile string) *Mapdns {
	m := &Mapdns{DataFile: MapdnsDataFile(dataFile), Bin: bin, PidFile: pidFile, Zone: DefaultZone}
	if m.PidFile == "" {
		m.PidFile = filepath.Join(filepath.Dir(m.DataFile), "mapdns.pid")
	}
	return m
}

// Name implements Publisher.
func (m *Mapdns) Name() string { return "mapdns" }

// Check reports whether the mapdns program can be found.
func (m *Mapdns) Check() error {
	if !execx.Have(m.bin()) {
		return fmt.Errorf("mapdns program %q not found: install mapdns, set mapdns_bin, or use the builtin DNS server", m.bin())
	}
	return nil
}

func (m *Mapdns) bin() string {
	if m.Bin == "" {
		return "mapdns"
	}
	return m.Bin
}

func (m *Mapdns) fqdn(name string) (string, error) {
	zone := m.Zone
	if zone == "" {
		zone = DefaultZone
	}
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	n = strings.TrimSuffix(n, "."+strings.TrimSuffix(zone, "."))
	if n == "" || strings.ContainsAny(n, ". \t\\\"") || len(n) > 63 {
		return "", fmt.Errorf("dns name %q: want one label such as calm-otter", name)
	}
	return n + "." + strings.ToLower(zone), nil
}

// Publish implements Publisher.
func (m *Mapdns) Publish(name string, ip netip.Addr) error {
	fqdn, err := m.fqdn(name)
	if err != nil {
		return err
	}
	if !ip.Unmap().Is4() {
		return fmt.Errorf("dns record %s: address %v is not IPv4", fqdn, ip)
	}
	return m.update(func(recs map[string]map[string]json.RawMessage) {
		v, _ := json.Marshal(ip.Unmap().String())
		recs[fqdn] = map[string]json.RawMessage{"A": v}
	})
}

// Unpublish implements Publisher.
func (m *Mapdns) Unpublish(name string) error {
	fqdn, err := m.fqdn(name)
	if err != nil {
		return err
	}
	return m.update(func(recs map[string]map[string]json.RawMessage) { delete(recs, fqdn) })
}

// Records reads the A records of the data file (FQDN → address).
func (m *Mapdns) Records() (map[string]netip.Addr, error) {
	return ReadMapdnsFile(m.DataFile)
}

// ReadMapdnsFile reads the A records of a mapdns data file; a missing file
// has none.
func ReadMapdnsFile(path string) (map[string]netip.Addr, error) {
	recs, err := readRecords(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]netip.Addr, len(recs))
	for name, types := range recs {
		var s string
		if raw, ok := types["A"]; ok && json.Unmarshal(raw, &s) == nil {
			if ip, err := netip.ParseAddr(s); err == nil {
				out[name] = ip
			}
		}
	}
	return out, nil
}

func readRecords(path string) (map[string]map[string]json.RawMessage, error) {
	recs := map[string]map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return recs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read mapdns data file: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return recs, nil
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("parse mapdns data file %s: %w: fix or remove the file", path, err)
	}
	return recs, nil
}

// update applies edit to the data file under the lock, then signals mapdns.
func (m *Mapdns) update(edit func(map[string]map[string]json.RawMessage)) error {
	if err := m.rewrite(edit); err != nil {
		return err
	}
	return m.reload()
}

// rewrite applies edit to the data file under the lock and replaces the file
// atomically.
func (m *Mapdns) rewrite(edit func(map[string]map[string]json.RawMessage)) error {
	dir := filepath.Dir(m.DataFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create mapdns data dir: %w", err)
	}
	lock, err := os.OpenFile(m.DataFile+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open mapdns lock file: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock mapdns data file: %w", err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)

	recs, err := readRecords(m.DataFile)
	if err != nil {
		return err
	}
	edit(recs)
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".records-*.json")
	if err != nil {
		return fmt.Errorf("write mapdns data file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), m.DataFile)
	}
	if err != nil {
		return fmt.Errorf("write mapdns data file %s: %w", m.DataFile, err)
	}
	return nil
}
