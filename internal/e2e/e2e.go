// Package e2e is `ccx check --e2e`: with the platform fake (internal/emulator)
// and a provider fake (provider.Emulator) running, it drives an integration
// server through the whole loop — platform → server → provider for every
// message type, provider webhooks → server → platform, status callbacks →
// receipts, provider failures → /message errors — and judges every hop.
//
// The checks run one after another (faults and outages are global to the
// fakes) and every wait on the server is bounded by Options.Timeout.
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/provider"
)

// Hops, as results name them.
const (
	HopInbound  = "provider webhook → server → platform"
	HopOutgoing = "platform /message → server → provider"
	HopReceipt  = "provider status callback → server → platform"
	HopFailure  = "provider error → server → /message reply"
)

type checkDef struct {
	conformance.Check
	hop string
	run func(ctx context.Context, s *session, r *conformance.Result)
}

var defs = []checkDef{
	{conformance.Check{ID: "in-text", Title: "customer text → one valid message event (contactId, ms timestamp, same text)"}, HopInbound, checkInText},
	{conformance.Check{ID: "in-attachment", Title: "customer photo → attachment event whose URL serves the same bytes"}, HopInbound, checkInAttachment},
	{conformance.Check{ID: "in-location", Title: "customer location → location event with the same coordinates"}, HopInbound, checkInLocation},
	{conformance.Check{ID: "in-retry", Title: "provider retry (same message id) → delivered once, same mId"}, HopInbound, checkInRetry},
	{conformance.Check{ID: "in-bad-signature", Title: "badly signed webhook → refused, never reaches the platform"}, HopInbound, checkInBadSignature},
	{conformance.Check{ID: "in-platform-down", Title: "platform refuses the event → provider told to retry, or the server redelivers"}, HopInbound, checkInPlatformDown},
	{conformance.Check{ID: "out-text", Title: "/message text → provider gets the same text, to the contact; mId is its id"}, HopOutgoing, checkOutText},
	{conformance.Check{ID: "out-attachment", Title: "/message attachment → provider gets the media URL"}, HopOutgoing, checkOutAttachment},
	{conformance.Check{ID: "out-location", Title: "/message location → native location or the documented 📍 fallback"}, HopOutgoing, checkOutLocation},
	{conformance.Check{ID: "out-quick-reply", Title: "/message quick_reply → native buttons or the documented numbered list"}, HopOutgoing, checkOutQuickReply},
	{conformance.Check{ID: "receipt-delivered", Title: "delivered callback → message_status delivered with the mId /message returned"}, HopReceipt, checkReceiptDelivered},
	{conformance.Check{ID: "receipt-failed", Title: "failed callback → message_status failed with a reason"}, HopReceipt, checkReceiptFailed},
	{conformance.Check{ID: "fail-provider-error", Title: "provider 5xx → 4xx {error.message} naming it, never 200 + mId"}, HopFailure, checkFailProviderError},
	{conformance.Check{ID: "fail-rate-limit", Title: "provider 429 → 4xx {error.message} naming the rate limit"}, HopFailure, checkFailRateLimit},
	{conformance.Check{ID: "fail-credentials", Title: "provider rejects the credentials → 4xx {error.message} saying so"}, HopFailure, checkFailCredentials},
	{conformance.Check{ID: "fail-recipient", Title: "provider refuses the recipient → 4xx {error.message} saying so"}, HopFailure, checkFailRecipient},
}

// Checks lists every check in run order.
var Checks = func() []conformance.Check {
	out := make([]conformance.Check, len(defs))
	for i, d := range defs {
		out[i] = d.Check
	}
	return out
}()

// IDs returns the check ids.
func IDs() []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.ID
	}
	return out
}

// Select validates --only/--skip ids.
func Select(only, skip []string) error {
	known := map[string]bool{}
	for _, d := range defs {
		known[d.ID] = true
	}
	for _, id := range append(append([]string{}, only...), skip...) {
		if !known[id] {
			return fmt.Errorf("unknown e2e check %q (known: %s)", id, strings.Join(IDs(), ", "))
		}
	}
	return nil
}

// DefaultTimeout bounds every wait on the server.
const DefaultTimeout = 10 * time.Second

