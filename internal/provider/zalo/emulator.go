package zalo

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
)

// EmulatorOptions configure a Zalo emulator.
type EmulatorOptions struct {
	// AppID, AppSecret (OAuth secret_key) and OASecretKey (webhook
	// signatures) identify the app and the OA; OAID is the OA's id (the
	// recipient of customer messages). Empty → test values.
	AppID, AppSecret, OASecretKey, OAID string
	// AccessToken and RefreshToken are the tokens it starts with; empty →
	// fresh ones.
	AccessToken, RefreshToken string
	// TokenTTL is an access token's lifetime (default 25 h, Zalo's).
	TokenTTL time.Duration
	// WebhookURL is the app's webhook URL (customer messages and
	// receipts); empty → no automatic receipts.
	WebhookURL string
	// Idle are user ids that have not written in 7 days: sends to them fail
	// with -230 (Faults.Reject plays a user who does not follow: -213).
	Idle []string
	// NoReceipts turns the automatic user_received_message and
	// user_seen_message events off.
	NoReceipts bool
	// ReceiptDelay comes before each automatic receipt.
	ReceiptDelay time.Duration
	// Client posts the events (default: 10 s timeout).
	Client *http.Client
	// Now is the clock (tests).
	Now func() time.Time
}

// NativeTypes are Zalo's customer-message variants (CustomerMessage.Native).
var NativeTypes = []provider.NativeType{
	{Name: "sticker", Help: "user_send_sticker: a sticker (an image URL)"},
	{Name: "gif", Help: "user_send_gif: a GIF from an attachment URL"},
	{Name: "link", Help: "user_send_link: a shared link (the URL; the text, if any, its description)"},
	{Name: "follow", Help: "a follow event (no message; the relay ignores it)"},
}

// Emulator is a local Zalo OA Open API (docs/provider.md): POST
// /v3.0/oa/message/cs with the access_token header and errors as negative
// codes inside HTTP 200, /v2.0/oa/upload/file|image|gif, the OAuth server's
// POST /v4/oa/access_token (rotating single-use refresh tokens), and signed
// (X-ZEvent-Signature) webhook events: user_send_* and, after each send,
// user_received_message then user_seen_message. Uploads are not messages:
// Sends has them only when refused.
type Emulator struct {
	o EmulatorOptions
	emukit.Base

	mu        sync.Mutex
	access    map[string]time.Time // access token → expiry
	current   string               // the newest access token
	refresh   string               // the one valid refresh token
	spent     map[string]bool      // refresh tokens already used
	refreshes int
	uploads   map[string]string // upload token → file name (bounded)
	upOrder   []string
}

var _ provider.Emulator = (*Emulator)(nil)

// DefaultTokenTTL is an access token's lifetime at Zalo (expires_in 90000).
const DefaultTokenTTL = 25 * time.Hour

// NewEmulator builds an emulator; serve its Handler anywhere (it answers
// both the Open API and the OAuth server's paths).
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.AppID == "" {
		o.AppID = "1234567890123456789"
	}
	if o.AppSecret == "" {
		o.AppSecret = emukit.HexID(10)
	}
	if o.OASecretKey == "" {
		o.OASecretKey = emukit.HexID(10)
	}
	if o.OAID == "" {
		o.OAID = "579745863508352884"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AccessToken == "" {
		o.AccessToken = newToken()
	}
	if o.RefreshToken == "" {
		o.RefreshToken = newToken()
	}
	e := &Emulator{o: o, access: map[string]time.Time{o.AccessToken: o.Now().Add(o.TokenTTL)},
		current: o.AccessToken, refresh: o.RefreshToken, spent: map[string]bool{}, uploads: map[string]string{}}
	e.Init("zalo", o.Client, o.ReceiptDelay, !o.NoReceipts)
	return e
}

// newToken looks like Zalo's long opaque tokens.
func newToken() string { return strings.ToUpper(emukit.HexID(8)) + "-" + emukit.HexID(40) }

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "zalo" }

