package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

func start(t *testing.T, opts Options) *Emulator {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

type answer struct {
	status int
	header http.Header
	body   string
}

func postRaw(t *testing.T, url, auth, contentType string, body []byte) answer {
	t.Helper()
	a, err := tryPostRaw(url, auth, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryPostRaw is postRaw for other goroutines: it returns the error instead
// of failing the test (t.Fatal must run on the test's goroutine).
func tryPostRaw(url, auth, contentType string, body []byte) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return answer{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}, nil
}

func post(t *testing.T, e *Emulator, ch Channel, wh channel.Webhook) answer {
	t.Helper()
	b, _ := json.Marshal(wh)
	return postRaw(t, e.WebhookURL(), "Bearer "+ch.Token, "application/json", b)
}

func textIn(ch Channel, contact, mid, text string) channel.Webhook {
	ev := channel.NewEvent(channel.EventMessage, channel.Text(text))
	ev.MID = mid
	return channel.NewWebhook(ch.ID, contact, &channel.Contact{FirstName: "John", LastName: "Doe"}, ev)
}

func receipt(ch Channel, contact, mid string, v channel.StatusValue, reason string) channel.Webhook {
	return channel.NewWebhook(ch.ID, contact, nil, channel.NewReceipt(mid, v, reason))
}

func TestWebhookAuth(t *testing.T) {
	a := Channel{ID: "chanA", Token: "tokenAAAAAAAAAAAAAAAAAAAAAA", IDType: channel.IDPhone}
	b := Channel{ID: "chanB", Token: "tokenBBBBBBBBBBBBBBBBBBBBBB", IDType: channel.IDCustom}
	e := start(t, Options{Channels: []Channel{a, b}})
	body, _ := json.Marshal(textIn(a, "+60177872890", "m1", "hi"))

	cases := []struct {
		name, auth string
		want       int
	}{
		{"missing header", "", http.StatusUnauthorized},
		{"wrong scheme", "Basic " + a.Token, http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"token of another channel", "Bearer " + b.Token, http.StatusForbidden},
		{"right token, lower-case scheme", "bearer " + a.Token, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := postRaw(t, e.WebhookURL(), c.auth, "application/json", body)
			if got.status != c.want {
				t.Fatalf("status %d, want %d (%s)", got.status, c.want, got.body)
			}
			if c.want != http.StatusOK && !strings.Contains(got.body, `"error":{"message":`) {
				t.Fatalf("error body %s lacks error.message", got.body)
			}
			if strings.Contains(got.body, a.Token) || strings.Contains(got.body, b.Token) {
				t.Fatalf("answer leaks a token: %s", got.body)
			}
		})
	}
	if n := len(e.Messages(Filter{})); n != 1 {
		t.Fatalf("%d messages stored, want 1 (only the authorised post)", n)
	}
	checkConsistent(t, e)
}

func TestWebhookBothPathsAndMethod(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	for i, u := range []string{e.WebhookURL(), strings.TrimSuffix(e.WebhookURL(), "/")} {
		b, _ := json.Marshal(textIn(ch, "+60177872890", fmt.Sprintf("m%d", i), "hi"))
		if got := postRaw(t, u, "Bearer "+ch.Token, "application/json", b); got.status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", u, got.status, got.body)
		}
	}
	resp, err := http.Get(e.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET webhook: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestWebhookValidationRejectsAndKeepsState(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	if got := post(t, e, ch, textIn(ch, "+60177872890", "good", "hi")); got.status != 200 {
		t.Fatalf("valid post: %d %s", got.status, got.body)
	}
	before := e.State()
	bad := map[string]string{
		"not json":          `{"channelId":`,
		"not an object":     `[1,2]`,
		"no events":         fmt.Sprintf(`{"channelId":%q,"contactId":"+60177872890"}`, ch.ID),
		"phone id is wrong": fmt.Sprintf(`{"channelId":%q,"contactId":"60177872890","events":[{"type":"message","mId":"x1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`, ch.ID),
		"mId too long":      fmt.Sprintf(`{"channelId":%q,"contactId":"+60177872890","events":[{"type":"message","mId":%q,"timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`, ch.ID, strings.Repeat("m", 51)),
		"bad event type":    fmt.Sprintf(`{"channelId":%q,"contactId":"+60177872890","events":[{"type":"nope","mId":"x2","timestamp":1732435200000}]}`, ch.ID),
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			got := postRaw(t, e.WebhookURL(), "Bearer "+ch.Token, "application/json", []byte(body))
			if got.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", got.status, got.body)
			}
			var eb errorBody
			if err := json.Unmarshal([]byte(got.body), &eb); err != nil || eb.Error.Message == "" {
				t.Fatalf("error body %q: %v", got.body, err)
			}
		})
	}
	after := e.State()
	if len(after.Messages) != len(before.Messages) || len(after.Contacts) != len(before.Contacts) {
		t.Fatalf("rejected posts changed the state: %d→%d messages", len(before.Messages), len(after.Messages))
	}
	checkConsistent(t, e)
}

