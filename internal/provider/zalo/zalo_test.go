package zalo

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// The vector of docs/provider.md, computed with the formula of the official
// Java SDK's MacUtils.buildMac.
func TestSignatureVector(t *testing.T) {
	body := `{"app_id":"1234567890123456789","sender":{"id":"246845883529197922"},"recipient":{"id":"579745863508352884"},"event_name":"user_send_text","message":{"text":"xin chao","msg_id":"a1b2c3d4e5f6a7b8c9d0"},"timestamp":"1700000000000","user_id_by_app":"552177279717587730"}`
	if len(body) != 267 {
		t.Fatalf("%d bytes", len(body))
	}
	const want = "707784a0d9becfb1f0c760e60355d80ba5fff1c2cadc370ef4b875010b765465"
	if got := Signature("1234567890123456789", []byte(body), "1700000000000", "oa-secret-key"); got != want {
		t.Fatalf("%s", got)
	}
	a := mustNew(t, Options{AppID: "1234567890123456789", OASecretKey: "oa-secret-key"})
	for _, h := range []string{"mac=" + want, want, "MAC=" + strings.ToUpper(want), " mac=" + want + " "} {
		r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
		r.Header.Set("X-ZEvent-Signature", h)
		if err := a.Verify(r, []byte(body)); err != nil {
			t.Errorf("%q: %v", h, err)
		}
	}
	// The timestamp may come as a header instead.
	r := httptest.NewRequest(http.MethodPost, WebhookPath, nil)
	r.Header.Set("X-ZEvent-Timestamp", "42")
	r.Header.Set("X-ZEvent-Signature", "mac="+Signature("1234567890123456789", []byte(`{}`), "42", "oa-secret-key"))
	if err := a.Verify(r, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ body, sig string }{
		{body + " ", "mac=" + want},      // one byte changed
		{body, "mac=" + want[:63] + "0"}, // wrong mac
		{body, ""},                       // none
		{strings.Replace(body, "xin", "XIN", 1), "mac=" + want},
	} {
		r := httptest.NewRequest(http.MethodPost, WebhookPath, nil)
		r.Header.Set("X-ZEvent-Signature", c.sig)
		if err := a.Verify(r, []byte(c.body)); err != provider.ErrBadSignature {
			t.Errorf("%q verified", c.sig)
		}
	}
	if err := mustNew(t, Options{AppID: "1"}).Verify(r, []byte(body)); err == nil {
		t.Fatal("no OA secret key: verified")
	}
}

