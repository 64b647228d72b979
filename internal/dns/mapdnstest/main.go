// Command mapdnstest is a small mapdns-compatible DNS server for tests. It
// follows the contract in docs/networking.md: it serves the A records of the
// JSON data file
//
//	{"calm-otter.vm.": {"A": "172.30.0.2"}}
//
// (other record types are ignored), answers NXDOMAIN for unknown names,
// re-reads the file on SIGHUP and exits on SIGTERM or SIGINT.
//
//	mapdnstest --data-file FILE [--listen 127.0.0.1:0] [--pid-file FILE]
//
// It parses the file on its own rather than with internal/dns, so tests
// check banger against the documented format, not against itself.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	mdns "github.com/miekg/dns"
)

// records holds the served A records, replaced as a whole on reload.
type records struct {
	mu sync.RWMutex
	a  map[string]net.IP
}

func (r *records) load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var file map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &file); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	a := map[string]net.IP{}
	for name, types := range file {
		var s string
		if raw, ok := types["A"]; ok && json.Unmarshal(raw, &s) == nil {
			if ip := net.ParseIP(s).To4(); ip != nil {
				a[strings.ToLower(name)] = ip
			}
		}
	}
	r.mu.Lock()
	r.a = a
	r.mu.Unlock()
	return nil
}

// ServeDNS answers A queries from the records.
func (r *records) ServeDNS(w mdns.ResponseWriter, q *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) == 1 {
		name := strings.ToLower(q.Question[0].Name)
		r.mu.RLock()
		ip, ok := r.a[name]
		r.mu.RUnlock()
		switch {
		case !ok:
			m.Rcode = mdns.RcodeNameError
		case q.Question[0].Qtype == mdns.TypeA:
			m.Answer = append(m.Answer, &mdns.A{
				Hdr: mdns.RR_Header{Name: q.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 5},
				A:   ip,
			})
		}
	}
	_ = w.WriteMsg(m)
}

func main() {
	dataFile := flag.String("data-file", "", "JSON records file")
	listen := flag.String("listen", "127.0.0.1:0", "UDP address to serve on")
	pidFile := flag.String("pid-file", "", "write the pid here")
	flag.Parse()
	if *dataFile == "" {
		log.Fatal("mapdnstest: --data-file is required")
	}
	recs := &records{}
	if err := recs.load(*dataFile); err != nil {
		log.Fatalf("mapdnstest: %v", err)
	}
	// Handle signals before serving: a reload must never hit the default
	// SIGHUP action (exit).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)

	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatalf("mapdnstest: %v", err)
	}
	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Fatalf("mapdnstest: %v", err)
		}
		defer os.Remove(*pidFile)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: recs}
	go func() {
		if err := srv.ActivateAndServe(); err != nil {
			log.Printf("mapdnstest: serve: %v", err)
		}
	}()
	fmt.Printf("listening on %s\n", pc.LocalAddr())
	for s := range sigs {
		if s != syscall.SIGHUP {
			break
		}
		if err := recs.load(*dataFile); err != nil {
			log.Printf("mapdnstest: reload: %v", err)
		} else {
			log.Printf("mapdnstest: reloaded %s", *dataFile)
		}
	}
	_ = srv.Shutdown()
}
