package cli

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trigger, check and replay share --cacert, --insecure and --header (and
// -v): a server with a private CA is reached with its CA, refused without
// it (exit 3, the remedy named), and reached with --insecure (a warning).
func TestTriggerTLSFlags(t *testing.T) {
	var gotEnv string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotEnv = r.Header.Get("X-Env")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"mId":"m-1"}`))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		f, out, errOut := testFactory(t, map[string]string{"CCX_API_TOKEN": cliToken, "CCX_CHANNEL_ID": "ch1"})
		base := []string{"trigger", "text", "hi", "--to", srv.URL, "--timeout", "5s"}
		code := Run(context.Background(), f, append(base, args...))
		return code, out.String(), errOut.String()
	}

	if code, out, errOut := run("--cacert", ca, "-H", "X-Env: staging"); code != 0 || gotEnv != "staging" {
		t.Errorf("--cacert: exit %d, X-Env %q\n%s%s", code, gotEnv, out, errOut)
	}
	code, out, errOut := run()
	if code != ExitIO || !strings.Contains(out+errOut, "not trusted") || !strings.Contains(out+errOut, "--cacert") {
		t.Errorf("unknown CA: exit %d, want 3 and a message naming --cacert\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run("--insecure"); code != 0 || !strings.Contains(errOut, "warning: --insecure") {
		t.Errorf("--insecure: exit %d\n%s", code, errOut)
	}
	code, out, errOut = run("--cacert", ca, "--verbose")
	if code != 0 || !strings.Contains(errOut, "> #1 POST "+srv.URL+"/message") || !strings.Contains(errOut, "< #1 HTTP/1.1 200 OK") {
		t.Errorf("--verbose: exit %d, no heads on stderr\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, cliToken) {
		t.Error("the token in --verbose output")
	}
	if code, _, errOut := run("-H", "nocolon"); code != ExitUsage {
		t.Errorf("bad --header: exit %d, want 2\n%s", code, errOut)
	}
}

// check --e2e's calls are the emulator's: the transport flags would be
// ignored, so they are refused.
func TestCheckE2ERefusesTransportFlags(t *testing.T) {
	f, _, errOut := testFactory(t, map[string]string{"CCX_API_TOKEN": cliToken, "CCX_CHANNEL_ID": "ch1"})
	code := Run(context.Background(), f, []string{"check", "--e2e", "--provider", "twilio", "http://127.0.0.1:9", "--insecure"})
	if code != ExitUsage || !strings.Contains(errOut.String(), "not to --e2e") {
		t.Errorf("exit %d, want 2\n%s", code, errOut)
	}
}