// Credentials implements provider.Emulator: the current tokens (the
// refresh token rotates on every refresh).
func (e *Emulator) Credentials() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return map[string]string{"CCX_ZALO_APP_ID": e.o.AppID, "CCX_ZALO_APP_SECRET": e.o.AppSecret, "CCX_ZALO_OA_SECRET_KEY": e.o.OASecretKey,
		"CCX_ZALO_ACCESS_TOKEN": e.current, "CCX_ZALO_REFRESH_TOKEN": e.refresh, "CCX_ZALO_OA_ID": e.o.OAID}
}

// ExpireAccessToken makes every access token issued so far expired: the
// next API call is answered -220 until the server refreshes.
func (e *Emulator) ExpireAccessToken() {
	e.mu.Lock()
	defer e.mu.Unlock()
	past := e.o.Now().Add(-time.Second)
	for t := range e.access {
		e.access[t] = past
	}
}

// Refreshes counts the successful refresh-token grants.
func (e *Emulator) Refreshes() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refreshes
}

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

func zjson(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func zerr(code int, msg string) map[string]any { return map[string]any{"error": code, "message": msg} }

const maxUpload = 5 << 20

// tokenState says whether an access token is valid: 0, -216 unknown, -220 expired.
func (e *Emulator) tokenState(tok string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.access[tok]
	switch {
	case !ok || e.Faults.BadCredentials():
		return -216
	case !e.o.Now().Before(exp):
		return -220
	}
	return 0
}

var tokenMsg = map[int]string{-216: "Access token is invalid", -220: "Access token has expired or been removed"}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == TokenPath {
		e.serveOAuth(w, r)
		return
	}
	body, s, rerr := emukit.StartSend(r, maxUpload+64<<10)
	// Zalo answers errors with HTTP 200 and a negative code.
	answer := func(code int, msg string) {
		s.Status, s.Error = http.StatusOK, strconv.Itoa(code)+" "+msg
		e.Rec.Add(s)
		zjson(w, http.StatusOK, zerr(code, msg))
	}
	upload := strings.HasPrefix(path, "/v2.0/oa/upload/")
	if path != SendPath && !upload {
		s.Status, s.Error = http.StatusNotFound, "not found"
		e.Rec.Add(s)
		zjson(w, http.StatusNotFound, zerr(-404, "Not found"))
		return
	}
	if rerr != nil {
		answer(-210, "File size exceeds the limit")
		return
	}
	if r.Method != http.MethodPost {
		answer(-201, "Method is not supported")
		return
	}
	if st := e.tokenState(r.Header.Get("access_token")); st != 0 {
		answer(st, tokenMsg[st])
		return
	}
	if limited, _ := e.Faults.RateLimited(); limited {
		answer(-32, "Exceeded the number of API calls allowed per minute")
		return
	}
	if e.Faults.Fail() {
		s.Status, s.Error = http.StatusInternalServerError, "internal error"
		e.Rec.Add(s)
		zjson(w, http.StatusInternalServerError, zerr(-1, "Internal server error"))
		return
	}
	if upload {
		e.serveUpload(w, r, body, answer)
		return
	}
	var req struct {
		Recipient struct {
			UserID string `json:"user_id"`
		} `json:"recipient"`
		Message json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Recipient.UserID == "" || len(req.Message) == 0 {
		answer(-201, "Invalid parameter: recipient.user_id and message are required")
		return
	}
	s.To, s.From = req.Recipient.UserID, e.o.OAID
	s.Message = e.decode(req.Message)
	if desc := validMessage(req.Message); desc != "" {
		answer(-201, "Invalid parameter: "+desc)
		return
	}
	uid := req.Recipient.UserID
	switch {
	case !allDigits(uid) || e.Faults.Rejected(uid):
		answer(-213, "User has not followed the OA")
		return
	case contains(e.o.Idle, uid):
		answer(-230, "User has not interacted with the OA in the last 7 days")
		return
	}
	id := emukit.HexID(16)
	s.ID, s.Status = id, http.StatusOK
	s.CallbackURL = e.o.WebhookURL
	rs := e.Rec.Add(s)
	zjson(w, http.StatusOK, map[string]any{"error": 0, "message": "Success", "data": map[string]any{"message_id": id, "user_id": uid,
		"quota": map[string]any{"quota_type": "reply", "remain": "7", "total": "8", "expired_date": e.o.Now().Add(48 * time.Hour).Format("2006-01-02 15:04:05"),
			"owner_type": "OA", "owner_id": e.o.OAID}}})
	if e.AutoReceipts() && e.o.WebhookURL != "" {
		e.fireReceipts(rs)
	}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validMessage checks a message object as Zalo would; "" is fine.
func validMessage(raw json.RawMessage) string {
	var m struct {
		Text       *string `json:"text"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				TemplateType string `json:"template_type"`
				Elements     []struct {
					MediaType    string `json:"media_type"`
					URL          string `json:"url"`
					AttachmentID string `json:"attachment_id"`
				} `json:"elements"`
				Buttons []struct {
					Title string `json:"title"`
					Type  string `json:"type"`
				} `json:"buttons"`
				Token string `json:"token"`
			} `json:"payload"`
		} `json:"attachment"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return "message is not an object"
	}
	if m.Attachment == nil {
		if m.Text == nil || strings.TrimSpace(*m.Text) == "" {
			return "message.text is empty"
		}
		if utf8.RuneCountInString(*m.Text) > 2000 {
			return "message.text is too long"
		}
		return ""
	}
	p := m.Attachment.Payload
	switch m.Attachment.Type {
	case "file":
		if p.Token == "" {
			return "attachment.payload.token is required"
		}
	case "template":
		switch {
		case p.TemplateType == "media":
			if len(p.Elements) != 1 || p.Elements[0].URL == "" && p.Elements[0].AttachmentID == "" {
				return "a media template needs one element with url or attachment_id"
			}
			if u := p.Elements[0].URL; u != "" {
				if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
					return "element url is invalid"
				}
			}
		case len(p.Buttons) > 0:
			if len(p.Buttons) > 5 {
				return "at most 5 buttons"
			}
			for _, b := range p.Buttons {
				if b.Title == "" || !strings.HasPrefix(b.Type, "oa.") {
					return "a button needs a title and an oa.* type"
				}
			}
		case p.TemplateType == "list" || p.TemplateType == "request_user_info":
		default:
			return "unknown template"
		}
	default:
		return "unknown attachment type"
	}
	return ""
}

// decode is what the customer sees of a send.
func (e *Emulator) decode(raw json.RawMessage) channel.Message {
	var m struct {
		Text       string `json:"text"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				TemplateType string `json:"template_type"`
				Elements     []struct {
					MediaType string `json:"media_type"`
					URL       string `json:"url"`
				} `json:"elements"`
				Buttons []struct {
					Title string `json:"title"`
				} `json:"buttons"`
				Token string `json:"token"`
			} `json:"payload"`
		} `json:"attachment"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return channel.Message{}
	}
	if m.Attachment == nil {
		return channel.Text(m.Text)
	}
	p := m.Attachment.Payload
	switch {
	case m.Attachment.Type == "file":
		e.mu.Lock()
		name := e.uploads[p.Token]
		e.mu.Unlock()
		return channel.NewAttachment(channel.AttachmentFile, "zalo-upload:"+p.Token, emukit.MIMEOf("file:///"+url.PathEscape(name)), name, "")
	case p.TemplateType == "media" && len(p.Elements) == 1:
		el := p.Elements[0]
		mt := emukit.MIMEOf(el.URL)
		if el.MediaType == "gif" {
			mt = "image/gif"
		}
		return channel.NewAttachment(channel.AttachmentImage, el.URL, mt, "", m.Text)
	case len(p.Buttons) > 0:
		var rs []string
		for _, b := range p.Buttons {
			rs = append(rs, b.Title)
		}
		return channel.QuickReply(m.Text, rs...)
	}
	return channel.CustomPayload(raw)
}

// maxUploads bounds the uploads remembered (their names, for the record).
const maxUploads = 256

func (e *Emulator) serveUpload(w http.ResponseWriter, r *http.Request, body []byte, answer func(int, string)) {
	kind := strings.TrimPrefix(r.URL.Path, "/v2.0/oa/upload/")
	if kind != "file" && kind != "image" && kind != "gif" {
		answer(-201, "Invalid parameter: unknown upload type")
		return
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		answer(-201, "Invalid parameter: file is required (multipart/form-data)")
		return
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	name := ""
	size := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			answer(-201, "Invalid parameter: bad multipart body")
			return
		}
		if part.FormName() == "file" && part.FileName() != "" {
			n, _ := io.Copy(io.Discard, part)
			name, size = part.FileName(), int(n)
		}
	}
	if name == "" || size == 0 {
		answer(-201, "Invalid parameter: file is required")
		return
	}
	if size > maxUpload {
		answer(-210, "File size exceeds the limit")
		return
	}
	tok := emukit.HexID(24)
	e.mu.Lock()
	e.uploads[tok] = name
	e.upOrder = append(e.upOrder, tok)
	if len(e.upOrder) > maxUploads {
		delete(e.uploads, e.upOrder[0])
		e.upOrder = e.upOrder[1:]
	}
	e.mu.Unlock()
	data := map[string]any{"token": tok}
	if kind != "file" {
		data = map[string]any{"attachment_id": tok}
	}
	zjson(w, http.StatusOK, map[string]any{"error": 0, "message": "Success", "data": data})
}

