package relay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
)

func TestLoopbackRoundTrip(t *testing.T) {
	lb := loopback.New()
	r := newRig(t, lb, channel.IDPhone, nil)
	m, err := r.emu.Send(t.Context(), "", "+60177872890", channel.Text("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if m.MID == "" || m.Status == channel.StatusFailed {
		t.Fatalf("send failed: %+v", m)
	}
	waitFor(t, "reply and delivered receipt", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return len(r.inbound()) == 1 && got.Status == channel.StatusDelivered
	})
	if in := r.inbound()[0]; in.Content.Text != "echo: hi" || in.ContactID != "+60177872890" {
		t.Fatalf("reply = %+v", in)
	}
	for _, w := range r.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
}

func TestMessageAuthAndValidationComeFromListen(t *testing.T) {
	r := newRig(t, loopback.New(), channel.IDPhone, nil)
	req, _ := http.NewRequest(http.MethodPost, r.url+"/message", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no token: status %d, want 401", resp.StatusCode)
	}
	st, body := r.postMessage("not-a-phone", channel.Text("x"))
	if st != 400 || errMsg(body) == "" {
		t.Fatalf("bad contact: %d %v", st, body)
	}
}

func clicksendRig(t *testing.T, tweak func(*Options)) (*rig, *clicksend.Fake) {
	fake := clicksend.NewFake()
	t.Cleanup(fake.Close)
	ad := clicksend.New(clicksend.Options{BaseURL: fake.URL(), Username: fake.Username, APIKey: fake.APIKey, Secret: "s3cr3t-path-token"})
	return newRig(t, ad, channel.IDPhone, tweak), fake
}

func TestClickSendInboundDedupeAndReceipts(t *testing.T) {
	r, _ := clicksendRig(t, nil)
	in := r.url + "/providers/clicksend/inbound/s3cr3t-path-token"
	for i := 0; i < 3; i++ { // the provider retries the same push
		st, err := clicksend.Push(nil, in, clicksend.InboundForm("MSG-1", "+61411111111", "+61400000000", "hello", 1700000000))
		if err != nil || st != 200 {
			t.Fatalf("push %d: %v %d", i, err, st)
		}
	}
	st, _ := clicksend.Push(nil, r.url+"/providers/clicksend/inbound/wrong", clicksend.InboundForm("MSG-2", "+61411111111", "", "x", 1))
	if st != http.StatusForbidden {
		t.Fatalf("wrong secret: %d", st)
	}
	waitFor(t, "inbound", func() bool { return len(r.inbound()) == 1 })
	got := r.inbound()[0]
	if got.MID != "MSG-1" || got.Timestamp != 1700000000000 || got.Content.Text != "hello" {
		t.Fatalf("inbound = %+v", got)
	}
	// Outgoing, then receipts out of order: delivered then sent (ignored).
	m, err := r.emu.Send(t.Context(), "", "+61411111111", channel.Text("hi back"))
	if err != nil || m.Status == channel.StatusFailed {
		t.Fatalf("send: %v %+v", err, m)
	}
	rc := r.url + "/providers/clicksend/receipt/s3cr3t-path-token"
	for _, code := range []string{"201", "200", "300"} {
		if st, err := clicksend.Push(nil, rc, clicksend.ReceiptForm(m.MID, code, "x", 1700000001)); err != nil || st != 200 {
			t.Fatalf("receipt %s: %v %d", code, err, st)
		}
	}
	waitFor(t, "delivered", func() bool {
		got, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
		return got.Status == channel.StatusDelivered
	})
	waitFor(t, "spool drained", func() bool { return r.eng.Spool().Stats().Depth == 0 })
	got2, _ := r.emu.MessageByMID(r.opts.ChannelID, m.MID)
	if len(got2.Timeline) > 2 {
		t.Errorf("status went backwards: %+v", got2.Timeline)
	}
	for _, w := range r.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
}

