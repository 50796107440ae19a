// Package whatsapp is the relay adapter for the Meta WhatsApp Cloud API
// (docs/provider.md): JSON both ways on the Graph API, one app webhook for
// messages and statuses signed with X-Hub-Signature-256, the hub.challenge
// GET handshake, quick replies as interactive buttons or lists, and inbound
// media (ids) served through the relay's /media/ proxy with the token.
// Contact IDs are +E.164: WhatsApp ids are the same digits without the +.
package whatsapp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// DefaultBaseURL is the Graph API host.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultAPIVersion is the Graph API version used unless configured.
const DefaultAPIVersion = "v24.0"

// Credential names, as `ccx relay` reads them from env or --credentials.
const (
	EnvToken         = "CCX_WHATSAPP_TOKEN"
	EnvPhoneNumberID = "CCX_WHATSAPP_PHONE_NUMBER_ID"
	EnvAppSecret     = "CCX_WHATSAPP_APP_SECRET"
	EnvVerifyToken   = "CCX_WHATSAPP_VERIFY_TOKEN"
	EnvAPIVersion    = "CCX_WHATSAPP_API_VERSION"
)

// Options configure the adapter.
type Options struct {
	BaseURL    string
	APIVersion string // "" → DefaultAPIVersion
	// Token is the (system-user) access token: Bearer on every Graph call
	// and on media downloads.
	Token string
	// PhoneNumberID is the business number's id: sends go to
	// /{version}/{PhoneNumberID}/messages; webhooks for other numbers of the
	// same app are acknowledged and dropped.
	PhoneNumberID string
	// AppSecret keys X-Hub-Signature-256 (the app's secret, not the token).
	AppSecret string
	// VerifyToken is what the GET handshake must present (the "Verify
	// token" typed into the app's webhook settings).
	VerifyToken string
	Client      *http.Client
	// Media configures the guarded client that fetches inbound media (the
	// API host is trusted; Meta's CDN must be a public address).
	Media netguard.Options
}

// FromCredentials reads Options from credential names (env or file) and
// lists the required ones that are missing.
func FromCredentials(get func(string) string) (Options, []string) {
	o := Options{Token: get(EnvToken), PhoneNumberID: get(EnvPhoneNumberID), AppSecret: get(EnvAppSecret),
		VerifyToken: get(EnvVerifyToken), APIVersion: get(EnvAPIVersion)}
	return o, provider.Missing(get, EnvToken, EnvPhoneNumberID, EnvAppSecret, EnvVerifyToken)
}

// Secrets are the values logs must never show.
func (o Options) Secrets() []string { return []string{o.Token, o.AppSecret, o.VerifyToken} }

// Adapter is the WhatsApp Cloud API adapter.
type Adapter struct {
	o     Options
	media *netguard.Client
}

// New builds an adapter.
func New(o Options) *Adapter {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.APIVersion == "" {
		o.APIVersion = DefaultAPIVersion
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	mo := o.Media
	mo.Trusted = append(append([]string(nil), mo.Trusted...), netguard.HostPort(o.BaseURL))
	return &Adapter{o: o, media: netguard.New(mo)}
}

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "whatsapp" }

// Limits of interactive messages (Meta's interactive reply-buttons and list
// messages references).
const (
	MaxButtons      = 3
	MaxButtonTitle  = 20
	MaxButtonID     = 256
	MaxListRows     = 10
	MaxRowTitle     = 24
	MaxRowID        = 200
	MaxInteractive  = 1024 // body text of an interactive message
	MaxTextBody     = 4096
	ListButtonLabel = "Choose"
)

