// Package relay is the integration-server engine behind `ccx relay`: it
// answers the platform's /message calls through a provider adapter, takes the
// provider's webhooks, and delivers them to the IS-Messenger webhook at least
// once from a durable on-disk spool (or a NATS JetStream queue shared by
// several relays), de-duplicated by provider message id.
package relay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure an Engine.
type Options struct {
	Adapter    provider.Adapter
	ChannelID  string
	Token      string // the channel's API token: checked on /message, sent on the webhook
	IDType     channel.IDType
	WebhookURL string
	SpoolPath  string
	// NATS, when set, queues events in JetStream instead of the spool, so
	// that several relays share them (natsq.go); SpoolPath is then unused.
	NATS   *NATSOptions
	Limits Limits
	// Workers deliver in parallel; events of one contact always go through
	// the same worker, so their order is kept. 0 → 4.
	Workers int
	// RateLimit paces webhook posts (requests/s); 0 → unlimited.
	RateLimit float64
	// PublicURL is how the world reaches this relay (for /media/ URLs).
	PublicURL string
	MaxBody   int64 // 0 → 1 MiB
	// Backoff and MaxBackoff pace redelivery rounds (0 → 500ms, 30s).
	Backoff, MaxBackoff time.Duration
	// SendAttempts bounds provider attempts within one /message call (0 → 3).
	SendAttempts int
	// InsecureInbound accepts an adapter some of whose webhooks nothing
	// verifies (provider.Unverified); each such request is logged as a warning.
	InsecureInbound bool
	Logger          *slog.Logger
	HTTPClient      *http.Client // for the platform webhook
	Now             func() time.Time
	// Scoped puts the channel ID in every route, for a relay of many
	// channels (router.go): /<id>/message, /providers/<id>/<provider>/…,
	// /media/<id>/<provider>/…. The adapter still sees /providers/<provider>/….
	Scoped bool
	// Registry is shared by the engines of one relay (their series differ by
	// the channel label); nil gives the engine a registry of its own.
	Registry *prometheus.Registry
}

// Engine is a running relay (without its listener: see Handler).
type Engine struct {
	o       Options
	ad      provider.Adapter
	spool   *Spool // nil with NATS
	q       queue
	plat    *platform.Client
	judge   *listen.Handler
	log     *slog.Logger
	met     *metrics
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool

	// Status receipts wait until the /message reply carrying their mId has
	// been written (replies.go).
	replies *replies
}

// awaitReply holds a receipt for mid until its /message reply is out.
func (e *Engine) awaitReply(mid string) { e.replies.await(e.ctx, mid) }

// waitForReply holds a receipt until the platform has the /message reply of
// its mId: in this relay's memory, or through a queue shared by relays.
func (e *Engine) waitForReply(mid string) {
	if w, ok := e.q.(replyWaiter); ok {
		w.awaitReplied(e.ctx, mid)
		return
	}
	e.awaitReply(mid)
}

