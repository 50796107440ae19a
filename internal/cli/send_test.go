package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

// -update regenerates golden files. Registered only if another test file
// of the package has not already defined it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const testToken = "tok3n-SECRET-aaaxczsadzxcasdacxzcasd"

// sinkReq is what the recording server saw.
type sinkReq struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

type sink struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []sinkReq
	// answer picks the response for request n (0-based); nil: 200 {"ok":true}.
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newSink(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *sink {
	t.Helper()
	s := &sink{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, sinkReq{r.Method, r.URL.Path, r.Header.Clone(), b})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b)) // answer may read it again
		if s.answer != nil {
			s.answer(n, w, r)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []sinkReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkReq(nil), s.reqs...)
}

// cliEnv is one isolated ccx invocation context: its own config file and env.
type cliEnv struct {
	t     *testing.T
	env   map[string]string
	stdin string
	tty   bool
}

func newCLI(t *testing.T) *cliEnv {
	return &cliEnv{t: t, env: map[string]string{"CCX_CONFIG": filepath.Join(t.TempDir(), "ccx", "config.toml")}}
}

// withProfile writes a complete default profile pointing at url.
func (c *cliEnv) withProfile(url string) *cliEnv {
	c.t.Helper()
	f, err := config.Load(c.env["CCX_CONFIG"])
	if err != nil {
		c.t.Fatal(err)
	}
	f.Put("default", config.Profile{WebhookURL: url, ChannelID: "gfd8g7fd89dgfd", APIToken: testToken, IDType: "phone", ContactID: "+60177872890"})
	if err := f.Save(); err != nil {
		c.t.Fatal(err)
	}
	return c
}

type runResult struct {
	code           int
	stdout, stderr string
}

func (c *cliEnv) run(args ...string) runResult {
	c.t.Helper()
	io, in, out, errOut := ui.Test()
	in.WriteString(c.stdin)
	io.SetGetenv(func(k string) string { return c.env[k] })
	if c.tty {
		io.SetStdinTTY(true)
		io.SetStdoutTTY(true)
	}
	f := &Factory{IO: io}
	code := Run(context.Background(), f, args)
	return runResult{code, out.String(), errOut.String()}
}

func (r runResult) must(t *testing.T, code int) runResult {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

var fixed = []string{"--mid", "mid-0001", "--timestamp", "1732435200000"}

func TestSendGolden(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"text", []string{"text", "Hello World", "--first-name", "John", "--last-name", "Doe", "--email", "john@respond.io", "--phone", "+60177872890", "--country-code", "MY", "--language", "en", "--profile-pic", "https://x.test/p.jpg", "--locale", "en_US", "--timezone", "8"}},
		{"text-echo", []string{"text", "Sent from the provider's own app <b>&</b>", "--echo"}},
		{"attachment", []string{"attachment", "https://files.example.com/u/3f1c9e.jpg", "--kind", "image", "--mime", "image/jpeg", "--file-name", "photo.jpg", "--description", "photo.jpg"}},
		{"attachment-echo", []string{"attachment", "https://x.test/a.pdf", "--mime", "application/pdf", "--echo"}},
		{"location", []string{"location", "3.139003", "101.686855", "--address", "Kuala Lumpur, Malaysia"}},
		{"location-negative", []string{"location", "-33.86", "151.21"}},
		{"quick-reply", []string{"quick-reply", "How would you rate us?", "--reply", "Good", "--reply", "Okay", "--reply", "Bad"}},
		{"custom-payload", []string{"custom-payload", `{"card":{"title":"Hi"}}`}},
		{"receipt-delivered", []string{"receipt", "jfoewaifjaoif", "--status", "delivered", "--timestamp", "1732435200000"}},
		{"receipt-failed", []string{"receipt", "jfoewaifjaoif", "--status", "failed", "--reason", "Invalid token", "--timestamp", "1732435200000"}},
		{"file-set", []string{"file", "../../testdata/golden/send/input-file.json", "--set", "events.0.message.text=hi", "--set", "events.0.timestamp=1732435200001", "--set", `contact={"firstName":"Ann"}`, "--set-string", "events.0.mId=42"}},
		{"file-fill", []string{"file", "../../testdata/golden/send/input-nocontact.json", "--contact-id", "+60123456789"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, nil)
			c := newCLI(t).withProfile(s.URL + "/custom/channel/webhook/")
			args := append([]string{"send"}, tc.args...)
			if !strings.HasPrefix(tc.name, "receipt") && !strings.HasPrefix(tc.name, "file") {
				args = append(args, fixed...)
			}
			r := c.run(args...).must(t, 0)
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			req := reqs[0]
			if req.Method != "POST" || req.Path != "/custom/channel/webhook/" {
				t.Errorf("%s %s", req.Method, req.Path)
			}
			if got := req.Header.Get("Authorization"); got != "Bearer "+testToken {
				t.Errorf("authorization %q", got)
			}
			if req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(req.Header.Get("User-Agent"), "ccx/") {
				t.Errorf("headers %v", req.Header)
			}
			golden(t, filepath.Join("../../testdata/golden/send", tc.name+".json"), req.Body)
			if !strings.Contains(r.stdout, "sent ") {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateGolden() {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli/ -run TestSendGolden -update)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), got) {
		t.Errorf("body differs from %s:\n got %s\nwant %s", path, got, want)
	}
}

