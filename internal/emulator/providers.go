package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/ui"
)

// The provider face. With Options.Providers the emulator also plays the
// messaging providers an integration server talks to: each provider fake
// (a provider.Emulator) is served under ProviderPrefix+name as the
// provider's API base URL, every send the server makes appears on the
// customer's phone with the receipts the fake then posts back, and a
// customer can write through the fake (a signed webhook to the server).
// Every hop goes into the request log tied by a flow id (flows.go).

// ProviderPrefix is where provider fakes are served: the base URL a server
// uses for provider NAME is <emulator URL>/_provider/NAME.
const ProviderPrefix = "/_provider/"

// Provider attaches one provider fake to the emulator.
type Provider struct {
	Emulator provider.Emulator
	// ChannelID is the platform channel the provider's customers write to
	// (default: the emulator's first channel).
	ChannelID string
	// WebhookURL is where the integration server takes this provider's
	// webhooks (customer messages), e.g. http://127.0.0.1:3030/providers/twilio/inbound.
	WebhookURL string
	// StatusURL receives the status callbacks of sends that named no
	// callback URL themselves ("" → the fake's configured one).
	StatusURL string
	// NoAutoReceipts turns off the sent and delivered receipts fired after
	// every accepted send (receipts can still be fired by hand).
	NoAutoReceipts bool
	// EnvFile, when set, is the file the CLI wrote the credentials to; the
	// inbox shows its path (never the values).
	EnvFile string
}

// ProviderInfo is what GET /_emulator/ says about a provider: no secret values.
type ProviderInfo struct {
	Name       string `json:"name"`
	ChannelID  string `json:"channelId"`
	BaseURL    string `json:"baseUrl"`
	WebhookURL string `json:"webhookUrl"`
	StatusURL  string `json:"statusUrl,omitempty"`
	// Credentials are the settings the server needs, by name; Value is
	// redacted for secrets (tokens, keys, passwords).
	Credentials  []Credential `json:"credentials"`
	EnvFile      string       `json:"envFile,omitempty"`
	AutoReceipts bool         `json:"autoReceipts"`
}

// Credential is one setting of a provider fake, as shown to people.
type Credential struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

