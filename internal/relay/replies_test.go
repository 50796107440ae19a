package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// orderLog records what reached the (fake) platform and when the /message
// reply went out, in order.
type orderLog struct {
	mu  sync.Mutex
	log []string
}

func (o *orderLog) add(s string) {
	o.mu.Lock()
	o.log = append(o.log, s)
	o.mu.Unlock()
}

func (o *orderLog) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.log, ", ")
}

// platformFunc is a platform answering in process (no sockets, so the
// synctest bubble sees every goroutine block).
type platformFunc func(*http.Request) *http.Response

func (f platformFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r), nil }

// gatedWriter is the platform's end of a /message call whose reply is slow
// to go out: Flush blocks until the gate opens.
type gatedWriter struct {
	h    http.Header
	code int
	body bytes.Buffer
	gate chan struct{}
	log  *orderLog
}

func (g *gatedWriter) Header() http.Header         { return g.h }
func (g *gatedWriter) WriteHeader(c int)           { g.code = c }
func (g *gatedWriter) Write(b []byte) (int, error) { return g.body.Write(b) }
func (g *gatedWriter) Flush() {
	<-g.gate
	g.log.add("reply " + strings.TrimSpace(g.body.String()))
}

// oneIDAdapter sends everything as provider id P-1.
type oneIDAdapter struct{}

func (oneIDAdapter) Name() string { return "oneid" }
func (oneIDAdapter) Send(context.Context, channel.OutgoingRequest) (string, error) {
	return "P-1", nil
}
func (oneIDAdapter) Verify(*http.Request, []byte) error { return nil }
func (oneIDAdapter) Parse(*http.Request, []byte) ([]provider.Inbound, error) {
	return nil, nil
}

// A receipt ready while its /message reply is still being written waits for
// the reply, however long that takes: the race is forced (the reply's flush
// is held, the receipt accepted meanwhile) and time is synctest's fake
// clock. The old fixed wait (50 ms after the reply, or 5 s without one)
// posted the receipt first once the clock passed 5 s.
func TestReceiptWaitsForItsReplyToBeWritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		order := &orderLog{}
		plat := platformFunc(func(r *http.Request) *http.Response {
			b, _ := io.ReadAll(r.Body)
			order.add("webhook " + string(channel.EventStatus) + " " + jsonMID(b))
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: r}
		})
		eng, err := New(Options{Adapter: oneIDAdapter{}, ChannelID: "chan", Token: "tok", IDType: channel.IDPhone,
			WebhookURL: "http://platform.invalid/custom/channel/webhook/", SpoolPath: filepath.Join(t.TempDir(), "spool.db"),
			HTTPClient: &http.Client{Transport: plat}, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(); err != nil {
			t.Fatal(err)
		}
		defer eng.Close()

		b, _ := json.Marshal(channel.OutgoingRequest{ChannelID: "chan", ContactID: "+61411111111", Message: channel.Text("hi")})
		req, _ := http.NewRequest(http.MethodPost, "/message", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		gw := &gatedWriter{h: http.Header{}, gate: make(chan struct{}), log: order}
		served := make(chan struct{})
		go func() {
			eng.Handler().ServeHTTP(gw, req)
			close(served)
		}()
		release := sync.OnceFunc(func() { close(gw.gate) })
		defer func() { release(); <-served }() // a failing run ends the bubble too
		synctest.Wait()                        // the reply is written and its flush held

		mid := provider.MID("P-1")
		in := provider.Inbound{Kind: provider.KindStatus, ProviderID: "P-1", ContactID: "+61411111111",
			Status: &channel.Status{Value: channel.StatusDelivered}}
		if err := eng.accept(context.Background(), []provider.Inbound{in}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(time.Minute) // fake time: every fixed wait has long run out
		synctest.Wait()
		if got := order.String(); got != "" {
			t.Fatalf("posted before the reply went out: %s", got)
		}
		release()
		<-served
		synctest.Wait() // the worker posts the receipt now
		want := `reply {"mId":"` + mid + `"}, webhook message_status ` + mid
		if got := order.String(); got != want {
			t.Fatalf("order %q, want %q", got, want)
		}
		if cl := gw.h.Get("Content-Length"); cl == "" {
			t.Fatalf("the reply has no Content-Length: the platform cannot tell it is complete at the flush")
		}
	})
}

func jsonMID(b []byte) string {
	var wh channel.Webhook
	if json.Unmarshal(b, &wh) != nil || len(wh.Events) == 0 {
		return "?"
	}
	return wh.Events[0].MID
}

// The waits of replies, on synctest's fake clock: a registered mId waits
// for its reply however long; an unregistered one only while sends whose
// mId is not known yet are in flight, and unknownWait at most.
func TestRepliesWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReplies()
		ctx := context.Background()
		r.await(ctx, "nobody") // nothing in flight: no wait

		done := func(mid string) chan struct{} {
			ch := make(chan struct{})
			go func() { r.await(ctx, mid); close(ch) }()
			return ch
		}
		isDone := func(ch chan struct{}) bool {
			synctest.Wait()
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}

		a := r.begin()
		waitA, waitOther := done("A"), done("other")
		if isDone(waitA) || isDone(waitOther) {
			t.Fatal("a receipt did not wait while a send is in flight")
		}
		a.expect("A") // no send in flight without an mId any more
		if isDone(waitA) || !isDone(waitOther) {
			t.Fatal("after expect: A must wait for its reply, other must not")
		}
		time.Sleep(time.Hour)
		if isDone(waitA) {
			t.Fatal("A stopped waiting before its reply was written")
		}
		a.end()
		if !isDone(waitA) {
			t.Fatal("A still waits after its reply was written")
		}
		r.await(ctx, "A") // written: no wait

		stuck := r.begin() // a send that never returns
		waitX := done("X")
		time.Sleep(unknownWait - time.Millisecond)
		if isDone(waitX) {
			t.Fatal("X gave up before unknownWait")
		}
		time.Sleep(2 * time.Millisecond)
		if !isDone(waitX) {
			t.Fatal("X waits past unknownWait")
		}
		stuck.end()
	})
}
