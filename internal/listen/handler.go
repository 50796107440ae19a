// Package listen is the /message endpoint of a Custom Channel integration
// server, as ccx plays it: it checks the Bearer token in constant time, the
// method, content type and body size, validates the body as an outgoing
// message (spec §3), answers by a reply policy (or forwards to the user's own
// server) and reports every call to OnCall. `ccx listen`, the emulator and the
// relay share it.
package listen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/tidwall/gjson"
)

// DefaultMaxBody caps a /message body when Options.MaxBody is 0.
const DefaultMaxBody int64 = 1 << 20

// Auth verdicts carried by Call.Auth.
const (
	AuthOK        = "ok"         // Bearer token matched
	AuthMissing   = "missing"    // no Authorization header
	AuthWrong     = "wrong"      // Bearer with another token
	AuthBadScheme = "bad-scheme" // Authorization present but not "Bearer <token>"
	AuthSkipped   = "skipped"    // not checked (unknown path)
)

// Options configure a Handler.
type Options struct {
	Token     string         // required Bearer token
	ChannelID string         // optional: expected channelId (mismatch → 400)
	IDType    channel.IDType // contactId rules; "": it must fit one of the two types
	Lenient   bool           // accept-and-warn instead of 400 on validation errors
	MaxBody   int64          // 0 → DefaultMaxBody
	Reply     ReplyPolicy    // default: 200 {"mId": fresh}
	OnCall    func(Call)     // every call, after the reply is written

	// OnRequest, when set, sees each call once it is read and judged but
	// before the reply (Status, ReplyBody and Latency still zero): printers
	// use it for Stripe-style "-->" lines while a slow reply is pending.
	OnRequest func(Call)

	// ForwardTo, when set, is a URL that receives every call byte-for-byte
	// (same method, body and headers); its answer is what goes back.
	ForwardTo string
	// ForwardTimeout bounds one forward (0 → outgoing.DefaultTimeout, the
	// platform's patience as ccx plays it).
	ForwardTimeout time.Duration
	// Client forwards; nil → a plain client (ForwardTimeout applies).
	Client *http.Client
}

// ReplyPolicy says how the handler answers a call that passed its checks.
type ReplyPolicy struct {
	Status     int           // 0 → 200; any other status answers {"error":{"message":Message}}
	Message    string        // error message for a non-200 Status
	FailRate   float64       // 0..1: share of calls answered with FailStatus instead
	FailStatus int           // 0 → 500
	Latency    time.Duration // wait this long before answering (simulates a slow provider)
}

// Call is one request the handler saw, with its verdicts and the reply sent.
type Call struct {
	ID           string              `json:"id"`
	Time         time.Time           `json:"time"`
	Method       string              `json:"method"`
	Path         string              `json:"path"`
	Remote       string              `json:"remote,omitempty"`
	Header       http.Header         `json:"header"` // credentials and the token redacted
	Body         []byte              `json:"-"`      // exact bytes but the token redacted; see MarshalJSON
	Auth         string              `json:"auth"`
	Kind         channel.MessageType `json:"type,omitempty"` // message.type as sent
	ChannelID    string              `json:"channelId,omitempty"`
	ContactID    string              `json:"contactId,omitempty"`
	Message      *channel.Message    `json:"message,omitempty"`
	Findings     []validate.Finding  `json:"findings"`
	Status       int                 `json:"status"`
	ReplyHeader  http.Header         `json:"replyHeader,omitempty"`
	ReplyBody    []byte              `json:"-"`
	Latency      time.Duration       `json:"-"`
	Forwarded    bool                `json:"forwarded,omitempty"`
	ForwardError string              `json:"forwardError,omitempty"`
	// Verdict and ReplyFindings judge a forwarded call's reply exactly as
	// `ccx trigger` does (absent when ccx answered itself).
	Verdict       verdict.Verdict    `json:"verdict,omitempty"`
	ReplyFindings []validate.Finding `json:"replyFindings,omitempty"`

	messageJSON []byte // Message as json.Marshal writes it, when public() had it
}

// Handler serves the /message route. It is safe for concurrent use.
type Handler struct {
	opts   Options
	token  []byte
	client *http.Client
	seq    atomic.Uint64
	prefix string
}

