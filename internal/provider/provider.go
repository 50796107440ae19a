// Package provider defines the small contract between the relay engine and
// one messaging provider: send an outgoing platform message, verify and parse
// the provider's webhooks. Adapters are stateless about delivery: the engine
// owns durability, retries, de-duplication and status ordering.
package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// Adapter is one provider.
type Adapter interface {
	// Name is the path segment of the adapter's webhooks: /providers/<name>/...
	Name() string
	// Send delivers one platform message and returns the provider's id for it
	// (≤ 50 chars; it becomes the platform's mId). Failures are *Error.
	Send(ctx context.Context, req channel.OutgoingRequest) (string, error)
	// Verify checks a webhook's signature or secret on the raw body before
	// anything is parsed; a failure is answered 401/403 by the engine.
	Verify(r *http.Request, body []byte) error
	// Parse turns a verified webhook into normalised inbound events. An empty
	// slice is a webhook that carries nothing for the platform (acked anyway).
	Parse(r *http.Request, body []byte) ([]Inbound, error)
}

// Acker is implemented by adapters whose provider expects a particular
// success body (Twilio wants TwiML).
type Acker interface {
	Ack(w http.ResponseWriter)
}

// Responder is implemented by adapters whose answer depends on the
// webhook (the generic adapter's configured responses).
type Responder interface {
	Respond(w http.ResponseWriter, r *http.Request) bool
}

// Source is implemented by adapters that produce inbound events without a
// webhook (loopback). The engine installs the sink before serving; the sink
// returns once the events are durable.
type Source interface {
	SetSink(func(ctx context.Context, in []Inbound) error)
}

// SentOnAccept is implemented by adapters whose provider has no delivery
// receipts (Telegram): the engine synthesises a `sent` receipt when Send
// succeeds (docs/relay.md).
type SentOnAccept interface {
	SentOnAccept() bool
}

// Unverified is implemented by adapters that can be configured so that a
// webhook is checked by nothing (ClickSend without its path secret, a generic
// adapter hook with auth "none"): anyone who finds the URL could store
// customer messages. The engine refuses such an adapter unless told to accept
// that, and then logs a warning on every such request.
type Unverified interface {
	// Unverified names each webhook nothing verifies; empty when all are checked.
	Unverified() []string
	// UnverifiedRequest reports whether r is for such a webhook.
	UnverifiedRequest(r *http.Request) bool
}

// MediaOpener is implemented by adapters whose inbound media URLs need the
// provider credentials (docs/relay.md). The engine serves
// GET /media/<name>/<signed ref> and calls OpenMedia with the ref.
type MediaOpener interface {
	OpenMedia(ctx context.Context, ref string) (*http.Response, error)
}

// Kind of an inbound event.
type Kind string

const (
	KindMessage Kind = "message"
	KindEcho    Kind = "message_echo"
	KindStatus  Kind = "message_status"
)

// Inbound is one normalised event from the provider.
type Inbound struct {
	Kind Kind
	// ProviderID is the provider's id of the message (inbound) or of the
	// message whose status changed (status): the de-duplication key and,
	// shortened to ≤ 50 chars by MID, the platform mId.
	ProviderID string
	// ContactID in the platform's ID format; may be empty for a status when
	// the provider does not say (the engine knows it from the send).
	ContactID string
	Timestamp int64 // unix ms; 0 → receive time
	Message   *channel.Message
	// MediaRef, when set on an attachment, is an adapter-private reference the
	// engine turns into a /media/ URL instead of exposing a credentialed one.
	MediaRef string
	Status   *channel.Status
	Contact  *channel.Contact
}

// MID is the platform mId for a provider id: the id itself when it fits,
// else a stable shortened form (so retries map to the same mId).
func MID(providerID string) string {
	if len(providerID) <= channel.MaxMIDLen {
		return providerID
	}
	return providerID[:channel.MaxMIDLen-9] + "-" + fmt.Sprintf("%08x", fnv32(providerID))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Error is a failed send, with what the provider said.
type Error struct {
	// Status is what the relay answers the platform: always 4xx (spec §3.3).
	Status int
	// Message is for the platform's {"error":{"message":...}}.
	Message string
	// Retryable: the provider was unreachable, rate-limited or failing (5xx);
	// the engine may try again before answering.
	Retryable  bool
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// ErrUnsupported is wrapped by adapters for message types they cannot send.
var ErrUnsupported = errors.New("unsupported message type")

// Unsupported is the error for a message type without a rendering.
func Unsupported(provider string, t channel.MessageType) *Error {
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("%s: unsupported message type %q", provider, t)}
}

// FromHTTP builds an Error for a provider HTTP failure: 401/403 → the platform
// is told the credentials are bad; 429 and 5xx are retryable.
func FromHTTP(provider string, status int, detail string, retryAfter time.Duration) *Error {
	e := &Error{Status: http.StatusBadRequest, RetryAfter: retryAfter}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden && strings.Contains(strings.ToLower(detail), "auth"):
		e.Message = fmt.Sprintf("%s rejected the relay's credentials (%d): %s", provider, status, detail)
	case status == http.StatusTooManyRequests:
		e.Status, e.Retryable = http.StatusTooManyRequests, true
		e.Message = fmt.Sprintf("%s rate limit (429): %s", provider, detail)
	case status >= 500:
		e.Retryable = true
		e.Message = fmt.Sprintf("%s failed (%d): %s", provider, status, detail)
	default:
		e.Message = fmt.Sprintf("%s refused the message (%d): %s", provider, status, detail)
	}
	return e
}