// serveOAuth is POST /v4/oa/access_token with grant_type refresh_token:
// the refresh token is single-use, every grant returns a new pair.
func (e *Emulator) serveOAuth(w http.ResponseWriter, r *http.Request) {
	oerr := func(code int, name, desc string) {
		zjson(w, http.StatusOK, map[string]any{"error": code, "error_name": name, "error_reason": desc, "error_description": desc,
			"ref_doc": "https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new"})
	}
	body, _, _, err := emukit.ReadBody(r, 64<<10)
	if err != nil || r.Method != http.MethodPost {
		oerr(-14001, "Invalid request", "Use POST with a form body.")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oerr(-14001, "Invalid request", "The body is not a form.")
		return
	}
	if form.Get("app_id") != e.o.AppID {
		oerr(-14002, "Invalid app_id", "The app_id is invalid.")
		return
	}
	if r.Header.Get("secret_key") != e.o.AppSecret || e.Faults.BadCredentials() {
		oerr(-14003, "Invalid secret_key", "The secret_key is invalid.")
		return
	}
	if form.Get("grant_type") != "refresh_token" {
		oerr(-14004, "Invalid grant_type", "Only grant_type refresh_token is emulated.")
		return
	}
	rt := form.Get("refresh_token")
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case rt == "" || rt != e.refresh && !e.spent[rt]:
		oerr(-14014, "Invalid refresh_token", "The refresh token is invalid.")
		return
	case rt != e.refresh:
		oerr(-14014, "Invalid refresh_token", "The refresh token was already used; it is valid for one use only.")
		return
	}
	e.spent[rt] = true
	at, nrt := newToken(), newToken()
	e.access[at] = e.o.Now().Add(e.o.TokenTTL)
	e.current, e.refresh = at, nrt
	e.refreshes++
	zjson(w, http.StatusOK, map[string]any{"access_token": at, "refresh_token": nrt, "expires_in": strconv.Itoa(int(e.o.TokenTTL / time.Second))})
}