func mustNew(t *testing.T, o Options) *Adapter {
	t.Helper()
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// media serves a file for uploads.
func media(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = io.WriteString(w, "%PDF-1.4 ccx test")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendEveryType(t *testing.T) {
	f := NewFake()
	defer f.Close()
	o := f.Options()
	o.Media = netguard.Options{AllowPrivate: true}
	a := mustNew(t, o)
	files := media(t)
	lat, lng := 10.7626, 106.6601
	six := []string{"1", "2", "3", "4", "5", "6"}
	cases := []struct {
		name string
		m    channel.Message
		want string // gjson path=value pairs on the request body
		got  channel.MessageType
	}{
		{"text", channel.Text("Xin chào"), "message.text=Xin chào", channel.MessageText},
		{"image", channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/a.jpg", "", "", "cap"),
			"message.text=cap;message.attachment.type=template;message.attachment.payload.template_type=media;message.attachment.payload.elements.0.media_type=image;message.attachment.payload.elements.0.url=https://cdn.example/a.jpg", channel.MessageAttachment},
		{"file", channel.NewAttachment(channel.AttachmentFile, files.URL+"/docs/f.pdf", "", "", ""), "message.attachment.type=file", channel.MessageAttachment},
		{"video", channel.NewAttachment(channel.AttachmentVideo, "https://cdn.example/v.mp4", "", "", "clip"), "message.text=📎 clip https://cdn.example/v.mp4", channel.MessageText},
		{"location", channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "Ben Thanh"}, "message.text=📍 Ben Thanh (10.7626,106.6601)", channel.MessageText},
		{"buttons", channel.QuickReply("Chọn", "Có", "Không"), "message.text=Chọn;message.attachment.payload.buttons.#=2;message.attachment.payload.buttons.1.type=oa.query.show;message.attachment.payload.buttons.1.payload=Không;message.attachment.payload.buttons.1.title=Không", channel.MessageQuickReply},
		{"numbered", channel.QuickReply("Pick", six...), "message.text=" + provider.QuickReplyText(channel.QuickReply("Pick", six...)), channel.MessageText},
		{"custom", channel.CustomPayload([]byte(`{"text":"raw","quote_message_id":"q1"}`)), "message.text=raw;message.quote_message_id=q1", channel.MessageText},
	}
	for _, c := range cases {
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "2468458835296197922", Message: c.m})
		if err != nil || len(id) != 32 {
			t.Fatalf("%s: %q %v", c.name, id, err)
		}
		s := f.Sends()
		got := s[len(s)-1]
		if got.ID != id || got.To != "2468458835296197922" || got.Path != SendPath || gjson.GetBytes(got.Body, "recipient.user_id").String() != "2468458835296197922" {
			t.Errorf("%s: %+v", c.name, got)
		}
		for _, kv := range strings.Split(c.want, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if r := gjson.GetBytes(got.Body, k).String(); r != v {
				t.Errorf("%s: %s = %q, want %q in %s", c.name, k, r, v, got.Body)
			}
		}
		if got.Message.Type != c.got {
			t.Errorf("%s: the fake decoded %s, want %s", c.name, got.Message.Type, c.got)
		}
	}
	// The file went up first and its name reached the customer.
	var file provider.Send
	for _, s := range f.Sends() {
		if gjson.GetBytes(s.Body, "message.attachment.type").String() == "file" {
			file = s
		}
	}
	if at := file.Message.Attachment; at == nil || at.FileName != "f.pdf" || !strings.HasPrefix(at.URL, "zalo-upload:") {
		t.Fatalf("file: %+v", file.Message)
	}
	for _, bad := range []channel.OutgoingRequest{
		{ContactID: "+84901234567", Message: channel.Text("a phone number")},
		{ContactID: "2468458835296197922", Message: channel.CustomPayload([]byte(`"text"`))},
	} {
		if _, err := a.Send(t.Context(), bad); err == nil {
			t.Errorf("%+v: sent", bad)
		}
	}
	// A file whose URL is private: refused with the one fetch error, no upload.
	b := mustNew(t, f.Options())
	if _, err := b.Send(t.Context(), channel.OutgoingRequest{ContactID: "2468458835296197922", Message: channel.NewAttachment(channel.AttachmentFile, files.URL+"/f.pdf", "", "", "")}); err == nil || !strings.Contains(err.Error(), netguard.ErrFetch.Error()) {
		t.Fatalf("private file URL: %v", err)
	}
}

func TestSendErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	f.o.Idle = []string{"1111"}
	a := mustNew(t, f.Options())
	send := func(to string) error {
		_, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: to, Message: channel.Text("hi")})
		return err
	}
	f.SetFaults(provider.Faults{Reject: []string{"2222"}})
	for _, c := range []struct {
		to, want string
		status   int
		retry    bool
	}{
		{"2222", "refused the recipient (-213", 400, false},
		{"1111", "refused the recipient (-230", 400, false},
	} {
		err := send(c.to)
		pe, ok := err.(*provider.Error)
		if !ok || !strings.Contains(pe.Message, c.want) || pe.Status != c.status || pe.Retryable != c.retry {
			t.Errorf("%s: %v", c.to, err)
		}
	}
	f.SetFaults(provider.Faults{RateLimit: 1})
	if pe, ok := send("3333").(*provider.Error); !ok || pe.Status != 429 || !pe.Retryable || !strings.Contains(pe.Message, "rate limit (-32") {
		t.Errorf("rate limit: %+v", pe)
	}
	f.SetFaults(provider.Faults{FailRate: 1})
	if pe, ok := send("3333").(*provider.Error); !ok || pe.Status != 400 || !pe.Retryable || !strings.Contains(pe.Message, "Zalo failed (500)") {
		t.Errorf("5xx: %+v", pe)
	}
	f.SetFaults(provider.Faults{BadCredentials: true})
	if pe, ok := send("3333").(*provider.Error); !ok || pe.Retryable || !strings.Contains(pe.Message, "rejected the access token (-216") || !strings.Contains(pe.Message, "-14003") {
		t.Errorf("credentials: %+v", pe)
	}
	f.SetFaults(provider.Faults{})
	for code, want := range map[int64]string{-211: "quota", -223: "permissions", -201: "refused the message (-201 x)", -220: "CCX_ZALO_ACCESS_TOKEN"} {
		if e := MapError(code, "x"); e.Status != 400 || !strings.Contains(e.Message, want) {
			t.Errorf("%d: %s", code, e.Message)
		}
	}
}

func TestRefreshOnExpiredToken(t *testing.T) {
	f := NewFake()
	defer f.Close()
	dir := t.TempDir()
	o := f.Options()
	o.TokenFile = filepath.Join(dir, "zalo-tokens.json")
	a := mustNew(t, o)
	send := func(a *Adapter) error {
		_, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "2468458835296197922", Message: channel.Text("hi")})
		return err
	}
	if err := send(a); err != nil || f.Refreshes() != 0 {
		t.Fatalf("%v, %d refreshes", err, f.Refreshes())
	}
	// The access token expires: -220, one refresh, the send retried once.
	f.ExpireAccessToken()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- send(a) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.Refreshes() != 1 {
		t.Fatalf("%d refreshes for 8 concurrent sends, want 1 (refreshes must be serialised)", f.Refreshes())
	}
	expired := 0
	for _, s := range f.Sends() {
		if strings.HasPrefix(s.Error, "-220") {
			expired++
		}
	}
	if expired == 0 {
		t.Fatal("no send saw the expired token: the refresh path was not exercised")
	}
	tok := a.Tokens()
	c := f.Credentials()
	if tok.AccessToken != c["CCX_ZALO_ACCESS_TOKEN"] || tok.RefreshToken != c["CCX_ZALO_REFRESH_TOKEN"] || tok.RefreshToken == "refresh-token-0" || tok.ExpiresAt.IsZero() {
		t.Fatalf("tokens %+v, fake %v", tok, c)
	}
	// The new pair is on disk, 0600; a restarted relay uses it and not the
	// spent refresh token of its configuration.
	fi, err := os.Stat(o.TokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	var saved Tokens
	b, _ := os.ReadFile(o.TokenFile)
	if json.Unmarshal(b, &saved) != nil || saved.RefreshToken != tok.RefreshToken {
		t.Fatalf("saved %s", b)
	}
	restarted := mustNew(t, o)
	f.ExpireAccessToken()
	if err := send(restarted); err != nil || f.Refreshes() != 2 {
		t.Fatalf("restarted: %v, %d refreshes", err, f.Refreshes())
	}
	// Without the file, the configured refresh token is spent: say so.
	o.TokenFile = ""
	stale := mustNew(t, o)
	f.ExpireAccessToken()
	err = send(stale)
	if err == nil || !strings.Contains(err.Error(), "single-use") || !strings.Contains(err.Error(), "new OAuth grant") {
		t.Fatalf("spent refresh token: %v", err)
	}
}

