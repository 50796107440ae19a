package emulator

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/tidwall/gjson"
)

// The request log keeps the last requests the emulator handled, in both
// directions, so a developer can see exactly what went over the wire: each
// webhook post received and each /message call made, with headers (tokens
// redacted), bodies, validation findings and the reply. It is what the web
// inbox's "Requests" view shows (GET /_emulator/requests).

// Request log kinds.
const (
	RequestWebhook = "webhook" // a post to the emulator's webhook URL
	RequestMessage = "message" // a call the emulator made to <API base URL>/message
	// The provider face (Options.Providers):
	RequestProviderAPI     = "provider.api"     // the server called a provider fake's API (a send)
	RequestProviderWebhook = "provider.webhook" // a provider fake posted a customer's message to the server
	RequestProviderReceipt = "provider.receipt" // a provider fake posted a status callback to the server
)

// maxRequests bounds the request log (and what --state keeps of it: the
// newest maxRequests); maxLoggedBody bounds each body kept.
const (
	maxRequests   = 200
	maxLoggedBody = 64 << 10
)

// RequestRecord is one logged HTTP exchange.
type RequestRecord struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	ChannelID string    `json:"channelId,omitempty"`
	Method    string    `json:"method"`
	URL       string    `json:"url"`
	// Header is what was sent, with every credential redacted (the log keeps
	// the request's own map and redacts when it hands records out, which
	// keeps the webhook path cheap).
	Header    http.Header `json:"header"`
	Body      string      `json:"body"`
	Truncated bool        `json:"truncated,omitempty"` // Body was cut at 64 KiB
	// Findings of validating the body (webhook) or judging the reply (/message).
	Findings    []validate.Finding `json:"findings"`
	Status      int                `json:"status,omitempty"` // 0: no HTTP answer
	ReplyHeader http.Header        `json:"replyHeader,omitempty"`
	ReplyBody   string             `json:"replyBody,omitempty"`
	LatencyMS   float64            `json:"latencyMs"`
	// Error is why a /message call failed (transport error, rejection).
	Error string `json:"error,omitempty"`
	// The provider face: which fake, the provider's message id, what the
	// hop carried ("receipt delivered", "message text") and the flows it
	// belongs to (every hop of one message shares a flow id).
	Provider   string   `json:"provider,omitempty"`
	ProviderID string   `json:"providerId,omitempty"`
	What       string   `json:"what,omitempty"`
	Flows      []string `json:"flows,omitempty"`
	// ResendOf is the Seq of the request this one re-sent (the inbox's
	// Resend, POST /_emulator/requests/{seq}/resend).
	ResendOf int64 `json:"resendOf,omitempty"`
	// Curl is the request as a runnable curl command, the token read from
	// $CCX_API_TOKEN; set when records are handed out, never stored.
	Curl string `json:"curl,omitempty"`
	// What a webhook post carried, read from its body even when it was
	// refused (401, 403, 404): the contact and each event's type and mId.
	ContactID string     `json:"contactId,omitempty"`
	Events    []EventRef `json:"events,omitempty"`
	// Retry ties a post to earlier posts of the same mId (see retries.go).
	Retry *RetryInfo `json:"retry,omitempty"`

	body []byte // the full body as read; Body is its clipped copy
	// redacted: loaded from a state file, which holds only redacted records.
	redacted bool
}

type requestLog struct {
	mu    sync.Mutex
	seq   int64
	recs  []RequestRecord // ring of at most maxRequests, oldest first
	dirty bool            // changed since the state file was written
}

func (l *requestLog) add(r RequestRecord) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	r.Seq = l.seq
	if r.Findings == nil {
		r.Findings = []validate.Finding{}
	}
	l.recs = append(l.recs, r)
	l.dirty = true
	// Trim in batches so adding stays amortised O(1).
	if len(l.recs) > 2*maxRequests {
		l.recs = append(l.recs[:0:0], l.recs[len(l.recs)-maxRequests:]...)
	}
	return r.Seq
}

// since returns the records with Seq > after, oldest first (at most maxRequests).
func (l *requestLog) since(after int64) []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.recs
	if len(recs) > maxRequests {
		recs = recs[len(recs)-maxRequests:]
	}
	out := []RequestRecord{}
	for _, r := range recs {
		if r.Seq > after {
			if r.redacted { // loaded from --state: Body is already the clipped copy
				r.Header = r.Header.Clone()
			} else {
				r.Header = redactHeader(r.Header)
				r.Body, r.Truncated = clipBody(r.body)
			}
			r.ReplyHeader = r.ReplyHeader.Clone() // the caller may change it
			r.body = nil
			r.Flows = append([]string(nil), r.Flows...)
			r.Events = append([]EventRef(nil), r.Events...)
			if r.Retry != nil {
				ri := *r.Retry
				r.Retry = &ri
			}
			out = append(out, r)
		}
	}
	return out
}