// Options steer a run against one server.
type Options struct {
	// ServerURL is the server's API base URL (the platform calls /message under it).
	ServerURL string
	// Webhooks are where the server takes the provider's webhooks; empty
	// fields are DefaultWebhooks under ServerURL.
	Webhooks Webhooks
	// ContactID is the customer, in the platform's form ("" → a sample for
	// the channel's ID type).
	ContactID string
	// Timeout bounds every call and every wait (0 → DefaultTimeout).
	Timeout time.Duration
	Only    []string
	Skip    []string
	// HTTPClient makes the /message calls and the provider webhooks.
	HTTPClient *http.Client
	// Progress, when set, is told each check's id before it runs.
	Progress func(id string)
}

// Report is the outcome of a run; its JSON shape is `ccx check`'s with the
// settings of the fakes added.
type Report struct {
	URL         string               `json:"url"`
	Provider    string               `json:"provider"`
	WebhookURL  string               `json:"platformWebhookUrl"`
	ProviderURL string               `json:"providerUrl"`
	InboundURL  string               `json:"providerWebhookUrl"`
	Results     []conformance.Result `json:"checks"`
	Passed      int                  `json:"passed"`
	Failed      int                  `json:"failed"`
	Warned      int                  `json:"warned"`
	Skipped     int                  `json:"skipped"`
	// Unreachable: the server did not answer at all; no check ran.
	Unreachable bool   `json:"unreachable,omitempty"`
	Error       string `json:"error,omitempty"`
}

