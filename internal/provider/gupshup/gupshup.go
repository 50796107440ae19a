// Package gupshup is the relay adapter for the Gupshup WhatsApp API
// (self-serve API v2): form-encoded sends with the apikey header, one
// callback URL for customer messages and message-events, and no webhook
// signature at all, so the relay protects the callback with a path secret
// and, for partner subscriptions, a custom header (docs/provider.md).
// Contact IDs are phone numbers: Gupshup's digits without '+' become +E.164.
package gupshup

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// DefaultBaseURL is Gupshup's API host.
const DefaultBaseURL = "https://api.gupshup.io"

// DefaultSendPath is the v2 send message API; older accounts use /sm/api/v1/msg.
const DefaultSendPath = "/wa/api/v1/msg"

// WebhookPath is where the relay takes Gupshup's callbacks; the path
// secret, when set, is one more segment.
const WebhookPath = "/providers/gupshup/webhook"

// Options configure the adapter.
type Options struct {
	BaseURL  string
	SendPath string // "" → DefaultSendPath
	APIKey   string
	// AppName is the Gupshup app (src.name); Source the business number,
	// digits with or without '+'.
	AppName, Source string
	// Secret is the callback URL's last path segment (Gupshup signs
	// nothing): <public>/providers/gupshup/webhook/<Secret>.
	Secret string
	// Header and HeaderValue, when set, must be on every callback: a
	// partner subscription's meta.headers can add them.
	Header, HeaderValue string
	Client              *http.Client
	// Media configures the guarded client that fetches inbound media.
	Media netguard.Options
}

// Adapter is the Gupshup adapter.
type Adapter struct {
	o     Options
	media *netguard.Client

	// wamids maps WhatsApp ids to the Gupshup id (the mId) for receipts that
	// come without gsId (events more than a week after the send).
	mu     sync.Mutex
	wamids map[string]string
	order  []string
}

// New builds an adapter.
func New(o Options) *Adapter {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.SendPath == "" {
		o.SendPath = DefaultSendPath
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	o.Source = strings.TrimPrefix(strings.TrimSpace(o.Source), "+")
	mo := o.Media
	mo.Trusted = append(append([]string(nil), mo.Trusted...), netguard.HostPort(o.BaseURL))
	return &Adapter{o: o, media: netguard.New(mo), wamids: map[string]string{}}
}

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "gupshup" }

// Limits of WhatsApp interactive messages (Meta's, enforced by Gupshup).
const (
	maxButtons     = 3
	maxButtonTitle = 20
	maxListRows    = 10
	maxRowTitle    = 24
	maxBody        = 1024
)

// ListHeader and ListButton are the fixed texts of a list message.
const (
	ListHeader = "Please choose"
	ListButton = "Options"
)

// Destination is Gupshup's form of a +E.164 contact ID: digits, no '+'.
func Destination(contactID string) (string, error) {
	if !channel.IsE164(contactID) {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "gupshup: contactId " + strconv.Quote(contactID) + " is not a +E.164 phone number (Gupshup needs a Phone Number channel)"}
	}
	return contactID[1:], nil
}

// MessageObject renders the value of the send's message field.
func MessageObject(m channel.Message) (map[string]any, error) {
	switch m.Type {
	case channel.MessageText:
		return map[string]any{"type": "text", "text": m.Text}, nil
	case channel.MessageAttachment:
		at := m.Attachment
		if at == nil || at.URL == "" {
			return nil, provider.Unsupported("gupshup", m.Type)
		}
		switch at.Type {
		case channel.AttachmentImage:
			o := map[string]any{"type": "image", "originalUrl": at.URL, "previewUrl": at.URL}
			if at.Description != "" {
				o["caption"] = at.Description
			}
			return o, nil
		case channel.AttachmentVideo:
			o := map[string]any{"type": "video", "url": at.URL}
			if at.Description != "" {
				o["caption"] = at.Description
			}
			return o, nil
		case channel.AttachmentAudio:
			// WhatsApp audio carries no caption: the description is dropped.
			return map[string]any{"type": "audio", "url": at.URL}, nil
		}
		name := at.FileName
		if name == "" {
			name = fileName(at.URL)
		}
		o := map[string]any{"type": "file", "url": at.URL, "filename": name}
		if at.Description != "" {
			o["caption"] = at.Description
		}
		return o, nil
	case channel.MessageLocation:
		if m.Latitude == nil || m.Longitude == nil {
			return nil, provider.Unsupported("gupshup", m.Type)
		}
		o := map[string]any{"type": "location",
			"latitude":  strconv.FormatFloat(*m.Latitude, 'f', -1, 64),
			"longitude": strconv.FormatFloat(*m.Longitude, 'f', -1, 64)}
		if m.Address != "" {
			o["name"], o["address"] = m.Address, m.Address
		}
		return o, nil
	case channel.MessageQuickReply:
		return quickReply(m), nil
	case channel.MessageCustomPayload:
		var o map[string]any
		if err := json.Unmarshal(m.Payload, &o); err != nil || o == nil {
			return nil, &provider.Error{Status: http.StatusBadRequest, Message: "gupshup: a custom_payload must be a Gupshup message object (JSON with a \"type\")"}
		}
		if t, _ := o["type"].(string); t == "" {
			return nil, &provider.Error{Status: http.StatusBadRequest, Message: "gupshup: a custom_payload must be a Gupshup message object (JSON with a \"type\")"}
		}
		return o, nil
	}
	return nil, provider.Unsupported("gupshup", m.Type)
}

