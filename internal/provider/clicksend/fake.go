package clicksend

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/ccx-cli/ccx/internal/channel"
)

// Fake is a local ClickSend API for tests and benchmarks: /v3/sms/send and
// /v3/mms/send with ClickSend's real envelopes (401 UNAUTHORIZED, per-message
// INVALID_RECIPIENT inside a 200, 429 TOO_MANY_REQUESTS), plus helpers that
// push inbound messages and receipts the way ClickSend's URL rules do.
type Fake struct {
	Server   *httptest.Server
	Username string
	APIKey   string

	mu   sync.Mutex
	sent []FakeSent
	// Fail429 answers the next N sends with 429; Down answers 503.
	Fail429 int
	Down    bool
}

// FakeSent is one request the fake accepted.
type FakeSent struct {
	Path string
	Body []byte
	ID   string
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	f := &Fake{Username: "user", APIKey: "key-0123456789"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops the fake.
func (f *Fake) Close() { f.Server.Close() }

// Sent returns what was accepted so far.
func (f *Fake) Sent() []FakeSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeSent(nil), f.sent...)
}

func envelope(w http.ResponseWriter, status int, code, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"http_code": status, "response_code": code, "response_msg": msg, "data": data})
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v3/sms/send" && r.URL.Path != "/v3/mms/send" {
		envelope(w, 404, "NOT_FOUND", "Resource not found.", nil)
		return
	}
	if r.Method != http.MethodPost {
		envelope(w, 405, "METHOD_NOT_FOUND", "Method not found.", nil)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != f.Username || p != f.APIKey {
		envelope(w, 401, "UNAUTHORIZED", "Unauthorized. Please check your credentials.", nil)
		return
	}
	f.mu.Lock()
	if f.Down {
		f.mu.Unlock()
		envelope(w, 503, "INTERNAL_SERVER_ERROR", "Service unavailable.", nil)
		return
	}
	if f.Fail429 > 0 {
		f.Fail429--
		f.mu.Unlock()
		envelope(w, 429, "TOO_MANY_REQUESTS", "Too many requests.", nil)
		return
	}
	f.mu.Unlock()
	var body struct {
		MediaFile string `json:"media_file"`
		Messages  []struct {
			To   string `json:"to"`
			Body string `json:"body"`
			From string `json:"from"`
		} `json:"messages"`
	}
	raw := make([]byte, 0, 512)
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		raw = append(raw, buf[:n]...)
		if err != nil {
			break
		}
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Messages) == 0 {
		envelope(w, 400, "BAD_REQUEST", "Invalid input.", map[string]any{})
		return
	}
	if r.URL.Path == "/v3/mms/send" && body.MediaFile == "" {
		envelope(w, 400, "BAD_REQUEST", "Invalid input: media_file is required.", map[string]any{})
		return
	}
	var msgs []map[string]any
	queued := 0
	for _, m := range body.Messages {
		id := uuid()
		st := "SUCCESS"
		if !channel.IsE164(m.To) {
			st = "INVALID_RECIPIENT"
		} else if m.Body == "" && body.MediaFile == "" {
			st = "EMPTY_MESSAGE"
		} else {
			queued++
			f.mu.Lock()
			f.sent = append(f.sent, FakeSent{Path: r.URL.Path, Body: raw, ID: id})
			f.mu.Unlock()
		}
		msgs = append(msgs, map[string]any{"direction": "out", "to": m.To, "body": m.Body, "from": m.From,
			"message_id": id, "message_parts": 1, "message_price": "0.0792", "custom_string": "", "country": "AU",
			"carrier": "Vodafone", "status": st})
	}
	envelope(w, 200, "SUCCESS", "Messages queued for delivery.", map[string]any{"total_price": 0.0792,
		"total_count": len(msgs), "queued_count": queued, "blocked_count": 0, "messages": msgs,
		"_currency": map[string]any{"currency_name_short": "AUD"}})
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NewMessageID is a ClickSend-style message id.
func NewMessageID() string { return uuid() }

// InboundForm is an inbound SMS push (webhook_type post).
func InboundForm(id, from, to, body string, unixSec int64) url.Values {
	return url.Values{"timestamp": {fmt.Sprint(unixSec)}, "from": {from}, "to": {to}, "body": {body},
		"original_body": {""}, "original_message_id": {""}, "custom_string": {""}, "message_id": {id}, "_keyword": {""}}
}

// ReceiptForm is a delivery-receipt push.
func ReceiptForm(id, statusCode, statusText string, unixSec int64) url.Values {
	return url.Values{"timestamp_send": {fmt.Sprint(unixSec)}, "timestamp": {fmt.Sprint(unixSec)}, "message_id": {id},
		"status_code": {statusCode}, "status_text": {statusText}, "error_code": {""}, "error_text": {""},
		"custom_string": {""}, "message_type": {"sms"}}
}

// Push posts form values to a relay URL as ClickSend does and returns the status.
func Push(c *http.Client, u string, v url.Values) (int, error) {
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