// session is one run's shared state.
type session struct {
	h        *Harness
	opts     Options
	client   *outgoing.Client
	http     *http.Client
	contact  string
	hooks    Webhooks
	timeout  time.Duration
	chID     string
	secrets  []string
	provName string
	// lastLatency is how long the last provider webhook took to answer.
	lastLatency time.Duration
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Run executes the selected checks against opts.ServerURL.
func (h *Harness) Run(ctx context.Context, opts Options) (*Report, error) {
	if err := Select(opts.Only, opts.Skip); err != nil {
		return nil, err
	}
	msgURL, err := outgoing.MessageURL(opts.ServerURL)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	ch := h.Channel()
	s := &session{h: h, opts: opts, http: hc, timeout: timeout, chID: ch.ID, provName: h.prov.Name(),
		client: &outgoing.Client{BaseURL: opts.ServerURL, Token: ch.Token, Timeout: timeout, HTTP: hc}}
	s.contact = opts.ContactID
	if s.contact == "" {
		s.contact = SampleContact(ch.IDType)
	}
	s.secrets = h.secrets()
	s.hooks = h.webhooks(opts)
	rep := &Report{URL: msgURL, Provider: s.provName, WebhookURL: h.WebhookURL(), ProviderURL: h.ProviderURL(), InboundURL: s.redact(s.hooks.Inbound)}
	if err := s.reachable(ctx); err != nil {
		rep.Unreachable, rep.Error = true, err.Error()
		return rep, nil
	}
	selected := func(id string) bool {
		if len(opts.Only) > 0 && !contains(opts.Only, id) {
			return false
		}
		return !contains(opts.Skip, id)
	}
	for _, d := range defs {
		if !selected(d.ID) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if opts.Progress != nil {
			opts.Progress(d.ID)
		}
		r := conformance.Result{ID: d.ID, Title: d.Title, Hop: d.hop}
		d.run(ctx, s, &r)
		h.prov.SetFaults(provider.Faults{})
		h.rec.stopOutage()
		if r.Verdict == "" {
			r.Verdict = conformance.Pass
		}
		r.Reason, r.Body, r.Error, r.Request = s.redact(r.Reason), s.redact(r.Body), s.redact(r.Error), s.redact(r.Request)
		switch r.Verdict {
		case conformance.Pass:
			rep.Passed++
		case conformance.Fail:
			rep.Failed++
		case conformance.Warn:
			rep.Warned++
		case conformance.Skip:
			rep.Skipped++
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// secrets are the values no result may show: the fake's credentials and
// the channel token.
func (h *Harness) secrets() []string {
	var out []string
	for _, v := range h.prov.Credentials() {
		if len(v) >= 6 {
			out = append(out, v)
		}
	}
	return append(out, h.Channel().Token)
}

func (h *Harness) webhooks(opts Options) Webhooks {
	def := DefaultWebhooks(h.prov.Name(), opts.ServerURL, h.prov.Credentials())
	w := opts.Webhooks
	if w.Inbound == "" {
		w.Inbound = def.Inbound
	}
	if w.Status == "" {
		w.Status = def.Status
	}
	return w
}

// Targets are the webhook URLs a run with opts posts to, secrets redacted
// (for the user to compare with their server's routes).
func (h *Harness) Targets(opts Options) Webhooks {
	s := &session{secrets: h.secrets()}
	w := h.webhooks(opts)
	return Webhooks{Inbound: s.redact(w.Inbound), Status: s.redact(w.Status)}
}

// reachable makes one request to the server; any HTTP answer will do.
func (s *session) reachable(ctx context.Context) error {
	targets := []string{s.opts.ServerURL}
	if hostOf(s.hooks.Inbound) != hostOf(s.opts.ServerURL) {
		targets = append(targets, s.hooks.Inbound)
	}
	for _, t := range targets {
		cctx, cancel := context.WithTimeout(ctx, s.timeout)
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, t, nil)
		if err != nil {
			cancel()
			return fmt.Errorf("bad URL %s: %v", s.redact(t), err)
		}
		resp, err := s.http.Do(req)
		cancel()
		if err != nil {
			return fmt.Errorf("cannot reach %s: %v", s.redact(t), cleanErr(err))
		}
		resp.Body.Close()
	}
	return nil
}

// redact keeps the fake's credentials and the channel token out of results
// (a ClickSend webhook URL ends in its secret).
func (s *session) redact(text string) string {
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, "[secret]")
	}
	return text
}

// SampleContact is the customer of a run for an ID type.
func SampleContact(t channel.IDType) string {
	if t == channel.IDCustom {
		// A positive number: Telegram's private chat ids are the custom IDs.
		return "7700900123"
	}
	return "+60177872890"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ctxWait bounds one wait on the server.
func (s *session) ctxWait(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// marker makes a check's content unique, so its events are found among
// whatever else the server posts.
func marker(id string) string { return "ccx e2e " + id + " " + channel.NewMID()[:8] }

func fail(r *conformance.Result, format string, a ...any) {
	r.Verdict, r.Reason = conformance.Fail, fmt.Sprintf(format, a...)
}

func warn(r *conformance.Result, format string, a ...any) {
	if r.Verdict == conformance.Fail {
		return
	}
	r.Verdict, r.Reason = conformance.Warn, fmt.Sprintf(format, a...)
}

func skip(r *conformance.Result, format string, a ...any) {
	r.Verdict, r.Reason = conformance.Skip, fmt.Sprintf(format, a...)
}

// sendRecorder collects the provider calls made while a check runs.
type sendRecorder struct {
	mu    sync.Mutex
	sends []provider.Send
	wake  chan struct{}
	stop  func()
}

func (s *session) recordSends() *sendRecorder {
	sr := &sendRecorder{wake: make(chan struct{}, 1)}
	sr.stop = s.h.prov.Subscribe(func(sd provider.Send) {
		sr.mu.Lock()
		// A send is notified again when one of its callbacks was answered.
		replaced := false
		for i := range sr.sends {
			if sr.sends[i].Seq == sd.Seq {
				sr.sends[i], replaced = sd, true
			}
		}
		if !replaced {
			sr.sends = append(sr.sends, sd)
		}
		sr.mu.Unlock()
		select {
		case sr.wake <- struct{}{}:
		default:
		}
	})
	return sr
}

func (sr *sendRecorder) all() []provider.Send {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return append([]provider.Send(nil), sr.sends...)
}

func acceptedSends(ss []provider.Send) []provider.Send {
	var out []provider.Send
	for _, sd := range ss {
		if sd.Status >= 200 && sd.Status < 300 && sd.Error == "" {
			out = append(out, sd)
		}
	}
	return out
}

// awaitAccepted waits for one accepted send (a server may answer /message
// before it calls the provider).
func (sr *sendRecorder) awaitAccepted(ctx context.Context) {
	for len(acceptedSends(sr.all())) == 0 {
		select {
		case <-sr.wake:
		case <-ctx.Done():
			return
		}
	}
}
