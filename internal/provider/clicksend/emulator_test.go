package clicksend

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

func call(t *testing.T, method, u, user, key, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, key)
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

func TestEmulatorErrors(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{})
	u, k := e.o.Username, e.o.APIKey
	ok := `{"messages":[{"to":"+61411111111","body":"hi","source":"ccx"}]}`
	cases := []struct {
		name, method, path, user, body string
		faults                         provider.Faults
		status                         int
		code                           string
	}{
		{"no auth", "POST", "/v3/sms/send", "", ok, provider.Faults{}, 401, "UNAUTHORIZED"},
		{"bad credentials knob", "POST", "/v3/sms/send", u, ok, provider.Faults{BadCredentials: true}, 401, "UNAUTHORIZED"},
		{"rate limit", "POST", "/v3/sms/send", u, ok, provider.Faults{RateLimit: 1, RetryAfter: 3 * time.Second}, 429, "TOO_MANY_REQUESTS"},
		{"fail rate", "POST", "/v3/sms/send", u, ok, provider.Faults{FailRate: 1}, 500, "INTERNAL_SERVER_ERROR"},
		{"wrong path", "POST", "/v3/sms/sends", u, ok, provider.Faults{}, 404, "NOT_FOUND"},
		{"wrong method", "GET", "/v3/sms/send", u, "", provider.Faults{}, 405, "METHOD_NOT_FOUND"},
		{"not JSON", "POST", "/v3/sms/send", u, "to=+61411111111&body=hi", provider.Faults{}, 400, "BAD_REQUEST"},
		{"no messages", "POST", "/v3/sms/send", u, `{"messages":[]}`, provider.Faults{}, 400, "BAD_REQUEST"},
		{"mms without media", "POST", "/v3/mms/send", u, ok, provider.Faults{}, 400, "BAD_REQUEST"},
		{"mms media undefined", "POST", "/v3/mms/send", u, `{"media_file":"undefined","messages":[{"to":"+61411111111","body":"x"}]}`, provider.Faults{}, 400, "BAD_REQUEST"},
	}
	for i, c := range cases {
		e.SetFaults(c.faults)
		st, h, m := call(t, c.method, srv.URL+c.path, c.user, k, c.body)
		if st != c.status || m["http_code"] != float64(c.status) || m["response_code"] != c.code {
			t.Errorf("%s: %d %v", c.name, st, m)
		}
		if c.status == 429 && h.Get("Retry-After") != "3" {
			t.Errorf("Retry-After %q", h.Get("Retry-After"))
		}
		if s := e.Sends(); len(s) != i+1 || s[i].Status != c.status || s[i].ID != "" {
			t.Fatalf("%s: not recorded as refused: %+v", c.name, s)
		}
	}
	// Invalid recipients are refused inside a 200, message by message.
	e.SetFaults(provider.Faults{Reject: []string{"+61422222222"}})
	st, _, m := call(t, "POST", srv.URL+"/v3/sms/send", u, k, `{"messages":[{"to":"+61411111111","body":"a"},{"to":"+61422222222","body":"b"},{"to":"0412","body":"c"}]}`)
	msgs := m["data"].(map[string]any)["messages"].([]any)
	if st != 200 || len(msgs) != 3 || msgs[0].(map[string]any)["status"] != "SUCCESS" || msgs[1].(map[string]any)["status"] != "INVALID_RECIPIENT" ||
		msgs[2].(map[string]any)["status"] != "INVALID_RECIPIENT" || m["data"].(map[string]any)["queued_count"] != float64(1) {
		t.Fatalf("batch: %d %v", st, m)
	}
	s := e.Sends()
	s = s[len(s)-3:]
	if s[0].ID == "" || s[0].To != "+61411111111" || s[1].ID != "" || s[1].Error != "INVALID_RECIPIENT" || s[2].ID != "" {
		t.Fatalf("batch record: %+v", s)
	}
	if st, _, m := call(t, "GET", srv.URL+"/v3/account", u, k, ""); st != 200 || m["response_code"] != "SUCCESS" {
		t.Errorf("account: %d %v", st, m)
	}
}

func TestEmulatorRecordsAdapterSends(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{From: "+61499999999"})
	c := e.Credentials()
	a := New(Options{BaseURL: srv.URL, Username: c["CCX_CLICKSEND_USERNAME"], APIKey: c["CCX_CLICKSEND_API_KEY"]})
	id1, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.Text("hello")})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/cat.png", "image/png", "cat.png", "a cat")})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Sends()
	if len(s) != 2 || s[0].ID != id1 || s[0].Message.Text != "hello" || s[0].From != "+61499999999" || s[0].Path != "/v3/sms/send" || !json.Valid(s[0].Body) {
		t.Fatalf("sms: %+v", s[0])
	}
	if at := s[1].Message.Attachment; s[1].ID != id2 || at == nil || at.URL != "https://cdn.example/cat.png" || at.Description != "a cat" || at.FileName != "cat.png" || s[1].Path != "/v3/mms/send" {
		t.Fatalf("mms: %+v", s[1])
	}
	if strings.Contains(string(s[0].Body), c["CCX_CLICKSEND_API_KEY"]) {
		t.Fatal("the API key is in the record")
	}
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+6141", Message: channel.Text("x")}); err == nil || !strings.Contains(err.Error(), "INVALID_RECIPIENT") {
		t.Fatalf("invalid recipient: %v", err)
	}
}

