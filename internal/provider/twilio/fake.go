package twilio

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/ccx-cli/ccx/internal/channel"
)

// Fake is a local Twilio Messages API: Basic auth (401/20003), required
// fields (400/21602), E.164 (400/21211), 201 with an SM sid, a 429/20429
// knob, signed status callbacks (sent → delivered → read on WhatsApp) and
// Basic-protected media.
type Fake struct {
	Server     *httptest.Server
	AccountSID string
	AuthToken  string

	mu       sync.Mutex
	sent     []url.Values
	Fail429  int
	Callback bool // post status callbacks after each send
	wg       sync.WaitGroup
	// Invalid numbers are refused with 21211 even if well-formed.
	Invalid map[string]bool
	// Media served at /media/<name> (Basic auth).
	Media map[string][]byte
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	f := &Fake{AccountSID: "AC" + hexID(16), AuthToken: hexID(16), Media: map[string][]byte{}, Invalid: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func hexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close waits for callbacks and stops the fake.
func (f *Fake) Close() { f.wg.Wait(); f.Server.Close() }

// Wait blocks until every status callback so far was posted.
func (f *Fake) Wait() { f.wg.Wait() }

// Sent returns the accepted forms.
func (f *Fake) Sent() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.sent...)
}

func twErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg,
		"more_info": "https://www.twilio.com/docs/errors/" + itoa(code), "status": status})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != f.AccountSID || p != f.AuthToken {
		twErr(w, 401, 20003, "Authenticate")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/media/") {
		b, ok := f.Media[strings.TrimPrefix(r.URL.Path, "/media/")]
		if !ok {
			twErr(w, 404, 20404, "The requested resource was not found")
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(b)
		return
	}
	if r.URL.Path != "/2010-04-01/Accounts/"+f.AccountSID+"/Messages.json" || r.Method != http.MethodPost {
		twErr(w, 404, 20404, "The requested resource was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		twErr(w, 400, 21602, "Message body is required.")
		return
	}
	f.mu.Lock()
	if f.Fail429 > 0 {
		f.Fail429--
		f.mu.Unlock()
		twErr(w, 429, 20429, "Too Many Requests")
		return
	}
	f.mu.Unlock()
	form := r.PostForm
	to, from := form.Get("To"), form.Get("From")
	if to == "" || (from == "" && form.Get("MessagingServiceSid") == "") {
		twErr(w, 400, 21604, "A 'To' phone number is required.")
		return
	}
	if form.Get("Body") == "" && form.Get("MediaUrl") == "" && form.Get("ContentSid") == "" {
		twErr(w, 400, 21602, "Message body is required.")
		return
	}
	if !channel.IsE164(stripWA(to)) || f.Invalid[stripWA(to)] {
		twErr(w, 400, 21211, "The 'To' number "+to+" is not a valid phone number.")
		return
	}
	sid := "SM" + hexID(16)
	f.mu.Lock()
	f.sent = append(f.sent, form)
	cb := f.Callback
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	_ = json.NewEncoder(w).Encode(map[string]any{"account_sid": f.AccountSID, "api_version": "2010-04-01", "body": form.Get("Body"),
		"direction": "outbound-api", "error_code": nil, "error_message": nil, "from": from, "num_media": "0", "num_segments": "1",
		"sid": sid, "status": "queued", "to": to, "uri": "/2010-04-01/Accounts/" + f.AccountSID + "/Messages/" + sid + ".json"})
	if cb && form.Get("StatusCallback") != "" {
		steps := []string{"sent", "delivered"}
		if strings.HasPrefix(to, "whatsapp:") {
			steps = append(steps, "read")
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for _, st := range steps {
				v := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {st}, "SmsStatus": {st},
					"AccountSid": {f.AccountSID}, "From": {from}, "To": {to}, "ApiVersion": {"2010-04-01"}}
				_, _ = PostSigned(nil, f.AuthToken, form.Get("StatusCallback"), v)
			}
		}()
	}
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
