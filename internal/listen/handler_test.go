package listen

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
)

const testToken = "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"

const textBody = `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"Hello"}}`

func do(t *testing.T, h http.Handler, method, auth, ctype, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/message", strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func errorMessage(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := gjson.GetBytes(w.Body.Bytes(), "error.message")
	if m.Type != gjson.String || m.Str == "" {
		t.Fatalf("no error.message in %s", w.Body)
	}
	return m.Str
}

func TestHandlerStatusPaths(t *testing.T) {
	var mu sync.Mutex
	var calls []Call
	h := NewHandler(Options{Token: testToken, ChannelID: "gfd8g7fd89dgfd", IDType: channel.IDPhone, MaxBody: 512,
		OnCall: func(c Call) { mu.Lock(); calls = append(calls, c); mu.Unlock() }})
	bearer := "Bearer " + testToken
	tests := []struct {
		name                   string
		method, auth, ct, body string
		status                 int
		auth2                  string
		msg                    string
	}{
		{"ok", "POST", bearer, "application/json", textBody, 200, AuthOK, ""},
		{"ok lower-case scheme", "POST", "bearer " + testToken, "application/json; charset=utf-8", textBody, 200, AuthOK, ""},
		{"missing token", "POST", "", "application/json", textBody, 401, AuthMissing, "missing Authorization"},
		{"wrong token", "POST", "Bearer nope", "application/json", textBody, 401, AuthWrong, "invalid API token"},
		{"token prefix", "POST", "Bearer " + testToken[:10], "application/json", textBody, 401, AuthWrong, "invalid API token"},
		{"basic scheme", "POST", "Basic " + testToken, "application/json", textBody, 401, AuthBadScheme, "Bearer"},
		{"no scheme", "POST", testToken, "application/json", textBody, 401, AuthBadScheme, "Bearer"},
		{"GET", "GET", bearer, "", "", 405, AuthOK, "POST"},
		{"form body", "POST", bearer, "application/x-www-form-urlencoded", "a=b", 415, AuthOK, "application/json"},
		{"no content type", "POST", bearer, "", textBody, 415, AuthOK, "application/json"},
		{"too big", "POST", bearer, "application/json", `{"x":"` + strings.Repeat("a", 600) + `"}`, 413, AuthOK, "larger than 512"},
		{"bad json", "POST", bearer, "application/json", `{"channelId":`, 400, AuthOK, "json"},
		{"unknown type", "POST", bearer, "application/json", `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"carousel"}}`, 400, AuthOK, "carousel"},
		{"wrong channel", "POST", bearer, "application/json", `{"channelId":"other","contactId":"+60177872890","message":{"type":"text","text":"x"}}`, 400, AuthOK, "channelId"},
		{"bad phone", "POST", bearer, "application/json", `{"channelId":"gfd8g7fd89dgfd","contactId":"0123","message":{"type":"text","text":"x"}}`, 400, AuthOK, "contactId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, h, tt.method, tt.auth, tt.ct, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			mu.Lock()
			c := calls[len(calls)-1]
			mu.Unlock()
			if c.Auth != tt.auth2 || c.Status != tt.status || !bytes.Equal(c.ReplyBody, w.Body.Bytes()) {
				t.Errorf("call: auth %q status %d reply %s", c.Auth, c.Status, c.ReplyBody)
			}
			if tt.status == 200 {
				mid := gjson.GetBytes(w.Body.Bytes(), "mId")
				if mid.Type != gjson.String || mid.Str == "" || len(mid.Str) > channel.MaxMIDLen {
					t.Errorf("bad mId in %s", w.Body)
				}
				if c.Message == nil || c.Message.Text != "Hello" || c.ContactID != "+60177872890" || c.Kind != channel.MessageText {
					t.Errorf("call not described: %+v", c)
				}
				return
			}
			if msg := errorMessage(t, w); !strings.Contains(strings.ToLower(msg), strings.ToLower(tt.msg)) {
				t.Errorf("error.message %q lacks %q", msg, tt.msg)
			}
			if tt.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
}

func TestHandlerLenientAcceptsAndWarns(t *testing.T) {
	var got Call
	h := NewHandler(Options{Token: testToken, ChannelID: "chan", Lenient: true, OnCall: func(c Call) { got = c }})
	w := do(t, h, "POST", "Bearer "+testToken, "text/plain", `{"channelId":"other","contactId":"x","message":{"type":"carousel"}}`)
	if w.Code != 200 {
		t.Fatalf("lenient: status %d %s", w.Code, w.Body)
	}
	if len(got.Findings) < 2 {
		t.Fatalf("want warnings for content type and channel/type, got %+v", got.Findings)
	}
	for _, f := range got.Findings {
		if f.Severity != "warning" {
			t.Errorf("lenient finding is %s: %+v", f.Severity, f)
		}
	}
	// Lenient never waives the token.
	if w := do(t, h, "POST", "", "application/json", textBody); w.Code != 401 {
		t.Errorf("lenient without token: %d", w.Code)
	}
}

func TestHandlerReplyPolicy(t *testing.T) {
	h := NewHandler(Options{Token: testToken, Reply: ReplyPolicy{Status: 400, Message: "number blocked"}})
	w := do(t, h, "POST", "Bearer "+testToken, "application/json", textBody)
	if w.Code != 400 || errorMessage(t, w) != "number blocked" {
		t.Errorf("scripted 400: %d %s", w.Code, w.Body)
	}
	h = NewHandler(Options{Token: testToken, Reply: ReplyPolicy{FailRate: 1, FailStatus: 503}})
	if w := do(t, h, "POST", "Bearer "+testToken, "application/json", textBody); w.Code != 503 || !strings.Contains(errorMessage(t, w), "simulated") {
		t.Errorf("fail rate 1: %d %s", w.Code, w.Body)
	}
	var lat time.Duration
	h = NewHandler(Options{Token: testToken, Reply: ReplyPolicy{Latency: 30 * time.Millisecond}, OnCall: func(c Call) { lat = c.Latency }})
	if w := do(t, h, "POST", "Bearer "+testToken, "application/json", textBody); w.Code != 200 {
		t.Errorf("latency: %d", w.Code)
	}
	if lat < 30*time.Millisecond {
		t.Errorf("latency policy not applied: %v", lat)
	}
}

func TestMIDsAreFresh(t *testing.T) {
	h := NewHandler(Options{Token: testToken})
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		w := do(t, h, "POST", "Bearer "+testToken, "application/json", textBody)
		mid := gjson.GetBytes(w.Body.Bytes(), "mId").Str
		if seen[mid] {
			t.Fatalf("mId %s repeated", mid)
		}
		seen[mid] = true
	}
}

func TestRedactedHeaderAndRecord(t *testing.T) {
	var got Call
	h := NewHandler(Options{Token: testToken, OnCall: func(c Call) { got = c }})
	do(t, h, "POST", "Bearer "+testToken, "application/json", textBody)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(testToken)) {
		t.Fatalf("token in record: %s", b)
	}
	if a := got.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer aaax…") {
		t.Errorf("redacted header %q", a)
	}
	var back Call
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.Body) != textBody || back.Status != 200 || back.ID != got.ID || !bytes.Equal(back.ReplyBody, got.ReplyBody) {
		t.Errorf("record round trip: %+v", back)
	}
}

