// Package outgoing plays the platform's side of the /message call: it POSTs
// an outgoing message to an integration server's <base URL>/message with the
// channel's Bearer token and judges the reply against the contract (spec
// §3.3). trigger, replay, check and the emulator share it.
package outgoing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/tidwall/gjson"
)

// DefaultTimeout bounds one call: a server that hangs is a failure, not a
// frozen ccx.
const DefaultTimeout = 10 * time.Second

// MaxReplyBody caps how much of a reply is read.
const MaxReplyBody = 1 << 20

// Client calls <BaseURL>/message as the platform does.
type Client struct {
	BaseURL string        // the integration server's API base URL
	Token   string        // the channel's API token (sent as Bearer)
	Timeout time.Duration // per call; 0 → DefaultTimeout
	HTTP    *http.Client  // nil → a plain client (Timeout applies through the context)
}

// MessageURL joins the base URL and /message the way the platform does: it
// appends the path, keeping any query.
func MessageURL(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return "", fmt.Errorf("invalid base URL %q: %v", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid base URL %q: want an absolute http(s) URL such as http://127.0.0.1:3030", base)
	}
	u.Path = strings.TrimRight(u.Path, "/") + channel.MessagePath
	u.RawPath = ""
	return u.String(), nil
}

// Request is one call to make. Header, when set, replaces the default
// headers entirely (check uses it to omit or spoil the token).
type Request struct {
	Method string // "" → POST
	Path   string // "" → /message appended to the base URL; else a path replacing it (replay)
	Body   []byte
	Header http.Header
}

// Result is the outcome of one call.
type Result struct {
	URL     string        `json:"url"`
	Status  int           `json:"status"`
	Header  http.Header   `json:"-"`
	Body    []byte        `json:"-"`
	Latency time.Duration `json:"-"`
	// Err is a transport failure (refused, reset, timeout): no HTTP answer.
	Err     error `json:"-"`
	Timeout bool  `json:"timeout,omitempty"`
}

// DefaultHeader is what the platform sends (spec §3.1).
func (c *Client) DefaultHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer "+c.Token)
	h.Set("User-Agent", "ccx (IS-Messenger Custom Channel emulation)")
	return h
}

// Body marshals the outgoing request the platform would send.
func Body(channelID, contactID string, m channel.Message) []byte {
	b, _ := ui.Marshal(channel.OutgoingRequest{ChannelID: channelID, ContactID: contactID, Message: m})
	return b
}

// Do makes one call. Transport errors are in Result.Err, never returned: the
// only returned error is a bad base URL.
func (c *Client) Do(ctx context.Context, req Request) (*Result, error) {
	target, err := MessageURL(c.BaseURL)
	if err != nil {
		return nil, err
	}
	if req.Path != "" {
		u, _ := url.Parse(target)
		p, q, _ := strings.Cut(req.Path, "?")
		base, _ := url.Parse(strings.TrimSpace(c.BaseURL))
		u.Path = strings.TrimRight(base.Path, "/") + p
		u.RawQuery = q
		target = u.String()
	}
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	hr.Header = req.Header
	if hr.Header == nil {
		hr.Header = c.DefaultHeader()
	}
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	res := &Result{URL: target}
	start := time.Now()
	resp, err := client.Do(hr)
	if err != nil {
		res.Latency = time.Since(start)
		res.Err, res.Timeout = cleanErr(err, timeout)
		return res, nil
	}
	defer resp.Body.Close()
	res.Body, err = io.ReadAll(io.LimitReader(resp.Body, MaxReplyBody))
	res.Latency = time.Since(start)
	res.Status, res.Header = resp.StatusCode, resp.Header
	if err != nil {
		res.Err, res.Timeout = cleanErr(err, timeout)
	}
	return res, nil
}

// cleanErr turns a transport error into a short sentence (no URL repeated,
// no token: headers never appear in net/http errors).
func cleanErr(err error, timeout time.Duration) (error, bool) {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("no answer within %v (timeout)", timeout), true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err, false
}

// Rule ids for reply problems found here (besides validate's own).
const (
	RuleReplyContentType = "reply-content-type"
	RuleReplyNotJSON     = "reply-not-json"
)

