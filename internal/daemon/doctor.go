package daemon

import (
	"context"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/dns"
	"github.com/bangerdev/banger/internal/preflight"
	"github.com/bangerdev/banger/internal/vmm"
)

// handleDoctor reports every host check banger depends on. A check is "ok"
// when the selected setup works; optional parts that are absent but not
// needed (firecracker on a qemu host) are ok with a detail saying so.
func (o *observer) doctor(ctx context.Context) []api.DoctorCheck {
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
	if o.vmm.err != nil {
		add("vmm", "driver", false, o.vmm.err.Error())
	} else {
		add("vmm", "driver", true, o.vmm.name+": "+o.vmm.why)
	}
	fromResults("vmm", o.facts.Checker().Report(preflight.ForVMStart(o.vmm.name)...))
	if o.vmm.name != "firecracker" {
		fc := o.bundle.Firecracker
		if fc == "" {
			add("vmm", "firecracker", true, "not in the bundle or config (optional here: using "+o.vmm.name+")")
		} else {
			add("vmm", "firecracker", true, fc+" (unused: "+o.vmm.why+")")
		}
	}

	if o.bundleErr != nil {
		add("bundle", "runtime dir", false, o.bundleErr.Error())
	} else {
		add("bundle", "runtime dir", true, o.bundle.Dir+" ("+o.bundle.Layout+")")
		missing := o.bundle.Missing()
		add("bundle", "contents", len(missing) == 0, orNone(strings.Join(missing, ", "), "complete"))
		add("bundle", "kernel", fileExists(o.kernel), o.kernel)
	}

	rep := o.storage.Probe(o.vmm.name, o.layout.VMsDir)
	add("storage", "overlay", true, strings.ReplaceAll(rep.Describe(), "\n", "; "))
	fromResults("storage", o.facts.Checker().Report(preflight.ForDiskResize()...))

	if o.fwErr != nil {
		add("network", "firewall", false, o.fwErr.Error())
	} else if o.fw != nil {
		add("network", "firewall", true, o.fw.Backend())
	}
	fromResults("network", o.facts.Checker().Report(natNeeds(o.facts)...))

	switch {
	case o.dnsMode == "none":
		add("dns", "publisher", true, "disabled (dns = \"none\")")
	case o.publisher == nil:
		add("dns", "publisher", false, "the built-in .vm server did not start; see the daemon log")
	default:
		add("dns", "publisher", true, o.publisher.Name())
	}
	add("dns", "host resolver", true, dns.HostResolverAdvice(ctx, o.gateway))
	fromResults("ssh", o.facts.Checker().Report(preflight.ForSSH()...))
	return out
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
