package daemon

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/sshclient"
)

// readyLine is what the guest writes to its console once sshd accepts
// connections with the pinned host key (banger-ready.service, see
// docs/guest-contract.md).
const readyLine = "banger-ready"

// noHoldArg on the kernel command line tells banger-hold.service not to
// wait for the release datagram (a start with --no-wait sends none).
const noHoldArg = "banger.hold=0"

// bootReleasePort is the guest's UDP port for the host's "SSH verified"
// datagram (banger-release.socket in docs/guest-contract.md).
const bootReleasePort = 7022

// releaseBoot tells the guest listening at addr that its SSH has been
// verified, so the rest of its boot, held by banger-hold.service so it
// does not compete with the handshake, starts now rather than after the
// unit's 10 s timeout. One datagram, best effort: a guest without the unit
// ignores it, and a lost one costs only that timeout.
func releaseBoot(addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("verified\n"))
	return err
}

// consolePoll is how often the console log is read for the ready line: the
// most the ready signal can wait to be noticed.
const consolePoll = 5 * time.Millisecond

// Ready signal sources recorded in model.BootTimings.Signal.
const (
	signalConsole = "console"
	signalPoll    = "poll"
	// signalResume: a resumed guest, ready once its clock is set over SSH.
	signalResume = "resume"
)

// waitGuestReady waits until v's sshd proves the pinned host key and
// accepts the user's key (sshclient.WaitReady) and returns when the guest
// became ready and how that was detected. One probe loop runs from the
// VMM start; the guest's console line cuts its backoff short, so the
// check starts the moment sshd is up and only one handshake is ever in
// flight (a second one would halve the guest's CPU for each). The probe is
// what counts: the line alone never makes a VM ready.
func (g *guests) waitGuestReady(ctx context.Context, v *model.VM) (time.Time, string, error) {
	ctx, cancel := context.WithTimeout(ctx, sshReadyTimeout)
	defer cancel()
	kick := make(chan struct{})
	var seen atomic.Pointer[time.Time]
	go func() {
		if at, err := watchConsole(ctx, v.ConsoleLog(), readyLine); err == nil {
			seen.Store(&at)
			close(kick)
		}
	}()
	err := sshclient.WaitReady(ctx, g.sshTarget(v), kick)
	if at := seen.Load(); at != nil {
		return *at, signalConsole, err
	}
	// The probe can beat the console poll (on KVM both take a few
	// milliseconds): a line already written still counts, with no slack.
	if consoleHasLine(v.ConsoleLog(), readyLine) {
		return time.Now(), signalConsole, err
	}
	return time.Now(), signalPoll, err
}

// consoleHasLine reads the console log at path once and reports whether it
// holds line (see watchConsole).
func consoleHasLine(path, line string) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one pass over what is there, no waiting
	_, err := watchConsole(ctx, path, line)
	return err == nil
}

// watchConsole reads the console log at path as it grows until a line
// equal to line appears (ignoring a trailing carriage return), and returns
// when it was seen. The file may not exist yet.
func watchConsole(ctx context.Context, path, line string) (time.Time, error) {
	want := []byte(line)
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	var pending []byte
	buf := make([]byte, 64<<10)
	tick := time.NewTicker(consolePoll)
	defer tick.Stop()
	for {
		if f == nil {
			f, _ = os.Open(path)
		}
		for f != nil {
			n, err := f.Read(buf)
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				if bytes.Equal(bytes.TrimRight(pending[:i], "\r"), want) {
					return time.Now(), nil
				}
				pending = pending[i+1:]
			}
			if n == 0 || err == io.EOF {
				break
			}
			if err != nil {
				return time.Time{}, err
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// bootClock holds the instants of one start: the request, the VMM start
// and spawn, the guest's ready signal and the verified SSH check, and how
// the host time before the VMM splits into steps (microseconds by step
// name). boot.clock fills it from the runner's spans.
type bootClock struct {
	start, vmm, spawned, ready, verified time.Time
	signal                               string
	steps                                map[string]int64
}

// timings splits the start that ends at end. Without a ready signal (no
// wait) guest and ready time are zero and the total is the host time.
func (c *bootClock) timings(end time.Time) model.BootTimings {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	if c.vmm.IsZero() {
		c.vmm = end
	}
	t := model.BootTimings{HostMS: ms(c.vmm.Sub(c.start)), Signal: c.signal}
	if len(c.steps) > 0 {
		t.HostSteps = map[string]int64{}
		for k, us := range c.steps {
			t.HostSteps[k] = (us + 500) / 1000
		}
	}
	if !c.spawned.IsZero() {
		t.VMMStartMS = ms(c.spawned.Sub(c.vmm))
	}
	if !c.ready.IsZero() {
		t.GuestMS, t.ReadyMS = ms(c.ready.Sub(c.vmm)), ms(end.Sub(c.ready))
		if !c.verified.IsZero() {
			t.HandshakeMS = ms(c.verified.Sub(c.ready))
		}
		t.TotalMS = ms(end.Sub(c.start))
	} else {
		t.TotalMS = t.HostMS
	}
	return t
}
