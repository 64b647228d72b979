package model

import (
	"errors"
	"fmt"
)

// Kind classifies an error of an operation for the edge that reports it
// (the HTTP layer maps each kind to a status in one place).
type Kind int

// The kinds of domain errors; an error of none of them is an internal
// failure.
const (
	// KindInvalid: the request itself is wrong (bad name, size, signal).
	KindInvalid Kind = iota + 1
	// KindNotFound: a named VM, image or snapshot does not exist.
	KindNotFound
	// KindConflict: the request is fine but the current state refuses it
	// (a running VM, a taken name).
	KindConflict
	// KindPrecondition: the host lacks something the operation needs (a
	// program, a kernel, privilege); the message says how to get it.
	KindPrecondition
)

// Error is an error of a given kind whose message is shown to the user as
// is.
type Error struct {
	Kind Kind
	Msg  string
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Invalid is a KindInvalid error.
func Invalid(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf(format, args...)}
}

// Conflict is a KindConflict error.
func Conflict(format string, args ...any) error {
	return &Error{Kind: KindConflict, Msg: fmt.Sprintf(format, args...)}
}

// NotFound is a KindNotFound error.
func NotFound(format string, args ...any) error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf(format, args...)}
}

// Precondition wraps a preflight failure as a KindPrecondition error; nil
// stays nil.
func Precondition(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindPrecondition, Msg: err.Error()}
}

// KindOf is the kind of err (0 when it has none).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// NoSuchVM is the not-found error for a VM name, with where to look.
func NoSuchVM(name string) error {
	return NotFound("no VM named %q; see 'banger vm list'", name)
}

// NoSuchImage is the not-found error for an image name.
func NoSuchImage(name string) error {
	return NotFound("no image named %q; see 'banger image list'", name)
}

// NoSuchSnapshot is the not-found error for a snapshot of vm.
func NoSuchSnapshot(vm, snap string) error {
	return NotFound("%s has no snapshot named %q; see 'banger vm snapshot list %s'", vm, snap, vm)
}
