package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/ui"
)

// emuFactory is a Factory over test streams with its own config file and env.
func emuFactory(t *testing.T, env map[string]string) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	io, _, out, errOut := ui.Test()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	io.SetGetenv(func(k string) string {
		if k == config.EnvConfig {
			return cfg
		}
		return env[k]
	})
	return &Factory{IO: io}, out, errOut
}

func runArgs(f *Factory, args ...string) int {
	return Run(context.Background(), f, args)
}

func TestEmulateFlagsReachOptions(t *testing.T) {
	f, _, _ := emuFactory(t, nil)
	var got *emulateOptions
	cmd := newEmulateCmd(f, func(_ context.Context, o *emulateOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--port", "0", "--rate-limit", "0", "--state", "s.json", "--id-type", "custom", "--token", "t", "--channel-id", "c", "--api-base-url", "http://x", "--channel", "id=b", "--quiet", "--allow-host", "emu", "--allow-host", "emu.lan"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Port != 0 || got.RateLimit != 0 || got.StatePath != "s.json" || got.IDType != "custom" || got.Token != "t" ||
		got.ChannelID != "c" || got.APIBaseURL != "http://x" || len(got.Extra) != 1 || !got.Quiet || got.Host != "127.0.0.1" ||
		strings.Join(got.AllowHosts, ",") != "emu,emu.lan" {
		t.Fatalf("options %+v", got)
	}
	// Defaults: the documented port and the platform's rate limit.
	cmd = newEmulateCmd(f, func(_ context.Context, o *emulateOptions) error { got = o; return nil })
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Port != 4747 || got.RateLimit != channel.RateLimitPerSec {
		t.Fatalf("defaults %+v", got)
	}
}

func TestEmulateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"emulate", "--port", "-1"},
		{"emulate", "--rate-limit", "-5"},
		{"emulate", "--port", "0", "--id-type", "email"},
		{"emulate", "--port", "0", "--api-base-url", "not a url"},
		{"emulate", "--port", "0", "--channel", "nonsense"},
		{"emulate", "--port", "0", "--channel", "colour=red"},
		{"emulate", "extra"},
		{"emulate", "send"},
		{"emulate", "inbox", "--state", "a", "--emulator", "b"},
	} {
		f, _, errOut := emuFactory(t, nil)
		if code := runArgs(f, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}

func TestEmulatedChannelsPrecedence(t *testing.T) {
	f, _, _ := emuFactory(t, map[string]string{"CCX_CHANNEL_ID": "fromenv"})
	file, _ := f.Config()
	file.Profiles["default"] = config.Profile{ChannelID: "fromprofile", APIToken: "proftoken", IDType: "custom", APIBaseURL: "http://127.0.0.1:1"}
	file.Profiles[LocalProfile] = config.Profile{ChannelID: "fromlocal", APIToken: "localtoken"}
	// The active profile is not adopted unnamed: it may be a real channel.
	chans, _, src, err := emulatedChannels(f, &emulateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := chans[0]; c.ID != "fromenv" || c.Token == "proftoken" || len(c.Token) != 46 || c.IDType != channel.IDPhone || c.APIBaseURL != emulator.DefaultAPIBaseURL {
		t.Fatalf("active profile adopted: %+v", c)
	}
	if src["channel_id"] != "env CCX_CHANNEL_ID" || src["api_token"] != "generated" || src["api_base_url"] != "default" {
		t.Fatalf("sources %v", src)
	}
	// Named with --profile, it is used (env still over it).
	f.Profile = "default"
	chans, _, src, _ = emulatedChannels(f, &emulateOptions{})
	if c := chans[0]; c.ID != "fromenv" || c.Token != "proftoken" || c.IDType != channel.IDCustom || c.APIBaseURL != "http://127.0.0.1:1" {
		t.Fatalf("--profile default: %+v", c)
	}
	if src["api_token"] != "profile 'default'" {
		t.Fatalf("sources %v", src)
	}
	chans, _, src, _ = emulatedChannels(f, &emulateOptions{ChannelID: "fromflag"})
	if chans[0].ID != "fromflag" || src["channel_id"] != "flag" {
		t.Fatalf("flag over env: %+v %v", chans[0], src)
	}

	// No channel anywhere but the 'local' profile: reuse it, so a server
	// configured once keeps working across restarts.
	f2, _, _ := emuFactory(t, nil)
	file2, _ := f2.Config()
	file2.Profiles[LocalProfile] = config.Profile{ChannelID: "fromlocal", APIToken: "localtoken", IDType: "custom"}
	chans, _, src, _ = emulatedChannels(f2, &emulateOptions{})
	if c := chans[0]; c.ID != "fromlocal" || c.Token != "localtoken" || c.IDType != channel.IDCustom {
		t.Fatalf("local reuse: %+v", c)
	}
	if src["api_token"] != "the 'local' profile (last run)" {
		t.Fatalf("sources %v", src)
	}

	// Nothing at all: generated.
	f3, _, _ := emuFactory(t, nil)
	chans, _, _, _ = emulatedChannels(f3, &emulateOptions{Extra: []string{"id=second"}})
	if len(chans) != 2 || len(chans[0].Token) != 46 || chans[1].ID != "second" {
		t.Fatalf("generated: %+v", chans)
	}
}

func TestLocalFlagSelectsProfile(t *testing.T) {
	f, _, errOut := emuFactory(t, nil)
	root := NewRootCmd(f)
	if err := root.ParseFlags([]string{"--local"}); err != nil {
		t.Fatal(err)
	}
	if f.Profile != LocalProfile {
		t.Fatalf("--local set profile %q", f.Profile)
	}
	f2, _, _ := emuFactory(t, nil)
	if code := runArgs(f2, "--profile", "prod", "--local", "version"); code != ExitUsage {
		t.Fatalf("--profile prod --local: exit %d (%s)", code, errOut)
	}
}

// TestRunEmulateEndToEnd runs the command in-process: banner, profile, live
// log, graceful stop on cancellation.
func TestRunEmulateEndToEnd(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"mId":"srv-9"}`))
	}))
	defer server.Close()
	f, out, errOut := emuFactory(t, nil)
	f.JSON = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opts := &emulateOptions{Host: "127.0.0.1", Port: 0, APIBaseURL: server.URL, Token: "secrettokensecrettoken01", RateLimit: 20, AllowHosts: []string{"emu.test"}}
	go func() { done <- runEmulate(ctx, f, opts) }()

	// Wait for the profile: it is written once the emulator listens.
	var p config.Profile
	for i := 0; ; i++ {
		file, err := config.Load(f.IO.Getenv(config.EnvConfig))
		if err == nil {
			if lp, ok := file.Profiles[LocalProfile]; ok {
				p = lp
				break
			}
		}
		if i > 500 {
			t.Fatal("no local profile written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.APIToken != opts.Token || p.APIBaseURL != server.URL || p.ContactID != "+60177872890" || !strings.HasSuffix(p.WebhookURL, emulator.WebhookPath) {
		t.Fatalf("local profile %+v", p)
	}
	base := strings.TrimSuffix(p.WebhookURL, emulator.WebhookPath)
	c := &emulator.Client{BaseURL: base}
	res, err := c.Send(ctx, "", "+60177872890", channel.Text("hi"))
	if err != nil || !res.OK || res.Message.MID != "srv-9" {
		t.Fatalf("send: %+v %v", res, err)
	}
	// --allow-host: that name is served, others are refused (DNS rebinding).
	for host, want := range map[string]int{"emu.test": 200, "evil.example": http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest(http.MethodGet, base+"/_emulator/health", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	cancel()
	if err := recv(t, "emulate to stop", done); err != nil {
		t.Fatalf("runEmulate: %v", err)
	}
	if !strings.Contains(errOut.String(), "secr…en01") || strings.Contains(errOut.String()+out.String(), opts.Token) {
		t.Fatalf("token not redacted in:\n%s", errOut)
	}
	if !strings.Contains(errOut.String(), "emulator stopped") {
		t.Fatalf("no graceful stop message:\n%s", errOut)
	}
	// --json: every stdout line is one JSON event.
	kinds := []string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev emulator.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", line, err)
		}
		kinds = append(kinds, string(ev.Kind))
	}
	if strings.Join(kinds, " ") != "emulator.started contact.created outgoing.sent" {
		t.Fatalf("events %v", kinds)
	}
}

func TestEmulateSendExitCodes(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   int
	}{
		{200, `{"mId":"ok-1"}`, ExitOK},
		{400, `{"error":{"message":"nope"}}`, ExitFailure},
		{401, `{"error":{"message":"unauthorized"}}`, ExitAuth},
		{200, `{}`, ExitFailure},
	}
	for _, c := range cases {
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		}))
		e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{emulator.GenerateChannel(channel.IDPhone, server.URL)}})
		if err != nil {
			t.Fatal(err)
		}
		f, out, errOut := emuFactory(t, nil)
		code := runArgs(f, "emulate", "send", "text", "hi", "--to", "+60177872890", "--emulator", e.URL())
		if code != c.want {
			t.Errorf("server %d %s: exit %d, want %d (%s)", c.status, c.body, code, c.want, errOut)
		}
		if c.want == ExitOK && strings.TrimSpace(out.String()) != "ok-1" {
			t.Errorf("stdout %q, want the mId", out)
		}
		e.Close()
		server.Close()
	}
	// Server down: the call fails without an HTTP status → exit 3.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e, _ := emulator.New(emulator.Options{Channels: []emulator.Channel{emulator.GenerateChannel(channel.IDPhone, dead.URL)}})
	defer e.Close()
	f, _, _ := emuFactory(t, nil)
	if code := runArgs(f, "emulate", "send", "text", "hi", "--to", "+60177872890", "--emulator", e.URL()); code != ExitIO {
		t.Errorf("server down: exit %d, want 3", code)
	}
	// Emulator refuses (no contact to pick) → exit 1 with its reason.
	e2, _ := emulator.New(emulator.Options{Channels: []emulator.Channel{emulator.GenerateChannel(channel.IDPhone, dead.URL)}})
	defer e2.Close()
	f, _, errOut := emuFactory(t, nil)
	if code := runArgs(f, "emulate", "send", "text", "hi", "--emulator", e2.URL()); code != ExitFailure || !strings.Contains(errOut.String(), "no contacts") {
		t.Errorf("no contact: exit %d (%s)", code, errOut)
	}
}

func TestEmulatorURLResolution(t *testing.T) {
	f, _, _ := emuFactory(t, map[string]string{EnvEmulatorURL: "http://env:1"})
	if got := emulatorURL(f, "http://flag:1"); got != "http://flag:1" {
		t.Fatalf("flag: %s", got)
	}
	if got := emulatorURL(f, ""); got != "http://env:1" {
		t.Fatalf("env: %s", got)
	}
	f2, _, _ := emuFactory(t, nil)
	file, _ := f2.Config()
	file.Profiles[LocalProfile] = config.Profile{WebhookURL: "http://127.0.0.1:5555/custom/channel/webhook/"}
	if got := emulatorURL(f2, ""); got != "http://127.0.0.1:5555" {
		t.Fatalf("profile: %s", got)
	}
	f3, _, _ := emuFactory(t, nil)
	if got := emulatorURL(f3, ""); got != emulator.DefaultURL {
		t.Fatalf("default: %s", got)
	}
}

func TestDemoInProcess(t *testing.T) {
	f, out, errOut := emuFactory(t, nil)
	if code := runArgs(f, "demo"); code != ExitOK {
		t.Fatalf("demo exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "Contact +60177872890 (John Doe)") || strings.Count(out.String(), "mId ") != 11 {
		t.Fatalf("inbox:\n%s", out)
	}
	if strings.Contains(out.String(), "✓") {
		t.Fatal("progress leaked to stdout")
	}
	if _, err := f.Config(); err != nil {
		t.Fatal(err)
	}
	f2, out2, _ := emuFactory(t, nil)
	f2.JSON = true
	if code := runArgs(f2, "demo", "--json"); code != ExitOK {
		t.Fatalf("demo --json exit %d", code)
	}
	var res struct {
		State emulator.State `json:"state"`
	}
	if err := json.Unmarshal(out2.Bytes(), &res); err != nil || len(res.State.Messages) != 11 {
		t.Fatalf("--json: %v, %d messages", err, len(res.State.Messages))
	}
}

func TestFormatEventColourOnlyOnTTY(t *testing.T) {
	ev := emulator.Event{Time: time.Now(), Kind: emulator.EventWebhookRejected, HTTPStatus: 401, Summary: "bad token"}
	io, _, _, _ := ui.Test()
	plain := emulator.FormatEvent(ev, io.Styles(io.Out))
	if strings.Contains(plain, "\x1b[") || !strings.Contains(plain, "POST 401 webhook rejected: bad token") {
		t.Fatalf("plain: %q", plain)
	}
	io.SetColorEnabled(true)
	if coloured := emulator.FormatEvent(ev, io.Styles(io.Out)); !strings.Contains(coloured, "\x1b[") {
		t.Fatalf("colour: %q", coloured)
	}
}