func TestProactiveRefresh(t *testing.T) {
	f := NewFake()
	defer f.Close()
	now := time.Now()
	o := f.Options()
	o.AccessToken = "" // only a refresh token: refreshed before the first call
	o.Now = func() time.Time { return now }
	a := mustNew(t, o)
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "1", Message: channel.Text("hi")}); err != nil || f.Refreshes() != 1 {
		t.Fatalf("%v %d", err, f.Refreshes())
	}
	if exp := a.Tokens().ExpiresAt; exp.Sub(now) != DefaultTokenTTL {
		t.Fatalf("expires %v", exp.Sub(now))
	}
	// Close to the expiry the token is renewed before the send.
	now = now.Add(DefaultTokenTTL - 30*time.Second)
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "1", Message: channel.Text("hi")}); err != nil || f.Refreshes() != 2 {
		t.Fatalf("%v %d", err, f.Refreshes())
	}
	for _, s := range f.Sends() {
		if s.Error != "" {
			t.Fatalf("a call was refused: %+v", s)
		}
	}
}

func TestTokenFileErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(p, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{TokenFile: p}); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("%v", err)
	}
	if _, err := New(Options{TokenFile: filepath.Join(t.TempDir(), "missing.json")}); err != nil {
		t.Fatalf("a missing token file is a first start: %v", err)
	}
	a := mustNew(t, Options{})
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "1", Message: channel.Text("x")}); err == nil || !strings.Contains(err.Error(), "CCX_ZALO_REFRESH_TOKEN") {
		t.Fatalf("no tokens: %v", err)
	}
}

func parse(t *testing.T, a *Adapter, req *http.Request) ([]provider.Inbound, error) {
	t.Helper()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(req.Method, req.URL.RequestURI(), strings.NewReader(string(b)))
	r.Header = req.Header.Clone()
	if err := a.Verify(r, b); err != nil {
		return nil, err
	}
	return a.Parse(r, b)
}

func TestInboundRoundTrip(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := mustNew(t, f.Options())
	target := "http://relay.test" + WebhookPath
	lat, lng := 10.7923119, 106.7820651
	cases := []struct {
		in    provider.CustomerMessage
		check func(provider.Inbound) bool
	}{
		{provider.CustomerMessage{Message: channel.Text("xin chào")}, func(in provider.Inbound) bool {
			return in.Message.Text == "xin chào" && in.ContactID == DefaultCustomer
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentImage, "https://cdn.zalo.example/a.jpg", "", "", "cap")}, func(in provider.Inbound) bool {
			at := in.Message.Attachment
			return at.Type == channel.AttachmentImage && at.Description == "cap" && in.MediaRef == "https://cdn.zalo.example/a.jpg"
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentVideo, "https://cdn.zalo.example/v.mp4", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentVideo
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentAudio, "https://cdn.zalo.example/a.aac", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentAudio
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentFile, "https://cdn.zalo.example/x/report.pdf", "", "", "")}, func(in provider.Inbound) bool {
			at := in.Message.Attachment
			return at.Type == channel.AttachmentFile && at.FileName == "report.pdf" && at.MimeType == "application/pdf"
		}},
		{provider.CustomerMessage{Message: channel.Location(lat, lng, "Cơm Coffee New Sky")}, func(in provider.Inbound) bool {
			return *in.Message.Latitude == lat && *in.Message.Longitude == lng && in.Message.Address == "Cơm Coffee New Sky"
		}},
		{provider.CustomerMessage{Native: "sticker", Message: channel.NewAttachment(channel.AttachmentImage, "https://cdn.zalo.example/s.png", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentImage
		}},
		{provider.CustomerMessage{Native: "gif", Message: channel.NewAttachment(channel.AttachmentImage, "https://cdn.zalo.example/g", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.MimeType == "image/gif"
		}},
		{provider.CustomerMessage{Native: "link", Message: channel.Text("https://example.com/page")}, func(in provider.Inbound) bool {
			return in.Message.Text == "https://example.com/page"
		}},
	}
	for _, c := range cases {
		req, err := f.Inbound(target, c.in)
		if err != nil {
			t.Fatalf("%+v: %v", c.in, err)
		}
		ins, err := parse(t, a, req)
		if err != nil || len(ins) != 1 || ins[0].Kind != provider.KindMessage || ins[0].ProviderID == "" || ins[0].Timestamp < 1e12 || !c.check(ins[0]) {
			t.Errorf("%s %s: %+v %v", c.in.Native, c.in.Message.Type, ins, err)
		}
	}
	req, _ := f.Inbound(target, provider.CustomerMessage{Native: "follow"})
	if ins, err := parse(t, a, req); err != nil || len(ins) != 0 {
		t.Fatalf("follow: %+v %v", ins, err)
	}
	bad, _ := f.Inbound(target, provider.CustomerMessage{Message: channel.Text("forged"), BadSignature: true})
	if _, err := parse(t, a, bad); err != provider.ErrBadSignature {
		t.Fatalf("forged: %v", err)
	}
	if _, err := f.Inbound(target, provider.CustomerMessage{From: "+84901234567", Message: channel.Text("x")}); err == nil {
		t.Fatal("a phone number as a Zalo user id")
	}
	// Zalo user ids are valid Custom IDs.
	if err := channel.CheckContactID(DefaultCustomer, channel.IDCustom); err != nil {
		t.Fatal(err)
	}
}

