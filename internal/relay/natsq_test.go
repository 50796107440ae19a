package relay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/natstest"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
)

// natsRig is clicksendRig on a JetStream queue, with a second relay (b) on
// the same stream and emulator: the platform's /message goes to the first.
func natsRig(t *testing.T, tweak func(*Options)) (a, b *rig, js *natstest.Server) {
	js = natstest.Start(t, t.TempDir())
	a, _ = clicksendRig(t, func(o *Options) {
		o.NATS = &NATSOptions{URLs: []string{js.URL()}}
		if tweak != nil {
			tweak(o)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b = &rig{t: t, emu: a.emu, url: "http://" + ln.Addr().String(), opts: a.opts}
	b.opts.PublicURL = b.url
	b.start(ln)
	return a, b, js
}

func TestNATSRelaysShareOneQueue(t *testing.T) {
	a, b, js := natsRig(t, nil)
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
	if st := a.eng.Stats(); !strings.Contains(st.Path, "JetStream") || st.SentMIDs != 1 || st.DedupeKeys < 1+3*per {
		t.Errorf("stats = %+v", st)
	}
	// The server rebuilds its duplicate window from the messages it holds,
	// and the work queue dropped the delivered ones: the relays' own keys
	// still know the retry.
	if err := js.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a push after the server restart", func() bool {
		st, err := clicksend.Push(nil, b.url+"/providers/clicksend/inbound/s3cr3t-path-token", clicksend.InboundForm("DUP-1", "+61411111111", "+61400000000", "once", 1700000000))
		return err == nil && st == 200
	})
	push(a, "LAST", "+61411111111", "after")
	waitFor(t, "the last message", func() bool { return len(a.inbound()) == 2+3*per })
	for _, w := range a.emu.Warnings() {
		t.Errorf("emulator warning after the restart: %+v", w)
	}
	// Any relay answers /message, and the others know where its mId went.
	st, body := b.postMessage("+61411111111", channel.Text("via b"))
	mid, _ := body["mId"].(string)
	if st != 200 || mid == "" {
		t.Fatalf("/message at b: %d %v", st, body)
	}
	waitFor(t, "b's send known at a", func() bool { return a.eng.q.Known(mid) })
}

func TestNATSFullAnswers503(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	a, _, _ := natsRig(t, func(o *Options) { o.WebhookURL = down.URL; o.Limits.MaxEntries = 3 })
	in := a.url + "/providers/clicksend/inbound/s3cr3t-path-token"
	codes := []int{}
	for i := 0; i < 5; i++ {
		st, _ := clicksend.Push(nil, in, clicksend.InboundForm(fmt.Sprint("F-", i), "+61411111111", "", "x", 1))
		codes = append(codes, st)
	}
	if fmt.Sprint(codes) != "[200 200 200 503 503]" {
		t.Fatalf("codes = %v", codes)
	}
}

func TestNATSDeadLetterOn400(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"nope"}`)
	}))
	defer bad.Close()
	a, _, _ := natsRig(t, func(o *Options) { o.WebhookURL = bad.URL })
	clicksend.Push(nil, a.url+"/providers/clicksend/inbound/s3cr3t-path-token", clicksend.InboundForm("D-1", "+61411111111", "", "x", 1))
	waitFor(t, "dead letter", func() bool { st := a.eng.Stats(); return st.Dead == 1 && st.Depth == 0 })
}

// A relay that stops hands its events in flight back at once: the other
// relay posts them without waiting for AckWait (an hour here).
func TestNATSGracefulStopHandsEventsOver(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	var hook string
	a, b, _ := natsRig(t, func(o *Options) {
		o.NATS.AckWait = time.Hour
		target, _ := url.Parse(o.WebhookURL)
		proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				w.WriteHeader(503)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		hook = srv.URL + target.Path
		o.WebhookURL = hook
	})
	if b.opts.WebhookURL != hook {
		t.Fatal("both relays should post through the switch")
	}
	for c := 0; c < 6; c++ {
		if st, err := clicksend.Push(nil, a.url+"/providers/clicksend/inbound/s3cr3t-path-token", clicksend.InboundForm(fmt.Sprint("H-", c), fmt.Sprintf("+6141333333%d", c), "", "x", 1700000000)); err != nil || st != 200 {
			t.Fatalf("push: %v %d", err, st)
		}
	}
	waitFor(t, "events in flight", func() bool { return a.eng.Stats().InFlight == 6 })
	a.stop()
	down.Store(false)
	waitFor(t, "every event delivered by the other relay", func() bool { return len(b.inbound()) == 6 })
	if st := b.eng.Stats(); st.Dead != 0 || st.Depth != 0 {
		t.Errorf("after the hand-over: %+v", st)
	}
	for _, w := range b.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
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

// With the JetStream server gone, a stop does not wait out the queue:
// Drain finds nothing it could still acknowledge. (It waited for its whole
// deadline before, as pending counted "unknown" as not drained, and a relay
// stopped with its server took 20 s and more.)
func TestNATSDrainWithTheServerGone(t *testing.T) {
	a, _, js := natsRig(t, nil)
	js.Stop()
	q := a.eng.q.(*natsQueue)
	waitFor(t, "the relay to notice the server is gone", func() bool { return !q.nc.IsConnected() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.eng.Drain(ctx)
	if ctx.Err() != nil {
		t.Fatal("Drain waited for its deadline with no server to drain to")
	}
}
