package web_test

// The customer's side (ccx emulate --provider): the emulator plays Twilio
// too, and the integration server is a real relay engine (internal/relay)
// over the Twilio adapter pointed at the emulator's Twilio fake.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
	"github.com/ccx-cli/ccx/internal/relay"
)

const business = "+15005550006"

// relayFixture is an emulator with the Twilio fake and a relay in front of it.
type relayFixture struct {
	e        *emulator.Emulator
	ch       emulator.Channel
	relayURL string
	secret   string // the fake's auth token: must never reach the page
}

// newRelayFixture starts the relay's listener first (its URL is the
// channel's API base URL), then the emulator, then the relay engine wired to
// both. webhook overrides where customer messages go ("" → the relay).
func newRelayFixture(t *testing.T, webhook string) *relayFixture {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &relayFixture{relayURL: "http://" + ln.Addr().String()}
	f.ch = emulator.GenerateChannel(channel.IDPhone, f.relayURL)
	if webhook == "" {
		webhook = f.relayURL + "/providers/twilio/inbound"
	}
	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{f.ch}, Providers: []emulator.Provider{{
		Build: func(c *http.Client) (provider.Emulator, error) {
			return twilio.NewEmulator(twilio.EmulatorOptions{From: business, Client: c}), nil
		},
		WebhookURL: webhook, Receipts: true, AutoReceipts: true,
	}}})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	f.e = e
	creds := e.ProviderCredentials("twilio")
	f.secret = creds["CCX_TWILIO_AUTH_TOKEN"]
	ad := twilio.New(twilio.Options{BaseURL: e.ProviderBaseURL("twilio"), AccountSID: creds["CCX_TWILIO_ACCOUNT_SID"],
		AuthToken: f.secret, From: creds["CCX_TWILIO_FROM"], PublicURL: f.relayURL})
	eng, err := relay.New(relay.Options{Adapter: ad, ChannelID: f.ch.ID, Token: f.ch.Token, IDType: f.ch.IDType,
		WebhookURL: e.WebhookURL(), SpoolPath: filepath.Join(t.TempDir(), "spool.db"), PublicURL: f.relayURL,
		Backoff: 50 * time.Millisecond, MaxBackoff: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: eng.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = eng.Close()
	})
	return f
}