func TestReceipts(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := mustNew(t, f.Options())
	id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "2468458835296197922", Message: channel.Text("hi")})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []channel.StatusValue{channel.StatusDelivered, channel.StatusRead} {
		req, err := f.Receipt("http://relay.test"+WebhookPath, provider.ReceiptSpec{ProviderID: id, Status: st})
		if err != nil {
			t.Fatal(err)
		}
		ins, err := parse(t, a, req)
		if err != nil || len(ins) != 1 || ins[0].Kind != provider.KindStatus || ins[0].ProviderID != id || ins[0].Status.Value != st || ins[0].ContactID != "2468458835296197922" {
			t.Errorf("%s: %+v %v", st, ins, err)
		}
	}
	if _, err := f.Receipt("http://relay.test", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusFailed}); !errors.Is(err, provider.ErrNoReceipts) {
		t.Fatalf("failed: %v", err)
	}
	if _, err := f.Receipt("http://relay.test", provider.ReceiptSpec{ProviderID: id, Status: channel.StatusSent}); err == nil {
		t.Fatal("sent receipt built")
	}
	// A seen event may name several messages, or one msg_id.
	body := `{"event_name":"user_seen_message","timestamp":"1700000000000","sender":{"id":"5"},"message":{"msg_ids":["a","b"]}}`
	ins, err := a.Parse(httptest.NewRequest(http.MethodPost, WebhookPath, nil), []byte(body))
	if err != nil || len(ins) != 2 || ins[1].ProviderID != "b" || ins[0].ContactID != "5" || ins[0].Timestamp != 1700000000000 {
		t.Fatalf("%+v %v", ins, err)
	}
}

func TestAutoReceipts(t *testing.T) {
	var mu sync.Mutex
	var got []provider.Inbound
	var a *Adapter
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := a.Verify(r, b); err != nil {
			http.Error(w, "bad", http.StatusForbidden)
			return
		}
		ins, _ := a.Parse(r, b)
		mu.Lock()
		got = append(got, ins...)
		mu.Unlock()
	}))
	defer hook.Close()
	e := NewEmulator(EmulatorOptions{WebhookURL: hook.URL + WebhookPath})
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	c := e.Credentials()
	a = mustNew(t, Options{BaseURL: srv.URL, AppID: c["CCX_ZALO_APP_ID"], OASecretKey: c["CCX_ZALO_OA_SECRET_KEY"], AccessToken: c["CCX_ZALO_ACCESS_TOKEN"]})
	id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "77", Message: channel.Text("hi")})
	if err != nil {
		t.Fatal(err)
	}
	e.WaitCallbacks()
	e.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Status.Value != channel.StatusDelivered || got[1].Status.Value != channel.StatusRead || got[0].ProviderID != id || got[1].ContactID != "77" {
		t.Fatalf("%+v", got)
	}
	if cb := e.Sends()[0].Callbacks; len(cb) != 2 || cb[1].Answer != 200 {
		t.Fatalf("%+v", cb)
	}
}

