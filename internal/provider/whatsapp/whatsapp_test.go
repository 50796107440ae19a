package whatsapp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

func TestSignatureVector(t *testing.T) {
	// HMAC-SHA256(key "secret", "test"), computed independently (docs/provider.md).
	const want = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
	if got := Signature("secret", []byte("test")); got != want {
		t.Fatalf("signature = %s", got)
	}
	if !ValidSignature("secret", []byte("test"), want) || !ValidSignature("secret", []byte("test"), "sha256="+strings.ToUpper(want[7:])) {
		t.Fatal("the vector must validate (hex in either case)")
	}
	for _, h := range []string{"", want[7:], "sha1=" + want[7:], want + "0", "sha256=zz"} {
		if ValidSignature("secret", []byte("test"), h) {
			t.Errorf("%q validated", h)
		}
	}
	if ValidSignature("", []byte("test"), Signature("", []byte("test"))) {
		t.Error("an empty app secret must verify nothing")
	}
	if ValidSignature("other", []byte("test"), want) || ValidSignature("secret", []byte("test "), want) {
		t.Error("wrong key or body validated")
	}
}

func send(t *testing.T, a *Adapter, m channel.Message) (string, error) {
	t.Helper()
	return a.Send(t.Context(), channel.OutgoingRequest{ChannelID: "c", ContactID: "+60177872890", Message: m})
}

func TestSendEveryType(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(f.Options())
	long := strings.Repeat("x", 25)
	cases := []struct {
		name string
		m    channel.Message
		want map[string]string // gjson path → value in the sent object
	}{
		{"text", channel.Text("hi"), map[string]string{"type": "text", "text.body": "hi", "text.preview_url": "false"}},
		{"image", channel.NewAttachment(channel.AttachmentImage, "https://x.example/a.jpg", "image/jpeg", "a.jpg", "cap"), map[string]string{"type": "image", "image.link": "https://x.example/a.jpg", "image.caption": "cap"}},
		{"video", channel.NewAttachment(channel.AttachmentVideo, "https://x.example/v.mp4", "", "", "vid"), map[string]string{"type": "video", "video.link": "https://x.example/v.mp4", "video.caption": "vid"}},
		{"audio", channel.NewAttachment(channel.AttachmentAudio, "https://x.example/a.mp3", "", "", "dropped"), map[string]string{"type": "audio", "audio.link": "https://x.example/a.mp3", "audio.caption": ""}},
		{"file", channel.NewAttachment(channel.AttachmentFile, "https://x.example/i.pdf", "application/pdf", "invoice.pdf", "your invoice"), map[string]string{"type": "document", "document.filename": "invoice.pdf", "document.caption": "your invoice"}},
		{"location", channel.Location(3.139, 101.6869, "KLCC"), map[string]string{"type": "location", "location.latitude": "3.139", "location.longitude": "101.6869", "location.address": "KLCC"}},
		{"buttons", channel.QuickReply("Rate us", "Good", "Okay", "Bad"), map[string]string{"type": "interactive", "interactive.type": "button", "interactive.body.text": "Rate us",
			"interactive.action.buttons.#": "3", "interactive.action.buttons.2.reply.title": "Bad", "interactive.action.buttons.0.reply.id": "Good"}},
		{"list", channel.QuickReply("Pick a store", "KLCC", "Mid Valley", "Pavilion", "Sunway"), map[string]string{"type": "interactive", "interactive.type": "list",
			"interactive.action.button": ListButtonLabel, "interactive.action.sections.0.rows.#": "4", "interactive.action.sections.0.rows.3.title": "Sunway"}},
		{"long button → list", channel.QuickReply("Q", "A fairly long answer 21", "B"), map[string]string{"interactive.type": "list"}},
		{"too many → text", channel.QuickReply("Q", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"), map[string]string{"type": "text", "text.body": "Q\n1. 1\n2. 2\n3. 3\n4. 4\n5. 5\n6. 6\n7. 7\n8. 8\n9. 9\n10. 10\n11. 11"}},
		{"too long → text", channel.QuickReply("Q", long, "B"), map[string]string{"type": "text", "text.body": "Q\n1. " + long + "\n2. B"}},
		{"duplicates → text", channel.QuickReply("Q", "Yes", "Yes"), map[string]string{"type": "text"}},
		{"custom template", channel.CustomPayload([]byte(`{"type":"template","template":{"name":"hello_world","language":{"code":"en_US"}},"to":"999"}`)),
			map[string]string{"type": "template", "template.name": "hello_world", "to": "60177872890"}},
	}
	for _, c := range cases {
		id, err := send(t, a, c.m)
		if err != nil || !strings.HasPrefix(id, "wamid.") || len(id) <= channel.MaxMIDLen {
			t.Fatalf("%s: %q %v (wamids are longer than a platform mId)", c.name, id, err)
		}
		sent := f.Sent()
		got := sent[len(sent)-1]
		if got.Get("messaging_product").String() != "whatsapp" || got.Get("to").String() != "60177872890" || got.Get("recipient_type").String() != "individual" {
			t.Errorf("%s: envelope %s", c.name, got.Raw)
		}
		for p, v := range c.want {
			if g := got.Get(p).String(); g != v {
				t.Errorf("%s: %s = %q, want %q (%s)", c.name, p, g, v, got.Raw)
			}
		}
	}
	for _, m := range []channel.Message{channel.CustomPayload([]byte(`[1]`)), channel.CustomPayload([]byte(`{"type":"template"}`)), {Type: channel.MessageAttachment}} {
		if _, err := send(t, a, m); err == nil {
			t.Errorf("%s %s: want an error", m.Type, m.Payload)
		}
	}
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "60177872890", Message: channel.Text("x")}); err == nil {
		t.Error("a contact ID without + must be refused (phone channels are +E.164)")
	}
}

func TestSendErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	o := f.Options()
	o.Token = "wrong"
	_, err := send(t, New(o), channel.Text("x"))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(pe.Message, "credentials") || !strings.Contains(pe.Message, "190") {
		t.Fatalf("auth: %v", err)
	}
	a := New(f.Options())
	f.SetFaults(provider.Faults{Reject: []string{"+60177872890"}})
	if _, err = send(t, a, channel.Text("x")); !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(pe.Message, "recipient +60177872890") || !strings.Contains(pe.Message, "131030") {
		t.Fatalf("recipient: %v", err)
	}
	f.SetFaults(provider.Faults{RateLimit: 1})
	if _, err = send(t, a, channel.Text("x")); !errors.As(err, &pe) || pe.Status != 429 || !pe.Retryable || !strings.Contains(pe.Message, "130429") {
		t.Fatalf("429: %v", err)
	}
	f.SetFaults(provider.Faults{FailRate: 1})
	if _, err = send(t, a, channel.Text("x")); !errors.As(err, &pe) || pe.Status != 400 || !pe.Retryable || !strings.Contains(pe.Message, "131000") {
		t.Fatalf("5xx: %v", err)
	}
	f.SetFaults(provider.Faults{})
	// Invalid interactive (an emulator check the adapter never trips): 131009.
	if _, err = send(t, a, channel.CustomPayload([]byte(`{"type":"interactive","interactive":{"type":"button","body":{"text":"q"},"action":{"buttons":[]}}}`))); !errors.As(err, &pe) || !strings.Contains(pe.Message, "131009") {
		t.Fatalf("bad interactive: %v", err)
	}
	// Codes the fake does not play, straight through the response parser.
	for _, c := range []struct {
		status int
		body   string
		want   string
		st     int
	}{
		{400, `{"error":{"message":"(#131047) Re-engagement message","code":131047,"error_data":{"details":"Message failed to send because more than 24 hours have passed"}}}`, "24 hours", 400},
		{400, `{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","code":131056}}`, "rate limit", 429},
		{503, `{"error":{"message":"(#131016) Service unavailable","code":131016}}`, "failed (503)", 400},
		{400, `not json`, "not json", 400},
	} {
		_, err := ParseSendResponse(c.status, http.Header{}, []byte(c.body), "+1")
		if !errors.As(err, &pe) || pe.Status != c.st || !strings.Contains(pe.Message, c.want) {
			t.Errorf("%s: %v", c.body, err)
		}
	}
	_, err = ParseSendResponse(400, http.Header{}, []byte(`{"error":{"code":131056,"message":"pair"}}`), "+1")
	if !errors.As(err, &pe) || pe.RetryAfter == 0 {
		t.Errorf("131056 should hint a retry after: %v", err)
	}
}