// NewHandler builds a Handler; opts.Token must be set (an empty token would
// accept "Bearer " with nothing after it, which is never what anyone wants).
func NewHandler(opts Options) *Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.ForwardTimeout <= 0 {
		opts.ForwardTimeout = outgoing.DefaultTimeout
	}
	c := opts.Client
	if c == nil {
		c = &http.Client{}
	}
	var p [3]byte
	_, _ = rand.Read(p[:])
	// Callers compare a trimmed header, so the configured token is trimmed too:
	// one with a trailing newline would otherwise refuse every call.
	return &Handler{opts: opts, token: []byte(strings.TrimSpace(opts.Token)), client: c, prefix: hex.EncodeToString(p[:])}
}

// nextID returns a short call id, unique within this handler and unlikely to
// repeat across runs (a random prefix plus a sequence number).
func (h *Handler) nextID() string {
	n := strconv.FormatUint(h.seq.Add(1), 10)
	if len(n) < 4 {
		n = "000"[len(n)-1:] + n // %04d
	}
	return h.prefix + "-" + n
}

// CheckAuth judges an Authorization header against token in constant time.
// The scheme is case-insensitive (RFC 9110 §11.1).
func CheckAuth(header string, token []byte) string {
	if header == "" {
		return AuthMissing
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return AuthBadScheme
	}
	cred = strings.TrimSpace(cred)
	if len(token) == 0 || subtle.ConstantTimeCompare([]byte(cred), token) != 1 {
		return AuthWrong
	}
	return AuthOK
}

// RedactHeader copies h with every credential header redacted
// (Authorization, Proxy-Authorization, X-Forwarded-Authorization, Cookie,
// X-Api-Key, X-Auth-Token and the like; see ui.RedactHeader): whatever was
// sent, right or wrong, might be somebody's secret.
func RedactHeader(h http.Header, secrets ...string) http.Header {
	return ui.RedactHeader(h, secrets...)
}

// public is the call as printers and records see it: the configured token
// redacted wherever the caller put it (query, any header, body, findings,
// the reply), on top of the credential headers. The handler itself keeps
// the exact bytes, to validate and forward them.
func (h *Handler) public(c Call) Call {
	tok := h.opts.Token
	if tok == "" {
		return c
	}
	if b := redactBytes(c.Body, tok); b != nil {
		c.Body, c.Message = b, nil
		h.describe(&c) // the decoded message must not show it either
	}
	// JSON escapes ("\u0061...") hide the token from the raw body, not from
	// the decoded fields.
	c.ChannelID, c.ContactID = ui.RedactIn(c.ChannelID, tok), ui.RedactIn(c.ContactID, tok)
	c.Kind = channel.MessageType(ui.RedactIn(string(c.Kind), tok))
	if c.Message != nil {
		if b, err := ui.Marshal(c.Message); err == nil {
			if r := redactBytes(b, tok); r != nil {
				var m channel.Message
				if json.Unmarshal(r, &m) == nil {
					c.Message = &m
				} else {
					c.Message = nil
				}
			} else {
				c.messageJSON = b // the record writes these bytes, not a second Marshal
			}
		}
	}
	if len(c.Findings) > 0 {
		fs := make([]validate.Finding, len(c.Findings))
		for i, f := range c.Findings {
			f.Message, f.Path = ui.RedactIn(f.Message, tok), ui.RedactIn(f.Path, tok)
			fs[i] = f
		}
		c.Findings = fs
	}
	if b := redactBytes(c.ReplyBody, tok); b != nil {
		c.ReplyBody = b
	}
	if c.ReplyHeader != nil && ui.HeaderHasSecrets(c.ReplyHeader, tok) {
		c.ReplyHeader = ui.RedactHeader(c.ReplyHeader, tok) // else it is already the call's own copy
	}
	c.ForwardError = ui.RedactIn(c.ForwardError, tok)
	return c
}

