// Package emulator is a local IS-Messenger: it receives an integration
// server's webhook posts like the platform does (auth, validation, rate
// limit), keeps contacts and messages with their status timelines, and calls
// the server's <base URL>/message to send outgoing messages.
//
// It is a library first (tests start one with New and drive it through its Go
// API, like stripe-mock or slack-go's slacktest) and `ccx emulate` second.
package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/mediacheck"
	"golang.org/x/time/rate"
)

// WebhookPath is where integration servers post events (spec §2.1). The
// path without the trailing slash is served too.
const WebhookPath = "/custom/channel/webhook/"

// APIPrefix is the emulator's own inspection and control API.
const APIPrefix = "/_emulator/"

// DefaultMaxBody bounds webhook bodies (the platform's limit is unknown).
const DefaultMaxBody = 1 << 20

// DefaultAPIBaseURL is where `ccx listen` answers by default, so `ccx
// emulate` and `ccx listen` work together with no set-up.
const DefaultAPIBaseURL = "http://127.0.0.1:3030"

// Channel is one emulated Custom Channel.
type Channel struct {
	ID     string         `json:"channelId"`
	Token  string         `json:"-"` // never serialised: the inspection API is unauthenticated
	IDType channel.IDType `json:"idType"`
	// APIBaseURL is the integration server; outgoing calls go to <APIBaseURL>/message.
	APIBaseURL string `json:"apiBaseUrl,omitempty"`
}

// Options configure an emulator. The zero value is usable: one generated
// phone channel, an ephemeral loopback port, in-memory state, no rate limit.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0" (a free loopback port).
	Addr string
	// Listener, when set, is used instead of Addr.
	Listener net.Listener
	// BeforeServe, when set, runs once the address is known and before the
	// first request is served (the CLI saves the 'local' profile here, so a
	// healthy emulator is always a configured one). An error stops the start.
	BeforeServe func(*Emulator) error
	// Wrap, when set, wraps the emulator's handler: `ccx check --e2e`
	// records every webhook post and plays platform outages in front of it.
	Wrap func(http.Handler) http.Handler
	// Channels to emulate; empty means one generated channel (phone IDs).
	Channels []Channel
	// RateLimit is the per-channel webhook limit in requests per second
	// (burst of the same size); 0 turns it off. The platform's is 20 (§6);
	// `ccx emulate` defaults to it. Outgoing calls are paced the same way.
	RateLimit float64
	// StatePath keeps the state in a JSON file across restarts; "" is in memory.
	StatePath string
	// FlushInterval is how often a changed state is written (default 200ms);
	// Close always writes it.
	FlushInterval time.Duration
	// MaxBody bounds webhook and API request bodies (default 1 MiB).
	MaxBody int64
	// HTTPClient makes the outgoing /message calls (default: a plain client).
	HTTPClient *http.Client
	// OutgoingTimeout bounds one /message call (default 10s), and each
	// webhook a provider fake posts to the server.
	OutgoingTimeout time.Duration
	// AllowedHosts are host names (no port) the /_emulator/ API and the
	// inbox answer besides IP literals and localhost; any other Host is
	// refused (DNS rebinding). The host of Addr is allowed when it is a name.
	AllowedHosts []string
	// FetchMedia fetches the headers of every attachment URL a webhook post
	// carries, after the answer, and records what would keep the platform
	// from showing it as a warning on the message (rules media-*). Without
	// it only URLs on this machine (localhost, 127.0.0.0/8, ::1) are checked.
	FetchMedia bool
	// mediaTransport replaces the attachment checks' transport (tests).
	mediaTransport http.RoundTripper
	// MaxStreams caps the open GET /_emulator/events streams (default
	// DefaultMaxStreams); one more is answered 503.
	MaxStreams int
	// StreamWriteTimeout is how long one write to an event stream may take
	// before the stream is dropped as a reader that stopped reading
	// (default 10s).
	StreamWriteTimeout time.Duration
	// Providers are provider fakes to play as well (the provider face):
	// served under ProviderPrefix+name, with the customer's side
	// (SendAsCustomer, Phone, FireReceipt) and every hop tied in the
	// request log (Flow).
	Providers []Provider
}

// DefaultMaxStreams bounds the live event streams: each costs a goroutine,
// a connection and a buffer of events, and a page opens one.
const DefaultMaxStreams = 64

