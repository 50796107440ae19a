package bulk

import (
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
)

func TestSummarySaysRetriesAndRateLimiting(t *testing.T) {
	io, _, out, _ := ui.Test()
	PrintSummary(io, platform.Summary{Count: 100, Sent: 100, Elapsed: 10 * time.Second, Rate: 10,
		Retried: 7, RetriedBy: map[string]int{"429": 6, "503": 2}, RateLimited: true}, 100, 20)
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
	PrintSummary(io, platform.Summary{Count: 100, Sent: 100, Elapsed: 10 * time.Second, Rate: 10, RetriedBy: map[string]int{}}, 100, 20)
	if strings.Contains(out.String(), "note:") || strings.Contains(out.String(), "retried") {
		t.Errorf("%s", out)
	}
}