func TestParseBadInput(t *testing.T) {
	a := mustNew(t, Options{})
	for _, b := range []string{``, `x`, `[]`, `{}`, `{"event_name":"user_send_text","message":{"text":"x"}}`,
		`{"event_name":"user_send_text","sender":{"id":"1"},"message":{"text":"x"}}`,
		`{"event_name":"user_send_image","sender":{"id":"1"},"message":{"msg_id":"m","attachments":[{"type":"image","payload":{}}]}}`,
		`{"event_name":"user_send_location","sender":{"id":"1"},"message":{"msg_id":"m","attachments":[{"payload":{"coordinates":{"latitude":"n"}}}]}}`,
		`{"event_name":"user_received_message","message":{}}`, `{"event_name":"user_seen_message","message":{"msg_ids":[]}}`} {
		if _, err := a.Parse(httptest.NewRequest(http.MethodPost, WebhookPath, nil), []byte(b)); err == nil {
			t.Errorf("%s: parsed", b)
		} else if _, ok := err.(*provider.ParseError); !ok {
			t.Errorf("%s: %T, want a ParseError (400)", b, err)
		}
	}
	for _, b := range []string{`{"event_name":"follow","follower":{"id":"1"}}`, `{"event_name":"oa_send_text","sender":{"id":"1"},"message":{"msg_id":"m","text":"x"}}`,
		`{"event_name":"user_send_text","sender":{"id":"1"},"message":{"msg_id":"m","text":" "}}`} {
		if ins, err := a.Parse(httptest.NewRequest(http.MethodPost, WebhookPath, nil), []byte(b)); err != nil || len(ins) != 0 {
			t.Errorf("%s: %+v %v", b, ins, err)
		}
	}
	// Big-number ids stay exact.
	b := `{"event_name":"user_send_text","timestamp":"1700000000000","sender":{"id":9223372036854775807},"message":{"msg_id":"m","text":"x"}}`
	if ins, err := a.Parse(httptest.NewRequest(http.MethodPost, WebhookPath, nil), []byte(b)); err != nil || ins[0].ContactID != "9223372036854775807" {
		t.Fatalf("%+v %v", ins, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"app_id":"1","event_name":"user_send_text","timestamp":"1700000000000","sender":{"id":"2"},"recipient":{"id":"3"},"message":{"msg_id":"m","text":"x"}}`)
	f.Add(`{"event_name":"user_send_file","sender":{"id":"2"},"message":{"msg_id":"m","attachments":[{"type":"file","payload":{"url":"https://x/f.pdf","name":"f.pdf"}}]}}`)
	f.Add(`{"event_name":"user_send_location","sender":{"id":"2"},"message":{"msg_id":"m","text":"t","attachments":[{"type":"location","payload":{"coordinates":{"latitude":"1","longitude":"2"}}}]}}`)
	f.Add(`{"event_name":"user_seen_message","sender":{"id":"2"},"message":{"msg_ids":["a"]}}`)
	f.Add(`{"event_name":"user_received_message","recipient":{"id":"2"},"message":{"msg_id":"a"}}`)
	a, _ := New(Options{AppID: "1", OASecretKey: "k"})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
		r.Header.Set("X-ZEvent-Signature", "mac=00")
		_ = a.Verify(r, []byte(body))
		ins, err := a.Parse(r, []byte(body))
		if err != nil {
			if _, ok := err.(*provider.ParseError); !ok {
				t.Fatalf("%T is not a ParseError", err)
			}
		}
		for _, in := range ins {
			if in.ProviderID == "" || in.Kind == provider.KindMessage && in.Message == nil || in.Kind == provider.KindStatus && in.Status == nil {
				t.Fatalf("empty event %+v", in)
			}
		}
	})
}
