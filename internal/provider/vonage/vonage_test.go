package vonage

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestJWTVectorsAndAlgorithms(t *testing.T) {
	// The jwt.io HS256 example, signed elsewhere.
	const tok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	c, err := VerifyHS256(tok, "your-256-bit-secret")
	if err != nil || claimStr(c, "name") != "John Doe" {
		t.Fatalf("vector: %v %v", c, err)
	}
	if _, err := VerifyHS256(tok, "another"); err == nil {
		t.Fatal("a wrong secret verified")
	}
	// alg none, or RS256 presented to an HS256 check, never verify.
	none := b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + strings.Split(tok, ".")[1] + "."
	if _, err := VerifyHS256(none, "your-256-bit-secret"); err == nil {
		t.Fatal("alg none verified")
	}
	key := generatedKey()
	rs, err := SignRS256(map[string]any{"application_id": "app"}, key)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := VerifyRS256(rs, &key.PublicKey); err != nil || claimStr(c, "application_id") != "app" {
		t.Fatalf("RS256 round trip: %v", err)
	}
	if _, err := VerifyHS256(rs, "x"); err == nil {
		t.Fatal("an RS256 token passed the HS256 check")
	}
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := VerifyRS256(rs, &other.PublicKey); err == nil {
		t.Fatal("RS256 with another key verified")
	}
	if _, err := VerifyRS256(SignHS256(map[string]any{"a": 1}, "x"), &key.PublicKey); err == nil {
		t.Fatal("an HS256 token passed the RS256 check")
	}
	for _, bad := range []string{"", "a.b", "a.b.c", "....", strings.Repeat("a", 9000)} {
		if _, err := VerifyHS256(bad, "x"); err == nil {
			t.Errorf("%q verified", bad)
		}
	}
}

