package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
)

func TestBulkSummarySaysRetriesAndRateLimiting(t *testing.T) {
	f, out, _ := testFactory(t, nil)
	o := &sendOptions{f: f, count: 100, rate: 20}
	o.printSummary(platform.Summary{Count: 100, Sent: 100, Elapsed: 10 * time.Second, Rate: 10,
		Retried: 7, RetriedBy: map[string]int{"429": 6, "503": 2}, RateLimited: true})
	s := out.String()
	for _, want := range []string{
		"retried 7 request(s) (429 ×6, 503 ×2)",
		"note: 10.0 req/s is below --rate 20 because the platform rate-limited (429)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in\n%s", want, s)
		}
	}
	// At the asked rate, or slow for another reason: no note.
	out.Reset()
	o.printSummary(platform.Summary{Count: 100, Sent: 100, Elapsed: 10 * time.Second, Rate: 10, RetriedBy: map[string]int{}})
	if strings.Contains(out.String(), "note:") || strings.Contains(out.String(), "retried") {
		t.Errorf("%s", out)
	}
}

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
