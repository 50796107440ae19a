package twilio

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func newEmu(t *testing.T, o EmulatorOptions) (*Emulator, *httptest.Server) {
	t.Helper()
	e := NewEmulator(o)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() { e.Close(); srv.Close() })
	return e, srv
}

func post(t *testing.T, e *Emulator, base, user, pass, ct, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/2010-04-01/Accounts/"+e.o.AccountSID+"/Messages.json", strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, resp.Header, m
}

const form = "application/x-www-form-urlencoded"

func TestEmulatorAuthAndErrors(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{From: "+15005550006", NoReceipts: true})
	sid, tok := e.o.AccountSID, e.o.AuthToken
	ok := url.Values{"To": {"+60177872890"}, "From": {"+15005550006"}, "Body": {"hi"}}.Encode()
	cases := []struct {
		name       string
		user, pass string
		ct, body   string
		faults     provider.Faults
		status     int
		code       float64
	}{
		{"no auth", "", "", form, ok, provider.Faults{}, 401, 20003},
		{"wrong token", sid, "nope", form, ok, provider.Faults{}, 401, 20003},
		{"bad credentials knob", sid, tok, form, ok, provider.Faults{BadCredentials: true}, 401, 20003},
		{"rate limit", sid, tok, form, ok, provider.Faults{RateLimit: 1, RetryAfter: 1500 * time.Millisecond}, 429, 20429},
		{"fail rate", sid, tok, form, ok, provider.Faults{FailRate: 1}, 500, 20500},
		{"rejected", sid, tok, form, ok, provider.Faults{Reject: []string{"+60177872890"}}, 400, 21211},
		{"json body has no To", sid, tok, "application/json", `{"To":"+60177872890","From":"+15005550006","Body":"hi"}`, provider.Faults{}, 400, 21604},
		{"no From", sid, tok, form, "To=%2B60177872890&Body=hi", provider.Faults{}, 400, 21603},
		{"empty body", sid, tok, form, "To=%2B60177872890&From=%2B15005550006", provider.Faults{}, 400, 21602},
		{"not E.164", sid, tok, form, "To=12345&From=%2B15005550006&Body=hi", provider.Faults{}, 400, 21211},
		{"other sender", sid, tok, form, "To=%2B60177872890&From=%2B15550009999&Body=hi", provider.Faults{}, 400, 21606},
		{"bad media URL", sid, tok, form, "To=%2B60177872890&From=%2B15005550006&MediaUrl=undefined", provider.Faults{}, 400, 21620},
		{"channel mismatch", sid, tok, form, "To=whatsapp%3A%2B60177872890&From=%2B15005550006&Body=hi", provider.Faults{}, 400, 21910},
	}
	for i, c := range cases {
		e.SetFaults(c.faults)
		st, h, m := post(t, e, srv.URL, c.user, c.pass, c.ct, c.body)
		if st != c.status || m["code"] != c.code || m["status"] != float64(c.status) || m["more_info"] != "https://www.twilio.com/docs/errors/"+strconv.Itoa(int(c.code)) {
			t.Errorf("%s: %d %v", c.name, st, m)
		}
		if c.status == 429 && h.Get("Retry-After") != "2" {
			t.Errorf("rate limit Retry-After = %q, want 2 (rounded up)", h.Get("Retry-After"))
		}
		sends := e.Sends()
		if len(sends) != i+1 || sends[i].Status != c.status || sends[i].ID != "" || sends[i].Error == "" {
			t.Errorf("%s: refused call not recorded as such: %+v", c.name, sends[len(sends)-1])
		}
	}
	e.SetFaults(provider.Faults{})
	if st, _, m := post(t, e, srv.URL, sid, tok, form, ok); st != 201 || !strings.HasPrefix(m["sid"].(string), "SM") || m["status"] != "queued" {
		t.Fatalf("after the faults: %d %v", st, m)
	}
	// The rate limit was for the next call only.
	if st, _, _ := post(t, e, srv.URL, sid, tok, form, ok); st != 201 {
		t.Fatalf("second call %d", st)
	}
}

