package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/outgoing"
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
		}), []string{"auth-missing", "auth-wrong"}, nil, true},
		{"never answers", hang(t), []string{"text", "attachment", "location", "quick-reply", "custom-payload", "auth-missing", "auth-wrong", "bad-json", "unknown-type", "channel-mismatch"}, []string{}, false},
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
		}), []string{"text", "attachment", "location", "quick-reply", "custom-payload"}, nil, false},
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
		}), nil, []string{"auth-missing", "auth-wrong", "channel-mismatch"}, false},
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
