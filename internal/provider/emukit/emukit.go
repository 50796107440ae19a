// Package emukit is the machinery every provider emulator shares: the record
// of sends with its subscribers, the failure knobs, and the bounded runner of
// asynchronous status callbacks. Each provider package owns only its wire
// format.
package emukit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// MaxSends bounds the record of a long-running fake: the oldest go first.
const MaxSends = 10000

// Recorder keeps the sends and notifies subscribers.
type Recorder struct {
	provider string
	notify   sync.Mutex // held while subscribers run: they see sends in order
	mu       sync.Mutex
	seq      int
	sends    []provider.Send
	subs     map[int]func(provider.Send)
	nextSub  int
}

// NewRecorder makes an empty record for one provider.
func NewRecorder(name string) *Recorder {
	return &Recorder{provider: name, subs: map[int]func(provider.Send){}}
}

// Add records s (Seq, Time and Provider set here) and returns it as recorded.
func (r *Recorder) Add(s provider.Send) provider.Send {
	r.notify.Lock()
	defer r.notify.Unlock()
	r.mu.Lock()
	r.seq++
	s.Seq, s.Provider = r.seq, r.provider
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	r.sends = append(r.sends, s)
	if len(r.sends) > MaxSends {
		r.sends = append([]provider.Send(nil), r.sends[len(r.sends)-MaxSends:]...)
	}
	subs := r.subscribers()
	r.mu.Unlock()
	for _, fn := range subs {
		fn(clone(s))
	}
	return s
}

// AddCallback appends c to the send with seq and notifies subscribers again.
func (r *Recorder) AddCallback(seq int, c provider.Callback) {
	r.notify.Lock()
	defer r.notify.Unlock()
	r.mu.Lock()
	var s provider.Send
	found := false
	for i := range r.sends {
		if r.sends[i].Seq == seq {
			r.sends[i].Callbacks = append(r.sends[i].Callbacks, c)
			s, found = clone(r.sends[i]), true
			break
		}
	}
	subs := r.subscribers()
	r.mu.Unlock()
	if !found {
		return // dropped from the bounded record meanwhile
	}
	for _, fn := range subs {
		fn(s)
	}
}

func (r *Recorder) subscribers() []func(provider.Send) {
	out := make([]func(provider.Send), 0, len(r.subs))
	for i := 0; i < r.nextSub; i++ {
		if fn, ok := r.subs[i]; ok {
			out = append(out, fn)
		}
	}
	return out
}

// Sends returns copies of the record, oldest first.
func (r *Recorder) Sends() []provider.Send {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]provider.Send, len(r.sends))
	for i, s := range r.sends {
		out[i] = clone(s)
	}
	return out
}

// ByID finds the latest accepted send with a provider id.
func (r *Recorder) ByID(id string) (provider.Send, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.sends) - 1; i >= 0; i-- {
		if r.sends[i].ID == id && id != "" {
			return clone(r.sends[i]), true
		}
	}
	return provider.Send{}, false
}

// Subscribe implements provider.Emulator.Subscribe.
func (r *Recorder) Subscribe(fn func(provider.Send)) func() {
	r.mu.Lock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subs, id)
		r.mu.Unlock()
	}
}

func clone(s provider.Send) provider.Send {
	s.Body = append([]byte(nil), s.Body...)
	s.Callbacks = append([]provider.Callback(nil), s.Callbacks...)
	return s
}

// ReadBody reads a request body up to limit bytes and returns it with the
// part kept for the record.
func ReadBody(r *http.Request, limit int64) (all []byte, recorded []byte, truncated bool, err error) {
	all, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, nil, false, err
	}
	if int64(len(all)) > limit {
		return nil, nil, false, errTooLarge
	}
	recorded = all
	if len(recorded) > provider.MaxRecordedBody {
		recorded, truncated = recorded[:provider.MaxRecordedBody], true
	}
	return all, append([]byte(nil), recorded...), truncated, nil
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errTooLarge = constErr("request body too large")

// Faults holds the failure knobs; safe for concurrent use.
type Faults struct {
	mu  sync.Mutex
	f   provider.Faults
	rnd *mrand.Rand
}

// Set replaces the knobs.
func (s *Faults) Set(f provider.Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Reject = append([]string(nil), f.Reject...)
	s.f = f
}

// Get returns the knobs.
func (s *Faults) Get() provider.Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.f
	f.Reject = append([]string(nil), f.Reject...)
	return f
}

// BadCredentials reports whether every call is refused as unauthenticated.
func (s *Faults) BadCredentials() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.BadCredentials
}

// RateLimited consumes one of the next-N rate-limited answers.
func (s *Faults) RateLimited() (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f.RateLimit <= 0 {
		return false, 0
	}
	s.f.RateLimit--
	return true, s.f.RetryAfter
}

