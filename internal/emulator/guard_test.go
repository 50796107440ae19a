package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

type apiReq struct {
	method, path, host, origin, site, ctype, body string
}

func doAPI(t *testing.T, e *Emulator, r apiReq) answer {
	t.Helper()
	req, err := http.NewRequest(r.method, e.URL()+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.host != "" {
		req.Host = r.host
	}
	for k, v := range map[string]string{"Origin": r.origin, "Sec-Fetch-Site": r.site, "Content-Type": r.ctype} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func isJSONError(body string) bool {
	var b errorBody
	return json.Unmarshal([]byte(body), &b) == nil && b.Error.Message != ""
}

// A page whose name was rebound to 127.0.0.1 sends its own name as Host:
// the API and the inbox refuse it; IP literals, localhost and configured
// names are served; the webhook (token-protected) answers any Host.
func TestAPIRefusesForeignHost(t *testing.T) {
	e := start(t, Options{AllowedHosts: []string{"Emu.Internal"}})
	ch := e.Channel()
	post(t, e, ch, textIn(ch, "+60177872890", "secret-1", "private words"))
	port := e.URL()[strings.LastIndex(e.URL(), ":"):]
	for _, host := range []string{"evil.example" + port, "evil.example", "127.0.0.1.evil.example" + port, "localhost.evil.example" + port} {
		for _, path := range []string{"/_emulator/state", "/_emulator/", "/_emulator/events", "/"} {
			got := doAPI(t, e, apiReq{method: "GET", path: path, host: host})
			if got.status != http.StatusMisdirectedRequest || !isJSONError(got.body) || strings.Contains(got.body, "private words") {
				t.Fatalf("GET %s with Host %s: %d %s", path, host, got.status, got.body)
			}
		}
	}
	for _, host := range []string{"127.0.0.1" + port, "localhost" + port, "LOCALHOST", "[::1]" + port, "emu.internal" + port, "inbox.localhost" + port, "10.0.0.7:8080"} {
		if got := doAPI(t, e, apiReq{method: "GET", path: "/_emulator/state", host: host}); got.status != 200 || !strings.Contains(got.body, "private words") {
			t.Fatalf("GET with Host %s: %d %s", host, got.status, got.body)
		}
	}
	b, _ := json.Marshal(textIn(ch, "+60177872890", "via-tunnel", "hi"))
	req, _ := http.NewRequest("POST", e.WebhookURL(), strings.NewReader(string(b)))
	req.Host = "abc.tunnel.example"
	req.Header.Set("Authorization", "Bearer "+ch.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("webhook through a tunnel host: %d", resp.StatusCode)
	}
}

// Another page may make the browser POST to the emulator; every state
// change from a foreign origin, or without JSON, is refused and changes
// nothing. The inbox's own requests and non-browser clients pass.
func TestAPIRefusesCrossOriginChanges(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) { return 200, `{"mId":"ok-1"}` })
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	post(t, e, ch, textIn(ch, "+60177872890", "keep", "hi"))
	self := strings.TrimPrefix(e.URL(), "http://")
	port := self[strings.LastIndex(self, ":"):]
	send := "/_emulator/channels/" + ch.ID + "/send"
	msg := `{"contactId":"+60177872890","message":{"type":"text","text":"forged"}}`
	refused := []struct {
		name   string
		r      apiReq
		status int
	}{
		{"reset from a foreign origin", apiReq{method: "POST", path: "/_emulator/reset", origin: "http://evil.example", site: "cross-site"}, 403},
		{"reset, Origin only", apiReq{method: "POST", path: "/_emulator/reset", origin: "http://evil.example"}, 403},
		{"reset, Sec-Fetch-Site only", apiReq{method: "POST", path: "/_emulator/reset", site: "cross-site"}, 403},
		{"reset from another port (same-site)", apiReq{method: "POST", path: "/_emulator/reset", origin: "http://127.0.0.1:8000", site: "same-site"}, 403},
		{"reset from a sandboxed frame", apiReq{method: "POST", path: "/_emulator/reset", origin: "null"}, 403},
		{"send as a text/plain form", apiReq{method: "POST", path: send, ctype: "text/plain", body: msg}, 415},
		{"send as a urlencoded form", apiReq{method: "POST", path: send, ctype: "application/x-www-form-urlencoded", body: msg}, 415},
		{"send without a content type", apiReq{method: "POST", path: send, body: msg}, 415},
		{"reset with a text/plain body", apiReq{method: "POST", path: "/_emulator/reset", ctype: "text/plain", body: "x"}, 415},
		{"send, foreign origin, JSON", apiReq{method: "POST", path: send, origin: "http://evil.example", ctype: "application/json", body: msg}, 403},
	}
	for _, c := range refused {
		got := doAPI(t, e, c.r)
		if got.status != c.status || !isJSONError(got.body) {
			t.Fatalf("%s: %d %s, want %d with a JSON error", c.name, got.status, got.body, c.status)
		}
	}
	if n := len(e.Messages(Filter{})); n != 1 || len(srv.requests) != 0 {
		t.Fatalf("refused requests changed the state: %d messages, %d calls to the server", n, len(srv.requests))
	}
	// The inbox page: same origin, JSON.
	got := doAPI(t, e, apiReq{method: "POST", path: send, origin: "http://" + self, site: "same-origin", ctype: "application/json", body: msg})
	if got.status != 200 {
		t.Fatalf("same-origin send: %d %s", got.status, got.body)
	}
	// Through a port forward the Origin names the forwarded port, as Host does.
	got = doAPI(t, e, apiReq{method: "POST", path: send, host: "localhost:9999", origin: "http://localhost:9999", ctype: "application/json; charset=utf-8", body: msg})
	if got.status != 200 {
		t.Fatalf("send through a port forward: %d %s", got.status, got.body)
	}
	// curl -X POST .../reset: no Origin, no body.
	if got := doAPI(t, e, apiReq{method: "POST", path: "/_emulator/reset", host: "localhost" + port}); got.status != 200 {
		t.Fatalf("curl reset: %d %s", got.status, got.body)
	}
	if n := len(e.Messages(Filter{})); n != 0 {
		t.Fatalf("reset left %d messages", n)
	}
}
