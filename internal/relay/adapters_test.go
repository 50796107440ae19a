package relay

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/httpadapter"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

func TestTwilioThroughRelay(t *testing.T) {
	fake := twilio.NewFake()
	defer fake.Close()
	fake.SetAutoReceipts(true)
	fake.AddMedia("ME1", "image/png", []byte("PNGDATA"))
	r := newRigFor(t, func(url string) provider.Adapter {
		return twilio.New(twilio.Options{BaseURL: fake.URL(), AccountSID: fake.AccountSID, AuthToken: fake.AuthToken,
			From: "whatsapp:+14155238886", PublicURL: url})
	}, channel.IDPhone, nil)

	// Inbound text and media; the TwiML ack; a bad signature.
	form := fake.InboundSMS("SMin1", "whatsapp:+60177872890", "whatsapp:+14155238886", "hello")
	form.Set("ProfileName", "Ada")
	if st, err := twilio.PostSigned(nil, fake.AuthToken, r.url+"/providers/twilio/inbound", form); err != nil || st != 200 {
		t.Fatalf("inbound: %d %v", st, err)
	}
	media := fake.InboundSMS("MMin2", "+60177872890", "+1500", "pic")
	media.Set("NumMedia", "1")
	media.Set("MediaUrl0", fake.URL()+"/media/ME1")
	media.Set("MediaContentType0", "image/png")
	if st, _ := twilio.PostSigned(nil, fake.AuthToken, r.url+"/providers/twilio/inbound", media); st != 200 {
		t.Fatalf("media: %d", st)
	}
	if st, _ := twilio.PostWithSignature(nil, r.url+"/providers/twilio/inbound", form, "bm9wZQ=="); st != http.StatusForbidden {
		t.Fatalf("bad signature: %d", st)
	}
	waitFor(t, "two inbound", func() bool { return len(r.inbound()) == 2 })
	var img emulator.Message
	for _, m := range r.inbound() {
		if m.Type == channel.MessageAttachment {
			img = m
		}
	}
	u := img.Content.Attachment.URL
	if !strings.HasPrefix(u, r.url+"/media/twilio/") || strings.Contains(u, fake.URL()) {
		t.Fatalf("media URL %q must go through the relay", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "PNGDATA" || resp.Header.Get("Content-Disposition") != "inline" {
		t.Fatalf("media: %q %v", b, resp.Header)
	}
	if resp, _ := http.Get(u + "x"); resp.StatusCode != 404 {
		t.Fatalf("tampered media token: %d", resp.StatusCode)
	}

	// Outgoing with signed status callbacks sent → delivered → read.
	m, err := r.emu.Send(t.Context(), "", "+60177872890", channel.Text("hi"))
	if err != nil || m.Status == channel.StatusFailed || !strings.HasPrefix(m.MID, "SM") {
		t.Fatalf("send: %v %+v", err, m)
	}
	fake.Wait()
	waitFor(t, "read", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return got.Status == channel.StatusRead
	})
	// Invalid number: the platform is told what Twilio said.
	fake.SetFaults(provider.Faults{Reject: []string{"+15550000000"}})
	st, body := r.postMessage("+15550000000", channel.Text("x"))
	if st != 400 || !strings.Contains(errMsg(body), "21211") {
		t.Fatalf("invalid number: %d %v", st, body)
	}
	for _, w := range r.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
}

func TestTelegramThroughRelay(t *testing.T) {
	fake := telegram.NewFake()
	defer fake.Close()
	fake.AddFile("big", "image/jpeg", []byte("JPEG"))
	ad := telegram.New(telegram.Options{BaseURL: fake.URL(), BotToken: fake.Token, Secret: "hook-secret"})
	r := newRig(t, ad, channel.IDCustom, nil)
	hook := r.url + "/providers/telegram/webhook"
	if st, _ := telegram.PostUpdate(nil, hook, "hook-secret", telegram.TextUpdate(1, 5, 42, "hi")); st != 200 {
		t.Fatalf("update: %d", st)
	}
	if st, _ := telegram.PostUpdate(nil, hook, "hook-secret", telegram.TextUpdate(1, 5, 42, "hi")); st != 200 {
		t.Fatalf("retried update: %d", st)
	}
	if st, _ := telegram.PostUpdate(nil, hook, "wrong", telegram.TextUpdate(2, 6, 42, "x")); st != http.StatusForbidden {
		t.Fatalf("wrong secret: %d", st)
	}
	photo := []byte(`{"update_id":3,"message":{"message_id":7,"date":1732435200,"chat":{"id":42,"type":"private"},"photo":[{"file_id":"small"},{"file_id":"big"}]}}`)
	if st, _ := telegram.PostUpdate(nil, hook, "hook-secret", photo); st != 200 {
		t.Fatalf("photo: %d", st)
	}
	waitFor(t, "two inbound", func() bool { return len(r.inbound()) == 2 })
	for _, m := range r.inbound() {
		if m.Type == channel.MessageAttachment {
			if strings.Contains(m.Content.Attachment.URL, fake.Token) {
				t.Fatal("the bot token leaked into a media URL")
			}
			resp, err := http.Get(m.Content.Attachment.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "JPEG" {
				t.Fatalf("media = %q", b)
			}
		}
	}
	// Outgoing: mId chat:message, and a synthesised sent receipt.
	m, err := r.emu.Send(t.Context(), "", "42", channel.QuickReply("Rate", "Good", "Bad"))
	if err != nil || m.MID != "42:1" {
		t.Fatalf("send: %v %+v", err, m)
	}
	waitFor(t, "sent", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return got.Status == channel.StatusSent
	})
	fake.SetFaults(provider.Faults{Reject: []string{"43"}})
	st, body := r.postMessage("43", channel.Text("x"))
	if st != 400 || !strings.Contains(errMsg(body), "blocked") {
		t.Fatalf("blocked: %d %v", st, body)
	}
}

func TestHTTPAdapterBridgesClickSendFake(t *testing.T) {
	fake := clicksend.NewFake()
	defer fake.Close()
	cfg, err := httpadapter.Load("../../testdata/relay/clicksend-http.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = fake.URL()
	env := map[string]string{"CCX_CLICKSEND_USERNAME": fake.Username, "CCX_CLICKSEND_API_KEY": fake.APIKey, "CCX_CLICKSEND_SECRET": "pathsecret"}
	ad, err := httpadapter.New(cfg, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, ad, channel.IDPhone, nil)
	for i := 0; i < 3; i++ {
		v := clicksend.InboundForm(fmt.Sprint("H-", i), "+61411111111", "", fmt.Sprint("msg ", i), 1700000000)
		if st, _ := clicksend.Push(nil, r.url+"/providers/http/inbound/pathsecret", v); st != 200 {
			t.Fatalf("push: %d", st)
		}
	}
	m, err := r.emu.Send(t.Context(), "", "+61411111111", channel.Text("hi"))
	if err != nil || len(m.MID) != 36 {
		t.Fatalf("send: %v %+v", err, m)
	}
	if st, _ := clicksend.Push(nil, r.url+"/providers/http/receipt/pathsecret", clicksend.ReceiptForm(m.MID, "201", "Delivered", 1700000001)); st != 200 {
		t.Fatalf("receipt: %d", st)
	}
	waitFor(t, "inbound and delivered", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return len(r.inbound()) == 3 && got.Status == channel.StatusDelivered
	})
}

// TestAttachmentURLCannotReachTheRelay: a /message attachment that names the
// relay's own address (its metrics, its status) is not fetched and uploaded
// to the chat; the platform gets the one generic error.
func TestAttachmentURLCannotReachTheRelay(t *testing.T) {
	fake := telegram.NewFake()
	defer fake.Close()
	ad := telegram.New(telegram.Options{BaseURL: fake.URL(), BotToken: fake.Token, Secret: "hook-secret"})
	r := newRig(t, ad, channel.IDCustom, nil)
	for _, path := range []string{"/metrics", "/admin/status", "/healthz"} {
		att := channel.NewAttachment(channel.AttachmentFile, r.url+path, "text/plain", "leak.txt", "")
		st, body := r.postMessage("42", att)
		if st != 400 || !strings.Contains(errMsg(body), "media could not be fetched") {
			t.Fatalf("%s: %d %v", path, st, body)
		}
	}
	for _, c := range fake.Calls() {
		if c.Method == "senddocument" {
			t.Fatalf("the relay uploaded its own page: %+v", c)
		}
	}
}
