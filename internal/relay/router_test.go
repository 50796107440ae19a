package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/natstest"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

// twoChannels is a relay of two Twilio channels (each its own fake account)
// in front of one emulator that knows both channels.
type twoChannels struct {
	url     string
	emu     *emulator.Emulator
	rt      *Router
	chans   [2]emulator.Channel
	fakes   [2]*twilio.Fake
	adminMx http.Handler
}

func newTwoChannels(t *testing.T) *twoChannels { return newTwoChannelsOn(t, nil) }

// newTwoChannelsOn queues both channels in one JetStream when nq is set.
func newTwoChannelsOn(t *testing.T, nq *NATSOptions) *twoChannels {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &twoChannels{url: "http://" + ln.Addr().String()}
	for i := range tc.chans {
		tc.chans[i] = emulator.GenerateChannel(channel.IDPhone, "")
		tc.chans[i].APIBaseURL = tc.url + "/" + tc.chans[i].ID
		tc.fakes[i] = twilio.NewFake()
		tc.fakes[i].SetAutoReceipts(true)
		t.Cleanup(tc.fakes[i].Close)
	}
	if tc.emu, err = emulator.New(emulator.Options{Channels: tc.chans[:]}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.emu.Close() })
	dir := t.TempDir()
	var opts []Options
	for i, ch := range tc.chans {
		f := tc.fakes[i]
		ad := twilio.New(twilio.Options{BaseURL: f.URL(), AccountSID: f.AccountSID, AuthToken: f.AuthToken, From: "+15005550006",
			PublicURL: tc.url, WebhookPath: "/providers/" + ch.ID + "/twilio"})
		opts = append(opts, Options{Adapter: ad, ChannelID: ch.ID, Token: ch.Token, IDType: channel.IDPhone,
			WebhookURL: tc.emu.WebhookURL(), SpoolPath: filepath.Join(dir, ch.ID+".db"), PublicURL: tc.url,
			Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, NATS: nq,
			Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	}
	if tc.rt, err = NewRouter(opts); err != nil {
		t.Fatal(err)
	}
	if err := tc.rt.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: tc.rt.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); tc.rt.Close() })
	tc.adminMx = tc.rt.AdminHandler()
	return tc
}

