package ccxtest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/ccxtest"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/relay"
)

// fakeT records what a helper reports, so tests can hold the helpers to
// failing (and examples can run without a *testing.T). Only the methods
// ccxtest calls are implemented; the embedded nil TB panics on others.
type fakeT struct {
	testing.TB
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	failed   bool
	fatal    bool
	lines    []string
	cleanups []func()
	// example: Fatalf panics (an example runs on the test binary's main
	// goroutine, where runtime.Goexit would deadlock).
	example bool
}

func newFakeT() *fakeT {
	t := &fakeT{}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	return t
}

// exampleT stands in for the *testing.T of a real test in the examples.
func exampleT() *fakeT {
	t := newFakeT()
	t.example = true
	return t
}

func (t *fakeT) Helper()                  {}
func (t *fakeT) Name() string             { return "fake" }
func (t *fakeT) Context() context.Context { return t.ctx }
func (t *fakeT) Cleanup(f func())         { t.mu.Lock(); t.cleanups = append(t.cleanups, f); t.mu.Unlock() }
func (t *fakeT) Failed() bool             { t.mu.Lock(); defer t.mu.Unlock(); return t.failed }
func (t *fakeT) Logf(f string, a ...any)  { t.add(false, fmt.Sprintf(f, a...)) }
func (t *fakeT) Log(a ...any)             { t.add(false, fmt.Sprint(a...)) }
func (t *fakeT) Errorf(f string, a ...any) {
	t.add(true, fmt.Sprintf(f, a...))
}
func (t *fakeT) Error(a ...any) { t.add(true, fmt.Sprint(a...)) }
func (t *fakeT) Fatalf(f string, a ...any) {
	t.add(true, fmt.Sprintf(f, a...))
	t.mu.Lock()
	t.fatal = true
	t.mu.Unlock()
	if t.example {
		panic(t.output())
	}
	runtime.Goexit()
}
func (t *fakeT) Fatal(a ...any)           { t.Fatalf("%s", fmt.Sprint(a...)) }
func (t *fakeT) Skipf(f string, a ...any) { t.add(false, "skip: "+fmt.Sprintf(f, a...)) }

func (t *fakeT) add(fail bool, line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = t.failed || fail
	t.lines = append(t.lines, line)
}

func (t *fakeT) output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// done runs the cleanups, last first, as testing does.
func (t *fakeT) done() {
	t.cancel()
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// runFake runs f against a fakeT on its own goroutine (so Fatalf can end
// it) and waits for it, bounded; the caller's t gets the verdict.
func runFake(t *testing.T, f func(t testing.TB)) *fakeT {
	t.Helper()
	ft := newFakeT()
	end := make(chan struct{})
	go func() {
		defer close(end)
		f(ft)
	}()
	select {
	case <-end:
	case <-time.After(30 * time.Second):
		t.Fatal("the helper under test did not return within 30s")
	}
	ft.done()
	return ft
}

// startRelay runs ccx's relay in-process as the integration server under
// test: the examples' "your server". It returns its base URL.
func startRelay(t testing.TB, prov string, webhookURL string, ch ccxtest.Channel, providerURL string, creds map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ad, err := emulators.Adapter(prov, emulators.AdapterConfig{BaseURL: providerURL, PublicURL: url, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ccxtest-relay-")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := relay.New(relay.Options{Adapter: ad, ChannelID: ch.ID, Token: ch.Token, IDType: ch.IDType, WebhookURL: webhookURL,
		SpoolPath: filepath.Join(dir, "spool.db"), PublicURL: url, Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: eng.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = eng.Close()
		_ = os.RemoveAll(dir)
	})
	return url
}