// The real adapter sends to the emulator: each type is recorded as the
// customer would see it, with the exact bytes.
func TestEmulatorRecordsAdapterSends(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{From: "whatsapp:+14155238886", NoReceipts: true})
	c := e.Credentials()
	if c["CCX_TWILIO_ACCOUNT_SID"] != e.o.AccountSID || c["CCX_TWILIO_AUTH_TOKEN"] != e.o.AuthToken || c["CCX_TWILIO_FROM"] != "whatsapp:+14155238886" {
		t.Fatalf("credentials %v", c)
	}
	a := New(Options{BaseURL: srv.URL, AccountSID: c["CCX_TWILIO_ACCOUNT_SID"], AuthToken: c["CCX_TWILIO_AUTH_TOKEN"], From: c["CCX_TWILIO_FROM"], PublicURL: "http://127.0.0.1:1"})
	var mu sync.Mutex
	var seen []provider.Send
	cancel := e.Subscribe(func(s provider.Send) { mu.Lock(); seen = append(seen, s); mu.Unlock() })
	lat, lng := 3.139, 101.6869
	msgs := []channel.Message{
		channel.Text("hello"),
		channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/cat.jpg", "image/jpeg", "", "a cat"),
		{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"},
	}
	for _, m := range msgs {
		if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	_, _ = a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("after cancel")})
	sends := e.Sends()
	if len(sends) != 4 || len(seen) != 3 {
		t.Fatalf("%d sends, %d seen by the subscriber", len(sends), len(seen))
	}
	s := sends[0]
	if s.To != "whatsapp:+60177872890" || s.From != "whatsapp:+14155238886" || s.Message.Text != "hello" || s.Status != 201 ||
		!strings.HasPrefix(s.ID, "SM") || s.CallbackURL != "http://127.0.0.1:1/providers/twilio/status" || s.Seq != 1 || s.Provider != "twilio" {
		t.Errorf("text: %+v", s)
	}
	if v, _ := url.ParseQuery(string(s.Body)); v.Get("Body") != "hello" || s.ContentType != form {
		t.Errorf("body bytes %q", s.Body)
	}
	if strings.Contains(string(s.Body), e.o.AuthToken) {
		t.Error("the record holds the auth token")
	}
	if at := sends[1].Message.Attachment; at == nil || at.URL != "https://cdn.example/cat.jpg" || at.Type != channel.AttachmentImage || at.Description != "a cat" || !strings.HasPrefix(sends[1].ID, "MM") {
		t.Errorf("attachment: %+v", sends[1])
	}
	if m := sends[2].Message; m.Type != channel.MessageLocation || *m.Latitude != lat || m.Address != "KL" {
		t.Errorf("location: %+v", m)
	}
	// GET Messages/{sid}.json knows the message.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/2010-04-01/Accounts/"+e.o.AccountSID+"/Messages/"+s.ID+".json", nil)
	req.SetBasicAuth(e.o.AccountSID, e.o.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("fetch: %v %v", resp, err)
	}
	var res map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if res["sid"] != s.ID || res["body"] != "hello" {
		t.Errorf("fetch: %v", res)
	}
}

// Status callbacks go to the send's StatusCallback, signed so that the
// adapter verifies them, and the server's answers are recorded.
func TestEmulatorStatusCallbacks(t *testing.T) {
	var mu sync.Mutex
	var got []provider.Inbound
	var verifyErr error
	var a *Adapter
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := a.Verify(r, body); err != nil {
			verifyErr = err
			w.WriteHeader(403)
			return
		}
		ins, _ := a.Parse(r, body)
		got = append(got, ins...)
	}))
	defer hook.Close()
	e, srv := newEmu(t, EmulatorOptions{From: "whatsapp:+14155238886"})
	a = New(Options{BaseURL: srv.URL, AccountSID: e.o.AccountSID, AuthToken: e.o.AuthToken, From: "whatsapp:+14155238886", PublicURL: hook.URL})
	id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("hi")})
	if err != nil {
		t.Fatal(err)
	}
	e.WaitCallbacks()
	mu.Lock()
	if verifyErr != nil || len(got) != 3 {
		t.Fatalf("callbacks: %v %+v", verifyErr, got)
	}
	for i, want := range []channel.StatusValue{channel.StatusSent, channel.StatusDelivered, channel.StatusRead} {
		if got[i].ProviderID != id || got[i].Status.Value != want || got[i].ContactID != "+60177872890" {
			t.Errorf("callback %d: %+v", i, got[i])
		}
	}
	mu.Unlock()
	cbs := e.Sends()[0].Callbacks
	if len(cbs) != 3 || cbs[2].Status != channel.StatusRead || cbs[2].Answer != 200 || cbs[0].URL != hook.URL+"/providers/twilio/status" {
		t.Fatalf("recorded callbacks %+v", cbs)
	}

	// An SMS send gets sent and delivered only; a failed receipt carries the
	// error code; a badly signed one is refused by the adapter.
	req, err := e.Receipt("", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusFailed, Reason: "30007"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	r := httptest.NewRequest(http.MethodPost, "/providers/twilio/status", strings.NewReader(string(body)))
	r.Header = req.Header
	if err := a.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	ins, err := a.Parse(r, body)
	if err != nil || len(ins) != 1 || ins[0].Status.Value != channel.StatusFailed || !strings.Contains(ins[0].Status.Message, "30007") {
		t.Fatalf("failed receipt: %+v %v", ins, err)
	}
	req, _ = e.Receipt("", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusDelivered, BadSignature: true})
	body, _ = io.ReadAll(req.Body)
	r.Header = req.Header
	if err := a.Verify(r, body); err == nil {
		t.Fatal("a badly signed receipt verified")
	}
	if _, err := e.Receipt("", provider.ReceiptSpec{ProviderID: "SMunknown", Status: channel.StatusRead}); err == nil {
		t.Fatal("a receipt with no callback URL anywhere must fail")
	}

	// After Close nothing more is fired, and that is recorded.
	e.Close()
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("late")}); err != nil {
		t.Fatal(err)
	}
	last := e.Sends()[1]
	if len(last.Callbacks) != 1 || last.Callbacks[0].Error == "" {
		t.Fatalf("callbacks after Close: %+v", last.Callbacks)
	}
}

