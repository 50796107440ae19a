// Package zalo is the relay adapter for Zalo Official Account messaging
// (Open API v3 consultation messages, docs/provider.md): JSON sends with the
// access_token header, errors as negative `error` codes inside HTTP 200,
// webhooks signed with X-ZEvent-Signature, and OAuth v4 access tokens
// (~25 h) renewed with single-use refresh tokens. The channel must use the
// Custom ID type: the contact ID is the OA-scoped user id (digits).
package zalo

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// Zalo's hosts: the Open API and the OAuth server.
const (
	DefaultBaseURL  = "https://openapi.zalo.me"
	DefaultOAuthURL = "https://oauth.zaloapp.com"
)

// API paths.
const (
	SendPath   = "/v3.0/oa/message/cs"
	UploadPath = "/v2.0/oa/upload/file"
	TokenPath  = "/v4/oa/access_token"
)

// WebhookPath is where the relay takes Zalo's webhook events.
const WebhookPath = "/providers/zalo/webhook"

// Options configure the adapter.
type Options struct {
	// BaseURL is the Open API host; OAuthURL the OAuth host (empty →
	// BaseURL when that was given, so one fake serves both; else Zalo's).
	BaseURL, OAuthURL string
	// AppID and AppSecret identify the Zalo app (OAuth secret_key header);
	// OASecretKey signs the webhooks (the OA secret, not the app secret).
	AppID, AppSecret, OASecretKey string
	// AccessToken and RefreshToken are the OA's tokens; a token file, when
	// it exists, holds newer ones and wins.
	AccessToken, RefreshToken string
	// TokenFile, when set, keeps the tokens across restarts (0600, written
	// atomically after every refresh): the refresh token is single-use.
	TokenFile string
	Client    *http.Client
	// Media configures the guarded client that fetches attachment URLs to
	// upload and inbound media.
	Media netguard.Options
	// Logger gets token-file write failures (nil: discarded).
	Logger *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Adapter is the Zalo OA adapter.
type Adapter struct {
	o      Options
	media  *netguard.Client
	tokens *tokenStore
}

// New builds an adapter; it reads the token file when there is one.
func New(o Options) (*Adapter, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	} else if o.OAuthURL == "" {
		o.OAuthURL = o.BaseURL
	}
	if o.OAuthURL == "" {
		o.OAuthURL = DefaultOAuthURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	o.OAuthURL = strings.TrimRight(o.OAuthURL, "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	mo := o.Media
	mo.Trusted = append(append([]string(nil), mo.Trusted...), netguard.HostPort(o.BaseURL))
	if mo.MaxBytes <= 0 {
		mo.MaxBytes = MaxUpload
	}
	ts, err := newTokenStore(o)
	if err != nil {
		return nil, err
	}
	return &Adapter{o: o, media: netguard.New(mo), tokens: ts}, nil
}

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "zalo" }

// SentOnAccept implements provider.SentOnAccept: Zalo has no "sent" event;
// a send answered error 0 is sent.
func (a *Adapter) SentOnAccept() bool { return true }

// Tokens returns the current tokens (tests, --check-config).
func (a *Adapter) Tokens() Tokens { return a.tokens.get() }

// MaxUpload bounds an attachment fetched to upload.
const MaxUpload = 25 << 20

// Limits of the button template.
const (
	maxButtons     = 5
	maxButtonTitle = 100
)

// UserID checks a contact ID is a Zalo user id.
func UserID(contactID string) (string, error) {
	if contactID == "" || len(contactID) > 32 {
		return "", badUser(contactID)
	}
	for _, c := range contactID {
		if c < '0' || c > '9' {
			return "", badUser(contactID)
		}
	}
	return contactID, nil
}

func badUser(id string) error {
	return &provider.Error{Status: http.StatusBadRequest, Message: "zalo: contactId " + strconv.Quote(id) + " is not a Zalo user id (digits; the channel needs Custom IDs)"}
}

// Message renders the `message` object of a send; upload is set when the
// attachment must be uploaded first (its token goes into the payload).
func Message(m channel.Message) (msg map[string]any, upload *channel.Attachment, err error) {
	switch m.Type {
	case channel.MessageText:
		return map[string]any{"text": m.Text}, nil, nil
	case channel.MessageAttachment:
		at := m.Attachment
		if at == nil || at.URL == "" {
			return nil, nil, provider.Unsupported("zalo", m.Type)
		}
		switch at.Type {
		case channel.AttachmentImage:
			msg := map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
				"template_type": "media", "elements": []any{map[string]any{"media_type": "image", "url": at.URL}}}}}
			if at.Description != "" {
				msg["text"] = at.Description
			}
			return msg, nil, nil
		case channel.AttachmentFile:
			// A file message has no URL form: upload, then send its token.
			return map[string]any{"attachment": map[string]any{"type": "file", "payload": map[string]any{"token": ""}}}, at, nil
		}
		// No video or audio consultation message: the documented link.
		return map[string]any{"text": provider.AttachmentText(at)}, nil, nil
	case channel.MessageLocation:
		if m.Latitude == nil || m.Longitude == nil {
			return nil, nil, provider.Unsupported("zalo", m.Type)
		}
		return map[string]any{"text": provider.LocationText(m)}, nil, nil
	case channel.MessageQuickReply:
		return quickReply(m), nil, nil
	case channel.MessageCustomPayload:
		var o map[string]any
		if err := json.Unmarshal(m.Payload, &o); err != nil || o == nil {
			return nil, nil, &provider.Error{Status: http.StatusBadRequest, Message: "zalo: a custom_payload must be a Zalo message object (JSON object)"}
		}
		return o, nil, nil
	}
	return nil, nil, provider.Unsupported("zalo", m.Type)
}