// Emulator is a running local IS-Messenger.
type Emulator struct {
	opts       Options
	channels   []Channel
	limiters   map[string]*rate.Limiter // webhook, per channel ID
	outLim     map[string]*rate.Limiter // outgoing, per channel ID
	store      *store
	bus        *bus
	reqs       requestLog // what went over the wire (GET /_emulator/requests)
	retries    retryTracker
	client     *http.Client
	outTimeout time.Duration
	maxBody    int64
	// allowedHosts: see Options.AllowedHosts and guard.
	allowedHosts []string

	media       *mediacheck.Checker // Options.FetchMedia
	mediaCtx    context.Context     // ends when Shutdown's deadline does
	mediaCancel context.CancelFunc

	baseURLs sync.Map // channel ID → APIBaseURL set after the start (SetAPIBaseURL)

	hubs     map[string]*hub // the provider face, by name
	hubOrder []string
	side     *side // the customer's phone and the flow index

	srv      *http.Server
	ln       net.Listener
	url      string
	closing  chan struct{}
	serveErr chan error
	wg       sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool

	connMu sync.Mutex
	fresh  map[net.Conn]bool // connections that have not sent a request yet
}

// New starts an emulator. It loads Options.StatePath first and refuses to
// start on a file it cannot read, rather than replacing it.
func New(opts Options) (*Emulator, error) {
	e, err := newEmulator(opts)
	if err != nil {
		return nil, err
	}
	ln := opts.Listener
	if ln == nil {
		addr := opts.Addr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			e.abandon()
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	e.ln = ln
	e.url = "http://" + hostPort(ln.Addr())
	h := e.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	e.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second, // the SSE stream lifts it per request
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnState:         e.trackConn,
	}
	if opts.BeforeServe != nil {
		if err := opts.BeforeServe(e); err != nil {
			ln.Close()
			e.abandon()
			return nil, err
		}
	}
	e.serveErr = make(chan error, 1)
	go func() { e.serveErr <- e.srv.Serve(ln) }()
	if opts.StatePath != "" {
		e.wg.Add(1)
		go e.flushLoop()
	}
	return e, nil
}

// newEmulator builds everything but the listener (Handler-only use, benchmarks).
func newEmulator(opts Options) (*Emulator, error) {
	s := newStore(State{}, time.Now)
	var saved []RequestRecord
	if opts.StatePath != "" {
		var err error
		if s, saved, err = loadStoreAndLog(opts.StatePath, time.Now); err != nil {
			return nil, err
		}
	}
	e, err := newEmulatorStore(opts, s)
	if err == nil {
		e.reqs.load(saved)
	}
	return e, err
}

// newEmulatorState builds an emulator around a decoded state (FuzzStateFile
// starts here, with what LoadState decoded).
func newEmulatorState(opts Options, st State) (*Emulator, error) {
	e, err := newEmulatorStore(opts, newStore(st, time.Now))
	if err == nil {
		e.reqs.load(st.Requests)
	}
	return e, err
}

func newEmulatorStore(opts Options, s *store) (*Emulator, error) {
	if len(opts.Channels) == 0 {
		opts.Channels = []Channel{GenerateChannel(channel.IDPhone, "")}
	}
	seen := map[string]bool{}
	for i, c := range opts.Channels {
		// The webhook compares a trimmed Bearer credential with this token.
		c.Token = strings.TrimSpace(c.Token)
		opts.Channels[i].Token = c.Token
		switch {
		case c.ID == "":
			return nil, fmt.Errorf("channel %d has no channel ID", i+1)
		case c.Token == "":
			return nil, fmt.Errorf("channel %s has no API token", c.ID)
		case seen[c.ID]:
			return nil, fmt.Errorf("channel %s is given twice", c.ID)
		}
		if c.IDType == "" {
			opts.Channels[i].IDType = channel.IDPhone
		} else if c.IDType != channel.IDPhone && c.IDType != channel.IDCustom {
			return nil, fmt.Errorf("channel %s: unknown ID type %q: use phone or custom", c.ID, c.IDType)
		}
		seen[c.ID] = true
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 200 * time.Millisecond
	}
	e := &Emulator{
		opts:       opts,
		channels:   append([]Channel(nil), opts.Channels...),
		limiters:   map[string]*rate.Limiter{},
		outLim:     map[string]*rate.Limiter{},
		store:      s,
		bus:        newBus(),
		client:     opts.HTTPClient,
		outTimeout: opts.OutgoingTimeout,
		maxBody:    opts.MaxBody,
		closing:    make(chan struct{}),

		allowedHosts: hostNames(opts),
		side:         newSide(),
	}
	// Attachments on this machine (localhost, loopback literals) are always
	// checked: no outside network is involved. FetchMedia adds every other URL.
	e.media = mediacheck.New(mediacheck.Options{Transport: opts.mediaTransport})
	e.mediaCtx, e.mediaCancel = context.WithCancel(context.Background())
	if e.maxBody <= 0 {
		e.maxBody = DefaultMaxBody
	}
	if e.opts.MaxStreams <= 0 {
		e.opts.MaxStreams = DefaultMaxStreams
	}
	if e.opts.StreamWriteTimeout <= 0 {
		e.opts.StreamWriteTimeout = 10 * time.Second
	}
	if opts.RateLimit > 0 {
		burst := int(opts.RateLimit)
		if burst < 1 {
			burst = 1
		}
		for _, c := range e.channels {
			e.limiters[c.ID] = rate.NewLimiter(rate.Limit(opts.RateLimit), burst)
			e.outLim[c.ID] = rate.NewLimiter(rate.Limit(opts.RateLimit), burst)
		}
	}
	if err := e.newHubs(opts.Providers); err != nil {
		return nil, err
	}
	e.startHubs()
	return e, nil
}

