package serve

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
	"github.com/ccx-cli/ccx/internal/provider/zalo"
)

func TestServerControlAndEvents(t *testing.T) {
	e := twilio.NewEmulator(twilio.EmulatorOptions{NoReceipts: true})
	s := New(e)
	var mu sync.Mutex
	var events []Event
	cancel := Watch(e, func(ev Event) { mu.Lock(); events = append(events, ev); mu.Unlock() })
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, time.Second) }()
	base := "http://" + ln.Addr().String()

	var health map[string]any
	getJSON(t, base+"/_provider/health", &health)
	if health["ok"] != true || health["provider"] != "twilio" {
		t.Fatalf("health %v", health)
	}
	// Knobs through the control API reach the emulator.
	resp, err := http.Post(base+"/_provider/faults", "application/json", strings.NewReader(`{"rateLimit":1,"retryAfter":"2s"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("faults: %v %v", resp, err)
	}
	resp.Body.Close()
	if f := s.Faults(); f.RateLimit != 1 || f.RetryAfter != 2*time.Second {
		t.Fatalf("faults %+v", f)
	}
	resp, _ = http.Post(base+"/_provider/faults", "application/json", strings.NewReader(`{"failRate":2}`))
	if resp.StatusCode != 400 {
		t.Fatalf("fail rate 2 accepted: %d", resp.StatusCode)
	}
	resp.Body.Close()
	a := twilio.New(twilio.Options{BaseURL: base, AccountSID: e.Credentials()["CCX_TWILIO_ACCOUNT_SID"], AuthToken: e.Credentials()["CCX_TWILIO_AUTH_TOKEN"], From: "+15005550006"})
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("one")}); err == nil {
		t.Fatal("the rate limit knob did not apply")
	}
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: channel.Text("two")}); err != nil {
		t.Fatal(err)
	}
	var sends []provider.Send
	getJSON(t, base+"/_provider/sends", &sends)
	if len(sends) != 2 || sends[0].Status != 429 || sends[1].Message.Text != "two" {
		t.Fatalf("sends %+v", sends)
	}
	resp, _ = http.Get(base + "/_provider/nope")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown control endpoint: %d", resp.StatusCode)
	}
	resp.Body.Close()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].Kind != "send" || events[1].Send.Message.Text != "two" {
		t.Fatalf("events %+v", events)
	}
}

func TestWatchReportsEachCallbackOnce(t *testing.T) {
	e := &fakeEmu{}
	var got []string
	cancel := Watch(e, func(ev Event) {
		s := ev.Kind
		if ev.Callback != nil {
			s += ":" + string(ev.Callback.Status)
		}
		got = append(got, s)
	})
	defer cancel()
	s := provider.Send{Seq: 1}
	e.fn(s)
	s.Callbacks = append(s.Callbacks, provider.Callback{Status: channel.StatusSent})
	e.fn(s)
	s.Callbacks = append(s.Callbacks, provider.Callback{Status: channel.StatusDelivered})
	e.fn(s)
	e.fn(provider.Send{Seq: 2})
	if strings.Join(got, ",") != "send,callback:sent,callback:delivered,send" {
		t.Fatalf("%v", got)
	}
}

type fakeEmu struct {
	provider.Emulator
	fn func(provider.Send)
}

func (f *fakeEmu) Subscribe(fn func(provider.Send)) func() { f.fn = fn; return func() {} }

func TestCheckFaults(t *testing.T) {
	for _, f := range []provider.Faults{{FailRate: -0.1}, {FailRate: 1.5}, {RateLimit: -1}, {RetryAfter: -time.Second}} {
		if CheckFaults(f) == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	if _, err := (FaultsJSON{RetryAfter: "soon"}).Faults(); err == nil {
		t.Error("bad duration accepted")
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

// POST /_provider/expire-token expires a Zalo fake's access tokens: the
// server's next call must refresh; providers without tokens say so.
func TestExpireToken(t *testing.T) {
	e := zalo.NewEmulator(zalo.EmulatorOptions{NoReceipts: true})
	srv := httptest.NewServer(New(e))
	defer srv.Close()
	c := e.Credentials()
	a, err := zalo.New(zalo.Options{BaseURL: srv.URL, AppID: c["CCX_ZALO_APP_ID"], AppSecret: c["CCX_ZALO_APP_SECRET"], OASecretKey: c["CCX_ZALO_OA_SECRET_KEY"],
		AccessToken: c["CCX_ZALO_ACCESS_TOKEN"], RefreshToken: c["CCX_ZALO_REFRESH_TOKEN"]})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(srv.URL + "/_provider/expire-token"); err != nil || resp.StatusCode != 405 {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp, err := http.Post(srv.URL+"/_provider/expire-token", "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "1", Message: channel.Text("hi")}); err != nil || e.Refreshes() != 1 {
		t.Fatalf("%v, %d refreshes", err, e.Refreshes())
	}
	tw := httptest.NewServer(New(twilio.NewEmulator(twilio.EmulatorOptions{NoReceipts: true})))
	defer tw.Close()
	if resp, err := http.Post(tw.URL+"/_provider/expire-token", "application/json", nil); err != nil || resp.StatusCode != 404 {
		t.Fatalf("twilio: %v %v", resp, err)
	}
}