func TestRecordKeepsNonUTF8Bodies(t *testing.T) {
	c := Call{ID: "x", Body: []byte{0xff, 0x00, 'a'}}
	b, _ := json.Marshal(c)
	var back Call
	if err := json.Unmarshal(b, &back); err != nil || !bytes.Equal(back.Body, c.Body) {
		t.Fatalf("round trip %q: %v %q", b, err, back.Body)
	}
}

func TestForwardByteForByte(t *testing.T) {
	var gotBody []byte
	var gotHeader http.Header
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		gotHeader = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(202)
		io.WriteString(w, `{"mId":"from-user"}`)
	}))
	defer user.Close()
	var call Call
	h := NewHandler(Options{Token: testToken, ForwardTo: user.URL + "/message", OnCall: func(c Call) { call = c }})
	body := "{ \"channelId\" : \"c\",\n \"contactId\":\"+60177872890\", \"message\":{\"type\":\"text\",\"text\":\"hi\"} }"
	r := httptest.NewRequest("POST", "/message", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+testToken)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Custom", "kept")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if string(gotBody) != body {
		t.Errorf("forwarded body %q", gotBody)
	}
	if gotHeader.Get("Authorization") != "Bearer "+testToken || gotHeader.Get("X-Custom") != "kept" {
		t.Errorf("forwarded headers %v", gotHeader)
	}
	if w.Code != 202 || w.Body.String() != `{"mId":"from-user"}` {
		t.Errorf("user's reply not relayed: %d %s", w.Code, w.Body)
	}
	if !call.Forwarded || call.Status != 202 || call.Auth != AuthOK {
		t.Errorf("call %+v", call)
	}
	// A forward to a dead server is a 502 with the error shape.
	user.Close()
	w = httptest.NewRecorder()
	r = httptest.NewRequest("POST", "/message", strings.NewReader(textBody))
	h.ServeHTTP(w, r)
	if w.Code != 502 || call.ForwardError == "" {
		t.Errorf("dead forward: %d %+v", w.Code, call)
	}
	errorMessage(t, w)
}

func TestMux(t *testing.T) {
	var calls []Call
	h := NewHandler(Options{Token: testToken, OnCall: func(c Call) { calls = append(calls, c) }})
	m := NewMux("/message", h)
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"ok":true`) {
		t.Errorf("healthz: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("POST", "/message/message", strings.NewReader("{}")))
	if w.Code != 404 || len(calls) != 1 || calls[0].Status != 404 {
		t.Errorf("404: %d %v", w.Code, calls)
	}
	errorMessage(t, w)
}

func TestCheckAuth(t *testing.T) {
	tok := []byte("secret-token")
	for h, want := range map[string]string{
		"": AuthMissing, "Bearer secret-token": AuthOK, "BEARER secret-token": AuthOK, "  Bearer   secret-token ": AuthOK,
		"Bearer": AuthBadScheme, "Bearer secret-tokenX": AuthWrong, "Token secret-token": AuthBadScheme,
	} {
		if got := CheckAuth(h, tok); got != want {
			t.Errorf("CheckAuth(%q) = %s, want %s", h, got, want)
		}
	}
	if CheckAuth("Bearer ", nil) != AuthBadScheme || CheckAuth("Bearer x", nil) != AuthWrong {
		t.Errorf("empty token must never match")
	}
}

// TestHandlerTrimsConfiguredToken: a token configured with the newline a
// file or a paste leaves must still match the (trimmed) header.
func TestHandlerTrimsConfiguredToken(t *testing.T) {
	h := NewHandler(Options{Token: " " + testToken + "\n"})
	w := do(t, h, http.MethodPost, "Bearer "+testToken, "application/json", textBody)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", w.Code, w.Body)
	}
}
