package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/relay"
)

func TestRunPlaysTheWholeLoop(t *testing.T) {
	var lines []string
	res, err := Run(context.Background(), Options{Progress: func(f string, a ...any) { lines = append(lines, f) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 5 || len(res.State.Messages) != 11 || len(res.State.Contacts) != 1 {
		t.Fatalf("calls %d, messages %d, contacts %d", res.Calls, len(res.State.Messages), len(res.State.Contacts))
	}
	count := map[string]int{}
	for _, m := range res.State.Messages {
		count[string(m.Direction)+"/"+string(m.Origin)+"/"+string(m.Status)]++
	}
	want := map[string]int{
		"in/contact/received":    5,
		"out/echo/sent":          1,
		"out/platform/read":      2,
		"out/platform/delivered": 2,
		"out/platform/failed":    1,
	}
	for k, n := range want {
		if count[k] != n {
			t.Fatalf("%s: %d, want %d (all: %v)", k, count[k], n, count)
		}
	}
	types := map[channel.MessageType]int{}
	for _, m := range res.State.Messages {
		if m.Origin == emulator.OriginPlatform {
			types[m.Type]++
		}
	}
	if len(types) != len(channel.MessageTypes) {
		t.Fatalf("outgoing types %v, want all of %v", types, channel.MessageTypes)
	}
	for _, m := range res.State.Messages {
		if m.Status == channel.StatusFailed && m.Reason == "" {
			t.Fatal("failed receipt lost its reason")
		}
	}
	if len(lines) < 20 {
		t.Fatalf("only %d progress lines", len(lines))
	}
}

func TestRunStopsWithTheFailingStep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Options{})
	var se *StepError
	if !errors.As(err, &se) || !strings.Contains(se.Step, "post message text") {
		t.Fatalf("cancelled run: %v", err)
	}
}

func TestRunRelayBringsEveryReplyBackThroughTheRelay(t *testing.T) {
	var lines []string
	res, err := RunRelay(context.Background(), Options{Progress: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(lines, "\n"))
	}
	if res.Relay == nil || res.Calls != 5 || len(res.State.Messages) != 11 || len(res.State.Contacts) != 1 {
		t.Fatalf("relay %+v, calls %d, messages %d, contacts %d", res.Relay, res.Calls, len(res.State.Messages), len(res.State.Contacts))
	}
	// One contact message through the provider webhook, then per outgoing
	// message: its sent+delivered receipts and the contact's reply.
	if r := res.Relay; r.Provider != "loopback" || r.ProviderWebhooks != 1 || r.Replies != 5 || r.Delivered != 16 || r.Pending != 0 || r.Dead != 0 {
		t.Fatalf("relay report %+v", r)
	}
	want := []struct {
		dir    emulator.Direction
		typ    channel.MessageType
		status channel.StatusValue
		text   string
	}{
		{emulator.In, channel.MessageText, emulator.StatusReceived, "Hi! Is my order on its way?"},
		{emulator.Out, channel.MessageText, channel.StatusDelivered, "Yes, it ships today."},
		{emulator.In, channel.MessageText, emulator.StatusReceived, "echo: Yes, it ships today."},
		{emulator.Out, channel.MessageAttachment, channel.StatusDelivered, ""},
		{emulator.In, channel.MessageAttachment, emulator.StatusReceived, ""},
		{emulator.Out, channel.MessageLocation, channel.StatusDelivered, ""},
		{emulator.In, channel.MessageLocation, emulator.StatusReceived, ""},
		{emulator.Out, channel.MessageQuickReply, channel.StatusDelivered, ""},
		{emulator.In, channel.MessageText, emulator.StatusReceived, "Good"},
		{emulator.Out, channel.MessageCustomPayload, channel.StatusDelivered, ""},
		{emulator.In, channel.MessageText, emulator.StatusReceived, "echo: custom payload"},
	}
	for i, w := range want {
		m := res.State.Messages[i]
		if m.Direction != w.dir || m.Type != w.typ || m.Status != w.status || w.text != "" && m.Content.Text != w.text {
			t.Errorf("message %d: %s %s %s %q, want %s %s %s %q", i, m.Direction, m.Type, m.Status, m.Content.Text, w.dir, w.typ, w.status, w.text)
		}
		if m.Direction == emulator.Out {
			// The emulator's own `sent`, then the relay's sent and delivered receipts.
			var tl []string
			for _, c := range m.Timeline {
				tl = append(tl, string(c.Status))
			}
			if strings.Join(tl, ",") != "sent,sent,delivered" {
				t.Errorf("message %d (%s) timeline %v", i, m.MID, tl)
			}
		}
	}
	if loc := res.State.Messages[6].Content; loc.Latitude == nil || *loc.Latitude != 3.157764 || loc.Address != "KLCC pickup point" {
		t.Errorf("location reply %+v", loc)
	}
	if att := res.State.Messages[4].Content.Attachment; att == nil || att.URL != "https://example.com/invoice.pdf" {
		t.Errorf("attachment reply %+v", att)
	}
	if len(res.State.Warnings) != 0 {
		t.Errorf("warnings: %v", res.State.Warnings)
	}
}

func TestRunRelayRemovesItsSpool(t *testing.T) {
	res, err := RunRelay(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Relay.SpoolDir == "" {
		t.Fatal("no spool directory reported")
	}
	if _, err := os.Stat(res.Relay.SpoolDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("spool %s still there: %v", res.Relay.SpoolDir, err)
	}
}

// A relay that cannot deliver (the platform refuses its token) ends in a
// bounded wait whose error says what was awaited and what the relay holds.
func TestRunRelayTimesOutWithWhatItWaitedFor(t *testing.T) {
	res, err := RunRelay(context.Background(), Options{Timeout: 500 * time.Millisecond, tamper: func(o *relay.Options) {
		o.Token = "not-the-channel-token"
	}})
	var se *StepError
	var te *TimeoutError
	if !errors.As(err, &se) || !errors.As(err, &te) {
		t.Fatalf("want a timeout step error, got %v", err)
	}
	for _, s := range []string{"wait for the contact's first message", "timed out after 500ms", "1 pending, 0 dead", "rejected the API token"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if _, serr := os.Stat(res.Relay.SpoolDir); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("spool %s left behind after a failure: %v", res.Relay.SpoolDir, serr)
	}
}

func TestRunRelayInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := RunRelay(ctx, Options{})
	var se *StepError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
}
