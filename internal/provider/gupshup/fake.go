package gupshup

import (
	"net/http/httptest"
	"net/url"
)

// Fake is an Emulator on an httptest server for tests; with no callback
// URL it posts no message-events.
type Fake struct {
	*Emulator
	Server *httptest.Server
	APIKey string
}

// FakeSent is one message the fake accepted: the form and its decoding.
type FakeSent struct {
	Form url.Values
	ID   string
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	e := NewEmulator(EmulatorOptions{APIKey: "gupshup-test-key-0123456789", AppName: "CcxTest", Source: "917834811114"})
	return &Fake{Emulator: e, Server: httptest.NewServer(e.Handler()), APIKey: e.o.APIKey}
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops the fake.
func (f *Fake) Close() { f.Emulator.Close(); f.Server.Close() }

// Sent returns the accepted sends.
func (f *Fake) Sent() []FakeSent {
	var out []FakeSent
	for _, s := range f.Sends() {
		if s.ID != "" {
			form, _ := url.ParseQuery(string(s.Body))
			out = append(out, FakeSent{Form: form, ID: s.ID})
		}
	}
	return out
}