// IsSecretName tells whether a credential name holds a secret (its value is
// never printed): tokens, keys, secrets, passwords.
func IsSecretName(name string) bool {
	n := strings.ToUpper(name)
	for _, s := range []string{"TOKEN", "SECRET", "KEY", "PASSWORD", "PASS"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Errors of the customer side.
var (
	ErrUnknownProvider = errors.New("unknown provider")
	ErrCustomerMessage = errors.New("invalid customer message")
	ErrUnknownSend     = errors.New("no such message on the customer's phone")
	ErrReceiptDone     = errors.New("that receipt was already delivered")
)

// hub is one attached provider.
type hub struct {
	e       *Emulator
	cfg     Provider
	name    string
	channel Channel
	handler http.Handler
	cancel  func()
	secrets []string

	queue chan receiptJob

	mu         sync.Mutex
	recent     map[uint64][]sendTie // body hash → sends the fake recorded, for the API log
	noReceipts bool                 // the provider has none (Telegram)
}

// sendTie is what the API log needs to know about a recorded send.
type sendTie struct {
	flow, id, what string
}

type receiptJob struct {
	phoneSeq int64
	spec     provider.ReceiptSpec
	target   string
	wait     <-chan struct{} // the /message call that made the send; nil: none
	done     chan error      // nil: nobody waits
}

// receiptQueue bounds pending receipts per provider.
const receiptQueue = 4096

func (e *Emulator) newHubs(ps []Provider) error {
	e.hubs = map[string]*hub{}
	for i, p := range ps {
		if p.Emulator == nil {
			return fmt.Errorf("provider %d has no emulator", i+1)
		}
		name := p.Emulator.Name()
		if name == "" || strings.ContainsAny(name, "/?#") {
			return fmt.Errorf("provider %d has a bad name %q", i+1, name)
		}
		if _, dup := e.hubs[name]; dup {
			return fmt.Errorf("provider %s is given twice", name)
		}
		if p.ChannelID == "" {
			p.ChannelID = e.channels[0].ID
		}
		ch, ok := e.channelByID(p.ChannelID)
		if !ok {
			return fmt.Errorf("provider %s: %w %q", name, ErrUnknownChannel, p.ChannelID)
		}
		for _, u := range []string{p.WebhookURL, p.StatusURL} {
			if u == "" {
				continue
			}
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				return fmt.Errorf("provider %s: %q is not an absolute http(s) URL", name, u)
			}
		}
		h := &hub{e: e, cfg: p, name: name, channel: ch, handler: p.Emulator.Handler(),
			queue: make(chan receiptJob, receiptQueue), recent: map[uint64][]sendTie{}}
		for k, v := range p.Emulator.Credentials() {
			if IsSecretName(k) && v != "" {
				h.secrets = append(h.secrets, v)
			}
		}
		e.hubs[name] = h
		e.hubOrder = append(e.hubOrder, name)
	}
	return nil
}

// startHubs subscribes to the fakes' sends and starts the receipt workers.
func (e *Emulator) startHubs() {
	for _, name := range e.hubOrder {
		h := e.hubs[name]
		h.cancel = h.cfg.Emulator.Subscribe(h.onSend)
		e.wg.Add(1)
		go h.receiptWorker()
	}
}

func (e *Emulator) stopHubs() {
	for _, name := range e.hubOrder {
		if h := e.hubs[name]; h.cancel != nil {
			h.cancel()
		}
	}
}

// Providers describes the attached provider fakes, in the order given.
func (e *Emulator) Providers() []ProviderInfo {
	out := []ProviderInfo{}
	for _, name := range e.hubOrder {
		out = append(out, e.hubs[name].info())
	}
	return out
}

// ProviderBaseURL is the API base URL of the named fake.
func (e *Emulator) ProviderBaseURL(name string) string { return e.url + ProviderPrefix + name }

func (h *hub) info() ProviderInfo {
	creds := h.cfg.Emulator.Credentials()
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cs := []Credential{}
	for _, k := range keys {
		c := Credential{Name: k, Value: creds[k]}
		if IsSecretName(k) {
			c.Secret, c.Value = true, ui.Redact(c.Value)
		}
		cs = append(cs, c)
	}
	h.mu.Lock()
	auto := !h.cfg.NoAutoReceipts && !h.noReceipts
	h.mu.Unlock()
	return ProviderInfo{Name: h.name, ChannelID: h.channel.ID, BaseURL: h.e.ProviderBaseURL(h.name),
		WebhookURL: h.scrub(h.cfg.WebhookURL), StatusURL: h.scrub(h.cfg.StatusURL), Credentials: cs,
		EnvFile: h.cfg.EnvFile, AutoReceipts: auto}
}

// scrub keeps the fake's secrets (a ClickSend path secret, a Telegram bot
// token in a URL) out of anything shown.
func (h *hub) scrub(s string) string {
	for _, sec := range h.secrets {
		s = strings.ReplaceAll(s, sec, "[secret]")
	}
	return s
}

// serveAPI is the fake's API as the server calls it, logged as a hop.
func (h *hub) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, h.e.maxBody+1))
	if err != nil || int64(len(body)) > h.e.maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body unreadable or larger than %d bytes", h.e.maxBody), nil)
		return
	}
	rec := &RequestRecord{Time: start.UTC(), Kind: RequestProviderAPI, Provider: h.name, ChannelID: h.channel.ID,
		Method: r.Method, URL: h.e.url + r.URL.RequestURI(), Header: r.Header, body: body}
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, ProviderPrefix+h.name)
	if r2.URL.Path == "" {
		r2.URL.Path = "/"
	}
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	rw := &recordingWriter{ResponseWriter: w, rec: rec}
	h.handler.ServeHTTP(rw, r2)
	rec.Status = rw.status
	rec.ReplyHeader = w.Header().Clone()
	rec.ReplyBody, _ = clipBody(rw.body.Bytes())
	rec.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if t, ok := h.takeTie(body); ok {
		rec.Flows, rec.ProviderID, rec.What = []string{t.flow}, t.id, t.what
	}
	h.e.reqs.add(*rec)
}

func bodyHash(b []byte) uint64 {
	f := fnv.New64a()
	_, _ = f.Write(b)
	return f.Sum64()
}