// New opens the spool and prepares the engine; Start begins delivery.
func New(o Options) (*Engine, error) {
	if o.Adapter == nil {
		return nil, errors.New("relay: no provider adapter")
	}
	if o.Token == "" || o.ChannelID == "" || o.WebhookURL == "" {
		return nil, errors.New("relay: channel ID, API token and webhook URL are required")
	}
	if o.SpoolPath == "" && o.NATS == nil {
		return nil, errors.New("relay: a spool path is required")
	}
	if o.Scoped {
		if err := CheckRouteID(o.ChannelID); err != nil {
			return nil, err
		}
	}
	if u, ok := o.Adapter.(provider.Unverified); ok && len(u.Unverified()) > 0 && !o.InsecureInbound {
		return nil, fmt.Errorf("relay: %s webhooks would be accepted unverified (%s)", o.Adapter.Name(), strings.Join(u.Unverified(), "; "))
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.SendAttempts <= 0 {
		o.SendAttempts = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Engine{o: o, ad: o.Adapter, log: o.Logger.With("channel", o.ChannelID, "provider", o.Adapter.Name()), replies: newReplies()}
	if o.NATS != nil {
		nq, err := openNATS(*o.NATS, o.ChannelID, o.Limits, e.log)
		if err != nil {
			return nil, err
		}
		e.q = nq
	} else {
		sp, err := OpenSpool(o.SpoolPath, o.Limits)
		if err != nil {
			return nil, err
		}
		e.spool, e.q = sp, &spoolQueue{Spool: sp}
	}
	e.met = newMetrics(e.q, o.ChannelID, o.Registry)
	e.plat = platform.New(platform.Options{WebhookURL: o.WebhookURL, Token: o.Token, RateLimit: o.RateLimit,
		MaxRetries: 2, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, HTTPClient: o.HTTPClient, Concurrency: o.Workers})
	// The /message checks (auth, method, content type, size, validation,
	// channelId) are listen's; the relay only adds the provider call.
	e.judge = listen.NewHandler(listen.Options{Token: o.Token, ChannelID: o.ChannelID, IDType: o.IDType, MaxBody: o.MaxBody})
	if src, ok := o.Adapter.(provider.Source); ok {
		src.SetSink(e.accept)
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// Spool exposes the spool (tests); nil when events queue in JetStream.
func (e *Engine) Spool() *Spool { return e.spool }

// Stats is the queue's state: the spool's, or the JetStream queue's.
func (e *Engine) Stats() Stats { return e.q.Stats() }

// Start loads what the queue holds from a previous run and starts delivery.
func (e *Engine) Start() error {
	if err := e.q.run(e.ctx, &e.wg, delivery{workers: e.o.Workers, log: e.log, deliver: e.deliverUntilDone}); err != nil {
		return err
	}
	e.wg.Add(1)
	go e.pruner()
	e.started = true
	return nil
}

func (e *Engine) pruner() {
	defer e.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			e.replies.prune(time.Minute)
			if err := e.q.Prune(); err != nil {
				e.log.Warn("prune failed", "err", err)
			}
		}
	}
}

// deliverUntilDone retries r with backoff until it is delivered or buried;
// ok is false when the engine stops first (r stays queued).
func (e *Engine) deliverUntilDone(r *Record) (res result, ok bool) {
	backoff := e.o.Backoff
	for {
		res, wait := e.deliver(r)
		if res != retry {
			return res, true
		}
		e.met.retries.Inc()
		if wait < backoff {
			wait = backoff
		}
		select {
		case <-e.ctx.Done():
			return retry, false
		case <-time.After(wait):
		}
		backoff *= 2
		if backoff > e.o.MaxBackoff {
			backoff = e.o.MaxBackoff
		}
	}
}

type result int

const (
	retry     result = iota
	delivered        // the platform accepted it
	buried           // refused for good: moved to the dead bucket
)

// deliver makes one delivery round (the platform client retries inside it).
func (e *Engine) deliver(r *Record) (result, time.Duration) {
	r.Attempts++
	if r.Kind == string(provider.KindStatus) && r.Attempts == 1 {
		e.waitForReply(r.MID)
	}
	_, err := e.plat.Post(e.ctx, r.Body)
	if err == nil {
		e.met.deliveries.WithLabelValues("ok").Inc()
		e.met.deliverLat.Observe(float64(e.o.Now().UnixMilli()-r.Enqueued) / 1000)
		e.log.Debug("delivered", "mId", r.MID, "kind", r.Kind, "contactId", r.ContactID, "attempts", r.Attempts)
		return delivered, 0
	}
	if e.ctx.Err() != nil {
		return retry, 0
	}
	var se *platform.StatusError
	if errors.As(err, &se) {
		st := se.Result.Status
		switch {
		case st == 401 || st == 403:
			// The token is wrong: keep the event (a restart with the right
			// token delivers it) and say so loudly.
			e.log.Error("the platform rejected the API token; events stay in the spool", "status", st, "mId", r.MID)
			return retry, e.o.MaxBackoff
		case st >= 400 && st < 500 && st != 408 && st != 409 && st != 425 && st != 429:
			reason := fmt.Sprintf("platform answered %d: %s", st, platform.Snippet(se.Result.Body, 300))
			if berr := e.q.Bury(r, reason); berr != nil {
				return retry, e.o.Backoff
			}
			e.met.deliveries.WithLabelValues("dead").Inc()
			e.log.Error("platform refused an event for good; moved to the dead bucket", "mId", r.MID, "status", st, "reason", reason)
			return buried, 0
		}
		e.log.Warn("delivery failed, will retry", "mId", r.MID, "status", st, "attempts", r.Attempts)
		return retry, se.Result.RetryAfter
	}
	e.log.Warn("platform unreachable, will retry", "mId", r.MID, "err", err.Error(), "attempts", r.Attempts)
	return retry, 0
}

// Close stops delivery (records still queued stay in the spool) and closes it.
// Call it after the HTTP server has drained its in-flight requests.
func (e *Engine) Close() error {
	e.cancel()
	e.wg.Wait()
	return e.q.Close()
}

// Drain waits until the spool is empty or ctx ends (graceful shutdown gives
// deliveries in flight a chance to finish).
func (e *Engine) Drain(ctx context.Context) {
	// A source (loopback) may still be about to produce events for sends it
	// already answered; let those land in the spool first, so they drain too.
	if w, ok := e.ad.(interface{ Wait() }); ok {
		done := make(chan struct{})
		go func() { w.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for e.q.pending() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Handler serves the routes the platform and the provider call: /message,
// the provider webhooks, /media/ and /healthz. Metrics and the spool state
// are on AdminHandler, for a listener of their own.
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	e.mount(mux)
	mux.HandleFunc("/healthz", serveHealth)
	msg, prov, _ := e.paths()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		listen.WriteError(w, http.StatusNotFound, fmt.Sprintf("no route %s: the relay serves POST %s, POST %s..., GET /media/..., GET /healthz (metrics and status are on its admin address)", r.URL.Path, msg, prov))
	})
	return mux
}

// mount adds the engine's own routes to mux.
func (e *Engine) mount(mux *http.ServeMux) {
	msg, prov, media := e.paths()
	mux.Handle(msg, e.instrument("message", http.HandlerFunc(e.serveMessage)))
	mux.Handle(prov, e.instrument("provider", e.unscoped(prov, "/providers/", e.serveProvider)))
	mux.Handle(media, e.instrument("media", e.unscoped(media, "/media/", e.serveMedia)))
}

// paths are the engine's /message, provider-webhook and media routes.
func (e *Engine) paths() (msg, prov, media string) {
	name := e.ad.Name()
	if !e.o.Scoped {
		return "/message", "/providers/" + name + "/", "/media/" + name + "/"
	}
	id := e.o.ChannelID
	return "/" + id + "/message", "/providers/" + id + "/" + name + "/", "/media/" + id + "/" + name + "/"
}

// unscoped hands h the request with the channel segment taken out of its
// path (/providers/<id>/twilio/x → /providers/twilio/x): adapters read their
// own paths. RequestURI keeps what the client asked for.
func (e *Engine) unscoped(prefix, root string, h http.HandlerFunc) http.Handler {
	if !e.o.Scoped {
		return h
	}
	plain := root + e.ad.Name() + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = plain + strings.TrimPrefix(r.URL.Path, prefix)
		r2.URL.RawPath = ""
		h(w, r2)
	})
}

func serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) {
	if s.code == 0 {
		s.code = c
	}
	s.ResponseWriter.WriteHeader(c)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = 200
	}
	return s.ResponseWriter.Write(b)
}

func (e *Engine) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		e.met.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		e.met.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// serveMessage is the platform's outgoing call: listen's checks, then the
// provider, then 200 {"mId"} or a 4xx that says what the provider said.
func (e *Engine) serveMessage(w http.ResponseWriter, r *http.Request) {
	call := e.replies.begin()
	defer call.end()
	body, err := io.ReadAll(io.LimitReader(r.Body, e.o.MaxBody+1))
	if err != nil {
		listen.WriteError(w, http.StatusBadRequest, "cannot read body: "+err.Error())
		return
	}
	rec := httptest.NewRecorder()
	jr := r.Clone(r.Context())
	jr.Body = io.NopCloser(bytes.NewReader(body))
	e.judge.ServeHTTP(rec, jr)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		e.met.sends.WithLabelValues("rejected").Inc()
		return
	}
	var req channel.OutgoingRequest
	if err := json.Unmarshal(body, &req); err != nil {
		listen.WriteError(w, http.StatusBadRequest, "cannot decode the message: "+err.Error())
		return
	}
	id, err := e.send(r.Context(), req)
	if err != nil {
		status, msg := http.StatusBadRequest, err.Error()
		var pe *provider.Error
		if errors.As(err, &pe) {
			status = pe.Status
			if status < 400 || status > 499 {
				status = http.StatusBadRequest
			}
		}
		e.met.sends.WithLabelValues("failed").Inc()
		e.log.Warn("provider send failed", "contactId", req.ContactID, "type", req.Message.Type, "status", status, "err", msg)
		listen.WriteError(w, status, msg)
		return
	}
	mid := provider.MID(id)
	call.expect(mid) // receipts for mid now wait for this reply
	// Not waited for: the reply does not depend on it, and a receipt for
	// this mId is committed after it. A crash in the sub-millisecond window
	// only costs the contact lookup for providers whose receipts lack it.
	e.q.RecordSentAsync(mid, req.ContactID, func(err error) {
		if err != nil {
			e.log.Error("cannot record the sent message (status receipts may not find their contact)", "mId", mid, "err", err)
		}
	})
	if so, ok := e.ad.(provider.SentOnAccept); ok && so.SentOnAccept() {
		in := provider.Inbound{Kind: provider.KindStatus, ProviderID: id, ContactID: req.ContactID,
			Status: &channel.Status{Value: channel.StatusSent}}
		if err := e.accept(r.Context(), []provider.Inbound{in}); err != nil {
			e.log.Warn("cannot spool the synthesised sent receipt", "mId", mid, "err", err)
		}
	}
	e.met.sends.WithLabelValues("ok").Inc()
	e.log.Info("sent", "contactId", req.ContactID, "type", req.Message.Type, "mId", mid)
	// With its length set and flushed, the reply is complete on the wire
	// before the receipts waiting for it are released (call.end).
	b, _ := json.Marshal(channel.Reply{MID: mid})
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if _, err := w.Write(b); err != nil {
		e.log.Warn("cannot write the /message reply; receipts for it may be refused as unknown", "mId", mid, "err", err)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	call.end()
	if w, ok := e.q.(replyWaiter); ok {
		w.replied(mid, req.ContactID)
	}
}