func TestWebhookBodyLimit(t *testing.T) {
	e := start(t, Options{MaxBody: 64})
	ch := e.Channel()
	got := post(t, e, ch, textIn(ch, "+60177872890", "m1", strings.Repeat("x", 200)))
	if got.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", got.status)
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	a := GenerateChannel(channel.IDPhone, "")
	b := GenerateChannel(channel.IDPhone, "")
	e := start(t, Options{Channels: []Channel{a, b}, RateLimit: 5})
	const burst = 60
	var ok, limited atomic.Int32
	var retryAfter atomic.Value
	var wg sync.WaitGroup
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body, _ := json.Marshal(textIn(a, "+60177872890", fmt.Sprintf("m%d", i), "hi"))
			got, err := tryPostRaw(e.WebhookURL(), "Bearer "+a.Token, "application/json", body)
			if err != nil {
				t.Error(err)
				return
			}
			switch got.status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
				retryAfter.Store(got.header.Get("Retry-After"))
			default:
				t.Errorf("status %d: %s", got.status, got.body)
			}
		}(i)
	}
	wg.Wait()
	if limited.Load() == 0 {
		t.Fatalf("no 429 in a burst of %d at 5 req/s (%d ok)", burst, ok.Load())
	}
	if ok.Load() < 5 {
		t.Fatalf("only %d accepted; the burst allowance is 5", ok.Load())
	}
	if ra, _ := retryAfter.Load().(string); ra == "" || ra == "0" {
		t.Fatalf("429 without a positive Retry-After (%q)", ra)
	}
	// The bucket is per channel: the other channel is untouched.
	if got := post(t, e, b, textIn(b, "+60177872890", "other", "hi")); got.status != http.StatusOK {
		t.Fatalf("channel b limited by channel a's burst: %d", got.status)
	}
	if n := len(e.Messages(Filter{ChannelID: a.ID})); n != int(ok.Load()) {
		t.Fatalf("%d messages stored, want %d accepted", n, ok.Load())
	}
}

func TestRateLimitOff(t *testing.T) {
	e := start(t, Options{RateLimit: 0})
	ch := e.Channel()
	for i := 0; i < 100; i++ {
		if got := post(t, e, ch, textIn(ch, "+60177872890", fmt.Sprintf("m%d", i), "hi")); got.status != 200 {
			t.Fatalf("post %d: %d", i, got.status)
		}
	}
}

// fakeServer is an integration server's /message endpoint.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []channel.OutgoingRequest
	auth     []string
	paths    []string
}

