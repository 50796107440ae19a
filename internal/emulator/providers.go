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
	// Build makes the fake. It must post its status callbacks with client,
	// which logs each as a hop (the emulator owns the fake and closes it).
	Build func(client *http.Client) (provider.Emulator, error)
	// ChannelID is the platform channel the provider's customers write to
	// (default: the emulator's first channel).
	ChannelID string
	// WebhookURL is where the integration server takes this provider's
	// webhooks (customer messages), e.g. http://127.0.0.1:3030/providers/twilio/inbound.
	WebhookURL string
	// StatusURL is where the fake posts status callbacks of sends that name
	// none (shown in the inbox; the fake was built with it).
	StatusURL string
	// Receipts says the provider has status callbacks at all (Telegram
	// has none); AutoReceipts that the fake posts them by itself after each
	// accepted send. Both are shown in the inbox, whose phone fires read and
	// failed receipts only when Receipts.
	Receipts, AutoReceipts bool
	// Secret names credentials whose values are never shown (names that
	// look like tokens, keys or passwords never are either).
	Secret map[string]bool
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
	Receipts     bool         `json:"receipts"`
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
	em      provider.Emulator
	name    string
	channel Channel
	handler http.Handler
	cancel  func()
	secrets []string

	mu     sync.Mutex
	recent map[uint64][]sendTie // body hash → sends the fake recorded, for the API log
	phone  map[int]int64        // the fake's Send.Seq → phone message seq
	hops   map[int][]int64      // the fake's Send.Seq → its callback hops in the request log
}

// sendTie is what the API log needs to know about a recorded send.
type sendTie struct {
	flow, id, what string
}

func (e *Emulator) newHubs(ps []Provider) error {
	e.hubs = map[string]*hub{}
	for i, p := range ps {
		if p.Build == nil {
			return fmt.Errorf("provider %d has no emulator", i+1)
		}
		if p.ChannelID == "" {
			p.ChannelID = e.channels[0].ID
		}
		ch, ok := e.channelByID(p.ChannelID)
		if !ok {
			return fmt.Errorf("provider %d: %w %q", i+1, ErrUnknownChannel, p.ChannelID)
		}
		for _, u := range []string{p.WebhookURL, p.StatusURL} {
			if u == "" {
				continue
			}
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				return fmt.Errorf("provider %d: %q is not an absolute http(s) URL", i+1, u)
			}
		}
		h := &hub{e: e, cfg: p, channel: ch, recent: map[uint64][]sendTie{}, phone: map[int]int64{}, hops: map[int][]int64{}}
		em, err := p.Build(&http.Client{Transport: &hopTransport{h: h}, Timeout: e.outgoingTimeout()})
		if err != nil {
			return fmt.Errorf("provider %d: %w", i+1, err)
		}
		name := em.Name()
		if _, dup := e.hubs[name]; dup {
			em.Close()
			return fmt.Errorf("provider %s is given twice", name)
		}
		if name == "" || strings.ContainsAny(name, "/?#") {
			em.Close()
			return fmt.Errorf("provider %d has a bad name %q", i+1, name)
		}
		h.em, h.name, h.handler = em, name, em.Handler()
		for k, v := range em.Credentials() {
			if (p.Secret[k] || IsSecretName(k)) && v != "" {
				h.secrets = append(h.secrets, v)
			}
		}
		e.hubs[name] = h
		e.hubOrder = append(e.hubOrder, name)
	}
	return nil
}

// startHubs subscribes to the fakes' sends.
func (e *Emulator) startHubs() {
	for _, name := range e.hubOrder {
		h := e.hubs[name]
		h.cancel = h.em.Subscribe(h.onSend)
	}
}

