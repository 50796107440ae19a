package emulator

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// apiPost POSTs to the emulator API as the inbox page does (same origin, JSON).
func apiPost(t *testing.T, e *Emulator, path string, hdr map[string]string, v any) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL()+path, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.URL())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, val := range hdr {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	for _, c := range e.Channels() {
		if strings.Contains(string(raw), c.Token) {
			t.Fatalf("POST %s leaks a token: %s", path, raw)
		}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func TestResendWebhookGoesThroughTheHandler(t *testing.T) {
	ch := GenerateChannel(channel.IDPhone, "")
	e := start(t, Options{Channels: []Channel{ch}})
	post(t, e, ch, textIn(ch, "+60177872890", "r1", "hello"))
	postRaw(t, e.WebhookURL(), "Bearer wrong-token-0123456789", "application/json", []byte(`{}`))
	recs := getRequests(t, e, "")
	if len(recs) != 2 {
		t.Fatalf("logged %d requests", len(recs))
	}

	var res ResendResult
	if a := apiPost(t, e, "/_emulator/requests/"+itoa(recs[0].Seq)+"/resend", nil, &res); a.status != 200 {
		t.Fatalf("resend answered %d %s", a.status, a.body)
	}
	if !res.OK || res.Request == nil || res.Request.ResendOf != recs[0].Seq || res.Request.Body != recs[0].Body ||
		res.Request.Status != 200 || res.Request.Seq <= recs[1].Seq || !strings.Contains(res.Request.ReplyBody, "already stored") {
		t.Fatalf("resend result %+v", res)
	}
	// Re-applied, not copied: the handler saw a duplicate mId.
	if ms := e.Messages(Filter{}); len(ms) != 1 {
		t.Fatalf("messages after resend: %+v", ms)
	}
	// Resending is not the server retrying: no "repeat" mark.
	if got := getRequests(t, e, "?after="+itoa(res.Request.Seq-1)); len(got) != 1 || got[0].Retry != nil {
		t.Fatalf("a resend is marked as the server's retry: %+v", got[0].Retry)
	}
	// A post with a wrong token is re-sent with that token, and refused again.
	res = ResendResult{}
	apiPost(t, e, "/_emulator/requests/"+itoa(recs[1].Seq)+"/resend", nil, &res)
	if res.OK || res.Request == nil || res.Request.Status != 401 || res.Request.ResendOf != recs[1].Seq {
		t.Fatalf("resend of a 401: %+v", res)
	}
	if got := getRequests(t, e, ""); len(got) != 4 {
		t.Fatalf("want 4 logged requests after two resends, got %d", len(got))
	}
	// A post to a wrong path is resent to that path, and answered as before.
	b, _ := json.Marshal(textIn(ch, "+60177872890", "r2", "lost"))
	postRaw(t, e.URL()+"/custom/webhook", "Bearer "+ch.Token, "application/json", b)
	stray := getRequests(t, e, "?after=4")
	if len(stray) != 1 || stray[0].Status != 404 {
		t.Fatalf("stray post logged as %+v", stray)
	}
	res = ResendResult{}
	apiPost(t, e, "/_emulator/requests/"+itoa(stray[0].Seq)+"/resend", nil, &res)
	if res.OK || res.Request == nil || res.Request.Status != 404 || !strings.HasSuffix(res.Request.URL, "/custom/webhook") ||
		!strings.Contains(res.Request.ReplyBody, "did you mean") {
		t.Fatalf("resend of a stray post: %+v", res.Request)
	}
	if _, ok := e.MessageByMID(ch.ID, "r2"); ok {
		t.Fatal("a resent stray post was stored")
	}
	before := len(getRequests(t, e, ""))

	for _, c := range []struct {
		path string
		hdr  map[string]string
		want int
	}{
		{"/_emulator/requests/999/resend", nil, 404},
		{"/_emulator/requests/x/resend", nil, 404},
		{"/_emulator/requests/1/resend", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"/_emulator/requests/1/resend", map[string]string{"Content-Type": "text/plain"}, 415},
	} {
		if a := apiPost(t, e, c.path, c.hdr, nil); a.status != c.want {
			t.Errorf("POST %s %v: %d %s, want %d", c.path, c.hdr, a.status, a.body, c.want)
		}
	}
	if got := getRequests(t, e, ""); len(got) != before {
		t.Fatalf("a refused resend was made: %d logged, want %d", len(got), before)
	}
}

func TestResendMessageCallsTheServerAgain(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) {
		return 200, `{"mId":"srv-` + itoa(int64(n)) + `"}`
	})
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	m, err := e.Send(t.Context(), ch.ID, "+60177872890", channel.Text("again please"))
	if err != nil {
		t.Fatal(err)
	}
	recs := getRequests(t, e, "")
	var res ResendResult
	if a := apiPost(t, e, "/_emulator/requests/"+itoa(recs[0].Seq)+"/resend", nil, &res); a.status != 200 {
		t.Fatalf("resend answered %d %s", a.status, a.body)
	}
	if !res.OK || res.Message == nil || res.Message.MID != "srv-2" || res.Message.Seq == m.Seq || res.Message.Content.Text != "again please" ||
		res.Request == nil || res.Request.Kind != RequestMessage || res.Request.ResendOf != recs[0].Seq {
		t.Fatalf("resend result %+v", res)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.requests) != 2 || srv.requests[1].Message.Text != "again please" || srv.auth[1] != "Bearer "+ch.Token {
		t.Fatalf("server got %+v (auth %q)", srv.requests, srv.auth)
	}
}

