// Package fault tags an error with the kind of failure it is, so that a
// feature package can say "bad usage" or "I/O" without knowing the CLI's
// exit codes; internal/cli maps each kind to its code.
package fault

import (
	"errors"
	"fmt"
)

// Kind is what went wrong.
type Kind int

const (
	Failure     Kind = iota // the check or request failed
	Usage                   // bad flag or argument
	IO                      // network or file I/O
	Auth                    // authentication rejected
	Interrupted             // the context ended
)

// Error is an error of a kind. A nil Err means the failure was reported
// already (the caller prints nothing more).
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New tags err with k (nil stays nil).
func New(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// Usagef is a usage error.
func Usagef(format string, args ...any) error {
	return &Error{Kind: Usage, Err: fmt.Errorf(format, args...)}
}

// Silent is a failure of kind k already reported.
func Silent(k Kind) error { return &Error{Kind: k} }

// KindOf finds the kind err was tagged with.
func KindOf(err error) (Kind, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, true
	}
	return Failure, false
}
