package demo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
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
