package relay

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/natstest"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
)

// natsRig is clicksendRig on a JetStream queue, with a second relay (b) on
// the same stream and emulator: the platform's /message goes to the first.
func natsRig(t *testing.T) (a *rig, b *rig) {
	js := natstest.Start(t, t.TempDir())
	a, _ = clicksendRig(t, func(o *Options) { o.NATS = &NATSOptions{URLs: []string{js.URL()}} })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b = &rig{t: t, emu: a.emu, url: "http://" + ln.Addr().String(), opts: a.opts}
	b.opts.PublicURL = b.url
	b.start(ln)
	return a, b
}

func TestNATSRelaysShareOneQueue(t *testing.T) {
	a, b := natsRig(t)
	if a.eng.Spool() != nil || !bytes.Equal(a.eng.q.MediaKey(), b.eng.q.MediaKey()) || len(a.eng.q.MediaKey()) != 32 {
		t.Fatal("the relays should share the queue's media key and have no spool")
	}
	push := func(r *rig, id, from, text string) {
		t.Helper()
		st, err := clicksend.Push(nil, r.url+"/providers/clicksend/inbound/s3cr3t-path-token", clicksend.InboundForm(id, from, "+61400000000", text, 1700000000))
		if err != nil || st != 200 {
			t.Fatalf("push %s to %s: %v %d", id, r.url, err, st)
		}
	}
	// The provider retries one message at both relays: one post.
	for i := 0; i < 4; i++ {
		push([]*rig{a, b}[i%2], "DUP-1", "+61411111111", "once")
	}
	// Three contacts, each one's messages alternating between the relays.
	const per = 20
	for i := 0; i < per; i++ {
		for c := 0; c < 3; c++ {
			push([]*rig{a, b}[(i+c)%2], fmt.Sprintf("M-%d-%02d", c, i), fmt.Sprintf("+6141222222%d", c), fmt.Sprintf("%d", i))
		}
	}
	waitFor(t, "every message delivered", func() bool { return len(a.inbound()) == 1+3*per })
	// After delivery (the work queue dropped it) the window still knows it.
	push(b, "DUP-1", "+61411111111", "once")
	next := map[string]int{}
	for _, m := range a.inbound() {
		if m.MID == "DUP-1" {
			continue
		}
		if want := fmt.Sprint(next[m.ContactID]); m.Content.Text != want {
			t.Errorf("contact %s: got message %s, want %s (order across relays)", m.ContactID, m.Content.Text, want)
		}
		next[m.ContactID]++
	}
	// Sent through a; ClickSend's receipts (no contact in them) reach b, which
	// finds the contact and waits for a's reply through the KV bucket.
	m, err := a.emu.Send(t.Context(), "", "+61411111111", channel.Text("hi back"))
	if err != nil || m.Status == channel.StatusFailed {
		t.Fatalf("send: %v %+v", err, m)
	}
	for _, code := range []string{"201", "200", "300"} {
		if st, err := clicksend.Push(nil, b.url+"/providers/clicksend/receipt/s3cr3t-path-token", clicksend.ReceiptForm(m.MID, code, "x", 1700000001)); err != nil || st != 200 {
			t.Fatalf("receipt %s: %v %d", code, err, st)
		}
	}
	waitFor(t, "delivered", func() bool {
		got, _ := a.emu.MessageByMID(a.opts.ChannelID, m.MID)
		return got.Status == channel.StatusDelivered
	})
	waitFor(t, "queue drained", func() bool { return a.eng.Stats().Depth == 0 && b.eng.Stats().Depth == 0 })
	if n := len(a.inbound()); n != 1+3*per {
		t.Errorf("%d inbound messages, want %d (a duplicate got through)", n, 1+3*per)
	}
	got, _ := a.emu.MessageByMID(a.opts.ChannelID, m.MID)
	if len(got.Timeline) > 2 {
		t.Errorf("status went backwards: %+v", got.Timeline)
	}
	for _, w := range a.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
	if st := a.eng.Stats(); !strings.Contains(st.Path, "JetStream") || st.SentMIDs != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":               "nats://127.0.0.1:4222",
		"nats://u:p4ss@h:4222,nats://h2:4222": "nats://u:xxxxx@h:4222,nats://h2:4222",
		"tls://s3cr3ttoken@h:4222":            "tls://xxxxx@h:4222",
		"nats://u:p%zz@h":                     "xxxxx@h",
		"nats://a:b@h1:1,nats://c:d@h2:2":     "nats://a:xxxxx@h1:1,nats://c:xxxxx@h2:2",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(RedactURLs(in), "p4ss") || strings.Contains(RedactURLs(in), "s3cr3t") {
			t.Errorf("secret kept in %q", RedactURLs(in))
		}
	}
}
