// Package ui holds ccx's IO streams, TTY and colour decisions, styles and
// printers. Commands write data to Out and status to ErrOut, never to os.*.
package ui

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams bundles the three standard streams with what ccx knows about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	colorEnabled                   bool
	neverPrompt                    bool
	width                          int // stdout's columns, when a terminal
	getenv                         func(string) string
}

// System returns streams bound to the process's stdin/stdout/stderr.
func System() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		getenv:    os.Getenv,
	}
	s.colorEnabled = ColorWanted(s.stdoutTTY, os.Getenv)
	if s.stdoutTTY {
		s.width = terminalWidth(os.Stdout, os.Getenv)
	}
	s.neverPrompt = os.Getenv("CI") != "" || os.Getenv("CCX_NO_PROMPT") != ""
	return s
}

// Test returns streams over buffers: no TTYs, no colour, no prompts.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, getenv: func(string) string { return "" }}, in, out, errOut
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// ColorWanted decides colour from the TTY and the conventional variables:
// NO_COLOR (any value) and CLICOLOR=0 turn it off; CLICOLOR_FORCE (not "0")
// turns it on even when piped.
func ColorWanted(tty bool, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	if v := getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	if getenv("CLICOLOR") == "0" {
		return false
	}
	return tty && getenv("TERM") != "dumb"
}

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdinTTY, SetStdoutTTY and SetStderrTTY let tests play a terminal.
func (s *IOStreams) SetStdinTTY(v bool)  { s.stdinTTY = v }
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// ColorEnabled reports whether styled output may use colour.
func (s *IOStreams) ColorEnabled() bool { return s.colorEnabled }

// SetColorEnabled overrides the colour decision (--no-color, tests).
func (s *IOStreams) SetColorEnabled(v bool) { s.colorEnabled = v }

// CanPrompt reports whether interactive prompts are allowed: both stdin and
// stdout are terminals and nothing (CI, CCX_NO_PROMPT) forbids it.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY && !s.neverPrompt }

// SetNeverPrompt forbids prompts.
func (s *IOStreams) SetNeverPrompt(v bool) { s.neverPrompt = v }

// Getenv reads the environment the streams were made with (tests pass their own).
func (s *IOStreams) Getenv(k string) string {
	if s.getenv == nil {
		return ""
	}
	return s.getenv(k)
}

// SetGetenv replaces the environment lookup (tests).
func (s *IOStreams) SetGetenv(f func(string) string) { s.getenv = f }
