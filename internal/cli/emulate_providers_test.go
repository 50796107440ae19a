package cli

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

// runEmulate with --provider: the env file holds the secret (0600), the
// banner and log never do unless --show-token.
func TestRunEmulateWithProviderKeepsSecrets(t *testing.T) {
	for _, show := range []bool{false, true} {
		f, out, errOut := emuFactory(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		opts := &emulateOptions{Host: "127.0.0.1", Port: 0, Providers: []string{"twilio"}, ShowToken: show, ReceiptDelay: 0}
		go func() { done <- runEmulate(ctx, f, opts) }()
		env := filepath.Join(filepath.Dir(f.IO.Getenv(config.EnvConfig)), "provider-twilio.env")
		var creds *credentials
		deadline := time.Now().Add(10 * time.Second)
		for {
			if c, err := loadCredentials(context.Background(), env, func(string) string { return "" }); err == nil && c.get("CCX_PROVIDER_BASE_URL") != "" {
				creds = c
				break
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatal("no env file written")
			}
			time.Sleep(10 * time.Millisecond)
		}
		fi, err := os.Stat(env)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("env file mode: %v %v", fi.Mode(), err)
		}
		secret := creds.get("CCX_TWILIO_AUTH_TOKEN")
		if len(secret) < 16 || !strings.HasSuffix(creds.get("CCX_PROVIDER_BASE_URL"), "/_provider/twilio") {
			t.Fatalf("env file: %+v", creds.File)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		shown := strings.Contains(errOut.String()+out.String(), secret)
		if shown != show {
			t.Fatalf("show-token=%v, secret shown=%v:\n%s", show, shown, errOut)
		}
		if !strings.Contains(errOut.String(), "CCX_TWILIO_FROM=+15005550006") {
			t.Fatalf("the business number is not shown:\n%s", errOut)
		}
	}
}

func TestEmulateCustomerExitCodes(t *testing.T) {
	status := http.StatusOK
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer server.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	start := func(webhook string) *emulator.Emulator {
		e, err := emulator.New(emulator.Options{Providers: []emulator.Provider{{WebhookURL: webhook,
			Build: func(c *http.Client) (provider.Emulator, error) {
				return twilio.NewEmulator(twilio.EmulatorOptions{Client: c}), nil
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	e := start(server.URL + "/inbound")
	for _, c := range []struct {
		status int
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{200, nil, ExitOK, "f1", "your server answered 200"},
		{403, nil, ExitAuth, "f2", "refused twilio's signature"},
		{500, nil, ExitFailure, "f3", "your server answered HTTP 500"},
		{200, []string{"--from", "nope"}, ExitFailure, "", `contact "nope": phone contact IDs are E.164`},
		{200, []string{"--provider", "other"}, ExitFailure, "", "unknown provider"},
	} {
		status = c.status
		f, out, errOut := emuFactory(t, nil)
		args := append([]string{"emulate", "customer", "text", "hi", "--emulator", e.URL()}, c.args...)
		if code := runArgs(f, args...); code != c.code || strings.TrimSpace(out.String()) != c.stdout || !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("%d %v: exit %d, stdout %q, stderr %q", c.status, c.args, code, out, errOut)
		}
	}
	// The server is down: 3.
	f, _, errOut := emuFactory(t, nil)
	if code := runArgs(f, "emulate", "customer", "text", "hi", "--emulator", start(deadURL).URL()); code != ExitIO || !strings.Contains(errOut.String(), "refused") {
		t.Errorf("server down: exit %d, %s", code, errOut)
	}
	// An emulator without providers: 1 with the remedy.
	plain, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	f, _, errOut = emuFactory(t, nil)
	if code := runArgs(f, "emulate", "customer", "text", "hi", "--emulator", plain.URL()); code != ExitFailure || !strings.Contains(errOut.String(), "--provider NAME") {
		t.Errorf("no provider: exit %d, %s", code, errOut)
	}
}
