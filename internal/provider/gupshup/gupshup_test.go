package gupshup

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

func adapterFor(f *Fake) *Adapter {
	return New(Options{BaseURL: f.URL(), APIKey: f.APIKey, AppName: "CcxTest", Source: "+917834811114", Secret: "s3cr3t"})
}

func TestSendEveryType(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := adapterFor(f)
	lat, lng := 10.7626, 106.6601
	many := []string{"a", "b", "c", "d", "e"}
	twelve := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
	cases := []struct {
		name string
		m    channel.Message
		want string // gjson path=value pairs on the message object, ";"-separated
		got  channel.MessageType
	}{
		{"text", channel.Text("Xin chào"), "type=text;text=Xin chào", channel.MessageText},
		{"image", channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/a.jpg", "image/jpeg", "", "cap"), "type=image;originalUrl=https://cdn.example/a.jpg;previewUrl=https://cdn.example/a.jpg;caption=cap", channel.MessageAttachment},
		{"video", channel.NewAttachment(channel.AttachmentVideo, "https://cdn.example/v.mp4", "", "", "vid"), "type=video;url=https://cdn.example/v.mp4;caption=vid", channel.MessageAttachment},
		{"audio", channel.NewAttachment(channel.AttachmentAudio, "https://cdn.example/a.ogg", "", "", "dropped"), "type=audio;url=https://cdn.example/a.ogg;caption=", channel.MessageAttachment},
		{"file", channel.NewAttachment(channel.AttachmentFile, "https://cdn.example/doc/f.pdf", "", "", "a pdf"), "type=file;url=https://cdn.example/doc/f.pdf;filename=f.pdf;caption=a pdf", channel.MessageAttachment},
		{"location", channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "Ben Thanh"}, "type=location;latitude=10.7626;longitude=106.6601;name=Ben Thanh;address=Ben Thanh", channel.MessageLocation},
		{"buttons", channel.QuickReply("Rate us", "Good", "Okay", "Bad"), "type=quick_reply;content.text=Rate us;options.#=3;options.2.title=Bad;options.2.postbackText=Bad", channel.MessageQuickReply},
		{"list", channel.QuickReply("Pick", many...), "type=list;body=Pick;title=" + ListHeader + ";globalButtons.0.title=" + ListButton + ";items.0.options.#=5;items.0.options.4.title=e", channel.MessageQuickReply},
		{"long button → list", channel.QuickReply("Pick", "twenty-one characters", "b"), "type=list;items.0.options.0.title=twenty-one characters", channel.MessageQuickReply},
		{"numbered text", channel.QuickReply("Pick", twelve...), "type=text;text=" + provider.QuickReplyText(channel.QuickReply("Pick", twelve...)), channel.MessageText},
		{"custom", channel.CustomPayload([]byte(`{"type":"sticker","url":"https://cdn.example/s.webp"}`)), "type=sticker;url=https://cdn.example/s.webp", channel.MessageAttachment},
	}
	for _, c := range cases {
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+84901234567", Message: c.m})
		if err != nil || len(id) != 36 {
			t.Fatalf("%s: %q %v", c.name, id, err)
		}
		sent := f.Sent()
		got := sent[len(sent)-1]
		if got.ID != id || got.Form.Get("destination") != "84901234567" || got.Form.Get("source") != "917834811114" ||
			got.Form.Get("src.name") != "CcxTest" || got.Form.Get("channel") != "whatsapp" {
			t.Errorf("%s: form %v", c.name, got.Form)
		}
		msg := got.Form.Get("message")
		for _, kv := range strings.Split(c.want, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if r := gjson.Get(msg, k).String(); r != v {
				t.Errorf("%s: %s = %q, want %q in %s", c.name, k, r, v, msg)
			}
		}
		if rec := f.Sends(); rec[len(rec)-1].Message.Type != c.got {
			t.Errorf("%s: the fake decoded %s, want %s", c.name, rec[len(rec)-1].Message.Type, c.got)
		}
	}
	for _, bad := range []channel.OutgoingRequest{
		{ContactID: "84901234567", Message: channel.Text("no +")},
		{ContactID: "+84901234567", Message: channel.CustomPayload([]byte(`{"text":"no type"}`))},
		{ContactID: "+84901234567", Message: channel.CustomPayload([]byte(`[1]`))},
	} {
		if _, err := a.Send(t.Context(), bad); err == nil {
			t.Errorf("%+v: sent", bad)
		}
	}
}

