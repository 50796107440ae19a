// Package demo runs the whole Custom Channel loop in one process, on free
// loopback ports and with in-memory settings only: an emulated IS-Messenger,
// ccx's /message endpoint standing in for the integration server, every
// inbound event and message type posted through the platform client, every
// outgoing type sent by the emulator, and receipts for them (Run); or a real
// relay engine with the loopback provider as the integration server, whose
// receipts and replies come back through its durable spool (RunRelay). It
// never reads or writes the user's config.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/relay"
)

// ContactID is the demo's contact (a phone channel).
const ContactID = "+60177872890"

// Options steer a run.
type Options struct {
	// Progress receives one line per step (stderr in `ccx demo`); may be nil.
	Progress func(format string, args ...any)
	// Timeout bounds a RunRelay (0 → DefaultTimeout).
	Timeout time.Duration
	// Provider is RunRelay's adapter: loopback ("") or a provider with an
	// emulator (internal/provider/emulators), played through its fake.
	Provider string

	// tamper lets tests break the relay's settings.
	tamper func(*relay.Options)
}

// Result is what the run left behind.
type Result struct {
	EmulatorURL string         `json:"emulatorUrl"`
	ServerURL   string         `json:"serverUrl"`
	ChannelID   string         `json:"channelId"`
	State       emulator.State `json:"state"`
	Calls       int            `json:"serverCalls"` // /message calls the server answered
	Elapsed     time.Duration  `json:"-"`
	Steps       []string       `json:"steps"`
	Server      []listen.Call  `json:"-"`
	// Relay is set by RunRelay only.
	Relay *RelayReport `json:"relay,omitempty"`
}

