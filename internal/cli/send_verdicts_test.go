package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
)

// On a terminal a single send shows its retries as they happen, without --verbose.
func TestSendShowsRetriesOnATerminal(t *testing.T) {
	s := newSink(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i < 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
			return
		}
		w.Write([]byte(`{"ok":true,"warnings":["status moved backwards"]}`))
	})
	c := newCLI(t).withProfile(s.URL)
	io, _, out, errOut := ui.Test()
	io.SetStderrTTY(true)
	io.SetGetenv(func(k string) string { return c.env[k] })
	code := Run(context.Background(), &Factory{IO: io}, []string{"send", "text", "hi", "--retry-backoff", "1ms"})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	e := errOut.String()
	if !strings.Contains(e, "retrying (2/4) after 503") || !strings.Contains(e, "retrying (3/4) after 503") || !strings.Contains(e, "! status moved backwards") {
		t.Fatalf("stderr:\n%s", e)
	}
	if !strings.Contains(out.String(), "3 attempts") {
		t.Fatalf("stdout:\n%s", out)
	}
}
