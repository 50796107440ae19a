package httpadapter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
)

const configPath = "../../../testdata/relay/clicksend-http.json"

func clicksendViaConfig(t *testing.T, base string, env map[string]string) *Adapter {
	t.Helper()
	cfg, err := Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = base
	a, err := New(cfg, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestClickSendGolden: the shipped config and the built-in ClickSend adapter
// put identical bytes on the wire for every message type.
func TestClickSendGolden(t *testing.T) {
	f := clicksend.NewFake()
	defer f.Close()
	for _, from := range []string{"", "ccx"} {
		env := map[string]string{"CCX_CLICKSEND_USERNAME": f.Username, "CCX_CLICKSEND_API_KEY": f.APIKey, "CCX_CLICKSEND_FROM": from}
		gen := clicksendViaConfig(t, f.URL(), env)
		ref := clicksend.New(clicksend.Options{BaseURL: f.URL(), Username: f.Username, APIKey: f.APIKey, From: from})
		lat, lng := 3.139, 101.6869
		for _, m := range []channel.Message{
			channel.Text("hi \"there\" <b>&"),
			channel.NewAttachment(channel.AttachmentImage, "https://x/a.jpg?x=1&y=2", "image/jpeg", "a.jpg", "cap"),
			channel.NewAttachment(channel.AttachmentImage, "https://x/b.jpg", "image/jpeg", "", ""),
			channel.NewAttachment(channel.AttachmentFile, "https://x/a.pdf", "", "a.pdf", ""),
			{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"},
			channel.QuickReply("Rate", "Good", "Bad"),
		} {
			req := channel.OutgoingRequest{ContactID: "+61411111111", Message: m}
			id1, err1 := ref.Send(t.Context(), req)
			id2, err2 := gen.Send(t.Context(), req)
			if err1 != nil || err2 != nil || id1 == "" || id2 == "" {
				t.Fatalf("%s: %v %v", m.Type, err1, err2)
			}
			s := f.Sent()
			a, b := s[len(s)-2], s[len(s)-1]
			if a.Path != b.Path || string(a.Body) != string(b.Body) {
				t.Errorf("%s (from %q):\n built-in %s %s\n config   %s %s", m.Type, from, a.Path, a.Body, b.Path, b.Body)
			}
		}
		// Error mapping goes through the configured paths.
		_, err := gen.Send(t.Context(), channel.OutgoingRequest{ContactID: "12", Message: channel.Text("x")})
		if pe, ok := err.(*provider.Error); !ok || !strings.Contains(pe.Message, "INVALID_RECIPIENT") {
			t.Errorf("invalid recipient: %v", err)
		}
		f.SetFaults(provider.Faults{RateLimit: 1})
		_, err = gen.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.Text("x")})
		if pe, ok := err.(*provider.Error); !ok || pe.Status != 429 || !pe.Retryable {
			t.Errorf("429: %v", err)
		}
	}
	bad := clicksendViaConfig(t, f.URL(), map[string]string{"CCX_CLICKSEND_USERNAME": "x", "CCX_CLICKSEND_API_KEY": "y"})
	_, err := bad.Send(t.Context(), channel.OutgoingRequest{ContactID: "+61411111111", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || !strings.Contains(pe.Message, "UNAUTHORIZED") {
		t.Errorf("auth: %v", err)
	}
}

func TestClickSendInboundViaConfig(t *testing.T) {
	env := map[string]string{"CCX_CLICKSEND_SECRET": "sec"}
	gen := clicksendViaConfig(t, "http://unused", env)
	ref := clicksend.New(clicksend.Options{Secret: "sec"})
	for _, c := range []struct{ path, body string }{
		{"/providers/http/inbound/sec", clicksend.InboundForm("ID1", "+61411111111", "+614", "hi", 1700000000).Encode()},
		{"/providers/http/receipt/sec", clicksend.ReceiptForm("ID1", "201", "Delivered", 1700000000).Encode()},
		{"/providers/http/receipt/sec", clicksend.ReceiptForm("ID1", "301", "Failed", 1700000000).Encode()},
		{"/providers/http/receipt/sec", clicksend.ReceiptForm("ID1", "300", "Retry", 1700000000).Encode()},
	} {
		r := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
		if err := gen.Verify(r, []byte(c.body)); err != nil {
			t.Fatal(err)
		}
		g, err := gen.Parse(r, []byte(c.body))
		rr := httptest.NewRequest(http.MethodPost, strings.Replace(c.path, "/http/", "/clicksend/", 1), nil)
		w, err2 := ref.Parse(rr, []byte(c.body))
		if err != nil || err2 != nil || len(g) != len(w) {
			t.Fatalf("%s: %+v %v / %+v %v", c.path, g, err, w, err2)
		}
		for i := range g {
			if g[i].ProviderID != w[i].ProviderID || g[i].ContactID != w[i].ContactID || g[i].Timestamp != w[i].Timestamp ||
				(g[i].Message != nil && g[i].Message.Text != w[i].Message.Text) || (g[i].Status != nil && g[i].Status.Value != w[i].Status.Value) {
				t.Errorf("%s: %+v vs %+v", c.path, g[i], w[i])
			}
		}
		bad := httptest.NewRequest(http.MethodPost, strings.Replace(c.path, "/sec", "/nope", 1), nil)
		if err := gen.Verify(bad, nil); err == nil {
			t.Errorf("%s: wrong secret verified", c.path)
		}
	}
}

func TestAuthTypesAndJSONEvents(t *testing.T) {
	cfg, err := Parse([]byte(`{"send":{"url":"http://x/send","bodies":{"text":"{\"to\":{{json .ContactID}},\"text\":{{json .Message.Text}}}"},"message_id":"id"},
	 "inbound":{"path":"in","content_type":"json","events_path":"events","auth":{"type":"hmac","header":"X-Sig","algorithm":"sha256","encoding":"hex","prefix":"sha256=","secret_env":"S"},
	  "map":{"contact_id":"from","message_id":"id","timestamp":{"path":"ts","unit":"rfc3339"},"text":"text","latitude":"loc.lat","longitude":"loc.lng","attachment_url":"media.url","attachment_mime":"media.mime"},
	  "contact_id_transform":"e164_add_plus"}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, func(string) string { return "key" })
	if err != nil {
		t.Fatal(err)
	}
	body := `{"events":[{"id":"1","from":"60177872890","text":"hi","ts":"2025-02-03T12:14:25Z"},{"id":"2","from":"60177872890","loc":{"lat":3.1,"lng":101.6}},{"id":"3","from":"60177872890","media":{"url":"https://m/x.png","mime":"image/png"}}]}`
	m := hmac.New(sha256.New, []byte("key"))
	m.Write([]byte(body))
	r := httptest.NewRequest(http.MethodPost, "/providers/http/in", strings.NewReader(body))
	r.Header.Set("X-Sig", "sha256="+hex.EncodeToString(m.Sum(nil)))
	if err := a.Verify(r, []byte(body)); err != nil {
		t.Fatal(err)
	}
	ins, err := a.Parse(r, []byte(body))
	if err != nil || len(ins) != 3 || ins[0].ContactID != "+60177872890" || ins[0].Timestamp != 1738584865000 ||
		ins[1].Message.Type != channel.MessageLocation || ins[2].Message.Attachment.Type != channel.AttachmentImage {
		t.Fatalf("%+v %v", ins, err)
	}
	r.Header.Set("X-Sig", "sha256=00")
	if err := a.Verify(r, []byte(body)); err == nil {
		t.Fatal("bad hmac verified")
	}
	if _, err := Parse([]byte(`{"send":{"url":"x","bodies":{"text":"{}"},"message_id":"id"},"inbound":{"path":"in","map":{"message_id":"id"},"auth":{"type":"magic"}}}`)); err == nil {
		t.Fatal("unknown auth type accepted")
	}
	if _, err := New(&Config{Send: SendConfig{URL: "x", MessageID: "id", Bodies: map[string]string{"text": "not json {{.ContactID}}"}}}, nil); err == nil {
		t.Fatal("a template that renders invalid JSON must fail at start-up")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("/providers/http/inbound/sec", "message_id=1&from=%2B1&body=x&timestamp=1")
	f.Add("/providers/http/receipt/sec", "message_id=1&status_code=201")
	cfg, err := Load(configPath)
	if err != nil {
		f.Fatal(err)
	}
	a, err := New(cfg, func(string) string { return "sec" })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.URL.Path = path
		_ = a.Verify(r, []byte(body))
		_, _ = a.Parse(r, []byte(body))
	})
}

// TestUnverifiedHooks: a hook with auth none (or no auth) is reported, so the
// relay can refuse it; a checked hook is not.
func TestUnverifiedHooks(t *testing.T) {
	cfg, err := Parse([]byte(`{"send":{"url":"http://x/send","bodies":{"text":"{}"},"message_id":"id"},
	 "inbound":{"path":"in","map":{"message_id":"id"},"auth":{"type":"hmac","header":"X-Sig","secret_env":"S"}},
	 "status":{"path":"st","map":{"message_id":"id"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, func(string) string { return "key" })
	if err != nil {
		t.Fatal(err)
	}
	if u := a.Unverified(); len(u) != 1 || !strings.Contains(u[0], "/providers/http/st") {
		t.Fatalf("Unverified = %q", u)
	}
	if !a.UnverifiedRequest(httptest.NewRequest(http.MethodPost, "/providers/http/st", nil)) ||
		a.UnverifiedRequest(httptest.NewRequest(http.MethodPost, "/providers/http/in", nil)) ||
		a.UnverifiedRequest(httptest.NewRequest(http.MethodPost, "/providers/http/other", nil)) {
		t.Fatal("UnverifiedRequest misjudges a hook")
	}
}