func TestSendResponseMapping(t *testing.T) {
	for _, c := range []struct {
		status     int
		body, want string
		code       int
		retry      bool
	}{
		{401, `{"status":"error","message":"Authentication Failed"}`, "credentials", 400, false},
		{401, `{"status":"error","message":{"message":"Authentication Failed"}}`, "CCX_GUPSHUP_API_KEY", 400, false},
		{400, `{"message":"Invalid Destination","status":"error"}`, "refused the recipient", 400, false},
		{400, `{"message":"Invalid App Details","status":"error"}`, "CCX_GUPSHUP_APP_NAME", 400, false},
		{429, `{"status":"error","message":"Too Many Requests"}`, "rate limit", 429, true},
		{500, `{"status":"error","message":"Internal server error"}`, "500", 400, true},
		{502, `<html>bad gateway</html>`, "bad gateway", 400, true},
		{200, `{"status":"error","message":"x"}`, "did not submit", 400, false},
		{202, `{"status":"submitted"}`, "did not submit", 400, false},
	} {
		_, err := ParseSendResponse(c.status, http.Header{}, []byte(c.body))
		pe, ok := err.(*provider.Error)
		if !ok || !strings.Contains(pe.Message, c.want) || pe.Status != c.code || pe.Retryable != c.retry {
			t.Errorf("%d %s: %+v", c.status, c.body, err)
		}
	}
	if id, err := ParseSendResponse(200, http.Header{}, []byte(`{"status":"submitted","messageId":"3f1c9a52-7d4e-4b8a-9c21-5e6f0a7b8c9d"}`)); err != nil || id != "3f1c9a52-7d4e-4b8a-9c21-5e6f0a7b8c9d" {
		t.Fatalf("%q %v", id, err)
	}
}

