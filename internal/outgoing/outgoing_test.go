package outgoing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

func TestMessageURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:3030":      "http://127.0.0.1:3030/message",
		"http://127.0.0.1:3030/":     "http://127.0.0.1:3030/message",
		"https://x.test/api/v1/?k=1": "https://x.test/api/v1/message?k=1",
		" http://x.test/base ":       "http://x.test/base/message",
	} {
		got, err := MessageURL(in)
		if err != nil || got != want {
			t.Errorf("MessageURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "localhost:3030", "ftp://x", "http://"} {
		if _, err := MessageURL(bad); err == nil {
			t.Errorf("MessageURL(%q): want error", bad)
		}
	}
}

func TestDoSendsWhatThePlatformSends(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, nil
		body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"mId":"abc"}`)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "tok"}
	res, err := c.Do(context.Background(), Request{Body: Body("ch", "+60177872890", channel.Text("hi"))})
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	if got.Method != "POST" || got.URL.Path != "/message" || got.Header.Get("Authorization") != "Bearer tok" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", got.Method, got.URL, got.Header)
	}
	if string(body) != `{"channelId":"ch","contactId":"+60177872890","message":{"type":"text","text":"hi"}}` {
		t.Errorf("body %s", body)
	}
	if res.Status != 200 || string(res.Body) != `{"mId":"abc"}` || HasErrors(Judge(res.Status, res.Header, res.Body)) {
		t.Errorf("result %+v", res)
	}
}

func TestDoTimeoutAndRefused(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := &Client{BaseURL: srv.URL, Token: "t", Timeout: 50 * time.Millisecond}
	res, err := c.Do(context.Background(), Request{Body: []byte("{}")})
	if err != nil || res.Err == nil || !res.Timeout || !strings.Contains(res.Err.Error(), "timeout") {
		t.Fatalf("hang: %v %+v", err, res)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c = &Client{BaseURL: dead.URL, Token: "t"}
	res, _ = c.Do(context.Background(), Request{Body: []byte("{}")})
	if res.Err == nil || res.Timeout {
		t.Fatalf("refused: %+v", res)
	}
}

func TestJudge(t *testing.T) {
	j := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		status int
		body   string
		ok     bool
	}{
		{200, `{"mId":"abc"}`, true},
		{200, `{"mId":"` + strings.Repeat("x", 51) + `"}`, false},
		{200, `{"mId":12}`, false},
		{200, `{"mId":""}`, false},
		{200, `{}`, false},
		{200, `ok`, false},
		{400, `{"error":{"message":"nope"}}`, true},
		{401, `{"error":{"message":"unauthorized"}}`, true},
		{400, `{"message":"nope"}`, false},
		{401, ``, false},
		{500, `{"error":{"message":"boom"}}`, false},
		{201, `{"mId":"abc"}`, false},
	}
	for _, tt := range tests {
		fs := Judge(tt.status, j, []byte(tt.body))
		if HasErrors(fs) == tt.ok {
			t.Errorf("Judge(%d, %s) = %+v; want ok=%v", tt.status, tt.body, fs, tt.ok)
		}
	}
	if fs := Judge(200, http.Header{"Content-Type": {"text/plain"}}, []byte(`{"mId":"a"}`)); HasErrors(fs) || len(fs) != 1 {
		t.Errorf("text/plain reply: want one warning, got %+v", fs)
	}
}