func TestPrivateKeyForms(t *testing.T) {
	k := generatedKey()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	oneLine := EncodePrivateKey(k)
	if strings.Contains(oneLine, "\n") || !strings.Contains(oneLine, `\n`) {
		t.Fatalf("one-line form: %q", oneLine[:40])
	}
	for name, s := range map[string]string{"pkcs1": pkcs1, "pkcs8 one line": oneLine, "pkcs8": strings.ReplaceAll(oneLine, `\n`, "\n")} {
		got, err := ParsePrivateKey(s)
		if err != nil || !got.Equal(k) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParsePrivateKey("not a key"); err == nil {
		t.Error("garbage parsed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "private.key")
	if err := os.WriteFile(path, []byte(pkcs1), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvApplicationID: "app", EnvPrivateKeyPath: path, EnvSignatureSecret: "s", EnvFrom: "+447700900000"}
	o, miss, err := FromCredentials(func(k string) string { return env[k] })
	if err != nil || len(miss) != 0 || o.PrivateKey == nil || !o.PrivateKey.Equal(k) {
		t.Fatalf("key file: %v %v", miss, err)
	}
	env[EnvPrivateKeyPath] = filepath.Join(dir, "missing")
	if _, _, err := FromCredentials(func(k string) string { return env[k] }); err == nil {
		t.Fatal("a missing key file must fail")
	}
	_, miss, err = FromCredentials(func(string) string { return "" })
	if err != nil || len(miss) != 3 || !strings.Contains(miss[0], EnvAPIKey) {
		t.Fatalf("nothing given: %v %v", miss, err)
	}
	basic := map[string]string{EnvAPIKey: "k", EnvAPISecret: "s", EnvSignatureSecret: "x", EnvFrom: "1", EnvChannel: "SMS"}
	if o, miss, err := FromCredentials(func(k string) string { return basic[k] }); err != nil || len(miss) != 0 || o.Channel != "sms" {
		t.Fatalf("basic: %v %v %v", o, miss, err)
	}
	basic[EnvChannel] = "telex"
	if _, _, err := FromCredentials(func(k string) string { return basic[k] }); err == nil {
		t.Fatal("an unknown channel must fail")
	}
}

func send(t *testing.T, a *Adapter, m channel.Message) (string, error) {
	t.Helper()
	return a.Send(t.Context(), channel.OutgoingRequest{ChannelID: "c", ContactID: "+447700900001", Message: m})
}

func TestSendEveryTypeAndChannel(t *testing.T) {
	img := channel.NewAttachment(channel.AttachmentImage, "https://x.example/a.jpg", "image/jpeg", "a.jpg", "cap")
	pdf := channel.NewAttachment(channel.AttachmentFile, "https://x.example/i.pdf", "application/pdf", "invoice.pdf", "inv")
	loc := channel.Location(3.139, 101.6869, "KLCC")
	qr := channel.QuickReply("Rate us", "Good", "Bad")
	cases := []struct {
		ch   string
		m    channel.Message
		want map[string]string
	}{
		{"whatsapp", channel.Text("hi"), map[string]string{"message_type": "text", "text": "hi"}},
		{"whatsapp", img, map[string]string{"message_type": "image", "image.url": "https://x.example/a.jpg", "image.caption": "cap"}},
		{"whatsapp", channel.NewAttachment(channel.AttachmentAudio, "https://x.example/a.mp3", "", "", "x"), map[string]string{"message_type": "audio", "audio.caption": ""}},
		{"whatsapp", pdf, map[string]string{"message_type": "file", "file.name": "invoice.pdf", "file.caption": "inv"}},
		{"whatsapp", loc, map[string]string{"message_type": "custom", "custom.type": "location", "custom.location.latitude": "3.139", "custom.location.address": "KLCC"}},
		{"whatsapp", qr, map[string]string{"message_type": "custom", "custom.type": "interactive", "custom.interactive.type": "button", "custom.interactive.action.buttons.1.reply.title": "Bad"}},
		{"whatsapp", channel.QuickReply("Q", "a", "b", "c", "d"), map[string]string{"custom.interactive.type": "list"}},
		{"whatsapp", channel.QuickReply("Q", strings.Repeat("z", 30)), map[string]string{"message_type": "text", "text": "Q\n1. " + strings.Repeat("z", 30)}},
		{"whatsapp", channel.CustomPayload([]byte(`{"type":"template","template":{"name":"hello","language":{"code":"en"}}}`)), map[string]string{"message_type": "custom", "custom.template.name": "hello"}},
		{"whatsapp", channel.CustomPayload([]byte(`{"message_type":"template","template":{"name":"t"},"to":"1"}`)), map[string]string{"message_type": "template", "to": "447700900001"}},
		{"sms", channel.Text("hi"), map[string]string{"channel": "sms", "message_type": "text", "text": "hi"}},
		{"sms", img, map[string]string{"message_type": "text", "text": "📎 cap https://x.example/a.jpg"}},
		{"sms", loc, map[string]string{"message_type": "text", "text": "📍 KLCC (3.139,101.6869)"}},
		{"sms", qr, map[string]string{"message_type": "text", "text": "Rate us\n1. Good\n2. Bad"}},
		{"mms", img, map[string]string{"channel": "mms", "message_type": "image", "image.caption": "cap"}},
		{"mms", qr, map[string]string{"message_type": "text"}},
	}
	for _, auth := range []string{"jwt", "basic"} {
		f := NewFake()
		for _, c := range cases {
			o := f.Options()
			if auth == "basic" {
				o = f.BasicOptions()
			}
			o.Channel = c.ch
			id, err := send(t, New(o), c.m)
			if err != nil || len(id) != 36 {
				t.Fatalf("%s %s %s: %q %v", auth, c.ch, c.m.Type, id, err)
			}
			sent := f.Sent()
			got := sent[len(sent)-1]
			if got.Get("to").String() != "447700900001" || got.Get("from").String() != "447700900000" || got.Get("channel").String() != c.ch {
				t.Errorf("%s %s: envelope %s", c.ch, c.m.Type, got.Raw)
			}
			for p, v := range c.want {
				if g := got.Get(p).String(); g != v {
					t.Errorf("%s %s %s: %s = %q, want %q (%s)", auth, c.ch, c.m.Type, p, g, v, got.Raw)
				}
			}
		}
		f.Close()
	}
	a := New(Options{Channel: "sms", From: "1"})
	if _, err := a.Body(channel.OutgoingRequest{ContactID: "+447700900001", Message: channel.CustomPayload([]byte(`{"type":"x"}`))}); err == nil {
		t.Error("an SMS custom_payload without message_type must be refused")
	}
	if _, err := a.Body(channel.OutgoingRequest{ContactID: "447700900001", Message: channel.Text("x")}); err == nil {
		t.Error("a contact ID without + must be refused")
	}
}

func TestSendErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	var pe *provider.Error
	o := f.Options()
	o.ApplicationID = "another-app"
	if _, err := send(t, New(o), channel.Text("x")); !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(pe.Message, "credentials") {
		t.Fatalf("jwt of another app: %v", err)
	}
	o = f.BasicOptions()
	o.APISecret = "wrong"
	if _, err := send(t, New(o), channel.Text("x")); !errors.As(err, &pe) || !strings.Contains(pe.Message, "credentials (401)") {
		t.Fatalf("basic: %v", err)
	}
	o = f.Options()
	o.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	if _, err := send(t, New(o), channel.Text("x")); !errors.As(err, &pe) || !strings.Contains(pe.Message, "credentials") {
		t.Fatalf("an expired JWT must be refused: %v", err)
	}
	a := New(f.Options())
	f.SetFaults(provider.Faults{Reject: []string{"+447700900001"}})
	if _, err := send(t, a, channel.Text("x")); !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(pe.Message, "refused the recipient +447700900001 (422)") {
		t.Fatalf("recipient: %v", err)
	}
	f.SetFaults(provider.Faults{RateLimit: 1})
	if _, err := send(t, a, channel.Text("x")); !errors.As(err, &pe) || pe.Status != 429 || !pe.Retryable || !strings.Contains(pe.Message, "Throttled") {
		t.Fatalf("429: %v", err)
	}
	f.SetFaults(provider.Faults{FailRate: 1})
	if _, err := send(t, a, channel.Text("x")); !errors.As(err, &pe) || !pe.Retryable || !strings.Contains(pe.Message, "failed (500)") {
		t.Fatalf("5xx: %v", err)
	}
	f.SetFaults(provider.Faults{})
	o = f.Options()
	o.From = "+15550000000"
	if _, err := send(t, New(o), channel.Text("x")); !errors.As(err, &pe) || !strings.Contains(pe.Message, "from") {
		t.Fatalf("unknown from: %v", err)
	}
	if _, err := send(t, a, channel.CustomPayload([]byte(`{"type":"interactive","interactive":{"type":"button","body":{"text":"q"},"action":{"buttons":[]}}}`))); !errors.As(err, &pe) || !strings.Contains(pe.Message, "custom.interactive") {
		t.Fatalf("bad interactive: %v", err)
	}
	h := http.Header{"Retry-After": {"7"}}
	if _, err := ParseSendResponse(429, h, []byte(`{"title":"Throttled"}`), "+1"); !errors.As(err, &pe) || pe.RetryAfter != 7*time.Second {
		t.Fatalf("Retry-After: %v", err)
	}
}

func signedReq(t *testing.T, secret string, body []byte, claims map[string]any) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/providers/vonage/inbound", bytes.NewReader(body))
	if claims != nil {
		r.Header.Set("Authorization", "Bearer "+SignHS256(claims, secret))
	}
	return r
}

func TestVerify(t *testing.T) {
	a := New(Options{SignatureSecret: "sig", APIKey: "key"})
	body := []byte(`{"message_uuid":"u","from":"1","message_type":"text","text":"hi"}`)
	now := time.Now().Unix()
	good := map[string]any{"iat": now, "jti": "j", "iss": "Vonage", "payload_hash": PayloadHash(body), "api_key": "key"}
	if err := a.Verify(signedReq(t, "sig", body, good), body); err != nil {
		t.Fatalf("good: %v", err)
	}
	pretty := []byte("{\n  \"message_uuid\": \"u\",\n  \"from\": \"1\",\n  \"message_type\": \"text\",\n  \"text\": \"hi\"\n}")
	if err := a.Verify(signedReq(t, "sig", pretty, good), pretty); err != nil {
		t.Fatalf("the same JSON re-indented: %v", err)
	}
	if err := a.Verify(signedReq(t, "sig", body, nil), body); !errors.Is(err, provider.ErrUnsigned) {
		t.Fatalf("unsigned: %v (Vonage asks for a 5xx)", err)
	}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	cases := map[string]*http.Request{
		"wrong secret":   signedReq(t, "other", body, good),
		"stale iat":      signedReq(t, "sig", body, with("iat", now-3600)),
		"future iat":     signedReq(t, "sig", body, with("iat", now+3600)),
		"no iat":         signedReq(t, "sig", body, with("iat", nil)),
		"expired":        signedReq(t, "sig", body, with("exp", now-10)),
		"other api key":  signedReq(t, "sig", body, with("api_key", "nope")),
		"no hash":        signedReq(t, "sig", body, with("payload_hash", nil)),
		"other body":     signedReq(t, "sig", body, with("payload_hash", PayloadHash([]byte("{}")))),
		"not bearer":     httptest.NewRequest(http.MethodPost, "/x", nil),
		"garbage bearer": httptest.NewRequest(http.MethodPost, "/x", nil),
	}
	cases["not bearer"].Header.Set("Authorization", "Basic abc")
	cases["garbage bearer"].Header.Set("Authorization", "Bearer a.b.c")
	for name, r := range cases {
		if err := a.Verify(r, body); !errors.Is(err, provider.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A tampered body under a valid token.
	if err := a.Verify(signedReq(t, "sig", body, good), []byte(`{"message_uuid":"u","from":"1","message_type":"text","text":"HI"}`)); err == nil {
		t.Error("a tampered body verified")
	}
}

func roundTrip(t *testing.T, e *Emulator, a *Adapter, in provider.CustomerMessage) []provider.Inbound {
	t.Helper()
	req, err := e.Inbound("http://relay.example/providers/vonage/inbound", in)
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
	return ins
}

func TestInboundRoundTrip(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(f.Options())
	img := channel.NewAttachment(channel.AttachmentImage, "https://api-eu.nexmo.com/v3/media/abc", "", "", "my photo")
	cases := []struct {
		in   provider.CustomerMessage
		want channel.Message
	}{
		{provider.CustomerMessage{Message: channel.Text("hello"), Name: "Ada"}, channel.Text("hello")},
		{provider.CustomerMessage{Message: img}, channel.NewAttachment(channel.AttachmentImage, img.Attachment.URL, "", "", "my photo")},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentVideo, "https://m.example/v.mp4", "", "", "clip")}, channel.NewAttachment(channel.AttachmentVideo, "https://m.example/v.mp4", "video/mp4", "", "clip")},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentAudio, "https://m.example/a.ogg", "", "", "")}, channel.NewAttachment(channel.AttachmentAudio, "https://m.example/a.ogg", "audio/ogg", "", "")},
		{provider.CustomerMessage{Message: channel.NewAttachment(channel.AttachmentFile, "https://m.example/i.pdf", "", "invoice.pdf", "inv")}, channel.NewAttachment(channel.AttachmentFile, "https://m.example/i.pdf", "application/pdf", "invoice.pdf", "inv")},
		{provider.CustomerMessage{Message: channel.Location(35.681236, 139.767125, "Tokyo Station, Marunouchi")}, channel.Location(35.681236, 139.767125, "Tokyo Station, Marunouchi")},
		{provider.CustomerMessage{Native: "reply", Message: channel.Text("Good")}, channel.Text("Good")},
		{provider.CustomerMessage{Native: "button", Message: channel.Text("Stop")}, channel.Text("Stop")},
		{provider.CustomerMessage{Native: "sticker", Message: channel.NewAttachment(channel.AttachmentImage, "https://m.example/s", "", "", "")}, channel.NewAttachment(channel.AttachmentImage, "https://m.example/s", "image/webp", "", "")},
		{provider.CustomerMessage{Native: "vcard", Message: channel.NewAttachment(channel.AttachmentFile, "https://m.example/bob.vcf", "", "", "")}, channel.NewAttachment(channel.AttachmentFile, "https://m.example/bob.vcf", "text/vcard", "bob.vcf", "")},
	}
	for _, c := range cases {
		ins := roundTrip(t, f.Emulator, a, c.in)
		if len(ins) != 1 {
			t.Fatalf("%s/%s: %d events", c.in.Message.Type, c.in.Native, len(ins))
		}
		in := ins[0]
		if in.Kind != provider.KindMessage || in.ContactID != "+447700900001" || len(in.ProviderID) != 36 || in.Timestamp < 1e12 {
			t.Errorf("%s: %+v", c.in.Native, in)
		}
		if !sameMsg(*in.Message, c.want) {
			t.Errorf("%s/%s: got %+v %+v, want %+v %+v", c.in.Message.Type, c.in.Native, *in.Message, in.Message.Attachment, c.want, c.want.Attachment)
		}
		if in.Message.Type == channel.MessageAttachment && in.MediaRef != c.want.Attachment.URL {
			t.Errorf("media go through the proxy: ref %q", in.MediaRef)
		}
		if c.in.Name == "Ada" && (in.Contact == nil || in.Contact.FirstName != "Ada") {
			t.Errorf("profile: %+v", in.Contact)
		}
	}
	for _, n := range []string{"reaction", "unsupported"} {
		if ins := roundTrip(t, f.Emulator, a, provider.CustomerMessage{Native: n, Message: channel.Text("👍")}); len(ins) != 0 {
			t.Errorf("%s: %+v, want nothing for the platform", n, ins)
		}
	}
	sms := NewEmulator(EmulatorOptions{Channel: "sms", SignatureSecret: f.o.SignatureSecret, APIKey: f.o.APIKey})
	ins := roundTrip(t, sms, a, provider.CustomerMessage{Message: channel.Text("STOP now")})
	if len(ins) != 1 || ins[0].Message.Text != "STOP now" || ins[0].ContactID != "+447700900001" {
		t.Fatalf("sms: %+v", ins)
	}
	for _, in := range []provider.CustomerMessage{{Message: channel.Location(1, 2, "")}, {Native: "reply", Message: channel.Text("x")}, {Message: channel.NewAttachment(channel.AttachmentImage, "https://x/a.png", "", "", "")}} {
		if _, err := sms.InboundBody(in); err == nil {
			t.Errorf("sms %+v: want an error", in)
		}
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

func TestStatusesRoundTrip(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(f.Options())
	id, err := send(t, a, channel.Text("hello"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		st     channel.StatusValue
		reason string
		want   string
	}{
		{channel.StatusSent, "", ""}, {channel.StatusDelivered, "", ""}, {channel.StatusRead, "", ""},
		{channel.StatusFailed, "the handset is unreachable", "Vonage: rejected (error 1300): the handset is unreachable"},
		{channel.StatusFailed, "1330", "(error 1330)"},
	} {
		req, err := f.Receipt("http://relay.example/providers/vonage/status", provider.ReceiptSpec{ProviderID: id, Status: c.st, Reason: c.reason})
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
		if in.Kind != provider.KindStatus || provider.MID(in.ProviderID) != provider.MID(id) || in.Status.Value != c.st || in.ContactID != "+447700900001" {
			t.Errorf("%s: %+v %+v", c.st, in, in.Status)
		}
		if !strings.Contains(in.Status.Message, c.want) {
			t.Errorf("%s: reason %q, want %q", c.st, in.Status.Message, c.want)
		}
	}
	// The older {code, reason} error form, and unknown statuses.
	r := httptest.NewRequest(http.MethodPost, "/providers/vonage/status", nil)
	ins, err := a.Parse(r, []byte(`{"message_uuid":"u","to":"447700900001","status":"undeliverable","error":{"code":1300,"reason":"Not part of the provider network"},"channel":"sms"}`))
	if err != nil || len(ins) != 1 || ins[0].Status.Message != "Vonage: undeliverable (error 1300): Not part of the provider network" {
		t.Fatalf("old form: %+v %v", ins, err)
	}
	if ins, err := a.Parse(r, []byte(`{"message_uuid":"u","status":"accepted"}`)); err != nil || len(ins) != 0 {
		t.Fatalf("unknown status: %+v %v", ins, err)
	}
	for _, bad := range []string{`x`, `[]`, `{}`, `{"message_uuid":"u"}`, `{"message_uuid":"u","message_type":"text"}`,
		`{"message_uuid":"u","from":"1","message_type":"location","location":{"lat":"a"}}`} {
		if _, err := a.Parse(r, []byte(bad)); err == nil {
			t.Errorf("%s: want a ParseError", bad)
		} else if _, ok := err.(*provider.ParseError); !ok {
			t.Errorf("%s: %T", bad, err)
		}
	}
}

func TestEmulatorAutoStatuses(t *testing.T) {
	got := make(chan []byte, 8)
	var verr error
	var a *Adapter
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := a.Verify(r, b); err != nil {
			verr = err
		}
		got <- b
	}))
	defer hook.Close()
	e := NewEmulator(EmulatorOptions{StatusURL: hook.URL + "/providers/vonage/status"})
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	defer e.Close()
	k, _ := ParsePrivateKey(e.o.PrivateKey)
	a = New(Options{BaseURL: srv.URL, ApplicationID: e.o.ApplicationID, PrivateKey: k, SignatureSecret: e.o.SignatureSecret, From: e.o.From})
	id, err := send(t, a, channel.Text("hi"))
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	deadline := time.After(5 * time.Second)
	for len(statuses) < 3 {
		select {
		case b := <-got:
			ins, err := a.Parse(httptest.NewRequest(http.MethodPost, "/", nil), b)
			if err != nil || len(ins) != 1 || ins[0].ProviderID != id {
				t.Fatalf("%s: %v %v", b, ins, err)
			}
			statuses = append(statuses, string(ins[0].Status.Value))
		case <-deadline:
			t.Fatalf("statuses so far: %v", statuses)
		}
	}
	e.WaitCallbacks()
	if verr != nil || strings.Join(statuses, ",") != "sent,delivered,read" {
		t.Fatalf("%v %v", statuses, verr)
	}
}

