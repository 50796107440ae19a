package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const esc = "\x1b["

// TestColourManners runs the commands that style their output under each
// colour setting, piped (no TTY): CLICOLOR_FORCE=1 colours, NO_COLOR,
// CLICOLOR=0 and --no-color (even with CLICOLOR_FORCE) and a plain pipe do
// not, and --json output is never styled and always parses.
func TestColourManners(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	w := newExampleWorld(t)
	styled := []struct {
		name, args string
		stream     string // where the styling goes
	}{
		{"trigger", "trigger text hi --to " + w.server.URL, "stdout"},
		{"check", "check " + w.server.URL + " --only auth-missing,text", "stdout"},
		{"send", "send text hi", "stdout"},
		{"config list", "config list", "stdout"},
		{"emulate inbox", "emulate inbox", "stdout"},
		{"emulate send", "emulate send text hi", "stderr"},
		{"usage error", "sned", "stderr"},
	}
	modes := []struct {
		env     string
		flags   string
		colours bool
	}{
		{"CLICOLOR_FORCE=1", "", true},
		{"", "", false}, // a pipe is not a terminal
		{"NO_COLOR=1", "", false},
		{"CLICOLOR=0", "", false},
		{"CLICOLOR_FORCE=1", "--no-color", false},
		{"NO_COLOR=1 CLICOLOR_FORCE=1", "", false},
	}
	for _, c := range styled {
		for _, m := range modes {
			line := strings.TrimSpace(m.env + " ccx " + c.args + " " + m.flags)
			r := w.run(t, line, false, false, nil)
			out := r.stdout
			if c.stream == "stderr" {
				out = r.stderr
			}
			if got := strings.Contains(out, esc); got != m.colours {
				t.Errorf("%s: ANSI escapes on %s = %v, want %v\n%q", line, c.stream, got, m.colours, out)
			}
			if !m.colours && strings.Contains(r.stdout+r.stderr, esc) {
				t.Errorf("%s: escapes somewhere with colour off:\n%q", line, r.stdout+r.stderr)
			}
		}
	}

	// --json: data only, never styled, parseable (one object or NDJSON).
	for _, args := range []string{
		"trigger text hi --to " + w.server.URL,
		"check " + w.server.URL + " --only auth-missing,text",
		"send text hi",
		"emulate send text hi",
		"emulate inbox",
		"config list",
		"version",
	} {
		line := "CLICOLOR_FORCE=1 ccx " + args + " --json"
		r := w.run(t, line, false, false, nil)
		if strings.Contains(r.stdout, esc) {
			t.Errorf("%s: escapes in JSON output: %q", line, r.stdout)
		}
		if strings.TrimSpace(r.stdout) == "" {
			t.Errorf("%s: no JSON on stdout (exit %d): %s", line, r.code, r.stderr)
		}
		sc := bufio.NewScanner(strings.NewReader(r.stdout))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if l := sc.Text(); l != "" && !json.Valid([]byte(l)) {
				t.Errorf("%s: stdout line is not JSON: %q", line, l)
			}
		}
	}
}

// TestColourOnTerminal plays a terminal with script(1): colour by default,
// none with NO_COLOR or --no-color.
func TestColourOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not on PATH: no pseudo-terminal to test with")
	}
	w := newExampleWorld(t)
	for _, tt := range []struct {
		line    string
		colours bool
	}{
		{"ccx trigger text hi --to " + w.server.URL, true},
		{"NO_COLOR=1 ccx trigger text hi --to " + w.server.URL, false},
		{"ccx trigger text hi --no-color --to " + w.server.URL, false},
		{"TERM=dumb ccx trigger text hi --to " + w.server.URL, false},
		{"ccx trigger text hi --json --to " + w.server.URL, false},
	} {
		// script gives the command a pty for stdin, stdout and stderr.
		r := w.run(t, "TERM=${TERM:-xterm} script -qec '"+tt.line+"' /dev/null", false, false, nil)
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s%s", tt.line, r.code, r.stdout, r.stderr)
			continue
		}
		if got := strings.Contains(r.stdout, esc); got != tt.colours {
			t.Errorf("on a terminal, %s: escapes = %v, want %v\n%q", tt.line, got, tt.colours, r.stdout)
		}
	}
}