// fireReceipts queues user_received_message then user_seen_message.
func (e *Emulator) fireReceipts(s provider.Send) {
	steps := []channel.StatusValue{channel.StatusDelivered, channel.StatusRead}
	e.FireSteps(s, steps, func(st channel.StatusValue) (*http.Request, error) {
		return e.Receipt(e.o.WebhookURL, provider.ReceiptSpec{ProviderID: s.ID, To: s.To, Status: st})
	})
}

// userIDByApp is the app-scoped id Zalo adds to events (not the contact).
func userIDByApp(uid string) string {
	sum := sha256.Sum256([]byte("app:" + uid))
	n := uint64(0)
	for _, b := range sum[:8] {
		n = n<<8 | uint64(b)
	}
	return strconv.FormatUint(n%9e18+1e17, 10)
}

// Receipt implements provider.Emulator: delivered is user_received_message
// (OA → user), read is user_seen_message (user → OA). Zalo has no sent
// event (the send's answer is) and no asynchronous failure.
func (e *Emulator) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if r.ProviderID == "" {
		return nil, errors.New("zalo: a receipt needs the message_id of a sent message")
	}
	uid := r.To
	if s, ok := e.Rec.ByID(r.ProviderID); ok {
		uid = s.To
	}
	if uid == "" {
		return nil, errors.New("zalo: a receipt names the user: give the recipient (--from)")
	}
	when := r.Time
	if when.IsZero() {
		when = e.o.Now()
	}
	ts := strconv.FormatInt(when.UnixMilli(), 10)
	ev := map[string]any{"app_id": e.o.AppID, "user_id_by_app": userIDByApp(uid), "timestamp": ts}
	switch r.Status {
	case channel.StatusDelivered:
		ev["event_name"] = "user_received_message"
		ev["sender"], ev["recipient"] = map[string]any{"id": e.o.OAID}, map[string]any{"id": uid}
		ev["message"] = map[string]any{"msg_id": r.ProviderID, "delivery_time": ts}
	case channel.StatusRead:
		ev["event_name"] = "user_seen_message"
		ev["sender"], ev["recipient"] = map[string]any{"id": uid}, map[string]any{"id": e.o.OAID}
		ev["message"] = map[string]any{"msg_ids": []string{r.ProviderID}}
	case channel.StatusSent:
		return nil, errors.New("zalo: Zalo has no sent event: a send answered error 0 is sent (the server reports it)")
	case channel.StatusFailed:
		return nil, errNoFailureEvent{}
	default:
		return nil, fmt.Errorf("zalo: unknown status %q (use delivered or read)", r.Status)
	}
	if target == "" {
		target = e.o.WebhookURL
	}
	return e.signed(target, ev, r.BadSignature)
}