// send calls the adapter, retrying what the provider says is worth retrying
// within the platform's call.
func (e *Engine) send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	var last error
	wait := 200 * time.Millisecond
	for i := 0; i < e.o.SendAttempts; i++ {
		id, err := e.ad.Send(ctx, req)
		if err == nil {
			if id == "" {
				return "", &provider.Error{Status: 400, Message: e.ad.Name() + ": the provider returned no message id"}
			}
			return id, nil
		}
		last = err
		var pe *provider.Error
		if !errors.As(err, &pe) || !pe.Retryable || i == e.o.SendAttempts-1 {
			break
		}
		d := wait
		if pe.RetryAfter > 0 {
			d = pe.RetryAfter
		}
		if d > 2*time.Second {
			break // a long Retry-After: tell the platform now rather than hang its call
		}
		select {
		case <-ctx.Done():
			return "", last
		case <-time.After(d):
		}
		wait *= 2
	}
	return "", last
}

// serveProvider takes a provider webhook: verify on the raw bytes, parse,
// spool durably, and only then answer the provider.
func (e *Engine) serveProvider(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, e.o.MaxBody+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > e.o.MaxBody {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if u, ok := e.ad.(provider.Unverified); ok && u.UnverifiedRequest(r) {
		e.log.Warn("accepting a webhook nothing verifies (--insecure-inbound)", "path", redactPath(r.URL.Path), "remote", r.RemoteAddr)
	}
	if err := e.ad.Verify(r, body); err != nil {
		e.log.Warn("webhook did not verify", "path", redactPath(r.URL.Path), "err", err)
		if errors.Is(err, provider.ErrUnsigned) {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "webhook unsigned: retry it signed", http.StatusServiceUnavailable)
			return
		}
		http.Error(w, "signature or secret did not verify", http.StatusForbidden)
		return
	}
	ins, err := e.ad.Parse(r, body)
	if err != nil {
		e.log.Warn("cannot read webhook", "path", redactPath(r.URL.Path), "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := e.accept(r.Context(), ins); err != nil {
		if errors.Is(err, ErrFull) {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "relay spool full, retry later", http.StatusServiceUnavailable)
			return
		}
		e.log.Error("cannot spool webhook", "err", err)
		http.Error(w, "relay cannot store the event, retry later", http.StatusServiceUnavailable)
		return
	}
	if rs, ok := e.ad.(provider.Responder); ok && rs.Respond(w, r) {
		return
	}
	if a, ok := e.ad.(provider.Acker); ok {
		a.Ack(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func redactPath(p string) string {
	// ClickSend-style secrets live in the last path segment.
	if i := strings.LastIndexByte(p, '/'); i > 0 && len(p)-i > 12 {
		return p[:i+1] + "…"
	}
	return p
}

// accept turns normalised events into spooled webhook bodies; it returns
// once they are durable.
func (e *Engine) accept(ctx context.Context, ins []provider.Inbound) error {
	if len(ins) == 0 {
		return nil
	}
	items := make([]Item, 0, len(ins))
	for _, in := range ins {
		in := in
		if in.ProviderID == "" {
			continue
		}
		mid := provider.MID(in.ProviderID)
		ts := in.Timestamp
		// A missing or implausible provider time (before 2001) would be
		// refused by the platform: use the receive time instead.
		if ts < 978307200000 {
			ts = e.o.Now().UnixMilli()
		}
		it := Item{Kind: string(in.Kind), MID: mid, ContactID: in.ContactID}
		switch in.Kind {
		case provider.KindStatus:
			if in.Status == nil {
				continue
			}
			it.Key = e.ad.Name() + "|s|" + in.ProviderID + "|" + string(in.Status.Value)
			it.StatusRank = provider.StatusRank(in.Status.Value)
			st := *in.Status
			it.Build = func(contact string) ([]byte, error) {
				ev := channel.Event{Type: channel.EventStatus, MID: mid, Timestamp: ts, Status: &st}
				return json.Marshal(channel.NewWebhook(e.o.ChannelID, contact, nil, ev))
			}
		case provider.KindMessage, provider.KindEcho:
			if in.Message == nil {
				continue
			}
			if err := channel.CheckContactID(in.ContactID, e.o.IDType); err != nil {
				e.log.Warn("inbound contact is not a valid contact ID for this channel; skipped", "contactId", in.ContactID, "err", err)
				e.met.inbound.WithLabelValues(string(in.Kind), "invalid-contact").Inc()
				continue
			}
			it.Key = e.ad.Name() + "|m|" + in.ProviderID
			msg := *in.Message
			if in.MediaRef != "" && msg.Attachment != nil {
				a := *msg.Attachment
				a.URL = e.mediaURL(in.MediaRef)
				msg.Attachment = &a
			}
			et := channel.EventType(in.Kind)
			contact := in.Contact
			it.Build = func(c string) ([]byte, error) {
				ev := channel.Event{Type: et, MID: mid, Timestamp: ts, Message: &msg}
				return json.Marshal(channel.NewWebhook(e.o.ChannelID, c, contact, ev))
			}
		default:
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil
	}
	// A receipt without its contact (ClickSend's) can beat the provider's
	// own answer to our send, before /message has recorded the mId: wait
	// for that reply, or the receipt would be dropped as unknown.
	for _, it := range items {
		if it.StatusRank > 0 && it.ContactID == "" && !e.q.Known(it.MID) {
			e.waitForReply(it.MID)
		}
	}
	outs, recs, err := e.q.Enqueue(items)
	if err != nil {
		for _, it := range items {
			e.met.inbound.WithLabelValues(it.Kind, "refused").Inc()
		}
		return err
	}
	for i, o := range outs {
		e.met.inbound.WithLabelValues(items[i].Kind, o.String()).Inc()
		if o == Duplicate {
			e.log.Info("duplicate provider event ignored", "mId", items[i].MID, "kind", items[i].Kind)
		}
	}
	if e.started {
		e.q.route(recs)
	}
	return nil
}

// mediaURL signs a provider media reference into a /media/ URL: the platform
// fetches through the relay, which adds the provider credentials.
func (e *Engine) mediaURL(ref string) string {
	enc := base64.RawURLEncoding.EncodeToString([]byte(ref))
	m := hmac.New(sha256.New, e.q.MediaKey())
	m.Write([]byte(e.ad.Name() + "|" + ref))
	sig := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
	base := strings.TrimRight(e.o.PublicURL, "/")
	_, _, media := e.paths()
	return base + media + enc + "." + sig
}

func (e *Engine) serveMedia(w http.ResponseWriter, r *http.Request) {
	mo, ok := e.ad.(provider.MediaOpener)
	tok := strings.TrimPrefix(r.URL.Path, "/media/"+e.ad.Name()+"/")
	enc, sig, found := strings.Cut(tok, ".")
	ref, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || !found || err != nil {
		http.NotFound(w, r)
		return
	}
	m := hmac.New(sha256.New, e.q.MediaKey())
	m.Write([]byte(e.ad.Name() + "|" + string(ref)))
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
	if !hmac.Equal([]byte(want), []byte(sig)) {
		http.NotFound(w, r)
		return
	}
	resp, err := mo.OpenMedia(r.Context(), string(ref))
	if err != nil {
		http.Error(w, "media unavailable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Content-Length", "Last-Modified", "ETag"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	// The platform wants inline media (custom-channel-api.md §4.2).
	w.Header().Set("Content-Disposition", "inline")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
