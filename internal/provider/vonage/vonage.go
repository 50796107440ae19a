// Package vonage is the relay adapter for the Vonage Messages API v1
// (docs/provider.md): POST /v1/messages with an application JWT (RS256) or
// Basic auth, inbound and status webhooks signed with an HS256 JWT whose
// payload_hash covers the body, WhatsApp (rich: media, location and
// interactive quick replies as custom objects), SMS and MMS channels.
// Contact IDs are +E.164: Vonage numbers are the same digits without the +.
package vonage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
	"github.com/tidwall/gjson"
)

// DefaultBaseURL is the Messages API host.
const DefaultBaseURL = "https://api.nexmo.com"

// Credential names, as `ccx relay` reads them from env or --credentials.
const (
	EnvApplicationID   = "CCX_VONAGE_APPLICATION_ID"
	EnvPrivateKey      = "CCX_VONAGE_PRIVATE_KEY"      // PEM; "\n" escapes allowed
	EnvPrivateKeyPath  = "CCX_VONAGE_PRIVATE_KEY_PATH" // or the key's file
	EnvAPIKey          = "CCX_VONAGE_API_KEY"
	EnvAPISecret       = "CCX_VONAGE_API_SECRET"
	EnvSignatureSecret = "CCX_VONAGE_SIGNATURE_SECRET"
	EnvFrom            = "CCX_VONAGE_FROM"
	EnvChannel         = "CCX_VONAGE_CHANNEL"
)

// Channels the adapter sends on (phone-number channels only).
var Channels = []string{"whatsapp", "sms", "mms"}

// Options configure the adapter.
type Options struct {
	BaseURL string
	// ApplicationID and PrivateKey sign a JWT for every call (recommended;
	// needed for Secure Inbound Media). Without them, Basic auth with
	// APIKey and APISecret.
	ApplicationID     string
	PrivateKey        *rsa.PrivateKey
	APIKey, APISecret string
	// SignatureSecret verifies the webhooks' JWT (the account's signature
	// secret, not the API secret).
	SignatureSecret string
	// From is the business number (digits or +E.164).
	From string
	// Channel is whatsapp (default), sms or mms.
	Channel string
	// MaxAge bounds how old (or how far ahead) a webhook's iat may be
	// (default 5 minutes).
	MaxAge time.Duration
	Now    func() time.Time
	Client *http.Client
	// Media configures the guarded client that fetches inbound media.
	Media netguard.Options
}

// FromCredentials reads Options from credential names (env or file); it
// lists the missing required ones, and fails on a key it cannot read.
func FromCredentials(get func(string) string) (Options, []string, error) {
	o := Options{ApplicationID: get(EnvApplicationID), APIKey: get(EnvAPIKey), APISecret: get(EnvAPISecret),
		SignatureSecret: get(EnvSignatureSecret), From: get(EnvFrom), Channel: strings.ToLower(get(EnvChannel))}
	var miss []string
	pemText := get(EnvPrivateKey)
	if pemText == "" && get(EnvPrivateKeyPath) != "" {
		b, err := os.ReadFile(get(EnvPrivateKeyPath))
		if err != nil {
			return o, nil, fmt.Errorf("%s: %w", EnvPrivateKeyPath, err)
		}
		pemText = string(b)
	}
	if pemText != "" {
		k, err := ParsePrivateKey(pemText)
		if err != nil {
			return o, nil, fmt.Errorf("%s: %v", EnvPrivateKey, err)
		}
		o.PrivateKey = k
	}
	switch {
	case o.ApplicationID != "" && o.PrivateKey != nil:
	case o.ApplicationID != "" || o.PrivateKey != nil:
		if o.ApplicationID == "" {
			miss = append(miss, EnvApplicationID)
		} else {
			miss = append(miss, EnvPrivateKey+" (or "+EnvPrivateKeyPath+")")
		}
	case o.APIKey == "" || o.APISecret == "":
		miss = append(miss, EnvApplicationID+" and "+EnvPrivateKey+" (or "+EnvAPIKey+" and "+EnvAPISecret+")")
	}
	for _, k := range []string{EnvSignatureSecret, EnvFrom} {
		if get(k) == "" {
			miss = append(miss, k)
		}
	}
	if o.Channel != "" && !oneOf(o.Channel, Channels) {
		return o, nil, fmt.Errorf("%s %q: use %s", EnvChannel, o.Channel, strings.Join(Channels, ", "))
	}
	return o, miss, nil
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}

