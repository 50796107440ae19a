package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
)

// TestRunRecoversPanic: a runtime panic deep inside a command is a bug
// report and exit 70, not Go's exit 2 (the usage-error code).
func TestRunRecoversPanic(t *testing.T) {
	io, _, out, errOut := ui.Test()
	io.SetGetenv(func(k string) string {
		switch k {
		case "CCX_CONFIG": // the config loader reads it: crash there
			var m map[string]int
			m[k]++
		case "CCX_API_TOKEN":
			return "tok-0123456789-secret"
		}
		return ""
	})
	code := Run(context.Background(), &Factory{IO: io}, []string{"config", "path"})
	if code != ExitInternal {
		t.Fatalf("exit %d, want %d (stderr %q)", code, ExitInternal, errOut.String())
	}
	got := errOut.String()
	for _, want := range []string{"ccx: internal error: assignment to entry in nil map", "please report", "(cli/panic_test.go:"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "secret") || strings.Contains(got, "goroutine ") {
		t.Errorf("report quotes a secret or a full goroutine dump:\n%s", got)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out.String())
	}
}
