package deliver

import (
	"testing"

	"github.com/ccx-cli/ccx/internal/verdict"
)

func TestProviderVerdictCodes(t *testing.T) {
	as := []Attempt{{Verdict: verdict.OK}, {Verdict: verdict.ServerError}, {Verdict: verdict.Auth}}
	if WorstVerdict(as) != verdict.ServerError {
		t.Errorf("worst of ok/server-error/auth = %s", WorstVerdict(as))
	}
	as = append(as, Attempt{Verdict: verdict.Timeout})
	if WorstVerdict(as) != verdict.Timeout {
		t.Errorf("worst with a timeout = %s", WorstVerdict(as))
	}
}
