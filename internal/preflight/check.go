package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
)

// Checker runs needs against a host. Every probe is a field so tests can
// simulate a host with missing tools; NewChecker fills in the real ones.
type Checker struct {
	// LookPath finds a program (exec.LookPath).
	LookPath func(name string) (string, error)
	// IsRoot reports root privilege (effective uid 0).
	IsRoot func() bool
	// Stat stats a file (os.Stat).
	Stat func(path string) (fs.FileInfo, error)
	// OpenDevice checks that a device can be opened, read-write when write.
	OpenDevice func(path string, write bool) error
	// KVM checks that hardware virtualization is usable (KVMUsable).
	KVM func() error
	// NetPrivileged checks the right to change the VM network
	// (NetPrivileged).
	NetPrivileged func() error
}

// NewChecker returns a Checker that probes the real host.
func NewChecker() *Checker {
	return &Checker{
		LookPath:   exec.LookPath,
		IsRoot:     func() bool { return os.Geteuid() == 0 },
		Stat:       os.Stat,
		OpenDevice: openDevice,
		KVM:        KVMUsable,
		NetPrivileged: func() error {
			return NetPrivileged(os.Geteuid())
		},
	}
}

// Result is the outcome of one need, a row of `banger doctor`.
type Result struct {
	// Name is what was checked ("qemu-img", "/dev/kvm", ...).
	Name string
	// Kind is the need's kind.
	Kind Kind
	// Purpose is why it is needed.
	Purpose string
	// OK reports whether the need is met.
	OK bool
	// Detail is what was found (a path) when OK, or what is wrong.
	Detail string
	// Fix says how to install or fix it; empty when OK.
	Fix string
}

// MissingError lists every unmet need of one command.
type MissingError struct {
	// Action is the command, e.g. "vm start".
	Action string
	// Missing holds the failed results.
	Missing []Result
}

// Error renders one line per missing item with how to get it.
func (e *MissingError) Error() string {
	var b strings.Builder
	if len(e.Missing) == 1 {
		fmt.Fprintf(&b, "%s needs 1 thing that is missing:", e.Action)
	} else {
		fmt.Fprintf(&b, "%s needs %d things that are missing:", e.Action, len(e.Missing))
	}
	for _, r := range e.Missing {
		b.WriteString("\n  - ")
		b.WriteString(r.Line())
	}
	return b.String()
}

// Line renders a failed result as "name (purpose): detail; fix".
func (r Result) Line() string {
	s := r.Name
	if r.Purpose != "" {
		s += " (" + r.Purpose + ")"
	}
	var parts []string
	if r.Detail != "" && !(r.Kind == KindProgram && r.Fix != "") && r.Kind != KindAnyOf {
		parts = append(parts, r.Detail)
	}
	if r.Fix != "" {
		parts = append(parts, r.Fix)
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, "; ")
	}
	return s
}

// Check runs needs with the real host probes; see Checker.Check.
func Check(action string, needs ...Need) error { return NewChecker().Check(action, needs...) }

// Check runs every need and returns nil, or a *MissingError naming every
// unmet need of action and how to fix it.
func (c *Checker) Check(action string, needs ...Need) error {
	var missing []Result
	for _, r := range c.Report(needs...) {
		if !r.OK {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &MissingError{Action: action, Missing: missing}
}

// Report runs every need and returns one result per need, in order.
// Duplicate needs (same kind and name) are reported once.
func (c *Checker) Report(needs ...Need) []Result {
	seen := map[string]bool{}
	var out []Result
	for _, n := range needs {
		key := fmt.Sprintf("%d\x00%s\x00%v", n.Kind, n.Name, n.Dir)
		if seen[key] && n.Kind != KindFunc {
			continue
		}
		seen[key] = true
		out = append(out, c.run(n))
	}
	return out
}

// run checks one need.
func (c *Checker) run(n Need) Result {
	r := Result{Name: n.Name, Kind: n.Kind, Purpose: n.Purpose}
	err := c.probe(n, &r)
	if err == nil {
		r.OK = true
		return r
	}
	r.Detail = err.Error()
	if n.Kind == KindAnyOf && len(n.Alternatives) > 0 {
		r.Fix = installHint(n.Alternatives[0])
	} else {
		r.Fix = installHint(n)
	}
	return r
}

// probe performs the check; on success it may set r.Detail to what it found.
func (c *Checker) probe(n Need, r *Result) error {
	switch n.Kind {
	case KindProgram:
		p, err := c.LookPath(n.Name)
		if err != nil {
			return errors.New("not found in PATH")
		}
		r.Detail = p
	case KindFile:
		fi, err := c.Stat(n.Name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return errors.New("not found")
		case err != nil:
			return err
		case n.Dir && !fi.IsDir():
			return errors.New("not a directory")
		case !n.Dir && fi.IsDir():
			return errors.New("is a directory, not a file")
		}
	case KindDevice:
		if err := c.OpenDevice(n.Name, n.Write); err != nil {
			return err
		}
	case KindRoot:
		if !c.IsRoot() {
			return errors.New("not running as root")
		}
	case KindKVM:
		check := c.KVM
		if n.Func != nil {
			check = n.Func
		}
		if err := check(); err != nil {
			return err
		}
		r.Detail = "usable"
	case KindNetPrivilege:
		check := c.NetPrivileged
		if check == nil {
			check = func() error { return NetPrivileged(os.Geteuid()) }
		}
		if err := check(); err != nil {
			return err
		}
	case KindFunc:
		if n.Func == nil {
			return errors.New("no check defined")
		}
		return n.Func()
	case KindAnyOf:
		var tried []string
		for _, alt := range n.Alternatives {
			ar := c.run(alt)
			if ar.OK {
				r.Detail = ar.Name
				if ar.Detail != "" {
					r.Detail += ": " + ar.Detail
				}
				return nil
			}
			tried = append(tried, ar.Name+": "+ar.Detail)
		}
		return errors.New(strings.Join(tried, ", "))
	default:
		return fmt.Errorf("unknown need kind %d", n.Kind)
	}
	return nil
}

// openDevice opens path to prove access, read-write when write.
func openDevice(path string, write bool) error {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return errors.New("device not found")
		case errors.Is(err, fs.ErrPermission):
			if write {
				return errors.New("not writable by this user")
			}
			return errors.New("not readable by this user")
		}
		return err
	}
	return f.Close()
}
