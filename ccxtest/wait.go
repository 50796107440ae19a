package ccxtest

import (
	"testing"
	"time"
)

// deadlineGrace is left of the test's own deadline, so a wait fails with
// its message rather than the test binary with a panic.
const deadlineGrace = 500 * time.Millisecond

// waitFor polls cond on every wake and every pollEvery until it holds; it
// fails t with "waited D for WANT" when the wait ends first.
func waitFor(t testing.TB, limit time.Duration, wake <-chan struct{}, cond func() bool, want func() string) {
	t.Helper()
	if limit <= 0 {
		limit = DefaultWait
	}
	end := time.Now().Add(limit)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Add(-deadlineGrace).Before(end) {
			end = td.Add(-deadlineGrace)
		}
	}
	timer := time.NewTimer(time.Until(end))
	defer timer.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	start := time.Now()
	ctx := t.Context()
	for !cond() {
		select {
		case <-wake:
		case <-tick.C:
		case <-timer.C:
			if cond() {
				return
			}
			t.Fatalf("ccxtest: waited %v for %s", time.Since(start).Round(time.Millisecond), want())
		case <-ctx.Done():
			t.Fatalf("ccxtest: the test ended while waiting for %s", want())
		}
	}
}

// pollEvery backs the wake-ups: an event stream drops events for a slow
// reader.
const pollEvery = 50 * time.Millisecond
