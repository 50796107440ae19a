package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var ansiSeq = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// TestTablesFitTheTerminal runs `ccx config list` on a real pseudo-terminal
// (script(1)) of a given width: at 40 columns every line fits, wrapped with
// a hanging indent; at 200 the same rows stay on one line each.
func TestTablesFitTheTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not on PATH: no pseudo-terminal to test with")
	}
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := "active = \"default\"\n\n[profiles.default]\n" +
		"webhook_url = \"https://app.respond.io/custom/channel/webhook/\"\n" +
		"channel_id = \"a-very-long-channel-identifier-that-goes-on-and-on\"\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(cols int) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "script", "-qec", "stty cols "+strconv.Itoa(cols)+" rows 20; ccx config list", "/dev/null")
		cmd.Env = append(os.Environ(), "CCX_CONFIG="+cfg, "TERM=xterm", "NO_COLOR=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ccx config list on a %d-column terminal: %v\n%s", cols, err, out)
		}
		var lines []string
		for _, l := range strings.Split(strings.ReplaceAll(ansiSeq.ReplaceAllString(string(out), ""), "\r", ""), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
	narrow, wide := run(40), run(200)
	for _, l := range narrow {
		if n := utf8.RuneCountInString(l); n > 40 {
			t.Errorf("a %d-character line on a 40-column terminal: %q", n, l)
		}
	}
	if len(narrow) <= len(wide) {
		t.Errorf("40 columns gave %d lines, 200 gave %d: nothing was wrapped\nnarrow: %q\nwide: %q", len(narrow), len(wide), narrow, wide)
	}
	var cont int
	for _, l := range narrow {
		if strings.HasPrefix(l, "                ") { // under the value column
			cont++
		}
	}
	if cont == 0 {
		t.Errorf("no wrapped line carries the hanging indent: %q", narrow)
	}
	if !strings.Contains(strings.Join(wide, "\n"), "a-very-long-channel-identifier-that-goes-on-and-on") {
		t.Errorf("at 200 columns the value is not on one line: %q", wide)
	}
}