// update changes a logged record in place (a hop learns what it carried
// after it was logged).
func (l *requestLog) update(seq int64, fn func(*RequestRecord)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.recs) - 1; i >= 0; i-- {
		if l.recs[i].Seq == seq {
			fn(&l.recs[i])
			l.dirty = true
			return
		}
		if l.recs[i].Seq < seq {
			return
		}
	}
}

// get returns a record as logged (unredacted, full body).
func (l *requestLog) get(seq int64) (RequestRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.recs) - 1; i >= 0 && i >= len(l.recs)-maxRequests; i-- {
		if l.recs[i].Seq == seq {
			r := l.recs[i]
			r.Header = r.Header.Clone()
			return r, true
		}
	}
	return RequestRecord{}, false
}

// load starts the log with records a state file kept (redacted, scrubbed):
// the newest maxRequests with valid, increasing seqs; numbering goes on
// after them, so links to a request stay valid across restarts.
func (l *requestLog) load(recs []RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := make([]RequestRecord, 0, len(recs))
	for _, r := range recs {
		if r.Seq <= 0 || r.Seq > maxSeq || (len(kept) > 0 && r.Seq <= kept[len(kept)-1].Seq) {
			continue // a hand edit: dropped rather than refusing the whole state
		}
		r.redacted, r.Curl, r.body = true, "", nil
		if r.Findings == nil {
			r.Findings = []validate.Finding{}
		}
		kept = append(kept, r)
	}
	if len(kept) > maxRequests {
		kept = kept[len(kept)-maxRequests:]
	}
	l.recs = kept
	if n := len(kept); n > 0 && kept[n-1].Seq > l.seq {
		l.seq = kept[n-1].Seq
	}
}

// requestSection is the request log as the state file keeps it.
func (e *Emulator) requestSection() stateSection {
	recs := e.scrubbedRequests(0)
	items := make([]any, len(recs))
	for i := range recs {
		items[i] = &recs[i]
	}
	return stateSection{name: "requests", items: items}
}

// takeDirty reports whether the log changed since the last call.
func (l *requestLog) takeDirty() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.dirty
	l.dirty = false
	return d
}

func (l *requestLog) markDirty() {
	l.mu.Lock()
	l.dirty = true
	l.mu.Unlock()
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.recs = nil
	l.dirty = true
	l.mu.Unlock()
}

// EventRef is one event of a logged webhook post.
type EventRef struct {
	Type   string `json:"type"`
	MID    string `json:"mId,omitempty"`
	Status string `json:"status,omitempty"` // message_status: the status value
}

// maxPeekEvents bounds how many events of one post are described.
const maxPeekEvents = 100

// peekWebhook reads what a webhook body claims, without trusting it: the
// channel, the contact and the events (at most maxPeekEvents).
func peekWebhook(body []byte) (channelID, contactID string, evs []EventRef) {
	if len(body) == 0 || !gjson.ValidBytes(body) {
		return "", "", nil
	}
	b := gjson.ParseBytes(body)
	if !b.IsObject() {
		return "", "", nil
	}
	b.Get("events").ForEach(func(_, ev gjson.Result) bool {
		evs = append(evs, EventRef{Type: ev.Get("type").String(), MID: ev.Get("mId").String(), Status: ev.Get("status.value").String()})
		return len(evs) < maxPeekEvents
	})
	return b.Get("channelId").String(), b.Get("contactId").String(), evs
}