func TestClickSendErrorMapping(t *testing.T) {
	r, fake := clicksendRig(t, nil)
	st, body := r.postMessage("+61411111111", channel.Text("hi"))
	if st != 200 || body["mId"] == "" {
		t.Fatalf("ok send: %d %v", st, body)
	}
	// A 200 from ClickSend with a failed message is a failure.
	fake.SetFaults(provider.Faults{BadCredentials: true})
	st, body = r.postMessage("+61411111111", channel.Text("hi"))
	if st != 400 || !strings.Contains(errMsg(body), "credentials") {
		t.Fatalf("bad creds: %d %v", st, body)
	}
	fake.SetFaults(provider.Faults{RateLimit: 100})
	st, body = r.postMessage("+61411111111", channel.Text("hi"))
	if st != 429 || !strings.Contains(errMsg(body), "rate limit") {
		t.Fatalf("429: %d %v", st, body)
	}
	fake.SetFaults(provider.Faults{RateLimit: 1}) // one 429, then the retry inside the call succeeds
	if st, body = r.postMessage("+61411111111", channel.Text("hi")); st != 200 {
		t.Fatalf("429 then ok: %d %v", st, body)
	}
	fake.SetFaults(provider.Faults{FailRate: 1})
	st, body = r.postMessage("+61411111111", channel.Text("hi"))
	if st < 400 || st > 499 {
		t.Fatalf("provider down must be a 4xx, got %d %v", st, body)
	}
	fake.SetFaults(provider.Faults{})
	if st, _ = r.postMessage("+61411111111", channel.Text("hi")); st != 200 {
		t.Fatalf("provider back up: %d", st)
	}
	fake.Server.Close()
	st, body = r.postMessage("+61411111111", channel.Text("hi"))
	if st != 400 || !strings.Contains(errMsg(body), "unreachable") {
		t.Fatalf("unreachable: %d %v", st, body)
	}
}

func TestClickSendInvalidRecipientInside200(t *testing.T) {
	fake := clicksend.NewFake()
	defer fake.Close()
	ad := clicksend.New(clicksend.Options{BaseURL: fake.URL(), Username: fake.Username, APIKey: fake.APIKey})
	_, err := ad.Send(t.Context(), channel.OutgoingRequest{ContactID: "12345", Message: channel.Text("x")})
	if err == nil || !strings.Contains(err.Error(), "INVALID_RECIPIENT") {
		t.Fatalf("err = %v", err)
	}
}

// platformStorm is a webhook that fails the first n posts (alternating 429
// with Retry-After and 503) before passing them on to the emulator.
func TestPlatformStormDeliversEverythingOnce(t *testing.T) {
	var calls atomic.Int64
	var target atomic.Value
	storm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := calls.Add(1)
		if n <= 40 {
			if n%2 == 0 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(429)
			} else {
				w.WriteHeader(503)
			}
			return
		}
		body, _ := io.ReadAll(req.Body)
		preq, _ := http.NewRequest(http.MethodPost, target.Load().(string), strings.NewReader(string(body)))
		preq.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(preq)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer storm.Close()
	r, _ := clicksendRig(t, func(o *Options) {
		o.WebhookURL = storm.URL
	})
	target.Store(r.emu.WebhookURL())
	in := r.url + "/providers/clicksend/inbound/s3cr3t-path-token"
	for i := 0; i < 50; i++ {
		v := clicksend.InboundForm(fmt.Sprintf("M-%03d", i), fmt.Sprintf("+6141111%04d", i%7), "", fmt.Sprintf("msg %d", i), 1700000000)
		if st, err := clicksend.Push(nil, in, v); err != nil || st != 200 {
			t.Fatalf("push %d: %v %d", i, err, st)
		}
	}
	waitFor(t, "all delivered", func() bool { return len(r.inbound()) == 50 && r.eng.Spool().Stats().Depth == 0 })
	for _, w := range r.emu.Warnings() {
		t.Errorf("emulator warning: %+v", w)
	}
	if calls.Load() <= 50 {
		t.Fatalf("the storm did not happen: %d calls", calls.Load())
	}
}

