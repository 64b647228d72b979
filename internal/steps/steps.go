// Package steps runs a long operation (create, clone, start, resume,
// snapshot restore, image build) as a named list of steps {name, label,
// do, undo}. One runner numbers the progress users see, registers each
// step's undo so that a failure half-way undoes what was done, last first,
// and times each step; the daemon's boot timings are read from its spans.
package steps

import (
	"context"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/revert"
)

// Step is one step of a long operation.
type Step struct {
	// Name names the step in timings and in the undo log ("reserve",
	// "tap"). Steps may share a name; their times add up.
	Name string
	// Label, when set, announces the step to the user as the next
	// numbered step ("[2/5] creating work disk and identity"). It is
	// called when the step starts, so it can name what earlier steps
	// made. A step without one runs as part of the numbered step before.
	Label func() string
	// Do does the step.
	Do func(ctx context.Context) error
	// Undo reverses Do. It is registered once Do succeeded and runs when
	// a later step fails; nil when there is nothing to undo.
	Undo func() error
}

// Fixed is a label that does not depend on earlier steps.
func Fixed(s string) func() string { return func() string { return s } }

// Span is when one step ran.
type Span struct {
	Name       string
	Start, End time.Time
}

// Runner runs the steps of one operation. The zero value is not usable;
// call New.
type Runner struct {
	rep   api.Reporter
	undo  *revert.Reverter
	start time.Time
	spans []Span
}

// New starts an operation now; rep receives its progress.
func New(rep api.Reporter) *Runner {
	return &Runner{rep: rep, undo: revert.New(), start: time.Now()}
}

// Start is when the operation started.
func (r *Runner) Start() time.Time { return r.start }

// Spans lists the steps run so far, in order.
func (r *Runner) Spans() []Span { return r.spans }

// Run runs the operation's steps in order (once per Runner), numbering the
// labelled ones from 1 to their count. When a step fails, the undo of
// every step done so far runs, last first, and Run returns the step's
// error. Once every step is done their undos are dropped.
func (r *Runner) Run(ctx context.Context, steps ...Step) error {
	total := 0
	for _, s := range steps {
		if s.Label != nil {
			total++
		}
	}
	n := 0
	for _, s := range steps {
		if s.Label != nil {
			n++
			r.rep.Step(n, total, s.Label())
		}
		span := Span{Name: s.Name, Start: time.Now()}
		err := s.Do(ctx)
		span.End = time.Now()
		r.spans = append(r.spans, span)
		if err != nil {
			_ = r.undo.Fail()
			return err
		}
		if s.Undo != nil {
			r.undo.Add("undo "+s.Name, s.Undo)
		}
	}
	r.undo.Success()
	return nil
}

// Lap records work done before the step list as a span called name, from
// the end of the previous span (or the start) to now: the checks an
// operation makes before it changes anything have no undo and no progress
// line, but their time counts.
func (r *Runner) Lap(name string) {
	from := r.start
	if n := len(r.spans); n > 0 {
		from = r.spans[n-1].End
	}
	r.spans = append(r.spans, Span{Name: name, Start: from, End: time.Now()})
}

// StartOf is when the first step called name started.
func (r *Runner) StartOf(name string) (time.Time, bool) {
	for _, s := range r.spans {
		if s.Name == name {
			return s.Start, true
		}
	}
	return time.Time{}, false
}

// TimeIn adds up, by name, the time of the steps that ended by until.
func (r *Runner) TimeIn(until time.Time) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, s := range r.spans {
		if !s.End.After(until) {
			out[s.Name] += s.End.Sub(s.Start)
		}
	}
	return out
}
