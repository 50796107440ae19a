package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/tidwall/gjson"
)

// post is one webhook post the server made to the platform fake.
type post struct {
	at       time.Time
	status   int    // what the platform answered
	reason   string // error.message of a refusal
	injected bool   // refused by the harness (a played outage), not by the platform
	hook     channel.Webhook
	raw      []byte
}

func (p *post) accepted() bool { return p.status == http.StatusOK }

// seen is one event of an accepted post.
type seen struct {
	post  *post
	index int
	ev    channel.Event
}

// outage makes the platform refuse the server's posts that carry marker:
// always the first one, and every one while active (the provider's webhook
// is still waiting for its answer).
type outage struct {
	marker  []byte
	active  bool
	refused int
}

// recorder sits in front of the platform fake: it keeps every webhook post
// with the platform's answer, plays outages, and serves the platform-hosted
// media of outgoing attachments.
type recorder struct {
	mu     sync.Mutex
	posts  []*post
	wake   chan struct{}
	outage *outage
	media  map[string]mediaFile
	// provider serves the provider fake under providerPrefix.
	provider       http.Handler
	providerPrefix string
}

type mediaFile struct {
	mime string
	data []byte
}

func newRecorder() *recorder {
	return &recorder{wake: make(chan struct{}), media: map[string]mediaFile{}}
}

// mediaPath is where the harness serves its sample files, on both fakes.
const mediaPath = "/_e2e/media/"

func serveMedia(files map[string]mediaFile, w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, mediaPath) {
		return false
	}
	f, ok := files[strings.TrimPrefix(r.URL.Path, mediaPath)]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return true
	}
	w.Header().Set("Content-Type", f.mime)
	w.Header().Set("Content-Disposition", "inline")
	_, _ = w.Write(f.data)
	return true
}

func isWebhook(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == emulator.WebhookPath || r.URL.Path == strings.TrimSuffix(emulator.WebhookPath, "/"))
}

func (rc *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc.provider != nil && strings.HasPrefix(r.URL.Path, rc.providerPrefix) {
			rc.provider.ServeHTTP(w, r)
			return
		}
		if serveMedia(rc.media, w, r) {
			return
		}
		if !isWebhook(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, emulator.DefaultMaxBody+1))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		p := &post{at: time.Now(), raw: body}
		_ = json.Unmarshal(body, &p.hook)
		if rc.refuse(body) {
			p.status, p.injected = http.StatusServiceUnavailable, true
			p.reason = "ccx check --e2e: the platform is unavailable (a played outage)"
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(p.status)
			_ = json.NewEncoder(w).Encode(channel.NewErrorReply(p.reason))
			rc.add(p)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		cw := &captureWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		p.status = cw.status
		if p.status == 0 {
			p.status = http.StatusOK
		}
		if !p.accepted() {
			p.reason = gjson.GetBytes(cw.body.Bytes(), "error.message").String()
		}
		rc.add(p)
	})
}

func (rc *recorder) refuse(body []byte) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	o := rc.outage
	if o == nil || !bytes.Contains(body, o.marker) || (!o.active && o.refused > 0) {
		return false
	}
	o.refused++
	return true
}

// playOutage starts refusing posts carrying marker; end stops refusing
// new ones (the first is refused in any case) and says how many were.
func (rc *recorder) playOutage(marker string) (end func() int) {
	o := &outage{marker: []byte(marker), active: true}
	rc.mu.Lock()
	rc.outage = o
	rc.mu.Unlock()
	return func() int {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		o.active = false
		return o.refused
	}
}

func (rc *recorder) stopOutage() {
	rc.mu.Lock()
	rc.outage = nil
	rc.mu.Unlock()
}

func (rc *recorder) add(p *post) {
	rc.mu.Lock()
	rc.posts = append(rc.posts, p)
	close(rc.wake)
	rc.wake = make(chan struct{})
	rc.mu.Unlock()
}

// mark is a position in the record: later waits look only after it.
func (rc *recorder) mark() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.posts)
}

// since returns the posts recorded after mark.
func (rc *recorder) since(mark int) []*post {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*post(nil), rc.posts[mark:]...)
}

// events lists the events of accepted posts after mark.
func (rc *recorder) events(mark int) []seen {
	var out []seen
	for _, p := range rc.since(mark) {
		if !p.accepted() {
			continue
		}
		for i, ev := range p.hook.Events {
			out = append(out, seen{post: p, index: i, ev: ev})
		}
	}
	return out
}

// await blocks until cond holds for the posts after mark, or ctx ends.
func (rc *recorder) await(ctx context.Context, mark int, cond func([]*post) bool) bool {
	for {
		rc.mu.Lock()
		ps := append([]*post(nil), rc.posts[mark:]...)
		wake := rc.wake
		rc.mu.Unlock()
		if cond(ps) {
			return true
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 64<<10 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}