// Interactive renders a quick reply as Meta's interactive object: reply
// buttons for up to 3 distinct short replies, a list for up to 10, else
// false (the caller sends provider.QuickReplyText). Vonage's WhatsApp
// channel carries the same object.
func Interactive(m channel.Message) (map[string]any, bool) {
	n := len(m.Replies)
	title := strings.TrimSpace(m.Title)
	if n == 0 || n > MaxListRows || title == "" || utf8.RuneCountInString(m.Title) > MaxInteractive {
		return nil, false
	}
	seen := map[string]bool{}
	longest := 0
	for _, r := range m.Replies {
		if strings.TrimSpace(r) == "" || seen[r] {
			return nil, false
		}
		seen[r] = true
		if l := utf8.RuneCountInString(r); l > longest {
			longest = l
		}
	}
	body := map[string]any{"text": m.Title}
	if n <= MaxButtons && longest <= MaxButtonTitle {
		btns := make([]map[string]any, 0, n)
		for _, r := range m.Replies {
			btns = append(btns, map[string]any{"type": "reply", "reply": map[string]string{"id": r, "title": r}})
		}
		return map[string]any{"type": "button", "body": body, "action": map[string]any{"buttons": btns}}, true
	}
	if longest > MaxRowTitle {
		return nil, false
	}
	rows := make([]map[string]string, 0, n)
	for _, r := range m.Replies {
		rows = append(rows, map[string]string{"id": r, "title": r})
	}
	return map[string]any{"type": "list", "body": body,
		"action": map[string]any{"button": ListButtonLabel, "sections": []map[string]any{{"rows": rows}}}}, true
}

// Digits is a +E.164 contact ID as WhatsApp writes numbers.
func Digits(contactID string) string { return strings.TrimPrefix(contactID, "+") }

// Body renders the POST /messages JSON for a platform message.
func (a *Adapter) Body(req channel.OutgoingRequest) ([]byte, error) {
	if !channel.IsE164(req.ContactID) {
		return nil, &provider.Error{Status: 400, Message: "whatsapp: contactId " + strconv.Quote(req.ContactID) + " is not a +E.164 phone number"}
	}
	m := req.Message
	env := map[string]any{}
	switch m.Type {
	case channel.MessageText:
		env["type"], env["text"] = "text", map[string]any{"body": m.Text, "preview_url": false}
	case channel.MessageAttachment:
		at := m.Attachment
		if at == nil || at.URL == "" {
			return nil, provider.Unsupported("whatsapp", m.Type)
		}
		media := map[string]any{"link": at.URL}
		kind := "document"
		switch at.Type {
		case channel.AttachmentImage:
			kind = "image"
		case channel.AttachmentVideo:
			kind = "video"
		case channel.AttachmentAudio:
			kind = "audio" // audio takes no caption
		}
		if at.Description != "" && kind != "audio" {
			media["caption"] = at.Description
		}
		if kind == "document" && at.FileName != "" {
			media["filename"] = at.FileName
		}
		env["type"], env[kind] = kind, media
	case channel.MessageLocation:
		if m.Latitude == nil || m.Longitude == nil {
			return nil, provider.Unsupported("whatsapp", m.Type)
		}
		loc := map[string]any{"latitude": *m.Latitude, "longitude": *m.Longitude}
		if m.Address != "" {
			loc["address"] = m.Address
		}
		env["type"], env["location"] = "location", loc
	case channel.MessageQuickReply:
		if in, ok := Interactive(m); ok {
			env["type"], env["interactive"] = "interactive", in
		} else {
			env["type"], env["text"] = "text", map[string]any{"body": provider.QuickReplyText(m), "preview_url": false}
		}
	case channel.MessageCustomPayload:
		// A WhatsApp message object (template, contacts, reaction...): the
		// platform's payload is sent as is, addressed by the relay.
		var obj map[string]any
		if err := json.Unmarshal(m.Payload, &obj); err != nil || obj == nil {
			return nil, &provider.Error{Status: 400, Message: `whatsapp: custom_payload must be a WhatsApp message object, e.g. {"type":"template","template":{...}}`}
		}
		t, _ := obj["type"].(string)
		if _, has := obj[t]; t == "" || !has {
			return nil, &provider.Error{Status: 400, Message: `whatsapp: custom_payload needs "type" and the object it names, e.g. {"type":"template","template":{...}}`}
		}
		env = obj
	default:
		return nil, provider.Unsupported("whatsapp", m.Type)
	}
	env["messaging_product"] = "whatsapp"
	env["recipient_type"] = "individual"
	env["to"] = Digits(req.ContactID)
	return json.Marshal(env)
}

// Send implements provider.Adapter; the id is the wamid (often longer than
// 50 characters: the engine shortens it with provider.MID, and receipts,
// keyed by the same wamid, map to the same mId).
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	b, err := a.Body(req)
	if err != nil {
		return "", err
	}
	u := a.o.BaseURL + "/" + url.PathEscape(a.o.APIVersion) + "/" + url.PathEscape(a.o.PhoneNumberID) + "/messages"
	hr, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+a.o.Token)
	status, h, body, err := provider.Do(ctx, a.o.Client, "WhatsApp", hr)
	if err != nil {
		return "", err
	}
	return ParseSendResponse(status, h, body, req.ContactID)
}

