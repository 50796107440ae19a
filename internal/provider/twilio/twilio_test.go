package twilio

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestSignatureVector(t *testing.T) {
	// The published twilio-go vector (docs/provider.md).
	form := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	if got := Signature("12345", u, form); got != "vOEb5UThFn24KEfnOFLQY2AE5FY=" {
		t.Fatalf("signature = %s", got)
	}
	if !Valid("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", form, "vOEb5UThFn24KEfnOFLQY2AE5FY=") {
		t.Fatal("the :443 variant must validate too")
	}
	if Valid("12345", u, form, "vOEb5UThFn24KEfnOFLQY2AE5FY") || Valid("54321", u, form, "vOEb5UThFn24KEfnOFLQY2AE5FY=") || Valid("12345", u, form, "") {
		t.Fatal("bad signatures validated")
	}
}

func TestSendEveryType(t *testing.T) {
	f := NewFake()
	defer f.Close()
	lat, lng := 3.139, 101.6869
	for _, from := range []string{"+15005550006", "whatsapp:+14155238886"} {
		a := New(Options{BaseURL: f.URL(), AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: from, PublicURL: "https://relay.example"})
		cases := []struct {
			m    channel.Message
			want map[string]string
		}{
			{channel.Text("hi"), map[string]string{"Body": "hi"}},
			{channel.NewAttachment(channel.AttachmentImage, "https://x/a.jpg", "image/jpeg", "a.jpg", "cap"), map[string]string{"MediaUrl": "https://x/a.jpg", "Body": "cap"}},
			{channel.QuickReply("Rate us", "Good", "Bad"), map[string]string{"Body": "Rate us\n1. Good\n2. Bad"}},
			{channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"}, nil},
		}
		for _, c := range cases {
			id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: c.m})
			prefix := "SM" // MM for media (docs/provider.md)
			if c.m.Type == channel.MessageAttachment {
				prefix = "MM"
			}
			if err != nil || !strings.HasPrefix(id, prefix) || len(id) != 34 {
				t.Fatalf("%s %s: %q %v", from, c.m.Type, id, err)
			}
			sent := f.Sent()
			got := sent[len(sent)-1]
			for k, v := range c.want {
				if got.Get(k) != v {
					t.Errorf("%s %s: %s = %q, want %q", from, c.m.Type, k, got.Get(k), v)
				}
			}
			if got.Get("StatusCallback") != "https://relay.example/providers/twilio/status" {
				t.Errorf("StatusCallback = %q", got.Get("StatusCallback"))
			}
			if c.m.Type == channel.MessageLocation {
				if strings.HasPrefix(from, "whatsapp:") {
					if got.Get("PersistentAction") != "geo:3.139,101.6869|KL" || got.Get("To") != "whatsapp:+60177872890" {
						t.Errorf("whatsapp location: %v", got)
					}
				} else if got.Get("Body") != "📍 KL (3.139,101.6869)" || got.Get("PersistentAction") != "" {
					t.Errorf("sms location fallback: %v", got)
				}
			}
		}
		if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.CustomPayload([]byte(`{}`))}); err == nil {
			t.Error("custom_payload must be unsupported")
		}
	}
}

func TestSendErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(Options{BaseURL: f.URL(), AccountSID: f.AccountSID, AuthToken: "wrong", From: "+15005550006"})
	_, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || !strings.Contains(pe.Message, "credentials") || !strings.Contains(pe.Message, "20003") {
		t.Fatalf("auth: %v", err)
	}
	a = New(Options{BaseURL: f.URL(), AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "+15005550006"})
	_, err = a.Send(t.Context(), channel.OutgoingRequest{ContactID: "12345", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || pe.Status != 400 || !strings.Contains(pe.Message, "21211") {
		t.Fatalf("invalid number: %v", err)
	}
	f.SetFaults(provider.Faults{RateLimit: 1})
	_, err = a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || pe.Status != 429 || !pe.Retryable {
		t.Fatalf("429: %v", err)
	}
}

func signedReq(t *testing.T, token, public, path string, form url.Values, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig == "" {
		sig = Signature(token, public+path, form)
	}
	r.Header.Set("X-Twilio-Signature", sig)
	return r
}

func TestInboundKinds(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(Options{AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "whatsapp:+14155238886", PublicURL: "https://relay.example"})
	text := f.InboundSMS("SM1", "whatsapp:+60177872890", "whatsapp:+14155238886", "hello")
	text.Set("ProfileName", "Ada")
	media := f.InboundSMS("MM2", "+60177872890", "+1500", "look")
	media.Set("NumMedia", "1")
	media.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM2/Media/ME1")
	media.Set("MediaContentType0", "image/png")
	loc := f.InboundSMS("SM3", "whatsapp:+60177872890", "", "")
	loc.Set("Latitude", "3.1")
	loc.Set("Longitude", "101.6")
	loc.Set("Address", "KL")
	for _, c := range []struct {
		form  url.Values
		check func(provider.Inbound) bool
	}{
		{text, func(in provider.Inbound) bool {
			return in.ContactID == "+60177872890" && in.Message.Text == "hello" && in.Contact.FirstName == "Ada" && in.ProviderID == "SM1"
		}},
		{media, func(in provider.Inbound) bool {
			return in.Message.Attachment.Type == channel.AttachmentImage && in.MediaRef != "" && in.Message.Attachment.Description == "look"
		}},
		{loc, func(in provider.Inbound) bool {
			return in.Message.Type == channel.MessageLocation && *in.Message.Latitude == 3.1 && in.Message.Address == "KL"
		}},
	} {
		r := signedReq(t, f.AuthToken, "https://relay.example", "/providers/twilio/inbound", c.form, "")
		body := []byte(c.form.Encode())
		if err := a.Verify(r, body); err != nil {
			t.Fatalf("verify: %v", err)
		}
		ins, err := a.Parse(r, body)
		if err != nil || len(ins) != 1 || !c.check(ins[0]) {
			t.Fatalf("parse %v: %+v %v", c.form, ins, err)
		}
	}
	// Tampered body, wrong URL, missing header.
	r := signedReq(t, f.AuthToken, "https://relay.example", "/providers/twilio/inbound", text, "")
	text.Set("Body", "tampered")
	if err := a.Verify(r, []byte(text.Encode())); err == nil {
		t.Fatal("tampered body verified")
	}
	r = signedReq(t, f.AuthToken, "http://other", "/providers/twilio/inbound", text, "")
	if err := a.Verify(r, []byte(text.Encode())); err == nil {
		t.Fatal("wrong URL verified")
	}
	r.Header.Del("X-Twilio-Signature")
	if err := a.Verify(r, []byte(text.Encode())); err == nil {
		t.Fatal("unsigned verified")
	}
}

func TestStatusMapping(t *testing.T) {
	for st, want := range map[string]channel.StatusValue{"sent": "sent", "delivered": "delivered", "partially_delivered": "delivered",
		"read": "read", "failed": "failed", "undelivered": "failed", "canceled": "failed", "queued": "", "accepted": "", "sending": "", "scheduled": ""} {
		v, reason, ok := MapStatus(st, "30003", "")
		if v != want || ok != (want != "") {
			t.Errorf("%s → %q %v", st, v, ok)
		}
		if want == channel.StatusFailed && !strings.Contains(reason, "30003") {
			t.Errorf("%s reason %q", st, reason)
		}
	}
	a := New(Options{AuthToken: "t", PublicURL: "https://r"})
	form := url.Values{"MessageSid": {"SM9"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30005"}, "To": {"whatsapp:+60177872890"}}
	r := signedReq(t, "t", "https://r", "/providers/twilio/status", form, "")
	ins, err := a.Parse(r, []byte(form.Encode()))
	if err != nil || len(ins) != 1 || ins[0].Status.Value != channel.StatusFailed || ins[0].ContactID != "+60177872890" {
		t.Fatalf("%+v %v", ins, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("/providers/twilio/inbound", "MessageSid=SM1&From=%2B1&Body=hi&NumMedia=1&MediaUrl0=x")
	f.Add("/providers/twilio/status", "MessageSid=SM1&MessageStatus=read")
	f.Add("/providers/twilio/inbound", "MessageSid=SM1&From=a&Latitude=x&Longitude=1")
	a := New(Options{AuthToken: "t"})
	f.Fuzz(func(t *testing.T, path, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.URL.Path = path
		_ = a.Verify(r, []byte(body))
		_, _ = a.Parse(r, []byte(body))
	})
}

func TestInboundSeveralMedia(t *testing.T) {
	a := New(Options{AuthToken: "t", PublicURL: "https://r"})
	form := url.Values{"MessageSid": {"MM1"}, "From": {"+60177872890"}, "Body": {"two pics"}, "NumMedia": {"2"},
		"MediaUrl0": {"https://api.twilio.com/m0"}, "MediaContentType0": {"image/jpeg"},
		"MediaUrl1": {"https://api.twilio.com/m1"}, "MediaContentType1": {"application/pdf"}}
	r := signedReq(t, "t", "https://r", "/providers/twilio/inbound", form, "")
	ins, err := a.Parse(r, []byte(form.Encode()))
	if err != nil || len(ins) != 2 {
		t.Fatalf("%+v %v", ins, err)
	}
	if ins[0].ProviderID != "MM1" || ins[1].ProviderID != "MM1-1" || ins[0].Message.Attachment.Description != "two pics" ||
		ins[1].Message.Attachment.Type != channel.AttachmentFile || ins[1].MediaRef != "https://api.twilio.com/m1" {
		t.Fatalf("%+v / %+v", ins[0].Message.Attachment, ins[1].Message.Attachment)
	}
}

// TestOpenMediaGuarded: media on Twilio's own host (here the fake) is fetched
// with the credentials; a media URL on any other non-public address is not
// fetched at all.
func TestOpenMediaGuarded(t *testing.T) {
	f := NewFake()
	defer f.Close()
	f.AddMedia("ME1", "image/png", []byte("PNG"))
	hits := 0
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++; w.Write([]byte("secret")) }))
	defer internal.Close()
	a := New(Options{BaseURL: f.URL(), AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "+1500"})
	resp, err := a.OpenMedia(t.Context(), f.URL()+"/media/ME1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "PNG" {
		t.Fatalf("media = %q", b)
	}
	if resp, err := a.OpenMedia(t.Context(), internal.URL+"/admin/status"); err == nil || err.Error() != "media could not be fetched" {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("a loopback media URL: %v", err)
	}
	if hits != 0 {
		t.Fatalf("the internal server saw %d requests", hits)
	}
}
