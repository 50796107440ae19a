package relay

import (
	"context"
	"sync"
	"time"
)

// A provider can report a status before the platform has our /message
// reply (Twilio's callback races its own 201; ClickSend's receipt can beat
// the provider's answer to the send). replies holds such a receipt until
// the reply carrying its mId has been written and flushed to the platform,
// with no fixed grace: the wait ends when the reply is out, not after a
// guessed time.
type replies struct {
	mu sync.Mutex
	// pending counts /message calls whose mId is not known yet (the
	// provider's send is in progress): a receipt for an mId nobody
	// registered may belong to one of them.
	pending int
	out     map[string]*reply // mId → its reply
	changed chan struct{}     // closed and replaced when pending drops or an mId registers
}

type reply struct {
	written chan struct{} // closed once the reply is written and flushed
	at      time.Time     // when it was registered (pruning)
}

// unknownWait bounds the wait for an mId no /message call has registered
// while sends are in flight: under steady traffic one is almost always in
// flight, and a receipt for an older message must not starve.
const unknownWait = 5 * time.Second

func newReplies() *replies {
	return &replies{out: map[string]*reply{}, changed: make(chan struct{})}
}

func (r *replies) wakeLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// begin counts a /message call; the returned call registers its mId and
// says when its reply is out.
func (r *replies) begin() *replyCall {
	r.mu.Lock()
	r.pending++
	r.mu.Unlock()
	return &replyCall{r: r}
}

type replyCall struct {
	r     *replies
	rep   *reply
	ended bool
}

// expect registers the mId the reply will carry, before it is written.
func (c *replyCall) expect(mid string) {
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.rep == nil {
		c.rep = &reply{written: make(chan struct{}), at: time.Now()}
		r.out[mid] = c.rep
		r.pending--
		r.wakeLocked()
	}
}

// end marks the reply written (or the call over without one); call it
// after the reply is flushed, and on every path (defer).
func (c *replyCall) end() {
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	if c.rep != nil {
		close(c.rep.written)
		return
	}
	r.pending--
	r.wakeLocked()
}

// await holds a receipt for mid: until its registered reply is written,
// or, for an mId nobody registered, until no send is in flight
// (unknownWait at most). ctx ends every wait.
func (r *replies) await(ctx context.Context, mid string) {
	var timeout <-chan time.Time
	for {
		r.mu.Lock()
		rep := r.out[mid]
		pending, changed := r.pending, r.changed
		r.mu.Unlock()
		if rep != nil {
			select {
			case <-rep.written:
			case <-ctx.Done():
			}
			return
		}
		if pending == 0 {
			return
		}
		if timeout == nil {
			t := time.NewTimer(unknownWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-changed:
		case <-timeout:
			return
		case <-ctx.Done():
			return
		}
	}
}

// prune forgets replies written more than age ago.
func (r *replies) prune(age time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for mid, rep := range r.out {
		select {
		case <-rep.written:
			if time.Since(rep.at) > age {
				delete(r.out, mid)
			}
		default:
		}
	}
}