// until waits for cond, woken by the emulator's events, at most 10s.
func until(t *testing.T, e *emulator.Emulator, what string, cond func() bool) {
	t.Helper()
	events, cancel := e.Subscribe()
	defer cancel()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-events:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// sameHops compares hop kinds: the first two in order (the /message call,
// then the send made while answering it), the rest as a multiset (the relay
// acknowledges a receipt before it delivers its message_status).
func sameHops(got []string, want string) bool {
	w := strings.Fields(want)
	if len(got) != len(w) || len(got) < 2 || got[0] != w[0] || got[1] != w[1] {
		return false
	}
	count := map[string]int{}
	for i := 2; i < len(w); i++ {
		count[w[i]]++
		count[got[i]]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func hopKinds(r emulator.FlowReport) string {
	var ks []string
	for _, h := range r.Hops {
		ks = append(ks, h.Kind)
	}
	return strings.Join(ks, " ")
}

// The whole loop through ccx relay, without a browser: the customer writes,
// the agent answers, the fake's receipts come back as message_status, and
// each flow reports every hop with no problem.
func TestProviderLoopThroughRelay(t *testing.T) {
	f := newRelayFixture(t, "")
	ctx := context.Background()
	const who = "+60177872890"
	pm, err := f.e.SendAsCustomer(ctx, "twilio", who, channel.Text("Hi, is my order shipped?"))
	if err != nil || pm.Webhook == nil || pm.Webhook.Status != 200 {
		t.Fatalf("customer message: %+v %v", pm, err)
	}
	until(t, f.e, "the customer's message in the inbox", func() bool { return len(f.e.Messages(emulator.Filter{ContactID: who})) == 1 })
	in := f.e.Messages(emulator.Filter{ContactID: who})[0]
	if in.Content.Text != "Hi, is my order shipped?" || in.Direction != emulator.In {
		t.Fatalf("inbox: %+v", in)
	}
	rep, _ := f.e.Flow(pm.Flow)
	until(t, f.e, "the phone message tied to the inbox", func() bool { rep, _ = f.e.Flow(pm.Flow); return rep.MID == in.MID })
	if hopKinds(rep) != "provider.webhook webhook" || len(rep.Problems) != 0 {
		t.Fatalf("incoming flow: %s %q", hopKinds(rep), rep.Problems)
	}

	out, err := f.e.Send(ctx, f.ch.ID, who, channel.Text("Yes, it left today"))
	if err != nil || out.Status != channel.StatusSent || !strings.HasPrefix(out.MID, "SM") {
		t.Fatalf("agent reply: %+v %v", out, err)
	}
	until(t, f.e, "delivered", func() bool { m, _ := f.e.MessageByMID(f.ch.ID, out.MID); return m.Status == channel.StatusDelivered })
	phone := f.e.Phone(f.ch.ID, who)
	if len(phone) != 2 || phone[1].Message.Text != "Yes, it left today" || phone[1].To != who || phone[1].From != business || phone[1].MID != out.MID {
		t.Fatalf("phone: %+v", phone)
	}
	if _, err := f.e.FireReceipt(ctx, "twilio", out.MID, channel.StatusRead, ""); err != nil {
		t.Fatal(err)
	}
	until(t, f.e, "read", func() bool { m, _ := f.e.MessageByMID(f.ch.ID, out.MID); return m.Status == channel.StatusRead })
	rep, _ = f.e.Flow(phone[1].Flow)
	until(t, f.e, "every receipt's message_status in the flow", func() bool {
		rep, _ = f.e.Flow(phone[1].Flow)
		return strings.Count(hopKinds(rep), "webhook") == 3
	})
	want := "message provider.api provider.receipt webhook provider.receipt webhook provider.receipt webhook"
	if !sameHops(strings.Fields(hopKinds(rep)), want) || len(rep.Problems) != 0 || rep.ProviderID != out.MID {
		t.Fatalf("outgoing flow:\n got %s\nwant %s\nproblems %q", hopKinds(rep), want, rep.Problems)
	}
	if w := f.e.Warnings(); len(w) != 0 {
		t.Fatalf("warnings: %+v", w)
	}
}

// Typing as the customer in the phone pane reaches the agent inbox through
// the relay; the agent's reply arrives on the phone with its delivered and
// read receipts; the hops of the reply are one click away.
func TestBrowserCustomerPhone(t *testing.T) {
	f := newRelayFixture(t, "")
	var mu sync.Mutex
	var urls []string
	ctx := newTab(t, chromedp.WithListener(func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			urls = append(urls, r.Request.URL)
			mu.Unlock()
		}
	}))
	run(t, ctx, "open the inbox",
		chromedp.Navigate(f.e.URL()+"/"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		chromedp.WaitVisible(`#phone`))
	if got := eval[string](t, ctx, `document.body.dataset.providers`); got != "on" {
		t.Fatalf("data-providers = %q", got)
	}

	run(t, ctx, "type as the customer",
		chromedp.SetValue(`#phone-from`, "+60177872890"),
		chromedp.SendKeys(`#phone-text`, "Hi, is my order shipped?"),
		chromedp.Click(`#phone-send`),
		waitJS(`document.querySelector('#phone-result').dataset.kind === 'ok'`),
		// The relay spooled it and posted it to the platform: the agent sees it.
		waitJS(`[...document.querySelectorAll('#messages > li.in .text')].some(p => p.textContent === 'Hi, is my order shipped?')`),
		waitJS(`document.querySelector('#phone-messages > li.customer [data-in-inbox]') !== null`),
	)

	run(t, ctx, "the agent replies",
		chromedp.SendKeys(`#composer-text`, "Yes, it left today"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'ok'`),
		// On the phone, as the customer sees it, with the fake's receipts and
		// the read receipt the phone posts once it shows a delivered message.
		waitJS(`(() => { const li = document.querySelector('#phone-messages > li.business');
			return !!(li && li.querySelector('.text').textContent === 'Yes, it left today' &&
				li.querySelector('.ticks').dataset.status === 'read' &&
				li.querySelector('.receipts .rc-sent') && li.querySelector('.receipts .rc-delivered') && li.querySelector('.receipts .rc-read')); })()`),
		// The agent's copy reached read through message_status.
		waitJS(`(() => { const li = document.querySelector('#messages > li.out'); return li && li.dataset.status === 'read'; })()`),
	)
	type phoneState struct {
		Receipts []string `json:"receipts"`
		Ticks    string   `json:"ticks"`
		PID      string   `json:"pid"`
		AgentMID string   `json:"agentMid"`
	}
	ps := eval[phoneState](t, ctx, `(() => { const li = document.querySelector('#phone-messages > li.business'); return {
		receipts: [...li.querySelectorAll('.receipts li')].map(x => x.textContent),
		ticks: li.querySelector('.ticks').textContent, pid: li.dataset.providerId,
		agentMid: document.querySelector('#messages > li.out').dataset.mid }; })()`)
	if strings.Join(ps.Receipts, "|") != "sent → your server 200|delivered → your server 200|read → your server 200" || ps.Ticks != "✓✓" || ps.PID == "" || ps.PID != ps.AgentMID {
		t.Fatalf("phone after the reply: %+v", ps)
	}
	// Both copies of each message lead to the same flow.
	if !eval[bool](t, ctx, `(() => { const f = (sel) => (document.querySelector(sel + ' button.hops') || {dataset: {}}).dataset.flow;
		return !!f('#messages > li.out') && f('#messages > li.out') === f('#phone-messages > li.business') &&
			!!f('#messages > li.in') && f('#messages > li.in') === f('#phone-messages > li.customer'); })()`) {
		t.Fatal("the agent's and the customer's bubbles do not share their flow")
	}
	screenshot(t, ctx, "phone-desktop.png")

	run(t, ctx, "every hop of the reply",
		chromedp.Click(`#phone-messages > li.business button.hops`),
		waitJS(`!document.querySelector('#flow-view').hidden && document.querySelectorAll('#flow-hops > li').length === 8`))
	type flowState struct {
		Kinds    []string `json:"kinds"`
		Problems string   `json:"problems"`
		Title    string   `json:"title"`
	}
	fs := eval[flowState](t, ctx, `({kinds: [...document.querySelectorAll('#flow-hops > li')].map(li => li.dataset.kind),
		problems: document.querySelector('#flow-problems').textContent, title: document.querySelector('#flow-h').textContent})`)
	if !sameHops(fs.Kinds, "message provider.api provider.receipt webhook provider.receipt webhook provider.receipt webhook") ||
		!strings.Contains(fs.Problems, "Every hop so far worked") || !strings.Contains(fs.Title, "agent → customer") {
		t.Fatalf("flow view: %+v", fs)
	}
	screenshot(t, ctx, "phone-flow.png")
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	for _, secret := range []string{f.secret, f.ch.Token} {
		if strings.Contains(html, secret) {
			t.Fatal("the page holds a secret")
		}
	}

	// Narrow window: one pane at a time, the phone one tap away, nothing
	// scrolls sideways.
	type layout struct {
		Conv, Phone, List string
		Overflow          bool
	}
	layoutJS := `({Conv: getComputedStyle(document.querySelector('#conversation')).display,
		Phone: getComputedStyle(document.querySelector('#phone')).display,
		List: getComputedStyle(document.querySelector('#contacts')).display,
		Overflow: document.documentElement.scrollWidth > window.innerWidth})`
	run(t, ctx, "phone width",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(f.e.URL()+"/"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`document.querySelectorAll('#contact-list li').length === 1`),
		chromedp.Click(`#contact-list button`),
		chromedp.WaitVisible(`#open-phone`),
		chromedp.Click(`#open-phone`),
		waitJS(`document.querySelectorAll('#phone-messages > li').length === 2`))
	if l := eval[layout](t, ctx, layoutJS); l.Conv != "none" || l.Phone == "none" || l.List != "none" || l.Overflow {
		t.Fatalf("narrow phone pane: %+v", l)
	}
	screenshot(t, ctx, "phone-narrow.png")
	run(t, ctx, "back to the agent", chromedp.Click(`#phone-back`), chromedp.WaitVisible(`#composer`))
	if l := eval[layout](t, ctx, layoutJS); l.Conv == "none" || l.Phone != "none" || l.Overflow {
		t.Fatalf("narrow conversation: %+v", l)
	}
	run(t, ctx, "medium width", chromedp.EmulateViewport(1000, 800), chromedp.Click(`#open-phone`),
		waitJS(`getComputedStyle(document.querySelector('#conversation')).display === 'none'`))
	if l := eval[layout](t, ctx, layoutJS); l.Phone == "none" || l.List == "none" || l.Overflow {
		t.Fatalf("medium phone pane: %+v", l)
	}
	screenshot(t, ctx, "phone-medium.png")

	mu.Lock()
	defer mu.Unlock()
	for _, u := range urls {
		if !strings.HasPrefix(u, f.e.URL()+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s", u)
		}
	}
}

// A customer message the server never takes shows where it stopped, on the
// phone and in the flow.
func TestBrowserCustomerMessageLost(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/providers/twilio/inbound"
	dead.Close()
	f := newRelayFixture(t, deadURL)
	ctx := newTab(t)
	run(t, ctx, "open", chromedp.Navigate(f.e.URL()+"/"), chromedp.WaitVisible(`#conn[data-state="live"]`))
	run(t, ctx, "write to a server that is down",
		chromedp.SetValue(`#phone-from`, "+60177872890"),
		chromedp.SendKeys(`#phone-text`, "anyone there?"),
		chromedp.Click(`#phone-send`),
		waitJS(`document.querySelector('#phone-result').dataset.kind === 'error' && /refused|connect/.test(document.querySelector('#phone-result').textContent)`),
		waitJS(`(() => { const li = document.querySelector('#phone-messages > li.customer.refused'); return li && /not in the inbox/.test(li.textContent); })()`),
		// The contact is listed although the platform never heard of it.
		waitJS(`document.querySelector('#contact-list button.phone-only') !== null`),
		chromedp.Click(`#phone-messages > li.customer button.hops`),
		waitJS(`/refused the customer's message/.test(document.querySelector('#flow-problems').textContent)`),
	)
	if n := len(f.e.Messages(emulator.Filter{})); n != 0 {
		t.Fatalf("%d messages reached the inbox", n)
	}
}