// quickReply is text with oa.query.show buttons (a tap sends the reply as
// the customer's text), or the numbered text beyond the template's limits.
func quickReply(m channel.Message) map[string]any {
	ok := len(m.Replies) > 0 && len(m.Replies) <= maxButtons && m.Title != ""
	for _, r := range m.Replies {
		if r == "" || utf8.RuneCountInString(r) > maxButtonTitle {
			ok = false
		}
	}
	if !ok {
		return map[string]any{"text": provider.QuickReplyText(m)}
	}
	btns := make([]any, 0, len(m.Replies))
	for _, r := range m.Replies {
		btns = append(btns, map[string]any{"title": r, "type": "oa.query.show", "payload": r})
	}
	return map[string]any{"text": m.Title, "attachment": map[string]any{"type": "template", "payload": map[string]any{"buttons": btns}}}
}

// Body renders the whole send for a platform message (the file token, when
// one is needed, is filled in by Send).
func Body(req channel.OutgoingRequest) (map[string]any, *channel.Attachment, error) {
	uid, err := UserID(req.ContactID)
	if err != nil {
		return nil, nil, err
	}
	msg, up, err := Message(req.Message)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{"recipient": map[string]any{"user_id": uid}, "message": msg}, up, nil
}

// Send implements provider.Adapter: the mId is data.message_id, which
// user_received_message and user_seen_message name.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	body, up, err := Body(req)
	if err != nil {
		return "", err
	}
	if up != nil {
		tok, err := a.upload(ctx, up)
		if err != nil {
			return "", err
		}
		body["message"].(map[string]any)["attachment"].(map[string]any)["payload"] = map[string]any{"token": tok}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	r, err := a.call(ctx, func(token string) (*http.Request, error) {
		hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+SendPath, strings.NewReader(string(b)))
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("access_token", token)
		return hr, nil
	})
	if err != nil {
		return "", err
	}
	id := r.Get("data.message_id").String()
	if id == "" || len(id) > 200 {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "Zalo: no usable data.message_id in the answer"}
	}
	return id, nil
}

// uploadFailed is every failure to fetch an attachment for upload: one text
// (no probing of the relay's network through attachment URLs).
func uploadFailed() error {
	return &provider.Error{Status: http.StatusBadRequest, Message: "zalo: " + netguard.ErrFetch.Error() + " (the attachment, to upload it as a file)"}
}

// upload fetches the attachment (guarded) and uploads it to
// /v2.0/oa/upload/file; the answer's data.token names it in a file message.
func (a *Adapter) upload(ctx context.Context, at *channel.Attachment) (string, error) {
	resp, err := a.media.Get(ctx, at.URL)
	if err != nil {
		return "", uploadFailed()
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", uploadFailed()
	}
	name := at.FileName
	if name == "" {
		name = baseName(at.URL)
	}
	ct := at.MimeType
	if ct == "" {
		ct = resp.Header.Get("Content-Type")
	}
	r, err := a.call(ctx, func(token string) (*http.Request, error) {
		body, ctype := multipartFile(name, ct, data)
		hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+UploadPath, body)
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Content-Type", ctype)
		hr.Header.Set("access_token", token)
		return hr, nil
	})
	if err != nil {
		return "", err
	}
	tok := r.Get("data.token").String()
	if tok == "" {
		return "", &provider.Error{Status: http.StatusBadRequest, Message: "Zalo: the file upload returned no data.token"}
	}
	return tok, nil
}

