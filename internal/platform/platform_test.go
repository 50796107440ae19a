package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock advances only when the client sleeps, and records every sleep.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
	return ctx.Err()
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

type recorded struct {
	header http.Header
	body   string
	method string
}

// server answers with the scripted statuses in turn (the last one repeats).
func server(t *testing.T, statuses []int, extra func(w http.ResponseWriter, n int)) (*httptest.Server, *[]recorded) {
	t.Helper()
	var mu sync.Mutex
	var got []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(got)
		got = append(got, recorded{header: r.Header.Clone(), body: string(b), method: r.Method})
		mu.Unlock()
		if extra != nil {
			extra(w, n)
		}
		st := statuses[min(n, len(statuses)-1)]
		w.WriteHeader(st)
		_, _ = w.Write([]byte(`{"n":` + string(rune('0'+n)) + `}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestPostHeadersAndBody(t *testing.T) {
	srv, got := server(t, []int{200}, nil)
	c := New(Options{WebhookURL: srv.URL + "/custom/channel/webhook/", Token: "tok-123", UserAgent: "ccx/test"})
	res, err := c.Post(context.Background(), []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || res.Attempts != 1 || string(res.Body) != `{"n":0}` || res.Latency <= 0 {
		t.Fatalf("result = %+v", res)
	}
	r := (*got)[0]
	for k, want := range map[string]string{
		"Authorization": "Bearer tok-123",
		"Content-Type":  "application/json",
		"Cache-Control": "no-cache",
		"User-Agent":    "ccx/test",
	} {
		if g := r.header.Get(k); g != want {
			t.Errorf("%s = %q, want %q", k, g, want)
		}
	}
	if r.method != "POST" || r.body != `{"a":1}` {
		t.Errorf("got %s %s", r.method, r.body)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	srv, got := server(t, []int{200}, nil)
	if _, err := New(Options{WebhookURL: srv.URL, Token: "x"}).Post(context.Background(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if ua := (*got)[0].header.Get("User-Agent"); !strings.HasPrefix(ua, "ccx/") {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestRetryOn429And5xxWithRetryAfter(t *testing.T) {
	clk := newFakeClock()
	srv, got := server(t, []int{429, 503, 502, 200}, func(w http.ResponseWriter, n int) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "2")
		case 1:
			// An HTTP-date 5 seconds after the fake clock's now.
			w.Header().Set("Retry-After", clk.Now().Add(5*time.Second).UTC().Format(http.TimeFormat))
		}
	})
	c := New(Options{WebhookURL: srv.URL, Token: "t", Clock: clk.Now, Sleep: clk.Sleep, Backoff: 100 * time.Millisecond})
	res, err := c.Post(context.Background(), []byte(`{"x":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 4 || res.Status != 200 || len(*got) != 4 {
		t.Fatalf("attempts=%d status=%d requests=%d", res.Attempts, res.Status, len(*got))
	}
	for _, r := range *got {
		if r.body != `{"x":true}` {
			t.Errorf("retry body = %q", r.body)
		}
	}
	s := clk.Sleeps()
	if len(s) != 3 || s[0] != 2*time.Second || s[1] != 5*time.Second {
		t.Fatalf("sleeps = %v, want [2s 5s <jittered backoff>]", s)
	}
	// Third retry: no Retry-After, so base·2^2 = 400ms with jitter in [200ms, 400ms].
	if s[2] < 200*time.Millisecond || s[2] > 400*time.Millisecond {
		t.Errorf("backoff %v outside [200ms, 400ms]", s[2])
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	clk := newFakeClock()
	srv, _ := server(t, []int{429, 200}, func(w http.ResponseWriter, n int) { w.Header().Set("Retry-After", "3600") })
	c := New(Options{WebhookURL: srv.URL, Token: "t", Clock: clk.Now, Sleep: clk.Sleep, MaxBackoff: 7 * time.Second})
	if _, err := c.Post(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if s := clk.Sleeps(); len(s) != 1 || s[0] != 7*time.Second {
		t.Fatalf("sleeps = %v, want [7s]", s)
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	for _, st := range []int{400, 401, 403, 404, 422} {
		clk := newFakeClock()
		srv, got := server(t, []int{st, 200}, nil)
		c := New(Options{WebhookURL: srv.URL, Token: "t", Clock: clk.Now, Sleep: clk.Sleep})
		res, err := c.Post(context.Background(), []byte(`{}`))
		var se *StatusError
		if !errors.As(err, &se) {
			t.Fatalf("%d: err = %v", st, err)
		}
		if res == nil || res.Status != st || res.Attempts != 1 || len(*got) != 1 || len(clk.Sleeps()) != 0 {
			t.Fatalf("%d: res=%+v requests=%d sleeps=%v", st, res, len(*got), clk.Sleeps())
		}
		if se.IsAuth() != (st == 401 || st == 403) {
			t.Errorf("%d: IsAuth = %v", st, se.IsAuth())
		}
		if !strings.Contains(se.Error(), `{"n":0}`) || !strings.Contains(se.Error(), http.StatusText(st)) {
			t.Errorf("%d: error %q lacks the body or status text", st, se.Error())
		}
	}
}

func TestRetriesExhausted(t *testing.T) {
	clk := newFakeClock()
	srv, got := server(t, []int{500}, nil)
	c := New(Options{WebhookURL: srv.URL, Token: "t", Clock: clk.Now, Sleep: clk.Sleep, MaxRetries: 2})
	res, err := c.Post(context.Background(), nil)
	var se *StatusError
	if !errors.As(err, &se) || res == nil || res.Attempts != 3 || len(*got) != 3 {
		t.Fatalf("err=%v res=%+v requests=%d", err, res, len(*got))
	}
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("error = %q", err)
	}
	// Exponential: base 250ms, then 500ms, each jittered into [d/2, d].
	s := clk.Sleeps()
	if len(s) != 2 || s[0] < 125*time.Millisecond || s[0] > 250*time.Millisecond || s[1] < 250*time.Millisecond || s[1] > 500*time.Millisecond {
		t.Errorf("sleeps = %v", s)
	}
}

func TestNoRetriesWhenNegative(t *testing.T) {
	clk := newFakeClock()
	srv, got := server(t, []int{503}, nil)
	c := New(Options{WebhookURL: srv.URL, Token: "t", Clock: clk.Now, Sleep: clk.Sleep, MaxRetries: -1})
	res, err := c.Post(context.Background(), nil)
	if err == nil || res.Attempts != 1 || len(*got) != 1 {
		t.Fatalf("err=%v attempts=%d requests=%d", err, res.Attempts, len(*got))
	}
}

func TestNetworkErrorRetriedThenReported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more: connection refused
	clk := newFakeClock()
	c := New(Options{WebhookURL: url, Token: "t", Clock: clk.Now, Sleep: clk.Sleep, MaxRetries: 2})
	res, err := c.Post(context.Background(), []byte(`{}`))
	var ne *NetworkError
	if !errors.As(err, &ne) || res != nil {
		t.Fatalf("err=%v res=%v", err, res)
	}
	if ne.Attempts != 3 || len(clk.Sleeps()) != 2 {
		t.Errorf("attempts=%d sleeps=%v", ne.Attempts, clk.Sleeps())
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{WebhookURL: srv.URL, Token: "t", Timeout: 20 * time.Millisecond, MaxRetries: -1})
	_, err := c.Post(context.Background(), nil)
	var ne *NetworkError
	if !errors.As(err, &ne) || !IsTimeout(err) {
		t.Fatalf("err = %v, want a timeout NetworkError", err)
	}
}

func TestCancelledContext(t *testing.T) {
	srv, got := server(t, []int{200}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{WebhookURL: srv.URL, Token: "t"}).Post(ctx, nil)
	if !errors.Is(err, context.Canceled) || len(*got) != 0 {
		t.Fatalf("err=%v requests=%d", err, len(*got))
	}
}

// The limiter spaces requests 1/rate apart: with a fake clock, N requests at
// R/s sleep exactly N-1 times, 1/R each (burst 1, no bunching at the start).
func TestRateLimitSpacing(t *testing.T) {
	clk := newFakeClock()
	srv, got := server(t, []int{200}, nil)
	c := New(Options{WebhookURL: srv.URL, Token: "t", RateLimit: 20, Clock: clk.Now, Sleep: clk.Sleep})
	for i := 0; i < 10; i++ {
		if _, err := c.Post(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	s := clk.Sleeps()
	if len(s) != 9 || len(*got) != 10 {
		t.Fatalf("sleeps=%v requests=%d", s, len(*got))
	}
	var total time.Duration
	for _, d := range s {
		if d != 50*time.Millisecond {
			t.Errorf("sleep %v, want 50ms", d)
		}
		total += d
	}
	if total != 450*time.Millisecond {
		t.Errorf("total wait %v, want 450ms", total)
	}
}

func TestRateLimitConcurrentTokens(t *testing.T) {
	// Concurrent callers share one limiter: 40 posts at 8/s reserve
	// distinct slots, so the fake clock ends exactly 39/8 s later.
	clk := newFakeClock()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	c := New(Options{WebhookURL: srv.URL, Token: "t", RateLimit: 8, Clock: clk.Now, Sleep: clk.Sleep})
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Post(context.Background(), nil)
		}()
	}
	wg.Wait()
	if n.Load() != 40 {
		t.Fatalf("requests = %d", n.Load())
	}
	var max time.Duration
	for _, d := range clk.Sleeps() {
		max = maxDur(max, d)
	}
	// The reservations queue up: the longest single wait is for the 40th
	// slot, at most 39/8 s = 4.875s after the first (the fake clock also
	// advances with each sleep, so waits can only be shorter).
	if max > 4875*time.Millisecond {
		t.Errorf("longest wait %v > 4.875s", max)
	}
	if len(clk.Sleeps()) < 39 {
		t.Errorf("only %d waits for 40 requests at 8/s", len(clk.Sleeps()))
	}
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := New(Options{WebhookURL: srv.URL, Token: "t"})
	for i := 0; i < 20; i++ {
		if _, err := c.Post(context.Background(), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if conns.Load() > 1 {
		t.Errorf("%d connections for 20 sequential posts, want 1", conns.Load())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-3":                            0,
		"7":                             7 * time.Second,
		" 12 ":                          12 * time.Second,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0, // in the past
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSnippet(t *testing.T) {
	if got := Snippet([]byte("  {\"error\":\n  {\"message\": \"bad\"}}\x00 "), 500); got != `{"error": {"message": "bad"}}` {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("é", 400) // 800 bytes
	got := Snippet([]byte(long), 101)
	if !strings.HasSuffix(got, "(700 more bytes)") || !strings.HasPrefix(got, strings.Repeat("é", 50)+" …") {
		t.Errorf("got %q", got)
	}
	if Snippet(nil, 10) != "" {
		t.Error("empty body should give empty snippet")
	}
}

func TestRetriesAreReportedAsTheyHappen(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		switch n {
		case 1:
			w.WriteHeader(429)
		case 2:
			w.WriteHeader(503)
		default:
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	var seen []Retry
	c := New(Options{WebhookURL: srv.URL, Backoff: time.Millisecond, OnRetry: func(r Retry) { seen = append(seen, r) }})
	res, err := c.Post(context.Background(), []byte(`{}`))
	if err != nil || res.Attempts != 3 || strings.Join(res.Retried, ",") != "429,503" {
		t.Fatalf("%+v %v", res, err)
	}
	if len(seen) != 2 || seen[0].Attempt != 2 || seen[0].MaxAttempts != 4 || seen[0].Reason != "429" || seen[1].Reason != "503" {
		t.Fatalf("%+v", seen)
	}
}

// A 200 web page is not the platform: a wrong webhook URL must not look sent.
func TestHTMLAnswerIsNotAccepted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><body>Welcome</body></html>`))
	}))
	defer srv.Close()
	_, err := New(Options{WebhookURL: srv.URL}).Post(context.Background(), []byte(`{}`))
	var se *StatusError
	if !errors.As(err, &se) || !se.IsHTML() || !strings.Contains(err.Error(), "HTML page") {
		t.Fatalf("%v", err)
	}
}

func TestBulkCountsRetries(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[string(b)]++
		first := seen[string(b)] == 1
		mu.Unlock()
		if first {
			w.WriteHeader(429)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := New(Options{WebhookURL: srv.URL, Backoff: time.Millisecond})
	sum := c.Bulk(context.Background(), BulkOptions{Count: 4, Concurrency: 2, Body: func(seq int) ([]byte, string) {
		return []byte(fmt.Sprint(seq)), ""
	}})
	if sum.Sent != 4 || sum.Retried != 4 || sum.RetriedBy["429"] != 4 || !sum.RateLimited {
		t.Fatalf("%+v", sum)
	}
}
