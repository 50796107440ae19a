package replay

import "testing"

// The tally's counts are plural only when they are not 1.
func TestSummaryPlurals(t *testing.T) {
	got := (&Tally{Valid: 1, Auth: 1, NetErr: 1}).Summary()
	if want := "1 valid reply, 0 refused, 1 auth refusal (401/403), 0 wrong, 1 network error"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	got = (&Tally{Valid: 2, NetErr: 0}).Summary()
	if want := "2 valid replies, 0 refused, 0 auth refusals (401/403), 0 wrong, 0 network errors"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}