func TestVerifyHandshake(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(f.Options())
	req, err := f.Handshake("http://relay.example/providers/whatsapp/webhook", "1158201444", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(req, nil); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if ins, err := a.Parse(req, nil); err != nil || len(ins) != 0 {
		t.Fatalf("handshake parse: %v %v", ins, err)
	}
	w := httptest.NewRecorder()
	if !a.Respond(w, req) || w.Body.String() != "1158201444" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("handshake answer %q %q", w.Body, w.Header())
	}
	bad, _ := f.Handshake("http://relay.example/providers/whatsapp/webhook", "1", true)
	if a.Verify(bad, nil) == nil {
		t.Fatal("a wrong verify token passed")
	}
	noMode := httptest.NewRequest(http.MethodGet, "/providers/whatsapp/webhook?hub.verify_token="+f.o.VerifyToken+"&hub.challenge=1", nil)
	if a.Verify(noMode, nil) == nil {
		t.Fatal("a handshake without hub.mode=subscribe passed")
	}
	post := httptest.NewRequest(http.MethodPost, "/providers/whatsapp/webhook", nil)
	if a.Respond(httptest.NewRecorder(), post) {
		t.Fatal("a POST is acked by the engine, not Respond")
	}
	o := f.Options()
	o.VerifyToken = ""
	if New(o).Verify(req, nil) == nil {
		t.Fatal("without a verify token every handshake must fail")
	}
}

// roundTrip builds the emulator's webhook and reads it through Verify+Parse.
func roundTrip(t *testing.T, f *Fake, a *Adapter, in provider.CustomerMessage) ([]provider.Inbound, *http.Request, []byte) {
	t.Helper()
	req, err := f.Inbound("http://relay.example/providers/whatsapp/webhook", in)
	if err != nil {
		t.Fatalf("%+v: %v", in, err)
	}
	body, _ := io.ReadAll(req.Body)
	if err := a.Verify(req, body); err != nil {
		t.Fatalf("%+v: verify: %v", in, err)
	}
	ins, err := a.Parse(req, body)
	if err != nil {
		t.Fatalf("%+v: parse: %v", in, err)
	}
	return ins, req, body
}

