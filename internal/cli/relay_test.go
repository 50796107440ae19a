package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
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

// TestRelayRefusesUnverifiedInbound: an adapter whose webhooks nothing
// verifies does not start and fails --check-config, unless --insecure-inbound.
func TestRelayRefusesUnverifiedInbound(t *testing.T) {
	env := map[string]string{"CCX_WEBHOOK_URL": "http://127.0.0.1:9/", "CCX_CHANNEL_ID": "c", "CCX_API_TOKEN": "tokentokentoken",
		"CCX_CLICKSEND_USERNAME": "u", "CCX_CLICKSEND_API_KEY": "k"}
	spool := filepath.Join(t.TempDir(), "s.db")
	openHTTP := writeFile(t, `{"send":{"url":"http://127.0.0.1:9/send","bodies":{"text":"{\"to\":{{json .ContactID}}}"},"message_id":"id"},
		"inbound":{"path":"in","map":{"message_id":"id","contact_id":"from","text":"text"}}}`)
	for _, args := range [][]string{
		{"relay", "--provider", "clicksend", "--port", "0", "--admin-addr", "off", "--spool", spool},
		{"relay", "--provider", "clicksend", "--check-config"},
		{"relay", "--provider", "http", "--http-config", openHTTP, "--check-config"},
	} {
		f, _, errOut := emuFactory(t, env)
		// The deadline only bounds a relay that wrongly started.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		code := Run(ctx, f, args)
		cancel()
		if code != ExitUsage || !strings.Contains(errOut.String(), "--insecure-inbound") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
		if args[2] == "clicksend" && !strings.Contains(errOut.String(), "CCX_CLICKSEND_SECRET") {
			t.Errorf("%v: the remedy does not name CCX_CLICKSEND_SECRET: %s", args, errOut)
		}
		if _, err := os.Stat(spool); err == nil {
			t.Fatalf("%v: the relay started (spool created)", args)
		}
	}
	f, _, errOut := emuFactory(t, env)
	if code := runArgs(f, "relay", "--provider", "clicksend", "--check-config", "--insecure-inbound"); code != ExitOK ||
		!strings.Contains(errOut.String(), "insecure-inbound") || !strings.Contains(errOut.String(), "relay config ok") {
		t.Errorf("--insecure-inbound: exit %d %s", code, errOut)
	}
	f, _, errOut = emuFactory(t, env)
	if code := runArgs(f, "relay", "--provider", "loopback", "--admin-addr", "nonsense", "--check-config"); code != ExitUsage || !strings.Contains(errOut.String(), "--admin-addr") {
		t.Errorf("bad --admin-addr: exit %d %s", code, errOut)
	}
}

// freePorts finds n distinct free ports (all held until all are found).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
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
	ports := freePorts(t, 2)
	port, adminPort := ports[0], ports[1]
	env := map[string]string{"CCX_WEBHOOK_URL": emu.WebhookURL(), "CCX_CHANNEL_ID": ch.ID, "CCX_API_TOKEN": ch.Token,
		"CCX_CLICKSEND_USERNAME": fake.Username, "CCX_CLICKSEND_API_KEY": fake.APIKey, "CCX_CLICKSEND_SECRET": "very-secret-path",
		"CCX_PROVIDER_BASE_URL": fake.URL()}
	f, _, errOut := emuFactory(t, env)
	f.JSON = true
	spool := filepath.Join(t.TempDir(), "relay.db")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- Run(ctx, f, []string{"relay", "--json", "--provider", "clicksend", "--port", strconv.Itoa(port), "--spool", spool, "--rate-limit", "0", "--log-level", "debug",
			"--admin-addr", "127.0.0.1:" + strconv.Itoa(adminPort)})
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
	// Metrics and status are on the admin address only.
	admin := "http://127.0.0.1:" + strconv.Itoa(adminPort)
	for _, u := range []string{base + "/metrics", base + "/admin/status", admin + "/metrics", admin + "/admin/status"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 404, false: 200}[strings.HasPrefix(u, base)]; resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", u, resp.StatusCode, want)
		}
	}
	fs, sout, serr := emuFactory(t, nil)
	fs.JSON = true
	if code := runArgs(fs, "relay", "status", "--url", admin, "--json"); code != ExitOK || !strings.Contains(sout.String(), `"depth":`) {
		t.Errorf("status --url admin: %d %s %s", code, sout, serr)
	}
	// The public address answers 404: no-route, exit 1 (`ccx help exit-codes`).
	if code := runArgs(fs, "relay", "status", "--url", base); code != ExitFailure || !strings.Contains(serr.String(), "--admin-addr") {
		t.Errorf("status --url public: %d %s", code, serr)
	}
	cancel()
	if code := recv(t, "relay to stop", done); code != ExitOK {
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

// TestRelayAllowPrivateMediaFlag: a Telegram document on a loopback server is
// refused by default (the generic text, nothing uploaded) and fetched with
// --allow-private-media.
func TestRelayAllowPrivateMediaFlag(t *testing.T) {
	fake := telegram.NewFake()
	defer fake.Close()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("DOCX")) }))
	defer files.Close()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer sink.Close()
	const token = "tokentokentokentokentoken0001"
	env := map[string]string{"CCX_WEBHOOK_URL": sink.URL, "CCX_CHANNEL_ID": "c", "CCX_API_TOKEN": token, "CCX_ID_TYPE": "custom",
		"CCX_TELEGRAM_BOT_TOKEN": fake.Token, "CCX_TELEGRAM_WEBHOOK_SECRET": "hook-secret", "CCX_PROVIDER_BASE_URL": fake.URL()}
	for _, allow := range []bool{false, true} {
		f, _, errOut := emuFactory(t, env)
		port := freePorts(t, 1)[0]
		args := []string{"relay", "--provider", "telegram", "--port", strconv.Itoa(port), "--admin-addr", "off", "--rate-limit", "0",
			"--spool", filepath.Join(t.TempDir(), "s.db")}
		if allow {
			args = append(args, "--allow-private-media")
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int, 1)
		go func() { done <- Run(ctx, f, args) }()
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		for i := 0; ; i++ {
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if i > 1000 {
				cancel()
				t.Fatalf("relay did not start: %s", errOut)
			}
			time.Sleep(5 * time.Millisecond)
		}
		att := channel.NewAttachment(channel.AttachmentFile, files.URL+"/report.docx", "application/msword", "report.docx", "")
		b, _ := json.Marshal(channel.OutgoingRequest{ChannelID: "c", ContactID: "42", Message: att})
		req, _ := http.NewRequest(http.MethodPost, base+"/message", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if code := recv(t, "relay to stop", done); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		switch {
		case !allow && (resp.StatusCode != 400 || !strings.Contains(string(body), "media could not be fetched")):
			t.Errorf("default: %d %s", resp.StatusCode, body)
		case allow && resp.StatusCode != 200:
			t.Errorf("--allow-private-media: %d %s", resp.StatusCode, body)
		}
	}
	uploads := 0
	for _, c := range fake.Calls() {
		if c.Method == "senddocument" {
			uploads++
		}
	}
	if uploads != 1 {
		t.Fatalf("%d uploads, want 1 (with --allow-private-media only)", uploads)
	}
}
