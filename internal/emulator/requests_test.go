package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
)

func getRequests(t *testing.T, e *Emulator, query string) []RequestRecord {
	t.Helper()
	resp, err := http.Get(e.URL() + "/_emulator/requests" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, c := range e.Channels() {
		if strings.Contains(string(raw), c.Token) {
			t.Fatalf("GET /_emulator/requests leaks a channel token: %s", raw)
		}
	}
	var body struct {
		Requests []RequestRecord `json:"requests"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return body.Requests
}

func TestRequestLogWebhook(t *testing.T) {
	ch := GenerateChannel(channel.IDPhone, "")
	e := start(t, Options{Channels: []Channel{ch}})

	if got := post(t, e, ch, textIn(ch, "+60177872890", "m1", "hello log")); got.status != 200 {
		t.Fatalf("valid post answered %d", got.status)
	}
	bad := `{"channelId":"` + ch.ID + `","contactId":"not a phone","events":[]}`
	if got := postRaw(t, e.WebhookURL(), "Bearer "+ch.Token, "application/json", []byte(bad)); got.status != 400 {
		t.Fatalf("invalid post answered %d", got.status)
	}
	if got := postRaw(t, e.WebhookURL(), "Bearer wrong-token-0123456789", "application/json", []byte(`{}`)); got.status != 401 {
		t.Fatalf("wrong token answered %d", got.status)
	}

	recs := getRequests(t, e, "")
	if len(recs) != 3 {
		t.Fatalf("want 3 logged requests, got %d: %+v", len(recs), recs)
	}
	ok, rejected, unauth := recs[0], recs[1], recs[2]
	if ok.Kind != RequestWebhook || ok.Method != "POST" || ok.Status != 200 || ok.ChannelID != ch.ID ||
		!strings.HasSuffix(ok.URL, WebhookPath) || !strings.Contains(ok.Body, "hello log") ||
		!strings.Contains(ok.ReplyBody, `"ok":true`) || ok.ReplyHeader.Get("Content-Type") != "application/json" {
		t.Fatalf("accepted post logged as %+v", ok)
	}
	if got, want := ok.Header.Get("Authorization"), "Bearer "+ui.Redact(ch.Token); got != want {
		t.Fatalf("authorization logged as %q, want %q", got, want)
	}
	if rejected.Status != 400 || len(rejected.Findings) == 0 || !strings.Contains(rejected.ReplyBody, "error") ||
		rejected.Body != bad {
		t.Fatalf("rejected post logged as %+v", rejected)
	}
	if unauth.Status != 401 || strings.Contains(unauth.Header.Get("Authorization"), "wrong-token-0123456789") {
		t.Fatalf("401 logged as %+v", unauth)
	}
	if !(ok.Seq < rejected.Seq && rejected.Seq < unauth.Seq) {
		t.Fatalf("seqs not increasing: %d %d %d", ok.Seq, rejected.Seq, unauth.Seq)
	}
	if after := getRequests(t, e, "?after="+itoa(rejected.Seq)); len(after) != 1 || after[0].Seq != unauth.Seq {
		t.Fatalf("?after=%d returned %+v", rejected.Seq, after)
	}
	// A token where it does not belong (body, query, another header) is scrubbed too.
	leaky := textIn(ch, "+60177872890", "m2", "my token is "+ch.Token)
	b, _ := json.Marshal(leaky)
	req, _ := http.NewRequest(http.MethodPost, e.WebhookURL()+"?token="+ch.Token, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+ch.Token)
	req.Header.Set("X-Trace", ch.Token)
	req.Header.Set("X-Api-Key", "another-service-key-0042") // a credential header, whatever it holds
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	last := getRequests(t, e, "?after="+itoa(unauth.Seq)) // getRequests fails on any leaked token
	if len(last) != 1 || !strings.Contains(last[0].Body, "my token is [token]") || last[0].Header.Get("X-Trace") != "[token]" ||
		last[0].Header.Get("X-Api-Key") != "anot…0042" {
		t.Fatalf("leaky request logged as %+v", last)
	}
	e.Reset()
	if recs := getRequests(t, e, ""); len(recs) != 0 {
		t.Fatalf("reset kept %d requests", len(recs))
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRequestLogOutgoing(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) {
		if n == 1 {
			return 200, `{"mId":"prov-1"}`
		}
		return 400, `{"error":{"message":"number blocked"}}`
	})
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	ctx := context.Background()
	if _, err := e.Send(ctx, ch.ID, "+60177872890", channel.Text("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(ctx, ch.ID, "+60177872890", channel.Text("second")); err != nil {
		t.Fatal(err)
	}
	recs := getRequests(t, e, "")
	if len(recs) != 2 {
		t.Fatalf("want 2 logged calls, got %+v", recs)
	}
	sent, failed := recs[0], recs[1]
	if sent.Kind != RequestMessage || sent.URL != srv.URL+"/message" || sent.Status != 200 || sent.Error != "" ||
		!strings.Contains(sent.Body, `"text":"first"`) || sent.ReplyBody != `{"mId":"prov-1"}` {
		t.Fatalf("successful call logged as %+v", sent)
	}
	if got, want := sent.Header.Get("Authorization"), "Bearer "+ui.Redact(ch.Token); got != want {
		t.Fatalf("authorization logged as %q, want %q", got, want)
	}
	if failed.Status != 400 || !strings.Contains(failed.Error, "number blocked") || !strings.Contains(failed.ReplyBody, "number blocked") {
		t.Fatalf("rejected call logged as %+v", failed)
	}

	// A server that is down: no HTTP answer, the transport error is the reason.
	down := GenerateChannel(channel.IDPhone, "http://127.0.0.1:1")
	e2 := start(t, Options{Channels: []Channel{down}})
	if _, err := e2.Send(ctx, down.ID, "+60177872890", channel.Text("x")); err != nil {
		t.Fatal(err)
	}
	recs = getRequests(t, e2, "")
	if len(recs) != 1 || recs[0].Status != 0 || recs[0].Error == "" || recs[0].ReplyBody != "" {
		t.Fatalf("unreachable server logged as %+v", recs)
	}
}

func TestRequestLogIsBounded(t *testing.T) {
	var l requestLog
	for i := 0; i < 3*maxRequests; i++ {
		l.add(RequestRecord{Kind: RequestWebhook})
	}
	recs := l.since(0)
	if len(recs) != maxRequests || recs[len(recs)-1].Seq != 3*maxRequests || recs[0].Seq != 2*maxRequests+1 {
		t.Fatalf("kept %d records, seqs %d..%d", len(recs), recs[0].Seq, recs[len(recs)-1].Seq)
	}
	big := strings.Repeat("x", maxLoggedBody+10)
	body, cut := clipBody([]byte(big))
	if !cut || len(body) != maxLoggedBody {
		t.Fatalf("clipBody kept %d bytes, cut=%v", len(body), cut)
	}
}

// The web inbox is mounted at / next to the API, and the API keeps its JSON 404.
func TestHandlerServesInbox(t *testing.T) {
	e := start(t, Options{})
	resp, err := http.Get(e.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "ccx inbox") {
		t.Fatalf("GET / answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, err = http.Get(e.URL() + "/_emulator/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("unknown API path answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