func newFakeServer(t *testing.T, answer func(n int, req channel.OutgoingRequest) (int, string)) *fakeServer {
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req channel.OutgoingRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.paths = append(f.paths, r.URL.Path)
		n := len(f.requests)
		f.mu.Unlock()
		status, body := answer(n, req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func TestOutgoingSuccess(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) {
		return 200, fmt.Sprintf(`{"mId":"provider-%d"}`, n)
	})
	ch := GenerateChannel(channel.IDPhone, srv.URL+"/")
	e := start(t, Options{Channels: []Channel{ch}})
	m, err := e.Send(context.Background(), ch.ID, "+60177872890", channel.Text("Hello from an agent"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != channel.StatusSent || m.MID != "provider-1" || m.Direction != Out || m.Origin != OriginPlatform {
		t.Fatalf("stored %+v", m)
	}
	if srv.paths[0] != "/message" || srv.auth[0] != "Bearer "+ch.Token {
		t.Fatalf("call went to %q with auth %q", srv.paths[0], srv.auth[0])
	}
	got := srv.requests[0]
	if got.ChannelID != ch.ID || got.ContactID != "+60177872890" || got.Message.Text != "Hello from an agent" {
		t.Fatalf("server got %+v", got)
	}
	if !contains(e.Contacts(ch.ID), "+60177872890") {
		t.Fatal("a phone channel starting a conversation did not create the contact")
	}
	if _, ok := e.MessageByMID(ch.ID, "provider-1"); !ok {
		t.Fatal("returned mId not indexed")
	}
	checkConsistent(t, e)
}

func contains(cs []Contact, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

func TestOutgoingFailures(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		reason string
	}{
		{"4xx with error body", 400, `{"error":{"message":"provider said no"}}`, "provider said no"},
		{"401", 401, `{"error":{"message":"unauthorized"}}`, "HTTP 401"},
		{"500 plain text", 500, "boom", "boom"},
		{"200 without mId", 200, `{}`, `breaks the contract: mId: `},
		{"200 not json", 200, `ok`, "(json-syntax)"},
		{"201 is not the contract", 201, `{"mId":"x"}`, "HTTP 201"},
		{"200 mId too long", 200, fmt.Sprintf(`{"mId":%q}`, strings.Repeat("x", 51)), "maximum is 50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newFakeServer(t, func(int, channel.OutgoingRequest) (int, string) { return c.status, c.body })
			ch := GenerateChannel(channel.IDPhone, srv.URL)
			e := start(t, Options{Channels: []Channel{ch}})
			m, err := e.Send(context.Background(), "", "+60177872890", channel.Text("hi"))
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != channel.StatusFailed || !strings.Contains(m.Reason, c.reason) || m.MID != "" {
				t.Fatalf("stored status %q reason %q mId %q; want failed with %q", m.Status, m.Reason, m.MID, c.reason)
			}
			if m.Reply == nil || m.Reply.HTTPStatus != c.status {
				t.Fatalf("reply info %+v", m.Reply)
			}
			checkConsistent(t, e)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		ch := GenerateChannel(channel.IDPhone, url)
		e := start(t, Options{Channels: []Channel{ch}})
		m, err := e.Send(context.Background(), "", "+60177872890", channel.Text("hi"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != channel.StatusFailed || !strings.Contains(m.Reason, "POST "+url+"/message") {
			t.Fatalf("status %q reason %q", m.Status, m.Reason)
		}
	})
}

func TestOutgoingRefusals(t *testing.T) {
	srv := newFakeServer(t, func(int, channel.OutgoingRequest) (int, string) { return 200, `{"mId":"x"}` })
	custom := GenerateChannel(channel.IDCustom, srv.URL)
	nobase := GenerateChannel(channel.IDPhone, "")
	e := start(t, Options{Channels: []Channel{custom, nobase}})
	ctx := context.Background()
	if _, err := e.Send(ctx, custom.ID, "someone", channel.Text("hi")); err == nil || !strings.Contains(err.Error(), "cannot start") {
		t.Fatalf("custom channel started a conversation: %v", err)
	}
	if _, err := e.Send(ctx, custom.ID, "", channel.Text("hi")); err == nil || !strings.Contains(err.Error(), "no contacts") {
		t.Fatalf("send without contacts: %v", err)
	}
	if _, err := e.Send(ctx, nobase.ID, "+60177872890", channel.Text("hi")); err == nil || !strings.Contains(err.Error(), "API base URL") {
		t.Fatalf("send without base URL: %v", err)
	}
	if _, err := e.Send(ctx, "nope", "+60177872890", channel.Text("hi")); err == nil {
		t.Fatal("unknown channel accepted")
	}
	if _, err := e.Send(ctx, custom.ID, "has-dash", channel.Text("hi")); err == nil {
		t.Fatal("invalid custom contact id accepted")
	}
	if len(srv.requests) != 0 {
		t.Fatalf("refused sends reached the server %d times", len(srv.requests))
	}
	// Once the contact writes, the custom channel may answer.
	if got := post(t, e, custom, textIn(custom, "someone", "in1", "hello")); got.status != 200 {
		t.Fatalf("post: %d %s", got.status, got.body)
	}
	m, err := e.Send(ctx, custom.ID, "", channel.Text("hi back"))
	if err != nil || m.ContactID != "someone" || m.Status != channel.StatusSent {
		t.Fatalf("reply to latest contact: %+v %v", m, err)
	}
}

func TestStatusTransitions(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) { return 200, fmt.Sprintf(`{"mId":"out-%d"}`, n) })
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	const who = "+60177872890"
	ctx := context.Background()
	m1, _ := e.Send(ctx, ch.ID, who, channel.Text("one"))
	m2, _ := e.Send(ctx, ch.ID, who, channel.Text("two"))

	steps := []struct {
		mid     string
		value   channel.StatusValue
		reason  string
		want    channel.StatusValue
		warning string
	}{
		{m1.MID, channel.StatusDelivered, "", channel.StatusDelivered, ""},
		{m1.MID, channel.StatusRead, "", channel.StatusRead, ""},
		{m1.MID, channel.StatusDelivered, "", channel.StatusRead, WarnStatusBackwards},
		{m2.MID, channel.StatusFailed, "Invalid token", channel.StatusFailed, ""},
		{m2.MID, channel.StatusRead, "", channel.StatusFailed, WarnStatusAfterFail},
	}
	for i, s := range steps {
		nw := len(e.Warnings())
		if got := post(t, e, ch, receipt(ch, who, s.mid, s.value, s.reason)); got.status != 200 {
			t.Fatalf("step %d: %d %s", i, got.status, got.body)
		}
		m, _ := e.MessageByMID(ch.ID, s.mid)
		if m.Status != s.want {
			t.Fatalf("step %d: status %q, want %q", i, m.Status, s.want)
		}
		ws := e.Warnings()[nw:]
		if s.warning == "" && len(ws) != 0 || s.warning != "" && (len(ws) != 1 || ws[0].Rule != s.warning) {
			t.Fatalf("step %d: warnings %+v, want %q", i, ws, s.warning)
		}
	}
	m1s, _ := e.MessageByMID(ch.ID, m1.MID)
	var tl []string
	for _, c := range m1s.Timeline {
		tl = append(tl, fmt.Sprintf("%s/%v", c.Status, c.Applied))
	}
	if got := strings.Join(tl, " "); got != "sent/true delivered/true read/true delivered/false" {
		t.Fatalf("timeline %s", got)
	}
	m2s, _ := e.MessageByMID(ch.ID, m2.MID)
	if m2s.Reason != "Invalid token" {
		t.Fatalf("failure reason %q", m2s.Reason)
	}
	checkConsistent(t, e)
}

func TestEchoIsStoredAsOutgoing(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	ev := channel.NewEvent(channel.EventEcho, channel.Text("sent from the provider's app"))
	if got := post(t, e, ch, channel.NewWebhook(ch.ID, "+60177872890", nil, ev)); got.status != 200 {
		t.Fatalf("%d %s", got.status, got.body)
	}
	m, ok := e.MessageByMID(ch.ID, ev.MID)
	if !ok || m.Direction != Out || m.Origin != OriginEcho || m.Status != channel.StatusSent {
		t.Fatalf("echo stored as %+v", m)
	}
	// Receipts apply to echoes too.
	post(t, e, ch, receipt(ch, "+60177872890", ev.MID, channel.StatusDelivered, ""))
	if m, _ = e.MessageByMID(ch.ID, ev.MID); m.Status != channel.StatusDelivered {
		t.Fatalf("echo status %q after delivered receipt", m.Status)
	}
}

func TestUnknownMIDIsAWarning(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	got := post(t, e, ch, receipt(ch, "+60177872890", "never-sent", channel.StatusRead, ""))
	if got.status != 200 || !strings.Contains(got.body, "unknown mId") {
		t.Fatalf("%d %s", got.status, got.body)
	}
	ws := e.Warnings()
	if len(ws) != 1 || ws[0].Rule != WarnUnknownMID || ws[0].MID != "never-sent" {
		t.Fatalf("warnings %+v", ws)
	}
	if len(e.Messages(Filter{})) != 0 {
		t.Fatal("an unknown receipt created a message")
	}
	// A receipt for a message the contact sent is ignored with a warning.
	post(t, e, ch, textIn(ch, "+60177872890", "in-1", "hi"))
	post(t, e, ch, receipt(ch, "+60177872890", "in-1", channel.StatusRead, ""))
	if m, _ := e.MessageByMID(ch.ID, "in-1"); m.Status != StatusReceived {
		t.Fatalf("incoming message status moved to %q", m.Status)
	}
	checkConsistent(t, e)
}

func TestDuplicateMIDAndContactCreation(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	post(t, e, ch, textIn(ch, "+60177872890", "dup", "first"))
	got := post(t, e, ch, textIn(ch, "+60177872890", "dup", "second"))
	if got.status != 200 || !strings.Contains(got.body, "already stored") {
		t.Fatalf("%d %s", got.status, got.body)
	}
	ms := e.Messages(Filter{ContactID: "+60177872890"})
	if len(ms) != 1 || ms[0].Content.Text != "first" {
		t.Fatalf("messages %+v", ms)
	}
	cs := e.Contacts("")
	if len(cs) != 1 || cs[0].Profile == nil || cs[0].Profile.FirstName != "John" {
		t.Fatalf("contacts %+v", cs)
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	ch := GenerateChannel(channel.IDPhone, "")
	e, err := New(Options{Channels: []Channel{ch}, StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	post(t, e, ch, textIn(ch, "+60177872890", "keep-me", "remember"))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v", info.Mode().Perm())
	}
	e2 := start(t, Options{Channels: []Channel{ch}, StatePath: path})
	m, ok := e2.MessageByMID(ch.ID, "keep-me")
	if !ok || m.Content.Text != "remember" {
		t.Fatalf("after restart: %+v %v", m, ok)
	}
	// Seq keeps counting and duplicates are still recognised.
	post(t, e2, ch, textIn(ch, "+60177872890", "keep-me", "again"))
	post(t, e2, ch, textIn(ch, "+60177872890", "next", "two"))
	ms := e2.Messages(Filter{})
	if len(ms) != 2 || ms[1].Seq <= ms[0].Seq {
		t.Fatalf("messages after restart %+v", ms)
	}
	checkConsistent(t, e2)
}

func TestCorruptStateIsNeverWiped(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage": "{ this is not json",
		"empty":   "",
		"future":  `{"version": 99}`,
		// Parseable but contradictory: the indexes and the inbox rely on these.
		"twice":     `{"version":1,"contacts":[{"channelId":"a","contactId":"1"},{"channelId":"a","contactId":"1"}]}`,
		"orphan":    `{"version":1,"messages":[{"seq":1,"channelId":"a","contactId":"nobody","timeline":[{"status":"received"}]}]}`,
		"seq-order": `{"version":1,"contacts":[{"channelId":"a","contactId":"1"}],"messages":[{"seq":2,"channelId":"a","contactId":"1","timeline":[{}]},{"seq":2,"channelId":"a","contactId":"1","timeline":[{}]}]}`,
		"seq-range": `{"version":1,"seq":9007199254740992}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".json")
			os.WriteFile(path, []byte(content), 0o600)
			_, err := New(Options{StatePath: path})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("New on a corrupt state: %v", err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != content {
				t.Fatalf("corrupt state file was rewritten: %q", got)
			}
		})
	}
}

// A hand-made state may leave out a message's timeline: it starts at the
// message's status, so receipts move it as usual.
func TestStateWithoutTimelineLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	ch := GenerateChannel(channel.IDPhone, "")
	os.WriteFile(path, []byte(`{"version":1,"contacts":[{"channelId":"`+ch.ID+`","contactId":"+60177872890"}],
		"messages":[{"seq":1,"channelId":"`+ch.ID+`","contactId":"+60177872890","mId":"o1","direction":"out","status":"sent","timestamp":5}]}`), 0o600)
	e := start(t, Options{Channels: []Channel{ch}, StatePath: path})
	checkConsistent(t, e)
	post(t, e, ch, receipt(ch, "+60177872890", "o1", channel.StatusRead, ""))
	m, _ := e.MessageByMID(ch.ID, "o1")
	if len(m.Timeline) != 2 || m.Timeline[0].Status != channel.StatusSent || m.Status != channel.StatusRead {
		t.Fatalf("message after a receipt: %+v", m)
	}
}

func TestInspectionAPIAndSend(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) { return 200, `{"mId":"api-1"}` })
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	post(t, e, ch, textIn(ch, "+60177872890", "in-1", "hi"))
	post(t, e, ch, textIn(ch, "+60123456789", "in-2", "other"))

	c := &Client{BaseURL: e.URL()}
	res, err := c.Send(context.Background(), "", "+60177872890", channel.QuickReply("Rate us", "Good", "Bad"))
	if err != nil || !res.OK || res.Message.MID != "api-1" {
		t.Fatalf("client send: %+v %v", res, err)
	}
	if srv.requests[0].Message.Type != channel.MessageQuickReply {
		t.Fatalf("server got %+v", srv.requests[0])
	}

	var msgs struct{ Messages []Message }
	getJSON(t, e.URL()+"/_emulator/messages?contactId=%2B60177872890", &msgs)
	if len(msgs.Messages) != 2 || msgs.Messages[1].MID != "api-1" {
		t.Fatalf("messages of one contact: %+v", msgs.Messages)
	}
	var cs struct{ Contacts []Contact }
	getJSON(t, e.URL()+"/_emulator/contacts", &cs)
	if len(cs.Contacts) != 2 {
		t.Fatalf("contacts %+v", cs.Contacts)
	}
	raw := getBody(t, e.URL()+"/_emulator/")
	if strings.Contains(raw, ch.Token) || !strings.Contains(raw, ch.ID) {
		t.Fatalf("info leaks the token or lacks the channel: %s", raw)
	}
	// Bad API requests are 4xx, never crashes.
	if got := postRaw(t, e.URL()+"/_emulator/channels/"+ch.ID+"/send", "", "application/json", []byte("{")); got.status != 400 {
		t.Fatalf("bad send body: %d", got.status)
	}
	if got := postRaw(t, e.URL()+"/_emulator/channels/nope/send", "", "application/json", []byte(`{"message":{"type":"text","text":"x"}}`)); got.status != 404 {
		t.Fatalf("unknown channel: %d", got.status)
	}
	if got := postRaw(t, e.URL()+"/_emulator/channels/"+ch.ID+"/send", "", "application/json", []byte(`{"contactId":"+60177872890","message":{"type":"text"}}`)); got.status != 400 {
		t.Fatalf("invalid message: %d %s", got.status, got.body)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getBody(t, url)), v); err != nil {
		t.Fatal(err)
	}
}

func TestEventStream(t *testing.T) {
	e := start(t, Options{})
	ch := e.Channel()
	resp, err := http.Get(e.URL() + "/_emulator/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content-type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	// The preamble comment proves the subscription exists before we post.
	if line, _ := rd.ReadString('\n'); !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q", line)
	}
	post(t, e, ch, textIn(ch, "+60177872890", "sse-1", "hi"))
	postRaw(t, e.WebhookURL(), "Bearer wrong", "application/json", []byte("{}"))
	post(t, e, ch, receipt(ch, "+60177872890", "ghost", channel.StatusRead, ""))
	want := []EventKind{EventWebhookAccepted, EventContactCreated, EventMessageReceived, EventWebhookRejected, EventWebhookAccepted, EventWarning}
	var got []EventKind
	for len(got) < len(want) {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %v: %v", got, err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Kind)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestInboxRendering(t *testing.T) {
	srv := newFakeServer(t, func(n int, _ channel.OutgoingRequest) (int, string) { return 200, `{"mId":"o1"}` })
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e := start(t, Options{Channels: []Channel{ch}})
	post(t, e, ch, textIn(ch, "+60177872890", "in-1", "hello there"))
	e.Send(context.Background(), "", "", channel.Text("hi back"))
	post(t, e, ch, receipt(ch, "+60177872890", "o1", channel.StatusDelivered, ""))
	st := e.State()
	var b strings.Builder
	WriteInbox(&b, st, Conversations(st, "", ""), plainStyles())
	out := b.String()
	for _, want := range []string{"Contact +60177872890 (John Doe)", `← text "hello there"  received`, `→ text "hi back"  delivered  mId o1`, "sent → delivered"} {
		if !strings.Contains(out, want) {
			t.Fatalf("inbox lacks %q:\n%s", want, out)
		}
	}
}

// TestShutdownFinishesInFlight: a request in progress when Close is called
// completes, its result is stored and the state file has it.
func TestShutdownFinishesInFlight(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done(): // a failed test closes the server: do not hang its cleanup
			return
		}
		w.Write([]byte(`{"mId":"late-1"}`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "state.json")
	ch := GenerateChannel(channel.IDPhone, srv.URL)
	e, err := New(Options{Channels: []Channel{ch}, StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		answer
		err error
	}
	got := make(chan result, 1)
	go func() {
		a, err := tryPostRaw(e.URL()+"/_emulator/channels/"+ch.ID+"/send", "", "application/json",
			[]byte(`{"contactId":"+60177872890","message":{"type":"text","text":"slow"}}`))
		got <- result{a, err}
	}()
	deadline := time.After(20 * time.Second)
	select {
	case <-arrived:
	case r := <-got:
		t.Fatalf("the send finished before reaching the server: %+v", r)
	case <-deadline:
		t.Fatal("the send never reached the server")
	}
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	case <-e.Done():
	case <-deadline:
		t.Fatal("Close never began")
	}
	close(release)
	var a result
	select {
	case a = <-got:
	case <-deadline:
		t.Fatal("the in-flight request never finished")
	}
	if a.err != nil || a.status != 200 || !strings.Contains(a.body, `"mId":"late-1"`) {
		t.Fatalf("in-flight request: %d %s %v", a.status, a.body, a.err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(path)
	if err != nil || len(st.Messages) != 1 || st.Messages[0].MID != "late-1" {
		t.Fatalf("state after shutdown: %+v %v", st.Messages, err)
	}
	// New connections are refused after shutdown.
	if _, err := http.Get(e.URL() + "/_emulator/health"); err == nil {
		t.Fatal("emulator still answers after Close")
	}
}

// TestWebhookTrimsChannelToken: a channel token with surrounding white space
// (a pasted token, a file's newline) still matches the trimmed header.
func TestWebhookTrimsChannelToken(t *testing.T) {
	a := Channel{ID: "chanA", Token: "tokenAAAAAAAAAAAAAAAAAAAAAA \n", IDType: channel.IDPhone}
	e := start(t, Options{Channels: []Channel{a}})
	body, _ := json.Marshal(textIn(a, "+60177872890", "m1", "hi"))
	if got := postRaw(t, e.WebhookURL(), "Bearer tokenAAAAAAAAAAAAAAAAAAAAAA", "application/json", body); got.status != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", got.status, got.body)
	}
}