// Secrets are the values logs must never show.
func (o Options) Secrets() []string { return []string{o.APISecret, o.SignatureSecret} }

// Adapter is the Vonage Messages adapter.
type Adapter struct {
	o     Options
	media *netguard.Client
}

// New builds an adapter.
func New(o Options) *Adapter {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Channel == "" {
		o.Channel = "whatsapp"
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	mo := o.Media
	mo.Trusted = append(append([]string(nil), mo.Trusted...), netguard.HostPort(o.BaseURL))
	return &Adapter{o: o, media: netguard.New(mo)}
}

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "vonage" }

// Digits is a +E.164 number as Vonage writes it.
func Digits(n string) string { return strings.TrimPrefix(strings.TrimSpace(n), "+") }

// Body renders the POST /v1/messages JSON for a platform message.
func (a *Adapter) Body(req channel.OutgoingRequest) ([]byte, error) {
	if !channel.IsE164(req.ContactID) {
		return nil, &provider.Error{Status: 400, Message: "vonage: contactId " + strconv.Quote(req.ContactID) + " is not a +E.164 phone number"}
	}
	m := req.Message
	b := map[string]any{}
	text := func(s string) { b["message_type"], b["text"] = "text", s }
	rich := a.o.Channel == "whatsapp"
	switch {
	case m.Type == channel.MessageCustomPayload:
		var obj map[string]any
		if err := json.Unmarshal(m.Payload, &obj); err != nil || obj == nil {
			return nil, &provider.Error{Status: 400, Message: `vonage: custom_payload must be a JSON object: a Messages API body ({"message_type":...}) or, on WhatsApp, a custom object ({"type":"template",...})`}
		}
		switch {
		case obj["message_type"] != nil:
			b = obj // a Messages API body; the relay addresses it
		case rich:
			b["message_type"], b["custom"] = "custom", obj
		default:
			return nil, &provider.Error{Status: 400, Message: "vonage: custom_payload on " + a.o.Channel + " needs a Messages API body with message_type"}
		}
	case m.Type == channel.MessageAttachment && m.Attachment != nil && m.Attachment.URL != "" && a.o.Channel != "sms":
		at := m.Attachment
		kind := map[channel.AttachmentKind]string{channel.AttachmentImage: "image", channel.AttachmentVideo: "video", channel.AttachmentAudio: "audio"}[at.Type]
		if kind == "" {
			kind = "file"
		}
		o := map[string]any{"url": at.URL}
		if at.Description != "" && kind != "audio" {
			o["caption"] = at.Description
		}
		if kind == "file" && at.FileName != "" && rich {
			o["name"] = at.FileName
		}
		b["message_type"], b[kind] = kind, o
	case m.Type == channel.MessageLocation && rich && m.Latitude != nil && m.Longitude != nil:
		loc := map[string]any{"latitude": *m.Latitude, "longitude": *m.Longitude}
		if m.Address != "" {
			loc["address"] = m.Address
		}
		b["message_type"], b["custom"] = "custom", map[string]any{"type": "location", "location": loc}
	case m.Type == channel.MessageQuickReply && rich:
		if in, ok := whatsapp.Interactive(m); ok {
			b["message_type"], b["custom"] = "custom", map[string]any{"type": "interactive", "interactive": in}
		} else {
			text(provider.QuickReplyText(m))
		}
	default:
		s, ok := provider.PlainText(m)
		if !ok {
			return nil, provider.Unsupported("vonage", m.Type)
		}
		text(s)
	}
	b["channel"], b["to"], b["from"] = a.o.Channel, Digits(req.ContactID), Digits(a.o.From)
	return json.Marshal(b)
}

