package cli

import (
	"strings"
	"testing"
)

// --queue: a bad URL is a usage error, an unreachable server an I/O error,
// and the URL's password appears in neither message.
func TestRelayQueueFlag(t *testing.T) {
	env := map[string]string{"CCX_WEBHOOK_URL": "http://127.0.0.1:9/", "CCX_CHANNEL_ID": "c", "CCX_API_TOKEN": "tokentokentoken"}
	f, _, errOut := emuFactory(t, env)
	if code := runArgs(f, "relay", "--provider", "loopback", "--port", "0", "--admin-addr", "off", "--queue", "http://u:hunter2pw@127.0.0.1:4222"); code != ExitUsage ||
		!strings.Contains(errOut.String(), "nats://host:4222") || strings.Contains(errOut.String(), "hunter2pw") {
		t.Fatalf("bad scheme: %d %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "--provider", "loopback", "--port", "0", "--admin-addr", "off", "--queue", "nats://u:hunter2pw@127.0.0.1:1"); code != ExitIO ||
		!strings.Contains(errOut.String(), "nats://u:xxxxx@127.0.0.1:1") || strings.Contains(errOut.String(), "hunter2pw") {
		t.Fatalf("unreachable queue: %d %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "--provider", "loopback", "--port", "0", "--admin-addr", "off", "--queue", "nats://127.0.0.1:1", "--queue-tls-cert", "c.pem"); code != ExitIO ||
		!strings.Contains(errOut.String(), "certificate and its key") {
		t.Fatalf("cert without key: %d %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "--provider", "loopback", "--queue", "nats://127.0.0.1:1", "--spool", "x.db"); code != ExitUsage ||
		!strings.Contains(errOut.String(), "exclude each other") {
		t.Fatalf("--spool with --queue: %d %s", code, errOut)
	}
	for _, fl := range []string{"--queue-tls-ca", "--queue-creds"} {
		errOut.Reset()
		if code := runArgs(f, "relay", "--provider", "loopback", "--port", "0", "--admin-addr", "off", "--queue", "nats://127.0.0.1:1", fl, "/nonexistent/x.pem"); code != ExitIO ||
			!strings.Contains(errOut.String(), "x.pem") {
			t.Fatalf("%s missing: %d %s", fl, code, errOut)
		}
	}
}
