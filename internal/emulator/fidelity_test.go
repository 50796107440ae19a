package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
)

func send(t *testing.T, method, url, auth string, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// nextEvent returns the next event of kind, failing after a deadline.
func nextEvent(t *testing.T, evs <-chan Event, kind EventKind) Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-evs:
			if ev.Kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event", kind)
		}
	}
}

// Posts to copied or guessed paths get a JSON 404 that names the webhook
// path, and every one is in the request log and the live stream with its
// body. Before, /custom/webhook got 405 from the inbox's file server and
// left no trace.
func TestStrayPostsAreAnsweredAndLogged(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	evs, cancel := e.Subscribe()
	defer cancel()
	body, _ := json.Marshal(textIn(ch, "+60177872890", "m-stray", "hi"))
	cases := []struct {
		method, path, auth, body string
		want                     []string // in the error message
		hint                     bool     // names the webhook path
	}{
		{"POST", "/custom/webhook", "Bearer " + ch.Token, string(body), nil, true},
		{"POST", "/custom/channel/webhook/" + ch.ID, "Bearer " + ch.Token, string(body), []string{"channel ID goes in the body"}, true},
		{"POST", "/webhook", "", `{}`, nil, true},
		{"POST", "/message", "", `{}`, []string{"/message is your integration server's endpoint"}, true},
		{"PUT", "/anything", "Bearer x", ``, []string{"Bearer token"}, true},
		{"POST", "/hooks/in", "", `{"events":[{"type":"message","mId":"m9"}]}`, []string{"channelId or events"}, true},
		{"DELETE", "/nothing", "", ``, []string{"no route DELETE /nothing", APIPrefix}, false},
	}
	for _, c := range cases {
		got := send(t, c.method, e.URL()+c.path, c.auth, c.body)
		var eb errorBody
		if got.status != http.StatusNotFound || json.Unmarshal([]byte(got.body), &eb) != nil || eb.Error.Message == "" {
			t.Fatalf("%s %s: %d %s, want a JSON 404", c.method, c.path, got.status, got.body)
		}
		msg := eb.Error.Message
		if hinted := strings.Contains(msg, "did you mean POST "+WebhookPath+"?"); hinted != c.hint {
			t.Fatalf("%s %s: hint %v, want %v: %s", c.method, c.path, hinted, c.hint, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Fatalf("%s %s: %q lacks %q", c.method, c.path, msg, w)
			}
		}
		ev := nextEvent(t, evs, EventWebhookRejected)
		if ev.HTTPStatus != http.StatusNotFound || ev.Summary != msg {
			t.Fatalf("%s %s: event %+v", c.method, c.path, ev)
		}
		line := FormatEvent(ev, ui.Styles{})
		if !strings.Contains(line, c.method+" 404") {
			t.Fatalf("live log line %q lacks %s 404", line, c.method)
		}
	}
	recs := e.Requests(0)
	if len(recs) != len(cases) {
		t.Fatalf("%d requests logged, want %d", len(recs), len(cases))
	}
	for i, c := range cases {
		r := recs[i]
		if r.Method != c.method || !strings.HasSuffix(r.URL, c.path) || r.Status != http.StatusNotFound || r.Body != c.body {
			t.Fatalf("record %d: %s %s %d body %q, want %s %s 404 body %q", i, r.Method, r.URL, r.Status, r.Body, c.method, c.path, c.body)
		}
		if strings.Contains(r.Body, ch.Token) || strings.Contains(fmt.Sprint(r.Header), ch.Token) {
			t.Fatalf("record %d leaks the token", i)
		}
	}
	if recs[0].ChannelID != ch.ID || recs[0].ContactID != "+60177872890" || len(recs[0].Events) != 1 || recs[0].Events[0].MID != "m-stray" {
		t.Fatalf("the stray webhook post is not described: %+v", recs[0])
	}
	// The HTTP view (the inbox's Requests tab) has them too.
	var api struct{ Requests []RequestRecord }
	getJSON(t, e.URL()+"/_emulator/requests", &api)
	if len(api.Requests) != len(cases) || api.Requests[0].Status != http.StatusNotFound {
		t.Fatalf("/_emulator/requests: %+v", api.Requests)
	}
	// Nothing was stored, and the inbox still serves GET.
	if n := len(e.Messages(Filter{})); n != 0 {
		t.Fatalf("%d messages stored from stray posts", n)
	}
	if got := send(t, "GET", e.URL()+"/", "", ""); got.status != http.StatusOK {
		t.Fatalf("GET /: %d", got.status)
	}
}

