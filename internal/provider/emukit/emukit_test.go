package emukit

import (
	"context"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestRecorder(t *testing.T) {
	r := NewRecorder("x")
	var seen []provider.Send
	cancel := r.Subscribe(func(s provider.Send) { seen = append(seen, s); _ = r.Sends() }) // reading back must not deadlock
	a := r.Add(provider.Send{ID: "A", Body: []byte("b")})
	r.Add(provider.Send{ID: "B"})
	r.AddCallback(a.Seq, provider.Callback{Status: channel.StatusSent, Answer: 200})
	cancel()
	r.Add(provider.Send{ID: "C"})
	if len(seen) != 3 || seen[0].Seq != 1 || seen[1].Seq != 2 || seen[2].Seq != 1 || len(seen[2].Callbacks) != 1 || seen[0].Provider != "x" {
		t.Fatalf("notifications %+v", seen)
	}
	seen[0].Body[0] = 'X' // a subscriber's copy is its own
	if got, _ := r.ByID("A"); string(got.Body) != "b" || len(got.Callbacks) != 1 {
		t.Fatalf("ByID %+v", got)
	}
	if _, ok := r.ByID(""); ok {
		t.Fatal("an empty id matched a refused send")
	}
	for i := 0; i < MaxSends+5; i++ {
		r.Add(provider.Send{})
	}
	if s := r.Sends(); len(s) != MaxSends || s[len(s)-1].Seq != MaxSends+8 {
		t.Fatalf("bounded record: %d, last seq %d", len(s), s[len(s)-1].Seq)
	}
}

func TestFaults(t *testing.T) {
	var f Faults
	f.Set(provider.Faults{RateLimit: 2, RetryAfter: 3 * time.Second, Reject: []string{"+1"}})
	for i := 0; i < 2; i++ {
		if ok, ra := f.RateLimited(); !ok || ra != 3*time.Second {
			t.Fatal("rate limit")
		}
	}
	if ok, _ := f.RateLimited(); ok {
		t.Fatal("only the next 2")
	}
	if !f.Rejected("whatsapp:+1", "+1") || f.Rejected("+2", "") || f.Fail() {
		t.Fatal("reject / fail")
	}
	f.Set(provider.Faults{FailRate: 1})
	if !f.Fail() {
		t.Fatal("fail rate 1")
	}
	if RetryAfterSeconds(0) != 1 || RetryAfterSeconds(1500*time.Millisecond) != 2 {
		t.Fatal("RetryAfterSeconds")
	}
}

func TestCallbacksBoundedAndClosed(t *testing.T) {
	var c Callbacks
	block := make(chan struct{})
	for i := 0; i < Workers; i++ {
		if !c.Go(func(ctx context.Context) { <-block }) {
			t.Fatal("refused while empty")
		}
	}
	n := 0
	for c.Go(func(context.Context) {}) {
		n++
		if n > QueueSize+Workers {
			t.Fatal("the queue is not bounded")
		}
	}
	if n < QueueSize-Workers {
		t.Fatalf("queue took only %d", n)
	}
	close(block)
	c.Close()
	if c.Go(func(context.Context) {}) {
		t.Fatal("accepted after Close")
	}
}

func TestMIME(t *testing.T) {
	if MIMEOf("https://x/a.JPG?x=1") != "image/jpeg" || MIMEOf("https://x/a") != "" {
		t.Fatal("MIMEOf")
	}
	if AttachmentMIME(&channel.Attachment{Type: channel.AttachmentAudio, URL: "https://x/v"}) != "audio/ogg" {
		t.Fatal("AttachmentMIME default")
	}
	if CheckTarget("http://127.0.0.1:1/x") != nil || CheckTarget("/x") == nil || CheckTarget("ftp://h/x") == nil {
		t.Fatal("CheckTarget")
	}
}