// Authorization is the header for an API call: a fresh application JWT,
// else Basic.
func (a *Adapter) Authorization() (string, error) {
	if a.o.ApplicationID != "" && a.o.PrivateKey != nil {
		now := a.o.Now().Unix()
		tok, err := SignRS256(map[string]any{"application_id": a.o.ApplicationID, "iat": now, "exp": now + 900,
			"jti": strings.ToLower(emukit.UUID())}, a.o.PrivateKey)
		if err != nil {
			return "", err
		}
		return "Bearer " + tok, nil
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.o.APIKey+":"+a.o.APISecret)), nil
}

// Send implements provider.Adapter; the id is the message_uuid.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	b, err := a.Body(req)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+"/v1/messages", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	auth, err := a.Authorization()
	if err != nil {
		return "", &provider.Error{Status: 400, Message: "vonage: cannot sign the request: " + err.Error()}
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Authorization", auth)
	status, h, body, err := provider.Do(ctx, a.o.Client, "Vonage", hr)
	if err != nil {
		return "", err
	}
	return ParseSendResponse(status, h, body, req.ContactID)
}

// ParseSendResponse reads 202 {"message_uuid"} or an RFC 7807 problem
// {"type","title","detail","instance","invalid_parameters":[{"name","reason"}]}.
func ParseSendResponse(status int, h http.Header, body []byte, contact string) (string, error) {
	r := gjson.ParseBytes(body)
	if status >= 200 && status < 300 {
		id := r.Get("message_uuid").String()
		if id == "" {
			return "", &provider.Error{Status: 400, Message: "Vonage: no message_uuid in the response: " + provider.Snip(string(body))}
		}
		return id, nil
	}
	detail := strings.TrimSpace(r.Get("title").String() + ": " + r.Get("detail").String())
	detail = strings.Trim(detail, ": ")
	toBad := false
	var params []string
	r.Get("invalid_parameters").ForEach(func(_, p gjson.Result) bool {
		params = append(params, p.Get("name").String()+" "+p.Get("reason").String())
		toBad = toBad || p.Get("name").String() == "to"
		return true
	})
	if len(params) > 0 {
		detail += " (" + strings.Join(params, "; ") + ")"
	}
	if detail == "" {
		detail = provider.Snip(string(body))
	}
	if t := r.Get("type").String(); t != "" {
		detail += " [" + t + "]"
	}
	switch {
	case status == 401 || status == 403 && strings.Contains(strings.ToLower(detail), "credential"):
		return "", &provider.Error{Status: 400, Message: fmt.Sprintf("Vonage rejected the relay's credentials (%d): %s", status, detail)}
	case toBad:
		return "", &provider.Error{Status: 400, Message: fmt.Sprintf("Vonage refused the recipient %s (%d): %s", contact, status, detail)}
	}
	return "", provider.FromHTTP("Vonage", status, detail, provider.RetryAfterHeader(h))
}

