package relay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/gupshup"
	"github.com/ccx-cli/ccx/internal/provider/zalo"
)

func post(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func rawPost(t *testing.T, url, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return post(t, req)
}

func TestGupshupThroughRelay(t *testing.T) {
	fake := gupshup.NewFake()
	defer fake.Close()
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = io.WriteString(w, "JPEGDATA")
	}))
	defer media.Close()
	ad := gupshup.New(gupshup.Options{BaseURL: fake.URL(), APIKey: fake.APIKey, AppName: "CcxTest", Source: "917834811114", Secret: "path-secret",
		Media: netguard.Options{AllowPrivate: true}})
	r := newRig(t, ad, channel.IDPhone, nil)
	emu := gupshup.NewEmulator(gupshup.EmulatorOptions{Secret: "path-secret"})
	hook := r.url + gupshup.WebhookPath + "/{secret}"
	in, _ := emu.Inbound(hook, provider.CustomerMessage{ID: "ABEGin1", From: "+84901234567", Name: "An", Message: channel.Text("xin chào")})
	if st := post(t, in); st != 200 {
		t.Fatalf("inbound: %d", st)
	}
	again, _ := emu.Inbound(hook, provider.CustomerMessage{ID: "ABEGin1", From: "+84901234567", Message: channel.Text("xin chào")})
	if st := post(t, again); st != 200 {
		t.Fatalf("retry: %d", st)
	}
	pic, _ := emu.Inbound(hook, provider.CustomerMessage{From: "+84901234567", Message: channel.NewAttachment(channel.AttachmentImage, media.URL+"/a.jpg", "image/jpeg", "", "a photo")})
	if st := post(t, pic); st != 200 {
		t.Fatalf("photo: %d", st)
	}
	forged, _ := emu.Inbound(hook, provider.CustomerMessage{From: "+84901234567", Message: channel.Text("forged"), BadSignature: true})
	if st := post(t, forged); st != http.StatusForbidden {
		t.Fatalf("forged: %d", st)
	}
	// Malformed callbacks are 400, never a crash.
	for _, b := range []string{`not json`, `{"type":"message","payload":{"type":"text"}}`, `[1,2]`} {
		if st := rawPost(t, r.url+gupshup.WebhookPath+"/path-secret", b); st != http.StatusBadRequest {
			t.Errorf("%s: %d", b, st)
		}
	}
	waitFor(t, "two inbound", func() bool { return len(r.inbound()) == 2 })
	var photo emulator.Message
	for _, m := range r.inbound() {
		if m.Type == channel.MessageAttachment {
			photo = m
		}
	}
	u := photo.Content.Attachment.URL
	if !strings.HasPrefix(u, r.url+"/media/gupshup/") || photo.Content.Attachment.Description != "a photo" {
		t.Fatalf("photo %+v", photo.Content.Attachment)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "JPEGDATA" {
		t.Fatalf("media %q", b)
	}

	// Outgoing: the mId is Gupshup's messageId; its message-events (WhatsApp
	// id + gsId) reach the platform under that mId.
	m, err := r.emu.Send(t.Context(), "", "+84901234567", channel.QuickReply("Rate", "Good", "Bad"))
	if err != nil || len(m.MID) != 36 {
		t.Fatalf("send: %v %+v", err, m)
	}
	for _, st := range []channel.StatusValue{channel.StatusSent, channel.StatusDelivered, channel.StatusRead} {
		req, err := fake.Receipt(r.url+gupshup.WebhookPath+"/path-secret", provider.ReceiptSpec{ProviderID: m.MID, Status: st})
		if err != nil {
			t.Fatal(err)
		}
		if code := post(t, req); code != 200 {
			t.Fatalf("%s: %d", st, code)
		}
	}
	waitFor(t, "read", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return got.Status == channel.StatusRead
	})
	fake.SetFaults(provider.Faults{Reject: []string{"84900000000"}})
	if st, body := r.postMessage("+84900000000", channel.Text("x")); st != 400 || !strings.Contains(errMsg(body), "Invalid Destination") {
		t.Fatalf("invalid destination: %d %v", st, body)
	}
}

func TestZaloThroughRelay(t *testing.T) {
	fake := zalo.NewFake()
	defer fake.Close()
	o := fake.Options()
	ad, err := zalo.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, ad, channel.IDCustom, nil)
	hook := r.url + zalo.WebhookPath
	in, _ := fake.Inbound(hook, provider.CustomerMessage{From: "2468458835296197922", Message: channel.Text("xin chào")})
	if st := post(t, in); st != 200 {
		t.Fatalf("inbound: %d", st)
	}
	forged, _ := fake.Inbound(hook, provider.CustomerMessage{From: "2468458835296197922", Message: channel.Text("forged"), BadSignature: true})
	if st := post(t, forged); st != http.StatusForbidden {
		t.Fatalf("forged: %d", st)
	}
	// A correctly signed event that is not what Zalo sends: 400.
	body := []byte(`{"event_name":"user_send_text","timestamp":"1700000000000","message":{"text":"no sender"}}`)
	req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(string(body)))
	req.Header.Set("X-ZEvent-Signature", "mac="+zalo.Signature(o.AppID, body, "1700000000000", o.OASecretKey))
	if st := post(t, req); st != http.StatusBadRequest {
		t.Fatalf("malformed: %d", st)
	}
	waitFor(t, "inbound", func() bool { return len(r.inbound()) == 1 })

	// The access token expires between two sends: the relay refreshes and
	// the platform sees only successes; receipts carry the mId.
	m1, err := r.emu.Send(t.Context(), "", "2468458835296197922", channel.Text("one"))
	if err != nil || m1.Status == channel.StatusFailed {
		t.Fatalf("send: %v %+v", err, m1)
	}
	fake.ExpireAccessToken()
	m2, err := r.emu.Send(t.Context(), "", "2468458835296197922", channel.Text("two"))
	if err != nil || m2.Status == channel.StatusFailed || fake.Refreshes() != 1 {
		t.Fatalf("send after expiry: %v %+v, %d refreshes", err, m2, fake.Refreshes())
	}
	req, err = fake.Receipt(hook, provider.ReceiptSpec{ProviderID: m2.MID, Status: channel.StatusRead})
	if err != nil {
		t.Fatal(err)
	}
	if st := post(t, req); st != 200 {
		t.Fatalf("seen: %d", st)
	}
	waitFor(t, "sent and read", func() bool {
		a, _ := r.emu.MessageByMID(r.opts.ChannelID, m1.MID)
		b, _ := r.emu.MessageByMID(r.opts.ChannelID, m2.MID)
		return a.Status == channel.StatusSent && b.Status == channel.StatusRead
	})
	fake.SetFaults(provider.Faults{Reject: []string{"1111"}})
	if st, body := r.postMessage("1111", channel.Text("x")); st != 400 || !strings.Contains(errMsg(body), "-213") {
		t.Fatalf("not a follower: %d %v", st, body)
	}
}
