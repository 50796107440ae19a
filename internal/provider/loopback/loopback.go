// Package loopback is a relay adapter with no provider behind it: every
// outgoing message is "delivered" at once (sent and delivered receipts) and
// comes back as the contact's reply. `ccx demo` and tests use it to run the
// whole loop with no account.
package loopback

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// Adapter is the loopback adapter.
type Adapter struct {
	n    atomic.Int64
	mu   sync.Mutex
	sink func(ctx context.Context, in []provider.Inbound) error
	wg   sync.WaitGroup
	// Delay before the receipts and reply follow a send (default 20ms).
	Delay time.Duration
	// NoReply turns off the echoed reply (receipts only).
	NoReply bool
}

// New builds a loopback adapter.
func New() *Adapter { return &Adapter{Delay: 20 * time.Millisecond} }

// Wait blocks until the events of every send so far are spooled.
func (a *Adapter) Wait() { a.wg.Wait() }

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "loopback" }

// SetSink implements provider.Source.
func (a *Adapter) SetSink(f func(ctx context.Context, in []provider.Inbound) error) {
	a.mu.Lock()
	a.sink = f
	a.mu.Unlock()
}

// Reply is what the contact answers to m: the same content, text prefixed
// with "echo: ", a quick reply answered with its first option.
func Reply(m channel.Message) channel.Message {
	switch m.Type {
	case channel.MessageText:
		return channel.Text("echo: " + m.Text)
	case channel.MessageQuickReply:
		if len(m.Replies) > 0 {
			return channel.Text(m.Replies[0])
		}
		return channel.Text("echo: " + m.Title)
	case channel.MessageCustomPayload:
		return channel.Text("echo: custom payload")
	}
	return m
}

// Send implements provider.Adapter: sent and delivered receipts plus a reply
// are spooled before the call returns.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	n := a.n.Add(1)
	id := fmt.Sprintf("lb-%s-%d", channel.NewMID()[:8], n)
	a.mu.Lock()
	sink := a.sink
	a.mu.Unlock()
	if sink == nil {
		return id, nil
	}
	in := []provider.Inbound{
		{Kind: provider.KindStatus, ProviderID: id, ContactID: req.ContactID, Status: &channel.Status{Value: channel.StatusSent}},
		{Kind: provider.KindStatus, ProviderID: id, ContactID: req.ContactID, Status: &channel.Status{Value: channel.StatusDelivered}},
	}
	if !a.NoReply {
		m := Reply(req.Message)
		in = append(in, provider.Inbound{Kind: provider.KindMessage, ProviderID: id + "-r", ContactID: req.ContactID, Message: &m})
	}
	// The platform stores the message under the mId from our reply; events
	// about it must not overtake that reply, so they follow shortly after.
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		time.Sleep(a.Delay)
		_ = sink(context.Background(), in)
	}()
	return id, nil
}

// Verify implements provider.Adapter: the loopback webhook (POST
// /providers/loopback/inbound, a JSON Inbound) is for local tests only and
// takes no secret.
func (a *Adapter) Verify(r *http.Request, body []byte) error { return nil }

// Parse implements provider.Adapter: {"id","from","text"} becomes a message.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	return ParseInbound(body)
}