// quickReply is WhatsApp's reply buttons (≤ 3 short replies), a list
// (≤ 10 rows), or else the numbered text.
func quickReply(m channel.Message) map[string]any {
	n := len(m.Replies)
	longest := 0
	for _, r := range m.Replies {
		if l := utf8.RuneCountInString(r); l > longest {
			longest = l
		}
	}
	body := utf8.RuneCountInString(m.Title)
	msgid := "ccx-" + strconv.FormatUint(uint64(hash(m.Title+"\x00"+strings.Join(m.Replies, "\x00"))), 36)
	switch {
	case n == 0 || body == 0 || body > maxBody:
	case n <= maxButtons && longest <= maxButtonTitle:
		opts := make([]map[string]any, 0, n)
		for _, r := range m.Replies {
			opts = append(opts, map[string]any{"type": "text", "title": r, "postbackText": r})
		}
		return map[string]any{"type": "quick_reply", "msgid": msgid,
			"content": map[string]any{"type": "text", "text": m.Title}, "options": opts}
	case n <= maxListRows && longest <= maxRowTitle:
		rows := make([]map[string]any, 0, n)
		for _, r := range m.Replies {
			rows = append(rows, map[string]any{"type": "text", "title": r, "postbackText": r})
		}
		return map[string]any{"type": "list", "title": ListHeader, "body": m.Title, "msgid": msgid,
			"globalButtons": []map[string]any{{"type": "text", "title": ListButton}},
			"items":         []map[string]any{{"options": rows}}}
	}
	return map[string]any{"type": "text", "text": provider.QuickReplyText(m)}
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func fileName(u string) string {
	p := u
	if pu, err := url.Parse(u); err == nil {
		p = pu.Path
	}
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return "file"
	}
	return p
}

// Form renders the whole send form for a platform message.
func (a *Adapter) Form(req channel.OutgoingRequest) (url.Values, error) {
	dest, err := Destination(req.ContactID)
	if err != nil {
		return nil, err
	}
	obj, err := MessageObject(req.Message)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return url.Values{"channel": {"whatsapp"}, "source": {a.o.Source}, "destination": {dest},
		"src.name": {a.o.AppName}, "message": {string(b)}}, nil
}

// Send implements provider.Adapter: the mId is Gupshup's messageId, which
// its message-events carry as gsId.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	form, err := a.Form(req)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+a.o.SendPath, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("apikey", a.o.APIKey)
	hr.Header.Set("Accept", "application/json")
	status, h, body, err := provider.Do(ctx, a.o.Client, "Gupshup", hr)
	if err != nil {
		return "", err
	}
	return ParseSendResponse(status, h, body)
}

// ParseSendResponse reads {"status":"submitted","messageId"} (served as
// text/html, so the content type is ignored) or {"status":"error",
// "message": text or {"message": text}}.
func ParseSendResponse(status int, h http.Header, body []byte) (string, error) {
	r := gjson.ParseBytes(body)
	if status >= 200 && status < 300 {
		id := r.Get("messageId").String()
		if r.Get("status").String() != "submitted" || id == "" {
			return "", &provider.Error{Status: http.StatusBadRequest, Message: "Gupshup did not submit the message: " + provider.Snip(string(body))}
		}
		if len(id) > 200 {
			return "", &provider.Error{Status: http.StatusBadRequest, Message: "Gupshup: unusable messageId"}
		}
		return id, nil
	}
	msg := r.Get("message")
	detail := msg.String()
	if msg.IsObject() {
		detail = msg.Get("message").String()
	}
	if detail == "" {
		detail = provider.Snip(string(body))
	}
	lower := strings.ToLower(detail)
	switch {
	case status == http.StatusUnauthorized || strings.Contains(lower, "authentication failed"):
		return "", &provider.Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("Gupshup rejected the relay's credentials (%d): %s (check CCX_GUPSHUP_API_KEY)", status, detail)}
	case strings.Contains(lower, "invalid destination"):
		return "", &provider.Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("Gupshup refused the recipient (%d %s)", status, detail)}
	case strings.Contains(lower, "invalid app details"):
		return "", &provider.Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("Gupshup refused the app details (%d %s): check CCX_GUPSHUP_APP_NAME and CCX_GUPSHUP_SOURCE", status, detail)}
	}
	return "", provider.FromHTTP("Gupshup", status, detail, provider.RetryAfterHeader(h))
}