// redactBytes returns b with the token redacted, or nil when it has none.
func redactBytes(b []byte, tok string) []byte {
	if len(b) == 0 {
		return nil
	}
	s := unsafe.String(unsafe.SliceData(b), len(b)) // RedactIn returns s itself when it finds nothing
	r := ui.RedactIn(s, tok)
	if r == s {
		return nil
	}
	return []byte(r)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := Call{
		ID: h.nextID(), Time: start, Method: r.Method, Path: ui.RedactURI(r.URL.RequestURI(), h.opts.Token),
		Remote: r.RemoteAddr, Header: RedactHeader(r.Header, h.opts.Token), Findings: []validate.Finding{},
	}
	c.Auth = CheckAuth(r.Header.Get("Authorization"), h.token)

	// Read the body first (bounded), so forwarding and records see it whatever
	// the verdict.
	body, tooBig, readErr := readBody(r.Body, h.opts.MaxBody)
	c.Body = body
	if !tooBig {
		h.describe(&c)
	}

	status, msg := h.judge(r, &c, tooBig, readErr)

	if h.opts.OnRequest != nil {
		h.opts.OnRequest(h.public(c))
	}

	switch {
	case h.opts.ForwardTo != "" && !tooBig && readErr == nil:
		h.forward(w, r, &c)
	case status != 0:
		h.writeError(w, &c, status, msg)
	default:
		h.reply(w, r, &c)
	}
	c.Latency = time.Since(start)
	if h.opts.OnCall != nil {
		h.opts.OnCall(h.public(c))
	}
}

// judge runs the checks in order: auth, method, content type, size, body.
// It fills the call's findings and returns the error status and message, or
// 0 when the call passes.
func (h *Handler) judge(r *http.Request, c *Call, tooBig bool, readErr error) (int, string) {
	switch c.Auth {
	case AuthMissing:
		return http.StatusUnauthorized, "missing Authorization header: send Authorization: Bearer <API token>"
	case AuthBadScheme:
		return http.StatusUnauthorized, "Authorization must be \"Bearer <API token>\""
	case AuthWrong:
		return http.StatusUnauthorized, "invalid API token"
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: /message takes POST", r.Method)
	}
	if tooBig {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.opts.MaxBody)
	}
	if readErr != nil {
		return http.StatusBadRequest, "cannot read body: " + readErr.Error()
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !isJSONType(mt) {
		f := validate.Finding{Severity: validate.Error, Rule: "content-type", Line: 1, Column: 1,
			Message: fmt.Sprintf("Content-Type %q: send application/json", ct)}
		if !h.opts.Lenient {
			c.Findings = append(c.Findings, f)
			return http.StatusUnsupportedMediaType, f.Message
		}
		f.Severity = validate.Warning
		c.Findings = append(c.Findings, f)
	}

	rep := validate.Bytes(c.Body, validate.Options{Kind: validate.KindMessage, IDType: h.opts.IDType, ChannelID: h.opts.ChannelID})
	c.Findings = append(c.Findings, rep.Findings...)
	if h.opts.ChannelID != "" && gjson.ValidBytes(c.Body) {
		if v := gjson.GetBytes(c.Body, "channelId"); v.Type == gjson.String && v.Str != h.opts.ChannelID && !hasRule(c.Findings, validate.RuleChannelIDMismatch) {
			line, col := validate.Position(c.Body, v.Index)
			c.Findings = append(c.Findings, validate.Finding{Severity: validate.Error, Rule: validate.RuleChannelIDMismatch,
				Path: "channelId", Line: line, Column: col,
				Message: fmt.Sprintf("channelId %q is not this channel's id", v.Str)})
		}
	}
	var errs []string
	for i, f := range c.Findings {
		if f.Severity != validate.Error {
			continue
		}
		if h.opts.Lenient {
			c.Findings[i].Severity = validate.Warning
			continue
		}
		errs = append(errs, findingText(f))
	}
	if len(errs) > 0 {
		return http.StatusBadRequest, strings.Join(errs, "; ")
	}
	return 0, ""
}

func findingText(f validate.Finding) string {
	if f.Path != "" {
		return fmt.Sprintf("%s: %s (%s)", f.Path, f.Message, f.Rule)
	}
	return fmt.Sprintf("%s (%s)", f.Message, f.Rule)
}

func hasRule(fs []validate.Finding, rule string) bool {
	for _, f := range fs {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

func isJSONType(mt string) bool {
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// describe extracts the readable parts of the body for printers: ids, type
// and, when it decodes, the message itself.
// One pass over the top level finds what gjson.Get would for "channelId",
// "contactId", "message" (the first of each) and "message.type" (the first
// "type" in a "message" object), on a view of the body: only the strings
// kept are copied.
func (h *Handler) describe(c *Call) {
	if !gjson.ValidBytes(c.Body) {
		return
	}
	var ch, ct, typ, msg gjson.Result
	gjson.Parse(unsafe.String(unsafe.SliceData(c.Body), len(c.Body))).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "channelId":
			if !ch.Exists() {
				ch = v
			}
		case "contactId":
			if !ct.Exists() {
				ct = v
			}
		case "message":
			if !msg.Exists() {
				msg = v
			}
			if !typ.Exists() && v.IsObject() {
				typ = v.Get("type")
			}
		}
		return true
	})
	c.ChannelID, c.ContactID, c.Kind = strings.Clone(ch.Str), strings.Clone(ct.Str), channel.MessageType(strings.Clone(typ.Str))
	if msg.IsObject() {
		var m channel.Message
		if json.Unmarshal(unsafe.Slice(unsafe.StringData(msg.Raw), len(msg.Raw)), &m) == nil { // it copies what it keeps
			c.Message = &m
		}
	}
}

