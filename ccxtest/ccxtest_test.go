package ccxtest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/ccxtest"
)

// A server that takes every /message call, whatever its token, and answers
// the same mId: Check must fail it, naming the checks.
func TestCheckFailsABrokenServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"mId":"always-the-same"}`))
	}))
	defer srv.Close()
	ft := runFake(t, func(ft testing.TB) {
		ccxtest.Check(ft, ccxtest.CheckOptions{ServerURL: srv.URL, Channel: ccxtest.Channel{ID: "ch1", Token: "secret-token-123"}})
	})
	out := ft.output()
	if !ft.Failed() {
		t.Fatalf("Check passed a server that takes every token:\n%s", out)
	}
	for _, want := range []string{"auth-missing: ", "auth-wrong: ", "mid-unique: ", "bad-json: ", "request:", "answer:   HTTP 200"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "text: text message") {
		t.Errorf("the text check (which this server passes) was reported as failing:\n%s", out)
	}
}

// With a *testing.T, every check is a subtest; the relay passes them all.
func TestCheckPassesTheRelayAsSubtests(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	tw := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{NoReceipts: true})
	server := startRelay(t, "twilio", p.WebhookURL(), p.Channel(), tw.BaseURL(), tw.Credentials())
	ccxtest.Check(t, ccxtest.CheckOptions{ServerURL: server, Channel: p.Channel()})
}

func TestCheckUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	ft := runFake(t, func(ft testing.TB) {
		ccxtest.Check(ft, ccxtest.CheckOptions{ServerURL: url, Channel: ccxtest.Channel{ID: "ch1", Token: "secret-token-123"}})
	})
	if !ft.fatal || !strings.Contains(ft.output(), "did not answer any call") {
		t.Fatalf("want a fatal 'did not answer', got fatal=%v:\n%s", ft.fatal, ft.output())
	}
}

// A wait that ends says what the platform saw: here a post with the wrong
// token, refused with 401.
func TestWaitMessagesSaysWhatThePlatformSaw(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{Wait: 200 * time.Millisecond})
	body := `{"channelId":"` + p.ChannelID() + `","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1700000000000,"message":{"type":"text","text":"hi"}}]}`
	req, _ := http.NewRequest(http.MethodPost, p.WebhookURL(), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer not-the-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ft := runFake(t, func(ft testing.TB) { p.WaitMessages(ft, "+60177872890", 1) })
	out := ft.output()
	if !ft.fatal {
		t.Fatalf("WaitMessages did not fail though nothing was stored:\n%s", out)
	}
	for _, want := range []string{"waited", `1 message from the server for contact "+60177872890"; it posted 0`, "webhook posts received: 1", "refused: 1 (HTTP 401 ×1); the last: 401 {\"error\":{\"message\":"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failure lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, p.Token()) {
		t.Errorf("the failure shows the channel token:\n%s", out)
	}
}

// deadlineT is a fakeT whose test ends soon (go test -timeout).
type deadlineT struct {
	*fakeT
	deadline time.Time
}

func (t *deadlineT) Deadline() (time.Time, bool) { return t.deadline, true }

// A wait ends before the test's deadline, even when its own limit is later.
func TestWaitEndsBeforeTheTestDeadline(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{Wait: time.Hour})
	ft := newFakeT()
	dt := &deadlineT{fakeT: ft, deadline: time.Now().Add(700 * time.Millisecond)}
	end := make(chan struct{})
	go func() {
		defer close(end)
		p.WaitMessages(dt, "", 1)
	}()
	select {
	case <-end:
	case <-time.After(30 * time.Second):
		t.Fatal("WaitMessages ignored the test's deadline")
	}
	ft.done()
	if !ft.fatal || !strings.Contains(ft.output(), "waited") {
		t.Fatalf("want a fatal 'waited', got:\n%s", ft.output())
	}
}