// ParseSendResponse reads {"messages":[{"id":"wamid..."}]} or the Graph
// error {"error":{"message","type","code","error_subcode","error_data":{"details"}}}.
// Meta asks for logic on code and details, not on titles.
func ParseSendResponse(status int, h http.Header, body []byte, contact string) (string, error) {
	r := gjson.ParseBytes(body)
	if status >= 200 && status < 300 {
		id := r.Get("messages.0.id").String()
		if id == "" {
			return "", &provider.Error{Status: 400, Message: "WhatsApp: no messages[0].id in the response: " + provider.Snip(string(body))}
		}
		return id, nil
	}
	e := r.Get("error")
	code := e.Get("code").Int()
	detail := e.Get("message").String()
	if d := e.Get("error_data.details").String(); d != "" && !strings.Contains(detail, d) {
		detail += ": " + d
	}
	if detail == "" {
		detail = provider.Snip(string(body))
	}
	if code != 0 && !strings.Contains(detail, "#"+strconv.FormatInt(code, 10)) {
		detail = "(#" + strconv.FormatInt(code, 10) + ") " + detail
	}
	ra := provider.RetryAfterHeader(h)
	switch {
	case code == 190 || code == 0 && status == 401 || code == 10 || code >= 200 && code <= 299 || status == 401:
		return "", &provider.Error{Status: 400, Message: "WhatsApp rejected the relay's credentials (access token): " + detail}
	case code == 130429 || code == 131048 || code == 80007 || code == 4 || code == 131056 || status == 429:
		if code == 131056 && ra == 0 {
			ra = 6 * time.Second // about one message per 6 s to one user
		}
		return "", &provider.Error{Status: 429, Retryable: true, RetryAfter: ra, Message: "WhatsApp rate limit: " + detail}
	case code == 131026 || code == 131030 || code == 131021 || code == 133010 || code == 131045:
		return "", &provider.Error{Status: 400, Message: "WhatsApp refused the recipient " + contact + ": " + detail}
	case code == 131047:
		return "", &provider.Error{Status: 400, Message: "WhatsApp: more than 24 hours since the customer's last message, only a template can be sent (custom_payload type template): " + detail}
	case code == 1 || code == 2 || code == 131000 || code == 131016 || code == 133004 || status >= 500:
		if status < 500 {
			status = 503
		}
		return "", provider.FromHTTP("WhatsApp", status, detail, ra)
	}
	return "", provider.FromHTTP("WhatsApp", status, detail, ra)
}

// Signature is X-Hub-Signature-256 for body: sha256=<hex HMAC-SHA256(app secret, body)>.
func Signature(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ValidSignature checks X-Hub-Signature-256 on the raw bytes.
func ValidSignature(appSecret string, body []byte, header string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok || appSecret == "" {
		return false
	}
	want := Signature(appSecret, body)[len("sha256="):]
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// Verify implements provider.Adapter: the GET handshake's verify token, or
// a POST's X-Hub-Signature-256.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if a.o.VerifyToken == "" || q.Get("hub.mode") != "subscribe" || q.Get("hub.challenge") == "" ||
			subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(a.o.VerifyToken)) != 1 {
			return provider.ErrBadSignature
		}
		return nil
	}
	if !ValidSignature(a.o.AppSecret, body, r.Header.Get("X-Hub-Signature-256")) {
		return provider.ErrBadSignature
	}
	return nil
}

// Respond implements provider.Responder: the handshake is answered with the
// challenge as the plain body.
func (a *Adapter) Respond(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(r.URL.Query().Get("hub.challenge")))
	return true
}

// MediaScheme prefixes the placeholder URL of inbound media (replaced by the
// engine's /media/ URL; the real URL needs the token).
const MediaScheme = "whatsapp-media:"

