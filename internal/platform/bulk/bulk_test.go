package bulk

import (
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
)

func TestSummarySaysRetriesAndRateLimiting(t *testing.T) {
	io, _, out, _ := ui.Test()
	PrintSummary(io, platform.Summary{Count: 100, Sent: 100, Elapsed: 10 * time.Second, Rate: 10,
		Retried: 7, RetriedBy: map[string]int{"429": 6, "503": 2}, RateLimited: true}, 100, 20)
	s := out.String()
	for _, want := range []string{
		"retried 7 requests (429 ×6, 503 ×2)",
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

// A run's failure carries the kind the exit code comes from.
func TestSummaryFailureKinds(t *testing.T) {
	for _, c := range []struct {
		sum  platform.Summary
		want fault.Kind
	}{
		{platform.Summary{AuthError: true, Failed: 1, ByStatus: map[string]int{"401": 1}}, fault.Auth},
		{platform.Summary{Failed: 2, ByStatus: map[string]int{"network": 2}}, fault.IO},
		{platform.Summary{Failed: 2, ByStatus: map[string]int{"network": 1, "500": 1}}, fault.Failure},
	} {
		if k, ok := fault.KindOf(SummaryFailure(c.sum)); !ok || k != c.want {
			t.Errorf("%+v: kind %v (tagged %v), want %v", c.sum, k, ok, c.want)
		}
	}
	if err := SummaryFailure(platform.Summary{Count: 3, Sent: 3}); err != nil {
		t.Errorf("all sent: %v", err)
	}
}
