package emukit

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// Plain is what an emulator without status callbacks embeds: the record of
// sends and the failure knobs, with the provider.Emulator methods over them.
type Plain struct {
	Rec    *Recorder
	Faults Faults
}

// InitPlain starts an empty record for provider name.
func (p *Plain) InitPlain(name string) { p.Rec = NewRecorder(name) }

// SetFaults implements provider.Emulator.
func (p *Plain) SetFaults(f provider.Faults) { p.Faults.Set(f) }

// Sends implements provider.Emulator.
func (p *Plain) Sends() []provider.Send { return p.Rec.Sends() }

// Subscribe implements provider.Emulator.
func (p *Plain) Subscribe(fn func(provider.Send)) func() { return p.Rec.Subscribe(fn) }

// Base is what an emulator with status callbacks embeds: Plain, the
// callback runner and the automatic-receipts switch.
type Base struct {
	Plain
	CB   Callbacks
	auto atomic.Bool
}

// Init starts the record for provider name; client posts the callbacks
// (nil → DefaultCallbackClient), delay separates the steps of one send, and
// auto is the initial automatic-receipts switch.
func (b *Base) Init(name string, client *http.Client, delay time.Duration, auto bool) {
	b.InitPlain(name)
	b.CB.Client, b.CB.Delay = client, delay
	b.auto.Store(auto)
}

// Close implements provider.Emulator: no new callbacks, the queued ones posted.
func (b *Base) Close() { b.CB.Close() }

// WaitCallbacks blocks until every queued status callback was posted.
func (b *Base) WaitCallbacks() { b.CB.Wait() }

// SetAutoReceipts turns the automatic status callbacks on or off.
func (b *Base) SetAutoReceipts(on bool) { b.auto.Store(on) }

// AutoReceipts reports whether the automatic status callbacks are on.
func (b *Base) AutoReceipts() bool { return b.auto.Load() }

// errQueueRefused is recorded when the runner refuses a send's callbacks.
const errQueueRefused = "callback queue full or emulator closed"

// FireSteps queues the status callbacks of the recorded send s: before each
// step it waits the runner's Delay, builds the request with build and posts
// it, adding each answer (or the build's error, which ends the run) to s's
// record. A refused queue is recorded against the first step.
func (b *Base) FireSteps(s provider.Send, steps []channel.StatusValue, build func(channel.StatusValue) (*http.Request, error)) {
	ok := b.CB.Go(func(ctx context.Context) {
		for _, st := range steps {
			if !Sleep(ctx, b.CB.Delay) {
				return
			}
			req, err := build(st)
			if err != nil {
				b.Rec.AddCallback(s.Seq, provider.Callback{Time: time.Now().UTC(), Status: st, URL: s.CallbackURL, Error: err.Error()})
				return
			}
			b.Rec.AddCallback(s.Seq, b.CB.Post(ctx, req, st, s.CallbackURL))
		}
	})
	if !ok {
		b.Rec.AddCallback(s.Seq, provider.Callback{Time: time.Now().UTC(), Status: steps[0], URL: s.CallbackURL, Error: errQueueRefused})
	}
}

// StartSend reads r's body (up to limit bytes) and starts the record of the
// call: method, path, content type and the recorded part of the body. err is
// the read's (a body over limit included); the record is usable either way.
func StartSend(r *http.Request, limit int64) (body []byte, s provider.Send, err error) {
	body, recorded, trunc, err := ReadBody(r, limit)
	s = provider.Send{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: recorded, Truncated: trunc}
	return body, s, err
}
