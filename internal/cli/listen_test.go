package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/ui"
)

const cliToken = "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"

func testFactory(t *testing.T, env map[string]string) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	io, _, out, errOut := ui.Test()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	io.SetGetenv(func(k string) string {
		if k == "CCX_CONFIG" {
			return cfg
		}
		return env[k]
	})
	return &Factory{IO: io}, out, errOut
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/message", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+cliToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return nil, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const cliText = `{"channelId":"c","contactId":"+60177872890","message":{"type":"text","text":"Hello"}}`

// A real SIGTERM while a slow call is in flight: the call completes with
// 200, then the summary is printed and listen returns without error.
func TestListenSIGTERMFinishesInFlightCall(t *testing.T) {
	f, out, errOut := testFactory(t, map[string]string{"CCX_API_TOKEN": cliToken})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ready, received := make(chan string, 1), make(chan struct{}, 1)
	o := &ListenOptions{Host: "127.0.0.1", Path: "/message", ReplyStatus: 200, FailStatus: 500, MaxBody: 1 << 20,
		Latency: 300 * time.Millisecond, Grace: 10 * time.Second,
		ready: func(a string) { ready <- a }, received: func() { received <- struct{}{} }}
	done := make(chan error, 1)
	go func() { done <- runListen(ctx, f, o) }()
	base := recv(t, "listen to be ready", ready)
	type reply struct {
		status int
		body   string
	}
	got := make(chan reply, 1)
	go func() {
		resp, body := post(t, base, cliText)
		if resp == nil {
			got <- reply{}
			return
		}
		got <- reply{resp.StatusCode, body}
	}()
	recv(t, "the call to arrive", received)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := recv(t, "the in-flight reply", got)
	if r.status != 200 || !strings.Contains(r.body, `"mId"`) {
		t.Fatalf("in-flight call: %d %q", r.status, r.body)
	}
	if err := recv(t, "listen to stop", done); err != nil {
		t.Fatalf("listen: %v", err)
	}
	if !strings.Contains(errOut.String(), "stopped: 1 call: 1×200") {
		t.Errorf("no summary on stderr: %q", errOut)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.Contains(out.String(), `"text":"Hello"`) {
		t.Errorf("stdout: want one NDJSON line, got %q", out)
	}
	if strings.Contains(out.String()+errOut.String(), cliToken) {
		t.Errorf("token leaked")
	}
}

// On a TTY the output is Stripe-style: --> and <-- lines tied by one id.
func TestListenPrettyOnTTY(t *testing.T) {
	f, out, _ := testFactory(t, map[string]string{"CCX_API_TOKEN": cliToken})
	f.IO.SetStdoutTTY(true)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	o := &ListenOptions{Host: "127.0.0.1", Path: "/message", ReplyStatus: 200, FailStatus: 500, MaxBody: 1 << 20, Grace: time.Second,
		ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- runListen(ctx, f, o) }()
	base := recv(t, "listen to be ready", ready)
	post(t, base, cliText)
	post(t, base, `{"channelId":"c","contactId":"+60177872890","message":{"type":"quick_reply","title":"Rate","replies":["A","B"]}}`)
	cancel()
	if err := recv(t, "listen to stop", done); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	m := regexp.MustCompile(`--> (\S+-0001)  POST /message  \+60177872890  text "Hello"  auth ok`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no --> line:\n%s", s)
	}
	if !regexp.MustCompile(`<-- ` + regexp.QuoteMeta(m[1]) + `  200 \{"mId":"[^"]+"\}`).MatchString(s) {
		t.Errorf("no matching <-- line:\n%s", s)
	}
	if !strings.Contains(s, `quick_reply "Rate" [A | B]`) {
		t.Errorf("quick reply not rendered:\n%s", s)
	}
}

func TestListenRefusesWithoutToken(t *testing.T) {
	f, _, _ := testFactory(t, nil)
	err := runListen(context.Background(), f, &ListenOptions{Port: 0, Path: "/message", ReplyStatus: 200, FailStatus: 500, MaxBody: 1})
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "CCX_API_TOKEN") || !strings.Contains(err.Error(), "--token") || !strings.Contains(err.Error(), "api_token") {
		t.Fatalf("%v", err)
	}
}