// StepError says which step failed.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Run plays the loop and checks the emulator ended in the expected state.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	say := opts.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	res := &Result{}
	step := func(s string) { res.Steps = append(res.Steps, s); say("✓ %s", s) }

	// The integration server: ccx listen's handler on a free port.
	ch := emulator.GenerateChannel(channel.IDPhone, "")
	var mu sync.Mutex
	h := listen.NewHandler(listen.Options{Token: ch.Token, ChannelID: ch.ID, IDType: ch.IDType,
		OnCall: func(c listen.Call) { mu.Lock(); res.Server = append(res.Server, c); mu.Unlock() }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, &StepError{"start the integration server", err}
	}
	srv := &http.Server{Handler: listen.NewMux("/message", h), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	res.ServerURL = "http://" + ln.Addr().String()
	ch.APIBaseURL = res.ServerURL
	step("integration server (ccx listen's /message handler) on " + res.ServerURL)

	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}, RateLimit: channel.RateLimitPerSec})
	if err != nil {
		return res, &StepError{"start the emulator", err}
	}
	defer e.Close()
	res.EmulatorURL, res.ChannelID = e.URL(), ch.ID
	step(fmt.Sprintf("emulated IS-Messenger on %s (channel %s, phone IDs)", e.URL(), ch.ID))

	// Inbound: what the server posts to the platform webhook, as `ccx send` does.
	pc := platform.New(platform.Options{WebhookURL: e.WebhookURL(), Token: ch.Token, Timeout: 5 * time.Second, MaxRetries: -1, RateLimit: channel.RateLimitPerSec})
	post := func(what string, ev channel.Event, contact *channel.Contact) error {
		body, err := json.Marshal(channel.NewWebhook(ch.ID, ContactID, contact, ev))
		if err != nil {
			return &StepError{what, err}
		}
		r, err := pc.Post(ctx, body)
		if err != nil {
			return &StepError{"post " + what + " to the emulator webhook", err}
		}
		step(fmt.Sprintf("server → platform: %s (HTTP %d, %.1fms)", what, r.Status, float64(r.Latency.Microseconds())/1000))
		return nil
	}
	john := &channel.Contact{FirstName: "John", LastName: "Doe", CountryCode: "MY", Phone: ContactID, Language: "en"}
	inbound := []struct {
		what string
		t    channel.EventType
		m    channel.Message
	}{
		{"message text", channel.EventMessage, channel.Text("Hi! Is my order on its way?")},
		{"message attachment", channel.EventMessage, channel.NewAttachment(channel.AttachmentImage, "https://example.com/receipt.jpg", "image/jpeg", "receipt.jpg", "my receipt")},
		{"message location", channel.EventMessage, channel.Location(3.139003, 101.686855, "Kuala Lumpur, Malaysia")},
		{"message quick_reply", channel.EventMessage, channel.QuickReply("Which store?", "KLCC", "Mid Valley")},
		{"message custom_payload", channel.EventMessage, channel.CustomPayload(json.RawMessage(`{"order":"A-1042"}`))},
		{"message_echo text", channel.EventEcho, channel.Text("(sent from the provider's own app) We are checking.")},
	}
	for i, in := range inbound {
		var contact *channel.Contact
		if i == 0 {
			contact = john
		}
		if err := post(in.what, channel.NewEvent(in.t, in.m), contact); err != nil {
			return res, err
		}
	}

	// Outgoing: an agent answers in every type; the emulator calls /message.
	outgoing := agentReplies()
	var sent []emulator.Message
	for _, m := range outgoing {
		got, err := e.Send(ctx, ch.ID, ContactID, m)
		if err != nil {
			return res, &StepError{"emulator → server: send " + string(m.Type), err}
		}
		if got.Status != channel.StatusSent {
			return res, &StepError{"emulator → server: send " + string(m.Type), errors.New(got.Reason)}
		}
		sent = append(sent, got)
		step(fmt.Sprintf("platform → server: %s (HTTP %d, mId %s)", m.Type, got.Reply.HTTPStatus, got.MID))
	}

	// Receipts from the server for what it delivered.
	type rcpt struct {
		i      int
		v      channel.StatusValue
		reason string
	}
	receipts := []rcpt{
		{0, channel.StatusDelivered, ""}, {0, channel.StatusRead, ""},
		{1, channel.StatusDelivered, ""},
		{2, channel.StatusFailed, "Recipient's phone is unreachable"},
		{3, channel.StatusDelivered, ""}, {3, channel.StatusRead, ""},
		{4, channel.StatusDelivered, ""},
	}
	want := map[string]channel.StatusValue{}
	for _, r := range receipts {
		mid := sent[r.i].MID
		if err := post(fmt.Sprintf("message_status %s for %s", r.v, sent[r.i].Type), channel.NewReceipt(mid, r.v, r.reason), nil); err != nil {
			return res, err
		}
		want[mid] = r.v
	}

	// Check the emulator saw it all, as the platform would.
	st := e.State()
	res.State = st
	mu.Lock()
	res.Calls = len(res.Server)
	mu.Unlock()
	if n := len(st.Messages); n != len(inbound)+len(outgoing) {
		return res, &StepError{"check the inbox", fmt.Errorf("%d messages stored, want %d", n, len(inbound)+len(outgoing))}
	}
	if res.Calls != len(outgoing) {
		return res, &StepError{"check the server", fmt.Errorf("the server answered %d /message calls, want %d", res.Calls, len(outgoing))}
	}
	for mid, v := range want {
		m, ok := e.MessageByMID(ch.ID, mid)
		if !ok || m.Status != v {
			return res, &StepError{"check the receipts", fmt.Errorf("message %s has status %q, want %q", mid, m.Status, v)}
		}
	}
	step(fmt.Sprintf("inbox holds %d messages; statuses match the receipts", len(st.Messages)))
	res.Elapsed = time.Since(start)
	return res, nil
}

// agentReplies are the outgoing messages both demo modes send: one of each type.
func agentReplies() []channel.Message {
	return []channel.Message{
		channel.Text("Yes, it ships today."),
		channel.NewAttachment(channel.AttachmentFile, "https://example.com/invoice.pdf", "application/pdf", "invoice.pdf", "your invoice"),
		channel.Location(3.157764, 101.711861, "KLCC pickup point"),
		channel.QuickReply("How did we do?", "Good", "Okay", "Bad"),
		channel.CustomPayload(json.RawMessage(`{"card":{"title":"Order A-1042","status":"shipped"}}`)),
	}
}