// Verify implements provider.Adapter: the Bearer JWT is HS256 with the
// signature secret, its iat recent, its payload_hash the SHA-256 of the
// body. A webhook with no Authorization at all is ErrUnsigned: Vonage
// documents a rare unsigned callback on an internal error and asks for a
// 5xx, so that it retries signed.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return provider.ErrUnsigned
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return provider.ErrBadSignature
	}
	claims, err := VerifyHS256(strings.TrimSpace(tok), a.o.SignatureSecret)
	if err != nil {
		return provider.ErrBadSignature
	}
	now := a.o.Now()
	iat, ok := claimInt(claims, "iat")
	if !ok || time.Unix(iat, 0).Before(now.Add(-a.o.MaxAge)) || time.Unix(iat, 0).After(now.Add(a.o.MaxAge)) {
		return provider.ErrBadSignature
	}
	if exp, ok := claimInt(claims, "exp"); ok && time.Unix(exp, 0).Before(now) {
		return provider.ErrBadSignature
	}
	if k := claimStr(claims, "api_key"); k != "" && a.o.APIKey != "" && k != a.o.APIKey {
		return provider.ErrBadSignature
	}
	// Required: without it a captured token would carry any body.
	if !payloadHashMatches(claimStr(claims, "payload_hash"), body) {
		return provider.ErrBadSignature
	}
	return nil
}

// PayloadHash is the payload_hash claim for a body: hex SHA-256.
func PayloadHash(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

func payloadHashMatches(claim string, body []byte) bool {
	if claim == "" {
		return false
	}
	claim = strings.ToLower(claim)
	if subtle.ConstantTimeCompare([]byte(claim), []byte(PayloadHash(body))) == 1 {
		return true
	}
	// The hash of the compact JSON, should a proxy have re-indented it.
	var c bytes.Buffer
	if json.Compact(&c, body) == nil && subtle.ConstantTimeCompare([]byte(claim), []byte(PayloadHash(c.Bytes()))) == 1 {
		return true
	}
	return false
}

// ParseTime reads Vonage's ISO-8601 timestamps as unix ms (0 when unreadable).
func ParseTime(s string) int64 {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli()
		}
	}
	return 0
}

// phoneChannels carry numbers: contact IDs are +E.164.
var phoneChannels = map[string]bool{"whatsapp": true, "sms": true, "mms": true, "viber_service": true, "rcs": true}

func contactOf(ch, from string) string {
	if phoneChannels[ch] && from != "" {
		return "+" + Digits(from)
	}
	return from
}

// Parse implements provider.Adapter: /providers/vonage/inbound (message
// webhooks) and /providers/vonage/status (status webhooks); the body tells
// which.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	if !gjson.ValidBytes(body) {
		return nil, provider.Bad("Vonage webhook is not JSON")
	}
	v := gjson.ParseBytes(body)
	if !v.IsObject() {
		return nil, provider.Bad("Vonage webhook is not a JSON object")
	}
	id := v.Get("message_uuid").String()
	if id == "" {
		return nil, provider.Bad("Vonage webhook without message_uuid")
	}
	ch := v.Get("channel").String()
	if st := v.Get("status"); st.Exists() {
		val, ok := MapStatus(st.String())
		if !ok {
			return nil, nil
		}
		s := &channel.Status{Value: val}
		if val == channel.StatusFailed {
			s.Message = failReason(st.String(), v.Get("error"))
		}
		return []provider.Inbound{{Kind: provider.KindStatus, ProviderID: id, ContactID: contactOf(ch, v.Get("to").String()),
			Timestamp: ParseTime(v.Get("timestamp").String()), Status: s}}, nil
	}
	mt := v.Get("message_type").String()
	if mt == "" {
		return nil, provider.Bad("Vonage webhook with neither status nor message_type")
	}
	from := v.Get("from").String()
	if from == "" {
		return nil, provider.Bad("Vonage inbound message without from")
	}
	contact := contactOf(ch, from)
	in := provider.Inbound{Kind: provider.KindMessage, ProviderID: id, ContactID: contact, Timestamp: ParseTime(v.Get("timestamp").String())}
	if name := v.Get("profile.name").String(); name != "" {
		in.Contact = &channel.Contact{FirstName: name, Phone: contact}
	}
	set := func(m channel.Message) { in.Message = &m }
	media := func(kind channel.AttachmentKind, o gjson.Result, mime string) {
		u := o.Get("url").String()
		if u == "" {
			return
		}
		if mime == "" {
			mime = emukit.MIMEOf(u)
		}
		m := channel.NewAttachment(kind, u, mime, o.Get("name").String(), o.Get("caption").String())
		in.Message, in.MediaRef = &m, u // Vonage-hosted; Secure Inbound Media needs the JWT
	}
	switch mt {
	case "text":
		set(channel.Text(v.Get("text").String()))
	case "image":
		media(channel.AttachmentImage, v.Get("image"), "")
	case "sticker":
		media(channel.AttachmentImage, v.Get("sticker"), "image/webp")
	case "video":
		media(channel.AttachmentVideo, v.Get("video"), "")
	case "audio":
		media(channel.AttachmentAudio, v.Get("audio"), "")
	case "file":
		media(channel.AttachmentFile, v.Get("file"), "")
	case "vcard":
		media(channel.AttachmentFile, v.Get("vcard"), "text/vcard")
	case "location":
		l := v.Get("location")
		lat, lng := l.Get("lat"), l.Get("long")
		if !lat.Exists() {
			lat, lng = l.Get("latitude"), l.Get("longitude")
		}
		if lat.Type != gjson.Number || lng.Type != gjson.Number {
			return nil, provider.Bad("Vonage location without numeric lat/long")
		}
		set(channel.Location(lat.Float(), lng.Float(), provider.JoinNonEmpty(", ", l.Get("name").String(), l.Get("address").String())))
	case "reply":
		// An interactive button or list-row tap.
		set(channel.Text(cmp.Or(v.Get("reply.title").String(), v.Get("reply.id").String())))
	case "button":
		// A template's quick-reply button.
		set(channel.Text(cmp.Or(v.Get("button.text").String(), v.Get("button.payload").String())))
	}
	// reaction, order, unsupported...: nothing the platform shows
	if in.Message == nil || in.Message.Type == channel.MessageText && in.Message.Text == "" {
		return nil, nil
	}
	return []provider.Inbound{in}, nil
}