// call runs an Open API request with the access token; on "access token
// invalid or expired" it refreshes once and tries again (with the token
// another call may have refreshed meanwhile).
func (a *Adapter) call(ctx context.Context, build func(token string) (*http.Request, error)) (gjson.Result, error) {
	tok, err := a.tokens.current(ctx, a)
	if err != nil {
		return gjson.Result{}, err
	}
	for attempt := 0; ; attempt++ {
		hr, err := build(tok)
		if err != nil {
			return gjson.Result{}, err
		}
		status, h, body, err := provider.Do(ctx, a.o.Client, "Zalo", hr)
		if err != nil {
			return gjson.Result{}, err
		}
		if status != http.StatusOK {
			r := gjson.ParseBytes(body)
			detail := r.Get("message").String()
			if detail == "" {
				detail = provider.Snip(string(body))
			}
			return gjson.Result{}, provider.FromHTTP("Zalo", status, detail, provider.RetryAfterHeader(h))
		}
		if !gjson.ValidBytes(body) {
			return gjson.Result{}, &provider.Error{Status: http.StatusBadRequest, Retryable: true, Message: "Zalo answered something that is not JSON: " + provider.Snip(string(body))}
		}
		r := gjson.ParseBytes(body)
		code := r.Get("error").Int()
		if code == 0 {
			return r, nil
		}
		msg := r.Get("message").String()
		if tokenError(code) && attempt == 0 {
			fresh, rerr := a.tokens.refresh(ctx, a, tok)
			if rerr != nil {
				return gjson.Result{}, &provider.Error{Status: http.StatusBadRequest,
					Message: fmt.Sprintf("Zalo rejected the access token (%d %s) and it could not be refreshed: %s", code, msg, rerr.Error())}
			}
			tok = fresh
			continue
		}
		return gjson.Result{}, MapError(code, msg)
	}
}

// tokenError: the access token is invalid (-216) or expired/revoked (-220).
func tokenError(code int64) bool { return code == -216 || code == -220 }

// MapError turns a negative Zalo error code into the platform's 4xx.
func MapError(code int64, msg string) *provider.Error {
	detail := strconv.FormatInt(code, 10)
	if msg != "" {
		detail += " " + msg
	}
	e := &provider.Error{Status: http.StatusBadRequest}
	switch code {
	case -216, -220:
		e.Message = "Zalo rejected the access token (" + detail + "): check CCX_ZALO_ACCESS_TOKEN / CCX_ZALO_REFRESH_TOKEN"
	case -32:
		e.Status, e.Retryable, e.Message = http.StatusTooManyRequests, true, "Zalo rate limit ("+detail+")"
	case -213, -227, -230, -232, -244:
		e.Message = "Zalo refused the recipient (" + detail + "): the user must follow the OA and have written to it recently"
	case -211:
		e.Message = "Zalo: the OA is out of consultation-message quota (" + detail + ")"
	case -204, -205, -223, -224:
		e.Message = "Zalo refused the OA's request (" + detail + "): check the OA's status, tier and the app's permissions"
	default:
		e.Message = "Zalo refused the message (" + detail + ")"
	}
	return e
}

// Verify implements provider.Adapter: X-ZEvent-Signature is "mac=" and the
// hex SHA-256 of app id + raw body + timestamp + OA secret key (the
// timestamp is the body's, or the X-ZEvent-Timestamp header).
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	got := strings.ToLower(strings.TrimSpace(r.Header.Get("X-ZEvent-Signature")))
	got = strings.TrimPrefix(got, "mac=")
	if a.o.OASecretKey == "" || a.o.AppID == "" || got == "" {
		return provider.ErrBadSignature
	}
	var stamps []string
	if gjson.ValidBytes(body) {
		if ts := gjson.GetBytes(body, "timestamp"); ts.Exists() {
			stamps = append(stamps, ts.String())
		}
	}
	if h := r.Header.Get("X-ZEvent-Timestamp"); h != "" {
		stamps = append(stamps, h)
	}
	for _, ts := range stamps {
		if subtle.ConstantTimeCompare([]byte(got), []byte(Signature(a.o.AppID, body, ts, a.o.OASecretKey))) == 1 {
			return nil
		}
	}
	return provider.ErrBadSignature
}

// Signature is the X-ZEvent-Signature value without its "mac=" prefix.
func Signature(appID string, body []byte, timestamp, oaSecret string) string {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecret))
	return hex.EncodeToString(h.Sum(nil))
}

