package relay

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
)

// rig is a relay between an emulator (the platform) and an adapter.
type rig struct {
	t    *testing.T
	emu  *emulator.Emulator
	eng  *Engine
	srv  *http.Server
	url  string
	opts Options
}

func newRig(t *testing.T, ad provider.Adapter, idType channel.IDType, tweak func(*Options)) *rig {
	t.Helper()
	return newRigFor(t, func(string) provider.Adapter { return ad }, idType, tweak)
}

// newRigFor builds the adapter once the relay's URL is known (Twilio signs it).
func newRigFor(t *testing.T, mk func(url string) provider.Adapter, idType channel.IDType, tweak func(*Options)) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ch := emulator.GenerateChannel(idType, url)
	emu, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	o := Options{Adapter: mk(url), ChannelID: ch.ID, Token: ch.Token, IDType: idType, WebhookURL: emu.WebhookURL(),
		SpoolPath: filepath.Join(t.TempDir(), "spool.db"), PublicURL: url, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(&o)
	}
	r := &rig{t: t, emu: emu, url: url, opts: o}
	r.start(ln)
	return r
}

func (r *rig) start(ln net.Listener) {
	r.t.Helper()
	eng, err := New(r.opts)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.eng = eng
	r.srv = &http.Server{Handler: eng.Handler()}
	go r.srv.Serve(ln)
	r.t.Cleanup(r.stop)
}

func (r *rig) stop() {
	if r.srv != nil {
		r.srv.Close()
		r.eng.Close()
		r.srv = nil
	}
}

// waitFor polls cond until it holds; the deadline only bounds a broken run.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *rig) inbound() []emulator.Message {
	var out []emulator.Message
	for _, m := range r.emu.Messages(emulator.Filter{}) {
		if m.Direction == emulator.In {
			out = append(out, m)
		}
	}
	return out
}

// postMessage calls /message as the platform does.
func (r *rig) postMessage(contact string, m channel.Message) (int, map[string]any) {
	r.t.Helper()
	st, out, err := r.tryPostMessage(contact, m)
	if err != nil {
		r.t.Fatal(err)
	}
	return st, out
}

// tryPostMessage is postMessage for other goroutines: it returns the error
// instead of failing the test.
func (r *rig) tryPostMessage(contact string, m channel.Message) (int, map[string]any, error) {
	b, _ := json.Marshal(channel.OutgoingRequest{ChannelID: r.opts.ChannelID, ContactID: contact, Message: m})
	req, _ := http.NewRequest(http.MethodPost, r.url+"/message", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+r.opts.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

func errMsg(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// listenOn re-binds a port the test just closed (retrying briefly in case
// the kernel has not released it yet).
func listenOn(u string) (net.Listener, error) {
	var err error
	for i := 0; i < 100; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", strings.TrimPrefix(u, "http://")); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// lockedBuffer collects log lines written from the engine's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