func hostPort(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && t.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(t.Port))
	}
	return a.String()
}

// URL is the emulator's base URL, e.g. http://127.0.0.1:4747.
func (e *Emulator) URL() string { return e.url }

// WebhookURL is where integration servers post: URL() + WebhookPath.
func (e *Emulator) WebhookURL() string { return e.url + WebhookPath }

// Channels returns the emulated channels, with their tokens.
func (e *Emulator) Channels() []Channel {
	out := append([]Channel(nil), e.channels...)
	for i := range out {
		out[i] = e.withBase(out[i])
	}
	return out
}

// Channel returns the first channel (the only one, usually).
func (e *Emulator) Channel() Channel { return e.withBase(e.channels[0]) }

func (e *Emulator) channelByID(id string) (Channel, bool) {
	for _, c := range e.channels {
		if c.ID == id {
			return e.withBase(c), true
		}
	}
	return Channel{}, false
}

// State returns a copy of everything stored.
func (e *Emulator) State() State { return e.store.snapshot() }

// Contacts lists a channel's contacts ("" for all), most recent first.
func (e *Emulator) Contacts(channelID string) []Contact {
	p := e.store.contactPage(channelID, 0, contactCursor{})
	out := make([]Contact, len(p.Items))
	for i, c := range p.Items {
		out[i] = c.Contact
	}
	return out
}

// ContactPage lists up to limit contacts of channelID ("" for all) with
// their last message, most recently active first, after the cursor
// before ("" for the first page; a Page.Next otherwise).
func (e *Emulator) ContactPage(channelID string, limit int, before string) (Page[ContactSummary], error) {
	cur, err := parseContactCursor(before)
	if err != nil {
		return Page[ContactSummary]{}, err
	}
	return e.store.contactPage(channelID, limit, cur), nil
}

// Messages lists stored messages matching f, in arrival order.
func (e *Emulator) Messages(f Filter) []Message { return e.store.messages(f) }

// MessagePage lists up to limit messages matching f, the newest older than
// the cursor before ("" for the newest; a Page.Next otherwise), in arrival
// order.
func (e *Emulator) MessagePage(f Filter, limit int, before string) (Page[Message], error) {
	seq, err := parseSeqCursor(before)
	if err != nil {
		return Page[Message]{}, err
	}
	return e.store.messagePage(f, limit, seq), nil
}

// MessageByMID finds a stored message of a channel by its mId.
func (e *Emulator) MessageByMID(channelID, mid string) (Message, bool) {
	return e.store.messageByMID(channelID, mid)
}

// Warnings lists the recorded warnings, oldest first.
func (e *Emulator) Warnings() []Warning { return e.store.warningsCopy() }

// WriteState streams the state f selects as JSON (Filter{}: all of it),
// without stopping the emulator for the whole walk.
func (e *Emulator) WriteState(w io.Writer, f Filter) error { return e.store.writeState(w, f) }

// Reset forgets every contact, message, warning and logged request, and the
// customers' phones.
func (e *Emulator) Reset() {
	e.store.reset()
	e.reqs.reset()
	e.retries.reset()
	e.side.reset()
}

// Phone lists the messages on the customers' phones (the provider face) of
// a channel and contact ("" for all), oldest first.
func (e *Emulator) Phone(channelID, contactID string) []PhoneMessage {
	return e.side.list(channelID, contactID)
}

// abandon stops what newEmulator started, for a start that failed later.
func (e *Emulator) abandon() {
	e.stopHubs()
	close(e.closing)
	e.wg.Wait()
}