func TestRetryFailedMessage(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) {
		if n == 1 {
			return 503, `{"error":{"message":"busy"}}`
		}
		return 200, `{"mId":"ok-2"}`
	})
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	failed, err := e.Send(t.Context(), ch.ID, "+60177872890", channel.Text("retry me"))
	if err != nil || failed.Status != channel.StatusFailed {
		t.Fatalf("first send: %+v %v", failed, err)
	}
	var res SendResponse
	if a := apiPost(t, e, "/_emulator/messages/"+itoa(failed.Seq)+"/retry", nil, &res); a.status != 200 {
		t.Fatalf("retry answered %d %s", a.status, a.body)
	}
	if !res.OK || res.Message.MID != "ok-2" || res.Message.Content.Text != "retry me" || res.Message.ContactID != "+60177872890" {
		t.Fatalf("retry result %+v", res)
	}
	if a := apiPost(t, e, "/_emulator/messages/"+itoa(res.Message.Seq)+"/retry", nil, nil); a.status != 409 {
		t.Errorf("retry of a sent message: %d %s", a.status, a.body)
	}
	post(t, e, ch, textIn(ch, "+60177872890", "in-1", "incoming"))
	in, _ := e.MessageByMID(ch.ID, "in-1")
	if a := apiPost(t, e, "/_emulator/messages/"+itoa(in.Seq)+"/retry", nil, nil); a.status != 409 {
		t.Errorf("retry of an incoming message: %d %s", a.status, a.body)
	}
	if a := apiPost(t, e, "/_emulator/messages/12345/retry", nil, nil); a.status != 404 {
		t.Errorf("retry of an unknown message: %d %s", a.status, a.body)
	}
	if n := len(e.Messages(Filter{})); n != 3 {
		t.Fatalf("want 3 messages (failed, retried, incoming), got %d", n)
	}
}

