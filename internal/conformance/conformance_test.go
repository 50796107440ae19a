package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/tidwall/gjson"
)

const token = "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"

func run(t *testing.T, h http.Handler, opts Options) *Report {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.Client = &outgoing.Client{BaseURL: srv.URL, Token: token, Timeout: 300 * time.Millisecond}
	if opts.ChannelID == "" {
		opts.ChannelID = "gfd8g7fd89dgfd"
	}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func verdicts(rep *Report) map[string]Verdict {
	m := map[string]Verdict{}
	for _, r := range rep.Results {
		m[r.ID] = r.Verdict
	}
	return m
}

func result(rep *Report, id string) Result {
	for _, r := range rep.Results {
		if r.ID == id {
			return r
		}
	}
	return Result{}
}

// hang never answers until the test ends. (The body is read first: Go's
// server notices a client hang-up only once the body is consumed.)
func hang(t *testing.T) http.Handler {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
}

// A correct server: ccx's own listener.
func good() http.Handler {
	return listen.NewMux("/message", listen.NewHandler(listen.Options{Token: token, ChannelID: "gfd8g7fd89dgfd"}))
}

func TestGoodServerPassesEverything(t *testing.T) {
	rep := run(t, good(), Options{})
	if rep.Failed != 0 || rep.Warned != 0 || rep.Skipped != 0 || rep.Passed != len(Checks) {
		t.Fatalf("good server: %+v", rep)
	}
}

// each wrong server wraps the good one and breaks one thing.
func TestWrongServers(t *testing.T) {
	var n atomic.Int64
	tests := []struct {
		name     string
		h        http.Handler
		fail     []string
		warn     []string
		security bool
	}{
		{"accepts any token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			good().ServeHTTP(w, r)
		}), []string{"auth-missing", "auth-wrong", "auth-scheme"}, nil, true},
		{"never answers", hang(t), []string{"text", "attachment", "location", "quick-reply", "custom-payload", "auth-missing", "auth-wrong", "auth-scheme", "bad-json", "unknown-type", "missing-message", "missing-type", "missing-contact", "channel-mismatch"}, []string{}, false},
		{"500 on bad JSON", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if !gjson.ValidBytes(b) {
				w.WriteHeader(500)
				io.WriteString(w, "SyntaxError: Unexpected end of JSON input")
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			good().ServeHTTP(w, r)
		}), []string{"bad-json"}, nil, false},
		{"200 without mId", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if listen.CheckAuth(r.Header.Get("Authorization"), []byte(token)) != listen.AuthOK {
				listen.WriteError(w, 401, "unauthorized")
				return
			}
			b, _ := io.ReadAll(r.Body)
			if !gjson.ValidBytes(b) || gjson.GetBytes(b, "message.type").Str == "ccx_unknown_type" || strings.Contains(string(b), "not-yours") {
				listen.WriteError(w, 400, "bad")
				return
			}
			io.WriteString(w, `{"ok":true}`)
		}), []string{"text", "attachment", "location", "quick-reply", "custom-payload", "auth-scheme", "missing-message", "missing-type", "missing-contact"}, nil, false},
		{"duplicate mId", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			good().ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			if rec.Code == 200 {
				io.WriteString(w, `{"mId":"same-every-time"}`)
				return
			}
			w.Write(rec.Body.Bytes())
		}), []string{"mid-unique"}, nil, false},
		{"403 and no channel check", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if listen.CheckAuth(r.Header.Get("Authorization"), []byte(token)) != listen.AuthOK {
				listen.WriteError(w, 403, "forbidden")
				return
			}
			listen.NewHandler(listen.Options{Token: token}).ServeHTTP(w, r)
		}), nil, []string{"auth-missing", "auth-wrong", "auth-scheme", "channel-mismatch"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, tt.h, Options{})
			v := verdicts(rep)
			for _, id := range tt.fail {
				if v[id] != Fail {
					t.Errorf("%s: %s, want fail (%+v)", id, v[id], result(rep, id))
				}
			}
			for _, id := range tt.warn {
				if v[id] != Warn {
					t.Errorf("%s: %s, want warn (%+v)", id, v[id], result(rep, id))
				}
			}
			if rep.Failed != len(tt.fail) {
				t.Errorf("failed %d, want %d: %+v", rep.Failed, len(tt.fail), rep.Results)
			}
			sec := false
			for _, r := range rep.Results {
				sec = sec || r.Security
			}
			if sec != tt.security {
				t.Errorf("security flag %v, want %v", sec, tt.security)
			}
		})
	}
}

