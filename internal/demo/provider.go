package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
)

// receiptDelay separates a provider fake's status callbacks: an instant one
// could reach the relay before it has recorded its own send.
const receiptDelay = 50 * time.Millisecond

// runRelayProvider plays the loop through a real provider adapter and its
// emulator (opts.Provider): the emulated IS-Messenger also hosts the
// provider fake (as `ccx emulate --provider` does), the relay speaks to it
// with the credentials the fake generated, the customer writes through the
// fake's signed webhooks, every agent reply goes out through the adapter,
// and the fake's signed status callbacks come back through the relay's
// spool. Nothing leaves loopback.
func runRelayProvider(ctx context.Context, opts Options) (res *Result, err error) {
	name := opts.Provider
	info, err := emulators.Lookup(name)
	if err != nil {
		return &Result{}, &StepError{"pick the provider", err}
	}
	start := time.Now()
	say := serialised(opts.Progress) // the relay logs from its own goroutines
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res = &Result{Relay: &RelayReport{Provider: name}}
	step := func(s string) { res.Steps = append(res.Steps, s); say("✓ %s", s) }

	ln, dir, cleanup, err := openRelaySite(res, say)
	defer cleanup()
	if err != nil {
		return res, err
	}

	// The customer: the demo's phone contact, or the provider's own kind of
	// address (a Telegram chat id) on a Custom ID channel.
	idType, contact := channel.IDPhone, ContactID
	if channel.CheckContactID(info.DefaultCustomer, channel.IDPhone) != nil {
		idType, contact = channel.IDCustom, info.DefaultCustomer
	}
	ch := emulator.GenerateChannel(idType, res.ServerURL)
	inboundURL, statusURL := hooks(info, res.ServerURL)
	var fake provider.Emulator
	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}, RateLimit: channel.RateLimitPerSec,
		Providers: []emulator.Provider{{
			Build: func(c *http.Client) (provider.Emulator, error) {
				var err error
				fake, err = emulators.New(name, emulators.Options{CallbackURL: statusURL, ReceiptDelay: receiptDelay, Client: c})
				return fake, err
			},
			ChannelID: ch.ID, WebhookURL: inboundURL, StatusURL: statusURL,
			Receipts: info.Receipts, AutoReceipts: info.Receipts, Secret: info.Secret,
		}}})
	if err != nil {
		ln.Close()
		return res, &StepError{"start the emulator and the " + name + " fake", err}
	}
	defer e.Close()
	res.EmulatorURL, res.ChannelID = e.URL(), ch.ID
	events, unsubscribe := e.Subscribe()
	defer unsubscribe()

	ad, err := emulators.Adapter(name, emulators.AdapterConfig{BaseURL: e.ProviderBaseURL(name), PublicURL: res.ServerURL,
		// Everything the demo fetches is its own, on loopback.
		Credentials: e.ProviderCredentials(name), Media: netguard.Options{AllowPrivate: true}})
	if err != nil {
		ln.Close()
		return res, &StepError{"build the " + name + " adapter", err}
	}
	eng, srv, logs, err := startRelay(opts, ln, ad, ch, e.WebhookURL(), dir, res.ServerURL, say)
	if err != nil {
		return res, err
	}
	defer eng.Close()
	var messageCalls, providerPosts atomic.Int64
	srv.Handler = counted(srv.Handler, &messageCalls, &providerPosts)
	go srv.Serve(ln)
	// Everything has drained by then: Close, not Shutdown, which would wait
	// 5 s for connections clients opened but never used (net/http's rule).
	defer srv.Close()
	step("relay spool in " + dir + " (removed afterwards)")
	step(fmt.Sprintf("integration server: ccx relay (%s adapter) on %s", name, res.ServerURL))
	step(fmt.Sprintf("emulated IS-Messenger on %s (channel %s, %s IDs), the %s fake at %s", e.URL(), ch.ID, idType, name, e.ProviderBaseURL(name)))

	wait := waiter(ctx, parent, e, events, eng, logs, timeout)
	customer := func(text string, n int) error {
		what := fmt.Sprintf("customer → %s → relay: text %q", name, text)
		pm, err := e.SendAsCustomer(ctx, name, contact, channel.Text(text))
		if err != nil {
			return &StepError{what, err}
		}
		if pm.Webhook == nil || pm.Webhook.Status < 200 || pm.Webhook.Status > 299 {
			return &StepError{what, fmt.Errorf("the relay answered the signed webhook %+v", pm.Webhook)}
		}
		step(fmt.Sprintf("%s (POST %s, HTTP %d)", what, pathOf(inboundURL), pm.Webhook.Status))
		if err := wait("the customer's message to come through the relay", func(st emulator.State) bool { return len(inbound(st)) >= n }); err != nil {
			return err
		}
		step(fmt.Sprintf("relay → platform: message text (mId %s)", inbound(e.State())[n-1].MID))
		return nil
	}
	if err := customer("Hi! Is my order on its way?", 1); err != nil {
		return res, err
	}

	// Outgoing: an agent answers in every type; the receipts come back
	// through the relay, and the customer answers each.
	want := channel.StatusDelivered
	if !info.Receipts {
		want = channel.StatusSent // the adapter reports sent itself (Telegram)
	}
	// Adapters that upload attachments (Zalo) fetch them: serve the demo's
	// own on loopback so the demo never reaches beyond this machine.
	media, err := serveDemoMedia()
	if err != nil {
		return res, &StepError{"serve the demo's attachment", err}
	}
	defer media.Close()
	var sent []emulator.Message
	for _, m := range agentReplies() {
		if m.Attachment != nil {
			at := *m.Attachment
			at.URL = media.URL + "/" + at.FileName
			m.Attachment = &at
		}
		what := "platform → relay → " + name + ": " + string(m.Type)
		got, err := e.Send(ctx, ch.ID, contact, m)
		if err != nil {
			return res, &StepError{what, err}
		}
		if got.Status == channel.StatusFailed {
			// A custom payload must be in the provider's own format (or the
			// adapter has none): refused with a reason, as documented.
			if m.Type == channel.MessageCustomPayload && got.Reply != nil && got.Reply.HTTPStatus >= 400 && got.Reply.HTTPStatus < 500 {
				step(fmt.Sprintf("%s refused, as documented: %s", what, got.Reason))
				continue
			}
			return res, &StepError{what, fmt.Errorf("%s", got.Reason)}
		}
		step(fmt.Sprintf("%s (HTTP %d, mId %s)", what, got.Reply.HTTPStatus, got.MID))
		if err := wait(fmt.Sprintf("the %s receipt for %s (mId %s)", want, m.Type, got.MID), func(emulator.State) bool {
			cur, ok := e.MessageByMID(ch.ID, got.MID)
			return ok && provider.StatusRank(cur.Status) >= provider.StatusRank(want)
		}); err != nil {
			return res, err
		}
		cur, _ := e.MessageByMID(ch.ID, got.MID)
		step(fmt.Sprintf("%s → relay → platform: %s for %s", name, timeline(cur), got.MID))
		sent = append(sent, got)
		answer := "Thanks, got the " + string(m.Type)
		if m.Type == channel.MessageQuickReply {
			answer = m.Replies[0] // the customer taps the first choice
		}
		if err := customer(answer, len(inbound(e.State()))+1); err != nil {
			return res, err
		}
		res.Relay.Replies++
	}
	if len(sent) == 0 {
		return res, &StepError{"send through " + name, fmt.Errorf("no message type went through")}
	}

	// The fake's remaining callbacks (read receipts), then the spool drains.
	if w, ok := fake.(interface{ WaitCallbacks() }); ok {
		done := make(chan struct{})
		go func() { w.WaitCallbacks(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
	eng.Drain(dctx)
	dcancel()
	sp := eng.Spool().Stats()
	res.Relay.Delivered, res.Relay.Pending, res.Relay.Dead = sp.Delivered, sp.Depth, sp.Dead
	res.Relay.ProviderWebhooks = int(providerPosts.Load())
	res.Calls = int(messageCalls.Load())
	st := e.State()
	res.State = st
	if sp.Depth != 0 || sp.Dead != 0 {
		return res, &StepError{"check the relay spool", fmt.Errorf("%d events pending and %d dead, want none", sp.Depth, sp.Dead)}
	}
	step(fmt.Sprintf("relay spool empty: %d webhook posts delivered, none dead", sp.Delivered))
	if n, w := len(inbound(st)), 1+len(sent); n != w {
		return res, &StepError{"check the inbox", fmt.Errorf("%d customer messages stored, want %d", n, w)}
	}
	for _, m := range sent {
		cur, _ := e.MessageByMID(ch.ID, m.MID)
		if provider.StatusRank(cur.Status) < provider.StatusRank(want) {
			return res, &StepError{"check the receipts", fmt.Errorf("message %s has status %q, want %s or later", m.MID, cur.Status, want)}
		}
	}
	if len(st.Warnings) > 0 {
		return res, &StepError{"check the emulator", fmt.Errorf("%s, first: %s", ui.Plural(len(st.Warnings), "warning"), st.Warnings[0].Message)}
	}
	step(fmt.Sprintf("inbox holds %d messages; every receipt and customer reply came back through the relay", len(st.Messages)))
	res.Elapsed = time.Since(start)
	return res, nil
}

// hooks are the relay's webhook URLs for a provider: its first route takes
// customer messages, the second (or the same one) status callbacks.
func hooks(info emulators.Info, base string) (string, string) {
	if len(info.Webhooks) == 0 {
		return "", ""
	}
	in, status := base+info.Webhooks[0], ""
	switch {
	case len(info.Webhooks) > 1:
		status = base + info.Webhooks[1]
	case info.Receipts:
		status = in
	}
	return in, status
}

func pathOf(u string) string {
	if i := strings.Index(u, "/providers/"); i >= 0 {
		return u[i:]
	}
	return u
}

func timeline(m emulator.Message) string {
	var parts []string
	for _, c := range m.Timeline {
		parts = append(parts, string(c.Status))
	}
	return strings.Join(parts, " → ")
}

// demoMedia is a loopback file server for the demo's outgoing attachment.
type demoMedia struct {
	URL string
	srv *http.Server
}

func (m *demoMedia) Close() { _ = m.srv.Close() }

func serveDemoMedia() (*demoMedia, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write([]byte("%PDF-1.4\n% ccx demo invoice\n%%EOF\n"))
	})}
	go func() { _ = srv.Serve(ln) }()
	return &demoMedia{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}
