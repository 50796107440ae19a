package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ccx-cli/ccx/internal/fault"
)

// Feature packages tag errors with a fault kind; each kind must end in its
// exit code, wrapped or not, and a silent one must print nothing.
func TestFaultKindsMapToExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{fault.Usagef("--x %q", "y"), ExitUsage},
		{fault.New(fault.IO, errors.New("read")), ExitIO},
		{fault.New(fault.Auth, errors.New("401")), ExitAuth},
		{fault.New(fault.Failure, errors.New("refused")), ExitFailure},
		{fault.Silent(fault.Interrupted), ExitInterrupted},
		{fmt.Errorf("wrapped: %w", fault.New(fault.IO, errors.New("x"))), ExitIO},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("%v: exit %d, want %d", c.err, got, c.want)
		}
		if !isExitError(c.err) {
			t.Errorf("%v: not taken as the command's own code", c.err)
		}
	}
	if msg := fault.Silent(fault.IO).Error(); msg != "" {
		t.Errorf("silent fault prints %q", msg)
	}
	if fault.New(fault.IO, nil) != nil {
		t.Error("fault.New(kind, nil) is not nil")
	}
}
