// Package conformance is `ccx check`: a suite of calls to an integration
// server's /message that an IS-Messenger-compatible server must answer
// correctly (spec §3). Each check sends one request and judges the reply;
// the suite never waits longer than the client's timeout for any of them.
package conformance

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/tidwall/gjson"
)

// Verdict of one check.
type Verdict string

const (
	Pass Verdict = "pass"
	Fail Verdict = "fail"
	Warn Verdict = "warn"
	Skip Verdict = "skip"
)

// Check describes one check, for --only/--skip and completion.
type Check struct {
	ID    string
	Title string
}

// Checks lists every check in run order.
var Checks = []Check{
	{"text", "text message → 200 with a valid mId"},
	{"attachment", "attachment message → 200 with a valid mId"},
	{"location", "location message → 200 with a valid mId"},
	{"quick-reply", "quick_reply message → 200 with a valid mId"},
	{"custom-payload", "custom_payload (unverified type) → 200 with mId or 4xx with error.message"},
	{"mid-unique", "every mId returned is unique"},
	{"auth-missing", "no Authorization header → 401"},
	{"auth-wrong", "wrong Bearer token → 401"},
	{"bad-json", "malformed JSON → 4xx with error.message"},
	{"unknown-type", "unknown message type → 4xx with error.message"},
	{"channel-mismatch", "another channel's channelId → refused with 4xx"},
}

// IDs returns the check ids.
func IDs() []string {
	out := make([]string, len(Checks))
	for i, c := range Checks {
		out[i] = c.ID
	}
	return out
}

// Result of one check.
type Result struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Verdict  Verdict `json:"verdict"`
	Security bool    `json:"security,omitempty"` // a failure that lets strangers in
	Hop      string  `json:"hop,omitempty"`      // e2e: the leg of the loop the check drives
	Reason   string  `json:"reason,omitempty"`   // why it did not pass
	// Evidence: what was sent and what came back.
	Request   string  `json:"request,omitempty"`
	Status    int     `json:"status,omitempty"`
	Body      string  `json:"body,omitempty"`
	LatencyMS float64 `json:"latencyMs,omitempty"`
	Error     string  `json:"error,omitempty"` // transport error or timeout
	MID       string  `json:"mId,omitempty"`
}

// Options steer a run.
type Options struct {
	Client    *outgoing.Client
	ChannelID string // the channel the server belongs to ("" → a placeholder; channel-mismatch is skipped)
	ContactID string // "" → a valid sample for IDType
	IDType    channel.IDType
	Only      []string
	Skip      []string
	// Parallel bounds concurrent calls (0 → 4): a hanging server costs one
	// timeout, not one per check.
	Parallel int
}

