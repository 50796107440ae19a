package gupshup

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func form(dest, msg string) string {
	return url.Values{"channel": {"whatsapp"}, "source": {"917834811114"}, "destination": {dest}, "src.name": {"CcxTest"}, "message": {msg}}.Encode()
}

func TestEmulatorErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	ok := form("84901234567", `{"type":"text","text":"hi"}`)
	cases := []struct {
		name, path, key, body string
		faults                provider.Faults
		status                int
		msg                   string
	}{
		{"no key", "/wa/api/v1/msg", "", ok, provider.Faults{}, 401, "Authentication Failed"},
		{"bad credentials knob", "/wa/api/v1/msg", f.APIKey, ok, provider.Faults{BadCredentials: true}, 401, "Authentication Failed"},
		{"rate limit", "/wa/api/v1/msg", f.APIKey, ok, provider.Faults{RateLimit: 1, RetryAfter: 2 * time.Second}, 429, "Too Many Requests"},
		{"fail rate", "/wa/api/v1/msg", f.APIKey, ok, provider.Faults{FailRate: 1}, 500, "Internal server error, please try again later"},
		{"rejected", "/wa/api/v1/msg", f.APIKey, ok, provider.Faults{Reject: []string{"+84901234567"}}, 400, "Invalid Destination"},
		{"wrong path", "/wa/api/v2/msg", f.APIKey, ok, provider.Faults{}, 404, "Not Found"},
		{"app name", "/wa/api/v1/msg", f.APIKey, strings.Replace(ok, "CcxTest", "Other", 1), provider.Faults{}, 400, "Invalid App Details"},
		{"destination", "/wa/api/v1/msg", f.APIKey, form("+84 90", `{"type":"text","text":"hi"}`), provider.Faults{}, 400, "Invalid Destination"},
		{"not JSON", "/wa/api/v1/msg", f.APIKey, form("84901234567", `hi`), provider.Faults{}, 400, "Invalid Message"},
		{"unknown type", "/wa/api/v1/msg", f.APIKey, form("84901234567", `{"type":"carousel"}`), provider.Faults{}, 400, "Invalid Message Type"},
		{"4 buttons", "/wa/api/v1/msg", f.APIKey, form("84901234567", `{"type":"quick_reply","content":{"text":"x"},"options":[{"title":"1"},{"title":"2"},{"title":"3"},{"title":"4"}]}`), provider.Faults{}, 400, "Quick reply needs 1 to 3 options"},
		{"media URL", "/wa/api/v1/msg", f.APIKey, form("84901234567", `{"type":"image","originalUrl":"undefined"}`), provider.Faults{}, 400, "Invalid Media URL"},
	}
	for i, c := range cases {
		f.SetFaults(c.faults)
		req, _ := http.NewRequest(http.MethodPost, f.URL()+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c.key != "" {
			req.Header.Set("apikey", c.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode != c.status || m["status"] != "error" || m["message"] != c.msg {
			t.Errorf("%s: %d %v", c.name, resp.StatusCode, m)
		}
		if c.status == 429 && resp.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if s := f.Sends(); len(s) != i+1 || s[i].Status != c.status || s[i].ID != "" || s[i].Error != c.msg {
			t.Fatalf("%s: not recorded as refused: %+v", c.name, s[len(s)-1])
		}
	}
	// The old /sm/ path works too; success is text/html.
	f.SetFaults(provider.Faults{})
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"/sm/api/v1/msg", strings.NewReader(ok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("apikey", f.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), `"status":"submitted"`) {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if strings.Contains(string(f.Sends()[len(f.Sends())-1].Body), f.APIKey) {
		t.Fatal("the API key is in the record")
	}
}

// sink records callbacks.
type sink struct {
	mu   sync.Mutex
	got  [][]byte
	hdrs []http.Header
	srv  *httptest.Server
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, b)
		s.hdrs = append(s.hdrs, r.Header.Clone())
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func TestAutoEvents(t *testing.T) {
	sk := newSink(t)
	e := NewEmulator(EmulatorOptions{APIKey: "k-0123456789", AppName: "App", Source: "917834811114", Secret: "sek",
		Header: "X-Token", HeaderValue: "hv-123", CallbackURL: sk.srv.URL + "/providers/gupshup/webhook/{secret}", NotOnWhatsApp: []string{"+84900000002"}})
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	a := New(Options{BaseURL: srv.URL, APIKey: "k-0123456789", AppName: "App", Source: "917834811114", Secret: "sek", Header: "X-Token", HeaderValue: "hv-123"})
	id1, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+84901234567", Message: channel.Text("one")})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+84900000002", Message: channel.Text("two")})
	if err != nil {
		t.Fatal(err)
	}
	e.WaitCallbacks()
	e.Close()
	sk.mu.Lock()
	defer sk.mu.Unlock()
	got := map[string][]string{}
	for i, b := range sk.got {
		if sk.hdrs[i].Get("X-Token") != "hv-123" {
			t.Fatalf("callback without the header: %v", sk.hdrs[i])
		}
		r := httptest.NewRequest(http.MethodPost, "/providers/gupshup/webhook/sek", strings.NewReader(string(b)))
		r.Header = sk.hdrs[i]
		if err := a.Verify(r, b); err != nil {
			t.Fatal(err)
		}
		ins, err := a.Parse(r, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			got[in.ProviderID] = append(got[in.ProviderID], string(in.Status.Value))
		}
	}
	if strings.Join(got[id1], ",") != "sent,delivered,read" || strings.Join(got[id2], ",") != "failed" || len(sk.got) != 6 {
		t.Fatalf("%v (%d callbacks)", got, len(sk.got))
	}
	s := e.Sends()
	if len(s[0].Callbacks) != 4 || s[0].Callbacks[0].Answer != 200 || strings.Contains(s[0].CallbackURL, "sek") || !strings.Contains(s[0].CallbackURL, "<secret>") {
		t.Fatalf("record: %+v", s[0])
	}
}
