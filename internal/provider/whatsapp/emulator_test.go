package whatsapp

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
	"github.com/tidwall/gjson"
)

func call(t *testing.T, method, u, token, body string) (int, gjson.Result) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, gjson.ParseBytes(b)
}

func TestEmulatorAuthAndErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	send := f.URL() + "/v24.0/" + f.o.PhoneNumberID + "/messages"
	ok := `{"messaging_product":"whatsapp","to":"60177872890","type":"text","text":{"body":"hi"}}`
	cases := []struct {
		name, u, token, body string
		status, code         int
	}{
		{"no token", send, "", ok, 401, 190},
		{"wrong token", send, "nope", ok, 401, 190},
		{"bad version", f.URL() + "/latest/" + f.o.PhoneNumberID + "/messages", f.o.Token, ok, 400, 2500},
		{"other number", f.URL() + "/v24.0/123/messages", f.o.Token, ok, 400, 100},
		{"no product", send, f.o.Token, `{"to":"1555000111","type":"text","text":{"body":"x"}}`, 400, 100},
		{"no to", send, f.o.Token, `{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}`, 400, 100},
		{"bad to", send, f.o.Token, `{"messaging_product":"whatsapp","to":"abc","type":"text","text":{"body":"x"}}`, 400, 131009},
		{"empty text", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"text","text":{"body":" "}}`, 400, 100},
		{"long text", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"text","text":{"body":"` + strings.Repeat("a", 4097) + `"}}`, 400, 100},
		{"unknown type", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"poll","poll":{}}`, 400, 100},
		{"media no link", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"image","image":{}}`, 400, 100},
		{"audio caption", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"audio","audio":{"link":"https://x/a.mp3","caption":"c"}}`, 400, 100},
		{"4 buttons", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"interactive","interactive":{"type":"button","body":{"text":"q"},"action":{"buttons":[` +
			strings.Repeat(`{"type":"reply","reply":{"id":"a","title":"a"}},`, 3) + `{"type":"reply","reply":{"id":"d","title":"d"}}]}}}`, 400, 131009},
		{"long title", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"interactive","interactive":{"type":"button","body":{"text":"q"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"123456789012345678901"}}]}}}`, 400, 131009},
		{"11 rows", send, f.o.Token, `{"messaging_product":"whatsapp","to":"60177872890","type":"interactive","interactive":{"type":"list","body":{"text":"q"},"action":{"button":"b","sections":[{"rows":[` +
			strings.TrimSuffix(strings.Repeat(`{"id":"r","title":"r"},`, 11), ",") + `]}]}}}`, 400, 131009},
		{"get messages", send, f.o.Token, ``, 400, 100},
	}
	for _, c := range cases {
		method := http.MethodPost
		if c.name == "get messages" {
			method = http.MethodGet
			c.u = f.URL() + "/v24.0/" + f.o.PhoneNumberID + "/messages"
		}
		status, b := call(t, method, c.u, c.token, c.body)
		if status != c.status || b.Get("error.code").Int() != int64(c.code) || b.Get("error.message").String() == "" || b.Get("error.fbtrace_id").String() == "" {
			t.Errorf("%s: %d %s", c.name, status, b.Raw)
		}
	}
	status, b := call(t, http.MethodPost, send, f.o.Token, ok)
	if status != 200 || b.Get("messages.0.id").String() == "" || b.Get("contacts.0.wa_id").String() != "60177872890" || b.Get("contacts.0.input").String() != "60177872890" {
		t.Fatalf("send: %d %s", status, b.Raw)
	}
	ss := f.Sends()
	last := ss[len(ss)-1]
	if last.ID != b.Get("messages.0.id").String() || last.To != "60177872890" || last.Message.Text != "hi" {
		t.Fatalf("recorded %+v", last)
	}
	for _, s := range ss[:len(ss)-1] {
		if s.ID != "" || s.Status < 400 || s.Error == "" {
			t.Errorf("a refused call is recorded with its error: %+v", s)
		}
	}
	f.SetFaults(provider.Faults{BadCredentials: true})
	if status, b := call(t, http.MethodPost, send, f.o.Token, ok); status != 401 || b.Get("error.code").Int() != 190 {
		t.Fatalf("BadCredentials: %d %s", status, b.Raw)
	}
}

type hookSink struct {
	mu     sync.Mutex
	bodies [][]byte
	bad    int
	secret string
	got    chan struct{}
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	if !ValidSignature(h.secret, b, r.Header.Get("X-Hub-Signature-256")) {
		h.bad++
	}
	h.bodies = append(h.bodies, b)
	h.mu.Unlock()
	h.got <- struct{}{}
}

func TestEmulatorAutoStatuses(t *testing.T) {
	sink := &hookSink{got: make(chan struct{}, 8)}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	e := NewEmulator(EmulatorOptions{WebhookURL: hook.URL + "/providers/whatsapp/webhook"})
	sink.secret = e.o.AppSecret
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	defer e.Close()
	a := New(Options{BaseURL: srv.URL, Token: e.o.Token, PhoneNumberID: e.o.PhoneNumberID, AppSecret: e.o.AppSecret})
	id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("hi")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for i := 0; i < 3; i++ {
		select {
		case <-sink.got:
		case <-deadline:
			t.Fatalf("only %d statuses arrived", i)
		}
	}
	e.WaitCallbacks()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.bad != 0 {
		t.Fatalf("%d statuses badly signed", sink.bad)
	}
	var got []string
	for _, b := range sink.bodies {
		st := gjson.GetBytes(b, "entry.0.changes.0.value.statuses.0")
		if st.Get("id").String() != id || st.Get("recipient_id").String() != "60177872890" {
			t.Errorf("status %s", st.Raw)
		}
		got = append(got, st.Get("status").String())
	}
	if strings.Join(got, ",") != "sent,delivered,read" {
		t.Fatalf("statuses %v", got)
	}
	s := e.Sends()[0]
	if len(s.Callbacks) != 3 || s.Callbacks[2].Status != channel.StatusRead || s.Callbacks[0].Answer != 200 {
		t.Fatalf("callbacks recorded %+v", s.Callbacks)
	}
}

// Mounted under a prefix (ccx emulate's /_provider/whatsapp), the media URL
// it hands out points back under the same prefix.
func TestEmulatorMediaUnderAPrefix(t *testing.T) {
	e := NewEmulator(EmulatorOptions{})
	e.AddMedia("42", "image/png", []byte("IMG"))
	mux := http.NewServeMux()
	mux.Handle("/_provider/whatsapp/", http.StripPrefix("/_provider/whatsapp", e.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/_provider/whatsapp"
	if status, _ := call(t, http.MethodGet, base+"/v24.0/42", "", ""); status != 401 {
		t.Fatalf("media info without a token: %d", status)
	}
	status, b := call(t, http.MethodGet, base+"/v24.0/42", e.o.Token, "")
	u := b.Get("url").String()
	if status != 200 || !strings.HasPrefix(u, base+"/whatsapp_business/attachments/?mid=42") || b.Get("mime_type").String() != "image/png" || b.Get("file_size").Int() != 3 {
		t.Fatalf("media info %d %s", status, b.Raw)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("download without the token: %d", resp.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer "+e.o.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(data) != "IMG" || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download %q %q", data, resp.Header.Get("Content-Type"))
	}
	if status, b := call(t, http.MethodGet, base+"/v24.0/nope", e.o.Token, ""); status != 400 || b.Get("error.code").Int() != 100 {
		t.Fatalf("unknown media: %d %s", status, b.Raw)
	}
}

func TestEmulatorInboundErrors(t *testing.T) {
	e := NewEmulator(EmulatorOptions{})
	for _, in := range []provider.CustomerMessage{
		{From: "60177872890", Message: channel.Text("x")},
		{Message: channel.Text(" ")},
		{Message: channel.QuickReply("q", "a")},
		{Message: channel.NewAttachment(channel.AttachmentImage, "ftp://x/a", "", "", "")},
		{Native: "contacts", Message: channel.Text("")},
		{Native: "dance", Message: channel.Text("x")},
		{Native: "voice", Message: channel.Text("x")},
	} {
		if _, err := e.Inbound("http://relay.example/hook", in); err == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
	if _, err := e.Inbound("", provider.CustomerMessage{Message: channel.Text("x")}); err == nil {
		t.Error("no target and no configured webhook URL: want an error")
	}
	req, err := e.Inbound("http://relay.example/hook", provider.CustomerMessage{Native: "handshake", Message: channel.Text("777")})
	if err != nil || req.Method != http.MethodGet || req.URL.Query().Get("hub.challenge") != "777" || req.URL.Query().Get("hub.verify_token") != e.o.VerifyToken {
		t.Fatalf("handshake %v %v", req, err)
	}
	// The reaction refers to the latest send to that customer.
	b, _ := e.InboundBody(provider.CustomerMessage{Native: "reaction", Message: channel.Text("👍")})
	var v map[string]any
	if json.Unmarshal(b, &v) != nil || !strings.HasPrefix(gjson.GetBytes(b, "entry.0.changes.0.value.messages.0.reaction.message_id").String(), "wamid.") {
		t.Fatalf("reaction %s", b)
	}
}

func TestWAMIDLooksLikeMeta(t *testing.T) {
	const real = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA" // Meta's own example
	got := NewWAMID("16505076520")
	if len(got) != len(real) || got[:17] != real[:17] || got == NewWAMID("16505076520") {
		t.Fatalf("%s, want the shape of %s (and fresh each time)", got, real)
	}
}