func TestHangIsReportedAsTimeout(t *testing.T) {
	rep := run(t, hang(t), Options{Only: []string{"text"}})
	r := result(rep, "text")
	if r.Verdict != Fail || !strings.Contains(r.Error, "timeout") || rep.Unreachable {
		t.Fatalf("%+v", r)
	}
}

func TestOnlySkipAndUnknown(t *testing.T) {
	rep := run(t, good(), Options{Only: []string{"auth-wrong", "mid-unique"}})
	if len(rep.Results) != 2 || rep.Results[0].ID != "mid-unique" || rep.Results[1].ID != "auth-wrong" || rep.Passed != 2 {
		t.Fatalf("%+v", rep.Results)
	}
	rep = run(t, good(), Options{Skip: []string{"channel-mismatch"}})
	if len(rep.Results) != len(Checks)-1 {
		t.Fatalf("skip: %d results", len(rep.Results))
	}
	if _, err := Run(context.Background(), Options{Client: &outgoing.Client{BaseURL: "http://x"}, Only: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "auth-wrong") {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	rep, err := Run(context.Background(), Options{Client: &outgoing.Client{BaseURL: srv.URL, Token: token}})
	if err != nil || !rep.Unreachable || rep.Failed == 0 {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestNoChannelIDSkipsMismatch(t *testing.T) {
	srv := httptest.NewServer(good())
	defer srv.Close()
	rep, _ := Run(context.Background(), Options{Client: &outgoing.Client{BaseURL: srv.URL, Token: token}, Only: []string{"channel-mismatch"}})
	if rep.Results[0].Verdict != Skip {
		t.Fatalf("%+v", rep.Results)
	}
}

// tokenServer answers like good() but decides auth with accept.
func tokenServer(accept func(h string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accept(r.Header.Get("Authorization")) {
			listen.WriteError(w, 401, "unauthorized")
			return
		}
		r.Header.Set("Authorization", "Bearer "+token)
		good().ServeHTTP(w, r)
	})
}

func TestAuthScheme(t *testing.T) {
	tests := []struct {
		name     string
		h        http.Handler
		want     Verdict
		security bool
		reason   string
	}{
		{"right", good(), Pass, false, ""},
		{"substring(7)", tokenServer(func(h string) bool { return len(h) > 7 && h[7:] == token }), Fail, true, `"Bearer:<token>": SECURITY`},
		{"includes", tokenServer(func(h string) bool { return strings.Contains(h, token) }), Fail, true, `"Token <token>": SECURITY`},
		{"case-sensitive scheme", tokenServer(func(h string) bool { return h == "Bearer "+token }), Fail, false, `"bearer <token>": refused with 401: the scheme is case-insensitive`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, tt.h, Options{Only: []string{"auth-scheme"}})
			r := result(rep, "auth-scheme")
			if r.Verdict != tt.want || r.Security != tt.security || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("%+v", r)
			}
			if strings.Contains(r.Request+r.Reason+r.Body, token) {
				t.Fatalf("token in the evidence: %+v", r)
			}
		})
	}
}

