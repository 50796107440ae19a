// Package clicksend is the relay adapter for ClickSend REST v3 (SMS/MMS), the
// platform's own reference provider (docs/provider.md).
package clicksend

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// DefaultBaseURL is ClickSend's API.
const DefaultBaseURL = "https://rest.clicksend.com"

// Options configure the adapter.
type Options struct {
	BaseURL  string
	Username string
	APIKey   string
	From     string // sender id; "" lets ClickSend pick
	// Secret protects the push URLs (ClickSend signs nothing): inbound pushes
	// go to /providers/clicksend/inbound/<Secret>, receipts to .../receipt/<Secret>.
	Secret string
	Client *http.Client
}

// Adapter is the ClickSend adapter.
type Adapter struct{ o Options }

// New builds an adapter.
func New(o Options) *Adapter {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &Adapter{o: o}
}

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "clicksend" }

type smsMessage struct {
	To      string `json:"to"`
	Body    string `json:"body"`
	From    string `json:"from,omitempty"`
	Source  string `json:"source"`
	Subject string `json:"subject,omitempty"`
}

type sendBody struct {
	MediaFile string       `json:"media_file,omitempty"`
	Messages  []smsMessage `json:"messages"`
}

// Request renders the ClickSend call for a platform message: path and JSON
// body. Exported so the generic-adapter golden test can compare wire bytes.
func (a *Adapter) Request(req channel.OutgoingRequest) (string, []byte, error) {
	m := req.Message
	msg := smsMessage{To: req.ContactID, From: a.o.From, Source: "ccx"}
	path := "/v3/sms/send"
	var body sendBody
	if m.Type == channel.MessageAttachment && m.Attachment != nil && m.Attachment.Type == channel.AttachmentImage {
		// MMS: media is per request; the caption goes in the body.
		path = "/v3/mms/send"
		body.MediaFile = m.Attachment.URL
		msg.Subject = m.Attachment.FileName
		msg.Body = m.Attachment.Description
	} else {
		text, ok := provider.PlainText(m)
		if !ok {
			return "", nil, provider.Unsupported("clicksend", m.Type)
		}
		msg.Body = text
	}
	body.Messages = []smsMessage{msg}
	b, err := json.Marshal(body)
	return path, b, err
}

// Send implements provider.Adapter.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	path, b, err := a.Request(req)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+path, bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.SetBasicAuth(a.o.Username, a.o.APIKey)
	status, h, body, err := provider.Do(ctx, a.o.Client, "ClickSend", hr)
	if err != nil {
		return "", err
	}
	return ParseSendResponse(status, h, body)
}

// ParseSendResponse reads ClickSend's envelope. A 200 can still carry a
// failed message: the per-message status decides.
func ParseSendResponse(status int, h http.Header, body []byte) (string, error) {
	r := gjson.ParseBytes(body)
	code, msg := r.Get("response_code").String(), r.Get("response_msg").String()
	if status != http.StatusOK {
		detail := strings.TrimSpace(code + " " + msg)
		if detail == "" {
			detail = provider.Snip(string(body))
		}
		return "", provider.FromHTTP("ClickSend", status, detail, provider.RetryAfterHeader(h))
	}
	m := r.Get("data.messages.0")
	if !m.Exists() {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "ClickSend: no message in the response: " + provider.Snip(string(body))}
	}
	if st := m.Get("status").String(); st != "SUCCESS" {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "ClickSend did not queue the message: " + st + describeStatus(st)}
	}
	id := m.Get("message_id").String()
	if id == "" || len(id) > channel.MaxMIDLen {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "ClickSend: unusable message_id " + strconv.Quote(id)}
	}
	return id, nil
}

func describeStatus(st string) string {
	switch st {
	case "INVALID_RECIPIENT":
		return " (the contact's number is not a valid recipient)"
	case "INSUFFICIENT_CREDIT":
		return " (the ClickSend account is out of credit)"
	case "COUNTRY_NOT_ENABLED":
		return " (sending to this country is not enabled on the account)"
	}
	return ""
}

// Unverified implements provider.Unverified: without a secret the push URLs
// are open (ClickSend signs nothing).
func (a *Adapter) Unverified() []string {
	if a.o.Secret == "" {
		return []string{"the inbound and receipt push URLs have no path secret"}
	}
	return nil
}

// UnverifiedRequest implements provider.Unverified.
func (a *Adapter) UnverifiedRequest(*http.Request) bool { return a.o.Secret == "" }

// Verify implements provider.Adapter: the last path segment must be the secret.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	if a.o.Secret == "" {
		return nil
	}
	seg := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if subtle.ConstantTimeCompare([]byte(seg), []byte(a.o.Secret)) != 1 {
		return provider.ErrBadSignature
	}
	return nil
}

// fields reads a push in any of ClickSend's webhook types: post (form), get
// (query) or json.
func fields(r *http.Request, body []byte) (func(string) string, error) {
	ct := r.Header.Get("Content-Type")
	if strings.Contains(ct, "json") {
		if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
			return nil, provider.Bad("ClickSend push: body is not a JSON object")
		}
		res := gjson.ParseBytes(body)
		return func(k string) string { return res.Get(gjson.Escape(k)).String() }, nil
	}
	vals := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, provider.Bad("ClickSend push: bad form body: %v", err)
		}
		vals = form
	}
	return vals.Get, nil
}

// Parse implements provider.Adapter for /inbound/<secret> and /receipt/<secret>.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	get, err := fields(r, body)
	if err != nil {
		return nil, err
	}
	id := get("message_id")
	if id == "" {
		return nil, provider.Bad("ClickSend push without message_id")
	}
	ts := seconds(get("timestamp"))
	if strings.Contains(r.URL.Path, "/receipt") {
		var v channel.StatusValue
		switch get("status_code") {
		case "200":
			v = channel.StatusSent
		case "201":
			v = channel.StatusDelivered
		case "301":
			v = channel.StatusFailed
		default: // 300: temporary, ClickSend retries; unknown codes: nothing to say
			return nil, nil
		}
		st := &channel.Status{Value: v}
		if v == channel.StatusFailed {
			st.Message = strings.TrimSpace(get("status_text") + " " + get("error_text"))
		}
		return []provider.Inbound{{Kind: provider.KindStatus, ProviderID: id, Timestamp: ts, Status: st}}, nil
	}
	from := get("from")
	if from == "" {
		return nil, provider.Bad("ClickSend inbound without from")
	}
	text := get("body")
	return []provider.Inbound{{Kind: provider.KindMessage, ProviderID: id, ContactID: from, Timestamp: ts,
		Message: &channel.Message{Type: channel.MessageText, Text: text}}}, nil
}

func seconds(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n * 1000
}