// Report is the outcome of a run.
type Report struct {
	URL     string   `json:"url"`
	Results []Result `json:"checks"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Warned  int      `json:"warned"`
	Skipped int      `json:"skipped"`
	// Unreachable: every call failed at the transport level (refused, DNS),
	// so nothing about the server could be judged.
	Unreachable bool `json:"unreachable,omitempty"`
}

// Select validates --only/--skip ids.
func Select(only, skip []string) error {
	known := map[string]bool{}
	for _, c := range Checks {
		known[c.ID] = true
	}
	for _, id := range append(append([]string{}, only...), skip...) {
		if !known[id] {
			return fmt.Errorf("unknown check %q (known: %s)", id, strings.Join(IDs(), ", "))
		}
	}
	return nil
}

type probe struct {
	id     string
	body   []byte
	header http.Header
	judge  func(r *Result, res *outgoing.Result)
}

// Run executes the selected checks against opts.Client.BaseURL.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := Select(opts.Only, opts.Skip); err != nil {
		return nil, err
	}
	url, err := outgoing.MessageURL(opts.Client.BaseURL)
	if err != nil {
		return nil, err
	}
	chID := opts.ChannelID
	if chID == "" {
		chID = "ccx-check-channel"
	}
	contact := opts.ContactID
	if contact == "" {
		contact = "+60177872890"
		if opts.IDType == channel.IDCustom {
			contact = "ccx_check_contact"
		}
	}
	c := opts.Client
	valid := c.DefaultHeader()
	noAuth := c.DefaultHeader()
	noAuth.Del("Authorization")
	wrong := c.DefaultHeader()
	wrong.Set("Authorization", "Bearer "+wrongToken(c.Token))
	text := outgoing.Body(chID, contact, channel.Text("ccx check: hello"))

	probes := []probe{
		{"text", text, valid, wantMID},
		{"attachment", outgoing.Body(chID, contact, channel.NewAttachment(channel.AttachmentImage, "https://example.com/ccx-check.jpg", "image/jpeg", "ccx-check.jpg", "")), valid, wantMID},
		{"location", outgoing.Body(chID, contact, channel.Location(3.139003, 101.686855, "Kuala Lumpur, Malaysia")), valid, wantMID},
		{"quick-reply", outgoing.Body(chID, contact, channel.QuickReply("ccx check: how are we doing?", "Good", "Okay", "Bad")), valid, wantMID},
		{"custom-payload", outgoing.Body(chID, contact, channel.CustomPayload([]byte(`{"ccx":"check"}`))), valid, wantMIDOr4xx},
		{"auth-missing", text, noAuth, want401},
		{"auth-wrong", text, wrong, want401},
		{"bad-json", []byte(`{"channelId":"` + chID + `","contactId":`), valid, want4xx},
		{"unknown-type", outgoing.Body(chID, contact, channel.Message{Type: "ccx_unknown_type"}), valid, want4xx},
	}
	if opts.ChannelID != "" {
		probes = append(probes, probe{"channel-mismatch", outgoing.Body(opts.ChannelID+"-not-yours", contact, channel.Text("ccx check: wrong channel")), valid, wantRefused})
	}

	selected := func(id string) bool {
		if len(opts.Only) > 0 && !contains(opts.Only, id) {
			return false
		}
		return !contains(opts.Skip, id)
	}
	// mid-unique needs the message-type probes even when they are not shown.
	needMIDs := selected("mid-unique")

	byID := map[string]*Result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	par := opts.Parallel
	if par <= 0 {
		par = 4
	}
	sem := make(chan struct{}, par)
	transportErrs, calls := 0, 0
	for _, p := range probes {
		if !selected(p.id) && !(needMIDs && isMessageProbe(p.id)) {
			continue
		}
		p := p
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := c.Do(ctx, outgoing.Request{Body: p.body, Header: p.header})
			r := &Result{ID: p.id, Request: describe(p)}
			if err != nil {
				r.Verdict, r.Error = Fail, err.Error()
			} else {
				evidence(r, res, c.Token)
				if res.Err != nil {
					r.Verdict = Fail
					if res.Timeout {
						r.Reason = "the server did not answer in time; the platform would give up on this message"
					} else {
						r.Reason = "no HTTP answer"
					}
				} else {
					p.judge(r, res)
				}
			}
			mu.Lock()
			byID[p.id] = r
			calls++
			if res != nil && res.Err != nil && !res.Timeout {
				transportErrs++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()

	if needMIDs {
		byID["mid-unique"] = midUnique(byID)
	}
	rep := &Report{URL: url, Unreachable: calls > 0 && transportErrs == calls}
	for _, ch := range Checks {
		if !selected(ch.ID) {
			continue
		}
		r, ok := byID[ch.ID]
		if !ok {
			r = &Result{ID: ch.ID, Verdict: Skip, Reason: "no channel ID configured (--channel-id, CCX_CHANNEL_ID, profile key channel_id)"}
		}
		r.Title = ch.Title
		switch r.Verdict {
		case Pass:
			rep.Passed++
		case Fail:
			rep.Failed++
		case Warn:
			rep.Warned++
		case Skip:
			rep.Skipped++
		}
		rep.Results = append(rep.Results, *r)
	}
	return rep, nil
}

func isMessageProbe(id string) bool {
	switch id {
	case "text", "attachment", "location", "quick-reply", "custom-payload":
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// wrongToken is a plausible token that is certainly not the right one.
func wrongToken(tok string) string {
	if tok == "ccx-wrong-token-ccx-wrong-token" {
		return "ccx-other-token-ccx-other-token"
	}
	return "ccx-wrong-token-ccx-wrong-token"
}

func describe(p probe) string {
	auth := "valid token"
	switch a := p.header.Get("Authorization"); {
	case a == "":
		auth = "no Authorization header"
	case p.id == "auth-wrong":
		auth = "wrong token"
	}
	body := string(p.body)
	if len(body) > 100 {
		body = body[:97] + "..."
	}
	return fmt.Sprintf("POST /message (%s) %s", auth, body)
}

func evidence(r *Result, res *outgoing.Result, token string) {
	r.Status = res.Status
	r.LatencyMS = float64(res.Latency.Microseconds()) / 1000
	body := ui.RedactIn(string(res.Body), token)
	if len(body) > 200 {
		body = body[:197] + "..."
	}
	r.Body = body
	if res.Err != nil {
		r.Error = res.Err.Error()
	}
	if res.Status == http.StatusOK {
		if m := gjson.GetBytes(res.Body, "mId"); m.Type == gjson.String {
			r.MID = m.Str
		}
	}
}

func firstError(res *outgoing.Result) string {
	for _, f := range outgoing.Judge(res.Status, res.Header, res.Body) {
		if f.Severity == validate.Error {
			if f.Path != "" {
				return f.Path + ": " + f.Message
			}
			return f.Message
		}
	}
	return ""
}

func hasErrorMessage(res *outgoing.Result) bool {
	return gjson.GetBytes(res.Body, "error.message").Type == gjson.String
}

func wantMID(r *Result, res *outgoing.Result) {
	if res.Status != http.StatusOK {
		r.Verdict, r.Reason = Fail, fmt.Sprintf("want 200 with an mId, got %d", res.Status)
		return
	}
	if msg := firstError(res); msg != "" {
		r.Verdict, r.Reason = Fail, msg
		return
	}
	r.Verdict = Pass
}

func wantMIDOr4xx(r *Result, res *outgoing.Result) {
	switch {
	case res.Status == http.StatusOK:
		wantMID(r, res)
	case res.Status >= 400 && res.Status < 500 && hasErrorMessage(res):
		r.Verdict = Pass
	default:
		r.Verdict, r.Reason = Warn, fmt.Sprintf("got %d; answer 200 with an mId, or refuse with 4xx and error.message", res.Status)
		if msg := firstError(res); msg != "" {
			r.Reason += ": " + msg
		}
	}
}

func want401(r *Result, res *outgoing.Result) {
	switch {
	case res.Status >= 200 && res.Status < 300:
		r.Verdict, r.Security = Fail, true
		r.Reason = fmt.Sprintf("SECURITY: accepted with status %d; anyone who knows the URL can send messages as this channel", res.Status)
	case res.Status == http.StatusUnauthorized && hasErrorMessage(res):
		r.Verdict = Pass
	case res.Status == http.StatusUnauthorized:
		r.Verdict, r.Reason = Warn, `401 without {"error":{"message":...}}`
	case res.Status >= 400 && res.Status < 500:
		r.Verdict, r.Reason = Warn, fmt.Sprintf("refused with %d; 401 is the status for a bad or missing token", res.Status)
	default:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("want 401, got %d", res.Status)
	}
}

func want4xx(r *Result, res *outgoing.Result) {
	switch {
	case res.Status >= 400 && res.Status < 500 && hasErrorMessage(res):
		r.Verdict = Pass
	case res.Status >= 400 && res.Status < 500:
		r.Verdict, r.Reason = Fail, fmt.Sprintf(`%d without {"error":{"message":...}}: the platform cannot show why`, res.Status)
	case res.Status >= 500:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("server error %d: bad input must get a 4xx with error.message, not a crash", res.Status)
	default:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("accepted with %d: bad input must be refused with a 4xx", res.Status)
	}
}

func wantRefused(r *Result, res *outgoing.Result) {
	switch {
	case res.Status >= 400 && res.Status < 500:
		r.Verdict = Pass
		if !hasErrorMessage(res) {
			r.Verdict, r.Reason = Warn, fmt.Sprintf(`%d without {"error":{"message":...}}`, res.Status)
		}
	case res.Status >= 200 && res.Status < 300:
		r.Verdict, r.Reason = Warn, "accepted a message for another channel; check channelId against your channel's id"
	default:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("want a 4xx, got %d", res.Status)
	}
}

func midUnique(byID map[string]*Result) *Result {
	r := &Result{ID: "mid-unique"}
	seen := map[string][]string{}
	for id, res := range byID {
		if res.MID != "" {
			seen[res.MID] = append(seen[res.MID], id)
		}
	}
	n := 0
	var dups []string
	for mid, ids := range seen {
		n += len(ids)
		if len(ids) > 1 {
			sort.Strings(ids)
			dups = append(dups, fmt.Sprintf("%q returned for %s", mid, strings.Join(ids, ", ")))
		}
	}
	sort.Strings(dups)
	switch {
	case len(dups) > 0:
		r.Verdict = Fail
		r.Reason = "duplicate mId: " + strings.Join(dups, "; ") + " (the platform matches receipts by mId)"
	case n < 2:
		r.Verdict, r.Reason = Skip, "fewer than two mIds came back to compare"
	default:
		r.Verdict, r.Body = Pass, fmt.Sprintf("%d distinct mIds", n)
	}
	return r
}

// Elapsed is a helper for printers.
func Elapsed(ms float64) string {
	return (time.Duration(ms * float64(time.Millisecond))).Round(100 * time.Microsecond).String()
}
