package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator/web"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/tidwall/gjson"
)

// Handler serves the webhook endpoint, the /_emulator/ API and the web inbox at /.
func (e *Emulator) Handler() http.Handler {
	mux := http.NewServeMux()
	// Exact paths only: /custom/channel/webhook/<channel ID> is a mistake
	// the stray handler names, not a webhook.
	mux.HandleFunc(WebhookPath+"{$}", e.logWebhook(e.handleWebhook))
	mux.HandleFunc(strings.TrimSuffix(WebhookPath, "/"), e.logWebhook(e.handleWebhook))
	api := http.NewServeMux()
	e.routeAPI(api)
	mux.Handle(APIPrefix, e.guard(api))
	// The provider fakes stay outside the guard: servers call them with
	// form bodies and provider auth, never from a browser page.
	for _, name := range e.hubOrder {
		h := e.hubs[name]
		mux.HandleFunc(ProviderPrefix+name+"/", h.serveAPI)
	}
	mux.HandleFunc(ProviderPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no provider fake at %s (attached: %s)", r.URL.Path, strings.Join(e.hubOrder, ", ")), nil)
	})
	// The web inbox (internal/emulator/web) reads; anything else sent to a
	// path no route owns is a misdirected post, answered and logged.
	inbox, stray := e.guard(web.Handler()), e.logWebhook(e.handleStray)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			inbox.ServeHTTP(w, r)
		default:
			stray(w, r)
		}
	})
	return mux
}