func TestInboundRoundTrip(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(f.Options())
	img := channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/p.png", "image/png", "", "my photo")
	doc := channel.NewAttachment(channel.AttachmentFile, "https://cdn.example/i.pdf", "application/pdf", "invoice.pdf", "inv")
	cases := []struct {
		in   provider.CustomerMessage
		want channel.Message
		name string // the media's file name
	}{
		{provider.CustomerMessage{Message: channel.Text("héllo 👋"), Name: "Ada"}, channel.Text("héllo 👋"), ""},
		{provider.CustomerMessage{Message: img}, channel.NewAttachment(channel.AttachmentImage, "", "image/png", "", "my photo"), ""},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentVideo, "https://cdn.example/v.mp4", "", "", "clip")}, channel.NewAttachment(channel.AttachmentVideo, "", "video/mp4", "", "clip"), ""},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentAudio, "https://cdn.example/a.mp3", "", "", "")}, channel.NewAttachment(channel.AttachmentAudio, "", "audio/mpeg", "", ""), ""},
		{provider.CustomerMessage{Message: doc}, channel.NewAttachment(channel.AttachmentFile, "", "application/pdf", "invoice.pdf", "inv"), "invoice.pdf"},
		{provider.CustomerMessage{Message: channel.Location(35.681236, 139.767125, "Tokyo Station, Marunouchi")}, channel.Location(35.681236, 139.767125, "Tokyo Station, Marunouchi"), ""},
		{provider.CustomerMessage{Message: channel.Location(1, 2, "")}, channel.Location(1, 2, ""), ""},
		{provider.CustomerMessage{Native: "sticker", Message: channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/s.webp", "", "", "")}, channel.NewAttachment(channel.AttachmentImage, "", "image/webp", "", ""), ""},
		{provider.CustomerMessage{Native: "voice", Message: channel.NewAttachment(channel.AttachmentAudio, "https://cdn.example/v.ogg", "", "", "")}, channel.NewAttachment(channel.AttachmentAudio, "", "audio/ogg; codecs=opus", "", ""), ""},
		{provider.CustomerMessage{Native: "contacts", Name: "Bob", Message: channel.Text("+60123456789")}, channel.Text("👤 Bob +60123456789"), ""},
		{provider.CustomerMessage{Native: "button_reply", Message: channel.Text("Good")}, channel.Text("Good"), ""},
		{provider.CustomerMessage{Native: "list_reply", Message: channel.Text("KLCC")}, channel.Text("KLCC"), ""},
		{provider.CustomerMessage{Native: "button", Message: channel.Text("Stop promotions")}, channel.Text("Stop promotions"), ""},
	}
	for _, c := range cases {
		c.in.From = "+60177872890"
		ins, _, body := roundTrip(t, f, a, c.in)
		if len(ins) != 1 {
			t.Fatalf("%s/%s: %d events", c.in.Message.Type, c.in.Native, len(ins))
		}
		in := ins[0]
		if in.Kind != provider.KindMessage || in.ContactID != "+60177872890" || !strings.HasPrefix(in.ProviderID, "wamid.") || in.Timestamp < 1e12 {
			t.Errorf("%s: %+v", c.in.Native, in)
		}
		got := *in.Message
		if got.Type == channel.MessageAttachment {
			if in.MediaRef == "" || !strings.HasPrefix(got.Attachment.URL, MediaScheme) || strings.Contains(got.Attachment.URL, "cdn.example") {
				t.Errorf("media must go through the proxy: ref %q url %q", in.MediaRef, got.Attachment.URL)
			}
			got.Attachment.URL = ""
		}
		if !sameMsg(got, c.want) {
			t.Errorf("%s/%s: got %+v %+v, want %+v", c.in.Message.Type, c.in.Native, got, got.Attachment, c.want)
		}
		if c.in.Name == "Ada" {
			if in.Contact == nil || in.Contact.FirstName != "Ada" || in.Contact.Phone != "+60177872890" {
				t.Errorf("profile: %+v", in.Contact)
			}
			if !bytes.Contains(body, []byte(`h\u00e9llo \ud83d\udc4b`)) {
				t.Errorf("Meta escapes non-ASCII: %s", body)
			}
		}
	}
	for _, n := range []string{"reaction", "unsupported"} {
		ins, _, _ := roundTrip(t, f, a, provider.CustomerMessage{Native: n, Message: channel.Text("👍")})
		if len(ins) != 0 {
			t.Errorf("%s: %+v, want nothing for the platform", n, ins)
		}
	}
	// Badly signed, or signed over another body.
	req, _ := f.Inbound("http://relay.example/x", provider.CustomerMessage{Message: channel.Text("x"), BadSignature: true})
	body, _ := io.ReadAll(req.Body)
	if a.Verify(req, body) == nil {
		t.Fatal("a bad signature verified")
	}
	req, _ = f.Inbound("http://relay.example/x", provider.CustomerMessage{Message: channel.Text("x")})
	body, _ = io.ReadAll(req.Body)
	if a.Verify(req, bytes.Replace(body, []byte(`"x"`), []byte(`"y"`), 1)) == nil {
		t.Fatal("a tampered body verified")
	}
}