// MapStatus normalises a status (docs/relay.md).
func MapStatus(st string) (channel.StatusValue, bool) {
	switch st {
	case "submitted":
		return channel.StatusSent, true
	case "delivered":
		return channel.StatusDelivered, true
	case "read":
		return channel.StatusRead, true
	case "rejected", "undeliverable":
		return channel.StatusFailed, true
	}
	return "", false
}

// failReason reads the status error: {type,title,detail} (title holds the
// code, as string or number) or the older {code,reason}.
func failReason(st string, e gjson.Result) string {
	code := cmp.Or(e.Get("title").String(), e.Get("code").String())
	if code == "" {
		if t := e.Get("type").String(); strings.Contains(t, "#") {
			code = t[strings.LastIndexByte(t, '#')+1:]
		}
	}
	msg := cmp.Or(e.Get("detail").String(), e.Get("reason").String())
	r := "Vonage: " + st
	if code != "" {
		r += " (error " + code + ")"
	}
	if msg != "" {
		r += ": " + msg
	}
	return r
}

// OpenMedia implements provider.MediaOpener: Vonage media URLs (48 h) need
// the application JWT when Secure Inbound Media is on; the JWT only ever
// goes to Vonage's hosts (or the API base, a fake in tests).
func (a *Adapter) OpenMedia(ctx context.Context, ref string) (*http.Response, error) {
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("vonage: bad media URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, err
	}
	if a.vonageHost(u) && a.o.ApplicationID != "" && a.o.PrivateKey != nil {
		auth, err := a.Authorization()
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", auth)
	}
	return a.media.Do(req)
}

func (a *Adapter) vonageHost(u *url.URL) bool {
	b, err := url.Parse(a.o.BaseURL)
	if err == nil && u.Scheme == b.Scheme && strings.EqualFold(u.Host, b.Host) {
		return true
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && (strings.HasSuffix(h, ".nexmo.com") || strings.HasSuffix(h, ".vonage.com"))
}