// Parse implements provider.Adapter: every entry, change, message and
// status of a notification; other phone numbers of the app are dropped.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	if r.Method == http.MethodGet {
		return nil, nil // the handshake: nothing for the platform
	}
	if !gjson.ValidBytes(body) {
		return nil, provider.Bad("WhatsApp webhook is not JSON")
	}
	n := gjson.ParseBytes(body)
	if !n.IsObject() || !n.Get("object").Exists() {
		return nil, provider.Bad("WhatsApp webhook without object")
	}
	if n.Get("object").String() != "whatsapp_business_account" {
		return nil, nil
	}
	entries := n.Get("entry")
	if !entries.IsArray() {
		return nil, provider.Bad("WhatsApp webhook without entry[]")
	}
	var out []provider.Inbound
	var perr error
	entries.ForEach(func(_, entry gjson.Result) bool {
		entry.Get("changes").ForEach(func(_, ch gjson.Result) bool {
			if ch.Get("field").String() != "messages" {
				return true
			}
			v := ch.Get("value")
			if pn := v.Get("metadata.phone_number_id").String(); pn != "" && a.o.PhoneNumberID != "" && pn != a.o.PhoneNumberID {
				return true // another number of the same app
			}
			names := map[string]string{}
			v.Get("contacts").ForEach(func(_, c gjson.Result) bool {
				names[c.Get("wa_id").String()] = c.Get("profile.name").String()
				return true
			})
			v.Get("messages").ForEach(func(_, msg gjson.Result) bool {
				in, err := parseMessage(msg, names)
				if err != nil {
					perr = err
					return false
				}
				if in != nil {
					out = append(out, *in)
				}
				return true
			})
			if perr != nil {
				return false
			}
			v.Get("statuses").ForEach(func(_, st gjson.Result) bool {
				in, err := parseStatus(st)
				if err != nil {
					perr = err
					return false
				}
				if in != nil {
					out = append(out, *in)
				}
				return true
			})
			return perr == nil
		})
		return perr == nil
	})
	if perr != nil {
		return nil, perr
	}
	return out, nil
}

func seconds(s gjson.Result) int64 {
	n, err := strconv.ParseInt(s.String(), 10, 64)
	if err != nil || n <= 0 || n > 1e11 {
		return 0 // the engine uses the receive time
	}
	return n * 1000
}

func parseMessage(msg gjson.Result, names map[string]string) (*provider.Inbound, error) {
	id, from := msg.Get("id").String(), msg.Get("from").String()
	if id == "" || from == "" {
		return nil, provider.Bad("WhatsApp message without id or from")
	}
	contact := "+" + from
	in := &provider.Inbound{Kind: provider.KindMessage, ProviderID: id, ContactID: contact, Timestamp: seconds(msg.Get("timestamp"))}
	if name := names[from]; name != "" {
		in.Contact = &channel.Contact{FirstName: name, Phone: contact}
	}
	media := func(kind channel.AttachmentKind, o gjson.Result, name string) bool {
		mid := o.Get("id").String()
		if mid == "" {
			return false
		}
		if name == "" {
			name = o.Get("filename").String()
		}
		m := channel.NewAttachment(kind, MediaScheme+mid, o.Get("mime_type").String(), name, o.Get("caption").String())
		in.Message, in.MediaRef = &m, mid
		return true
	}
	set := func(m channel.Message) { in.Message = &m }
	switch t := msg.Get("type").String(); t {
	case "text":
		set(channel.Text(msg.Get("text.body").String()))
	case "image":
		media(channel.AttachmentImage, msg.Get("image"), "")
	case "sticker":
		media(channel.AttachmentImage, msg.Get("sticker"), "")
	case "video":
		media(channel.AttachmentVideo, msg.Get("video"), "")
	case "audio":
		media(channel.AttachmentAudio, msg.Get("audio"), "")
	case "document":
		media(channel.AttachmentFile, msg.Get("document"), "")
	case "location":
		l := msg.Get("location")
		lat, lng := l.Get("latitude"), l.Get("longitude")
		if lat.Type != gjson.Number || lng.Type != gjson.Number {
			return nil, provider.Bad("WhatsApp location without numeric latitude/longitude")
		}
		set(channel.Location(lat.Float(), lng.Float(), provider.JoinNonEmpty(", ", l.Get("name").String(), l.Get("address").String())))
	case "contacts":
		var lines []string
		msg.Get("contacts").ForEach(func(_, c gjson.Result) bool {
			var phones []string
			c.Get("phones").ForEach(func(_, p gjson.Result) bool {
				phones = append(phones, p.Get("phone").String())
				return true
			})
			lines = append(lines, strings.TrimSpace("👤 "+provider.JoinNonEmpty(" ", c.Get("name.formatted_name").String(), strings.Join(phones, ", "))))
			return true
		})
		if len(lines) > 0 {
			set(channel.Text(strings.Join(lines, "\n")))
		}
	case "interactive":
		// A reply-button or list-row tap: the title is what the customer saw.
		it := msg.Get("interactive")
		switch it.Get("type").String() {
		case "button_reply":
			set(channel.Text(cmp.Or(it.Get("button_reply.title").String(), it.Get("button_reply.id").String())))
		case "list_reply":
			set(channel.Text(cmp.Or(it.Get("list_reply.title").String(), it.Get("list_reply.id").String())))
		}
	case "button":
		// A template's quick-reply button.
		set(channel.Text(cmp.Or(msg.Get("button.text").String(), msg.Get("button.payload").String())))
	}
	// reactions, orders, system, unsupported...: nothing the platform shows
	if in.Message == nil || in.Message.Type == channel.MessageText && in.Message.Text == "" {
		return nil, nil
	}
	return in, nil
}