func sameMsg(a, b channel.Message) bool {
	if a.Type != b.Type || a.Text != b.Text || a.Address != b.Address {
		return false
	}
	if (a.Latitude == nil) != (b.Latitude == nil) || a.Latitude != nil && (*a.Latitude != *b.Latitude || *a.Longitude != *b.Longitude) {
		return false
	}
	if (a.Attachment == nil) != (b.Attachment == nil) {
		return false
	}
	return a.Attachment == nil || *a.Attachment == *b.Attachment
}

// Receipts of a send map to the mId /message returned, though the wamid is
// longer than an mId may be.
func TestStatusesMapToTheSentMID(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(f.Options())
	id, err := send(t, a, channel.Text("hello"))
	if err != nil {
		t.Fatal(err)
	}
	mid := provider.MID(id)
	if len(mid) > channel.MaxMIDLen || mid == id {
		t.Fatalf("mId %q for wamid %q", mid, id)
	}
	for _, c := range []struct {
		st     channel.StatusValue
		reason string
		want   string
	}{
		{channel.StatusSent, "", ""}, {channel.StatusDelivered, "", ""}, {channel.StatusRead, "", ""},
		{channel.StatusFailed, "the handset is unreachable", "WhatsApp: failed (#131026) Message undeliverable: the handset is unreachable"},
		{channel.StatusFailed, "131047", "(#131047)"},
	} {
		if _, err := f.Receipt("", provider.ReceiptSpec{ProviderID: id, Status: c.st, Reason: c.reason}); err == nil {
			t.Fatal("no webhook URL configured: Receipt must say so")
		}
		req, err := f.Receipt("http://relay.example/providers/whatsapp/webhook", provider.ReceiptSpec{ProviderID: id, Status: c.st, Reason: c.reason})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		if err := a.Verify(req, body); err != nil {
			t.Fatal(err)
		}
		ins, err := a.Parse(req, body)
		if err != nil || len(ins) != 1 {
			t.Fatalf("%s: %v %v", c.st, ins, err)
		}
		in := ins[0]
		if in.Kind != provider.KindStatus || provider.MID(in.ProviderID) != mid || in.Status.Value != c.st || in.ContactID != "+60177872890" {
			t.Errorf("%s: %+v %+v", c.st, in, in.Status)
		}
		if !strings.Contains(in.Status.Message, c.want) {
			t.Errorf("%s: reason %q, want %q", c.st, in.Status.Message, c.want)
		}
	}
}

