package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
)

// DefaultTimeout bounds a relay run: the loop takes well under a second, so
// hitting it means something is stuck, not slow.
const DefaultTimeout = 10 * time.Second

// RelayReport is what the relay did in a RunRelay.
type RelayReport struct {
	Provider string `json:"provider"`
	// ProviderWebhooks counts posts to /providers/loopback/... (the contact's
	// first message).
	ProviderWebhooks int `json:"providerWebhooks"`
	// Delivered counts webhook posts the relay delivered from its spool;
	// Pending and Dead are what was left in it (both 0 on success).
	Delivered int64 `json:"delivered"`
	Pending   int64 `json:"pending"`
	Dead      int64 `json:"dead"`
	// Replies counts the contact replies the loopback provider produced
	// that reached the emulator.
	Replies int `json:"replies"`
	// SpoolDir is the temporary directory of the spool (gone after the run).
	SpoolDir string `json:"-"`
}

// TimeoutError is a relay run that did not reach the expected state in time
// (the StepError around it names what was awaited).
type TimeoutError struct {
	After  time.Duration
	Detail string // what the emulator and the relay's spool held then
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s; %s", e.After, e.Detail)
}

// RunRelay plays the loop with a real relay engine (internal/relay, the
// loopback adapter, a spool in a temporary directory that is removed
// afterwards) as the integration server: the contact writes through the
// provider webhook, the emulator sends one of each outgoing type to the
// relay's /message, and the loopback provider turns each into sent and
// delivered receipts and a reply, which the relay delivers from its spool to
// the emulator's webhook. It checks the emulator ended in the expected state.
// With Options.Provider the adapter is that provider's, against its fake.
func RunRelay(ctx context.Context, opts Options) (res *Result, err error) {
	if opts.Provider != "" && opts.Provider != "loopback" {
		return runRelayProvider(ctx, opts)
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
	res = &Result{Relay: &RelayReport{Provider: "loopback"}}
	step := func(s string) { res.Steps = append(res.Steps, s); say("✓ %s", s) }

	ln, dir, cleanup, err := openRelaySite(res, say)
	defer cleanup()
	if err != nil {
		return res, err
	}
	ch := emulator.GenerateChannel(channel.IDPhone, res.ServerURL)

	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}, RateLimit: channel.RateLimitPerSec})
	if err != nil {
		ln.Close()
		return res, &StepError{"start the emulator", err}
	}
	defer e.Close()
	res.EmulatorURL, res.ChannelID = e.URL(), ch.ID
	events, unsubscribe := e.Subscribe()
	defer unsubscribe()

	// The relay's own warnings (retries, refusals) explain a stuck run.
	eng, srv, logs, err := startRelay(opts, ln, loopback.New(), ch, e.WebhookURL(), dir, res.ServerURL, say)
	if err != nil {
		return res, err
	}
	defer eng.Close()
	var messageCalls, providerPosts atomic.Int64
	srv.Handler = counted(srv.Handler, &messageCalls, &providerPosts)
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	step("relay spool in " + dir + " (removed afterwards)")
	step("integration server: ccx relay (loopback provider) on " + res.ServerURL)
	step(fmt.Sprintf("emulated IS-Messenger on %s (channel %s, phone IDs)", e.URL(), ch.ID))

	wait := waiter(ctx, parent, e, events, eng, logs, timeout)

	// The contact writes first, through the provider's webhook.
	first := loopback.InboundBody{ID: "demo-" + channel.NewMID()[:8], From: ContactID, Text: "Hi! Is my order on its way?"}
	body, _ := json.Marshal(first)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, res.ServerURL+"/providers/loopback/inbound", bytes.NewReader(body))
	if err != nil {
		return res, &StepError{"post the contact's message to the relay", err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, &StepError{"post the contact's message to the relay", err}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return res, &StepError{"post the contact's message to the relay", fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	step(fmt.Sprintf("contact → provider → relay: text %q (POST /providers/loopback/inbound, HTTP %d)", first.Text, resp.StatusCode))
	if err := wait("the contact's first message to come through the relay", func(st emulator.State) bool { return len(inbound(st)) >= 1 }); err != nil {
		return res, err
	}
	step(fmt.Sprintf("relay → platform: message text (mId %s)", inbound(e.State())[0].MID))

	// Outgoing: an agent answers in every type; each comes back as receipts
	// and a reply before the next is sent, so the conversation reads in order.
	outgoing := agentReplies()
	for i, m := range outgoing {
		what := "platform → relay: send " + string(m.Type)
		got, err := e.Send(ctx, ch.ID, ContactID, m)
		if err != nil {
			return res, &StepError{what, err}
		}
		if got.Status != channel.StatusSent {
			return res, &StepError{what, errors.New(got.Reason)}
		}
		step(fmt.Sprintf("platform → relay: %s (HTTP %d, mId %s)", m.Type, got.Reply.HTTPStatus, got.MID))
		wantIn := i + 2
		if err := wait(fmt.Sprintf("the receipts and the reply to %s (mId %s)", m.Type, got.MID), func(st emulator.State) bool {
			cur, ok := e.MessageByMID(ch.ID, got.MID)
			return ok && cur.Status == channel.StatusDelivered && len(inbound(st)) >= wantIn
		}); err != nil {
			return res, err
		}
		in := inbound(e.State())
		if len(in) != wantIn {
			return res, &StepError{"check the reply to " + string(m.Type), fmt.Errorf("%d contact messages in the inbox, want %d", len(in), wantIn)}
		}
		reply := in[wantIn-1]
		if err := sameMessage(reply.Content, loopback.Reply(m)); err != nil {
			return res, &StepError{"check the reply to " + string(m.Type), err}
		}
		res.Relay.Replies++
		step(fmt.Sprintf("relay → platform: receipts sent, delivered for %s; reply %s (mId %s)", got.MID, emulator.Describe(reply.Content), reply.MID))
	}

	// Everything the relay spooled has left the spool: delivered, none dead.
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

	if n, want := len(st.Messages), 1+2*len(outgoing); n != want {
		return res, &StepError{"check the inbox", fmt.Errorf("%d messages stored, want %d", n, want)}
	}
	if res.Calls != len(outgoing) {
		return res, &StepError{"check the relay", fmt.Errorf("the relay answered %d /message calls, want %d", res.Calls, len(outgoing))}
	}
	for _, m := range st.Messages {
		if m.Direction == emulator.Out && m.Status != channel.StatusDelivered {
			return res, &StepError{"check the receipts", fmt.Errorf("message %s has status %q, want %q", m.MID, m.Status, channel.StatusDelivered)}
		}
	}
	if len(st.Warnings) > 0 {
		return res, &StepError{"check the emulator", fmt.Errorf("%s, first: %s", ui.Plural(len(st.Warnings), "warning"), st.Warnings[0].Message)}
	}
	step(fmt.Sprintf("inbox holds %d messages; every reply and receipt came back through the relay", len(st.Messages)))
	res.Elapsed = time.Since(start)
	return res, nil
}

// sameMessage compares what the emulator stored with what the loopback
// provider replied, on the wire form.
func sameMessage(got, want channel.Message) error {
	g, err := json.Marshal(got)
	if err != nil {
		return err
	}
	w, err := json.Marshal(want)
	if err != nil {
		return err
	}
	if !bytes.Equal(g, w) {
		return fmt.Errorf("the emulator stored %s, want %s", g, w)
	}
	return nil
}

// lastLines passes the relay's log lines to the progress output and keeps the
// last one for a timeout error.
type lastLines struct {
	say func(string, ...any)
	mu  sync.Mutex
	l   string
}

func (w *lastLines) Write(b []byte) (int, error) {
	line := strings.TrimSpace(string(b))
	w.mu.Lock()
	w.l = line
	w.mu.Unlock()
	w.say("  relay: %s", line)
	return len(b), nil
}

func (w *lastLines) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.l
}

// serialised is opts.Progress safe for the relay's goroutines (nil → quiet).
func serialised(progress func(string, ...any)) func(string, ...any) {
	var mu sync.Mutex
	return func(format string, args ...any) {
		if progress != nil {
			mu.Lock()
			progress(format, args...)
			mu.Unlock()
		}
	}
}

// counted counts the platform's /message calls and the provider's webhook
// posts on their way to the relay.
func counted(h http.Handler, messageCalls, providerPosts *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/message":
			messageCalls.Add(1)
		case strings.HasPrefix(r.URL.Path, "/providers/"):
			providerPosts.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// waiter makes wait: it blocks until cond holds for the emulator's state,
// woken by its events (and a slow tick as a backstop); the run's deadline
// (ctx) bounds it, and a timeout reports the inbox, the spool and the
// relay's last warning. parent ending first is an interruption.
func waiter(ctx, parent context.Context, e *emulator.Emulator, events <-chan emulator.Event, eng *relay.Engine, logs *lastLines, timeout time.Duration) func(string, func(emulator.State) bool) error {
	return func(what string, cond func(emulator.State) bool) error {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if cond(e.State()) {
				return nil
			}
			select {
			case <-events:
			case <-tick.C:
			case <-ctx.Done():
				if parent.Err() != nil {
					return &StepError{"wait for " + what, parent.Err()}
				}
				st, sp := e.State(), eng.Spool().Stats()
				detail := fmt.Sprintf("inbox holds %d messages; relay spool: %d pending, %d dead", len(st.Messages), sp.Depth, sp.Dead)
				if l := logs.last(); l != "" {
					detail += "; last relay warning: " + l
				}
				return &StepError{"wait for " + what, &TimeoutError{After: timeout, Detail: detail}}
			}
		}
	}
}

// inbound are the state's messages from the contact.
func inbound(st emulator.State) []emulator.Message {
	var in []emulator.Message
	for _, m := range st.Messages {
		if m.Direction == emulator.In {
			in = append(in, m)
		}
	}
	return in
}

// startRelay starts the relay engine the demo runs as the integration server
// (its warnings kept in logs) and the server for it, not yet serving ln.
// On an error ln is closed.
func startRelay(opts Options, ln net.Listener, ad provider.Adapter, ch emulator.Channel, webhookURL, dir, serverURL string, say func(string, ...any)) (*relay.Engine, *http.Server, *lastLines, error) {
	logs := &lastLines{say: say}
	ro := relay.Options{Adapter: ad, ChannelID: ch.ID, Token: ch.Token, IDType: ch.IDType,
		WebhookURL: webhookURL, SpoolPath: filepath.Join(dir, "spool.db"), PublicURL: serverURL,
		RateLimit: channel.RateLimitPerSec, Backoff: 50 * time.Millisecond, MaxBackoff: time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if opts.tamper != nil {
		opts.tamper(&ro)
	}
	eng, err := relay.New(ro)
	if err == nil {
		if err = eng.Start(); err != nil {
			eng.Close()
		}
	}
	if err != nil {
		ln.Close()
		return nil, nil, nil, &StepError{"start the relay", err}
	}
	srv := &http.Server{Handler: eng.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	return eng, srv, logs, nil
}

// openRelaySite makes the relay's spool directory (removed by cleanup, which
// is never nil) and its listener on loopback, and notes both in res.
func openRelaySite(res *Result, say func(string, ...any)) (ln net.Listener, dir string, cleanup func(), err error) {
	cleanup = func() {}
	dir, err = os.MkdirTemp("", "ccx-demo-relay-")
	if err != nil {
		return nil, "", cleanup, &StepError{"create the relay spool directory", err}
	}
	res.Relay.SpoolDir = dir
	cleanup = func() {
		if rerr := os.RemoveAll(dir); rerr != nil {
			say("! could not remove the relay spool %s: %v", dir, rerr)
		}
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, dir, cleanup, &StepError{"start the relay", err}
	}
	res.ServerURL = "http://" + ln.Addr().String()
	return ln, dir, cleanup, nil
}
