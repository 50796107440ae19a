package whatsapp

import (
	"bytes"
	"net/http"
	"net/http/httptest"

	"github.com/tidwall/gjson"
)

// Fake is an Emulator on an httptest server for tests: automatic statuses
// off until SetAutoReceipts(true).
type Fake struct {
	*Emulator
	Server *httptest.Server
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	e := NewEmulator(EmulatorOptions{NoReceipts: true})
	return &Fake{Emulator: e, Server: httptest.NewServer(e.Handler())}
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close waits for callbacks and stops the fake.
func (f *Fake) Close() { f.Emulator.Close(); f.Server.Close() }

// Options are adapter options that talk to this fake.
func (f *Fake) Options() Options {
	return Options{BaseURL: f.URL(), Token: f.o.Token, PhoneNumberID: f.o.PhoneNumberID, AppSecret: f.o.AppSecret, VerifyToken: f.o.VerifyToken}
}

// Sent returns the accepted message objects.
func (f *Fake) Sent() []gjson.Result {
	var out []gjson.Result
	for _, s := range f.Sends() {
		if s.ID != "" {
			out = append(out, gjson.ParseBytes(s.Body))
		}
	}
	return out
}

// PostSigned posts a notification to u with a valid X-Hub-Signature-256.
func PostSigned(c *http.Client, appSecret, u string, body []byte) (int, error) {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Signature(appSecret, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
