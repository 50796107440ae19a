package emulator

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitUntil polls cond until it holds or the deadline passes (a wait, not a
// timed assertion: the deadline only bounds a hang).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func openStream(t *testing.T, e *Emulator) *http.Response {
	t.Helper()
	// The timeout only bounds a hang; every stream here ends sooner.
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Get(e.URL() + "/_emulator/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestEventStreamCapAnswers503(t *testing.T) {
	e := start(t, Options{MaxStreams: 2})
	var open []*http.Response
	for i := 0; i < 2; i++ {
		resp := openStream(t, e)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i+1, resp.StatusCode)
		}
		open = append(open, resp)
	}
	resp := openStream(t, e)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("stream over the cap: %d", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"error":{"message":"too many event streams`) {
		t.Fatalf("stream over the cap: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Closing one frees its slot.
	open[0].Body.Close()
	waitUntil(t, "a closed stream to free its slot", func() bool { return e.bus.streams() < 2 })
	if resp := openStream(t, e); resp.StatusCode != http.StatusOK {
		t.Fatalf("stream after one closed: %d", resp.StatusCode)
	}
}

// Streams whose readers never read neither block publishing nor stay
// subscribed: they are dropped once they lag, and their connections end
// when a write passes its deadline.
func TestStreamsThatNeverReadAreDropped(t *testing.T) {
	e := start(t, Options{StreamWriteTimeout: 200 * time.Millisecond})
	const n = 8
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", strings.TrimPrefix(e.URL(), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /_emulator/events HTTP/1.1\r\nHost: "+strings.TrimPrefix(e.URL(), "http://")+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	waitUntil(t, "every stream to subscribe", func() bool { return e.bus.streams() == n })

	big := strings.Repeat("x", 32<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 4*streamBuffer; i++ {
			e.bus.publish(Event{Kind: EventWarning, Summary: big})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("publishing blocked on streams that do not read")
	}
	waitUntil(t, "the lagging streams to be dropped", func() bool { return !e.bus.hasSubscribers() })
	e.bus.mu.Lock()
	dropped := e.bus.dropped
	e.bus.mu.Unlock()
	if dropped == 0 {
		t.Fatal("no event was counted as dropped")
	}
	// The server ends each connection: reading drains what the kernel
	// buffered and then meets the end.
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		rd := bufio.NewReader(c)
		if _, err := io.Copy(io.Discard, rd); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("connection %d still open after its stream was dropped", i)
			}
		}
	}
	// A new stream still works.
	if resp := openStream(t, e); resp.StatusCode != http.StatusOK {
		t.Fatalf("new stream: %d", resp.StatusCode)
	}
}

// A stream that stops reading is ended by its write deadline even when it
// lags too few events to be dropped for lagging.
func TestStreamWriteDeadlineDropsAStalledReader(t *testing.T) {
	e := start(t, Options{StreamWriteTimeout: 200 * time.Millisecond})
	addr := strings.TrimPrefix(e.URL(), "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /_emulator/events HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stream to subscribe", func() bool { return e.bus.streams() == 1 })
	// streamBuffer/2 events of 256 KiB: far more than socket buffers hold,
	// too few to lag.
	big := strings.Repeat("y", 256<<10)
	for i := 0; i < streamBuffer/2; i++ {
		e.bus.publish(Event{Kind: EventWarning, Summary: big})
	}
	waitUntil(t, "the stalled stream to be dropped", func() bool { return e.bus.streams() == 0 })
	e.bus.mu.Lock()
	dropped := e.bus.dropped
	e.bus.mu.Unlock()
	if dropped != 0 {
		t.Fatalf("%d events dropped: the stream lagged instead of timing out", dropped)
	}
}

func TestBusEvictsALaggingStreamNotTheLibrarySubscriber(t *testing.T) {
	b := newBus()
	lib, cancelLib := b.subscribe()
	defer cancelLib()
	ch, lagged, cancel, ok := b.subscribeStream(1)
	if !ok {
		t.Fatal("first stream refused")
	}
	defer cancel()
	if _, _, _, ok := b.subscribeStream(1); ok {
		t.Fatal("a second stream was accepted over a cap of 1")
	}
	for i := 0; i < streamBuffer+1; i++ {
		b.publish(Event{Kind: EventWarning})
	}
	n := 0
	for range ch { // closed once it lagged: the loop ends
		n++
	}
	if n != streamBuffer || !lagged() || b.streams() != 0 {
		t.Fatalf("stream got %d events, lagged %v, %d streams left", n, lagged(), b.streams())
	}
	if len(lib) != streamBuffer+1 {
		t.Fatalf("library subscriber has %d events", len(lib))
	}
}
