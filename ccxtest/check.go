package ccxtest

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/e2e"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
)

// CheckOptions steer Check.
type CheckOptions struct {
	// ServerURL is the server's API base URL (the checks call /message under it).
	ServerURL string
	// Channel the server is set up with (Platform.Channel); an empty ID
	// skips the channel-mismatch check.
	Channel Channel
	// ContactID the checks write to; "" → a fictional number (or custom ID).
	ContactID string
	// Only and Skip select checks by id (`ccx check --only/--skip`).
	Only, Skip []string
	// Timeout bounds each call (0 → 10s).
	Timeout time.Duration
}

// Check runs the `ccx check` conformance suite against the server's
// POST /message and reports each check as a subtest of t named by its id
// (text, auth-missing, bad-json, ...): a failing check fails its subtest
// with the request, the answer and why; a warning is logged; a skipped
// check is skipped. When t is not a *testing.T, the checks are reported on
// t itself. A server that does not answer at all fails t.
func Check(t testing.TB, o CheckOptions) {
	t.Helper()
	if o.Channel.Token == "" {
		t.Fatalf("ccxtest: Check: CheckOptions.Channel has no token: give the channel your server is set up with (Platform.Channel())")
	}
	rep, err := conformance.Run(t.Context(), conformance.Options{
		Client:    &outgoing.Client{BaseURL: o.ServerURL, Token: o.Channel.Token, Timeout: o.Timeout},
		ChannelID: o.Channel.ID, ContactID: o.ContactID, IDType: o.Channel.IDType, Only: o.Only, Skip: o.Skip,
	})
	if err != nil {
		t.Fatalf("ccxtest: Check: %v", err)
	}
	if rep.Unreachable {
		t.Fatalf("ccxtest: Check: the server at %s did not answer any call; is it running?", rep.URL)
	}
	report(t, rep.Results)
	if rep.Failed > 0 {
		for _, h := range rep.Hints {
			t.Logf("hint: %s", h)
		}
	}
}

// E2EOptions configure an E2E run.
type E2EOptions struct {
	// Credentials the provider fake accepts and signs with (see
	// ProviderOptions.Credentials); a missing one is generated.
	Credentials map[string]string
	// IDType of the channel ("" → Phone; Telegram servers use Custom).
	IDType IDType
	// InboundPath and StatusPath are where the server takes the provider's
	// webhooks and status callbacks, under the server URL; "" → ccx relay's
	// routes (/providers/NAME/inbound, ...).
	InboundPath, StatusPath string
	// ContactID is the customer ("" → a sample for the ID type).
	ContactID string
	// Only and Skip select checks by id (`ccx check --e2e --only/--skip`).
	Only, Skip []string
	// Timeout bounds every call and every wait on the server (0 → 10s).
	Timeout time.Duration
}

// E2E is the `ccx check --e2e` loop: a platform fake and a provider fake
// that, once the server is set up with their URLs and credentials, drive it
// through every hop (customer → provider webhook → server → platform,
// platform → /message → server → provider, status callbacks, provider
// failures) and judge each.
type E2E struct {
	h    *e2e.Harness
	opts E2EOptions
}

// NewE2E starts the fakes of the loop for the named provider (see
// Providers); t.Cleanup stops them. Set the server up with WebhookURL,
// Channel, ProviderURL and Credentials, then call Run.
func NewE2E(t testing.TB, providerName string, o E2EOptions) *E2E {
	t.Helper()
	prov, err := emulators.New(providerName, emulators.Options{Credentials: maps.Clone(o.Credentials), NoReceipts: true})
	if err != nil {
		t.Fatalf("ccxtest: NewE2E: %v", err)
	}
	h, err := e2e.Start(e2e.Config{Provider: prov, Channel: emulator.Channel{IDType: o.IDType}})
	if err != nil {
		t.Fatalf("ccxtest: NewE2E: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Logf("ccxtest: stop the e2e fakes: %v", err)
		}
	})
	return &E2E{h: h, opts: o}
}

// WebhookURL is where the server posts its platform events.
func (x *E2E) WebhookURL() string { return x.h.WebhookURL() }

// Channel is the platform fake's channel.
func (x *E2E) Channel() Channel {
	c := x.h.Channel()
	return Channel{ID: c.ID, Token: c.Token, IDType: c.IDType}
}

// ProviderURL is the provider API base URL the server must call.
func (x *E2E) ProviderURL() string { return x.h.ProviderURL() }

// Credentials are the provider fake's, keyed as `ccx relay` reads them.
func (x *E2E) Credentials() map[string]string {
	return maps.Clone(x.h.Provider().Credentials())
}

// Run drives the server at serverURL (its API base URL) through the loop
// and reports each check as a subtest of t, like Check. The checks run one
// after another; a full run against a quick server takes a few seconds, as
// some checks wait Timeout for what must not arrive.
func (x *E2E) Run(t testing.TB, serverURL string) {
	t.Helper()
	o := e2e.Options{ServerURL: serverURL, ContactID: x.opts.ContactID, Only: x.opts.Only, Skip: x.opts.Skip, Timeout: x.opts.Timeout}
	base := strings.TrimRight(serverURL, "/")
	if x.opts.InboundPath != "" {
		o.Webhooks.Inbound = base + x.opts.InboundPath
	}
	if x.opts.StatusPath != "" {
		o.Webhooks.Status = base + x.opts.StatusPath
	}
	rep, err := x.h.Run(t.Context(), o)
	if err != nil {
		t.Fatalf("ccxtest: E2E.Run: %v", err)
	}
	if rep.Unreachable {
		t.Fatalf("ccxtest: E2E.Run: %s", rep.Error)
	}
	report(t, rep.Results)
}

// report turns results into subtests (or lines on t).
func report(t testing.TB, results []conformance.Result) {
	t.Helper()
	runner, sub := t.(interface {
		Run(string, func(*testing.T)) bool
	})
	for _, r := range results {
		if sub {
			runner.Run(r.ID, func(t *testing.T) {
				t.Helper()
				judge(t, r, "")
			})
		} else {
			judge(t, r, r.ID+": ")
		}
	}
}

func judge(t testing.TB, r conformance.Result, prefix string) {
	t.Helper()
	switch r.Verdict {
	case conformance.Fail:
		t.Errorf("%s%s\n  %s%s", prefix, r.Title, r.Reason, evidence(r))
	case conformance.Warn:
		t.Logf("%swarning: %s: %s", prefix, r.Title, r.Reason)
	case conformance.Skip:
		if prefix == "" {
			t.Skipf("%s: %s", r.Title, r.Reason)
		}
		t.Logf("%sskipped: %s", prefix, r.Reason)
	}
}

// evidence is what was sent and what came back.
func evidence(r conformance.Result) string {
	var b strings.Builder
	if r.Hop != "" {
		fmt.Fprintf(&b, "\n  hop:      %s", r.Hop)
	}
	if r.Request != "" {
		fmt.Fprintf(&b, "\n  request:  %s", r.Request)
	}
	if r.Status != 0 {
		fmt.Fprintf(&b, "\n  answer:   HTTP %d %s", r.Status, clip(r.Body, 300))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "\n  error:    %s", r.Error)
	}
	return b.String()
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