// signed builds an event POST with X-ZEvent-Signature over the exact bytes.
func (e *Emulator) signed(target string, ev map[string]any, bad bool) (*http.Request, error) {
	if target == "" {
		return nil, errors.New("zalo: no webhook URL: give the app's webhook URL")
	}
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	key := e.o.OASecretKey
	if bad {
		key = "not-" + key
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ZaloWebhook")
	req.Header.Set("X-ZEvent-Signature", "mac="+Signature(e.o.AppID, body, ev["timestamp"].(string), key))
	return req, nil
}

// errNoFailureEvent is an ErrNoReceipts that says which receipt is missing.
type errNoFailureEvent struct{}

func (errNoFailureEvent) Error() string {
	return "zalo has no failure event: a failed send is the error code /message answers"
}

func (errNoFailureEvent) Unwrap() error { return provider.ErrNoReceipts }

// DefaultCustomer is the OA-scoped user id used when a CustomerMessage names none.
const DefaultCustomer = "2468458835296197922"

// Event builds the webhook event for a customer message.
func (e *Emulator) Event(in provider.CustomerMessage) (map[string]any, error) {
	uid := in.From
	if uid == "" {
		uid = DefaultCustomer
	}
	if !allDigits(uid) || len(uid) > 32 {
		return nil, fmt.Errorf("zalo: customer %q is not a Zalo user id (digits)", uid)
	}
	when := in.Time
	if when.IsZero() {
		when = e.o.Now()
	}
	ev := map[string]any{"app_id": e.o.AppID, "user_id_by_app": userIDByApp(uid), "timestamp": strconv.FormatInt(when.UnixMilli(), 10),
		"sender": map[string]any{"id": uid}, "recipient": map[string]any{"id": e.o.OAID}}
	if in.Native == "follow" {
		ev["event_name"], ev["oa_id"], ev["source"] = "follow", e.o.OAID, "oa_profile"
		ev["follower"] = map[string]any{"id": uid}
		delete(ev, "sender")
		delete(ev, "recipient")
		return ev, nil
	}
	id := in.ID
	if id == "" {
		id = emukit.HexID(10)
	}
	msg := map[string]any{"msg_id": id}
	ev["message"] = msg
	m := in.Message
	attach := func(event, t string, extra map[string]any) error {
		a := m.Attachment
		if m.Type != channel.MessageAttachment || a == nil || a.URL == "" {
			return fmt.Errorf("zalo: %s needs an attachment URL", event)
		}
		p := map[string]any{"url": a.URL}
		if t == "image" || t == "gif" || t == "sticker" || t == "video" {
			p["thumbnail"] = a.URL
		}
		for k, v := range extra {
			p[k] = v
		}
		if a.Description != "" {
			msg["text"] = a.Description
		}
		ev["event_name"] = event
		msg["attachments"] = []any{map[string]any{"type": t, "payload": p}}
		return nil
	}
	switch in.Native {
	case "":
		switch m.Type {
		case channel.MessageText:
			if m.Text == "" {
				return nil, errors.New("zalo: a text message needs text")
			}
			ev["event_name"], msg["text"] = "user_send_text", m.Text
		case channel.MessageAttachment:
			if m.Attachment == nil {
				return nil, errors.New("zalo: an attachment needs a URL")
			}
			var err error
			switch m.Attachment.Type {
			case channel.AttachmentImage:
				err = attach("user_send_image", "image", nil)
			case channel.AttachmentVideo:
				err = attach("user_send_video", "video", nil)
			case channel.AttachmentAudio:
				err = attach("user_send_audio", "audio", nil)
			default:
				n := m.Attachment.FileName
				if n == "" {
					n = baseName(m.Attachment.URL)
				}
				ext := strings.TrimPrefix(strings.ToLower(n[strings.LastIndexByte(n, '.')+1:]), ".")
				if !strings.Contains(n, ".") {
					ext = ""
				}
				err = attach("user_send_file", "file", map[string]any{"name": n, "size": "12345", "type": ext, "checksum": emukit.HexID(16)})
			}
			if err != nil {
				return nil, err
			}
		case channel.MessageLocation:
			if m.Latitude == nil || m.Longitude == nil {
				return nil, errors.New("zalo: a location needs latitude and longitude")
			}
			ev["event_name"] = "user_send_location"
			if m.Address != "" {
				msg["text"] = m.Address // the place's name, as Zalo sends it
			}
			msg["attachments"] = []any{map[string]any{"type": "location", "payload": map[string]any{"coordinates": map[string]any{
				"latitude": strconv.FormatFloat(*m.Latitude, 'f', -1, 64), "longitude": strconv.FormatFloat(*m.Longitude, 'f', -1, 64)}}}}
		default:
			return nil, fmt.Errorf("zalo: a customer cannot send a %s message", m.Type)
		}
	case "sticker":
		if err := attach("user_send_sticker", "sticker", map[string]any{"id": emukit.HexID(4)}); err != nil {
			return nil, err
		}
	case "gif":
		if err := attach("user_send_gif", "gif", nil); err != nil {
			return nil, err
		}
	case "link":
		u := ""
		switch {
		case m.Type == channel.MessageAttachment && m.Attachment != nil:
			u = m.Attachment.URL
		case m.Type == channel.MessageText && strings.Contains(m.Text, "://"):
			u = m.Text
		}
		if u == "" {
			return nil, errors.New("zalo: a link needs a URL")
		}
		ev["event_name"] = "user_send_link"
		msg["attachments"] = []any{map[string]any{"type": "link", "payload": map[string]any{"url": u, "thumbnail": "", "description": ""}}}
		msg["text"] = u
	default:
		return nil, fmt.Errorf("zalo: unknown native type %q (known: sticker, gif, link, follow)", in.Native)
	}
	return ev, nil
}

// Inbound implements provider.Emulator. An empty target is the webhook URL.
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	ev, err := e.Event(in)
	if err != nil {
		return nil, err
	}
	if target == "" {
		target = e.o.WebhookURL
	}
	return e.signed(target, ev, in.BadSignature)
}
