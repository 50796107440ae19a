package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/relay"
)

func TestRelayFlagsAndUsage(t *testing.T) {
	f, _, errOut := emuFactory(t, nil)
	var got *relayOptions
	cmd := newRelayCmd(f, func(_ context.Context, o *relayOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--provider", "twilio", "--port", "0", "--spool", "x.db", "--public-url", "https://r", "--workers", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Provider != "twilio" || got.SpoolPath != "x.db" || got.PublicURL != "https://r" || got.Workers != 2 || got.RateLimit != channel.RateLimitPerSec {
		t.Fatalf("%+v", got)
	}
	if code := runArgs(f, "relay", "--provider", "pigeon"); code != ExitUsage || !strings.Contains(errOut.String(), "pigeon") {
		t.Fatalf("bad provider: %d %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "--provider", "loopback"); code != ExitUsage || !strings.Contains(errOut.String(), "CCX_WEBHOOK_URL") {
		t.Fatalf("missing settings: %d %s", code, errOut)
	}
}

func TestRelayMissingCredentials(t *testing.T) {
	env := map[string]string{"CCX_WEBHOOK_URL": "http://127.0.0.1:9/", "CCX_CHANNEL_ID": "c", "CCX_API_TOKEN": "tokentokentoken"}
	f, _, errOut := emuFactory(t, env)
	spool := filepath.Join(t.TempDir(), "s.db")
	if code := runArgs(f, "relay", "--provider", "clicksend", "--port", "0", "--spool", spool); code != ExitUsage ||
		!strings.Contains(errOut.String(), "CCX_CLICKSEND_API_KEY") {
		t.Fatalf("%d %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "--provider", "telegram", "--port", "0", "--spool", spool, "--credentials", writeFile(t, "CCX_TELEGRAM_BOT_TOKEN=1:x\nCCX_TELEGRAM_WEBHOOK_SECRET=s\n")); code != ExitUsage ||
		!strings.Contains(errOut.String(), "--id-type custom") {
		t.Fatalf("telegram on a phone channel: %d %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "--provider", "http", "--port", "0", "--spool", spool, "--http-config", filepath.Join(t.TempDir(), "none.json")); code != ExitIO {
		t.Fatalf("missing http config: %d %s", code, errOut)
	}
	if code := runArgs(f, "relay", "--provider", "clicksend", "--credentials", "/nonexistent/creds"); code != ExitIO {
		t.Fatalf("missing credentials file: %d", code)
	}
}

func writeFile(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRelayRunsAndShutsDown runs the command against an emulator and a
// ClickSend fake: a push is delivered, secrets stay out of the JSON logs,
// SIGINT (context cancel) stops it and `relay status` reads the spool.
func TestRelayRunsAndShutsDown(t *testing.T) {
	fake := clicksend.NewFake()
	defer fake.Close()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ch := emu.Channel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := map[string]string{"CCX_WEBHOOK_URL": emu.WebhookURL(), "CCX_CHANNEL_ID": ch.ID, "CCX_API_TOKEN": ch.Token,
		"CCX_CLICKSEND_USERNAME": fake.Username, "CCX_CLICKSEND_API_KEY": fake.APIKey, "CCX_CLICKSEND_SECRET": "very-secret-path",
		"CCX_PROVIDER_BASE_URL": fake.URL()}
	f, _, errOut := emuFactory(t, env)
	f.JSON = true
	spool := filepath.Join(t.TempDir(), "relay.db")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- Run(ctx, f, []string{"relay", "--json", "--provider", "clicksend", "--port", strconv.Itoa(port), "--spool", spool, "--rate-limit", "0", "--log-level", "debug"})
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 1000 {
			t.Fatal("relay did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st, err := clicksend.Push(nil, base+"/providers/clicksend/inbound/very-secret-path", clicksend.InboundForm("CLI-1", "+61411111111", "", "hi", time.Now().Unix())); err != nil || st != 200 {
		t.Fatalf("push: %d %v", st, err)
	}
	for i := 0; len(emu.Messages(emulator.Filter{})) == 0; i++ {
		if i > 2000 {
			t.Fatal("not delivered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	logs := errOut.String()
	for _, secret := range []string{ch.Token, fake.APIKey, "very-secret-path"} {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %q in logs:\n%s", secret, logs)
		}
	}
	first := strings.SplitN(logs, "\n", 2)[0]
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil || line["msg"] != "relay listening" {
		t.Fatalf("JSON logs: %q %v", first, err)
	}
	if !strings.Contains(logs, `"msg":"relay stopped"`) {
		t.Errorf("no graceful stop in logs:\n%s", logs)
	}
	f2, out, _ := emuFactory(t, nil)
	f2.JSON = true
	if code := runArgs(f2, "relay", "status", "--spool", spool, "--json"); code != ExitOK {
		t.Fatalf("status exit %d", code)
	}
	var st relay.Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || st.Delivered != 1 || st.Depth != 0 || st.DedupeKeys != 1 {
		t.Fatalf("status: %s %v", out, err)
	}
	if code := runArgs(f2, "relay", "status", "--spool", filepath.Join(t.TempDir(), "none.db")); code != ExitIO {
		t.Fatalf("missing spool: %d", code)
	}
}