// Network builds an Error for a provider that did not answer.
func Network(provider string, err error) *Error {
	return &Error{Status: http.StatusBadRequest, Retryable: true, Message: fmt.Sprintf("%s unreachable: %v", provider, err)}
}

// RetryAfterHeader parses a Retry-After seconds header (0 if absent).
func RetryAfterHeader(h http.Header) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// StatusRank orders statuses so the engine never downgrades (docs/relay.md):
// read > delivered > sent; failed overrides only sent.
func StatusRank(v channel.StatusValue) int {
	switch v {
	case channel.StatusSent:
		return 1
	case channel.StatusFailed:
		return 2
	case channel.StatusDelivered:
		return 3
	case channel.StatusRead:
		return 4
	}
	return 0
}

// Fallback renderings for providers without rich types, shared so every
// adapter and docs/relay.md agree.

// QuickReplyText renders a quick reply as a numbered list.
func QuickReplyText(m channel.Message) string {
	var b strings.Builder
	b.WriteString(m.Title)
	for i, r := range m.Replies {
		fmt.Fprintf(&b, "\n%d. %s", i+1, r)
	}
	return b.String()
}

// LocationText renders a location as "📍 address (lat,lng)".
func LocationText(m channel.Message) string {
	lat, lng := 0.0, 0.0
	if m.Latitude != nil {
		lat = *m.Latitude
	}
	if m.Longitude != nil {
		lng = *m.Longitude
	}
	coords := strconv.FormatFloat(lat, 'f', -1, 64) + "," + strconv.FormatFloat(lng, 'f', -1, 64)
	if m.Address == "" {
		return "📍 (" + coords + ")"
	}
	return "📍 " + m.Address + " (" + coords + ")"
}

// AttachmentText renders an attachment as its caption and URL.
func AttachmentText(a *channel.Attachment) string {
	label := a.Description
	if label == "" {
		label = a.FileName
	}
	if label == "" {
		return "📎 " + a.URL
	}
	return "📎 " + label + " " + a.URL
}

// PlainText is the text rendering of any message (SMS-like providers).
func PlainText(m channel.Message) (string, bool) {
	switch m.Type {
	case channel.MessageText:
		return m.Text, true
	case channel.MessageQuickReply:
		return QuickReplyText(m), true
	case channel.MessageLocation:
		return LocationText(m), true
	case channel.MessageAttachment:
		if m.Attachment == nil {
			return "", false
		}
		return AttachmentText(m.Attachment), true
	}
	return "", false
}

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("webhook signature or secret did not verify")

// ErrUnsigned is returned by Verify for a webhook with no signature at all
// from a provider that documents an unsigned callback on its own internal
// error and asks for a 5xx (Vonage): the engine answers 503, so the
// provider retries, signed.
var ErrUnsigned = errors.New("webhook carries no signature")

// ParseError is a webhook the adapter could not read (answered 400).
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

// Bad builds a ParseError.
func Bad(format string, a ...any) error { return &ParseError{Msg: fmt.Sprintf(format, a...)} }

// Do runs an HTTP request for an adapter and returns status, headers and up to
// 1 MiB of body; a transport failure is a retryable *Error.
func Do(ctx context.Context, c *http.Client, name string, req *http.Request) (int, http.Header, []byte, error) {
	if c == nil {
		c = DefaultClient
	}
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		// A *url.Error repeats the URL, which can hold a credential (the
		// Telegram bot token is a path segment): keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, nil, Network(name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, Network(name, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// DefaultClient is used when an adapter has no client: bounded, pooled.
var DefaultClient = &http.Client{
	Timeout: 15 * time.Second,
	Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
	},
}

// Snip cuts provider text for an error message.
func Snip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// JoinNonEmpty joins the parts that are not blank (trimmed), for captions and
// names that providers split over optional fields.
func JoinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