func TestParseBatchesAndOtherNumbers(t *testing.T) {
	a := New(Options{PhoneNumberID: "111", AppSecret: "s"})
	body := `{"object":"whatsapp_business_account","entry":[
	 {"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"111"},
	   "messages":[{"from":"15550001","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"one"}},
	               {"from":"15550002","id":"wamid.B","timestamp":"1749416384","type":"text","text":{"body":"two"}}],
	   "statuses":[{"id":"wamid.C","status":"played","timestamp":"1749416385","recipient_id":"15550003"},
	               {"id":"wamid.D","status":"deleted","recipient_id":"15550003"}]}},
	  {"field":"account_update","value":{}}]},
	 {"id":"2","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"999"},
	   "messages":[{"from":"15550009","id":"wamid.Z","type":"text","text":{"body":"not ours"}}]}}]}]}`
	r := httptest.NewRequest(http.MethodPost, "/providers/whatsapp/webhook", strings.NewReader(body))
	ins, err := a.Parse(r, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 3 || ins[0].Message.Text != "one" || ins[1].ContactID != "+15550002" || ins[2].Status.Value != channel.StatusRead || ins[0].Timestamp != 1749416383000 {
		t.Fatalf("%+v", ins)
	}
	for _, bad := range []string{`nope`, `{}`, `{"object":"whatsapp_business_account"}`, `[1]`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"sent"}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"w","from":"1","type":"location","location":{"latitude":"x"}}]}}]}]}`} {
		if _, err := a.Parse(r, []byte(bad)); err == nil {
			t.Errorf("%s: want a ParseError", bad)
		} else if _, ok := err.(*provider.ParseError); !ok {
			t.Errorf("%s: %T, want *provider.ParseError", bad, err)
		}
	}
	if ins, err := a.Parse(r, []byte(`{"object":"page","entry":[]}`)); err != nil || len(ins) != 0 {
		t.Errorf("another object: %v %v", ins, err)
	}
}

func TestMediaThroughTheProxy(t *testing.T) {
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("PNGDATA"))
	}))
	defer src.Close()
	f := NewFake()
	defer f.Close()
	f.AddMedia("1037543291543636", "audio/ogg", []byte("OGGDATA"))
	o := f.Options()
	a := New(o)
	ins, _, _ := roundTrip(t, f, a, provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentImage, src.URL+"/p.png", "", "", "")})
	for ref, want := range map[string]string{ins[0].MediaRef: "PNGDATA", "1037543291543636": "OGGDATA"} {
		resp, err := a.OpenMedia(t.Context(), ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Fatalf("%s: %q, want %q", ref, b, want)
		}
	}
	if _, err := a.OpenMedia(t.Context(), "unknown"); err == nil {
		t.Fatal("an unknown media id must fail")
	}
	o.Token = "wrong"
	if _, err := New(o).OpenMedia(t.Context(), "1037543291543636"); err == nil {
		t.Fatal("media without the token must fail")
	}
}

// The token goes only to the API host or Meta's media hosts: a media URL
// elsewhere is fetched without it, and only at a public address.
func TestMediaTokenStaysWithMeta(t *testing.T) {
	var sawAuth string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sawAuth = r.Header.Get("Authorization") }))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"url":"`+other.URL+`/file","mime_type":"image/png","id":"1"}`)
	}))
	defer api.Close()
	a := New(Options{BaseURL: api.URL, Token: "tok"})
	if _, err := a.OpenMedia(t.Context(), "1"); !errors.Is(err, netguard.ErrFetch) {
		t.Fatalf("a loopback media host beyond the API must be refused: %v", err)
	}
	a = New(Options{BaseURL: api.URL, Token: "tok", Media: netguard.Options{AllowPrivate: true}})
	resp, err := a.OpenMedia(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sawAuth != "" {
		t.Fatalf("the token went to another host: %q", sawAuth)
	}
	for host, want := range map[string]bool{"https://lookaside.fbsbx.com/x": true, "https://evil.example/x": false, "http://lookaside.fbsbx.com/x": false, "http://graph.facebook.com/x": false, "https://graph.facebook.com/x": true} {
		m := New(Options{Token: "tok"})
		u, _ := http.NewRequest(http.MethodGet, host, nil)
		if got := m.metaHost(u.URL); got != want {
			t.Errorf("%s: metaHost %v", host, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	fk := NewEmulator(EmulatorOptions{PhoneNumberID: "1"})
	for _, in := range []provider.CustomerMessage{{Message: channel.Text("hi")}, {Message: channel.Location(1, 2, "a, b")},
		{Native: "button_reply", Message: channel.Text("Good")}, {Native: "contacts", Message: channel.Text("+1555")}} {
		b, _ := fk.InboundBody(in)
		f.Add(string(b))
	}
	f.Add(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"w","status":"failed","errors":[{"code":1}]}]}}]}]}`)
	a := New(Options{AppSecret: "s", PhoneNumberID: "1"})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/providers/whatsapp/webhook", strings.NewReader(body))
		r.Header.Set("X-Hub-Signature-256", Signature("s", []byte(body)))
		if err := a.Verify(r, []byte(body)); err != nil {
			t.Fatal(err)
		}
		ins, err := a.Parse(r, []byte(body))
		if err != nil {
			if _, ok := err.(*provider.ParseError); !ok {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		for _, in := range ins {
			if in.ProviderID == "" || (in.Message == nil) == (in.Status == nil) {
				t.Fatalf("%+v", in)
			}
		}
		_ = gjson.Valid(body)
	})
}
