package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// Exit codes: the contract scripts branch on (`ccx help exit-codes`).
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // the check or request failed: invalid payload, remote 4xx/5xx
	ExitUsage       = 2   // bad flag or argument
	ExitIO          = 3   // network or file I/O error
	ExitAuth        = 4   // authentication rejected (401/403)
	ExitInternal    = 70  // internal error: a bug in ccx (EX_SOFTWARE)
	ExitInterrupted = 130 // interrupted by SIGINT/SIGTERM
)

// exitCodes is the contract as one list: `ccx help exit-codes` renders it.
var exitCodes = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "success"},
	{ExitFailure, "the check or request failed: invalid payload, remote 4xx/5xx, a wrong reply, a failed conformance check"},
	{ExitUsage, "usage error: unknown command, bad flag or argument, missing required setting"},
	{ExitIO, "network or file I/O error: unreachable host, timeout, unreadable file"},
	{ExitAuth, "authentication rejected: the remote answered 401 or 403"},
	{ExitInternal, "internal error: a bug in ccx (please report it with the short report printed)"},
	{ExitInterrupted, "interrupted by SIGINT or SIGTERM"},
}

// verdictExit maps every --json verdict to its exit code.
var verdictExit = map[verdict.Verdict]int{
	verdict.OK:          ExitOK,
	verdict.Refused:     ExitFailure,
	verdict.NoRoute:     ExitFailure,
	verdict.RateLimited: ExitFailure,
	verdict.ServerError: ExitFailure,
	verdict.WrongReply:  ExitFailure,
	verdict.Failed:      ExitFailure,
	verdict.Auth:        ExitAuth,
	verdict.Timeout:     ExitIO,
	verdict.Network:     ExitIO,
	verdict.Interrupted: ExitInterrupted,
}

// exitFor is the exit code of a verdict (unknown ones fail).
func exitFor(v verdict.Verdict) int {
	if c, ok := verdictExit[v]; ok {
		return c
	}
	return ExitFailure
}

// ExitError carries an exit code with its error. A nil Err with a non-zero
// code means the command already reported what went wrong.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit wraps err with a code.
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

// Silent ends the command with code, having printed its own report already.
func Silent(code int) error { return &ExitError{Code: code} }

// FlagError is a usage mistake: exit 2 and a hint to read --help.
type FlagError struct {
	Err  error
	Help string // the command whose --help the message points at; "" for none
}

func (e *FlagError) Error() string {
	if e.Help == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + "\nRun '" + e.Help + " --help' for usage."
}

func (e *FlagError) Unwrap() error { return e.Err }

// UsageErrorf builds a FlagError.
func UsageErrorf(err error) error { return &FlagError{Err: err} }

// usageHelp is a usage error that ends by pointing at cmdPath's --help.
func usageHelp(cmdPath string, err error) error { return &FlagError{Err: err, Help: cmdPath} }

// readError is the error of a failed read: interrupted (130) when ctx
// ended, else an I/O error (3).
func readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return Exit(ExitInterrupted, errors.New("interrupted"))
	}
	return Exit(ExitIO, err)
}

// faultExit maps the kinds feature packages tag their errors with.
var faultExit = map[fault.Kind]int{fault.Failure: ExitFailure, fault.Usage: ExitUsage, fault.IO: ExitIO, fault.Auth: ExitAuth, fault.Interrupted: ExitInterrupted}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		return ExitUsage
	}
	if k, ok := fault.KindOf(err); ok {
		return faultExit[k]
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	// cobra's own argument and command errors are plain errors.
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return ExitUsage
		}
	}
	return ExitFailure
}
