package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/e2e"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
)

func runWith(t *testing.T, h *e2e.Harness, url string, timeout time.Duration, only ...string) *e2e.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := h.Run(ctx, e2e.Options{ServerURL: url, Timeout: timeout, Only: only})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// A server that answers garbage everywhere fails every check, clearly, and
// nothing hangs or panics.
func TestGarbageServer(t *testing.T) {
	h := harness(t, "twilio", emulators.Options{BusinessNumber: "whatsapp:+15005550006"}, channel.IDPhone)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "garbage \x00\xff")
	}))
	defer srv.Close()
	rep := runWith(t, h, srv.URL, 300*time.Millisecond)
	if rep.Unreachable || rep.Failed != len(e2e.Checks) {
		t.Fatalf("%d of %d failed (unreachable %v):\n%s", rep.Failed, len(e2e.Checks), rep.Unreachable, table(rep))
	}
	for id, says := range map[string]string{
		"in-text":             "no message event with text",
		"out-text":            "/message 200 reply breaks the contract",
		"receipt-delivered":   "no message to receive a receipt for",
		"fail-provider-error": "/message answered 200 \"garbage",
	} {
		if r := result(t, rep, id); !strings.Contains(r.Reason, says) {
			t.Errorf("%s: %q does not say %q", id, r.Reason, says)
		}
	}
}

// A server that never answers costs one timeout per call, then fails.
func TestHangingServer(t *testing.T) {
	h := harness(t, "twilio", emulators.Options{}, channel.IDPhone)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			return // the reachability probe
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	rep := runWith(t, h, srv.URL, 200*time.Millisecond, "in-text", "out-text")
	for id, says := range map[string]string{
		"in-text":  "did not answer: no answer in time (timeout)",
		"out-text": "/message did not answer: no answer within 200ms (timeout)",
	} {
		if r := result(t, rep, id); r.Verdict != conformance.Fail || !strings.Contains(r.Reason, says) {
			t.Errorf("%s: %s %q, want fail saying %q", id, r.Verdict, r.Reason, says)
		}
	}
}

// A server that answers /message at once with its own id and calls the
// provider afterwards passes out-text: the check waits for the call.
func TestQueueingServer(t *testing.T) {
	h := harness(t, "twilio", emulators.Options{}, channel.IDPhone)
	relayURL := startRelay(t, h, nil, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/message" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		hdr := r.Header.Clone()
		go func() {
			time.Sleep(50 * time.Millisecond)
			req, _ := http.NewRequest(http.MethodPost, relayURL+"/message", strings.NewReader(string(body)))
			req.Header = hdr
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(channel.Reply{MID: "queued-" + channel.NewMID()[:8]})
	}))
	defer srv.Close()
	rep := runWith(t, h, srv.URL, testTimeout, "out-text")
	r := result(t, rep, "out-text")
	if r.Verdict != conformance.Pass || !strings.Contains(r.Body, "is not the provider's id") {
		t.Fatalf("out-text: %s %q (%s)", r.Verdict, r.Reason, r.Body)
	}
}