// Subscribe streams everything that happens from now on. Call cancel when
// done; a subscriber more than a few thousand events behind loses events
// rather than slowing the emulator down.
func (e *Emulator) Subscribe() (events <-chan Event, cancel func()) { return e.bus.subscribe() }

// Close shuts down gracefully (in-flight requests finish, 5s at most) and
// writes the state file.
func (e *Emulator) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.Shutdown(ctx)
}

// Shutdown stops accepting requests, waits for in-flight ones until ctx
// ends, ends event streams and writes the state file one last time.
func (e *Emulator) Shutdown(ctx context.Context) error {
	e.closeMu.Lock()
	if e.closed {
		e.closeMu.Unlock()
		return nil
	}
	e.closed = true
	e.closeMu.Unlock()
	e.stopHubs()
	e.retries.reset()
	close(e.closing)
	var err error
	if e.srv != nil {
		// http.Server.Shutdown waits up to 5s for connections that were
		// opened but never used (load generators and pooled clients leave
		// them); close those after a short grace, in-flight requests finish.
		stop := make(chan struct{})
		go func() {
			select {
			case <-time.After(200 * time.Millisecond):
				e.closeFresh()
			case <-stop:
			}
		}()
		err = e.srv.Shutdown(ctx)
		close(stop)
		if serr := <-e.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	e.bus.closeAll()
	if e.mediaCancel != nil {
		// In-flight attachment checks may finish (each is bounded) while
		// the caller's deadline lasts: their warnings reach the state file.
		stop := context.AfterFunc(ctx, e.mediaCancel)
		defer stop()
	}
	e.wg.Wait()
	if e.mediaCancel != nil {
		e.mediaCancel()
	}
	if ferr := e.flush(); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return err
}

func (e *Emulator) trackConn(c net.Conn, st http.ConnState) {
	e.connMu.Lock()
	defer e.connMu.Unlock()
	if e.fresh == nil {
		e.fresh = map[net.Conn]bool{}
	}
	if st == http.StateNew {
		e.fresh[c] = true
	} else {
		delete(e.fresh, c)
	}
}

func (e *Emulator) closeFresh() {
	e.connMu.Lock()
	defer e.connMu.Unlock()
	for c := range e.fresh {
		_ = c.Close()
		delete(e.fresh, c)
	}
}

// Done is closed when the emulator starts shutting down.
func (e *Emulator) Done() <-chan struct{} { return e.closing }

func (e *Emulator) flushLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-e.closing:
			return
		case <-t.C:
			start := time.Now()
			if err := e.flush(); err != nil {
				e.bus.publish(Event{Kind: EventWarning, Summary: "could not write the state file: " + err.Error()})
			}
			// A big state takes a while to write: rest as long again, so
			// that writing it never becomes all the emulator does.
			if d := time.Since(start); d > e.opts.FlushInterval {
				select {
				case <-e.closing:
					return
				case <-time.After(d):
				}
			}
		}
	}
}

// flush writes the state file when something changed.
func (e *Emulator) flush() error {
	if e.opts.StatePath == "" {
		return nil
	}
	dirty := e.store.takeDirty()
	if !e.reqs.takeDirty() && !dirty {
		return nil
	}
	if err := writeStateFile(e.opts.StatePath, e.store, e.requestSection()); err != nil {
		e.store.markDirty()
		e.reqs.markDirty()
		return fmt.Errorf("write state %s: %w", e.opts.StatePath, err)
	}
	return nil
}

// GenerateChannel makes a channel with a random ID (14 lowercase letters and
// digits) and a random API token (46 lowercase letters), shaped like the
// platform's samples (spec §1.2).
func GenerateChannel(idType channel.IDType, apiBaseURL string) Channel {
	if idType == "" {
		idType = channel.IDPhone
	}
	return Channel{
		ID:         randomString(14, "abcdefghijklmnopqrstuvwxyz0123456789"),
		Token:      randomString(46, "abcdefghijklmnopqrstuvwxyz"),
		IDType:     idType,
		APIBaseURL: apiBaseURL,
	}
}

func randomString(n int, alphabet string) string {
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		v, _ := rand.Int(rand.Reader, max) // crypto/rand never fails on supported platforms
		b.WriteByte(alphabet[v.Int64()])
	}
	return b.String()
}

// SampleContactID is a valid contact ID for the ID type, for examples and
// the `local` profile.
func SampleContactID(t channel.IDType) string {
	if t == channel.IDCustom {
		return "demo_contact"
	}
	return "+60177872890"
}
