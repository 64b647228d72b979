// Package revert keeps an undo list for multi-step host changes: each step
// that creates something registers how to remove it, and unless the whole
// operation succeeds the undo functions run in reverse order.
package revert

import (
	"errors"
	"log/slog"
)

// Reverter collects undo functions.
type Reverter struct {
	undo []step
	done bool
}

type step struct {
	name string
	fn   func() error
}

// New returns an empty Reverter. Use as:
//
//	r := revert.New()
//	defer r.Fail()
//	... r.Add("remove tap", func() error { ... }) ...
//	r.Success()
func New() *Reverter { return &Reverter{} }

// Add registers fn to undo the step just completed.
func (r *Reverter) Add(name string, fn func() error) {
	r.undo = append(r.undo, step{name: name, fn: fn})
}

// Fail runs the undo functions in reverse order unless Success was called.
// It returns the errors of undo steps that failed, joined.
func (r *Reverter) Fail() error {
	if r.done {
		return nil
	}
	r.done = true
	var errs []error
	for i := len(r.undo) - 1; i >= 0; i-- {
		s := r.undo[i]
		if err := s.fn(); err != nil {
			slog.Warn("undo step failed", "step", s.name, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Success forgets the undo list: the operation completed.
func (r *Reverter) Success() { r.done = true }