// A refused post (401, 403) is read anyway: the record, the event and the
// live log say which channel, contact, events and mIds were refused.
func TestRefusedPostsSayWhatWasRefused(t *testing.T) {
	a := Channel{ID: "chanA", Token: "tokenAAAAAAAAAAAAAAAAAAAAAA", IDType: channel.IDPhone}
	b := Channel{ID: "chanB", Token: "tokenBBBBBBBBBBBBBBBBBBBBBB", IDType: channel.IDPhone}
	e := start(t, Options{Channels: []Channel{a, b}})
	evs, cancel := e.Subscribe()
	defer cancel()
	wh := channel.NewWebhook(a.ID, "+60177872890", nil, channel.NewReceipt("m-401", channel.StatusDelivered, ""))
	body, _ := json.Marshal(wh)
	for _, c := range []struct {
		auth string
		want int
	}{{"Bearer wrong", 401}, {"", 401}, {"Bearer " + b.Token, 403}} {
		if got := postRaw(t, e.WebhookURL(), c.auth, "application/json", body); got.status != c.want {
			t.Fatalf("%q: %d %s", c.auth, got.status, got.body)
		}
		ev := nextEvent(t, evs, EventWebhookRejected)
		if ev.ContactID != "+60177872890" || ev.MID != "m-401" {
			t.Fatalf("%d event does not say what was refused: %+v", c.want, ev)
		}
		for _, w := range []string{`(refused: channelId "chanA", contactId "+60177872890", message_status delivered mId "m-401")`} {
			if !strings.Contains(ev.Summary, w) {
				t.Fatalf("%d summary %q lacks %s", c.want, ev.Summary, w)
			}
		}
	}
	for i, r := range e.Requests(0) {
		if r.ContactID != "+60177872890" || len(r.Events) != 1 || r.Events[0] != (EventRef{Type: "message_status", MID: "m-401", Status: "delivered"}) || r.Body != string(body) {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}

// Repeats of one post are tied together and reported once, with the count,
// the span and what to fix; retries after 429 are not a pattern.
func TestRetryPatternReportedOnce(t *testing.T) {
	e := start(t, Options{})
	e.retries.quiet = time.Hour // reported by flushRetries, not by the clock
	ch := e.Channel()
	evs, cancel := e.Subscribe()
	defer cancel()
	body, _ := json.Marshal(textIn(ch, "+60177872890", "m-retry", "hi"))
	for i := 0; i < 4; i++ {
		if got := postRaw(t, e.WebhookURL(), "Bearer wrong-token", "application/json", body); got.status != 401 {
			t.Fatalf("post %d: %d", i, got.status)
		}
	}
	// A series of accepted-then-repeated receipts is one too; sent and
	// delivered of one mId are not repeats of each other.
	ok1, _ := json.Marshal(textIn(ch, "+60177872890", "m-ok", "hi"))
	post(t, e, ch, textIn(ch, "+60177872890", "m-ok", "hi"))
	postRaw(t, e.WebhookURL(), "Bearer "+ch.Token, "application/json", ok1)
	e.flushRetries()

	var got []string
	for _, w := range e.Warnings() {
		if w.Rule == WarnRetryPattern {
			got = append(got, w.Message)
		}
	}
	if len(got) != 2 {
		t.Fatalf("retry patterns %q, want 2", got)
	}
	if !strings.Contains(got[0], `mId "m-retry" (message) posted 4 times in `) || !strings.Contains(got[0], "all refused with 401: your server retries on 401; fix the token instead") {
		t.Fatalf("pattern %q", got[0])
	}
	if !strings.Contains(got[1], `mId "m-ok" (message) posted 2 times`) || !strings.Contains(got[1], "all accepted (200)") {
		t.Fatalf("pattern %q", got[1])
	}
	// The live stream (the log, --json) carries each report once, with its rule.
	for _, want := range got {
		ev := nextEvent(t, evs, EventWarning)
		for ev.Rule != WarnRetryPattern {
			ev = nextEvent(t, evs, EventWarning)
		}
		if ev.Summary != want || ev.MID == "" {
			t.Fatalf("stream warning %+v, want %q", ev, want)
		}
	}
	recs := e.Requests(0)
	for i, r := range recs[:4] {
		if r.Retry == nil || r.Retry.Pattern != got[0] || r.Retry.FirstSeq != recs[0].Seq || (i > 0 && r.Retry.Attempt != i+1) {
			t.Fatalf("record %d not tied to the pattern: %+v", i, r.Retry)
		}
	}
	// Flushing again reports nothing new.
	e.flushRetries()
	n := 0
	for _, w := range e.Warnings() {
		if w.Rule == WarnRetryPattern {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d patterns after a second flush, want 2 (reported once)", n)
	}
}

// Retrying what retrying can change (429, 408, 5xx, no answer) is right;
// repeating after a 2xx or another 4xx is the pattern.
func TestSuspectRetries(t *testing.T) {
	for _, c := range []struct {
		statuses []int
		want     bool
	}{
		{[]int{429, 429, 200}, false},
		{[]int{503, 0, 200}, false},
		{[]int{401, 401}, true},
		{[]int{200, 200}, true},
		{[]int{429, 400, 400}, true},
		{[]int{400}, false},
	} {
		if got := suspectRetries(c.statuses); got != c.want {
			t.Errorf("suspectRetries(%v) = %v, want %v", c.statuses, got, c.want)
		}
	}
	s := &retrySeries{key: retryKey{typ: "message", mid: "m"}, n: 3, statuses: []int{400, 401, 200}, last: time.Unix(9, 0), first: time.Unix(0, 0)}
	if got := retryPattern(s); !strings.Contains(got, "posted 3 times in 9.0 s (answered 400, 401, 200)") {
		t.Errorf("mixed pattern %q", got)
	}
}

// "channelId": "" is the validator's 400, not another channel's 403; a
// syntax error is a 400 too; a well-formed channelId of another token is
// the only 403.
func TestMostSpecificReasonWins(t *testing.T) {
	a := Channel{ID: "chanA", Token: "tokenAAAAAAAAAAAAAAAAAAAAAA", IDType: channel.IDPhone}
	b := Channel{ID: "chanB", Token: "tokenBBBBBBBBBBBBBBBBBBBBBB", IDType: channel.IDPhone}
	e := start(t, Options{Channels: []Channel{a, b}})
	good, _ := json.Marshal(textIn(b, "+60177872890", "m1", "hi"))
	empty := strings.Replace(string(good), `"channelId":"chanB"`, `"channelId":""`, 1)
	broken := strings.Replace(string(good), `"events":[`, `"events":[[`, 1)
	for _, c := range []struct {
		name, body string
		want       int
		msg        string
	}{
		{"empty channelId", empty, 400, `"channelId" is empty`},
		{"another channel, body broken", broken, 400, ""},
		{"another channel's ID", string(good), 403, `channelId "chanB" does not belong to this API token`},
	} {
		got := postRaw(t, e.WebhookURL(), "Bearer "+a.Token, "application/json", []byte(c.body))
		var eb errorBody
		_ = json.Unmarshal([]byte(got.body), &eb)
		if got.status != c.want || !strings.Contains(eb.Error.Message, c.msg) {
			t.Fatalf("%s: %d %q, want %d %q", c.name, got.status, eb.Error.Message, c.want, c.msg)
		}
	}
}

// A receipt that reaches the platform before it has read the /message reply
// carrying its mId is held until the reply is stored, applied, and warned
// about. The server here answers /message only once its receipt is held,
// which forces the race every run.
func TestReceiptBeforeItsReplyIsHeldAndApplied(t *testing.T) {
	held := make(chan struct{})
	var e *Emulator
	receiptDone := make(chan answer, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch := e.Channel()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		go func() {
			b, _ := json.Marshal(receipt(ch, "+60177872890", "srv-1", channel.StatusDelivered, ""))
			a, err := tryPostRaw(e.WebhookURL(), "Bearer "+ch.Token, "application/json", b)
			if err != nil {
				a.body = err.Error()
			}
			receiptDone <- a
		}()
		select {
		case <-held:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, `{"mId":"srv-1"}`)
	}))
	t.Cleanup(srv.Close)
	e = start(t, Options{Channels: []Channel{GenerateChannel(channel.IDPhone, srv.URL)}})
	var once bool
	e.store.onHold = func() {
		if !once {
			once = true
			close(held)
		}
	}
	m, err := e.Send(t.Context(), "", "+60177872890", channel.Text("hi"))
	if err != nil || m.MID != "srv-1" {
		t.Fatalf("send: %v %+v", err, m)
	}
	var a answer
	select {
	case a = <-receiptDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the receipt post never finished")
	}
	if a.status != http.StatusOK || !strings.Contains(a.body, "before the platform could know the mId") {
		t.Fatalf("receipt: %d %s", a.status, a.body)
	}
	got, _ := e.MessageByMID(e.Channel().ID, "srv-1")
	if got.Status != channel.StatusDelivered {
		t.Fatalf("the held receipt was not applied: %+v", got)
	}
	var rules []string
	for _, w := range e.Warnings() {
		rules = append(rules, w.Rule)
	}
	if strings.Join(rules, ",") != WarnStatusEarly {
		t.Fatalf("warnings %v, want only %s", rules, WarnStatusEarly)
	}
}