// Parse implements provider.Adapter: user_send_* events are messages,
// user_received_message and user_seen_message receipts; follows, the OA's
// own messages and anonymous users carry nothing for the platform.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	if !gjson.ValidBytes(body) {
		return nil, provider.Bad("Zalo event is not JSON")
	}
	ev := gjson.ParseBytes(body)
	if !ev.IsObject() {
		return nil, provider.Bad("Zalo event is not a JSON object")
	}
	name := ev.Get("event_name").String()
	if name == "" {
		return nil, provider.Bad("Zalo event without event_name")
	}
	ts, _ := strconv.ParseInt(ev.Get("timestamp").String(), 10, 64)
	msg := ev.Get("message")
	switch name {
	case "user_received_message":
		id := msg.Get("msg_id").String()
		if id == "" {
			return nil, provider.Bad("Zalo user_received_message without message.msg_id")
		}
		return []provider.Inbound{{Kind: provider.KindStatus, ProviderID: id, ContactID: ev.Get("recipient.id").String(),
			Timestamp: ts, Status: &channel.Status{Value: channel.StatusDelivered}}}, nil
	case "user_seen_message":
		// The reader is the sender of this event.
		ids := msg.Get("msg_ids").Array()
		if one := msg.Get("msg_id"); one.Exists() {
			ids = append(ids, one)
		}
		var out []provider.Inbound
		for _, id := range ids {
			if id.String() == "" {
				continue
			}
			out = append(out, provider.Inbound{Kind: provider.KindStatus, ProviderID: id.String(), ContactID: ev.Get("sender.id").String(),
				Timestamp: ts, Status: &channel.Status{Value: channel.StatusRead}})
		}
		if len(out) == 0 {
			return nil, provider.Bad("Zalo user_seen_message without message.msg_ids")
		}
		return out, nil
	}
	if !strings.HasPrefix(name, "user_send_") {
		return nil, nil // follow, unfollow, oa_send_* echoes, anonymous_*, ...
	}
	id, from := msg.Get("msg_id").String(), ev.Get("sender.id").String()
	if id == "" || from == "" {
		return nil, provider.Bad("Zalo %s without message.msg_id or sender.id", name)
	}
	in := provider.Inbound{Kind: provider.KindMessage, ProviderID: id, ContactID: from, Timestamp: ts}
	text := msg.Get("text").String()
	att := msg.Get("attachments.0")
	p := att.Get("payload")
	media := func(kind channel.AttachmentKind, mime string) ([]provider.Inbound, error) {
		u := p.Get("url").String()
		if u == "" {
			u = p.Get("thumbnail").String()
		}
		if u == "" {
			return nil, provider.Bad("Zalo %s without an attachment URL", name)
		}
		fname := p.Get("name").String()
		if mime == "" && fname != "" {
			mime = mimeByExt(fname)
		}
		m := channel.NewAttachment(kind, u, mime, fname, text)
		in.Message = &m
		in.MediaRef = u // a Zalo CDN link of unknown lifetime: served through the relay
		return []provider.Inbound{in}, nil
	}
	switch name {
	case "user_send_text":
		if strings.TrimSpace(text) == "" {
			return nil, nil
		}
		m := channel.Text(text)
		in.Message = &m
		return []provider.Inbound{in}, nil
	case "user_send_image", "user_send_gif", "user_send_sticker":
		mime := ""
		if name == "user_send_gif" {
			mime = "image/gif"
		}
		return media(channel.AttachmentImage, mime)
	case "user_send_audio":
		return media(channel.AttachmentAudio, "")
	case "user_send_video":
		return media(channel.AttachmentVideo, "")
	case "user_send_file":
		return media(channel.AttachmentFile, "")
	case "user_send_location":
		c := p.Get("coordinates")
		if !c.Exists() {
			c = msg.Get("location")
		}
		lat, err1 := strconv.ParseFloat(c.Get("latitude").String(), 64)
		lng, err2 := strconv.ParseFloat(c.Get("longitude").String(), 64)
		if err1 != nil || err2 != nil {
			return nil, provider.Bad("Zalo user_send_location without numeric coordinates")
		}
		m := channel.Location(lat, lng, text) // the text is the place's name
		in.Message = &m
		return []provider.Inbound{in}, nil
	case "user_send_link", "user_send_business_card":
		parts := []string{}
		for _, s := range []string{text, p.Get("description").String(), p.Get("url").String()} {
			if s = strings.TrimSpace(s); s != "" && !contains(parts, s) {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			return nil, nil
		}
		m := channel.Text(strings.Join(parts, " "))
		in.Message = &m
		return []provider.Inbound{in}, nil
	}
	return nil, nil // other user_send_* kinds the platform cannot show
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// OpenMedia implements provider.MediaOpener.
func (a *Adapter) OpenMedia(ctx context.Context, ref string) (*http.Response, error) {
	return a.media.Get(ctx, ref)
}