// Unverified implements provider.Unverified: without a path secret or a
// header token the callback URL is open (Gupshup signs nothing).
func (a *Adapter) Unverified() []string {
	if a.o.Secret == "" && a.o.HeaderValue == "" {
		return []string{"the callback URL has no path secret and no header token"}
	}
	return nil
}

// UnverifiedRequest implements provider.Unverified.
func (a *Adapter) UnverifiedRequest(*http.Request) bool {
	return a.o.Secret == "" && a.o.HeaderValue == ""
}

// Verify implements provider.Adapter: the path secret (last segment) and
// the header token, whichever are configured, compared in constant time.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	if a.o.Secret != "" {
		seg := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if subtle.ConstantTimeCompare([]byte(seg), []byte(a.o.Secret)) != 1 {
			return provider.ErrBadSignature
		}
	}
	if a.o.HeaderValue != "" {
		name := a.o.Header
		if name == "" {
			name = "Authorization"
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(name)), []byte(a.o.HeaderValue)) != 1 {
			return provider.ErrBadSignature
		}
	}
	return nil
}

// Ack implements provider.Acker: Gupshup wants 2xx with an empty body.
func (a *Adapter) Ack(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }

// Parse implements provider.Adapter: a v2 callback, `message` or
// `message-event`; user-, billing- and other events carry nothing.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	if !gjson.ValidBytes(body) {
		return nil, provider.Bad("Gupshup callback is not JSON")
	}
	ev := gjson.ParseBytes(body)
	if !ev.IsObject() {
		return nil, provider.Bad("Gupshup callback is not a JSON object")
	}
	p := ev.Get("payload")
	switch ev.Get("type").String() {
	case "message":
		if !p.IsObject() {
			return nil, provider.Bad("Gupshup message without payload")
		}
		return a.parseMessage(p, ev.Get("timestamp").Int())
	case "message-event":
		if !p.IsObject() {
			return nil, provider.Bad("Gupshup message-event without payload")
		}
		return a.parseEvent(p, ev.Get("timestamp").Int())
	case "":
		if ev.Get("object").Exists() || ev.Get("entry").Exists() {
			return nil, provider.Bad("Gupshup callback in the v3 (Meta) format: subscribe the callback with version 2")
		}
		return nil, provider.Bad("Gupshup callback without type")
	}
	return nil, nil // user-event (opt-in, sandbox-start), billing-event, ...
}