func TestWaitStatusAndMessagesPass(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	tw := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{NoReceipts: true})
	server := startRelay(t, "twilio", p.WebhookURL(), p.Channel(), tw.BaseURL(), tw.Credentials())
	p.SetServerURL(t, server)
	out := p.Send(t, "+60177872890", ccxtest.Text("hello"))
	if out.Status != ccxtest.Sent || out.MID == "" {
		t.Fatalf("Send: status %s, mId %q, reason %q", out.Status, out.MID, out.Reason)
	}
	sends := tw.WaitSends(t, 1)
	if sends[0].Message.Text != "hello" {
		t.Fatalf("twilio got %+v", sends[0].Message)
	}
	resp := tw.PostReceipt(t, "", ccxtest.Receipt{ProviderID: sends[0].ID, To: "+60177872890", Status: ccxtest.Read})
	if resp.Status >= 300 {
		t.Fatalf("the relay refused the status callback: %d %s", resp.Status, resp.Body)
	}
	if got := p.WaitStatus(t, out.MID, ccxtest.Read); got.ContactID != "+60177872890" {
		t.Fatalf("WaitStatus returned %+v", got)
	}
	if n := len(p.Posted("")); n != 0 {
		t.Fatalf("Posted lists %d messages; the server posted only a receipt", n)
	}
	if n := len(p.Messages("")); n != 1 {
		t.Fatalf("Messages lists %d, want the one sent", n)
	}
	// The log takes the post once it is answered, a moment after the
	// receipt is applied.
	var kinds []string
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		kinds = kinds[:0]
		for _, r := range p.Requests() {
			kinds = append(kinds, r.Kind)
		}
		if len(kinds) >= 2 || time.Now().After(end) {
			break
		}
	}
	if strings.Join(kinds, ",") != "message,webhook" {
		t.Fatalf("request log kinds %v, want the /message call then the receipt post", kinds)
	}
}

// A webhook signed with the wrong key must be refused and reach nothing.
func TestPostInboundBadSignature(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	tw := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{})
	server := startRelay(t, "twilio", p.WebhookURL(), p.Channel(), tw.BaseURL(), tw.Credentials())
	resp := tw.PostInbound(t, server+"/providers/twilio/inbound", ccxtest.Inbound{From: "+60177872890", Message: ccxtest.Text("hi"), BadSignature: true})
	if resp.Status < 400 || resp.Status >= 500 {
		t.Fatalf("the relay answered a badly signed webhook %d %s", resp.Status, resp.Body)
	}
	good := tw.PostInbound(t, server+"/providers/twilio/inbound", ccxtest.Inbound{From: "+60177872890", Message: ccxtest.Text("hi")})
	if good.Status != http.StatusOK {
		t.Fatalf("the relay answered a well signed webhook %d %s", good.Status, good.Body)
	}
	if got := p.WaitMessages(t, "", 1); len(got) != 1 {
		t.Fatalf("the platform has %d messages, want only the well signed one", len(got))
	}
}

func TestHelpersFailClearly(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	cases := []struct {
		name, want string
		f          func(ft testing.TB)
	}{
		{"send without server", "no server URL: set PlatformOptions.ServerURL or call SetServerURL", func(ft testing.TB) { p.Send(ft, "+60177872890", ccxtest.Text("x")) }},
		{"bad server URL", `SetServerURL("ftp://x")`, func(ft testing.TB) { p.SetServerURL(ft, "ftp://x") }},
		{"unknown provider", `unknown provider "twillio": use one of clicksend,`, func(ft testing.TB) { ccxtest.NewProvider(ft, "twillio", ccxtest.ProviderOptions{}) }},
		{"telegram receipt", "telegram sends no delivery receipts", func(ft testing.TB) {
			ccxtest.NewProvider(ft, "telegram", ccxtest.ProviderOptions{}).PostReceipt(ft, "http://127.0.0.1:1/", ccxtest.Receipt{ProviderID: "1", Status: ccxtest.Read})
		}},
		{"check without token", "CheckOptions.Channel has no token", func(ft testing.TB) {
			ccxtest.Check(ft, ccxtest.CheckOptions{ServerURL: "http://127.0.0.1:1"})
		}},
		{"check bad id", `unknown check "txt"`, func(ft testing.TB) {
			ccxtest.Check(ft, ccxtest.CheckOptions{ServerURL: "http://127.0.0.1:1", Channel: p.Channel(), Only: []string{"txt"}})
		}},
		{"e2e unknown provider", `unknown provider "nope"`, func(ft testing.TB) { ccxtest.NewE2E(ft, "nope", ccxtest.E2EOptions{}) }},
		{"wait sends", "1 call to the twilio fake at http://127.0.0.1:", func(ft testing.TB) {
			ccxtest.NewProvider(ft, "twilio", ccxtest.ProviderOptions{Wait: 100 * time.Millisecond}).WaitSends(ft, 1)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ft := runFake(t, c.f)
			if !ft.fatal || !strings.Contains(ft.output(), c.want) {
				t.Fatalf("want a fatal containing %q, got fatal=%v:\n%s", c.want, ft.fatal, ft.output())
			}
		})
	}
}

