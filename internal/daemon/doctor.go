package daemon

import (
	"net/http"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/dns"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/preflight"
	"github.com/bangerdev/banger/internal/vmm"
)

// handleDoctor reports every host check banger depends on. A check is "ok"
// when the selected setup works; optional parts that are absent but not
// needed (firecracker on a qemu host) are ok with a detail saying so.
func (d *Daemon) handleDoctor(w http.ResponseWriter, r *http.Request) {
	var out []api.DoctorCheck
	add := func(area, name string, ok bool, detail string) {
		out = append(out, api.DoctorCheck{Area: area, Name: name, OK: ok, Detail: detail})
	}
	fromResults := func(area string, rs []preflight.Result) {
		for _, res := range rs {
			detail := res.Detail
			if !res.OK {
				detail = res.Line()
			}
			add(area, res.Name, res.OK, detail)
		}
	}

	kvmOK, kvmWhy := vmm.KVMUsable()
	add("vmm", "kvm", true, map[bool]string{true: "usable", false: kvmWhy}[kvmOK])
	if d.driverErr != nil {
		add("vmm", "driver", false, d.driverErr.Error())
	} else {
		add("vmm", "driver", true, d.driver+": "+d.driverWhy)
	}
	fromResults("vmm", d.host.Checker().Report(preflight.ForVMStart(d.driver)...))
	if d.driver != "firecracker" {
		fc := d.bundle.Firecracker
		if fc == "" {
			add("vmm", "firecracker", true, "not in the bundle or config (optional here: using "+d.driver+")")
		} else {
			add("vmm", "firecracker", true, fc+" (unused: "+d.driverWhy+")")
		}
	}

	if d.bundleErr != nil {
		add("bundle", "runtime dir", false, d.bundleErr.Error())
	} else {
		add("bundle", "runtime dir", true, d.bundle.Dir+" ("+d.bundle.Layout+")")
		missing := d.bundle.Missing()
		add("bundle", "contents", len(missing) == 0, orNone(strings.Join(missing, ", "), "complete"))
		add("bundle", "kernel", fileExists(d.bootKernel()), d.bootKernel())
	}

	rep := d.storage.Probe(d.driver, d.layout.VMsDir)
	add("storage", "overlay", true, strings.ReplaceAll(rep.Describe(), "\n", "; "))
	fromResults("storage", d.host.Checker().Report(preflight.ForDiskResize()...))

	if d.fwErr != nil {
		add("network", "firewall", false, d.fwErr.Error())
	} else if d.fw != nil {
		add("network", "firewall", true, d.fw.Backend())
	}
	fromResults("network", d.host.Checker().Report(d.natNeeds()...))

	switch {
	case d.cfg.DNS == "none":
		add("dns", "publisher", true, "disabled (dns = \"none\")")
	case d.publisher == nil:
		add("dns", "publisher", false, "the built-in .vm server did not start; see the daemon log")
	default:
		add("dns", "publisher", true, d.publisher.Name())
	}
	add("dns", "host resolver", true, dns.HostResolverAdvice(r.Context(), network.Gateway(d.subnet)))
	fromResults("ssh", d.host.Checker().Report(preflight.ForSSH()...))
	writeJSON(w, http.StatusOK, out)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return "missing: " + s
}

func fileExists(p string) bool {
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}