func inboundThroughAdapter(t *testing.T, e *Emulator, in provider.CustomerMessage) ([]provider.Inbound, error) {
	t.Helper()
	req, err := e.Inbound("https://relay.example/providers/twilio/inbound?x=1", in)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(req.Body)
	if req.Header.Get("Content-Type") != form || req.Method != http.MethodPost {
		t.Fatalf("request %s %v", req.Method, req.Header)
	}
	r := httptest.NewRequest(http.MethodPost, "/providers/twilio/inbound?x=1", strings.NewReader(string(body)))
	r.Header = req.Header
	a := New(Options{AuthToken: e.o.AuthToken, PublicURL: "https://relay.example"})
	if err := a.Verify(r, body); err != nil {
		return nil, err
	}
	return a.Parse(r, body)
}

func TestEmulatorInboundRoundTrip(t *testing.T) {
	wa := NewEmulator(EmulatorOptions{From: "whatsapp:+14155238886"})
	sms := NewEmulator(EmulatorOptions{From: "+15005550006"})
	lat, lng := 3.1, 101.6
	cases := []struct {
		e     *Emulator
		in    provider.CustomerMessage
		check func(provider.Inbound) bool
	}{
		{sms, provider.CustomerMessage{ID: "SMfixed", From: "+60177872890", Message: channel.Text("hello")}, func(in provider.Inbound) bool {
			return in.ProviderID == "SMfixed" && in.ContactID == "+60177872890" && in.Message.Text == "hello"
		}},
		{wa, provider.CustomerMessage{From: "+60177872890", Name: "Ada", Message: channel.Text("hi")}, func(in provider.Inbound) bool {
			return in.ContactID == "+60177872890" && in.Contact.FirstName == "Ada" && strings.HasPrefix(in.ProviderID, "SM")
		}},
		{sms, provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/p.png", "", "", "look")}, func(in provider.Inbound) bool {
			at := in.Message.Attachment
			return at.Type == channel.AttachmentImage && at.MimeType == "image/png" && at.Description == "look" && in.MediaRef == "https://cdn.example/p.png" && strings.HasPrefix(in.ProviderID, "MM")
		}},
		{wa, provider.CustomerMessage{Message: channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"}}, func(in provider.Inbound) bool {
			return in.Message.Type == channel.MessageLocation && *in.Message.Latitude == lat && in.Message.Address == "KL"
		}},
		{wa, provider.CustomerMessage{Native: "button", Message: channel.Text("Good")}, func(in provider.Inbound) bool {
			return in.Message.Text == "Good"
		}},
	}
	for i, c := range cases {
		ins, err := inboundThroughAdapter(t, c.e, c.in)
		if err != nil || len(ins) != 1 || !c.check(ins[0]) {
			t.Errorf("case %d: %+v %v", i, ins, err)
		}
	}
	if _, err := inboundThroughAdapter(t, sms, provider.CustomerMessage{Message: channel.Text("x"), BadSignature: true}); err == nil {
		t.Error("bad signature verified")
	}
	for _, in := range []provider.CustomerMessage{
		{Message: channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng}}, // SMS has no location
		{Native: "button", Message: channel.Text("x")},
		{Native: "sticker", Message: channel.Text("x")},
		{From: "12345", Message: channel.Text("x")},
		{Message: channel.Text("")},
		{Message: channel.QuickReply("t", "a")},
	} {
		if _, err := sms.Inbound("https://relay.example/in", in); err == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
	if _, err := sms.Inbound("relay.example/in", provider.CustomerMessage{Message: channel.Text("x")}); err == nil {
		t.Error("a relative target must be refused")
	}
}

func TestEmulatorMedia(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{})
	e.AddMedia("ME1", "image/png", []byte("PNG"))
	for _, p := range []string{"/media/ME1", "/2010-04-01/Accounts/" + e.o.AccountSID + "/Messages/MM1/Media/ME1"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s without auth: %d", p, resp.StatusCode)
		}
		req.SetBasicAuth(e.o.AccountSID, e.o.AuthToken)
		resp, _ = http.DefaultClient.Do(req)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "PNG" || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("%s: %d %q", p, resp.StatusCode, b)
		}
	}
	if len(e.Sends()) != 0 {
		t.Error("media reads are not sends")
	}
}