func (h *hub) keepTie(body []byte, t sendTie) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recent) > 256 { // the fake recorded sends this log never saw: forget them
		h.recent = map[uint64][]sendTie{}
	}
	k := bodyHash(body)
	h.recent[k] = append(h.recent[k], t)
}

func (h *hub) takeTie(body []byte) (sendTie, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := bodyHash(body)
	ts := h.recent[k]
	if len(ts) == 0 {
		return sendTie{}, false
	}
	t := ts[0]
	if len(ts) == 1 {
		delete(h.recent, k)
	} else {
		h.recent[k] = ts[1:]
	}
	return t, true
}

// contactOf turns a provider address (whatsapp:+1555…, +1555…, a chat id)
// into the platform's contact ID.
func contactOf(addr string) string {
	if i := strings.Index(addr, ":"); i > 0 && !strings.HasPrefix(addr, "+") {
		return addr[i+1:]
	}
	return addr
}

// onSend runs on the fake's recording goroutine for every API call it
// recorded: the message lands on the customer's phone, tied to the
// /message call in flight for that contact, and its receipts are queued.
func (h *hub) onSend(s provider.Send) {
	contact := contactOf(s.To)
	accepted := s.ID != "" && s.Status >= 200 && s.Status < 300
	pm := PhoneMessage{Provider: h.name, ChannelID: h.channel.ID, ContactID: contact, Direction: FromBusiness,
		ProviderID: s.ID, Message: s.Message, Time: s.Time.UTC(), To: s.To, From: s.From, CallbackURL: s.CallbackURL,
		API: &APIResult{Status: s.Status, Error: h.scrub(s.Error), Accepted: accepted}, Receipts: []PhoneReceipt{}}
	if pm.Time.IsZero() {
		pm.Time = time.Now().UTC()
	}
	pm, wait := h.e.side.addSend(pm)
	what := "send"
	if s.Message.Type != "" {
		what += " " + string(s.Message.Type)
	}
	if s.To != "" {
		what += " to " + s.To
	}
	h.keepTie(s.Body, sendTie{flow: pm.Flow, id: s.ID, what: what})
	h.e.bus.publish(Event{Kind: EventProviderSend, ChannelID: pm.ChannelID, ContactID: contact, Provider: h.name,
		Summary: pm.summary(), Phone: &pm})
	if !accepted || h.cfg.NoAutoReceipts {
		return
	}
	target := s.CallbackURL
	if target == "" {
		target = h.cfg.StatusURL
	}
	for _, st := range []channel.StatusValue{channel.StatusSent, channel.StatusDelivered} {
		h.enqueue(receiptJob{phoneSeq: pm.Seq, target: target, wait: wait,
			spec: provider.ReceiptSpec{ProviderID: s.ID, To: contact, Status: st}})
	}
}

func (h *hub) enqueue(j receiptJob) bool {
	select {
	case h.queue <- j:
		return true
	default:
		h.e.bus.publish(Event{Kind: EventWarning, Provider: h.name, Summary: fmt.Sprintf("%s: more than %d receipts waiting; the %s receipt for %s was dropped", h.name, receiptQueue, j.spec.Status, j.spec.ProviderID)})
		return false
	}
}

// receiptWorker posts receipts one at a time, in the order queued, each
// after the /message call that made its send has been answered (so the
// platform knows the mId before a status can name it).
func (h *hub) receiptWorker() {
	defer h.e.wg.Done()
	for {
		select {
		case <-h.e.closing:
			return
		case j := <-h.queue:
			if j.wait != nil {
				select {
				case <-j.wait:
				case <-time.After(h.e.outgoingTimeout() + time.Second):
				case <-h.e.closing:
					return
				}
			}
			err := h.postReceipt(j)
			if j.done != nil {
				j.done <- err
			}
		}
	}
}

