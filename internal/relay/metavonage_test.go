package relay

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/vonage"
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
)

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWhatsAppThroughRelay(t *testing.T) {
	var e *whatsapp.Emulator
	var api *httptest.Server
	r := newRigFor(t, func(url string) provider.Adapter {
		// The app's one webhook takes messages and statuses; statuses come
		// a moment after the send (the relay records its send meanwhile).
		e = whatsapp.NewEmulator(whatsapp.EmulatorOptions{WebhookURL: url + "/providers/whatsapp/webhook", ReceiptDelay: 20 * time.Millisecond})
		api = httptest.NewServer(e.Handler())
		c := e.Credentials()
		return whatsapp.New(whatsapp.Options{BaseURL: api.URL, Token: c[whatsapp.EnvToken], PhoneNumberID: c[whatsapp.EnvPhoneNumberID],
			AppSecret: c[whatsapp.EnvAppSecret], VerifyToken: c[whatsapp.EnvVerifyToken]})
	}, channel.IDPhone, nil)
	defer api.Close()
	defer e.Close()
	hook := r.url + "/providers/whatsapp/webhook"

	// The subscription handshake, good and bad.
	req, _ := e.Handshake(hook, "1158201444", false)
	if st, body := do(t, req); st != 200 || body != "1158201444" {
		t.Fatalf("handshake: %d %q", st, body)
	}
	req, _ = e.Handshake(hook, "1", true)
	if st, _ := do(t, req); st != http.StatusForbidden {
		t.Fatalf("wrong verify token: %d", st)
	}
	// Inbound text (twice: a retry), a photo, a badly signed one.
	e.AddMedia("777", "image/png", []byte("PNGDATA"))
	text, _ := e.Inbound(hook, provider.CustomerMessage{From: "+60177872890", ID: "wamid.in1", Message: channel.Text("hello"), Name: "Ada"})
	body, _ := io.ReadAll(text.Body)
	for i := 0; i < 2; i++ {
		if st, err := whatsapp.PostSigned(nil, e.Credentials()[whatsapp.EnvAppSecret], hook, body); err != nil || st != 200 {
			t.Fatalf("inbound %d: %d %v", i, st, err)
		}
	}
	photo := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
	  "messages":[{"from":"60177872890","id":"wamid.in2","timestamp":"1749416383","type":"image","image":{"id":"777","mime_type":"image/png","caption":"pic"}}]}}]}]}`)
	if st, _ := whatsapp.PostSigned(nil, e.Credentials()[whatsapp.EnvAppSecret], hook, photo); st != 200 {
		t.Fatalf("photo: %d", st)
	}
	if st, _ := whatsapp.PostSigned(nil, "wrong", hook, photo); st != http.StatusForbidden {
		t.Fatalf("bad signature: %d", st)
	}
	for _, junk := range []string{`not json`, `{"object":"whatsapp_business_account","entry":7}`, `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}`} {
		if st, _ := whatsapp.PostSigned(nil, e.Credentials()[whatsapp.EnvAppSecret], hook, []byte(junk)); st != http.StatusBadRequest {
			t.Fatalf("malformed %s: %d, want 400", junk, st)
		}
	}
	waitFor(t, "two inbound", func() bool { return len(r.inbound()) == 2 })
	for _, m := range r.inbound() {
		if m.Type != channel.MessageAttachment {
			continue
		}
		u := m.Content.Attachment.URL
		if !strings.HasPrefix(u, r.url+"/media/whatsapp/") || strings.Contains(u, e.Credentials()[whatsapp.EnvToken]) {
			t.Fatalf("media URL %q must go through the relay", u)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "PNGDATA" || m.Content.Attachment.Description != "pic" {
			t.Fatalf("media %q %+v", b, m.Content.Attachment)
		}
	}
	// Outgoing: the wamid is longer than an mId; its statuses reach the same mId.
	m, err := r.emu.Send(t.Context(), "", "+60177872890", channel.QuickReply("Rate us", "Good", "Bad"))
	if err != nil || m.Status == channel.StatusFailed || len(m.MID) > channel.MaxMIDLen || !strings.HasPrefix(m.MID, "wamid.") {
		t.Fatalf("send: %v %+v", err, m)
	}
	e.WaitCallbacks()
	waitFor(t, "read", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return got.Status == channel.StatusRead
	})
	e.SetFaults(provider.Faults{Reject: []string{"60150000000"}})
	st, resp := r.postMessage("+60150000000", channel.Text("x"))
	if st != 400 || !strings.Contains(errMsg(resp), "131030") {
		t.Fatalf("recipient: %d %v", st, resp)
	}
	for _, w := range r.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
}

func TestVonageThroughRelay(t *testing.T) {
	var e *vonage.Emulator
	var api *httptest.Server
	r := newRigFor(t, func(url string) provider.Adapter {
		e = vonage.NewEmulator(vonage.EmulatorOptions{StatusURL: url + "/providers/vonage/status", ReceiptDelay: 20 * time.Millisecond})
		api = httptest.NewServer(e.Handler())
		o, miss, err := vonage.FromCredentials(func(k string) string { return e.Credentials()[k] })
		if err != nil || len(miss) > 0 {
			t.Fatalf("credentials: %v %v", miss, err)
		}
		o.BaseURL = api.URL
		return vonage.New(o)
	}, channel.IDPhone, nil)
	defer api.Close()
	defer e.Close()
	inbound := r.url + "/providers/vonage/inbound"
	id := vonage.MediaID()
	e.AddMedia(id, "image/jpeg", []byte("JPEG"))
	for _, in := range []provider.CustomerMessage{
		{From: "+447700900001", ID: "aaaaaaaa-bbbb-4ccc-8ddd-000000000001", Message: channel.Text("hello")},
		{From: "+447700900001", ID: "aaaaaaaa-bbbb-4ccc-8ddd-000000000001", Message: channel.Text("hello")}, // a retry
		{From: "+447700900001", Message: channel.NewAttachment(channel.AttachmentImage, api.URL+"/v3/media/"+id, "", "", "pic")},
	} {
		req, err := e.Inbound(inbound, in)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := do(t, req); st != 200 {
			t.Fatalf("inbound: %d", st)
		}
	}
	bad, _ := e.Inbound(inbound, provider.CustomerMessage{Message: channel.Text("forged"), BadSignature: true})
	if st, _ := do(t, bad); st != http.StatusForbidden {
		t.Fatalf("bad signature: %d", st)
	}
	// Unsigned (Vonage's rare internal error): 5xx, so that Vonage retries signed.
	unsigned, _ := http.NewRequest(http.MethodPost, inbound, bytes.NewReader([]byte(`{"message_uuid":"u","from":"447700900001","message_type":"text","text":"x"}`)))
	if st, _ := do(t, unsigned); st != http.StatusServiceUnavailable {
		t.Fatalf("unsigned: %d", st)
	}
	junk, _ := e.SignedPost(inbound, []byte(`{"message_uuid":"u","from":"447700900001"}`), false)
	if st, _ := do(t, junk); st != http.StatusBadRequest {
		t.Fatalf("malformed: %d, want 400", st)
	}
	waitFor(t, "two inbound", func() bool { return len(r.inbound()) == 2 })
	var img emulator.Message
	for _, m := range r.inbound() {
		if m.Type == channel.MessageAttachment {
			img = m
		}
	}
	resp, err := http.Get(img.Content.Attachment.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "JPEG" || !strings.HasPrefix(img.Content.Attachment.URL, r.url+"/media/vonage/") {
		t.Fatalf("secure media through the relay: %q %q", b, img.Content.Attachment.URL)
	}
	m, err := r.emu.Send(t.Context(), "", "+447700900001", channel.Location(3.139, 101.6869, "KLCC"))
	if err != nil || m.Status == channel.StatusFailed || len(m.MID) != 36 {
		t.Fatalf("send: %v %+v", err, m)
	}
	e.WaitCallbacks()
	waitFor(t, "read", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return got.Status == channel.StatusRead
	})
	e.SetFaults(provider.Faults{RateLimit: 100})
	st, body := r.postMessage("+447700900001", channel.Text("x"))
	if st != 429 || !strings.Contains(errMsg(body), "rate limit") {
		t.Fatalf("429: %d %v", st, body)
	}
	for _, w := range r.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
}
