// Package conformance is `ccx check`: a suite of calls to an integration
// server's /message that an IS-Messenger-compatible server must answer
// correctly (spec §3). Each check sends one request and judges the reply;
// the suite never waits longer than the client's timeout for any of them.
package conformance

import (
	"context"
	"encoding/json"
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
	"github.com/ccx-cli/ccx/internal/verdict"
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
	{"auth-scheme", "right token, wrong scheme (Token, Basic, bare, Bearer<t>, suffixed) → 401; \"bearer\" accepted"},
	{"bad-json", "malformed JSON → 4xx with error.message"},
	{"unknown-type", "unknown message type → 4xx with error.message"},
	{"missing-message", "body without message → 4xx with error.message"},
	{"missing-type", "message without type → 4xx with error.message"},
	{"missing-contact", "body without contactId → 4xx with error.message"},
	{"channel-mismatch", "another channel's channelId → refused with 4xx"},
	{"no-route", "<base>/message exists: not every call answered 404"},
}

// TestContact is the contact check sends to when none is configured: a
// fictional number (NANP reserves 555-0100..0199 for fiction), so a server
// wired to a real provider never texts a real person.
const (
	TestContact       = "+15555550100"
	TestCustomContact = "ccx_check_test_contact"
)

// DefaultContact is the contact check uses when none is configured.
func DefaultContact(t channel.IDType) string {
	if t == channel.IDCustom {
		return TestCustomContact
	}
	return TestContact
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

	// what the call showed, for the run's verdict
	validToken  bool // sent with the configured token and scheme
	timeout     bool
	transport   bool // no HTTP answer, not a timeout
	rateLimited bool
	noRoute     bool // 404 without an error body
}

// Options steer a run.
type Options struct {
	Client    *outgoing.Client
	ChannelID string // the channel the server belongs to ("" → a placeholder; channel-mismatch is skipped)
	ContactID string // "" → TestContact (TestCustomContact for Custom ID channels)
	IDType    channel.IDType
	Only      []string
	Skip      []string
	// Parallel bounds concurrent calls (0 → 4): a hanging server costs one
	// timeout, not one per check.
	Parallel int
}