func TestSendJSONResult(t *testing.T) {
	s := newSink(t, nil)
	r := newCLI(t).withProfile(s.URL).run(append([]string{"send", "text", "hi", "--json"}, fixed...)...).must(t, 0)
	var res map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout is not one JSON object: %q", r.stdout)
	}
	if res["ok"] != true || res["status"] != 200.0 || res["mId"] != "mid-0001" || res["attempts"] != 1.0 || res["event"] != "message text" {
		t.Errorf("result %v", res)
	}
	if b, _ := json.Marshal(res["body"]); string(b) != `{"ok":true}` {
		t.Errorf("body %s", b)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestSendRetriesThenSucceeds(t *testing.T) {
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			w.WriteHeader([]int{503, 429}[n])
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	r := newCLI(t).withProfile(s.URL).run("send", "text", "hi", "--json", "--retry-backoff", "1ms").must(t, 0)
	if !strings.Contains(r.stdout, `"attempts":3`) || len(s.requests()) != 3 {
		t.Errorf("stdout %s, %d requests", r.stdout, len(s.requests()))
	}
	// Every attempt carries the same body (same mId).
	reqs := s.requests()
	if !bytes.Equal(reqs[0].Body, reqs[2].Body) {
		t.Error("retry changed the body")
	}
}

func TestSendRejectedNoRetry(t *testing.T) {
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":{"message":"contactId is invalid"}}`))
	})
	r := newCLI(t).withProfile(s.URL).run("send", "text", "hi").must(t, ExitFailure)
	if len(s.requests()) != 1 {
		t.Errorf("%d requests for a 400", len(s.requests()))
	}
	if !strings.Contains(r.stderr, "400 Bad Request") || !strings.Contains(r.stderr, "contactId is invalid") {
		t.Errorf("stderr %q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestSendAuthRejected(t *testing.T) {
	for _, st := range []int{401, 403} {
		s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(st)
			// A careless server echoing the header: the token must still not show.
			_, _ = w.Write([]byte("bad token: " + r.Header.Get("Authorization")))
		})
		r := newCLI(t).withProfile(s.URL).run("send", "text", "hi").must(t, ExitAuth)
		if !strings.Contains(r.stderr, "ccx config") || !strings.Contains(r.stderr, "API token") {
			t.Errorf("%d: stderr %q", st, r.stderr)
		}
		if strings.Contains(r.stderr+r.stdout, testToken) {
			t.Errorf("%d: token leaked: %q", st, r.stderr)
		}
	}
}

func TestSendNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := newCLI(t).withProfile(url).run("send", "text", "hi", "--retries", "1", "--retry-backoff", "1ms").must(t, ExitIO)
	if !strings.Contains(r.stderr, "no response") || !strings.Contains(r.stderr, "2 attempts") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = newCLI(t).withProfile(url).run("send", "text", "hi", "--retries", "0", "--json").must(t, ExitIO)
	if !strings.Contains(r.stdout, `"ok":false`) || !strings.Contains(r.stdout, `"attempts":1`) {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestSendBulk(t *testing.T) {
	s := newSink(t, nil)
	r := newCLI(t).withProfile(s.URL).run("send", "text", "hi", "--count", "50", "--rate", "0", "--concurrency", "4", "--json").must(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 51 {
		t.Fatalf("%d NDJSON lines, want 50 results + 1 summary", len(lines))
	}
	mids := map[string]bool{}
	seqs := map[float64]bool{}
	for _, l := range lines[:50] {
		var res map[string]any
		if err := json.Unmarshal([]byte(l), &res); err != nil || res["type"] != "result" || res["ok"] != true {
			t.Fatalf("line %q", l)
		}
		mids[res["mId"].(string)] = true
		seqs[res["seq"].(float64)] = true
	}
	var sum map[string]any
	_ = json.Unmarshal([]byte(lines[50]), &sum)
	if sum["type"] != "summary" || sum["sent"] != 50.0 || sum["failed"] != 0.0 || sum["requested"] != 50.0 {
		t.Errorf("summary %v", sum)
	}
	reqs := s.requests()
	bodyMIDs := map[string]bool{}
	for _, q := range reqs {
		var w struct {
			Events []struct {
				MID       string `json:"mId"`
				Timestamp int64  `json:"timestamp"`
			} `json:"events"`
		}
		if err := json.Unmarshal(q.Body, &w); err != nil || len(w.Events) != 1 || w.Events[0].Timestamp < 1e12 {
			t.Fatalf("body %s", q.Body)
		}
		bodyMIDs[w.Events[0].MID] = true
	}
	if len(reqs) != 50 || len(bodyMIDs) != 50 || len(mids) != 50 || len(seqs) != 50 {
		t.Errorf("requests=%d distinct body mIds=%d result mIds=%d seqs=%d", len(reqs), len(bodyMIDs), len(mids), len(seqs))
	}
	for m := range mids {
		if !bodyMIDs[m] {
			t.Errorf("reported mId %s was not sent", m)
		}
	}
}

func TestSendBulkHumanSummaryAndMIDPrefix(t *testing.T) {
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); bytes.Contains(b, []byte(`"run-7"`)) {
			w.WriteHeader(500)
		}
	})
	r := newCLI(t).withProfile(s.URL).run("send", "text", "hi", "--count", "10", "--rate", "0", "--mid", "run", "--retries", "0").must(t, ExitFailure)
	if !strings.Contains(r.stdout, "sent 9 of 10") || !strings.Contains(r.stdout, "failed 1 (500: 1)") || !strings.Contains(r.stdout, "latency p50") {
		t.Errorf("stdout %q", r.stdout)
	}
	seen := map[string]bool{}
	for _, q := range s.requests() {
		var w struct{ Events []struct{ MID string } }
		_ = json.Unmarshal(q.Body, &w)
		seen[w.Events[0].MID] = true
	}
	for i := 1; i <= 10; i++ {
		if !seen[fmt.Sprintf("run-%d", i)] {
			t.Errorf("mId run-%d not sent (%v)", i, seen)
		}
	}
	// No progress bar without a terminal.
	if strings.Contains(r.stderr, "[=") {
		t.Errorf("progress bar on a non-TTY stderr: %q", r.stderr)
	}
}

