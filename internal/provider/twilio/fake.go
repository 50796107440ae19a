package twilio

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// Fake is an Emulator on an httptest server for tests: any sender accepted,
// automatic status callbacks off until SetAutoReceipts(true).
type Fake struct {
	*Emulator
	Server     *httptest.Server
	AccountSID string
	AuthToken  string
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	e := NewEmulator(EmulatorOptions{NoReceipts: true})
	return &Fake{Emulator: e, Server: httptest.NewServer(e.Handler()), AccountSID: e.o.AccountSID, AuthToken: e.o.AuthToken}
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close waits for callbacks and stops the fake.
func (f *Fake) Close() { f.Emulator.Close(); f.Server.Close() }

// Wait blocks until every status callback so far was posted.
func (f *Fake) Wait() { f.WaitCallbacks() }

// Sent returns the accepted forms.
func (f *Fake) Sent() []url.Values {
	var out []url.Values
	for _, s := range f.Sends() {
		if s.ID != "" {
			v, _ := url.ParseQuery(string(s.Body))
			out = append(out, v)
		}
	}
	return out
}

// InboundSMS is an inbound message webhook form.
func (f *Fake) InboundSMS(sid, from, to, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {f.AccountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "FromCountry": {"US"}}
}

// PostSigned posts form to u with a valid X-Twilio-Signature.
func PostSigned(c *http.Client, authToken, u string, form url.Values) (int, error) {
	return PostWithSignature(c, u, form, Signature(authToken, u, form))
}

// PostWithSignature posts form with the given signature header.
func PostWithSignature(c *http.Client, u string, form url.Values, sig string) (int, error) {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