// Report is the outcome of a run.
type Report struct {
	URL       string          `json:"url"`
	ContactID string          `json:"contactId"`
	Verdict   verdict.Verdict `json:"verdict"` // the run's: see RunVerdict
	Hints     []string        `json:"hints,omitempty"`
	Results   []Result        `json:"checks"`
	Passed    int             `json:"passed"`
	Failed    int             `json:"failed"`
	Warned    int             `json:"warned"`
	Skipped   int             `json:"skipped"`
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
	id      string
	variant string // auth-scheme's calls: the Authorization header sent, token elided
	body    []byte
	header  http.Header
	judge   func(r *Result, res *outgoing.Result)
	valid   bool // carries the configured token as the platform sends it
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
		contact = DefaultContact(opts.IDType)
	}
	c := opts.Client
	valid := c.DefaultHeader()
	noAuth := c.DefaultHeader()
	noAuth.Del("Authorization")
	wrong := c.DefaultHeader()
	wrong.Set("Authorization", "Bearer "+wrongToken(c.Token))
	text := outgoing.Body(chID, contact, channel.Text("ccx check: hello"))
	withAuth := func(v string) http.Header {
		h := c.DefaultHeader()
		h.Set("Authorization", v)
		return h
	}
	raw := func(v any) []byte { b, _ := json.Marshal(v); return b }

	probes := []probe{
		{id: "text", body: text, header: valid, judge: wantMID, valid: true},
		{id: "attachment", body: outgoing.Body(chID, contact, channel.NewAttachment(channel.AttachmentImage, "https://example.com/ccx-check.jpg", "image/jpeg", "ccx-check.jpg", "")), header: valid, judge: wantMID, valid: true},
		{id: "location", body: outgoing.Body(chID, contact, channel.Location(3.139003, 101.686855, "Kuala Lumpur, Malaysia")), header: valid, judge: wantMID, valid: true},
		{id: "quick-reply", body: outgoing.Body(chID, contact, channel.QuickReply("ccx check: how are we doing?", "Good", "Okay", "Bad")), header: valid, judge: wantMID, valid: true},
		{id: "custom-payload", body: outgoing.Body(chID, contact, channel.CustomPayload([]byte(`{"ccx":"check"}`))), header: valid, judge: wantMIDOr4xx, valid: true},
		{id: "auth-missing", body: text, header: noAuth, judge: want401},
		{id: "auth-wrong", body: text, header: wrong, judge: want401},
	}
	// A server comparing authorization.substring(7) accepts "Bearer:<t>";
	// one that looks for the token anywhere (includes, HasSuffix) accepts
	// the rest.
	for _, v := range []struct{ shown, sent string }{
		{"Token <token>", "Token " + c.Token},
		{"Basic <token>", "Basic " + c.Token},
		{"<token>", c.Token},
		{"Bearer<token>", "Bearer" + c.Token},
		{"Bearer:<token>", "Bearer:" + c.Token},
		{"Bearer <token>x", "Bearer " + c.Token + "x"},
	} {
		probes = append(probes, probe{id: "auth-scheme", variant: v.shown, body: text, header: withAuth(v.sent), judge: want401})
	}
	probes = append(probes,
		probe{id: "auth-scheme", variant: "bearer <token>", body: text, header: withAuth("bearer " + c.Token), judge: wantAccepted},
		probe{id: "bad-json", body: []byte(`{"channelId":"` + chID + `","contactId":`), header: valid, judge: want4xx, valid: true},
		probe{id: "unknown-type", body: outgoing.Body(chID, contact, channel.Message{Type: "ccx_unknown_type"}), header: valid, judge: want4xx, valid: true},
		probe{id: "missing-message", body: raw(map[string]any{"channelId": chID, "contactId": contact}), header: valid, judge: want4xx, valid: true},
		probe{id: "missing-type", body: raw(map[string]any{"channelId": chID, "contactId": contact, "message": map[string]any{"text": "ccx check: no type"}}), header: valid, judge: want4xx, valid: true},
		probe{id: "missing-contact", body: raw(map[string]any{"channelId": chID, "message": channel.Text("ccx check: no contact")}), header: valid, judge: want4xx, valid: true},
	)
	if opts.ChannelID != "" {
		probes = append(probes, probe{id: "channel-mismatch", body: outgoing.Body(opts.ChannelID+"-not-yours", contact, channel.Text("ccx check: wrong channel")), header: valid, judge: wantRefused, valid: true})
	}

	selected := func(id string) bool {
		if len(opts.Only) > 0 && !contains(opts.Only, id) {
			return false
		}
		return !contains(opts.Skip, id)
	}
	// mid-unique needs the message-type probes even when they are not shown,
	// and no-route needs at least one call.
	needMIDs := selected("mid-unique")
	callsSelected := false
	for _, p := range probes {
		callsSelected = callsSelected || selected(p.id)
	}
	run := func(p probe) bool {
		return selected(p.id) || (needMIDs && isMessageProbe(p.id)) || (selected("no-route") && !callsSelected && p.id == "text")
	}

	byID := map[string]*Result{}
	parts := map[string][]*Result{} // auth-scheme's calls, in probe order
	var all []*Result
	var mu sync.Mutex
	var wg sync.WaitGroup
	par := opts.Parallel
	if par <= 0 {
		par = 4
	}
	sem := make(chan struct{}, par)
	for _, p := range probes {
		if !run(p) {
			continue
		}
		p := p
		r := &Result{ID: p.id, Request: describe(p), validToken: p.valid}
		all = append(all, r)
		if p.variant != "" {
			parts[p.id] = append(parts[p.id], r)
		} else {
			byID[p.id] = r
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := c.Do(ctx, outgoing.Request{Body: p.body, Header: p.header})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.Verdict, r.Error, r.transport = Fail, err.Error(), true
				return
			}
			evidence(r, res, c.Token)
			switch {
			case res.Err != nil && res.Timeout:
				r.Verdict, r.timeout = Fail, true
				r.Reason = "the server did not answer in time; the platform would give up on this message"
			case res.Err != nil:
				r.Verdict, r.transport = Fail, true
				r.Reason = "no HTTP answer"
			case res.Status == http.StatusTooManyRequests:
				// Throttling says nothing about the check: never an auth problem.
				r.Verdict, r.rateLimited = Warn, true
				r.Reason = "not judged: rate limited (429" + retryAfter(res) + "); run the check again later"
			default:
				r.noRoute = verdict.OfStatus(res.Status, res.Header, res.Body) == verdict.NoRoute
				p.judge(r, res)
			}
			if p.variant != "" {
				r.Request = p.variant
			}
		}()
	}
	wg.Wait()

	if needMIDs {
		byID["mid-unique"] = midUnique(byID)
	}
	if len(parts["auth-scheme"]) > 0 {
		byID["auth-scheme"] = combine("auth-scheme", parts["auth-scheme"])
	}
	rep := &Report{URL: url, ContactID: contact}
	if selected("no-route") {
		byID["no-route"] = noRoute(all, url)
	}
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
	rep.Verdict, rep.Hints = runVerdict(all, rep, url)
	rep.Unreachable = rep.Verdict == verdict.Network
	return rep, nil
}

