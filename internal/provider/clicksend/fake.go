package clicksend

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/ccx-cli/ccx/internal/provider/emukit"
)

// Fake is an Emulator on an httptest server for tests and benchmarks; with
// no receipt URL it posts no receipts.
type Fake struct {
	*Emulator
	Server   *httptest.Server
	Username string
	APIKey   string
}

// FakeSent is one message the fake accepted.
type FakeSent struct {
	Path string
	Body []byte
	ID   string
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	e := NewEmulator(EmulatorOptions{Username: "user", APIKey: "key-0123456789"})
	return &Fake{Emulator: e, Server: httptest.NewServer(e.Handler()), Username: e.o.Username, APIKey: e.o.APIKey}
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops the fake.
func (f *Fake) Close() { f.Emulator.Close(); f.Server.Close() }

// Sent returns what was accepted so far.
func (f *Fake) Sent() []FakeSent {
	var out []FakeSent
	for _, s := range f.Sends() {
		if s.ID != "" {
			out = append(out, FakeSent{Path: s.Path, Body: s.Body, ID: s.ID})
		}
	}
	return out
}

// NewMessageID is a ClickSend-style message id.
func NewMessageID() string { return emukit.UUID() }

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