// stopHubs stops the fakes' callbacks (waiting for those in flight).
func (e *Emulator) stopHubs() {
	for _, name := range e.hubOrder {
		h := e.hubs[name]
		if h.cancel != nil {
			h.cancel()
			h.cancel = nil
		}
		h.em.Close()
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
	creds := h.em.Credentials()
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cs := []Credential{}
	for _, k := range keys {
		c := Credential{Name: k, Value: creds[k]}
		if h.cfg.Secret[k] || IsSecretName(k) {
			c.Secret, c.Value = true, ui.Redact(c.Value)
		}
		cs = append(cs, c)
	}
	return ProviderInfo{Name: h.name, ChannelID: h.channel.ID, BaseURL: h.e.ProviderBaseURL(h.name),
		WebhookURL: h.scrub(h.cfg.WebhookURL), StatusURL: h.scrub(h.cfg.StatusURL), Credentials: cs,
		EnvFile: h.cfg.EnvFile, Receipts: h.cfg.Receipts, AutoReceipts: h.cfg.AutoReceipts}
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
// recorded, and again for the same Seq each time one of its status
// callbacks was answered. A new send lands on the customer's phone, tied to
// the /message call in flight for that contact.
func (h *hub) onSend(s provider.Send) {
	h.mu.Lock()
	seq, known := h.phone[s.Seq]
	h.mu.Unlock()
	if known {
		h.onCallbacks(seq, s)
		return
	}
	contact := contactOf(s.To)
	accepted := s.ID != "" && s.Status >= 200 && s.Status < 300
	pm := PhoneMessage{Provider: h.name, ChannelID: h.channel.ID, ContactID: contact, Direction: FromBusiness,
		ProviderID: s.ID, Message: s.Message, Time: s.Time.UTC(), To: s.To, From: s.From, CallbackURL: s.CallbackURL,
		API: &APIResult{Status: s.Status, Error: h.scrub(s.Error), Accepted: accepted}, Receipts: []PhoneReceipt{}}
	if pm.Time.IsZero() {
		pm.Time = time.Now().UTC()
	}
	pm = h.e.side.addSend(pm)
	h.mu.Lock()
	if len(h.phone) > 2*maxPhoneMessages { // the fake keeps more than the phone: forget the oldest ties
		h.phone, h.hops = map[int]int64{}, map[int][]int64{}
	}
	h.phone[s.Seq] = pm.Seq
	h.mu.Unlock()
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
	if len(s.Callbacks) > 0 {
		h.onCallbacks(pm.Seq, s)
	}
}

// onCallbacks takes the fake's record of the status callbacks of a send
// onto the phone, each tied to its hop in the request log.
func (h *hub) onCallbacks(seq int64, s provider.Send) {
	h.mu.Lock()
	hops := append([]int64(nil), h.hops[s.Seq]...)
	h.mu.Unlock()
	rs := make([]PhoneReceipt, 0, len(s.Callbacks))
	for i, c := range s.Callbacks {
		r := PhoneReceipt{Status: c.Status, Time: c.Time.UTC(), HTTPStatus: c.Answer, Error: h.scrub(c.Error)}
		if r.Error == "" && !ok2xx(c.Answer) {
			r.Error = fmt.Sprintf("your server answered HTTP %d", c.Answer)
		}
		if i < len(hops) {
			r.RequestSeq = hops[i]
			h.e.reqs.update(hops[i], func(rec *RequestRecord) { rec.What = string(c.Status) + " receipt" })
		}
		rs = append(rs, r)
	}
	pm, ok := h.e.side.setAutoReceipts(seq, rs)
	if !ok || len(rs) == 0 {
		return
	}
	last := rs[len(rs)-1]
	h.e.bus.publish(Event{Kind: EventProviderReceipt, ChannelID: pm.ChannelID, ContactID: pm.ContactID, Provider: h.name,
		HTTPStatus: last.HTTPStatus, Summary: last.summary(h.name, pm.ProviderID), Phone: &pm})
}

// hopTransport is the client the fakes post their status callbacks with:
// each is logged as a hop, tied to the send whose provider id it names.
type hopTransport struct{ h *hub }

func (t *hopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.h
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(req.Body, h.e.maxBody))
		req.Body.Close()
	}
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	start := time.Now()
	rec := RequestRecord{Time: start.UTC(), Kind: RequestProviderReceipt, Provider: h.name, ChannelID: h.channel.ID,
		Method: req.Method, URL: h.scrub(req.URL.String()), Header: req.Header.Clone(), body: body, What: "status callback"}
	sendSeq, pm, found := h.sendNamedIn(body)
	if found {
		rec.Flows, rec.ProviderID = []string{pm.Flow}, pm.ProviderID
	}
	resp, err := http.DefaultTransport.RoundTrip(r2)
	rec.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		rec.Error = h.scrub(err.Error())
	} else {
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxLoggedBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(reply))
		rec.Status, rec.ReplyHeader, rec.ReplyBody = resp.StatusCode, resp.Header.Clone(), h.scrub(string(reply))
		if !ok2xx(resp.StatusCode) {
			rec.Error = fmt.Sprintf("your server answered HTTP %d", resp.StatusCode)
		}
	}
	seq := h.e.reqs.add(rec)
	if found {
		h.mu.Lock()
		h.hops[sendSeq] = append(h.hops[sendSeq], seq)
		h.mu.Unlock()
	}
	return resp, err
}