func TestPlatformDownThenRestartDelivers(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	r, _ := clicksendRig(t, func(o *Options) { o.WebhookURL = down.URL })
	in := r.url + "/providers/clicksend/inbound/s3cr3t-path-token"
	for i := 0; i < 5; i++ {
		if st, _ := clicksend.Push(nil, in, clicksend.InboundForm(fmt.Sprint("R-", i), "+61411111111", "", "x", 1)); st != 200 {
			t.Fatalf("push: %d", st)
		}
	}
	if d := r.eng.Spool().Stats().Depth; d != 5 {
		t.Fatalf("depth = %d, want 5", d)
	}
	// Restart on the same spool with the platform back.
	r.stop()
	r.opts.WebhookURL = r.emu.WebhookURL()
	ln, err := listenOn(r.url)
	if err != nil {
		t.Fatal(err)
	}
	r.start(ln)
	waitFor(t, "resumed delivery", func() bool { return len(r.inbound()) == 5 })
	// The same pushes again (provider retry after our restart) are duplicates.
	for i := 0; i < 5; i++ {
		clicksend.Push(nil, in, clicksend.InboundForm(fmt.Sprint("R-", i), "+61411111111", "", "x", 1))
	}
	waitFor(t, "drained", func() bool { return r.eng.Spool().Stats().Depth == 0 })
	if n := len(r.inbound()); n != 5 {
		t.Fatalf("inbound = %d, want 5", n)
	}
}

func TestSpoolFullAnswers503(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	r, _ := clicksendRig(t, func(o *Options) { o.WebhookURL = down.URL; o.Limits.MaxEntries = 3 })
	in := r.url + "/providers/clicksend/inbound/s3cr3t-path-token"
	codes := []int{}
	for i := 0; i < 5; i++ {
		st, _ := clicksend.Push(nil, in, clicksend.InboundForm(fmt.Sprint("F-", i), "+61411111111", "", "x", 1))
		codes = append(codes, st)
	}
	if fmt.Sprint(codes) != "[200 200 200 503 503]" {
		t.Fatalf("codes = %v", codes)
	}
}