// The curl command of a logged post carries $CCX_API_TOKEN, not the token,
// and run by a real shell and curl it makes the same post.
func TestCopyAsCurlRuns(t *testing.T) {
	ch := GenerateChannel(channel.IDPhone, "")
	e := start(t, Options{Channels: []Channel{ch}})
	wh := textIn(ch, "+60177872890", "c1", `it's "quoted" $HOME `+"`id`")
	post(t, e, ch, wh)
	recs := getRequests(t, e, "")
	cmd := recs[0].Curl
	if strings.Contains(cmd, ch.Token) || strings.Contains(cmd, "…") || !strings.Contains(cmd, `Bearer '"$CCX_API_TOKEN"`) ||
		!strings.Contains(cmd, "-X POST '"+e.WebhookURL()+"'") {
		t.Fatalf("curl:\n%s", cmd)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl to run the command with")
	}
	c := exec.Command("sh", "-c", cmd)
	c.Env = append(os.Environ(), "CCX_API_TOKEN="+ch.Token)
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already stored") {
		t.Fatalf("running the curl command: %v\n%s", err, out)
	}
	again := getRequests(t, e, "?after="+itoa(recs[0].Seq))
	if len(again) != 1 || again[0].Status != 200 || again[0].Body != recs[0].Body {
		t.Fatalf("the curl post was logged as %+v", again)
	}

	// A /message call: same rule.
	srv := newFakeServer(t, func(int, channel.OutgoingRequest) (int, string) { return 200, `{"mId":"x"}` })
	ch2 := GenerateChannel(channel.IDPhone, srv.URL)
	e2 := start(t, Options{Channels: []Channel{ch2}})
	if _, err := e2.Send(t.Context(), ch2.ID, "+60177872890", channel.Text("hi")); err != nil {
		t.Fatal(err)
	}
	mc := getRequests(t, e2, "")[0].Curl
	if strings.Contains(mc, ch2.Token) || !strings.Contains(mc, "'"+srv.URL+"/message'") || !strings.Contains(mc, `"$CCX_API_TOKEN"`) ||
		!strings.Contains(mc, `--data-raw '{"channelId":"`+ch2.ID) {
		t.Fatalf("/message curl:\n%s", mc)
	}
}

// The request log is kept in --state across restarts: redacted, bounded,
// numbered on, and re-sendable (the token is put back from the channel).
func TestRequestLogPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	ch := GenerateChannel(channel.IDPhone, "")
	e, err := New(Options{Channels: []Channel{ch}, StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	post(t, e, ch, textIn(ch, "+60177872890", "p1", "persist me "+ch.Token))
	before := getRequests(t, e, "")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The message itself keeps its text; the log's copy of the post (its
	// header and body) must not hold the token.
	var saved struct {
		Requests json.RawMessage `json:"requests"`
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	if len(saved.Requests) == 0 || strings.Contains(string(saved.Requests), ch.Token) || strings.Contains(string(saved.Requests), `"curl"`) ||
		!strings.Contains(string(saved.Requests), "persist me [token]") {
		t.Fatalf("state file requests section:\n%s", saved.Requests)
	}

	e2 := start(t, Options{Channels: []Channel{ch}, StatePath: path})
	after := getRequests(t, e2, "")
	if len(after) != 1 || after[0].Seq != before[0].Seq || after[0].Body != before[0].Body ||
		after[0].Header.Get("Authorization") != before[0].Header.Get("Authorization") ||
		after[0].URL != e2.WebhookURL() || !strings.Contains(after[0].Curl, "'"+e2.WebhookURL()+"'") ||
		after[0].Curl != strings.ReplaceAll(before[0].Curl, e.URL(), e2.URL()) {
		t.Fatalf("after restart:\n%+v\nbefore:\n%+v", after, before)
	}
	if _, ok := e2.State().Requests, true; len(e2.State().Requests) != 0 || !ok {
		t.Fatal("GET /_emulator/state carries the request log")
	}
	var res ResendResult
	if a := apiPost(t, e2, "/_emulator/requests/"+itoa(after[0].Seq)+"/resend", nil, &res); a.status != 200 {
		t.Fatalf("resend after restart: %d %s", a.status, a.body)
	}
	if res.Request == nil || res.Request.Status != 200 || res.Request.Seq != before[0].Seq+1 {
		t.Fatalf("resend after restart: %+v", res.Request)
	}
}

func TestRequestLogLoadIsBounded(t *testing.T) {
	var l requestLog
	recs := make([]RequestRecord, 0, maxRequests+60)
	for i := 1; i <= maxRequests+50; i++ {
		recs = append(recs, RequestRecord{Seq: int64(i), Kind: RequestWebhook})
	}
	recs = append(recs, RequestRecord{Seq: 3}, RequestRecord{Seq: -1}) // hand edits: dropped
	l.load(recs)
	got := l.since(0)
	if len(got) != maxRequests || got[0].Seq != 51 || got[len(got)-1].Seq != maxRequests+50 {
		t.Fatalf("loaded %d records, %d..%d", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
	if seq := l.add(RequestRecord{}); seq != maxRequests+51 {
		t.Fatalf("numbering goes on at %d", seq)
	}
}