func (a *Adapter) parseMessage(p gjson.Result, ts int64) ([]provider.Inbound, error) {
	id := p.Get("id").String()
	if id == "" {
		return nil, provider.Bad("Gupshup message without payload.id")
	}
	phone := p.Get("sender.phone").String()
	if phone == "" {
		phone = p.Get("source").String()
	}
	if phone == "" {
		return nil, provider.Bad("Gupshup message without sender.phone")
	}
	contact := "+" + strings.TrimPrefix(phone, "+")
	in := provider.Inbound{Kind: provider.KindMessage, ProviderID: id, ContactID: contact, Timestamp: ts}
	if name := p.Get("sender.name").String(); name != "" {
		in.Contact = &channel.Contact{FirstName: name, Phone: contact}
	}
	c := p.Get("payload")
	text := func(s string) ([]provider.Inbound, error) {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		m := channel.Text(s)
		in.Message = &m
		return []provider.Inbound{in}, nil
	}
	switch t := p.Get("type").String(); t {
	case "text":
		return text(c.Get("text").String())
	case "image", "video", "audio", "file", "sticker":
		u := c.Get("url").String()
		if u == "" {
			return nil, provider.Bad("Gupshup %s without payload.url", t)
		}
		mime := c.Get("contentType").String()
		if mime == "" {
			mime = c.Get("content-type").String()
		}
		kind := map[string]channel.AttachmentKind{"image": channel.AttachmentImage, "sticker": channel.AttachmentImage,
			"video": channel.AttachmentVideo, "audio": channel.AttachmentAudio}[t]
		if kind == "" {
			kind = channel.KindForMIME(mime)
		}
		name := c.Get("name").String()
		m := channel.NewAttachment(kind, u, mime, name, c.Get("caption").String())
		in.Message = &m
		in.MediaRef = u // expires in a week; the platform fetches through the relay
		return []provider.Inbound{in}, nil
	case "location":
		lat, err1 := strconv.ParseFloat(c.Get("latitude").String(), 64)
		lng, err2 := strconv.ParseFloat(c.Get("longitude").String(), 64)
		if err1 != nil || err2 != nil {
			return nil, provider.Bad("Gupshup location without numeric latitude/longitude")
		}
		addr := strings.Trim(strings.TrimSpace(c.Get("name").String()+", "+c.Get("address").String()), ", ")
		m := channel.Location(lat, lng, addr)
		in.Message = &m
		return []provider.Inbound{in}, nil
	case "contact":
		var parts []string
		for _, ct := range c.Get("contacts").Array() {
			s := "👤 " + ct.Get("name.formatted_name").String()
			for _, ph := range ct.Get("phones").Array() {
				s += " " + ph.Get("phone").String()
			}
			parts = append(parts, strings.TrimSpace(s))
		}
		return text(strings.Join(parts, "\n"))
	case "button_reply", "list_reply", "quick_reply":
		// A tap comes back as the text the customer saw.
		s := c.Get("title").String()
		if s == "" {
			s = c.Get("text").String()
		}
		if s == "" {
			s = c.Get("postbackText").String()
		}
		return text(s)
	}
	return nil, nil // reactions, orders, unknown types: nothing the platform shows
}

func (a *Adapter) parseEvent(p gjson.Result, ts int64) ([]provider.Inbound, error) {
	id, gs := p.Get("id").String(), p.Get("gsId").String()
	if id == "" && gs == "" {
		return nil, provider.Bad("Gupshup message-event without payload.id")
	}
	t := p.Get("type").String()
	c := p.Get("payload")
	if sec := c.Get("ts").Int(); sec > 0 {
		ts = sec * 1000
	}
	var v channel.StatusValue
	switch t {
	case "enqueued":
		// id is the Gupshup id; the WhatsApp id may come along.
		if w := c.Get("whatsappMessageId").String(); w != "" && id != "" {
			a.remember(w, id)
		}
		return nil, nil
	case "sent":
		v = channel.StatusSent
	case "delivered":
		v = channel.StatusDelivered
	case "read":
		v = channel.StatusRead
	case "failed":
		v = channel.StatusFailed
	default:
		return nil, nil // deleted, mismatch, ...
	}
	mid := gs
	if mid == "" {
		// failed (sync): id is the Gupshup id; a late DLR: the WhatsApp id.
		mid = a.recall(id)
	} else if id != "" && id != gs {
		a.remember(id, gs)
	}
	st := &channel.Status{Value: v}
	if v == channel.StatusFailed {
		st.Message = "Gupshup: message failed"
		if reason := c.Get("reason").String(); reason != "" {
			st.Message = "Gupshup: " + reason
		}
		if code := c.Get("code").String(); code != "" {
			st.Message += " (code " + code + ")"
		}
	}
	in := provider.Inbound{Kind: provider.KindStatus, ProviderID: mid, Timestamp: ts, Status: st}
	if d := p.Get("destination").String(); d != "" {
		if c := "+" + strings.TrimPrefix(d, "+"); channel.IsE164(c) {
			in.ContactID = c
		}
	}
	return []provider.Inbound{in}, nil
}

// maxRemembered bounds the WhatsApp-id map.
const maxRemembered = 10000

func (a *Adapter) remember(wamid, gsID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.wamids[wamid]; ok {
		return
	}
	a.wamids[wamid] = gsID
	a.order = append(a.order, wamid)
	if len(a.order) > maxRemembered {
		delete(a.wamids, a.order[0])
		a.order = a.order[1:]
	}
}

func (a *Adapter) recall(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gs, ok := a.wamids[id]; ok {
		return gs
	}
	return id
}

// OpenMedia implements provider.MediaOpener: Gupshup's filemanager URLs
// expire, and the platform should not fetch them from Gupshup directly;
// the relay streams them through the guarded client.
func (a *Adapter) OpenMedia(ctx context.Context, ref string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, err
	}
	return a.media.Do(req)
}
