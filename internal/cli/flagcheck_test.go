package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// urlCheckedElsewhere: commands whose URL flags are checked by their own
// code, and why.
var urlCheckedElsewhere = map[string]string{
	"ccx init": "config.Normalize checks every value and reports all the bad flags together",
}

// TestEveryNumericFlagIsBounded: every int, float and duration flag of the
// tree, and every *-url flag, carries a bound (limitFlag/urlFlag), and its
// default passes it. A flag added without one fails here.
func TestEveryNumericFlagIsBounded(t *testing.T) {
	n := 0
	walk(auditRoot(), func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
			b := fl.Annotations[boundKey]
			switch fl.Value.Type() {
			case "int", "int64", "int32", "uint", "uint64", "float64", "float32", "duration":
				if len(b) != 3 {
					t.Errorf("%s --%s (%s) has no bound: add limitFlag where it is defined", c.CommandPath(), fl.Name, fl.Value.Type())
				}
			case "string":
				if strings.HasSuffix(fl.Name, "url") && urlCheckedElsewhere[c.CommandPath()] == "" && (len(b) != 1 || b[0] != boundURL) {
					t.Errorf("%s --%s has no URL check: add urlFlag where it is defined", c.CommandPath(), fl.Name)
				}
			}
			if len(b) > 0 {
				n++
				if err := checkBound(fl); err != nil {
					t.Errorf("%s: the default breaks the bound: %v", c.CommandPath(), err)
				}
			}
		})
	})
	if n < 40 {
		t.Errorf("only %d bounded flags: is the walk broken?", n)
	}
}

// TestNonsenseFlagValues: values a careless script might pass are refused
// with exit 2, naming the flag and the allowed range, before anything runs
// (no network, no files: the pre-run refuses them).
func TestNonsenseFlagValues(t *testing.T) {
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"send", "text", "hi", "--dry-run", "--rate", "NaN"}, "--rate"},
		{[]string{"send", "text", "hi", "--dry-run", "--rate", "-1"}, "--rate"},
		{[]string{"send", "text", "hi", "--dry-run", "--rate", "+Inf"}, "--rate"},
		{[]string{"send", "text", "hi", "--dry-run", "--concurrency", "0"}, "--concurrency"},
		{[]string{"send", "text", "hi", "--dry-run", "--timeout", "-1s"}, "--timeout"},
		{[]string{"send", "text", "hi", "--dry-run", "--webhook-url", "not a url"}, "--webhook-url"},
		{[]string{"replay", "calls.ndjson", "--rate", "NaN"}, "--rate"},
		{[]string{"replay", "calls.ndjson", "--to", "ftp://x"}, "--to"},
		{[]string{"trigger", "text", "hi", "--timeout", "0s"}, "--timeout"},
		{[]string{"check", "--timeout", "-5s"}, "--timeout"},
		{[]string{"emulate", "--rate-limit", "NaN"}, "--rate-limit"},
		{[]string{"emulate", "--rate-limit", "-5"}, "--rate-limit"},
		{[]string{"emulate", "--port", "70000"}, "--port"},
		{[]string{"emulate", "--api-base-url", "localhost:3030"}, "--api-base-url"},
		{[]string{"emulate", "inbox", "--emulator", "nope"}, "--emulator"},
		{[]string{"emulate", "send", "text", "hi", "--emulator", "nope"}, "--emulator"},
		{[]string{"listen", "--fail-rate", "NaN"}, "--fail-rate"},
		{[]string{"listen", "--latency", "-1ms"}, "--latency"},
		{[]string{"listen", "--max-body", "0"}, "--max-body"},
		{[]string{"listen", "--forward-to", "not a url"}, "--forward-to"},
		{[]string{"relay", "--provider", "loopback", "--rate-limit", "NaN"}, "--rate-limit"},
		{[]string{"relay", "--provider", "loopback", "--rate-limit", "-5"}, "--rate-limit"},
		{[]string{"relay", "--provider", "loopback", "--workers", "0"}, "--workers"},
		{[]string{"relay", "--provider", "loopback", "--workers", "-1"}, "--workers"},
		{[]string{"relay", "--provider", "loopback", "--max-entries", "-1"}, "--max-entries"},
		{[]string{"relay", "--provider", "loopback", "--max-bytes", "-1"}, "--max-bytes"},
		{[]string{"relay", "--provider", "loopback", "--dedupe-window", "-1h"}, "--dedupe-window"},
		{[]string{"relay", "--provider", "loopback", "--drain", "-1s"}, "--drain"},
		{[]string{"relay", "--provider", "loopback", "--check-config", "--public-url", "not a url"}, "--public-url"},
		{[]string{"relay", "status", "--url", "127.0.0.1:3030"}, "--url"},
		{[]string{"validate", "--jobs", "-1", "x.json"}, "--jobs"},
		{[]string{"validate", "--status", "600", "x.json"}, "--status"},
		{[]string{"validate", "--text-limit", "-1", "x.json"}, "--text-limit"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			io, _, out, errOut := ui.Test()
			io.SetGetenv(func(k string) string {
				if k == "CCX_CONFIG" {
					return t.TempDir() + "/config.toml"
				}
				return ""
			})
			// A deadline, so that a value that is wrongly accepted (a server
			// starting) ends the case instead of hanging the test.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			code := Run(ctx, &Factory{IO: io}, tc.args)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errOut.String())
			}
			msg := errOut.String()
			if !strings.Contains(msg, "invalid "+tc.flag+" ") || !strings.Contains(msg, ": use ") {
				t.Errorf("stderr does not name %s and its range: %q", tc.flag, msg)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q", out.String())
			}
		})
	}
}