// MapStatus normalises a status (docs/relay.md).
func MapStatus(st string) (channel.StatusValue, bool) {
	switch st {
	case "sent":
		return channel.StatusSent, true
	case "delivered":
		return channel.StatusDelivered, true
	case "read", "played":
		return channel.StatusRead, true
	case "failed":
		return channel.StatusFailed, true
	}
	return "", false
}

func parseStatus(st gjson.Result) (*provider.Inbound, error) {
	id := st.Get("id").String()
	if id == "" {
		return nil, provider.Bad("WhatsApp status without id")
	}
	v, ok := MapStatus(st.Get("status").String())
	if !ok {
		return nil, nil
	}
	s := &channel.Status{Value: v}
	if v == channel.StatusFailed {
		var reasons []string
		st.Get("errors").ForEach(func(_, e gjson.Result) bool {
			r := "(#" + e.Get("code").String() + ") " + cmp.Or(e.Get("title").String(), e.Get("message").String())
			if d := e.Get("error_data.details").String(); d != "" {
				r += ": " + d
			}
			reasons = append(reasons, r)
			return true
		})
		s.Message = "WhatsApp: failed"
		if len(reasons) > 0 {
			s.Message += " " + strings.Join(reasons, "; ")
		}
	}
	in := &provider.Inbound{Kind: provider.KindStatus, ProviderID: id, Timestamp: seconds(st.Get("timestamp")), Status: s}
	if rid := st.Get("recipient_id").String(); rid != "" {
		in.ContactID = "+" + rid
	}
	return in, nil
}

// OpenMedia implements provider.MediaOpener: GET /{version}/{media-id} for
// the (short-lived) URL, then that URL with the token. The token only ever
// goes to the API host or Meta's media hosts.
func (a *Adapter) OpenMedia(ctx context.Context, mediaID string) (*http.Response, error) {
	hr, err := http.NewRequest(http.MethodGet, a.o.BaseURL+"/"+url.PathEscape(a.o.APIVersion)+"/"+url.PathEscape(mediaID), nil)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+a.o.Token)
	status, _, rb, err := provider.Do(ctx, a.o.Client, "WhatsApp", hr)
	if err != nil || status != 200 {
		return nil, &provider.Error{Status: 400, Message: "WhatsApp media lookup failed"}
	}
	u := gjson.GetBytes(rb, "url").String()
	pu, err := url.Parse(u)
	if u == "" || err != nil {
		return nil, &provider.Error{Status: 400, Message: "WhatsApp media lookup: no url"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if a.metaHost(pu) {
		req.Header.Set("Authorization", "Bearer "+a.o.Token)
	}
	resp, err := a.media.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.Header.Get("Content-Type") == "" {
		if mt := gjson.GetBytes(rb, "mime_type").String(); mt != "" {
			resp.Header.Set("Content-Type", mt)
		}
	}
	return resp, nil
}

// metaHost: the API host itself (or the fake), or Meta's media CDN when the
// API is Meta's.
func (a *Adapter) metaHost(u *url.URL) bool {
	b, err := url.Parse(a.o.BaseURL)
	if err != nil {
		return false
	}
	if u.Scheme == b.Scheme && strings.EqualFold(u.Host, b.Host) {
		return true
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && strings.HasSuffix(strings.ToLower(b.Hostname()), "facebook.com") &&
		(strings.HasSuffix(h, ".fbsbx.com") || strings.HasSuffix(h, ".facebook.com") || strings.HasSuffix(h, ".whatsapp.net"))
}