func readBody(r io.Reader, max int64) ([]byte, bool, error) {
	if r == nil {
		return nil, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(b)) > max {
		return b[:max], true, nil
	}
	return b, false, err
}

func (h *Handler) reply(w http.ResponseWriter, r *http.Request, c *Call) {
	p := h.opts.Reply
	if p.Latency > 0 {
		t := time.NewTimer(p.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if p.FailRate > 0 && chance(p.FailRate) {
		st := p.FailStatus
		if st == 0 {
			st = http.StatusInternalServerError
		}
		h.writeError(w, c, st, fmt.Sprintf("simulated failure (fail rate %g)", p.FailRate))
		return
	}
	if p.Status != 0 && p.Status != http.StatusOK {
		msg := p.Message
		if msg == "" {
			msg = http.StatusText(p.Status)
		}
		h.writeError(w, c, p.Status, msg)
		return
	}
	body := make([]byte, 0, 64)
	body = append(body, `{"mId":"`...)
	body = append(body, channel.NewMID()...)
	body = append(body, `"}`...)
	h.write(w, c, http.StatusOK, body)
}

// WriteError answers {"error":{"message":msg}} with status: the only error
// shape the platform knows (spec §3.3).
func WriteError(w http.ResponseWriter, status int, msg string) []byte {
	b, _ := json.Marshal(channel.NewErrorReply(msg))
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return b
}

func (h *Handler) writeError(w http.ResponseWriter, c *Call, status int, msg string) {
	c.Status = status
	c.ReplyBody = WriteError(w, status, msg)
	c.ReplyHeader = w.Header().Clone()
}

func (h *Handler) write(w http.ResponseWriter, c *Call, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	c.Status, c.ReplyBody = status, body
	c.ReplyHeader = w.Header().Clone()
}

// hopHeaders are per-connection headers a proxy must not pass on (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward passes the call to ForwardTo with the same method, body and
// headers (token included: the user's server checks it) and relays its answer.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, c *Call) {
	c.Forwarded = true
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.ForwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, h.opts.ForwardTo, bytes.NewReader(c.Body))
	if err != nil {
		c.ForwardError, c.Verdict = err.Error(), verdict.Network
		h.writeError(w, c, http.StatusBadGateway, "ccx listen: cannot forward: "+err.Error())
		return
	}
	req.Header = r.Header.Clone()
	for _, k := range hopHeaders {
		req.Header.Del(k)
	}
	req.Host = ""
	resp, err := h.client.Do(req)
	if err != nil {
		h.forwardFailed(w, c, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, h.opts.MaxBody))
	if err != nil {
		c.ForwardError = err.Error()
	}
	for k, vs := range resp.Header {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(b)
	c.Status, c.ReplyBody = resp.StatusCode, b
	c.ReplyHeader = w.Header().Clone()
	c.ReplyFindings = outgoing.Judge(resp.StatusCode, resp.Header, b)
	c.Verdict = outgoing.Classify(resp.StatusCode, resp.Header, b, c.ReplyFindings)
}

// forwardFailed answers for a server that gave no HTTP answer: 504 when it
// ran out of time, 502 otherwise.
func (h *Handler) forwardFailed(w http.ResponseWriter, c *Call, err error) {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		c.Verdict = verdict.Timeout
		c.ForwardError = fmt.Sprintf("no answer within %v (timeout)", h.opts.ForwardTimeout)
		h.writeError(w, c, http.StatusGatewayTimeout, "ccx listen: your server did not answer within "+h.opts.ForwardTimeout.String())
		return
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	c.Verdict, c.ForwardError = verdict.Network, err.Error()
	h.writeError(w, c, http.StatusBadGateway, "ccx listen: forward to your server failed: "+err.Error())
}

func chance(p float64) bool {
	if p >= 1 {
		return true
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return false
	}
	return float64(n.Int64()) < p*1_000_000
}
