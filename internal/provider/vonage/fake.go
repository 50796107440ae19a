package vonage

import (
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

// Options are adapter options (application JWT) that talk to this fake.
func (f *Fake) Options() Options {
	k, _ := ParsePrivateKey(f.o.PrivateKey)
	return Options{BaseURL: f.URL(), ApplicationID: f.o.ApplicationID, PrivateKey: k, APIKey: f.o.APIKey,
		SignatureSecret: f.o.SignatureSecret, From: f.o.From, Channel: f.o.Channel}
}

// BasicOptions are adapter options with Basic auth instead of the JWT.
func (f *Fake) BasicOptions() Options {
	o := f.Options()
	o.ApplicationID, o.PrivateKey, o.APISecret = "", nil, f.o.APISecret
	return o
}

// Sent returns the accepted bodies.
func (f *Fake) Sent() []gjson.Result {
	var out []gjson.Result
	for _, s := range f.Sends() {
		if s.ID != "" {
			out = append(out, gjson.ParseBytes(s.Body))
		}
	}
	return out
}
