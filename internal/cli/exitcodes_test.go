package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// answers are what the fake remote does for each row of answerMatrix (same
// order): every network command meets every one of them.
var answers = []func(w http.ResponseWriter, r *http.Request){
	func(w http.ResponseWriter, r *http.Request) { // 200 with a valid body, for any command
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"mId":%q,"ok":true,"path":"relay.db"}`, channel.NewMID())
	},
	jsonError(400),
	jsonError(401),
	func(w http.ResponseWriter, r *http.Request) { // 403: the answer of a proxy in front
		w.WriteHeader(403)
		io.WriteString(w, "Forbidden")
	},
	http.NotFound,
	func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		jsonError(429)(w, r)
	},
	jsonError(500),
	func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>")
	},
	nil, // timeout: never answers (see TestExitCodeContract)
	nil, // connection refused: a closed server
}

func jsonError(status int) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"status %d"}}`, status)
	}
}

// netCommand runs one network command against base and returns its exit
// code and the verdict from its --json output.
type netCommand struct {
	name   string
	family func(row int) verdict.Verdict
	run    func(t *testing.T, base string, timeout time.Duration) (int, verdict.Verdict)
}

// timeoutRow is the row whose remote never answers: only there is the
// timeout short; elsewhere it is generous, so a loaded machine cannot turn
// an answer into a timeout.
var timeoutRow = len(answers) - 2

