package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/demo"
	"github.com/ccx-cli/ccx/internal/emulator"
)

func TestDemoRelayFlagReachesOptions(t *testing.T) {
	f, _, _ := emuFactory(t, nil)
	var got *demoOptions
	cmd := newDemoCmd(f, func(_ context.Context, o *demoOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--relay"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || !got.Relay {
		t.Fatalf("options %+v", got)
	}
}

func TestDemoRelayInProcess(t *testing.T) {
	f, out, errOut := emuFactory(t, nil)
	if code := runArgs(f, "demo", "--relay"); code != ExitOK {
		t.Fatalf("demo --relay exit %d: %s", code, errOut)
	}
	for _, s := range []string{"← text \"echo: Yes, it ships today.\"  received", "← text \"Good\"  received", "sent → sent → delivered"} {
		if !strings.Contains(out.String(), s) {
			t.Fatalf("inbox lacks %q:\n%s", s, out)
		}
	}
	if strings.Count(out.String(), "mId ") != 11 || strings.Contains(out.String(), "✓") {
		t.Fatalf("inbox:\n%s", out)
	}
	if !strings.Contains(errOut.String(), "done: the loop works through the relay: 11 messages, 5 calls to /message, 16 webhook posts delivered") {
		t.Fatalf("stderr:\n%s", errOut)
	}

	f2, out2, _ := emuFactory(t, nil)
	f2.JSON = true
	if code := runArgs(f2, "demo", "--relay", "--json"); code != ExitOK {
		t.Fatalf("demo --relay --json exit %d", code)
	}
	var res struct {
		ServerCalls int               `json:"serverCalls"`
		State       emulator.State    `json:"state"`
		Relay       *demo.RelayReport `json:"relay"`
	}
	if err := json.Unmarshal(out2.Bytes(), &res); err != nil {
		t.Fatalf("--json is not one JSON object: %v\n%s", err, out2)
	}
	if len(res.State.Messages) != 11 || res.ServerCalls != 5 || res.Relay == nil ||
		res.Relay.Delivered != 16 || res.Relay.Replies != 5 || res.Relay.ProviderWebhooks != 1 || res.Relay.Pending != 0 || res.Relay.Dead != 0 {
		t.Fatalf("--json: %d messages, %d calls, relay %+v", len(res.State.Messages), res.ServerCalls, res.Relay)
	}
}
