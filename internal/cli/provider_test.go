package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider/serve"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

// serve writes the fake's credentials 0600 for the relay, prints only their
// redacted form, streams NDJSON with --json and stops cleanly (nil: exit 0).
func TestProviderServeCredentialsAndJSON(t *testing.T) {
	f, out, errOut := testFactory(t, map[string]string{"CCX_TWILIO_AUTH_TOKEN": "user-given-auth-token-0123456789"})
	f.JSON = true
	credFile := filepath.Join(t.TempDir(), "tw.env")
	ready := make(chan string, 1)
	o := &ProviderServeOptions{Provider: "twilio", Host: "127.0.0.1", CredentialsOut: credFile, Grace: time.Second,
		RetryAfter: time.Second, Ready: func(b string) { ready <- b }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, f.IO, f.JSON, o) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("serve ended early: %v\n%s", err, errOut)
	}
	st, err := os.Stat(credFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st, err)
	}
	b, _ := os.ReadFile(credFile)
	file := string(b)
	for _, want := range []string{"CCX_PROVIDER_BASE_URL=" + base + "\n", "CCX_TWILIO_AUTH_TOKEN=user-given-auth-token-0123456789\n", "CCX_TWILIO_FROM=+15005550006\n"} {
		if !strings.Contains(file, want) {
			t.Errorf("credentials file lacks %q:\n%s", want, file)
		}
	}
	// The relay's adapter, configured from that file, sends through the fake.
	creds, err := loadCredentials(context.Background(), credFile, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a := twilio.New(twilio.Options{BaseURL: creds.get("CCX_PROVIDER_BASE_URL"), AccountSID: creds.get("CCX_TWILIO_ACCOUNT_SID"),
		AuthToken: creds.get("CCX_TWILIO_AUTH_TOKEN"), From: creds.get("CCX_TWILIO_FROM")})
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("hello")}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after cancel: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout: want the listening line and one send, got %q", out)
	}
	var head, ev map[string]any
	if json.Unmarshal([]byte(lines[0]), &head) != nil || json.Unmarshal([]byte(lines[1]), &ev) != nil {
		t.Fatalf("not NDJSON: %q", out)
	}
	if head["event"] != "listening" || head["url"] != base || ev["event"] != "send" {
		t.Fatalf("events %v / %v", head, ev)
	}
	if strings.Contains(out.String()+errOut.String(), "user-given-auth-token-0123456789") {
		t.Fatal("the auth token was printed")
	}
	if !strings.Contains(errOut.String(), "stopped: 1 send (1 accepted, 0 refused)") {
		t.Errorf("summary: %s", errOut)
	}
}