func (h *hub) postReceipt(j receiptJob) error {
	h.mu.Lock()
	none := h.noReceipts
	h.mu.Unlock()
	if none {
		return provider.ErrNoReceipts
	}
	if j.spec.Time.IsZero() {
		j.spec.Time = time.Now()
	}
	req, err := h.cfg.Emulator.Receipt(j.target, j.spec)
	if errors.Is(err, provider.ErrNoReceipts) {
		h.mu.Lock()
		h.noReceipts = true
		h.mu.Unlock()
		return err
	}
	pr := PhoneReceipt{Status: j.spec.Status, Reason: j.spec.Reason, Time: j.spec.Time.UTC()}
	flow := h.e.side.flowOf(j.phoneSeq)
	if err != nil {
		pr.Error = h.scrub(fmt.Sprintf("the %s fake could not build the receipt: %v", h.name, err))
	} else {
		res := h.e.postHop(RequestProviderReceipt, h, flow, string(j.spec.Status)+" receipt", j.spec.ProviderID, req)
		pr.HTTPStatus, pr.Error, pr.RequestSeq = res.Status, res.Error, res.RequestSeq
	}
	if pm, ok := h.e.side.addReceipt(j.phoneSeq, pr); ok {
		h.e.bus.publish(Event{Kind: EventProviderReceipt, ChannelID: pm.ChannelID, ContactID: pm.ContactID, Provider: h.name,
			Summary: pr.summary(h.name, pm.ProviderID), Phone: &pm})
	}
	if pr.Error != "" && err != nil {
		return errors.New(pr.Error)
	}
	return nil
}

func (e *Emulator) outgoingTimeout() time.Duration {
	if e.outTimeout > 0 {
		return e.outTimeout
	}
	return 10 * time.Second
}

func (e *Emulator) hopClient() *http.Client {
	if e.client != nil {
		return e.client
	}
	return http.DefaultClient
}

// postHop sends a webhook the fake built (a customer message or a receipt)
// to the server and logs the exchange.
func (e *Emulator) postHop(kind string, h *hub, flow, what, providerID string, req *http.Request) HopResult {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(req.Body, e.maxBody))
		req.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.outgoingTimeout())
	defer cancel()
	go func() { // shutdown ends a hop in flight
		select {
		case <-e.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	req = req.WithContext(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	start := time.Now()
	rec := RequestRecord{Time: start.UTC(), Kind: kind, Provider: h.name, ChannelID: h.channel.ID, Method: req.Method,
		URL: h.scrub(req.URL.String()), Header: req.Header.Clone(), body: body, What: what, ProviderID: providerID}
	if flow != "" {
		rec.Flows = []string{flow}
	}
	var res HopResult
	resp, err := e.hopClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a secret path
		}
		res.Error = h.scrub(fmt.Sprintf("POST %s: %v", rec.URL, err))
	} else {
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxLoggedBody))
		resp.Body.Close()
		res.Status = resp.StatusCode
		rec.Status, rec.ReplyHeader = resp.StatusCode, resp.Header.Clone()
		rec.ReplyBody = h.scrub(string(reply))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			excerpt := strings.TrimSpace(rec.ReplyBody)
			if len(excerpt) > 200 {
				excerpt = excerpt[:200] + "…"
			}
			res.Error = fmt.Sprintf("your server answered HTTP %d", resp.StatusCode)
			if excerpt != "" {
				res.Error += ": " + excerpt
			}
		}
	}
	res.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	rec.LatencyMS, rec.Error = res.LatencyMS, res.Error
	res.RequestSeq = e.reqs.add(rec)
	return res
}

func (e *Emulator) hubByName(name string) (*hub, error) {
	h, ok := e.hubs[name]
	if !ok {
		known := strings.Join(e.hubOrder, ", ")
		if known == "" {
			known = "none: start the emulator with --provider NAME"
		}
		return nil, fmt.Errorf("%w %q (attached: %s)", ErrUnknownProvider, name, known)
	}
	return h, nil
}