// runVerdict sums up a run for scripts: what every call had in common when
// that explains everything (nothing reachable, no route, the wrong token),
// else failed or ok. Hints say it once, for people.
func runVerdict(all []*Result, rep *Report, url string) (verdict.Verdict, []string) {
	var hints []string
	n, timeouts, transport, noRoute, limited, valid, validRefused := len(all), 0, 0, 0, 0, 0, 0
	for _, r := range all {
		switch {
		case r.timeout:
			timeouts++
		case r.transport:
			transport++
		case r.rateLimited:
			limited++
		case r.noRoute:
			noRoute++
		}
		if r.validToken && !r.timeout && !r.transport && !r.rateLimited {
			valid++
			if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
				validRefused++
			}
		}
	}
	if limited > 0 {
		hints = append(hints, fmt.Sprintf("the server rate-limited %d of %d calls (429): those checks were not judged; this is throttling, not an auth problem", limited, n))
	}
	switch {
	case n == 0:
		return verdict.OK, hints
	case transport == n:
		return verdict.Network, hints
	case timeouts == n:
		return verdict.Timeout, append(hints, fmt.Sprintf("no call to %s was answered in time", url))
	case noRoute > 0 && noRoute+transport+timeouts+limited == n:
		h := fmt.Sprintf("every call to %s answered 404: <base>/message does not exist there; the base URL is probably wrong", url)
		if fixed, ok := channel.TrimMessagePath(strings.TrimSuffix(url, channel.MessagePath)); ok {
			h += fmt.Sprintf(" (it ends in /message, which ccx appends again: try %s)", fixed)
		}
		return verdict.NoRoute, append([]string{h}, hints...)
	case valid > 0 && validRefused == valid:
		return verdict.Auth, append([]string{"every call with the configured token was refused (401/403): the token is probably wrong"}, hints...)
	case rep.Failed > 0:
		return verdict.Failed, hints
	case limited > 0:
		return verdict.RateLimited, hints
	}
	return verdict.OK, hints
}

func retryAfter(res *outgoing.Result) string {
	if ra := res.Header.Get("Retry-After"); ra != "" {
		return ", Retry-After " + ra
	}
	return ""
}

// combine folds auth-scheme's calls into one result: a wrong scheme that
// got in is a security failure; the worst of the others decides.
func combine(id string, parts []*Result) *Result {
	r := &Result{ID: id, Verdict: Pass}
	rank := map[Verdict]int{Pass: 0, Skip: 1, Warn: 2, Fail: 3}
	var worst *Result
	var reasons []string
	for _, p := range parts {
		if p.Verdict != Pass {
			reasons = append(reasons, fmt.Sprintf("%q: %s", p.Request, p.Reason))
		}
		if worst == nil || rank[p.Verdict] > rank[worst.Verdict] || (p.Security && !worst.Security) {
			worst = p
		}
		r.Security = r.Security || p.Security
	}
	r.Verdict = worst.Verdict
	r.Status, r.Body, r.LatencyMS, r.Error = worst.Status, worst.Body, worst.LatencyMS, worst.Error
	r.Request = fmt.Sprintf("%d calls with the configured token: %s", len(parts), joinRequests(parts))
	r.Reason = strings.Join(reasons, "; ")
	if r.Verdict == Pass {
		r.Body = fmt.Sprintf("%d wrong schemes refused, \"bearer\" accepted", len(parts)-1)
		r.Status = 0
	}
	return r
}

func joinRequests(parts []*Result) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = p.Request
	}
	return strings.Join(s, ", ")
}

// noRoute fails when every call that got an HTTP answer got a bare 404.
func noRoute(all []*Result, url string) *Result {
	r := &Result{ID: "no-route"}
	answered, bare := 0, 0
	for _, x := range all {
		if x.timeout || x.transport || x.rateLimited {
			continue
		}
		answered++
		if x.noRoute {
			bare++
		}
	}
	switch {
	case answered == 0:
		r.Verdict, r.Reason = Skip, "no call got an HTTP answer"
	case bare == answered:
		r.Verdict, r.Status = Fail, http.StatusNotFound
		r.Reason = fmt.Sprintf("every call to %s answered 404: nothing is there; check the base URL", url)
	default:
		r.Verdict, r.Body = Pass, fmt.Sprintf("%d of %d calls reached a route", answered-bare, answered)
	}
	return r
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
	case p.variant != "":
		auth = "Authorization: " + p.variant
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

// wantAccepted: the right token under a lower-case scheme must get in
// (schemes are case-insensitive, RFC 9110 §11.1).
func wantAccepted(r *Result, res *outgoing.Result) {
	switch {
	case res.Status == http.StatusOK:
		wantMID(r, res)
	case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("refused with %d: the scheme is case-insensitive (RFC 9110 §11.1), compare it with strings.EqualFold", res.Status)
	default:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("want 200 with an mId, got %d", res.Status)
	}
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