// Judge checks a /message reply against the contract: 200 with a string mId
// of at most 50 characters, or 4xx with {"error":{"message":...}}. It runs the
// shared validator and backs it up with the contract's own minimum, so a
// verdict never depends on how complete the validator is.
func Judge(status int, header http.Header, body []byte) []validate.Finding {
	rep := validate.Bytes(body, validate.Options{Kind: validate.KindReply, ReplyStatus: status})
	fs := append([]validate.Finding{}, rep.Findings...)
	add := func(sev validate.Severity, rule, path, format string, args ...any) {
		for _, f := range fs {
			if f.Rule == rule && f.Path == path {
				return
			}
		}
		fs = append(fs, validate.Finding{Severity: sev, Rule: rule, Path: path, Line: 1, Column: 1, Message: fmt.Sprintf(format, args...)})
	}
	// The backstop speaks only when the validator found nothing wrong, so a
	// problem is reported once.
	switch backstop := !rep.HasErrors(); {
	case !backstop:
	case status == http.StatusOK:
		mid := gjson.GetBytes(body, "mId")
		switch {
		case !gjson.ValidBytes(body):
			add(validate.Error, RuleReplyNotJSON, "", "200 reply is not JSON: the platform needs {\"mId\": \"...\"}")
		case !mid.Exists():
			add(validate.Error, validate.RuleRequired, "mId", "200 reply has no \"mId\": the platform needs the provider's message id")
		case mid.Type != gjson.String:
			add(validate.Error, validate.RuleType, "mId", "\"mId\" must be a string, got %s", mid.Type)
		case mid.Str == "":
			add(validate.Error, validate.RuleEmpty, "mId", "\"mId\" is empty")
		case utf8.RuneCountInString(mid.Str) > channel.MaxMIDLen:
			add(validate.Error, validate.RuleMIDLength, "mId", "mId is %d characters; the maximum is %d", utf8.RuneCountInString(mid.Str), channel.MaxMIDLen)
		}
	case status >= 400 && status < 500:
		m := gjson.GetBytes(body, "error.message")
		if m.Type != gjson.String {
			add(validate.Error, validate.RuleRequired, "error.message", "%d reply needs {\"error\":{\"message\":\"...\"}} so the platform can show why", status)
		}
	default:
		add(validate.Error, validate.RuleReplyStatus, "", "status %d: the platform expects 200 with an mId or a 4xx with error.message", status)
	}
	if ct := header.Get("Content-Type"); len(body) > 0 && !strings.Contains(ct, "json") {
		add(validate.Warning, RuleReplyContentType, "", "Content-Type %q: send application/json", ct)
	}
	return fs
}

// HasErrors reports whether fs holds an error finding.
func HasErrors(fs []validate.Finding) bool {
	for _, f := range fs {
		if f.Severity == validate.Error {
			return true
		}
	}
	return false
}

// Classify is the verdict on a reply that arrived, given Judge's findings:
// the status decides (401/403 is auth whatever the body), and a reply that
// breaks the contract turns ok or refused into wrong-reply.
func Classify(status int, header http.Header, body []byte, findings []validate.Finding) verdict.Verdict {
	v := verdict.OfStatus(status, header, body)
	if (v == verdict.OK || v == verdict.Refused) && HasErrors(findings) {
		return verdict.WrongReply
	}
	return v
}

// Verdict is the verdict on the whole call: transport failures first, then
// Classify.
func (r *Result) Verdict(findings []validate.Finding) verdict.Verdict {
	switch {
	case r.Err != nil && r.Timeout:
		return verdict.Timeout
	case r.Err != nil:
		return verdict.Network
	}
	return Classify(r.Status, r.Header, r.Body, findings)
}

// Explain puts a verdict on a /message reply into words for printers: a
// short label ("ok", "refused", ...) and what it means for the platform.
func Explain(v verdict.Verdict, status int, h http.Header) (label, text string) {
	switch v {
	case verdict.OK:
		return "ok", "200 with a valid mId"
	case verdict.Auth:
		return "auth rejected", fmt.Sprintf("the server refused the token (%d)", status)
	case verdict.Refused:
		return "refused", fmt.Sprintf("a well-formed refusal (%d); the platform would mark the message failed", status)
	case verdict.NoRoute:
		return "no route", "404: nothing answers <base>/message there; is the base URL right (without /message)?"
	case verdict.RateLimited:
		s := "429: the server is rate limiting"
		if ra := h.Get("Retry-After"); ra != "" {
			s += " (Retry-After " + ra + ")"
		}
		return "rate limited", s
	case verdict.ServerError:
		return "server error", fmt.Sprintf("%d: bad input must get a 4xx with error.message, good input 200 with an mId", status)
	case verdict.Timeout:
		return "timeout", "no answer in time; the platform would give up on this message"
	case verdict.Network:
		return "network", "no HTTP answer"
	case verdict.Interrupted:
		return "interrupted", "stopped before the reply"
	}
	return "wrong reply", "the reply breaks the /message contract (200 with mId, or 4xx with error.message)"
}