// Fail draws against FailRate.
func (s *Faults) Fail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.f.FailRate <= 0:
		return false
	case s.f.FailRate >= 1:
		return true
	}
	if s.rnd == nil {
		var seed [16]byte
		_, _ = rand.Read(seed[:])
		s.rnd = mrand.New(mrand.NewPCG(uint64FromBytes(seed[:8]), uint64FromBytes(seed[8:])))
	}
	return s.rnd.Float64() < s.f.FailRate
}

func uint64FromBytes(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// Rejected reports whether any of the addresses is in the Reject list.
func (s *Faults) Rejected(addrs ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.f.Reject {
		for _, a := range addrs {
			if a != "" && a == r {
				return true
			}
		}
	}
	return false
}

// RetryAfterSeconds rounds a Retry-After up to whole seconds (at least 1).
func RetryAfterSeconds(d time.Duration) int {
	n := int((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return n
}

// Callbacks posts status callbacks asynchronously: a fixed pool of workers
// over a bounded queue, each post bounded by the client's timeout. A full
// queue drops the callback (recorded as such) rather than grow without end.
type Callbacks struct {
	Client *http.Client
	// Delay between the steps of one send (sent → delivered → read).
	Delay time.Duration

	once    sync.Once
	mu      sync.Mutex
	closed  bool
	queue   chan func(context.Context)
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
	pending sync.WaitGroup
}

// Workers and QueueSize bound the callback runner.
const (
	Workers   = 4
	QueueSize = 1024
)

// DefaultCallbackClient is bounded: a callback never hangs a worker long.
var DefaultCallbackClient = &http.Client{Timeout: 10 * time.Second}

func (c *Callbacks) start() {
	c.once.Do(func() {
		c.queue = make(chan func(context.Context), QueueSize)
		c.ctx, c.cancel = context.WithCancel(context.Background())
		for i := 0; i < Workers; i++ {
			c.workers.Add(1)
			go func() {
				defer c.workers.Done()
				for job := range c.queue {
					job(c.ctx)
					c.pending.Done()
				}
			}()
		}
	})
}

// Go queues job; false when the runner is closed or the queue is full.
func (c *Callbacks) Go(job func(ctx context.Context)) bool {
	c.start()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.pending.Add(1)
	select {
	case c.queue <- job:
		return true
	default:
		c.pending.Done()
		return false
	}
}

// Wait blocks until every queued callback was posted.
func (c *Callbacks) Wait() { c.pending.Wait() }

// Close refuses new callbacks and waits for the queued ones.
func (c *Callbacks) Close() {
	c.start()
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	c.workers.Wait()
	c.cancel()
}

// Sleep waits d or until ctx ends (false then).
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Post sends a built callback and returns the server's answer as a record.
func (c *Callbacks) Post(ctx context.Context, req *http.Request, status channel.StatusValue, shownURL string) provider.Callback {
	cl := c.Client
	if cl == nil {
		cl = DefaultCallbackClient
	}
	rec := provider.Callback{Time: time.Now().UTC(), URL: shownURL, Status: status}
	resp, err := cl.Do(req.WithContext(ctx))
	if err != nil {
		// *url.Error repeats the URL, which may hold a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		rec.Error = err.Error()
		return rec
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	rec.Answer = resp.StatusCode
	return rec
}

// HexID is n random bytes in lower-case hex.
func HexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// UUID is an upper-case random UUID (ClickSend's message ids).
func UUID() string {
	h := strings.ToUpper(HexID(16))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// MIMEOf guesses a media type from a URL's extension (a fixed table, so the
// answer does not depend on the machine's mime.types).
func MIMEOf(rawURL string) string {
	p := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		p = u.Path
	}
	ext := strings.ToLower(path.Ext(p))
	if t, ok := mimeByExt[ext]; ok {
		return t
	}
	return ""
}

var mimeByExt = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".mp4": "video/mp4", ".3gp": "video/3gpp", ".mov": "video/quicktime",
	".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".m4a": "audio/mp4", ".amr": "audio/amr", ".wav": "audio/wav",
	".pdf": "application/pdf", ".zip": "application/zip", ".txt": "text/plain", ".csv": "text/csv", ".vcf": "text/vcard",
}

// DefaultMIME is the media type assumed for an attachment kind.
func DefaultMIME(k channel.AttachmentKind) string {
	switch k {
	case channel.AttachmentImage:
		return "image/jpeg"
	case channel.AttachmentVideo:
		return "video/mp4"
	case channel.AttachmentAudio:
		return "audio/ogg"
	}
	return "application/pdf"
}

// AttachmentMIME is the attachment's media type: given, else from its URL,
// else the kind's default.
func AttachmentMIME(a *channel.Attachment) string {
	if a.MimeType != "" {
		return a.MimeType
	}
	if t := MIMEOf(a.URL); t != "" {
		return t
	}
	return DefaultMIME(a.Type)
}

// CheckTarget refuses a webhook target that is not an absolute http(s) URL.
func CheckTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook URL %q is not an absolute http(s) URL", target)
	}
	return nil
}