// errorBody is the platform-style error answer, with the findings added so a
// developer sees every problem at once.
type errorBody struct {
	Error struct {
		Message  string             `json:"message"`
		Findings []validate.Finding `json:"findings,omitempty"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string, findings []validate.Finding) {
	var b errorBody
	b.Error.Message = msg
	b.Error.Findings = findings
	writeJSON(w, status, b)
}

// bearer extracts the token of "Bearer <token>" (scheme case-insensitive).
func bearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	return t, t != ""
}

// channelsForToken compares the token with every channel's in constant time
// (no early exit), so timing tells nothing about which prefix matched.
func (e *Emulator) channelsForToken(token string) []Channel {
	var out []Channel
	for _, c := range e.channels {
		if subtle.ConstantTimeCompare([]byte(token), []byte(c.Token)) == 1 {
			out = append(out, c)
		}
	}
	return out
}

func (e *Emulator) reject(w http.ResponseWriter, r *http.Request, ch Channel, status int, msg string, findings []validate.Finding) {
	ev := Event{Kind: EventWebhookRejected, ChannelID: ch.ID, HTTPStatus: status, Summary: msg, Findings: findings}
	if rec := webhookRecord(w); rec != nil {
		rec.Findings = findings
		if rec.ChannelID == "" { // else the body's own (a 403 names the other channel)
			rec.ChannelID = ch.ID
		}
		// Say what was refused (401 and 403 included): the body was read.
		ev.ChannelID, ev.ContactID = rec.ChannelID, rec.ContactID
		if len(rec.Events) > 0 {
			ev.MID = rec.Events[0].MID
		}
		if what := describeRefused(rec); what != "" {
			ev.Summary += " (refused: " + what + ")"
		}
	}
	writeError(w, status, msg, findings)
	e.bus.publish(ev)
}

func (e *Emulator) handleWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e.reject(w, r, Channel{}, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: POST the webhook body", r.Method), nil)
		return
	}
	// The body is read before the token is checked, so that a refused post
	// still says what it carried (channel, contact, events, mIds).
	body, rerr := io.ReadAll(http.MaxBytesReader(unwrapRecorder(w), r.Body, e.maxBody))
	rec := webhookRecord(w)
	if rec != nil {
		rec.body = body // never changed after this point
		if rerr == nil {
			rec.ChannelID, rec.ContactID, rec.Events = peekWebhook(body)
		}
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		e.reject(w, r, Channel{}, http.StatusUnauthorized, "missing bearer token: send the header 'authorization: Bearer <API token>'", nil)
		return
	}
	cands := e.channelsForToken(token)
	if len(cands) == 0 {
		e.reject(w, r, Channel{}, http.StatusUnauthorized, "the API token does not match any emulated channel", nil)
		return
	}
	if err := rerr; err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			e.reject(w, r, cands[0], http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", e.maxBody), nil)
			return
		}
		e.reject(w, r, cands[0], http.StatusBadRequest, "could not read the body: "+err.Error(), nil)
		return
	}
	// The channel is the one whose token matched and whose ID is in the body.
	ch := cands[0]
	if id := gjson.GetBytes(body, "channelId"); id.Type == gjson.String && id.Str != "" {
		found := false
		for _, c := range cands {
			if c.ID == id.Str {
				ch, found = c, true
				break
			}
		}
		if !found {
			// The most specific reason wins: a body the platform could not
			// read at all is a 400 before it is another channel's (403).
			// No ID type: which channel's rules apply is not known yet.
			rep := validate.Bytes(body, validate.Options{Kind: validate.KindWebhook})
			if rep.HasErrors() {
				e.reject(w, r, ch, http.StatusBadRequest, summarize(errorsOf(rep.Findings)), rep.Findings)
				return
			}
			e.reject(w, r, ch, http.StatusForbidden, fmt.Sprintf("channelId %q does not belong to this API token", id.Str), nil)
			return
		}
	}
	if lim := e.limiters[ch.ID]; lim != nil {
		now := time.Now()
		res := lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			secs := int(math.Ceil(d.Seconds()))
			if secs < 1 {
				secs = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			e.reject(w, r, ch, http.StatusTooManyRequests, fmt.Sprintf("rate limit of %g requests per second exceeded for channel %s; retry after %ds", e.opts.RateLimit, ch.ID, secs), nil)
			return
		}
	}
	rep := validate.Bytes(body, validate.Options{Kind: validate.KindWebhook, IDType: ch.IDType, ChannelID: ch.ID})
	if rep.HasErrors() {
		e.reject(w, r, ch, http.StatusBadRequest, summarize(errorsOf(rep.Findings)), rep.Findings)
		return
	}
	var wh channel.Webhook
	if err := json.Unmarshal(body, &wh); err != nil {
		// The validator let through something the wire model cannot hold.
		e.reject(w, r, ch, http.StatusBadRequest, "body does not fit the webhook format: "+err.Error(), rep.Findings)
		return
	}
	if wh.ChannelID != ch.ID {
		e.reject(w, r, ch, http.StatusBadRequest, fmt.Sprintf("channelId is %q; this token's channel is %q", wh.ChannelID, ch.ID), rep.Findings)
		return
	}
	if err := channel.CheckContactID(wh.ContactID, ch.IDType); err != nil {
		e.reject(w, r, ch, http.StatusBadRequest, "contactId: "+err.Error(), rep.Findings)
		return
	}
	var pre change
	if ct := r.Header.Get("Content-Type"); !isJSONType(ct) {
		pre = e.store.addWarning(Warning{ChannelID: ch.ID, ContactID: wh.ContactID, Rule: WarnContentType,
			Message: fmt.Sprintf("content-type is %q; the platform expects application/json", ct)})
	}
	for _, f := range rep.Findings {
		if f.Severity == validate.Warning {
			c := e.store.addWarning(Warning{ChannelID: ch.ID, ContactID: wh.ContactID, Rule: WarnValidation,
				Message: fmt.Sprintf("%s: %s (%s)", pathOrBody(f.Path), f.Message, f.Rule)})
			pre.warnings = append(pre.warnings, c.warnings...)
		}
	}
	if rec := webhookRecord(w); rec != nil {
		rec.ChannelID, rec.Findings = ch.ID, rep.Findings
	}
	if late := e.holdEarlyReceipts(r, ch.ID, &wh); len(late) > 0 {
		for _, mid := range late {
			c := e.store.addWarning(Warning{ChannelID: ch.ID, ContactID: wh.ContactID, MID: mid, Rule: WarnStatusEarly,
				Message: fmt.Sprintf("message_status for mId %q arrived before the platform could know the mId: your /message reply carrying it was still being read. The emulator held the receipt and applied it; a real platform may drop it: post receipts only once your /message reply is sent", mid)})
			pre.warnings = append(pre.warnings, c.warnings...)
		}
	}
	chg := e.store.applyWebhook(ch.ID, &wh)
	chg.warnings = append(pre.warnings, chg.warnings...)
	warnings := make([]string, 0, len(chg.warnings))
	for _, w := range chg.warnings {
		warnings = append(warnings, w.Message)
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "events": len(wh.Events), "warnings": warnings})
	e.checkMedia(ch.ID, &wh)
	if e.bus.hasSubscribers() {
		evs := []Event{{Kind: EventWebhookAccepted, ChannelID: ch.ID, ContactID: wh.ContactID, HTTPStatus: http.StatusOK,
			Summary: ui.Plural(len(wh.Events), "event")}}
		e.bus.publish(append(evs, chg.events()...)...)
	}
}

// statusHold bounds how long a receipt waits for the /message reply that
// carries its mId.
const statusHold = 2 * time.Second

// holdEarlyReceipts waits (statusHold at most) while the post's receipts
// name mIds not stored yet and a /message call of the channel is in
// flight; it returns the mIds that became known meanwhile.
func (e *Emulator) holdEarlyReceipts(r *http.Request, channelID string, wh *channel.Webhook) []string {
	var mids []string
	for _, ev := range wh.Events {
		if ev.Type == channel.EventStatus && ev.MID != "" && !containsStr(mids, ev.MID) {
			mids = append(mids, ev.MID)
		}
	}
	if len(mids) == 0 {
		return nil
	}
	return e.store.awaitMIDs(r.Context().Done(), channelID, mids, statusHold)
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func pathOrBody(p string) string {
	if p == "" {
		return "body"
	}
	return p
}

func errorsOf(fs []validate.Finding) []validate.Finding {
	errs := make([]validate.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Severity == validate.Error {
			errs = append(errs, f)
		}
	}
	return errs
}

// summarize turns error findings into one message: the first in full, then a count.
func summarize(errs []validate.Finding) string {
	if len(errs) == 0 {
		return "invalid webhook body"
	}
	f := errs[0]
	msg := fmt.Sprintf("%s: %s (%s)", pathOrBody(f.Path), f.Message, f.Rule)
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %s more)", ui.Plural(len(errs)-1, "error"))
	}
	return msg
}

// events turns a change into stream events.
func (c change) events() []Event {
	var evs []Event
	for i := range c.contacts {
		ct := c.contacts[i]
		evs = append(evs, Event{Kind: EventContactCreated, ChannelID: ct.ChannelID, ContactID: ct.ID, Contact: &ct, Summary: "new contact " + ct.ID})
	}
	for i := range c.messages {
		m := c.messages[i]
		kind := EventMessageReceived
		if m.Origin == OriginEcho {
			kind = EventMessageEcho
		} else if m.Origin == OriginPlatform {
			kind = EventOutgoingSent
			if m.Status == channel.StatusFailed {
				kind = EventOutgoingFailed
			}
		}
		ev := Event{Kind: kind, ChannelID: m.ChannelID, ContactID: m.ContactID, MID: m.MID, Message: &m, Summary: Describe(m.Content)}
		if m.Reply != nil {
			ev.HTTPStatus = m.Reply.HTTPStatus
		}
		if kind == EventOutgoingFailed {
			ev.Summary = m.Reason
		}
		evs = append(evs, ev)
	}
	for i := range c.statuses {
		m := c.statuses[i]
		last := m.Timeline[len(m.Timeline)-1]
		s := string(last.Status)
		if last.Reason != "" {
			s += ": " + last.Reason
		}
		if !last.Applied {
			s += " (not applied)"
		}
		evs = append(evs, Event{Kind: EventStatusChanged, ChannelID: m.ChannelID, ContactID: m.ContactID, MID: m.MID, Message: &m, Summary: s})
	}
	for _, w := range c.warnings {
		evs = append(evs, Event{Kind: EventWarning, ChannelID: w.ChannelID, ContactID: w.ContactID, MID: w.MID, Summary: w.Message, Rule: w.Rule})
	}
	return evs
}

// Describe is a one-line summary of a message's content.
func Describe(m channel.Message) string {
	switch m.Type {
	case channel.MessageText:
		return fmt.Sprintf("text %q", m.Text)
	case channel.MessageAttachment:
		if m.Attachment == nil {
			return "attachment"
		}
		return fmt.Sprintf("attachment %s %s", m.Attachment.Type, m.Attachment.URL)
	case channel.MessageLocation:
		s := "location"
		if m.Latitude != nil && m.Longitude != nil {
			s += fmt.Sprintf(" %g,%g", *m.Latitude, *m.Longitude)
		}
		if m.Address != "" {
			s += fmt.Sprintf(" %q", m.Address)
		}
		return s
	case channel.MessageQuickReply:
		return fmt.Sprintf("quick_reply %q [%s]", m.Title, strings.Join(m.Replies, " | "))
	case channel.MessageCustomPayload:
		return "custom_payload " + string(m.Payload)
	}
	return string(m.Type)
}
