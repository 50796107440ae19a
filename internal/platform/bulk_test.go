package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTemplateRender(t *testing.T) {
	body := []byte(`{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"x","timestamp":1,"message":{"type":"text","text":"hi"}},{"type":"message_status","mId":"keep","timestamp":2,"status":{"value":"read"}}]}`)
	tpl, err := NewTemplate(body, []string{"events.0.mId"}, []string{"events.0.timestamp", "events.1.timestamp"})
	if err != nil {
		t.Fatal(err)
	}
	tpl.NewMID = func(seq int) string { return "m\"" + string(rune('0'+seq)) }
	tpl.Now = func() int64 { return 1732435200000 }
	got, mid := tpl.Render(3)
	want := `{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m\"3","timestamp":1732435200000,"message":{"type":"text","text":"hi"}},{"type":"message_status","mId":"keep","timestamp":1732435200000,"status":{"value":"read"}}]}`
	if string(got) != want || mid != `m"3` {
		t.Errorf("got  %s (%s)\nwant %s", got, mid, want)
	}
	if !json.Valid(got) {
		t.Error("rendered body is not JSON")
	}
	// Renders are independent buffers.
	a, _ := tpl.Render(1)
	b, _ := tpl.Render(2)
	if string(a) == string(b) {
		t.Error("two renders share a body")
	}
	if _, err := NewTemplate([]byte(`{"a":1}`), []string{"events.#.x"}, nil); err == nil {
		t.Error("bad path accepted")
	}
}

func TestBulkCountsAndStats(t *testing.T) {
	var n atomic.Int32
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ N int }
		_ = json.NewDecoder(r.Body).Decode(&body)
		n.Add(1)
		if body.N%10 == 0 {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	c := New(Options{WebhookURL: srv.URL, Token: "t", MaxRetries: -1, Concurrency: 4})
	var done atomic.Int64
	var outcomes atomic.Int32
	sum := c.Bulk(context.Background(), BulkOptions{
		Count: 100, Concurrency: 4, Done: &done,
		Body: func(seq int) ([]byte, string) {
			mid := "m" + strings.Repeat("x", seq%3) + string(rune('A'+seq%26)) + itoa(seq)
			mu.Lock()
			seen[mid] = true
			mu.Unlock()
			return []byte(`{"n":` + itoa(seq) + `}`), mid
		},
		OnOutcome: func(o Outcome) { outcomes.Add(1) },
	})
	if sum.Count != 100 || sum.Sent != 90 || sum.Failed != 10 || sum.ByStatus["400"] != 10 || n.Load() != 100 {
		t.Errorf("summary %+v, server saw %d", sum, n.Load())
	}
	if done.Load() != 100 || outcomes.Load() != 100 || len(seen) != 100 || sum.Stopped {
		t.Errorf("done=%d outcomes=%d distinct mids=%d", done.Load(), outcomes.Load(), len(seen))
	}
	if sum.P50 <= 0 || sum.P50 > sum.P90 || sum.P90 > sum.P99 || sum.Rate <= 0 {
		t.Errorf("latencies %v %v %v rate %v", sum.P50, sum.P90, sum.P99, sum.Rate)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestBulkStopOnAuth(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	c := New(Options{WebhookURL: srv.URL, Token: "t"})
	sum := c.Bulk(context.Background(), BulkOptions{Count: 500, Concurrency: 2, StopOnAuth: true, Body: func(int) ([]byte, string) { return []byte(`{}`), "" }})
	if !sum.AuthError || !sum.Stopped || n.Load() > 4 {
		t.Errorf("summary %+v after %d requests", sum, n.Load())
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if Percentile(d, 50) != 50 || Percentile(d, 90) != 90 || Percentile(d, 99) != 99 || Percentile(d, 100) != 100 || Percentile(nil, 50) != 0 || Percentile(d[:1], 99) != 1 {
		t.Error("nearest-rank percentiles wrong")
	}
}

func TestCurl(t *testing.T) {
	got := Curl("http://h/x", "ab…cd", "ccx/t", []byte(`{"t":"it's"}`))
	want := "curl -sS -X POST 'http://h/x' \\\n  -H 'authorization: Bearer ab…cd' \\\n  -H 'content-type: application/json' \\\n  -H 'cache-control: no-cache' \\\n  -H 'user-agent: ccx/t' \\\n  --data-raw '{\"t\":\"it'\\''s\"}'"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// BenchmarkBulk measures the client's hot path against an in-process server
// (compare runs, not absolute figures: the server shares the CPU).
func BenchmarkBulk(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) }))
	defer srv.Close()
	body := []byte(`{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","events":[{"type":"message","mId":"x","timestamp":1,"message":{"type":"text","text":"hi"}}]}`)
	tpl, _ := NewTemplate(body, []string{"events.0.mId"}, []string{"events.0.timestamp"})
	tpl.NewMID = func(int) string { return "5f0c6a9e-3a47-4ea4-9a55-63e1f2c5a3b1" }
	tpl.Now = func() int64 { return 1732435200000 }
	c := New(Options{WebhookURL: srv.URL, Token: "t", Concurrency: 16})
	b.ResetTimer()
	sum := c.Bulk(context.Background(), BulkOptions{Count: b.N, Concurrency: 16, Body: tpl.Render})
	b.ReportMetric(sum.Rate, "req/s")
}

// The token variable stays outside the quotes and the body round-trips
// through a real shell byte for byte.
func TestCurlCommandRunsInAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	body := `{"t":"it's \"quoted\" $HOME ` + "`id`" + ` \\ back"}`
	cmd := CurlCommand("POST", "http://h/x?a=1&b=2", []string{"authorization: Bearer " + TokenVar, "x-n: it's"}, []byte(body))
	if !strings.Contains(cmd, `-H 'authorization: Bearer '"$CCX_API_TOKEN"`) {
		t.Fatalf("token not left to the shell:\n%s", cmd)
	}
	// Replace curl with a function that prints its arguments one per line.
	script := "curl() { for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }\n" + cmd + "\n"
	c := exec.Command(sh, "-c", script)
	c.Env = append(os.Environ(), "CCX_API_TOKEN=tok en")
	out, err := c.Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	want := strings.Join([]string{"-sS", "-X", "POST", "http://h/x?a=1&b=2", "-H", "authorization: Bearer tok en", "-H", "x-n: it's", "--data-raw", body}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("the shell saw\n%s\nwant\n%s", out, want)
	}
}
