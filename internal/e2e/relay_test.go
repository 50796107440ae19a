package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/e2e"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/provider/gupshup"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
	"github.com/ccx-cli/ccx/internal/provider/zalo"
	"github.com/ccx-cli/ccx/internal/relay"
)

// testTimeout bounds every wait of a run: a passing loop takes milliseconds,
// so only the checks that must see nothing arrive ever wait this long.
const testTimeout = 3 * time.Second

// harness starts the fakes for one provider, with the automatic receipts
// off (the checks fire them).
func harness(t *testing.T, name string, o emulators.Options, idType channel.IDType) *e2e.Harness {
	t.Helper()
	o.NoReceipts = true
	prov, err := emulators.New(name, o)
	if err != nil {
		t.Fatal(err)
	}
	h, err := e2e.Start(e2e.Config{Provider: prov, Channel: emulator.Channel{IDType: idType}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// adapterFor builds the relay's adapter for the harness's provider fake, as
// `ccx relay` does from the credentials.
func adapterFor(h *e2e.Harness, publicURL string) provider.Adapter {
	c := h.Provider().Credentials()
	switch h.Provider().Name() {
	case "twilio":
		return twilio.New(twilio.Options{BaseURL: h.ProviderURL(), AccountSID: c["CCX_TWILIO_ACCOUNT_SID"], AuthToken: c["CCX_TWILIO_AUTH_TOKEN"],
			From: c["CCX_TWILIO_FROM"], PublicURL: publicURL})
	case "telegram":
		return telegram.New(telegram.Options{BaseURL: h.ProviderURL(), BotToken: c["CCX_TELEGRAM_BOT_TOKEN"], Secret: c["CCX_TELEGRAM_WEBHOOK_SECRET"]})
	case "clicksend":
		return clicksend.New(clicksend.Options{BaseURL: h.ProviderURL(), Username: c["CCX_CLICKSEND_USERNAME"], APIKey: c["CCX_CLICKSEND_API_KEY"],
			From: c["CCX_CLICKSEND_FROM"], Secret: c["CCX_CLICKSEND_SECRET"]})
	case "gupshup":
		return gupshup.New(gupshup.Options{BaseURL: h.ProviderURL(), APIKey: c["CCX_GUPSHUP_API_KEY"], AppName: c["CCX_GUPSHUP_APP_NAME"],
			Source: c["CCX_GUPSHUP_SOURCE"], Secret: c["CCX_GUPSHUP_SECRET"]})
	case "zalo":
		a, _ := zalo.New(zalo.Options{BaseURL: h.ProviderURL(), AppID: c["CCX_ZALO_APP_ID"], AppSecret: c["CCX_ZALO_APP_SECRET"],
			OASecretKey: c["CCX_ZALO_OA_SECRET_KEY"], AccessToken: c["CCX_ZALO_ACCESS_TOKEN"], RefreshToken: c["CCX_ZALO_REFRESH_TOKEN"]})
		return a
	}
	ad, err := emulators.Adapter(h.Provider().Name(), emulators.AdapterConfig{BaseURL: h.ProviderURL(), PublicURL: publicURL, Credentials: c})
	if err != nil {
		return nil
	}
	return ad
}

// startRelay runs a relay engine in-process between the harness's fakes;
// wrap, when set, breaks its adapter; front, when set, breaks its handler.
// It returns the relay's base URL.
func startRelay(t *testing.T, h *e2e.Harness, wrap func(provider.Adapter) provider.Adapter, front func(http.Handler, *e2e.Harness) http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ad := adapterFor(h, url)
	if ad == nil {
		t.Fatalf("no adapter for %s", h.Provider().Name())
	}
	if wrap != nil {
		ad = wrap(ad)
	}
	ch := h.Channel()
	eng, err := relay.New(relay.Options{Adapter: ad, ChannelID: ch.ID, Token: ch.Token, IDType: ch.IDType, WebhookURL: h.WebhookURL(),
		SpoolPath: filepath.Join(t.TempDir(), "spool.db"), PublicURL: url, Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	var hd http.Handler = eng.Handler()
	if front != nil {
		hd = front(hd, h)
	}
	srv := &http.Server{Handler: hd, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = eng.Close()
	})
	return url
}

type testLog struct{ t *testing.T }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func run(t *testing.T, h *e2e.Harness, url string, only ...string) *e2e.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := h.Run(ctx, e2e.Options{ServerURL: url, Timeout: testTimeout, Only: only})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func table(rep *e2e.Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "  %-20s %-4s %s | %s\n", r.ID, r.Verdict, r.Reason, r.Body)
	}
	return b.String()
}

func result(t *testing.T, rep *e2e.Report, id string) conformance.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s:\n%s", id, table(rep))
	return conformance.Result{}
}

// The relay must pass its own end-to-end check, for every adapter.
func TestRelayPassesE2E(t *testing.T) {
	cases := []struct {
		name   string
		o      emulators.Options
		idType channel.IDType
		// skipped are the checks the provider cannot play (and say so).
		skipped []string
	}{
		{"twilio", emulators.Options{}, channel.IDPhone, []string{"in-location"}},
		{"twilio-whatsapp", emulators.Options{BusinessNumber: "whatsapp:+15005550006"}, channel.IDPhone, nil},
		{"telegram", emulators.Options{}, channel.IDCustom, []string{"receipt-failed"}},
		{"clicksend", emulators.Options{}, channel.IDPhone, []string{"in-attachment", "in-location"}},
		{"gupshup", emulators.Options{}, channel.IDPhone, nil},
		{"zalo", emulators.Options{}, channel.IDCustom, []string{"receipt-failed"}},
		{"whatsapp", emulators.Options{}, channel.IDPhone, nil},
		{"vonage", emulators.Options{}, channel.IDPhone, nil},
		{"vonage-sms", emulators.Options{Credentials: map[string]string{"CCX_VONAGE_CHANNEL": "sms"}}, channel.IDPhone, []string{"in-attachment", "in-location"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := harness(t, strings.Split(c.name, "-")[0], c.o, c.idType)
			rep := run(t, h, startRelay(t, h, nil, nil))
			if rep.Unreachable || rep.Failed > 0 || rep.Warned > 0 {
				t.Fatalf("relay: %d failed, %d warned (unreachable %v %s):\n%s", rep.Failed, rep.Warned, rep.Unreachable, rep.Error, table(rep))
			}
			if got, want := len(rep.Results), len(e2e.Checks); got != want {
				t.Fatalf("%d results, want %d", got, want)
			}
			for _, r := range rep.Results {
				want := conformance.Pass
				if contains(c.skipped, r.ID) {
					want = conformance.Skip
				}
				if r.Verdict != want {
					t.Errorf("%s: %s, want %s (%s)", r.ID, r.Verdict, want, r.Reason)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// A server that does not answer at all is reported as unreachable, at once.
func TestUnreachable(t *testing.T) {
	h := harness(t, "twilio", emulators.Options{}, channel.IDPhone)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	rep := run(t, h, url)
	if !rep.Unreachable || len(rep.Results) != 0 || !strings.Contains(rep.Error, "cannot reach") {
		t.Fatalf("unreachable=%v error=%q results=%d", rep.Unreachable, rep.Error, len(rep.Results))
	}
}

func TestSelect(t *testing.T) {
	if err := e2e.Select([]string{"in-text"}, []string{"fail-rate-limit"}); err != nil {
		t.Fatal(err)
	}
	if err := e2e.Select(nil, []string{"text"}); err == nil || !strings.Contains(err.Error(), `unknown e2e check "text"`) {
		t.Fatalf("Select(text) = %v", err)
	}
}