func TestSecureInboundMedia(t *testing.T) {
	f := NewFake()
	defer f.Close()
	id := MediaID()
	f.AddMedia(id, "image/jpeg", []byte("JPEG"))
	u := f.URL() + "/v3/media/" + id
	a := New(f.Options())
	resp, err := a.OpenMedia(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "JPEG" || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("%q %q", b, resp.Header.Get("Content-Type"))
	}
	if _, err := New(f.BasicOptions()).OpenMedia(t.Context(), u); err == nil {
		t.Fatal("secure media without the application JWT must fail")
	}
	if resp, err := http.Get(u); err != nil || resp.StatusCode != 401 {
		t.Fatalf("unauthenticated: %v %v", resp, err)
	}
	// The JWT goes only to Vonage's hosts.
	var saw string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { saw = r.Header.Get("Authorization") }))
	defer other.Close()
	o := f.Options()
	o.Media.AllowPrivate = true
	resp, err = New(o).OpenMedia(t.Context(), other.URL+"/m")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if saw != "" {
		t.Fatalf("the JWT went elsewhere: %q", saw)
	}
	if _, err := a.OpenMedia(t.Context(), other.URL+"/m"); err == nil {
		t.Fatal("a private media host beyond the API must be refused")
	}
	for h, want := range map[string]bool{"https://api-us.nexmo.com/v3/media/x": true, "https://api.vonage.com/x": true, "http://api.nexmo.com/x": false, "https://nexmo.com.evil.example/x": false} {
		r, _ := http.NewRequest(http.MethodGet, h, nil)
		if got := New(Options{}).vonageHost(r.URL); got != want {
			t.Errorf("%s: %v", h, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	e := NewEmulator(EmulatorOptions{})
	for _, in := range []provider.CustomerMessage{{Message: channel.Text("hi")}, {Message: channel.Location(1, 2, "a, b")},
		{Native: "reply", Message: channel.Text("Good")}, {Message: channel.NewAttachment(channel.AttachmentImage, "https://x/a.png", "", "", "c")}} {
		b, _ := e.InboundBody(in)
		f.Add(string(b))
	}
	f.Add(`{"message_uuid":"u","to":"1","status":"rejected","error":{"type":"x#1","title":5}}`)
	a := New(Options{SignatureSecret: "s"})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/providers/vonage/inbound", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+SignHS256(map[string]any{"iat": time.Now().Unix(), "payload_hash": PayloadHash([]byte(body))}, "s"))
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
	})
}
