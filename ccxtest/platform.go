package ccxtest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/ui"
)

// PlatformOptions configure a Platform. The zero value is usable: a
// generated Phone channel and no server URL yet (set it with SetServerURL).
type PlatformOptions struct {
	// ServerURL is the integration server's API base URL: Send calls
	// <ServerURL>/message.
	ServerURL string
	// ChannelID and Token of the channel; "" → generated.
	ChannelID, Token string
	// IDType of the channel's contacts; "" → Phone.
	IDType IDType
	// Wait bounds each Wait* call (0 → DefaultWait).
	Wait time.Duration
}

// DefaultWait is how long a Wait* helper waits when its fake's Wait option
// is zero.
const DefaultWait = 10 * time.Second

// Platform is a running IS-Messenger emulator: it takes the server's
// webhook posts as the platform does (Bearer token, validation) and stores
// contacts, messages and their status timelines.
type Platform struct {
	emu  *emulator.Emulator
	wait time.Duration
}

// NewPlatform starts a platform emulator on 127.0.0.1; t.Cleanup stops it.
func NewPlatform(t testing.TB, o PlatformOptions) *Platform {
	t.Helper()
	ch := emulator.GenerateChannel(o.IDType, o.ServerURL)
	if o.ChannelID != "" {
		ch.ID = o.ChannelID
	}
	if o.Token != "" {
		ch.Token = o.Token
	}
	emu, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}})
	if err != nil {
		t.Fatalf("ccxtest: start the platform: %v", err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Logf("ccxtest: stop the platform: %v", err)
		}
	})
	return &Platform{emu: emu, wait: o.Wait}
}

// URL is the platform's base URL (its inspection API is under /_emulator/).
func (p *Platform) URL() string { return p.emu.URL() }

// WebhookURL is where the server posts its events.
func (p *Platform) WebhookURL() string { return p.emu.WebhookURL() }

// ChannelID is the channel's ID (the channelId of every event).
func (p *Platform) ChannelID() string { return p.emu.Channel().ID }

// Token is the channel's API token.
func (p *Platform) Token() string { return p.emu.Channel().Token }

// IDType is the channel's contact ID type.
func (p *Platform) IDType() IDType { return p.emu.Channel().IDType }

// Channel is the channel, for Check and the server's configuration.
func (p *Platform) Channel() Channel {
	c := p.emu.Channel()
	return Channel{ID: c.ID, Token: c.Token, IDType: c.IDType}
}

// SetServerURL points Send at the server's API base URL (the platform's
// "API base URL" setting), for a server started after the platform.
func (p *Platform) SetServerURL(t testing.TB, url string) {
	t.Helper()
	if err := p.emu.SetAPIBaseURL("", url); err != nil {
		t.Fatalf("ccxtest: SetServerURL(%q): %v", url, err)
	}
}

// Send does what the platform does when an agent writes: it POSTs m for
// contactID to the server's <base URL>/message with the channel token and
// stores the outcome. The server's answer is in the result, not a failure:
// Status Sent and the MID it returned, or Status Failed and the Reason (a
// refusal, a reply breaking the contract); Reply holds the HTTP status,
// body and findings. Send fails t only when no call could be made: no
// server URL, a message the platform would not send, a Custom channel
// contact that has not written first.
func (p *Platform) Send(t testing.TB, contactID string, m Content) Message {
	t.Helper()
	msg, err := p.emu.Send(t.Context(), "", contactID, m)
	if err != nil {
		if errors.Is(err, emulator.ErrNoAPIBaseURL) {
			err = errors.New("no server URL: set PlatformOptions.ServerURL or call SetServerURL")
		}
		t.Fatalf("ccxtest: Send to %q: %v", contactID, err)
	}
	return msg
}

// Messages lists the stored messages of a contact ("" for all), both
// directions, in arrival order.
func (p *Platform) Messages(contactID string) []Message {
	return p.emu.Messages(emulator.Filter{ContactID: contactID})
}

