package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
)

// The loop runs through every provider that has an emulator and an adapter.
func TestRunRelayThroughEveryProvider(t *testing.T) {
	for _, name := range emulators.Names() {
		t.Run(name, func(t *testing.T) {
			var lines []string
			res, err := RunRelay(context.Background(), Options{Provider: name, Progress: func(f string, a ...any) { lines = append(lines, f) }})
			if err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(res.Steps, "\n"))
			}
			if res.Relay.Provider != name || res.Relay.Pending != 0 || res.Relay.Dead != 0 || res.Relay.Replies < 4 {
				t.Fatalf("%+v", res.Relay)
			}
			out, in := 0, 0
			for _, m := range res.State.Messages {
				switch {
				case m.Direction == emulator.Out && m.Origin == emulator.OriginPlatform:
					out++
					if m.Type == channel.MessageCustomPayload && m.Status == channel.StatusFailed && m.Reason != "" {
						continue // not in the provider's format: refused with a reason
					}
					if m.Status != channel.StatusDelivered && m.Status != channel.StatusRead && !(name == "telegram" && m.Status == channel.StatusSent) {
						t.Errorf("%s: %s ended %q", name, m.Type, m.Status)
					}
				case m.Direction == emulator.In:
					in++
				}
			}
			if in != 1+res.Relay.Replies || res.Relay.ProviderWebhooks < in {
				t.Fatalf("%d inbound, %d replies, %d provider webhooks", in, res.Relay.Replies, res.Relay.ProviderWebhooks)
			}
			if out < 4 || res.Calls != out {
				t.Fatalf("%d outgoing stored, %d /message calls", out, res.Calls)
			}
			if !strings.Contains(strings.Join(res.Steps, "\n"), name+" adapter") {
				t.Fatalf("steps: %v", res.Steps)
			}
		})
	}
	if _, err := RunRelay(context.Background(), Options{Provider: "pigeon"}); err == nil || !strings.Contains(err.Error(), `"pigeon"`) {
		t.Fatalf("unknown provider: %v", err)
	}
}