// SendAsCustomer plays the customer contactID writing m through provider
// name: the fake builds its signed webhook, the emulator posts it to the
// server's provider webhook URL and logs the hop; the platform event the
// server then posts is tied to it. A refused or unreachable server is not a
// Go error: the phone message carries the outcome.
func (e *Emulator) SendAsCustomer(ctx context.Context, name, contactID string, m channel.Message) (PhoneMessage, error) {
	h, err := e.hubByName(name)
	if err != nil {
		return PhoneMessage{}, err
	}
	if h.cfg.WebhookURL == "" {
		return PhoneMessage{}, fmt.Errorf("%w: provider %s has no webhook URL for your server (--provider-webhook %s=URL)", ErrNoAPIBaseURL, name, name)
	}
	if err := channel.CheckContactID(contactID, h.channel.IDType); err != nil {
		return PhoneMessage{}, fmt.Errorf("%w: contact %q: %v", ErrCustomerMessage, contactID, err)
	}
	if err := checkCustomerMessage(m); err != nil {
		return PhoneMessage{}, err
	}
	now := time.Now()
	pm := PhoneMessage{Provider: name, ChannelID: h.channel.ID, ContactID: contactID, Direction: FromCustomer,
		Message: m, Time: now.UTC(), Receipts: []PhoneReceipt{}}
	req, err := h.cfg.Emulator.Inbound(h.cfg.WebhookURL, provider.CustomerMessage{From: contactID, Message: m, Time: now})
	if err != nil {
		return PhoneMessage{}, fmt.Errorf("%w: the %s fake cannot send it: %v", ErrCustomerMessage, name, err)
	}
	// Registered before the post: the server may reach the platform first.
	pm = e.side.addCustomer(pm)
	res := e.postHop(RequestProviderWebhook, h, pm.Flow, "customer "+string(m.Type), "", req)
	pm, _ = e.side.setWebhook(pm.Seq, res)
	e.bus.publish(Event{Kind: EventCustomerMessage, ChannelID: pm.ChannelID, ContactID: contactID, Provider: name,
		HTTPStatus: res.Status, Summary: pm.summary(), Phone: &pm})
	return pm, nil
}

func checkCustomerMessage(m channel.Message) error {
	switch m.Type {
	case channel.MessageText:
		if strings.TrimSpace(m.Text) == "" {
			return fmt.Errorf("%w: the text is empty", ErrCustomerMessage)
		}
	case channel.MessageAttachment:
		if m.Attachment == nil {
			return fmt.Errorf("%w: attachment without attachment{}", ErrCustomerMessage)
		}
		if u, err := url.Parse(m.Attachment.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: the attachment URL %q is not an absolute http(s) URL", ErrCustomerMessage, m.Attachment.URL)
		}
	case channel.MessageLocation:
		if m.Latitude == nil || m.Longitude == nil || *m.Latitude < -90 || *m.Latitude > 90 || *m.Longitude < -180 || *m.Longitude > 180 {
			return fmt.Errorf("%w: a location needs a latitude (-90..90) and a longitude (-180..180)", ErrCustomerMessage)
		}
	default:
		return fmt.Errorf("%w: a customer sends text, attachment or location, not %q", ErrCustomerMessage, m.Type)
	}
	return nil
}

// FireReceipt makes provider name post a status callback for a message the
// server sent it (providerID as the fake answered), after any receipts
// already queued for it, and waits for the server's answer.
func (e *Emulator) FireReceipt(ctx context.Context, name, providerID string, status channel.StatusValue, reason string) (PhoneMessage, error) {
	h, err := e.hubByName(name)
	if err != nil {
		return PhoneMessage{}, err
	}
	switch status {
	case channel.StatusSent, channel.StatusDelivered, channel.StatusRead, channel.StatusFailed:
	default:
		return PhoneMessage{}, fmt.Errorf("%w: status %q: use sent, delivered, read or failed", ErrCustomerMessage, status)
	}
	pm, ok := e.side.byProviderID(name, providerID)
	if !ok {
		return PhoneMessage{}, fmt.Errorf("%w: %s has no accepted send %q", ErrUnknownSend, name, providerID)
	}
	for _, r := range pm.Receipts {
		if r.Status == status && r.Error == "" {
			return pm, fmt.Errorf("%w: %s for %s", ErrReceiptDone, status, providerID)
		}
	}
	target := pm.CallbackURL
	if target == "" {
		target = h.cfg.StatusURL
	}
	done := make(chan error, 1)
	if !h.enqueue(receiptJob{phoneSeq: pm.Seq, target: target, done: done,
		spec: provider.ReceiptSpec{ProviderID: providerID, To: pm.ContactID, Status: status, Reason: reason}}) {
		return pm, fmt.Errorf("too many receipts waiting for %s", name)
	}
	select {
	case err := <-done:
		pm, _ = e.side.get(pm.Seq)
		if errors.Is(err, provider.ErrNoReceipts) {
			return pm, fmt.Errorf("%w: %v", ErrCustomerMessage, err)
		}
		return pm, nil
	case <-ctx.Done():
		return pm, ctx.Err()
	case <-e.closing:
		return pm, errors.New("the emulator is shutting down")
	}
}
