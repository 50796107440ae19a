package whatsapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
	"github.com/tidwall/gjson"
)

// EmulatorOptions configure a WhatsApp Cloud API emulator.
type EmulatorOptions struct {
	// Token, PhoneNumberID, AppSecret and VerifyToken are the credentials it
	// accepts and signs with; empty → fresh test values.
	Token, PhoneNumberID, AppSecret, VerifyToken string
	// DisplayNumber is the business number (+E.164) shown in webhooks'
	// metadata; empty → +15550783881.
	DisplayNumber string
	// WABAID is the WhatsApp Business Account id of entry[].id.
	WABAID string
	// WebhookURL is the app's callback URL: statuses go there, and Inbound
	// posts there when given no target.
	WebhookURL string
	// NoReceipts turns the automatic statuses (sent, delivered, read) off.
	NoReceipts bool
	// ReceiptDelay separates the statuses of one send.
	ReceiptDelay time.Duration
	// Client posts the statuses and fetches the media behind media ids made
	// from URLs (default: 10 s timeout).
	Client *http.Client
}

// NativeTypes are WhatsApp's customer-message variants (CustomerMessage.Native).
var NativeTypes = []provider.NativeType{
	{Name: "button_reply", Help: "a reply-button tap (interactive.button_reply): the text is the button's title and id"},
	{Name: "list_reply", Help: "a list-row pick (interactive.list_reply): the text is the row's title and id"},
	{Name: "button", Help: "a template quick-reply button tap (button{payload,text}): the text is both"},
	{Name: "sticker", Help: "a sticker (image/webp) from an attachment URL"},
	{Name: "voice", Help: "a voice note (audio, voice:true, audio/ogg) from an attachment URL"},
	{Name: "contacts", Help: "a shared contact: the text is the phone number, the customer's name its formatted_name"},
	{Name: "reaction", Help: "an emoji reaction (the text) to the message --id names; the relay ignores reactions"},
	{Name: "unsupported", Help: "a message type the Cloud API does not support (errors[131051]); the relay ignores it"},
	{Name: "handshake", Help: "the webhook verification GET (hub.mode=subscribe, hub.verify_token, hub.challenge=the text or a number)"},
}

// Emulator is a local WhatsApp Cloud API (docs/provider.md): POST
// /{version}/{phone-number-id}/messages with a Bearer token, Graph errors
// with Meta's codes, wamid ids, GET /{version}/{media-id} and the media
// download behind the token, statuses and customer messages posted to the
// app's webhook signed with X-Hub-Signature-256, and the GET handshake.
type Emulator struct {
	o EmulatorOptions
	emukit.Base

	mu    sync.Mutex
	media map[string]mediaFile
}

type mediaFile struct {
	contentType string
	data        []byte
}

var _ provider.Emulator = (*Emulator)(nil)

// DefaultCustomer is the customer used when a CustomerMessage names none.
const DefaultCustomer = "+16505551234"

// NewEmulator builds an emulator; serve its Handler anywhere.
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.Token == "" {
		o.Token = "EAAG" + strings.ToUpper(emukit.HexID(6)) + emukit.HexID(24)
	}
	if o.PhoneNumberID == "" {
		o.PhoneNumberID = digitsID(15)
	}
	if o.AppSecret == "" {
		o.AppSecret = emukit.HexID(16)
	}
	if o.VerifyToken == "" {
		o.VerifyToken = "ccx_" + emukit.HexID(12)
	}
	if o.DisplayNumber == "" {
		o.DisplayNumber = "+15550783881"
	}
	if o.WABAID == "" {
		o.WABAID = digitsID(15)
	}
	e := &Emulator{o: o, media: map[string]mediaFile{}}
	e.Init("whatsapp", o.Client, o.ReceiptDelay, !o.NoReceipts)
	return e
}