func TestSendBulkStopsOnAuth(t *testing.T) {
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
	r := newCLI(t).withProfile(s.URL).run("send", "text", "hi", "--count", "1000", "--rate", "0", "--concurrency", "2").must(t, ExitAuth)
	if n := len(s.requests()); n > 10 {
		t.Errorf("%d requests after a 401; the run should stop", n)
	}
	if !strings.Contains(r.stderr, "rejected the credentials") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestSendPrecedence(t *testing.T) {
	s := newSink(t, nil)
	c := newCLI(t).withProfile(s.URL)
	body := func() string {
		reqs := s.requests()
		return string(reqs[len(reqs)-1].Body)
	}
	c.run("send", "text", "hi").must(t, 0)
	if !strings.Contains(body(), `"channelId":"gfd8g7fd89dgfd"`) || !strings.Contains(body(), `"contactId":"+60177872890"`) {
		t.Errorf("profile: %s", body())
	}
	c.env["CCX_CHANNEL_ID"] = "envchannel"
	c.env["CCX_CONTACT_ID"] = "+60111111111"
	c.run("send", "text", "hi").must(t, 0)
	if !strings.Contains(body(), `"channelId":"envchannel"`) || !strings.Contains(body(), `"contactId":"+60111111111"`) {
		t.Errorf("env: %s", body())
	}
	c.run("send", "text", "hi", "--channel-id", "flagchannel", "--contact-id", "+60222222222").must(t, 0)
	if !strings.Contains(body(), `"channelId":"flagchannel"`) || !strings.Contains(body(), `"contactId":"+60222222222"`) {
		t.Errorf("flag: %s", body())
	}
	// The env token overrides the profile's; a wrong webhook URL in env loses to the flag.
	c.env["CCX_API_TOKEN"] = "env-token-0123456789abcdef"
	c.env["CCX_WEBHOOK_URL"] = "http://127.0.0.1:1/never"
	c.run("send", "text", "hi", "--webhook-url", s.URL+"/flag").must(t, 0)
	last := s.requests()[len(s.requests())-1]
	if last.Path != "/flag" || last.Header.Get("Authorization") != "Bearer env-token-0123456789abcdef" {
		t.Errorf("path %s auth %s", last.Path, last.Header.Get("Authorization"))
	}
	// CCX_PROFILE naming a missing profile is a usage error.
	c.env["CCX_PROFILE"] = "nope"
	c.run("send", "text", "hi").must(t, ExitUsage)
}

func TestSendMissingSettings(t *testing.T) {
	c := newCLI(t)
	r := c.run("send", "text", "hi").must(t, ExitUsage)
	for _, want := range []string{"--webhook-url", "CCX_WEBHOOK_URL", "ccx config set webhook_url", "ccx init"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	c.env["CCX_WEBHOOK_URL"] = "http://127.0.0.1:1/"
	c.env["CCX_API_TOKEN"] = testToken
	c.env["CCX_CHANNEL_ID"] = "c"
	r = c.run("send", "text", "hi").must(t, ExitUsage)
	if !strings.Contains(r.stderr, "--contact-id") || !strings.Contains(r.stderr, "CCX_CONTACT_ID") {
		t.Errorf("stderr %q", r.stderr)
	}
	c.env["CCX_WEBHOOK_URL"] = "not a url"
	c.run("send", "text", "hi", "--contact-id", "x").must(t, ExitUsage)
	c.env["CCX_WEBHOOK_URL"] = "http://127.0.0.1:1/"
	c.env["CCX_ID_TYPE"] = "email"
	r = c.run("send", "text", "hi", "--contact-id", "x").must(t, ExitUsage)
	if !strings.Contains(r.stderr, "id_type") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestSendValidation(t *testing.T) {
	s := newSink(t, nil)
	c := newCLI(t).withProfile(s.URL)
	r := c.run("send", "text", "hi", "--contact-id", "60177872890").must(t, ExitFailure)
	if len(s.requests()) != 0 {
		t.Fatal("an invalid payload was sent")
	}
	if !strings.Contains(r.stderr, "contactId:1:") || !strings.Contains(r.stderr, "contact-id-format") || !strings.Contains(r.stderr, "--no-validate") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = c.run("send", "text", "hi", "--contact-id", "60177872890", "--json").must(t, ExitFailure)
	var out struct {
		OK       bool
		Findings []struct{ Rule, Path string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.OK || len(out.Findings) == 0 || out.Findings[0].Path != "contactId" {
		t.Errorf("stdout %q", r.stdout)
	}
	c.run("send", "text", "hi", "--contact-id", "60177872890", "--no-validate").must(t, 0)
	if len(s.requests()) != 1 || !strings.Contains(string(s.requests()[0].Body), `"contactId":"60177872890"`) {
		t.Errorf("--no-validate did not send the payload as built")
	}
}

func TestSendDryRun(t *testing.T) {
	s := newSink(t, nil)
	c := newCLI(t).withProfile(s.URL)
	r := c.run(append([]string{"send", "text", "it's", "--dry-run"}, fixed...)...).must(t, 0)
	if len(s.requests()) != 0 {
		t.Fatal("dry run sent a request")
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &payload); err != nil || payload["channelId"] != "gfd8g7fd89dgfd" {
		t.Fatalf("stdout is not the payload: %q", r.stdout)
	}
	for _, want := range []string{"curl -sS -X POST '" + s.URL + "'", "content-type: application/json", `'\''`, "--data-raw"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, `-H 'authorization: Bearer '"$CCX_API_TOKEN"`) || strings.Contains(r.stderr, testToken) {
		t.Errorf("the curl does not read the token from $CCX_API_TOKEN: %s", r.stderr)
	}
	r = c.run("send", "text", "hi", "--dry-run", "--show-token").must(t, 0)
	if !strings.Contains(r.stderr, "Bearer "+testToken) {
		t.Errorf("--show-token did not show the token: %s", r.stderr)
	}
	r = c.run("send", "text", "hi", "--dry-run", "--json", "--count", "3").must(t, 0)
	var dj struct {
		DryRun  bool
		Count   int
		Payload map[string]any
		Headers map[string]string
		Curl    string
	}
	if err := json.Unmarshal([]byte(r.stdout), &dj); err != nil || !dj.DryRun || dj.Count != 3 || dj.Payload["contactId"] != "+60177872890" || dj.Headers["authorization"] != "Bearer "+ui.Redact(testToken) {
		t.Errorf("dry-run json %q", r.stdout)
	}
	// Dry run needs neither a token nor a webhook URL.
	r = newCLI(t).run("send", "text", "hi", "--dry-run", "--channel-id", "c", "--contact-id", "+60177872890").must(t, 0)
	if !strings.Contains(r.stderr, "<webhook URL>") || !strings.Contains(r.stderr, `Bearer '"$CCX_API_TOKEN"`) {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestSendFileErrors(t *testing.T) {
	s := newSink(t, nil)
	c := newCLI(t).withProfile(s.URL)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(notJSON, []byte("{\"channelId\": \"x\",\n  oops}"), 0o644)
	good := "../../testdata/golden/send/input-file.json"

	r := c.run("send", "file", filepath.Join(dir, "missing.json")).must(t, ExitIO)
	if !strings.Contains(r.stderr, "cannot read payload") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = c.run("send", "file", notJSON).must(t, ExitFailure)
	if !strings.Contains(r.stderr, "json-syntax") {
		t.Errorf("stderr %q", r.stderr)
	}
	c.run("send", "file", notJSON, "--set", "a=1").must(t, ExitUsage)
	for _, bad := range [][]string{
		{"--set", "noequals"},
		{"--set", "=1"},
		{"--set", "events..x=1"},
		{"--set", "events.#.mId=1"},
		{"--set", "events.*=1"},
		{"--set-string", ".a=1"},
		{"--count", "0"},
		{"--rate", "-1"},
		{"--concurrency", "0"},
		{"--timeout", "0s"},
		{"--timezone", "abc"},
		{"--nope"},
	} {
		r := c.run(append([]string{"send", "file", good}, bad...)...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want 2", bad, r.code, r.stderr)
		}
	}
	if len(s.requests()) != 0 {
		t.Errorf("%d requests from bad invocations", len(s.requests()))
	}
	// stdin works, and JSON literal vs string values.
	c.stdin = `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","events":[{"type":"message","mId":"a","timestamp":1732435200000,"message":{"type":"text","text":"x"}}]}`
	c.run("send", "file", "-", "--set", "events.0.message.text=42", "--no-validate").must(t, 0)
	if !strings.Contains(string(s.requests()[0].Body), `"text":42`) {
		t.Errorf("body %s", s.requests()[0].Body)
	}
	c.run("send", "file", "-", "--set-string", "events.0.message.text=42").must(t, 0)
	if !strings.Contains(string(s.requests()[1].Body), `"text":"42"`) {
		t.Errorf("body %s", s.requests()[1].Body)
	}
}

func TestSendFileBulkFreshMIDs(t *testing.T) {
	s := newSink(t, nil)
	c := newCLI(t).withProfile(s.URL)
	c.run("send", "file", "../../testdata/golden/send/input-file.json", "--count", "5", "--rate", "0").must(t, 0)
	seen := map[string]bool{}
	for _, q := range s.requests() {
		var w struct{ Events []struct{ MID string } }
		_ = json.Unmarshal(q.Body, &w)
		seen[w.Events[0].MID] = true
	}
	if len(seen) != 5 {
		t.Errorf("%d distinct mIds in 5 requests", len(seen))
	}
}

func TestSendUsageErrors(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"send"},
		{"send", "receipt", "m"},
		{"send", "receipt", "m", "--status", "lost"},
		{"send", "receipt", "m", "--status", "read", "--mid", "x"},
		{"send", "text"},
		{"send", "text", "hi", "--mid", strings.Repeat("m", 51)},
		{"send", "attachment", "https://x", "--kind", "gif"},
	} {
		if r := c.run(args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
}

// Every mode's full output must be free of the token.
func TestNoTokenInOutput(t *testing.T) {
	ok := newSink(t, nil)
	echo := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader([]int{401, 400, 500}[n%3])
		_, _ = w.Write([]byte(`{"echo":"` + r.Header.Get("Authorization") + `"}`))
	})
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	runs := [][]string{
		{"send", "text", "hi"},
		{"send", "text", "hi", "--json"},
		{"send", "text", "hi", "--dry-run"},
		{"send", "text", "hi", "--dry-run", "--json"},
		{"send", "text", "hi", "--count", "3", "--rate", "0"},
		{"send", "text", "hi", "--count", "3", "--rate", "0", "--json"},
		{"send", "text", "hi", "--contact-id", "bad"},
		{"send", "text", "hi", "--webhook-url", echo.URL},
		{"send", "text", "hi", "--webhook-url", echo.URL, "--json", "--retries", "0"},
		{"send", "text", "hi", "--webhook-url", echo.URL, "--count", "6", "--json", "--rate", "0", "--retries", "0"},
		{"send", "text", "hi", "--webhook-url", echo.URL, "--count", "6", "--rate", "0", "--retries", "0"},
		{"send", "text", "hi", "--webhook-url", downURL, "--retries", "0"},
		{"send", "text", "hi", "--webhook-url", downURL + "/" + testToken, "--retries", "0", "--json"},
		{"send", "receipt", "m", "--status", "read", "--dry-run"},
		{"send", "file", "-", "--dry-run"},
		{"config", "list"},
		{"config", "list", "--json"},
		{"config", "get", "api_token"},
		{"config", "get", "api_token", "--json"},
		{"config", "set", "api_token", testToken},
		{"config", "set", "api_token", testToken + " x"},
		{"init", "--channel-id", "c", "--token", testToken, "--webhook-url", "http://127.0.0.1:1/", "--id-type", "phone", "--name", "other"},
		{"init", "--channel-id", "c", "--token", testToken, "--webhook-url", "nope", "--id-type", "phone", "--name", "other"},
		{"init", "--token", testToken},
	}
	for _, args := range runs {
		c := newCLI(t).withProfile(ok.URL)
		c.stdin = `{"channelId":"c","contactId":"+60177872890","events":[]}`
		r := c.run(args...)
		if strings.Contains(r.stdout, testToken) || strings.Contains(r.stderr, testToken) {
			t.Errorf("%v leaked the token (exit %d):\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestSendClientOptions(t *testing.T) {
	var got []platformOpts
	for _, args := range [][]string{
		{},
		{"--rate", "0", "--retries", "0", "--concurrency", "16", "--timeout", "2s"},
		{"--rate", "5.5", "--retries", "7"},
	} {
		f := &Factory{}
		f.IO, _, _, _ = ui.Test()
		f.IO.SetGetenv(func(k string) string {
			if k == "CCX_CONFIG" {
				return filepath.Join(t.TempDir(), "c.toml")
			}
			return ""
		})
		o := optionsOf(t, newSendCmd(f), args)
		po := o.clientOptions(config.Profile{WebhookURL: "http://h", APIToken: "t"})
		got = append(got, platformOpts{po.RateLimit, po.MaxRetries, po.Concurrency, po.Timeout.String()})
	}
	want := []platformOpts{{20, 3, 4, "10s"}, {0, -1, 16, "2s"}, {5.5, 7, 4, "10s"}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("case %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

type platformOpts struct {
	rate        float64
	retries     int
	concurrency int
	timeout     string
}

// optionsOf runs the text subcommand with a stubbed sender to capture options.
func optionsOf(t *testing.T, cmd *cobra.Command, args []string) *sendOptions {
	t.Helper()
	var captured *sendOptions
	sendHook = func(o *sendOptions) { captured = o }
	defer func() { sendHook = nil }()
	cmd.SetArgs(append([]string{"text", "hi", "--dry-run", "--channel-id", "c", "--contact-id", "+60177872890"}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if captured == nil {
		t.Fatal("send hook not called")
	}
	return captured
}

func TestSendProgressOnlyOnTTY(t *testing.T) {
	s := newSink(t, nil)
	c := newCLI(t).withProfile(s.URL)
	io, _, out, errOut := ui.Test()
	io.SetGetenv(func(k string) string { return c.env[k] })
	io.SetStderrTTY(true)
	code := Run(context.Background(), &Factory{IO: io}, []string{"send", "text", "hi", "--count", "20", "--rate", "0"})
	if code != 0 || !strings.Contains(errOut.String(), "100% [") || !strings.Contains(errOut.String(), "(20/20") || strings.Contains(out.String(), "[=") {
		t.Errorf("code %d\nstdout %q\nstderr %q", code, out.String(), errOut.String())
	}
}

func TestSendInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 3 {
			cancel()
		}
	})
	c := newCLI(t).withProfile(s.URL)
	io, _, _, _ := ui.Test()
	io.SetGetenv(func(k string) string { return c.env[k] })
	code := Run(ctx, &Factory{IO: io}, []string{"send", "text", "hi", "--count", "1000", "--rate", "0", "--concurrency", "1"})
	if code != ExitInterrupted || len(s.requests()) > 10 {
		t.Errorf("code %d after %d requests", code, len(s.requests()))
	}
}

func TestSendBulkReceiptKeepsMID(t *testing.T) {
	s := newSink(t, nil)
	r := newCLI(t).withProfile(s.URL).run("send", "receipt", "m-9", "--status", "read", "--count", "3", "--rate", "0", "--json").must(t, 0)
	if strings.Count(r.stdout, `"mId":"m-9"`) != 3 {
		t.Errorf("stdout %s", r.stdout)
	}
	for _, q := range s.requests() {
		if !strings.Contains(string(q.Body), `"mId":"m-9"`) {
			t.Errorf("body %s", q.Body)
		}
	}
}