func TestDeadLetterOn400(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"nope"}`)
	}))
	defer bad.Close()
	r, _ := clicksendRig(t, func(o *Options) { o.WebhookURL = bad.URL })
	clicksend.Push(nil, r.url+"/providers/clicksend/inbound/s3cr3t-path-token", clicksend.InboundForm("D-1", "+61411111111", "", "x", 1))
	waitFor(t, "dead letter", func() bool { return r.eng.Spool().Stats().Dead == 1 })
	if d := r.eng.Spool().Stats().Depth; d != 0 {
		t.Fatalf("depth = %d", d)
	}
}

// TestAdminRoutesOffThePublicListener: metrics and the spool state are not
// on the provider-facing handler; the admin handler is read-only and shows no
// customer's phone number.
func TestAdminRoutesOffThePublicListener(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	r, _ := clicksendRig(t, func(o *Options) { o.WebhookURL = down.URL })
	r.postMessage("+61411111111", channel.Text("hi"))
	if st, _ := clicksend.Push(nil, r.url+"/providers/clicksend/inbound/s3cr3t-path-token", clicksend.InboundForm("A-1", "+61422333444", "", "x", 1700000000)); st != 200 {
		t.Fatalf("push: %d", st)
	}
	waitFor(t, "the event pending", func() bool { return r.eng.Spool().Stats().Depth > 0 })
	for _, path := range []string{"/metrics", "/admin/status"} {
		resp, err := http.Get(r.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("public %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, err := http.Get(r.url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("public /healthz: %v %v", resp, err)
	}

	admin := httptest.NewServer(r.eng.AdminHandler())
	defer admin.Close()
	for path, want := range map[string]string{"/healthz": `"ok":true`, "/metrics": "ccx_relay_spool_depth", "/admin/status": `"contactId":"+…444"`} {
		resp, err := http.Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
		if strings.Contains(string(b), "+61422333444") {
			t.Errorf("%s shows the contact's phone number: %s", path, b)
		}
		if path == "/metrics" && !strings.Contains(string(b), `ccx_relay_provider_sends_total{channel="`+r.opts.ChannelID+`",result="ok"} 1`) {
			t.Errorf("metrics miss the send: %s", b)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, admin.URL+"/admin/status", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /admin/status: %d Allow=%q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if resp, err := http.Head(admin.URL + "/admin/status"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	_ = emulator.In
	_ = url.Values{}
}

func TestRedactContact(t *testing.T) {
	for in, want := range map[string]string{"+60177872890": "+…890", "123456789": "…789", "42": "••", "": "", "+…890": "+…890"} {
		if got := RedactContact(in); got != want {
			t.Errorf("RedactContact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnverifiedInbound: an adapter with a webhook nothing verifies is
// refused unless InsecureInbound, and then every such request is logged.
func TestUnverifiedInbound(t *testing.T) {
	fake := clicksend.NewFake()
	defer fake.Close()
	open := clicksend.New(clicksend.Options{BaseURL: fake.URL(), Username: fake.Username, APIKey: fake.APIKey})
	_, err := New(Options{Adapter: open, ChannelID: "c", Token: "tok", WebhookURL: "http://127.0.0.1:9/", SpoolPath: t.TempDir() + "/s.db"})
	if err == nil || !strings.Contains(err.Error(), "unverified") {
		t.Fatalf("New accepted an open clicksend adapter: %v", err)
	}
	var logs lockedBuffer
	r := newRig(t, open, channel.IDPhone, func(o *Options) {
		o.InsecureInbound = true
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	for i := 0; i < 2; i++ {
		if st, _ := clicksend.Push(nil, r.url+"/providers/clicksend/inbound/anything", clicksend.InboundForm(fmt.Sprint("U-", i), "+61411111111", "", "x", 1700000000)); st != 200 {
			t.Fatalf("push: %d", st)
		}
	}
	if n := strings.Count(logs.String(), "accepting a webhook nothing verifies"); n != 2 {
		t.Fatalf("%d warnings for 2 unverified webhooks:\n%s", n, logs.String())
	}
}

// slowAdapter blocks Send until released, to catch a shutdown mid-call.
type slowAdapter struct {
	*loopback.Adapter
	entered, release chan struct{}
}

func (s *slowAdapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	close(s.entered)
	select {
	case <-s.release:
		return "slow-1", nil
	case <-ctx.Done(): // a failed test closes the server: do not hang its cleanup
		return "", ctx.Err()
	}
}

// TestShutdownFinishesInFlightMessage: the provider call is held until the
// server's Shutdown has begun (observed through RegisterOnShutdown, which
// Shutdown runs once it has closed the listeners), so the call and the
// shutdown overlap on every run; the call still gets its 200 and mId, and
// Shutdown waits for it.
func TestShutdownFinishesInFlightMessage(t *testing.T) {
	sa := &slowAdapter{Adapter: loopback.New(), entered: make(chan struct{}), release: make(chan struct{})}
	r := newRig(t, sa, channel.IDPhone, nil)
	shutdownBegan := make(chan struct{})
	r.srv.RegisterOnShutdown(func() { close(shutdownBegan) })
	type res struct {
		st   int
		body map[string]any
		err  error
	}
	got := make(chan res, 1)
	go func() {
		st, body, err := r.tryPostMessage("+60177872890", channel.Text("hi"))
		got <- res{st, body, err}
	}()
	deadline := time.After(20 * time.Second)
	select {
	case <-sa.entered:
	case out := <-got:
		t.Fatalf("/message answered before reaching the provider: %d %v %v", out.st, out.body, out.err)
	case <-deadline:
		t.Fatal("the provider call never started")
	}
	shut := make(chan error, 1)
	go func() { shut <- r.srv.Shutdown(context.Background()) }()
	select {
	case <-shutdownBegan:
	case <-deadline:
		t.Fatal("Shutdown never began")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a /message call in flight", err)
	default:
	}
	close(sa.release)
	var out res
	select {
	case out = <-got:
	case <-deadline:
		t.Fatal("the in-flight call never finished")
	}
	if out.err != nil || out.st != 200 || out.body["mId"] != "slow-1" {
		t.Fatalf("in-flight call: %d %v %v", out.st, out.body, out.err)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatal(err)
		}
	case <-deadline:
		t.Fatal("Shutdown did not return after the call finished")
	}
}

// Drain right after a send must also deliver what the loopback source has
// yet to produce (its reply and receipts), not stop at an empty spool.
func TestDrainWaitsForSourceEvents(t *testing.T) {
	lb := loopback.New()
	lb.Delay = 300 * time.Millisecond
	r := newRig(t, lb, channel.IDPhone, nil)
	m, err := r.emu.Send(t.Context(), "", "+60177872890", channel.Text("hi"))
	if err != nil || m.Status == channel.StatusFailed {
		t.Fatalf("send: %+v, %v", m, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.eng.Drain(ctx)
	if d := r.eng.Spool().Stats().Depth; d != 0 {
		t.Fatalf("spool depth after drain = %d, want 0", d)
	}
	if in := r.inbound(); len(in) != 1 || in[0].Content.Text != "echo: hi" {
		t.Fatalf("reply not delivered by drain: %+v", in)
	}
}