// digitsID is a random n-digit id (Meta's object ids are numeric).
func digitsID(n int) string {
	h := emukit.HexID(n)
	b := []byte(h[:n])
	for i, c := range b {
		b[i] = '0' + c%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "whatsapp" }

// Credentials implements provider.Emulator: the relay's variable names.
func (e *Emulator) Credentials() map[string]string {
	return map[string]string{EnvToken: e.o.Token, EnvPhoneNumberID: e.o.PhoneNumberID, EnvAppSecret: e.o.AppSecret, EnvVerifyToken: e.o.VerifyToken}
}

// AddMedia serves data as media id (GET /{version}/{id} and its download URL).
func (e *Emulator) AddMedia(id, contentType string, data []byte) {
	e.mu.Lock()
	e.media[id] = mediaFile{contentType, data}
	e.mu.Unlock()
}

// graphErr writes a Graph API error.
func graphErr(w http.ResponseWriter, status, code int, typ, msg, details string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "`+map[bool]string{true: "invalid_token", false: "invalid_request"}[code == 190]+`" "`+msg+`"`)
	w.WriteHeader(status)
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "A" + strings.ToUpper(emukit.HexID(10))}
	if details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": details}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

var versionRE = regexp.MustCompile(`^v[0-9]{1,2}\.[0-9]$`)

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

func (e *Emulator) authed(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	return tok == e.o.Token && !e.Faults.BadCredentials()
}

const badToken = "Invalid OAuth access token - Cannot parse access token"

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/whatsapp_business/attachments") {
		e.serveDownload(w, r)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || !versionRE.MatchString(parts[0]) {
		graphErr(w, 400, 2500, "OAuthException", "Unknown path components: "+r.URL.Path, "")
		return
	}
	if len(parts) == 2 && r.Method == http.MethodGet {
		e.serveMediaInfo(w, r, parts[1])
		return
	}
	body, s, rerr := emukit.StartSend(r, 1<<20)
	answer := func(status, code int, typ, msg, details string) {
		s.Status, s.Error = status, msg
		if details != "" && !strings.Contains(msg, details) {
			s.Error += ": " + details
		}
		e.Rec.Add(s)
		graphErr(w, status, code, typ, msg, details)
	}
	if rerr != nil {
		answer(413, 100, "OAuthException", "(#100) Request body too large", "")
		return
	}
	if !e.authed(r) {
		answer(401, 190, "OAuthException", badToken, "")
		return
	}
	if len(parts) != 3 || parts[2] != "messages" || r.Method != http.MethodPost {
		answer(400, 100, "GraphMethodException", fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", strings.ToLower(r.Method), parts[1]), "")
		return
	}
	if parts[1] != e.o.PhoneNumberID {
		answer(400, 100, "GraphMethodException", fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", parts[1]), "")
		return
	}
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		answer(400, 100, "OAuthException", "(#100) The parameter messaging_product is required.", "")
		return
	}
	msg := gjson.ParseBytes(body)
	to := msg.Get("to").String()
	s.To, s.From = to, strings.TrimPrefix(e.o.DisplayNumber, "+")
	s.Message = DecodeMessage(msg)
	if limited, _ := e.Faults.RateLimited(); limited {
		// Meta sends no Retry-After for throughput limits.
		answer(429, 130429, "OAuthException", "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")
		return
	}
	if e.Faults.Fail() {
		answer(500, 131000, "OAuthException", "(#131000) Something went wrong", "Message failed to send due to an unknown error.")
		return
	}
	if code, m, details := Validate(msg); code != 0 {
		answer(400, code, "OAuthException", m, details)
		return
	}
	if e.Faults.Rejected(to, "+"+Digits(to)) {
		answer(400, 131030, "OAuthException", "(#131030) Recipient phone number not in allowed list", "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.")
		return
	}
	wa := Digits(to)
	id := NewWAMID(wa)
	s.ID, s.Status = id, 200
	s.CallbackURL = e.o.WebhookURL
	recorded2 := e.Rec.Add(s)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp",
		"contacts": []map[string]string{{"input": to, "wa_id": wa}}, "messages": []map[string]string{{"id": id}}})
	if e.AutoReceipts() && s.CallbackURL != "" {
		e.fireReceipts(recorded2)
	}
}

// NewWAMID is a fresh wamid for a recipient, laid out as Meta's (base64 of
// the number and 18 hex digits: "wamid.HBgL…", 58 characters for an
// 11-digit number, more than a platform mId may be).
func NewWAMID(wa string) string {
	raw := append([]byte{0x1c, 0x18, byte(len(wa))}, wa...)
	raw = append(raw, 0x15, 0x02, 0x00, 0x11, 0x18, 0x12)
	raw = append(raw, []byte(strings.ToUpper(emukit.HexID(9)))...)
	raw = append(raw, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(raw)
}

var digitsRE = regexp.MustCompile(`^\+?[1-9][0-9]{6,14}$`)

// Validate checks a message object as the Cloud API does: 0 when fine,
// else the error code, message and details (Vonage's WhatsApp custom
// objects pass through to it too).
func Validate(m gjson.Result) (int, string, string) {
	bad := func(p string) (int, string, string) {
		return 100, "(#100) Invalid parameter", "Parameter " + p + " is invalid or missing."
	}
	if m.Get("messaging_product").String() != "whatsapp" {
		return 100, "(#100) The parameter messaging_product is required.", ""
	}
	if rt := m.Get("recipient_type"); rt.Exists() && rt.String() != "individual" && rt.String() != "group" {
		return bad("recipient_type")
	}
	to := m.Get("to").String()
	if to == "" {
		return 100, "(#100) The parameter to is required.", ""
	}
	if !digitsRE.MatchString(to) {
		return 131009, "(#131009) Parameter value is not valid", "Invalid phone number: " + to
	}
	t := m.Get("type").String()
	if t == "" {
		t = "text"
	}
	o := m.Get(t)
	if !o.IsObject() {
		return 100, "(#100) The parameter " + t + " is required.", ""
	}
	notValid := func(d string) (int, string, string) { return 131009, "(#131009) Parameter value is not valid", d }
	switch t {
	case "text":
		b := o.Get("body").String()
		if strings.TrimSpace(b) == "" {
			return 100, "(#100) The parameter text['body'] is required.", ""
		}
		if utf8.RuneCountInString(b) > MaxTextBody {
			return 100, "(#100) Param text['body'] must be at most 4096 characters long.", ""
		}
	case "image", "video", "audio", "document", "sticker":
		link, id := o.Get("link").String(), o.Get("id").String()
		if link == "" && id == "" {
			return 100, "(#100) The parameter " + t + "['link'] or " + t + "['id'] is required.", ""
		}
		if link != "" {
			if u, err := url.Parse(link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return notValid("Media link " + link + " is not a valid http(s) URL.")
			}
		}
		if c := o.Get("caption"); c.Exists() && (t == "audio" || t == "sticker") {
			return bad(t + "['caption']")
		}
		if utf8.RuneCountInString(o.Get("caption").String()) > 1024 {
			return bad(t + "['caption']")
		}
	case "location":
		lat, lng := o.Get("latitude"), o.Get("longitude")
		if lat.Type != gjson.Number || lng.Type != gjson.Number || lat.Float() < -90 || lat.Float() > 90 || lng.Float() < -180 || lng.Float() > 180 {
			return bad("location['latitude'] or location['longitude']")
		}
	case "interactive":
		return validateInteractive(o)
	case "template":
		if o.Get("name").String() == "" || o.Get("language.code").String() == "" {
			return 100, "(#100) The parameter template['name'] and template['language']['code'] are required.", ""
		}
	case "contacts", "reaction":
	default:
		return 100, "(#100) Param type must be one of {AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO} - got \"" + t + "\".", ""
	}
	return 0, "", ""
}

func validateInteractive(o gjson.Result) (int, string, string) {
	notValid := func(d string) (int, string, string) { return 131009, "(#131009) Parameter value is not valid", d }
	body := o.Get("body.text").String()
	if strings.TrimSpace(body) == "" && o.Get("type").String() != "product" {
		return 100, "(#100) The parameter interactive['body']['text'] is required.", ""
	}
	if utf8.RuneCountInString(body) > MaxInteractive {
		return notValid("Body text length invalid. Min length: 1, Max length: 1024")
	}
	switch o.Get("type").String() {
	case "button":
		btns := o.Get("action.buttons").Array()
		if len(btns) < 1 || len(btns) > MaxButtons {
			return notValid("Number of buttons invalid. Min: 1, Max: 3")
		}
		seen := map[string]bool{}
		for _, b := range btns {
			title, id := b.Get("reply.title").String(), b.Get("reply.id").String()
			if b.Get("type").String() != "reply" || title == "" || id == "" {
				return 100, "(#100) The parameter interactive['action']['buttons'][0]['reply'] is required.", ""
			}
			if utf8.RuneCountInString(title) > MaxButtonTitle {
				return notValid("Button title length invalid. Min length: 1, Max length: 20")
			}
			if len(id) > MaxButtonID {
				return notValid("Button id length invalid. Max length: 256")
			}
			if seen[title] || seen["id:"+id] {
				return notValid("Button title and id must be unique")
			}
			seen[title], seen["id:"+id] = true, true
		}
	case "list":
		label := o.Get("action.button").String()
		if label == "" || utf8.RuneCountInString(label) > MaxButtonTitle {
			return notValid("Button label length invalid. Min length: 1, Max length: 20")
		}
		rows := 0
		secs := o.Get("action.sections").Array()
		if len(secs) < 1 || len(secs) > 10 {
			return notValid("Number of sections invalid. Min: 1, Max: 10")
		}
		for _, sec := range secs {
			if len(secs) > 1 && sec.Get("title").String() == "" {
				return 100, "(#100) The parameter interactive['action']['sections'][0]['title'] is required.", ""
			}
			for _, row := range sec.Get("rows").Array() {
				rows++
				title := row.Get("title").String()
				if title == "" || row.Get("id").String() == "" {
					return 100, "(#100) The parameter interactive['action']['sections'][0]['rows'][0]['title'] is required.", ""
				}
				if utf8.RuneCountInString(title) > MaxRowTitle {
					return notValid("Row title length invalid. Min length: 1, Max length: 24")
				}
				if len(row.Get("id").String()) > MaxRowID {
					return notValid("Row id length invalid. Max length: 200")
				}
				if utf8.RuneCountInString(row.Get("description").String()) > 72 {
					return notValid("Row description length invalid. Max length: 72")
				}
			}
		}
		if rows < 1 || rows > MaxListRows {
			return notValid("Total row count exceed max allowed count: 10")
		}
	case "cta_url", "product", "product_list", "flow", "location_request_message", "address_message":
	default:
		return 100, "(#100) The parameter interactive['type'] is required.", ""
	}
	return 0, "", ""
}

// DecodeMessage is what the customer gets from a message object (a Cloud
// API send, or the interactive object of a Vonage custom send).
func DecodeMessage(m gjson.Result) channel.Message {
	t := m.Get("type").String()
	if t == "" {
		t = "text"
	}
	o := m.Get(t)
	switch t {
	case "text":
		return channel.Text(o.Get("body").String())
	case "image", "video", "audio", "document", "sticker":
		link := o.Get("link").String()
		if link == "" {
			link = MediaScheme + o.Get("id").String()
		}
		kind := map[string]channel.AttachmentKind{"image": channel.AttachmentImage, "sticker": channel.AttachmentImage,
			"video": channel.AttachmentVideo, "audio": channel.AttachmentAudio, "document": channel.AttachmentFile}[t]
		return channel.NewAttachment(kind, link, emukit.MIMEOf(link), o.Get("filename").String(), o.Get("caption").String())
	case "location":
		return channel.Location(o.Get("latitude").Float(), o.Get("longitude").Float(), provider.JoinNonEmpty(", ", o.Get("name").String(), o.Get("address").String()))
	case "interactive":
		return DecodeInteractive(o)
	}
	return channel.CustomPayload(json.RawMessage(m.Raw))
}

// DecodeInteractive turns an interactive object with reply buttons or list
// rows back into a quick reply.
func DecodeInteractive(o gjson.Result) channel.Message {
	var replies []string
	switch o.Get("type").String() {
	case "button":
		for _, b := range o.Get("action.buttons").Array() {
			replies = append(replies, b.Get("reply.title").String())
		}
	case "list":
		for _, sec := range o.Get("action.sections").Array() {
			for _, row := range sec.Get("rows").Array() {
				replies = append(replies, row.Get("title").String())
			}
		}
	}
	if len(replies) == 0 {
		return channel.CustomPayload(json.RawMessage(o.Raw))
	}
	return channel.QuickReply(o.Get("body.text").String(), replies...)
}

// selfBase is the URL this handler is reached at (scheme, host and the
// prefix it is mounted under), for the media URLs it hands out.
func selfBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if ru, err := url.ParseRequestURI(r.RequestURI); err == nil {
		full, tail := ru.EscapedPath(), r.URL.EscapedPath()
		if strings.HasSuffix(full, tail) {
			prefix = strings.TrimSuffix(full[:len(full)-len(tail)], "/")
		}
	}
	return scheme + "://" + r.Host + prefix
}

// Media ids made from a URL carry it (base64url), so that any emulator
// instance resolves them (`ccx provider send` and `ccx provider serve` are
// separate processes).
const urlMediaPrefix = "ccx"

func mediaIDFor(u string) string {
	return urlMediaPrefix + base64.RawURLEncoding.EncodeToString([]byte(u))
}

func mediaSource(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, urlMediaPrefix)
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(string(b))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return string(b), true
}

func (e *Emulator) lookupMedia(id string) (mediaFile, string, bool) {
	e.mu.Lock()
	f, ok := e.media[id]
	e.mu.Unlock()
	if ok {
		return f, "", true
	}
	src, ok := mediaSource(id)
	return mediaFile{contentType: emukit.MIMEOf(src)}, src, ok
}

func (e *Emulator) serveMediaInfo(w http.ResponseWriter, r *http.Request, id string) {
	if !e.authed(r) {
		graphErr(w, 401, 190, "OAuthException", badToken, "")
		return
	}
	f, src, ok := e.lookupMedia(id)
	if !ok {
		graphErr(w, 400, 100, "GraphMethodException", fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id), "")
		return
	}
	sum := sha256.Sum256(f.data)
	if src != "" {
		sum = sha256.Sum256([]byte(src)) // a stand-in: the bytes live at the source
	}
	ct := f.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	res := map[string]any{"messaging_product": "whatsapp", "id": id, "mime_type": ct, "sha256": hex.EncodeToString(sum[:]),
		"url": selfBase(r) + "/whatsapp_business/attachments/?mid=" + url.QueryEscape(id) + "&ext=" + strconv.FormatInt(time.Now().Unix(), 10) + "&hash=" + hex.EncodeToString(sum[:6])}
	if src == "" {
		res["file_size"] = len(f.data)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// maxDownload bounds a proxied media file (WhatsApp's largest, documents).
const maxDownload = 100 << 20

func (e *Emulator) serveDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		graphErr(w, 405, 100, "OAuthException", "(#100) Unsupported method", "")
		return
	}
	if !e.authed(r) {
		graphErr(w, 401, 190, "OAuthException", badToken, "")
		return
	}
	f, src, ok := e.lookupMedia(r.URL.Query().Get("mid"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	if src == "" {
		ct := f.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(f.data)
		return
	}
	// The customer's media lives at the URL the id was made from.
	c := e.o.Client
	if c == nil {
		c = emukit.DefaultCallbackClient
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, src, nil)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		http.Error(w, "the media's source did not answer", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		http.NotFound(w, r)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	} else if f.contentType != "" {
		w.Header().Set("Content-Type", f.contentType)
	}
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxDownload))
}

// fireReceipts queues sent → delivered → read for one send.
func (e *Emulator) fireReceipts(s provider.Send) {
	steps := []channel.StatusValue{channel.StatusSent, channel.StatusDelivered, channel.StatusRead}
	e.FireSteps(s, steps, func(st channel.StatusValue) (*http.Request, error) {
		return e.Receipt(s.CallbackURL, provider.ReceiptSpec{ProviderID: s.ID, Status: st})
	})
}

// Notification is the webhook envelope around one change value.
func (e *Emulator) Notification(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": Digits(e.o.DisplayNumber), "phone_number_id": e.o.PhoneNumberID}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account",
		"entry": []map[string]any{{"id": e.o.WABAID, "changes": []map[string]any{{"field": "messages", "value": value}}}}})
	return EscapeUnicode(b)
}

// EscapeUnicode writes non-ASCII characters as \uXXXX, as Meta serialises
// (and signs) its webhooks: a server that verifies a re-encoded body fails.
func EscapeUnicode(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(b[0])
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out.Bytes()
}

func (e *Emulator) signedPost(target string, body []byte, bad bool) (*http.Request, error) {
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	key := e.o.AppSecret
	if bad {
		key = "not-" + key
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", Signature(key, body))
	return req, nil
}

// Receipt implements provider.Emulator: a statuses notification, signed.
func (e *Emulator) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if r.ProviderID == "" {
		return nil, errors.New("whatsapp: a status needs the wamid of a sent message")
	}
	s, known := e.Rec.ByID(r.ProviderID)
	if target == "" {
		target = s.CallbackURL
	}
	if target == "" {
		target = e.o.WebhookURL
	}
	if target == "" {
		return nil, errors.New("whatsapp: no webhook URL: configure the app's callback URL (--status-url)")
	}
	to := Digits(r.To)
	if known {
		to = Digits(s.To)
	}
	if to == "" {
		to = Digits(DefaultCustomer)
	}
	when := r.Time
	if when.IsZero() {
		when = time.Now()
	}
	st := map[string]any{"id": r.ProviderID, "timestamp": strconv.FormatInt(when.Unix(), 10), "recipient_id": to}
	switch r.Status {
	case channel.StatusSent, channel.StatusDelivered:
		st["status"] = string(r.Status)
		st["conversation"] = map[string]any{"id": hex.EncodeToString([]byte(r.ProviderID))[:32], "origin": map[string]string{"type": "service"}}
		st["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": "service", "type": "regular"}
	case channel.StatusRead:
		st["status"] = "read"
	case channel.StatusFailed:
		code, title, details := 131026, "Message undeliverable", r.Reason
		if n, err := strconv.Atoi(strings.TrimSpace(r.Reason)); err == nil && n > 0 {
			code, details = n, ""
		}
		if details == "" {
			details = "Message Undeliverable."
		}
		st["status"] = "failed"
		st["errors"] = []map[string]any{{"code": code, "title": title, "message": title, "error_data": map[string]string{"details": details},
			"href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}
	default:
		return nil, fmt.Errorf("whatsapp: unknown status %q (use sent, delivered, read or failed)", r.Status)
	}
	return e.signedPost(target, e.Notification(map[string]any{"statuses": []any{st}}), r.BadSignature)
}

// Handshake is the webhook verification GET Meta sends when the callback
// URL is saved (a wrong verify token when bad).
func (e *Emulator) Handshake(target, challenge string, bad bool) (*http.Request, error) {
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	if challenge == "" {
		challenge = digitsID(10)
	}
	tok := e.o.VerifyToken
	if bad {
		tok = "not-" + tok
	}
	u, _ := url.Parse(target)
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", challenge)
	q.Set("hub.verify_token", tok)
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	return req, nil
}

// Inbound implements provider.Emulator: a messages notification, signed
// (the handshake GET for the native "handshake"). An empty target is the
// app's webhook URL.
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	if target == "" {
		target = e.o.WebhookURL
	}
	if in.Native == "handshake" {
		return e.Handshake(target, in.Message.Text, in.BadSignature)
	}
	body, err := e.InboundBody(in)
	if err != nil {
		return nil, err
	}
	return e.signedPost(target, body, in.BadSignature)
}

// InboundBody is the messages notification for a customer message.
func (e *Emulator) InboundBody(in provider.CustomerMessage) ([]byte, error) {
	from := in.From
	if from == "" {
		from = DefaultCustomer
	}
	if !channel.IsE164(from) {
		return nil, fmt.Errorf("whatsapp: customer %q is not a +E.164 number", from)
	}
	wa := Digits(from)
	id := in.ID
	if id == "" {
		id = NewWAMID(wa)
	}
	when := in.Time
	if when.IsZero() {
		when = time.Now()
	}
	name := in.Name
	if name == "" {
		name = "Customer"
	}
	msg := map[string]any{"from": wa, "id": id, "timestamp": strconv.FormatInt(when.Unix(), 10)}
	m := in.Message
	text := func(what string) (string, error) {
		if m.Type != channel.MessageText || strings.TrimSpace(m.Text) == "" {
			return "", fmt.Errorf("whatsapp: %s needs text", what)
		}
		return m.Text, nil
	}
	media := func(a *channel.Attachment, withCaption bool) (map[string]any, error) {
		if a == nil || a.URL == "" {
			return nil, errors.New("whatsapp: an attachment needs a URL")
		}
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("whatsapp: attachment URL %q is not an absolute http(s) URL", a.URL)
		}
		if len(a.URL) > 2048 {
			return nil, errors.New("whatsapp: attachment URL longer than 2048 bytes")
		}
		sum := sha256.Sum256([]byte(a.URL))
		d := map[string]any{"id": mediaIDFor(a.URL), "mime_type": emukit.AttachmentMIME(a), "sha256": base64.StdEncoding.EncodeToString(sum[:])}
		if withCaption && a.Description != "" {
			d["caption"] = a.Description
		}
		return d, nil
	}
	setMedia := func(t string, a *channel.Attachment, withCaption bool) error {
		d, err := media(a, withCaption)
		if err != nil {
			return err
		}
		if t == "document" {
			n := a.FileName
			if n == "" {
				if u, err := url.Parse(a.URL); err == nil {
					n = path.Base(u.Path)
				}
			}
			d["filename"] = n
		}
		msg["type"], msg[t] = t, d
		return nil
	}
	switch in.Native {
	case "":
		switch m.Type {
		case channel.MessageText:
			if strings.TrimSpace(m.Text) == "" {
				return nil, errors.New("whatsapp: a text message needs text")
			}
			msg["type"], msg["text"] = "text", map[string]string{"body": m.Text}
		case channel.MessageAttachment:
			if m.Attachment == nil {
				return nil, errors.New("whatsapp: an attachment needs a URL")
			}
			t := map[channel.AttachmentKind]string{channel.AttachmentImage: "image", channel.AttachmentVideo: "video", channel.AttachmentAudio: "audio"}[m.Attachment.Type]
			if t == "" {
				t = "document"
			}
			if err := setMedia(t, m.Attachment, t != "audio"); err != nil {
				return nil, err
			}
		case channel.MessageLocation:
			if m.Latitude == nil || m.Longitude == nil {
				return nil, errors.New("whatsapp: a location needs latitude and longitude")
			}
			loc := map[string]any{"latitude": *m.Latitude, "longitude": *m.Longitude}
			if m.Address != "" {
				n, addr, found := strings.Cut(m.Address, ",")
				if found {
					loc["name"], loc["address"] = strings.TrimSpace(n), strings.TrimSpace(addr)
				} else {
					loc["address"] = m.Address
				}
			}
			msg["type"], msg["location"] = "location", loc
		default:
			return nil, fmt.Errorf("whatsapp: a customer cannot send a %s message", m.Type)
		}
	case "sticker":
		a := m.Attachment
		if a == nil {
			a = &channel.Attachment{Type: channel.AttachmentImage, URL: "https://stickers.invalid/ccx.webp"}
		}
		b := *a
		b.MimeType = "image/webp"
		if err := setMedia("sticker", &b, false); err != nil {
			return nil, err
		}
		msg["sticker"].(map[string]any)["animated"] = false
	case "voice":
		a := m.Attachment
		if a == nil {
			return nil, errors.New("whatsapp: a voice note needs an audio URL")
		}
		b := *a
		b.MimeType = "audio/ogg; codecs=opus"
		if err := setMedia("audio", &b, false); err != nil {
			return nil, err
		}
		msg["audio"].(map[string]any)["voice"] = true
	case "contacts":
		phone, err := text("a shared contact (its phone number)")
		if err != nil {
			return nil, err
		}
		c := map[string]any{"name": map[string]string{"formatted_name": name, "first_name": name},
			"phones": []map[string]string{{"phone": phone, "type": "CELL"}}}
		if channel.IsE164(phone) {
			c["phones"].([]map[string]string)[0]["wa_id"] = Digits(phone)
		}
		msg["type"], msg["contacts"] = "contacts", []any{c}
	case "button_reply", "list_reply":
		t, err := text("a " + strings.ReplaceAll(in.Native, "_", " "))
		if err != nil {
			return nil, err
		}
		reply := map[string]string{"id": t, "title": t}
		msg["type"] = "interactive"
		msg["interactive"] = map[string]any{"type": in.Native, in.Native: reply}
		msg["context"] = map[string]string{"from": Digits(e.o.DisplayNumber), "id": e.lastWAMID(wa)}
	case "button":
		t, err := text("a template button tap")
		if err != nil {
			return nil, err
		}
		msg["type"], msg["button"] = "button", map[string]string{"payload": t, "text": t}
		msg["context"] = map[string]string{"from": Digits(e.o.DisplayNumber), "id": e.lastWAMID(wa)}
	case "reaction":
		emoji, err := text("a reaction (its emoji)")
		if err != nil {
			return nil, err
		}
		msg["type"], msg["reaction"] = "reaction", map[string]string{"message_id": e.lastWAMID(wa), "emoji": emoji}
	case "unsupported":
		msg["type"] = "unsupported"
		msg["errors"] = []map[string]any{{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
			"error_data": map[string]string{"details": "Message type is currently not supported."}}}
	default:
		return nil, fmt.Errorf("whatsapp: unknown native type %q (known: button_reply, list_reply, button, sticker, voice, contacts, reaction, unsupported, handshake)", in.Native)
	}
	return e.Notification(map[string]any{"contacts": []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": wa}},
		"messages": []any{msg}}), nil
}

// lastWAMID is the latest accepted send to a customer (what a reply or
// reaction refers to), or a fresh id.
func (e *Emulator) lastWAMID(wa string) string {
	ss := e.Rec.Sends()
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i].ID != "" && Digits(ss[i].To) == wa {
			return ss[i].ID
		}
	}
	return NewWAMID(wa)
}