func runJSON(t *testing.T, env map[string]string, args ...string) (int, verdict.Verdict) {
	t.Helper()
	f, out, errOut := testFactory(t, env)
	code := Run(context.Background(), f, args)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var v struct {
		Verdict verdict.Verdict `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &v); err != nil {
		t.Errorf("%s: --json output is not JSON (%v): %q\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	if strings.Contains(out.String()+errOut.String(), cliToken) {
		t.Errorf("%s: token in the output", strings.Join(args, " "))
	}
	return code, v.Verdict
}

func TestExitCodeContract(t *testing.T) {
	if len(answers) != len(answerMatrix) {
		t.Fatalf("%d answers for %d rows of answerMatrix", len(answers), len(answerMatrix))
	}
	// Cleanups, not defers: the parallel subtests run after this function returns.
	old := LocalWait
	t.Cleanup(func() { LocalWait = old })
	LocalWait = 100 * time.Millisecond // emulate send's wait for a local server

	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	hang := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}
	bases := make([]string, len(answers))
	for i, a := range answers {
		switch {
		case a != nil:
			srv := httptest.NewServer(http.HandlerFunc(a))
			t.Cleanup(srv.Close)
			bases[i] = srv.URL
		case i == timeoutRow:
			srv := httptest.NewServer(http.HandlerFunc(hang))
			t.Cleanup(srv.Close)
			bases[i] = srv.URL
		default:
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close()
			bases[i] = srv.URL
		}
	}
	message := func(row int) verdict.Verdict { return answerMatrix[row].Message }
	check := func(row int) verdict.Verdict { return answerMatrix[row].Check }
	webhook := func(row int) verdict.Verdict { return answerMatrix[row].Webhook }
	env := map[string]string{"CCX_API_TOKEN": cliToken}
	record := filepath.Join(t.TempDir(), "calls.ndjson")
	rec := `{"id":"r-1","method":"POST","path":"/message","header":{"Authorization":["Bearer aaax…casd"],"Content-Type":["application/json"]},"auth":"ok","type":"text","status":200,"body":"{\"channelId\":\"gfd8g7fd89dgfd\",\"contactId\":\"+60177872890\",\"message\":{\"type\":\"text\",\"text\":\"Hi\"}}"}` + "\n"
	if err := os.WriteFile(record, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}

	commands := []netCommand{
		{"send", webhook, func(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
			return runJSON(t, env, "send", "text", "hi", "--webhook-url", base+"/custom/channel/webhook/", "--channel-id", "gfd8g7fd89dgfd",
				"--contact-id", "+60177872890", "--json", "--retries", "0", "--timeout", to.String())
		}},
		{"trigger", message, func(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
			return runJSON(t, env, "trigger", "text", "hi", "--to", base, "--json", "--timeout", to.String())
		}},
		{"replay", message, func(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
			return runJSON(t, env, "replay", record, "--to", base, "--json", "--timeout", to.String(), "--rate", "0")
		}},
		{"check", check, func(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
			return runJSON(t, env, "check", base, "--channel-id", "gfd8g7fd89dgfd", "--json", "--timeout", to.String())
		}},
		{"listen --forward-to", message, runListenForward},
		{"emulate send", message, runEmulateSendAgainst},
		{"provider send", webhook, func(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
			return runJSON(t, nil, "provider", "send", "--provider", "clicksend", "--to", base+"/providers/clicksend/inbound", "--json", "--timeout", to.String(), "text", "hi")
		}},
		{"relay status --url", webhook, func(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
			return runJSON(t, nil, "relay", "status", "--url", base, "--json", "--timeout", to.String())
		}},
	}
	for _, c := range commands {
		for row, m := range answerMatrix {
			c, row := c, row
			t.Run(c.name+"/"+m.Answer, func(t *testing.T) {
				t.Parallel()
				want := c.family(row)
				to := 10 * time.Second
				if row == timeoutRow {
					to = 300 * time.Millisecond
				}
				code, got := c.run(t, bases[row], to)
				wantCode := exitFor(want)
				if c.name == "listen --forward-to" {
					wantCode = ExitOK // a server: the verdict is per call, the exit is its shutdown
				}
				if got != want || code != wantCode {
					t.Errorf("verdict %q exit %d, want %q exit %d (ccx help exit-codes)", got, code, want, wantCode)
				}
			})
		}
	}
}

// runListenForward puts `ccx listen --forward-to base --json` between a
// platform call and base, and reads the call's verdict from its NDJSON.
func runListenForward(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
	f, out, _ := testFactory(t, map[string]string{"CCX_API_TOKEN": cliToken})
	f.JSON = true
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	o := &ListenOptions{Host: "127.0.0.1", Path: "/message", ReplyStatus: 200, FailStatus: 500, MaxBody: 1 << 20, Grace: time.Second,
		ForwardTo: base + "/message", ForwardTimeout: to, ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- runListen(ctx, f, o) }()
	select {
	case addr := <-ready:
		post(t, addr, cliText)
	case err := <-done:
		cancel()
		t.Fatalf("listen: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not start")
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not stop")
	}
	var call struct {
		Verdict verdict.Verdict `json:"verdict"`
	}
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &call); jerr != nil {
		t.Errorf("listen --json: %v: %q", jerr, out)
	}
	return exitCode(err), call.Verdict
}

// runEmulateSendAgainst starts an emulator whose channel's API base URL is
// base and runs `ccx emulate send` through it.
func runEmulateSendAgainst(t *testing.T, base string, to time.Duration) (int, verdict.Verdict) {
	e, err := emulator.New(emulator.Options{
		Channels:        []emulator.Channel{{ID: "gfd8g7fd89dgfd", Token: cliToken, IDType: channel.IDPhone, APIBaseURL: base}},
		OutgoingTimeout: to,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	return runJSON(t, nil, "emulate", "send", "text", "hi", "--emulator", e.URL(), "--to", "+60177872890", "--json")
}

// `ccx help exit-codes` shows the codes, the verdicts and the table the
// contract test holds every command to.
func TestHelpExitCodesShowsTheTable(t *testing.T) {
	f, out, _ := testFactory(t, nil)
	if code := Run(context.Background(), f, []string{"help", "exit-codes"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	s := out.String()
	for _, c := range exitCodes {
		if !strings.Contains(s, fmt.Sprintf("  %-4d %s", c.Code, c.Meaning)) {
			t.Errorf("no exit code %d", c.Code)
		}
	}
	for _, e := range verdict.All {
		if !strings.Contains(s, fmt.Sprintf("  %-13s %-4d %s", e.Verdict, exitFor(e.Verdict), e.Meaning)) {
			t.Errorf("no verdict %s", e.Verdict)
		}
		if _, ok := verdictExit[e.Verdict]; !ok {
			t.Errorf("verdict %s has no exit code", e.Verdict)
		}
	}
	for _, r := range answerMatrix {
		if !strings.Contains(s, fmt.Sprintf("  %-27s %-17s", r.Answer, fmt.Sprintf("%s (%d)", r.Message, exitFor(r.Message)))) {
			t.Errorf("no row %q", r.Answer)
		}
	}
}