// A server that answers /message without calling the provider fails the
// e2e out-text check, reported under its id.
func TestE2EFailsAServerThatSendsNothing(t *testing.T) {
	loop := ccxtest.NewE2E(t, "twilio", ccxtest.E2EOptions{Only: []string{"out-text"}, Timeout: time.Second})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"mId": "m-" + time.Now().Format("150405.000000000")})
	}))
	defer srv.Close()
	ft := runFake(t, func(ft testing.TB) { loop.Run(ft, srv.URL) })
	if out := ft.output(); !ft.Failed() || !strings.Contains(out, "out-text: ") || !strings.Contains(out, "hop:") {
		t.Fatalf("want out-text failing with its hop, got failed=%v:\n%s", ft.Failed(), out)
	}
}

func TestE2EPassesTheRelayAsSubtests(t *testing.T) {
	loop := ccxtest.NewE2E(t, "twilio", ccxtest.E2EOptions{Only: []string{"in-text", "out-text", "receipt-delivered", "fail-recipient"}})
	server := startRelay(t, "twilio", loop.WebhookURL(), loop.Channel(), loop.ProviderURL(), loop.Credentials())
	loop.Run(t, server)
}

func TestProviderEnv(t *testing.T) {
	tw := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{Credentials: map[string]string{"CCX_TWILIO_FROM": "+15550001111"}})
	env := tw.Env()
	creds := tw.Credentials()
	if len(env) != len(creds) || len(env) == 0 {
		t.Fatalf("Env %v does not match Credentials %v", env, creds)
	}
	for i, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if creds[k] != v || (i > 0 && env[i-1] > kv) {
			t.Fatalf("Env %v: %q is not a sorted credential", env, kv)
		}
	}
	if creds["CCX_TWILIO_FROM"] != "+15550001111" {
		t.Fatalf("the given business number was not kept: %v", creds)
	}
	creds["CCX_TWILIO_FROM"] = "changed"
	if tw.Credentials()["CCX_TWILIO_FROM"] != "+15550001111" {
		t.Fatal("Credentials hands out the fake's own map")
	}
}

// What the server echoes (a message the business sent another way) is
// stored as an outgoing, sent message, apart from what the contact wrote.
func TestPostedKeepsEchoesApart(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	post := func(typ, mid, text string) {
		t.Helper()
		body := `{"channelId":"` + p.ChannelID() + `","contactId":"+60177872890","events":[{"type":"` + typ + `","mId":"` + mid +
			`","timestamp":1700000000000,"message":{"type":"text","text":"` + text + `"}}]}`
		req, _ := http.NewRequest(http.MethodPost, p.WebhookURL(), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.Token())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the platform answered %d", resp.StatusCode)
		}
	}
	post("message", "m-in", "question")
	post("message_echo", "m-echo", "answer from the phone app")
	got := p.WaitMessages(t, "+60177872890", 2)
	if got[0].Origin != ccxtest.FromContact || got[0].Status != ccxtest.Received ||
		got[1].Origin != ccxtest.Echo || got[1].Status != ccxtest.Sent || got[1].Content.Text != "answer from the phone app" {
		t.Fatalf("stored %+v", got)
	}
	if m, ok := p.Message("m-echo"); !ok || m.Direction != ccxtest.Outgoing {
		t.Fatalf("Message(m-echo) = %+v, %v", m, ok)
	}
	if cs := p.Contacts(); len(cs) != 1 || cs[0].ID != "+60177872890" {
		t.Fatalf("contacts %+v", cs)
	}
	p.Reset()
	if n := len(p.Messages("")) + len(p.Requests()); n != 0 {
		t.Fatalf("Reset left %d messages and requests", n)
	}
}