// describeRefused says what a refused post carried, for the live log.
func describeRefused(rec *RequestRecord) string {
	var parts []string
	if rec.ChannelID != "" {
		parts = append(parts, "channelId "+strconv.Quote(rec.ChannelID))
	}
	if rec.ContactID != "" {
		parts = append(parts, "contactId "+strconv.Quote(rec.ContactID))
	}
	for i, ev := range rec.Events {
		if i == 5 {
			parts = append(parts, "and "+ui.Plural(len(rec.Events)-i, "more event"))
			break
		}
		s := ev.Type
		if ev.Status != "" {
			s += " " + ev.Status
		}
		if ev.MID != "" {
			s += " mId " + strconv.Quote(ev.MID)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// Requests returns the logged requests with Seq greater than after (0: all
// kept), oldest first.
func (e *Emulator) Requests(after int64) []RequestRecord {
	recs := e.scrubbedRequests(after)
	for i := range recs {
		r := &recs[i]
		if r.redacted && r.Kind == RequestWebhook && e.url != "" {
			// Saved by an earlier run, perhaps on another port: the post
			// would go to this one now.
			if u, err := url.Parse(r.URL); err == nil && u.Path != "" {
				r.URL = e.url + u.RequestURI()
			}
		}
		r.Curl = curlOf(r)
	}
	return recs
}

// scrubbedRequests is Requests without the curl commands: what the state
// file keeps.
func (e *Emulator) scrubbedRequests(after int64) []RequestRecord {
	recs := e.reqs.since(after)
	// A channel token (or a provider fake's secret: a bot token in a path,
	// a path secret) can also turn up where it does not belong (a body, a
	// query string, a custom header): scrub it everywhere.
	secrets := make([]string, 0, len(e.channels))
	for _, c := range e.channels {
		secrets = append(secrets, c.Token)
	}
	for _, name := range e.hubOrder {
		secrets = append(secrets, e.hubs[name].secrets...)
	}
	for i := range recs {
		r := &recs[i]
		for _, tok := range secrets {
			r.URL, r.Body, r.ReplyBody, r.Error = scrub(r.URL, tok), scrub(r.Body, tok), scrub(r.ReplyBody, tok), scrub(r.Error, tok)
			for _, h := range []http.Header{r.Header, r.ReplyHeader} {
				for k, vs := range h {
					for j, v := range vs {
						h[k][j] = scrub(v, tok)
					}
				}
			}
		}
	}
	return recs
}

func (e *Emulator) handleRequests(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	writeJSON(w, http.StatusOK, map[string]any{"requests": e.Requests(after)})
}

// redactHeader copies h with credentials (Authorization, Cookie, X-Api-Key
// and the like) replaced by their redacted form (abcd…wxyz): the page and the
// log must never carry a usable token.
func redactHeader(h http.Header) http.Header { return ui.RedactHeader(h) }

func clipBody(b []byte) (string, bool) {
	if len(b) > maxLoggedBody {
		return string(b[:maxLoggedBody]), true
	}
	return string(b), false
}

// webhookRecord is the record being built for this webhook request: the
// handler's rejection and success paths attach the body and findings to it.
// The record rides on the ResponseWriter (not the request context) to spare
// the hot path a request copy.
func webhookRecord(w http.ResponseWriter) *RequestRecord {
	if rw, ok := w.(*recordingWriter); ok {
		return rw.rec
	}
	return nil
}

// unwrapRecorder returns the server's own writer, which http.MaxBytesReader
// needs to close the connection after an oversized body.
func unwrapRecorder(w http.ResponseWriter) http.ResponseWriter {
	if rw, ok := w.(*recordingWriter); ok {
		return rw.ResponseWriter
	}
	return w
}

// logWebhook wraps the webhook handler and records the exchange.
func (e *Emulator) logWebhook(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// r.Header is this request's own map and nothing changes it later;
		// it is redacted when records are handed out.
		rec := &RequestRecord{Time: start.UTC(), Kind: RequestWebhook, Method: r.Method, URL: e.url + r.URL.RequestURI(),
			Header: r.Header}
		if len(e.hubs) > 0 {
			// With the provider face, every post is tied to its flow,
			// even one refused before the handler reads it (a bad token).
			b, err := io.ReadAll(io.LimitReader(r.Body, e.maxBody+1))
			if err == nil {
				rec.body = b
				r.Body = io.NopCloser(bytes.NewReader(b))
			}
		}
		rw := &recordingWriter{ResponseWriter: w, rec: rec}
		next(rw, r)
		rec.Status = rw.status
		if len(e.hubs) > 0 {
			e.tieWebhookRecord(rec)
		}
		rec.ReplyHeader = w.Header().Clone()
		rec.ReplyBody, _ = clipBody(rw.body.Bytes())
		rec.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
		seq := e.logRequest(r.Context(), *rec)
		if resendOf(r.Context()) == nil { // the inbox's Resend is not the server retrying
			e.noteRetries(seq, rec)
		}
	}
}

// recordingWriter remembers the status and (bounded) body of an answer.
type recordingWriter struct {
	http.ResponseWriter
	rec    *RequestRecord
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if room := maxLoggedBody - w.body.Len(); room > 0 {
		if len(p) > room {
			w.body.Write(p[:room])
		} else {
			w.body.Write(p)
		}
	}
	return w.ResponseWriter.Write(p)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