func read(t *testing.T, req *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parse verifies and parses a request the emulator built, as the relay does.
func parse(t *testing.T, a *Adapter, req *http.Request) ([]provider.Inbound, error) {
	t.Helper()
	b := read(t, req)
	r := httptest.NewRequest(req.Method, req.URL.RequestURI(), strings.NewReader(string(b)))
	r.Header = req.Header.Clone()
	if err := a.Verify(r, b); err != nil {
		return nil, err
	}
	return a.Parse(r, b)
}

func TestInboundRoundTrip(t *testing.T) {
	e := NewEmulator(EmulatorOptions{Secret: "s3cr3t"})
	a := New(Options{Secret: "s3cr3t"})
	target := "http://relay.test" + WebhookPath + "/{secret}"
	lat, lng := 35.681236, 139.767125
	cases := []struct {
		in    provider.CustomerMessage
		check func(provider.Inbound) bool
	}{
		{provider.CustomerMessage{Message: channel.Text("hi"), Name: "An"}, func(in provider.Inbound) bool {
			return in.Message.Text == "hi" && in.Contact != nil && in.Contact.FirstName == "An" && in.ContactID == DefaultCustomer
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentImage, "https://fm.example/a.png", "image/png", "", "cap")}, func(in provider.Inbound) bool {
			a := in.Message.Attachment
			return a.Type == channel.AttachmentImage && a.Description == "cap" && a.MimeType == "image/png" && in.MediaRef == "https://fm.example/a.png"
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentVideo, "https://fm.example/v.mp4", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentVideo
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentAudio, "https://fm.example/a.ogg", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentAudio && in.Message.Attachment.MimeType == "audio/ogg"
		}},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentFile, "https://fm.example/f.pdf", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentFile && in.Message.Attachment.FileName == "f.pdf"
		}},
		{provider.CustomerMessage{Message: channel.Location(lat, lng, "Tokyo Station, Marunouchi")}, func(in provider.Inbound) bool {
			return *in.Message.Latitude == lat && *in.Message.Longitude == lng && in.Message.Address == "Tokyo Station, Marunouchi"
		}},
		{provider.CustomerMessage{Native: "sticker", Message: channel.NewAttachment(channel.AttachmentFile, "https://fm.example/s.webp", "", "", "")}, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentImage && in.Message.Attachment.MimeType == "image/webp"
		}},
		{provider.CustomerMessage{Native: "contact", Name: "Binh", Message: channel.Text("+84 90 111 2222")}, func(in provider.Inbound) bool {
			return in.Message.Text == "👤 Binh +84 90 111 2222"
		}},
		{provider.CustomerMessage{Native: "button_reply", Message: channel.Text("Yes")}, func(in provider.Inbound) bool { return in.Message.Text == "Yes" }},
		{provider.CustomerMessage{Native: "list_reply", Message: channel.Text("Row 1")}, func(in provider.Inbound) bool { return in.Message.Text == "Row 1" }},
		{provider.CustomerMessage{Native: "quick_reply", Message: channel.Text("View balance")}, func(in provider.Inbound) bool { return in.Message.Text == "View balance" }},
	}
	for _, c := range cases {
		req, err := e.Inbound(target, c.in)
		if err != nil {
			t.Fatalf("%+v: %v", c.in, err)
		}
		if !strings.HasSuffix(req.URL.Path, "/s3cr3t") {
			t.Fatalf("target not expanded: %s", req.URL)
		}
		ins, err := parse(t, a, req)
		if err != nil || len(ins) != 1 || ins[0].Kind != provider.KindMessage || ins[0].ProviderID == "" || ins[0].Timestamp < 1e12 || !c.check(ins[0]) {
			t.Errorf("%s %s: %+v %v", c.in.Native, c.in.Message.Type, ins, err)
			continue
		}
		if m := ins[0].Message; m != nil && m.Attachment != nil {
			t.Logf("%+v", *m.Attachment)
		}
	}
	// A user-event is acknowledged with nothing to post.
	req, _ := e.Inbound(target, provider.CustomerMessage{Native: "opt-in"})
	if ins, err := parse(t, a, req); err != nil || len(ins) != 0 {
		t.Fatalf("opt-in: %+v %v", ins, err)
	}
	// A retry keeps its id.
	r1, _ := e.Inbound(target, provider.CustomerMessage{ID: "ABEGfixed", Message: channel.Text("x")})
	if ins, _ := parse(t, a, r1); ins[0].ProviderID != "ABEGfixed" {
		t.Fatalf("id %q", ins[0].ProviderID)
	}
	// Badly "signed": the path secret is spoiled.
	bad, err := e.Inbound(target, provider.CustomerMessage{Message: channel.Text("forged"), BadSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(t, a, bad); err != provider.ErrBadSignature {
		t.Fatalf("forged: %v", err)
	}
	if _, err := e.Inbound(target, provider.CustomerMessage{Message: channel.Location(1, 2, "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Inbound(target, provider.CustomerMessage{From: "84901234567", Message: channel.Text("x")}); err == nil {
		t.Fatal("a customer without + accepted")
	}
	if _, err := e.Inbound(target, provider.CustomerMessage{Native: "voice", Message: channel.Text("x")}); err == nil {
		t.Fatal("unknown native accepted")
	}
}

func TestHeaderToken(t *testing.T) {
	e := NewEmulator(EmulatorOptions{Header: "X-Ccx-Token", HeaderValue: "tok-123456"})
	a := New(Options{Header: "X-Ccx-Token", HeaderValue: "tok-123456"})
	if len(a.Unverified()) != 0 {
		t.Fatal("a header token is a verification")
	}
	req, _ := e.Inbound("http://relay.test"+WebhookPath, provider.CustomerMessage{Message: channel.Text("hi")})
	if ins, err := parse(t, a, req); err != nil || len(ins) != 1 {
		t.Fatalf("%+v %v", ins, err)
	}
	bad, _ := e.Inbound("http://relay.test"+WebhookPath, provider.CustomerMessage{Message: channel.Text("hi"), BadSignature: true})
	if _, err := parse(t, a, bad); err != provider.ErrBadSignature {
		t.Fatalf("forged header: %v", err)
	}
	// Neither secret nor token: nothing to spoil.
	if _, err := NewEmulator(EmulatorOptions{}).Inbound("http://relay.test"+WebhookPath, provider.CustomerMessage{Message: channel.Text("x"), BadSignature: true}); err == nil {
		t.Fatal("bad signature without any secret")
	}
}

func TestUnverifiedWithoutSecret(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, WebhookPath, nil)
	if a := New(Options{}); len(a.Unverified()) != 1 || !a.UnverifiedRequest(r) || a.Verify(r, nil) != nil {
		t.Fatal("no secret: not reported as unverified")
	}
	if a := New(Options{Secret: "s"}); len(a.Unverified()) != 0 || a.UnverifiedRequest(r) {
		t.Fatal("with a secret: reported as unverified")
	}
}

func TestReceiptsMapToTheSendID(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := adapterFor(f)
	id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+84901234567", Message: channel.Text("hi")})
	if err != nil {
		t.Fatal(err)
	}
	f.o.Secret = "s3cr3t"
	target := "http://relay.test" + WebhookPath + "/s3cr3t"
	for _, c := range []struct {
		st     channel.StatusValue
		reason string
		want   string
	}{
		{channel.StatusSent, "", ""}, {channel.StatusDelivered, "", ""}, {channel.StatusRead, "", ""},
		{channel.StatusFailed, "1002", "Gupshup: Number Does Not Exists On WhatsApp (code 1002)"},
		{channel.StatusFailed, "handset unreachable", "Gupshup: handset unreachable (code 1002)"},
	} {
		req, err := f.Receipt(target, provider.ReceiptSpec{ProviderID: id, Status: c.st, Reason: c.reason})
		if err != nil {
			t.Fatal(err)
		}
		ins, err := parse(t, a, req)
		if err != nil || len(ins) != 1 || ins[0].Kind != provider.KindStatus || ins[0].ProviderID != id || ins[0].Status.Value != c.st ||
			ins[0].ContactID != "+84901234567" || ins[0].Status.Message != c.want || ins[0].Timestamp < 1e12 {
			t.Errorf("%s: %+v %v", c.st, ins, err)
		}
	}
	// enqueued teaches the WhatsApp id; a late DLR without gsId still maps.
	req, _ := f.event(target, id, "+84901234567", "enqueued", "", time.Time{}, false)
	if ins, err := parse(t, a, req); err != nil || len(ins) != 0 {
		t.Fatalf("enqueued: %+v %v", ins, err)
	}
	late := `{"app":"CcxTest","timestamp":1700000300000,"version":2,"type":"message-event","payload":{"id":"` + WAMID(id) + `","type":"read","destination":"84901234567","payload":{"ts":1700000298}}}`
	r := httptest.NewRequest(http.MethodPost, WebhookPath+"/s3cr3t", strings.NewReader(late))
	ins, err := a.Parse(r, []byte(late))
	if err != nil || len(ins) != 1 || ins[0].ProviderID != id || ins[0].Timestamp != 1700000298000 {
		t.Fatalf("late read: %+v %v", ins, err)
	}
	if _, err := f.Receipt(target, provider.ReceiptSpec{ProviderID: "unknown", Status: channel.StatusDelivered}); err == nil {
		t.Fatal("a receipt for an unknown message without a recipient")
	}
}

func TestParseBadInput(t *testing.T) {
	a := New(Options{})
	for _, b := range []string{``, `nope`, `[]`, `{}`, `{"type":"message"}`, `{"type":"message","payload":{"type":"text"}}`,
		`{"type":"message","payload":{"id":"x","type":"text"}}`, `{"type":"message-event","payload":{"type":"sent"}}`,
		`{"type":"message","payload":{"id":"x","source":"1","type":"image","payload":{}}}`,
		`{"type":"message","payload":{"id":"x","source":"1","type":"location","payload":{"latitude":"north"}}}`,
		`{"object":"whatsapp_business_account","entry":[]}`} {
		r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(b))
		if _, err := a.Parse(r, []byte(b)); err == nil {
			t.Errorf("%s: parsed", b)
		} else if _, ok := err.(*provider.ParseError); !ok {
			t.Errorf("%s: %T, want a ParseError (400)", b, err)
		}
	}
	for _, b := range []string{`{"type":"billing-event","payload":{}}`, `{"type":"message","payload":{"id":"x","source":"1","type":"reaction","payload":{}}}`} {
		if ins, err := a.Parse(httptest.NewRequest(http.MethodPost, WebhookPath, nil), []byte(b)); err != nil || len(ins) != 0 {
			t.Errorf("%s: %+v %v", b, ins, err)
		}
	}
}

func TestAckIsEmpty(t *testing.T) {
	w := httptest.NewRecorder()
	New(Options{}).Ack(w)
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"app":"A","timestamp":1700000000000,"version":2,"type":"message","payload":{"id":"x","source":"84901234567","type":"text","payload":{"text":"Hi"},"sender":{"phone":"84901234567","name":"An"}}}`)
	f.Add(`{"type":"message","payload":{"id":"x","source":"84901234567","type":"location","payload":{"latitude":"1","longitude":"2"}}}`)
	f.Add(`{"type":"message","payload":{"id":"x","source":"84901234567","type":"contact","payload":{"contacts":[{"name":{"formatted_name":"A"},"phones":[{"phone":"1"}]}]}}}`)
	f.Add(`{"type":"message-event","payload":{"id":"w","gsId":"g","type":"failed","destination":"1","payload":{"code":1002,"reason":"r"}}}`)
	f.Add(`{"type":"message-event","payload":{"id":"g","type":"enqueued","payload":{"whatsappMessageId":"w"}}}`)
	a := New(Options{Secret: "s"})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/providers/gupshup/webhook/s", strings.NewReader(body))
		_ = a.Verify(r, []byte(body))
		ins, err := a.Parse(r, []byte(body))
		if err != nil {
			if _, ok := err.(*provider.ParseError); !ok {
				t.Fatalf("%T is not a ParseError", err)
			}
		}
		for _, in := range ins {
			if in.Kind == provider.KindMessage && in.Message == nil || in.Kind == provider.KindStatus && in.Status == nil {
				t.Fatalf("empty event %+v", in)
			}
		}
		_, _ = ParseSendResponse(200, http.Header{}, []byte(body))
		_, _ = ParseSendResponse(400, http.Header{}, []byte(body))
		_ = DecodeMessage(body)
	})
}