// Posted lists what the server posted for a contact ("" for all): its
// message and message_echo events, in arrival order, without Send's.
func (p *Platform) Posted(contactID string) []Message {
	var out []Message
	for _, m := range p.Messages(contactID) {
		if m.Origin != emulator.OriginPlatform {
			out = append(out, m)
		}
	}
	return out
}

// Message finds a stored message by its mId.
func (p *Platform) Message(mid string) (Message, bool) {
	return p.emu.MessageByMID(p.ChannelID(), mid)
}

// Contacts lists the contacts, most recently active first.
func (p *Platform) Contacts() []Contact { return p.emu.Contacts("") }

// Warnings lists what the platform accepted but found odd, oldest first.
func (p *Platform) Warnings() []Warning { return p.emu.Warnings() }

// Requests is the request log, oldest first (the last 200 exchanges).
func (p *Platform) Requests() []Request { return p.emu.Requests(0) }

// Reset forgets every contact, message, warning and logged request.
func (p *Platform) Reset() { p.emu.Reset() }

// WaitMessages waits until the server has posted at least n message or
// message_echo events for contactID ("" for any contact) and returns them
// (see Posted). It fails t when the wait ends first, with what the platform
// saw: its answers to the webhook posts often say why (a 401: wrong token).
func (p *Platform) WaitMessages(t testing.TB, contactID string, n int) []Message {
	t.Helper()
	var got []Message
	p.waitFor(t, func() bool {
		got = p.Posted(contactID)
		return len(got) >= n
	}, func() string {
		who := "any contact"
		if contactID != "" {
			who = fmt.Sprintf("contact %q", contactID)
		}
		return fmt.Sprintf("%s from the server for %s; it posted %d%s", ui.Plural(n, "message"), who, len(got), p.seen())
	})
	return got
}

// WaitStatus waits until the message mid has status s (through the
// server's message_status events) and returns it.
func (p *Platform) WaitStatus(t testing.TB, mid string, s Status) Message {
	t.Helper()
	var m Message
	var ok bool
	p.waitFor(t, func() bool {
		m, ok = p.Message(mid)
		return ok && m.Status == s
	}, func() string {
		now := "no message has that mId"
		if ok {
			now = fmt.Sprintf("its status is %s", m.Status)
		}
		return fmt.Sprintf("message %s to be %s; %s%s", mid, s, now, p.seen())
	})
	return m
}

func (p *Platform) waitFor(t testing.TB, cond func() bool, want func() string) {
	t.Helper()
	events, cancel := p.emu.Subscribe()
	defer cancel()
	wake := make(chan struct{}, 1)
	go func() {
		for range events {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	waitFor(t, p.wait, wake, cond, want)
}

// seen sums up the webhook posts and warnings, for a failed wait.
func (p *Platform) seen() string {
	var b strings.Builder
	posts, refused := 0, map[int]int{}
	var last string
	for _, r := range p.Requests() {
		if r.Kind != emulator.RequestWebhook {
			continue
		}
		posts++
		if r.Status >= 300 {
			refused[r.Status]++
			last = fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(r.ReplyBody))
		}
	}
	fmt.Fprintf(&b, "\n  webhook posts received: %d", posts)
	if len(refused) > 0 {
		n, parts := 0, []string{}
		for _, code := range slices.Sorted(maps.Keys(refused)) {
			n += refused[code]
			parts = append(parts, fmt.Sprintf("HTTP %d ×%d", code, refused[code]))
		}
		fmt.Fprintf(&b, ", refused: %d (%s); the last: %s", n, strings.Join(parts, ", "), clip(last, 300))
	}
	ws := p.Warnings()
	if len(ws) > 3 {
		ws = ws[len(ws)-3:]
	}
	for _, w := range ws {
		fmt.Fprintf(&b, "\n  warning %s: %s", w.Rule, w.Message)
	}
	return b.String()
}