func TestMissingFields(t *testing.T) {
	ids := []string{"missing-message", "missing-type", "missing-contact"}
	rep := run(t, good(), Options{Only: ids})
	if rep.Passed != 3 {
		t.Fatalf("good server: %+v", rep.Results)
	}
	// A server that trusts the body: crashes on a missing field, or answers HTML.
	for _, tt := range []struct {
		name   string
		status int
		body   string
		reason string
	}{
		{"500", 500, "TypeError: Cannot read properties of undefined (reading 'type')", "server error 500"},
		{"html 400", 400, "<html><body>Bad Request</body></html>", `400 without {"error":{"message":...}}`},
		{"accepts", 200, `{"mId":"x"}`, "accepted with 200"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}), Options{Only: ids})
			for _, id := range ids {
				if r := result(rep, id); r.Verdict != Fail || !strings.Contains(r.Reason, tt.reason) {
					t.Errorf("%s: %+v", id, r)
				}
			}
		})
	}
	// What was sent lacks exactly the field.
	var bodies []string
	var mu sync.Mutex
	run(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		listen.WriteError(w, 400, "bad")
	}), Options{Only: ids})
	want := map[string]bool{"message": false, "message.type": false, "contactId": false}
	for _, b := range bodies {
		for path := range want {
			if !gjson.Get(b, path).Exists() {
				want[path] = true
			}
		}
	}
	for path, missing := range want {
		if !missing {
			t.Errorf("no body without %s: %q", path, bodies)
		}
	}
}

func TestEvery404IsNoRoute(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	rep, err := Run(context.Background(), Options{Client: &outgoing.Client{BaseURL: srv.URL + "/api/message", Token: token}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verdict.NoRoute || len(rep.Hints) == 0 || result(rep, "no-route").Verdict != Fail {
		t.Fatalf("%+v", rep)
	}
	h := rep.Hints[0]
	if !strings.Contains(h, srv.URL+"/api/message/message") || !strings.Contains(h, "try "+srv.URL+"/api") {
		t.Fatalf("hint %q", h)
	}
	// One route that exists is enough.
	rep = run(t, good(), Options{Only: []string{"no-route"}})
	if rep.Verdict != verdict.OK || result(rep, "no-route").Verdict != Pass {
		t.Fatalf("%+v", rep)
	}
}

func TestRateLimitIsNotAuth(t *testing.T) {
	rep := run(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		listen.WriteError(w, 429, "slow down")
	}), Options{})
	if rep.Verdict != verdict.RateLimited || rep.Failed != 0 {
		t.Fatalf("verdict %s, %d failed: %+v", rep.Verdict, rep.Failed, rep.Results)
	}
	for _, r := range rep.Results {
		if strings.Contains(r.Reason, "401") || strings.Contains(r.Reason, "bad or missing token") {
			t.Errorf("%s reported as an auth problem: %q", r.ID, r.Reason)
		}
		if r.Status == 429 && !strings.Contains(r.Reason, "rate limited (429, Retry-After 7)") {
			t.Errorf("%s: %q", r.ID, r.Reason)
		}
	}
	if len(rep.Hints) != 1 || !strings.Contains(rep.Hints[0], "rate-limited") {
		t.Fatalf("hints %q", rep.Hints)
	}
}

func TestWrongTokenIsOneAuthVerdict(t *testing.T) {
	rep := run(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listen.WriteError(w, 401, "invalid token")
	}), Options{})
	if rep.Verdict != verdict.Auth || len(rep.Hints) != 1 || !strings.Contains(rep.Hints[0], "token is probably wrong") {
		t.Fatalf("%s %q", rep.Verdict, rep.Hints)
	}
	// Only some refused: a failure, not a wrong token.
	rep = run(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if gjson.GetBytes(b, "message.type").Str == "location" {
			listen.WriteError(w, 401, "no")
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		good().ServeHTTP(w, r)
	}), Options{})
	if rep.Verdict != verdict.Failed {
		t.Fatalf("%s %q", rep.Verdict, rep.Hints)
	}
}

func TestContactSent(t *testing.T) {
	var got []string
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, gjson.GetBytes(b, "contactId").Str)
		mu.Unlock()
		listen.WriteError(w, 400, "bad")
	})
	rep := run(t, h, Options{Only: []string{"text"}})
	if rep.ContactID != TestContact || len(got) != 1 || got[0] != TestContact {
		t.Fatalf("%q %q", rep.ContactID, got)
	}
	got = nil
	rep = run(t, h, Options{Only: []string{"text"}, ContactID: "+60123456789"})
	if rep.ContactID != "+60123456789" || got[0] != "+60123456789" {
		t.Fatalf("%q %q", rep.ContactID, got)
	}
}