// receiver is a server that verifies and parses pushes with the adapter.
type receiver struct {
	mu  sync.Mutex
	got []provider.Inbound
	bad int
	srv *httptest.Server
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{}
	a := New(Options{Secret: secret})
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if a.Verify(r, body) != nil {
			rc.bad++
			w.WriteHeader(403)
			return
		}
		ins, err := a.Parse(r, body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		rc.got = append(rc.got, ins...)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func TestEmulatorReceipts(t *testing.T) {
	for _, wt := range []string{"post", "json", "get"} {
		rc := newReceiver(t, "s3cr3t")
		e, srv := newEmu(t, EmulatorOptions{Secret: "s3cr3t", WebhookType: wt, ReceiptURL: rc.srv.URL + "/providers/clicksend/receipt/{secret}"})
		a := New(Options{BaseURL: srv.URL, Username: e.o.Username, APIKey: e.o.APIKey})
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.Text("hi")})
		if err != nil {
			t.Fatal(err)
		}
		e.WaitCallbacks()
		rc.mu.Lock()
		if len(rc.got) != 1 || rc.got[0].ProviderID != id || rc.got[0].Status.Value != channel.StatusDelivered {
			t.Fatalf("%s: automatic receipt %+v", wt, rc.got)
		}
		rc.mu.Unlock()
		cbs := e.Sends()[0].Callbacks
		if len(cbs) != 1 || cbs[0].Answer != 200 || strings.Contains(cbs[0].URL, "s3cr3t") || !strings.HasSuffix(cbs[0].URL, "/receipt/<secret>") {
			t.Fatalf("%s: recorded callback %+v", wt, cbs)
		}
		// An explicit failed receipt carries the reason; read does not exist.
		req, err := e.Receipt("", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusFailed, Reason: "absent subscriber"})
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: failed receipt %v %v", wt, resp, err)
		}
		rc.mu.Lock()
		if len(rc.got) != 2 || rc.got[1].Status.Value != channel.StatusFailed || !strings.Contains(rc.got[1].Status.Message, "absent subscriber") {
			t.Fatalf("%s: failed %+v", wt, rc.got)
		}
		rc.mu.Unlock()
		if _, err := e.Receipt("", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusRead}); err == nil {
			t.Error("read receipt must be refused")
		}
		req, _ = e.Receipt("", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusDelivered, BadSignature: true})
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
			t.Fatalf("%s: badly signed receipt: %v %v", wt, resp, err)
		}
	}
}

func TestEmulatorInboundRoundTrip(t *testing.T) {
	rc := newReceiver(t, "pathsecret")
	e, srv := newEmu(t, EmulatorOptions{Secret: "pathsecret", From: "+61499999999"})
	a := New(Options{BaseURL: srv.URL, Username: e.o.Username, APIKey: e.o.APIKey})
	sent, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.Text("How can we help?")})
	if err != nil {
		t.Fatal(err)
	}
	target := rc.srv.URL + "/providers/clicksend/inbound/pathsecret"
	when := time.Unix(1700000000, 0)
	req, err := e.Inbound(target, provider.CustomerMessage{ID: "IN-1", From: "+61411111111", Message: channel.Text("Where is my order?"), Time: when})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(req.Body); !strings.Contains(string(b), "original_message_id="+sent) || !strings.Contains(string(b), "to=%2B61499999999") {
		t.Fatalf("a reply names the message it answers: %s", b)
	}
	req, _ = e.Inbound(target, provider.CustomerMessage{ID: "IN-1", From: "+61411111111", Message: channel.Text("Where is my order?"), Time: when})
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	rc.mu.Lock()
	if len(rc.got) != 1 || rc.got[0].ProviderID != "IN-1" || rc.got[0].ContactID != "+61411111111" || rc.got[0].Message.Text != "Where is my order?" || rc.got[0].Timestamp != 1700000000000 {
		t.Fatalf("%+v", rc.got)
	}
	rc.mu.Unlock()
	req, _ = e.Inbound(target, provider.CustomerMessage{Message: channel.Text("x"), BadSignature: true})
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("bad signature: %v %v", resp, err)
	}
	if _, err := e.Inbound(rc.srv.URL+"/no-secret-here", provider.CustomerMessage{Message: channel.Text("x"), BadSignature: true}); err == nil {
		t.Error("a bad signature needs the secret in the URL")
	}
	for _, in := range []provider.CustomerMessage{
		{Message: channel.NewAttachment(channel.AttachmentImage, "https://x/a.jpg", "", "", "")},
		{Message: channel.Location(1, 2, "")},
		{From: "0412", Message: channel.Text("x")},
		{Native: "button", Message: channel.Text("x")},
	} {
		if _, err := e.Inbound(target, in); err == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
}
