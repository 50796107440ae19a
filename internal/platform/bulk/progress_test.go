package bulk

import (
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
)

// The bar is drawn only on a terminal's stderr and shows percent, count,
// rate, failures and retries.
func TestProgressShowsFailuresAndRetries(t *testing.T) {
	io, _, out, errOut := ui.Test()
	io.SetStderrTTY(true)
	var c ProgressCounts
	stop := Progress(io, &c, 10)
	c.Done.Store(10)
	c.Failed.Store(2)
	c.Retried.Store(1)
	stop()
	s := errOut.String()
	for _, want := range []string{"100%", "(10/10", "req/s", "2 failed, 1 retried"} {
		if !strings.Contains(s, want) {
			t.Errorf("bar lacks %q:\n%q", want, s)
		}
	}
	if out.Len() != 0 {
		t.Errorf("the bar wrote on stdout: %q", out)
	}

	io2, _, _, errOut2 := ui.Test()
	Progress(io2, &c, 10)()
	if errOut2.Len() != 0 {
		t.Errorf("a bar without a terminal: %q", errOut2)
	}
}
