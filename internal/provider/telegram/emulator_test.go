package telegram

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
)

func newEmu(t *testing.T, o EmulatorOptions) (*Emulator, *httptest.Server) {
	t.Helper()
	e := NewEmulator(o)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() { e.Close(); srv.Close() })
	return e, srv
}

func call(t *testing.T, base, token, method, ct, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(base+"/bot"+token+"/"+method, ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s: answer is not JSON: %v", method, err)
	}
	return resp.StatusCode, m
}

func TestEmulatorErrors(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{})
	tok := e.Credentials()["CCX_TELEGRAM_BOT_TOKEN"]
	const js = "application/json"
	cases := []struct {
		name, token, method, ct, body string
		faults                        provider.Faults
		code                          int
		desc                          string
	}{
		{"wrong token", "1:nope", "sendMessage", js, `{"chat_id":42,"text":"hi"}`, provider.Faults{}, 401, "Unauthorized"},
		{"bad credentials knob", tok, "sendMessage", js, `{"chat_id":42,"text":"hi"}`, provider.Faults{BadCredentials: true}, 401, "Unauthorized"},
		{"rate limit", tok, "sendMessage", js, `{"chat_id":42,"text":"hi"}`, provider.Faults{RateLimit: 1, RetryAfter: 1500 * time.Millisecond}, 429, "Too Many Requests: retry after 2"},
		{"fail rate", tok, "sendMessage", js, `{"chat_id":42,"text":"hi"}`, provider.Faults{FailRate: 1}, 500, "Internal Server Error"},
		{"blocked", tok, "sendMessage", js, `{"chat_id":42,"text":"hi"}`, provider.Faults{Reject: []string{"42"}}, 403, "Forbidden: bot was blocked by the user"},
		{"no chat", tok, "sendMessage", js, `{"text":"hi"}`, provider.Faults{}, 400, "Bad Request: chat_id is empty"},
		{"bad chat", tok, "sendMessage", js, `{"chat_id":"@nobody","text":"hi"}`, provider.Faults{}, 400, "Bad Request: chat not found"},
		{"empty text", tok, "sendMessage", js, `{"chat_id":42,"text":" "}`, provider.Faults{}, 400, "Bad Request: message text is empty"},
		{"long text", tok, "sendMessage", js, `{"chat_id":42,"text":"` + strings.Repeat("x", 4097) + `"}`, provider.Faults{}, 400, "Bad Request: message is too long"},
		{"undefined photo", tok, "sendPhoto", js, `{"chat_id":42,"photo":"undefined"}`, provider.Faults{}, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"docx by URL", tok, "sendDocument", js, `{"chat_id":42,"document":"https://x.example/a.docx"}`, provider.Faults{}, 400, "Bad Request: wrong type of the web page content"},
		{"no photo", tok, "sendPhoto", js, `{"chat_id":42}`, provider.Faults{}, 400, "Bad Request: there is no photo in the request"},
		{"unknown method", tok, "sendMesage", js, `{"chat_id":42,"text":"hi"}`, provider.Faults{}, 404, "Not Found"},
		{"bad JSON", tok, "sendMessage", js, `{"chat_id":`, provider.Faults{}, 400, "Bad Request: can't parse JSON object"},
	}
	for i, c := range cases {
		e.SetFaults(c.faults)
		st, m := call(t, srv.URL, c.token, c.method, c.ct, c.body)
		if st != c.code || m["ok"] != false || m["error_code"] != float64(c.code) || m["description"] != c.desc {
			t.Errorf("%s: %d %v", c.name, st, m)
		}
		if c.code == 429 {
			if p, _ := m["parameters"].(map[string]any); p["retry_after"] != float64(2) {
				t.Errorf("retry_after: %v", m)
			}
		}
		sends := e.Sends()
		if len(sends) != i+1 || sends[i].Status != c.code || sends[i].ID != "" {
			t.Fatalf("%s: not recorded as refused: %+v", c.name, sends)
		}
		if strings.Contains(sends[i].Path, tok) || !strings.HasPrefix(sends[i].Path, "/bot<token>/") {
			t.Fatalf("the record's path holds the token: %s", sends[i].Path)
		}
	}
	e.SetFaults(provider.Faults{})
	// Malformed token path; form and query parameters work too.
	if resp, _ := http.Get(srv.URL + "/bot/sendMessage"); resp.StatusCode != 404 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if st, m := call(t, srv.URL, tok, "SENDMESSAGE?chat_id=42", "application/x-www-form-urlencoded", "text=hi"); st != 200 || m["ok"] != true {
		t.Errorf("form + query: %d %v", st, m)
	}
	if st, m := call(t, srv.URL, tok, "getMe", "", ""); st != 200 || m["result"].(map[string]any)["is_bot"] != true {
		t.Errorf("getMe: %d %v", st, m)
	}
	if _, err := e.Receipt("", provider.ReceiptSpec{ProviderID: "42:1", Status: channel.StatusRead}); !errors.Is(err, provider.ErrNoReceipts) {
		t.Errorf("receipt: %v", err)
	}
}

