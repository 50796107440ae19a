package relay

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// racyAdapter plays a provider whose status callback (with no recipient,
// as ClickSend's) reaches the relay before the provider's own answer to the
// send: Send returns only once the callback has arrived at the relay.
type racyAdapter struct {
	url     string
	n       atomic.Int64
	mu      sync.Mutex
	arrived map[string]chan struct{}
}

func (a *racyAdapter) Name() string { return "racy" }

func (a *racyAdapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	id := fmt.Sprintf("RACY-%d", a.n.Add(1))
	ch := make(chan struct{})
	a.mu.Lock()
	a.arrived[id] = ch
	a.mu.Unlock()
	go func() {
		resp, err := http.Post(a.url+"/providers/racy/status", "text/plain", strings.NewReader(id))
		if err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-ch:
		return id, nil
	case <-time.After(5 * time.Second):
		return "", &provider.Error{Status: 400, Message: "the callback never arrived"}
	}
}

func (a *racyAdapter) Verify(r *http.Request, body []byte) error { return nil }

func (a *racyAdapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	return []provider.Inbound{{Kind: provider.KindStatus, ProviderID: string(body), Status: &channel.Status{Value: channel.StatusDelivered}}}, nil
}

// arrivals marks a callback as arrived once its request reached the relay.
func (a *racyAdapter) arrivals(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/providers/racy/status" {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 64))
			id := string(b)
			a.mu.Lock()
			ch := a.arrived[id]
			a.mu.Unlock()
			if ch != nil {
				close(ch)
			}
			r.Body = io.NopCloser(strings.NewReader(id))
		}
		next.ServeHTTP(w, r)
	})
}

func TestReceiptBeforeTheProvidersAnswerIsKept(t *testing.T) {
	ad := &racyAdapter{arrived: map[string]chan struct{}{}}
	r := newRigFor(t, func(url string) provider.Adapter { ad.url = url; return ad }, channel.IDPhone, nil)
	// Serve the engine behind the arrival marker on a second listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: ad.arrivals(r.eng.Handler())}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ad.url = "http://" + ln.Addr().String()

	const n = 20
	var mids []string
	for i := 0; i < n; i++ {
		m, err := r.emu.Send(t.Context(), "", "+61411111111", channel.Text(fmt.Sprintf("hi %d", i)))
		if err != nil || m.Status == channel.StatusFailed {
			t.Fatalf("send %d: %v %+v", i, err, m)
		}
		mids = append(mids, m.MID)
	}
	waitFor(t, "every receipt applied", func() bool {
		for _, mid := range mids {
			got, _ := r.emu.MessageByMID(r.opts.ChannelID, mid)
			if got.Status != channel.StatusDelivered {
				return false
			}
		}
		return true
	})
}