// message posts a /message call to path with token, naming channelID in the body.
func (tc *twoChannels) message(t *testing.T, path, token, channelID, text string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(channel.OutgoingRequest{ChannelID: channelID, ContactID: "+60177872890", Message: channel.Message{Type: channel.MessageText, Text: text}})
	req, _ := http.NewRequest(http.MethodPost, tc.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (tc *twoChannels) inboundOn(id string) []emulator.Message {
	var out []emulator.Message
	for _, m := range tc.emu.Messages(emulator.Filter{}) {
		if m.Direction == emulator.In && m.ChannelID == id {
			out = append(out, m)
		}
	}
	return out
}

// A token is valid for its own channel only: channel A's token on B's
// /message is refused, whichever channel the body names, and B's provider
// sends nothing. Each channel's own call goes to its own provider account.
func TestRouterTokenIsolation(t *testing.T) {
	tc := newTwoChannels(t)
	a, b := tc.chans[0], tc.chans[1]

	for _, body := range []string{b.ID, a.ID} {
		st, out := tc.message(t, "/"+b.ID+"/message", a.Token, body, "forged")
		if st != http.StatusUnauthorized && st != http.StatusForbidden {
			t.Fatalf("A's token on /%s/message (body channelId %s): %d %s, want 401 or 403", b.ID, body, st, out)
		}
	}
	if st, out := tc.message(t, "/message", a.Token, a.ID, "no channel"); st != http.StatusNotFound || !strings.Contains(out, `ends in its channel ID`) {
		t.Fatalf("unscoped /message: %d %s", st, out)
	}
	if n := len(tc.fakes[1].Sends()); n != 0 {
		t.Fatalf("channel B's provider was called %d times with A's token", n)
	}

	// The platform calls each channel at its API base URL, <relay>/<id>.
	for i, text := range []string{"hello A", "hello B"} {
		m, err := tc.emu.Send(context.Background(), tc.chans[i].ID, "+60177872890", channel.Message{Type: channel.MessageText, Text: text})
		if err != nil || m.MID == "" {
			t.Fatalf("channel %d's own call: %+v %v", i, m, err)
		}
	}
	for i, want := range []string{"hello A", "hello B"} {
		sent := tc.fakes[i].Sent()
		if len(sent) != 1 || sent[0].Get("Body") != want {
			t.Fatalf("channel %d's provider sent %v, want only %q", i, sent, want)
		}
		// The status callback carries the channel, so receipts come back to it.
		if cb, wantCB := sent[0].Get("StatusCallback"), tc.url+"/providers/"+tc.chans[i].ID+"/twilio/status"; cb != wantCB {
			t.Fatalf("StatusCallback %q, want %q", cb, wantCB)
		}
	}
	// The fakes' signed receipts reach the right channel's conversation.
	waitFor(t, "delivered receipts on both channels", func() bool {
		n := 0
		for _, m := range tc.emu.Messages(emulator.Filter{}) {
			if m.Direction == emulator.Out && m.Status == channel.StatusDelivered {
				n++
			}
		}
		return n == 2
	})
}

// Provider webhooks go to the channel their path names, verified with that
// channel's credentials: B's webhook signed with A's auth token is refused.
func TestRouterProviderWebhooksPerChannel(t *testing.T) {
	testProviderWebhooksPerChannel(t, newTwoChannels(t))
}

// On one JetStream, the channels' events stay apart (the channel is in the
// subjects and keys): the same provider message id on both channels is two
// messages, one on each, and the status shows each channel's queue.
func TestRouterChannelsShareOneJetStream(t *testing.T) {
	js := natstest.Start(t, t.TempDir())
	tc := newTwoChannelsOn(t, &NATSOptions{URLs: []string{js.URL()}})
	testProviderWebhooksPerChannel(t, tc)
	form := tc.fakes[0].InboundSMS("SMb1", "+60177872890", "+15005550006", "same id, channel A")
	if st, err := twilio.PostSigned(nil, tc.fakes[0].AuthToken, tc.url+"/providers/"+tc.chans[0].ID+"/twilio/inbound", form); err != nil || st != 200 {
		t.Fatalf("A's webhook: %d %v", st, err)
	}
	waitFor(t, "A's inbound, not taken for B's duplicate", func() bool { return len(tc.inboundOn(tc.chans[0].ID)) == 1 })
	st := tc.rt.Stats()
	if len(st.Channels) != 2 || st.Channels[0].Channel == st.Channels[1].Channel {
		t.Fatalf("status per channel: %+v", st)
	}
}

func testProviderWebhooksPerChannel(t *testing.T, tc *twoChannels) {
	t.Helper()
	a, b := tc.chans[0], tc.chans[1]
	form := tc.fakes[1].InboundSMS("SMb1", "+60177872890", "+15005550006", "to B")
	if st, err := twilio.PostSigned(nil, tc.fakes[0].AuthToken, tc.url+"/providers/"+b.ID+"/twilio/inbound", form); err != nil || st != http.StatusForbidden {
		t.Fatalf("B's webhook signed with A's auth token: %d %v, want 403", st, err)
	}
	if st, err := twilio.PostSigned(nil, tc.fakes[1].AuthToken, tc.url+"/providers/"+b.ID+"/twilio/inbound", form); err != nil || st != 200 {
		t.Fatalf("B's webhook: %d %v", st, err)
	}
	waitFor(t, "B's inbound", func() bool { return len(tc.inboundOn(b.ID)) == 1 })
	if n := len(tc.inboundOn(a.ID)); n != 0 {
		t.Fatalf("A got %d of B's inbound messages", n)
	}
	if st, _ := twilio.PostSigned(nil, tc.fakes[1].AuthToken, tc.url+"/providers/twilio/inbound", form); st != http.StatusNotFound {
		t.Fatalf("an unscoped provider path: %d, want 404", st)
	}
}

// The admin routes: every series carries its channel, /admin/status has a
// line per channel and the totals.
func TestRouterAdminPerChannel(t *testing.T) {
	tc := newTwoChannels(t)
	a, b := tc.chans[0], tc.chans[1]
	if st, out := tc.message(t, "/"+a.ID+"/message", a.Token, a.ID, "one"); st != 200 {
		t.Fatalf("%d %s", st, out)
	}
	tc.message(t, "/"+b.ID+"/message", a.Token, b.ID, "refused")
	waitFor(t, "the sent mId recorded", func() bool { return tc.rt.Stats().SentMIDs == 1 })
	get := func(path string) string {
		rec := httptest.NewRecorder()
		tc.adminMx.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
	m := get("/metrics")
	for _, want := range []string{
		`ccx_relay_provider_sends_total{channel="` + a.ID + `",result="ok"} 1`,
		`ccx_relay_provider_sends_total{channel="` + b.ID + `",result="rejected"} 1`,
		`ccx_relay_spool_depth{channel="` + b.ID + `"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics miss %s", want)
		}
	}
	var st MultiStats
	if err := json.Unmarshal([]byte(get("/admin/status")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Channels) != 2 || st.SentMIDs != 1 {
		t.Fatalf("status: %+v", st)
	}
	for _, c := range st.Channels {
		want := int64(0)
		if c.Channel == a.ID {
			want = 1
		}
		if c.SentMIDs != want || (c.Channel != a.ID && c.Channel != b.ID) {
			t.Fatalf("channel %s: %+v", c.Channel, c.Stats)
		}
	}
}

func TestRouterRefusesBadChannels(t *testing.T) {
	ad := twilio.New(twilio.Options{AccountSID: "AC1", AuthToken: "t", From: "+15005550006"})
	o := Options{Adapter: ad, ChannelID: "a", Token: "t", WebhookURL: "http://127.0.0.1:9/", SpoolPath: filepath.Join(t.TempDir(), "a.db")}
	if _, err := NewRouter([]Options{o, o}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("the same channel twice: %v", err)
	}
	o.ChannelID = "a/../b"
	if _, err := NewRouter([]Options{o}); err == nil || !strings.Contains(err.Error(), "path segment") {
		t.Fatalf("a channel ID that is no path segment: %v", err)
	}
}

// pathAdapter records the path its webhooks arrive on.
type pathAdapter struct{ paths chan string }

func (a *pathAdapter) Name() string { return "rec" }
func (a *pathAdapter) Send(context.Context, channel.OutgoingRequest) (string, error) {
	return "id1", nil
}
func (a *pathAdapter) Verify(r *http.Request, _ []byte) error {
	a.paths <- r.URL.Path + " " + r.RequestURI
	return nil
}
func (a *pathAdapter) Parse(*http.Request, []byte) ([]provider.Inbound, error) { return nil, nil }

// Adapters read their own paths (http's hook names, ClickSend's secret
// segment): a scoped engine hands them /providers/<name>/… without the
// channel, and keeps what the client asked for in RequestURI.
func TestScopedEngineHandsAdapterItsOwnPath(t *testing.T) {
	ad := &pathAdapter{paths: make(chan string, 1)}
	rt, err := NewRouter([]Options{{Adapter: ad, ChannelID: "c-1", Token: "t", WebhookURL: "http://127.0.0.1:9/",
		SpoolPath: filepath.Join(t.TempDir(), "c-1.db")}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rec := httptest.NewRecorder()
	rt.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/providers/c-1/rec/inbound/s3cret?x=1", strings.NewReader("{}")))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if got, want := <-ad.paths, "/providers/rec/inbound/s3cret /providers/c-1/rec/inbound/s3cret?x=1"; got != want {
		t.Fatalf("adapter saw %q, want %q", got, want)
	}
}