// The real adapter sends to the emulator; every type is recorded as the
// customer sees it, and sent media can be fetched back through getFile.
func TestEmulatorRecordsAdapterSends(t *testing.T) {
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("bytes of " + r.URL.Path))
	}))
	defer files.Close()
	e, srv := newEmu(t, EmulatorOptions{})
	// The document to upload is on loopback: allowed here (netguard refuses it by default).
	a := New(Options{BaseURL: srv.URL, BotToken: e.Credentials()["CCX_TELEGRAM_BOT_TOKEN"], Media: netguard.Options{AllowPrivate: true}})
	lat, lng := 3.139, 101.6869
	msgs := []channel.Message{
		channel.Text("hello"),
		channel.QuickReply("Rate us", "Good", "Bad"),
		{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"},
		channel.NewAttachment(channel.AttachmentImage, files.URL+"/cat.jpg", "", "", "a cat"),
		channel.NewAttachment(channel.AttachmentFile, files.URL+"/report.docx", "", "", "the report"), // uploaded
	}
	var ids []string
	for _, m := range msgs {
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: m})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != "42:1" || ids[4] != "42:5" {
		t.Fatalf("ids %v", ids)
	}
	s := e.Sends()
	if len(s) != 5 || s[0].To != "42" || s[0].Message.Text != "hello" || s[0].ID != "42:1" || s[0].Path != "/bot<token>/sendmessage" {
		t.Fatalf("text: %+v", s[0])
	}
	if m := s[1].Message; m.Type != channel.MessageQuickReply || m.Title != "Rate us" || strings.Join(m.Replies, "|") != "Good|Bad" {
		t.Errorf("quick reply: %+v", m)
	}
	if m := s[2].Message; m.Type != channel.MessageLocation || *m.Latitude != lat || m.Address != "KL" {
		t.Errorf("venue: %+v", m)
	}
	if at := s[3].Message.Attachment; at == nil || at.URL != files.URL+"/cat.jpg" || at.Type != channel.AttachmentImage || at.Description != "a cat" {
		t.Errorf("photo: %+v", s[3].Message)
	}
	if at := s[4].Message.Attachment; at == nil || at.URL != "attach://report.docx" || at.FileName != "report.docx" || at.Description != "the report" ||
		!strings.HasPrefix(s[4].ContentType, "multipart/form-data") || !strings.Contains(string(s[4].Body), "bytes of /report.docx") {
		t.Errorf("upload: %+v", s[4])
	}
	// The photo result's file id resolves to the bytes at its URL.
	var res struct {
		Result struct {
			Photo []struct {
				FileID string `json:"file_id"`
			} `json:"photo"`
		} `json:"result"`
	}
	body, _ := json.Marshal(map[string]any{"chat_id": 42, "photo": files.URL + "/dog.jpg"})
	resp, err := http.Post(srv.URL+"/bot"+e.o.Token+"/sendPhoto", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	r, err := a.OpenMedia(t.Context(), res.Result.Photo[0].FileID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if string(got) != "bytes of /dog.jpg" {
		t.Fatalf("media through getFile: %q", got)
	}
}

func roundTrip(t *testing.T, e *Emulator, secret string, in provider.CustomerMessage) ([]provider.Inbound, []byte, error) {
	t.Helper()
	req, err := e.Inbound("https://relay.example/providers/telegram/webhook", in)
	if err != nil {
		return nil, nil, err
	}
	body, _ := io.ReadAll(req.Body)
	r := httptest.NewRequest(http.MethodPost, "/providers/telegram/webhook", strings.NewReader(string(body)))
	r.Header = req.Header
	a := New(Options{BotToken: e.o.Token, Secret: secret})
	if err := a.Verify(r, body); err != nil {
		return nil, body, err
	}
	ins, err := a.Parse(r, body)
	return ins, body, err
}

func TestEmulatorInboundRoundTrip(t *testing.T) {
	e := NewEmulator(EmulatorOptions{})
	secret := e.Credentials()["CCX_TELEGRAM_WEBHOOK_SECRET"]
	lat, lng := 3.1, 101.6
	img := channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/p.png", "", "", "look")
	cases := []struct {
		in    provider.CustomerMessage
		check func(provider.Inbound) bool
	}{
		{provider.CustomerMessage{ID: "7", From: "42", Name: "Ada", Message: channel.Text("hello")}, func(in provider.Inbound) bool {
			return in.ProviderID == "42:7" && in.ContactID == "42" && in.Message.Text == "hello" && in.Contact.FirstName == "Ada"
		}},
		{provider.CustomerMessage{Message: img}, func(in provider.Inbound) bool {
			at := in.Message.Attachment
			return at.Type == channel.AttachmentImage && at.Description == "look" && in.MediaRef != "" && in.ContactID == DefaultCustomer
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentFile, "https://cdn.example/a.pdf", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.FileName == "a.pdf" && in.Message.Attachment.MimeType == "application/pdf"
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentVideo, "https://cdn.example/v.mp4", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentVideo
		}},
		{provider.CustomerMessage{Native: "voice", Message: channel.NewAttachment(channel.AttachmentAudio, "https://cdn.example/v.ogg", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentAudio && in.Message.Attachment.MimeType == "audio/ogg"
		}},
		{provider.CustomerMessage{Message: channel.Location(lat, lng, "")}, func(in provider.Inbound) bool {
			return in.Message.Type == channel.MessageLocation && *in.Message.Latitude == lat && in.Message.Address == ""
		}},
		{provider.CustomerMessage{Message: channel.Location(lat, lng, "KLCC, Kuala Lumpur")}, func(in provider.Inbound) bool {
			return in.Message.Address == "KLCC, Kuala Lumpur"
		}},
		{provider.CustomerMessage{Native: "contact", Name: "Bo", Message: channel.Text("+60177872890")}, func(in provider.Inbound) bool {
			return strings.Contains(in.Message.Text, "+60177872890") && strings.Contains(in.Message.Text, "Bo")
		}},
		{provider.CustomerMessage{Native: "callback", ID: "cb1", Message: channel.Text("yes")}, func(in provider.Inbound) bool {
			return in.Message.Text == "yes" && in.ProviderID == "cq-cb1"
		}},
	}
	for i, c := range cases {
		ins, body, err := roundTrip(t, e, secret, c.in)
		if err != nil || len(ins) != 1 || !c.check(ins[0]) {
			t.Errorf("case %d: %+v %v\n%s", i, ins, err, body)
		}
	}
	// Natives the relay ignores: nothing for the platform, but well-formed.
	for _, n := range []string{"sticker", "edited"} {
		ins, body, err := roundTrip(t, e, secret, provider.CustomerMessage{Native: n, Message: channel.Text("🙂")})
		if err != nil || len(ins) != 0 || !json.Valid(body) {
			t.Errorf("%s: %+v %v", n, ins, err)
		}
	}
	// A retry repeats the update.
	_, b1, _ := roundTrip(t, e, secret, provider.CustomerMessage{ID: "9", Message: channel.Text("x")})
	_, b2, _ := roundTrip(t, e, secret, provider.CustomerMessage{ID: "9", Message: channel.Text("x")})
	var u1, u2 map[string]any
	_ = json.Unmarshal(b1, &u1)
	_ = json.Unmarshal(b2, &u2)
	if u1["update_id"] != u2["update_id"] {
		t.Errorf("retry changed update_id: %v / %v", u1["update_id"], u2["update_id"])
	}
	// Fresh ids differ.
	i1, _, _ := roundTrip(t, e, secret, provider.CustomerMessage{Message: channel.Text("a")})
	i2, _, _ := roundTrip(t, e, secret, provider.CustomerMessage{Message: channel.Text("b")})
	if i1[0].ProviderID == i2[0].ProviderID {
		t.Error("two fresh messages share an id")
	}
	if _, _, err := roundTrip(t, e, secret, provider.CustomerMessage{Message: channel.Text("x"), BadSignature: true}); !errors.Is(err, provider.ErrBadSignature) {
		t.Errorf("bad signature: %v", err)
	}
	for _, in := range []provider.CustomerMessage{
		{From: "-100", Message: channel.Text("x")},
		{From: "+60177872890", Message: channel.Text("x")},
		{Message: channel.QuickReply("t", "a")},
		{Native: "bogus", Message: channel.Text("x")},
		{Native: "callback", Message: channel.Text(strings.Repeat("x", 65))},
	} {
		if _, err := e.Inbound("https://relay.example/h", in); err == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
}

// Inbound media: the adapter resolves the update's file id through the
// emulator's getFile and downloads the customer's bytes.
func TestEmulatorInboundMediaThroughGetFile(t *testing.T) {
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("PNG:" + r.URL.Path))
	}))
	defer src.Close()
	// One emulator builds the update (ccx provider send), another serves
	// the API (ccx provider serve): the file id carries what both need.
	sender := NewEmulator(EmulatorOptions{Token: "1:shared"})
	served, srv := newEmu(t, EmulatorOptions{Token: "1:shared"})
	_ = served
	ins, _, err := roundTrip(t, sender, sender.secret, provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentImage, src.URL+"/p.png", "", "", "")})
	if err != nil || len(ins) != 1 {
		t.Fatal(ins, err)
	}
	a := New(Options{BaseURL: srv.URL, BotToken: "1:shared"})
	resp, err := a.OpenMedia(t.Context(), ins[0].MediaRef)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "PNG:/p.png" || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	// A wrong token in the file path is refused.
	if r, _ := http.Get(srv.URL + "/file/bot1:other/photos/x.png"); r.StatusCode != 404 {
		t.Fatalf("wrong token: %d", r.StatusCode)
	}
}

func TestEmulatorSetWebhook(t *testing.T) {
	e, srv := newEmu(t, EmulatorOptions{})
	tok := e.o.Token
	if st, m := call(t, srv.URL, tok, "setWebhook", "application/json", `{"url":"http://127.0.0.1:9/hook","secret_token":"bad secret!"}`); st != 400 || !strings.Contains(m["description"].(string), "unallowed") {
		t.Fatalf("bad secret: %d %v", st, m)
	}
	if st, _ := call(t, srv.URL, tok, "setWebhook", "application/x-www-form-urlencoded", url.Values{"url": {"http://127.0.0.1:9/hook"}, "secret_token": {"my-secret_1"}}.Encode()); st != 200 {
		t.Fatal(st)
	}
	req, err := e.Inbound("", provider.CustomerMessage{Message: channel.Text("hi")})
	if err != nil || req.URL.String() != "http://127.0.0.1:9/hook" || req.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "my-secret_1" ||
		e.Credentials()["CCX_TELEGRAM_WEBHOOK_SECRET"] != "my-secret_1" {
		t.Fatalf("%v %v", req, err)
	}
	if len(e.Sends()) != 0 {
		t.Error("setWebhook is not a send")
	}
}