// sendNamedIn finds the accepted send whose provider id a callback body
// names (ids are long random strings, so a substring is a safe match).
func (h *hub) sendNamedIn(body []byte) (int, PhoneMessage, bool) {
	h.mu.Lock()
	ties := make(map[int64]int, len(h.phone))
	for sendSeq, pseq := range h.phone {
		ties[pseq] = sendSeq
	}
	h.mu.Unlock()
	pm, ok := h.e.side.findNamed(h.name, body)
	if !ok {
		return 0, PhoneMessage{}, false
	}
	sendSeq, ok := ties[pm.Seq]
	return sendSeq, pm, ok
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
func (e *Emulator) postHop(ctx context.Context, kind string, h *hub, flow, what, providerID string, req *http.Request) HopResult {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(req.Body, e.maxBody))
		req.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.outgoingTimeout())
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
	req, err := h.em.Inbound(h.cfg.WebhookURL, provider.CustomerMessage{From: contactID, Message: m, Time: now})
	if err != nil {
		return PhoneMessage{}, fmt.Errorf("%w: the %s fake cannot send it: %v", ErrCustomerMessage, name, err)
	}
	// Registered before the post: the server may reach the platform first.
	pm = e.side.addCustomer(pm)
	res := e.postHop(ctx, RequestProviderWebhook, h, pm.Flow, "customer "+string(m.Type), "", req)
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
// server sent it (providerID as the fake answered) and returns the phone
// message with the server's answer. Automatic receipts are the fake's own.
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
	now := time.Now()
	req, err := h.em.Receipt(pm.CallbackURL, provider.ReceiptSpec{ProviderID: providerID, To: pm.ContactID, Status: status, Reason: reason, Time: now})
	if err != nil {
		return pm, fmt.Errorf("%w: %s", ErrCustomerMessage, h.scrub(err.Error()))
	}
	res := e.postHop(ctx, RequestProviderReceipt, h, pm.Flow, string(status)+" receipt", providerID, req)
	r := PhoneReceipt{Status: status, Reason: reason, Time: now.UTC(), HTTPStatus: res.Status, Error: res.Error, RequestSeq: res.RequestSeq}
	pm, _ = e.side.addManualReceipt(pm.Seq, r)
	e.bus.publish(Event{Kind: EventProviderReceipt, ChannelID: pm.ChannelID, ContactID: pm.ContactID, Provider: name,
		HTTPStatus: res.Status, Summary: r.summary(name, providerID), Phone: &pm})
	return pm, nil
}

// ProviderCredentials are the named fake's credentials with their values
// (secrets included), for the CLI to write the file a server reads. Never
// served over HTTP.
func (e *Emulator) ProviderCredentials(name string) map[string]string {
	h, ok := e.hubs[name]
	if !ok {
		return nil
	}
	return h.em.Credentials()
}
