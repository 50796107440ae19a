package telegram

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
)

// EmulatorOptions configure a Telegram emulator.
type EmulatorOptions struct {
	// Token is the bot token it accepts; empty → a fresh test token.
	Token string
	// Secret is the webhook secret_token it sends; empty → a fresh one. A
	// setWebhook call with a secret_token replaces it, as on Telegram.
	Secret string
	// WebhookURL is where Inbound posts when given no target (what
	// setWebhook would have registered).
	WebhookURL string
	// Client fetches the media behind file ids made from URLs (default:
	// 10 s timeout).
	Client *http.Client
}

// NativeTypes are Telegram's customer-message variants (CustomerMessage.Native).
var NativeTypes = []provider.NativeType{
	{Name: "voice", Help: "a voice note (voice{file_id,duration,mime_type audio/ogg}) from an attachment URL"},
	{Name: "sticker", Help: "a sticker (the text is its emoji); the relay ignores stickers"},
	{Name: "contact", Help: "a shared contact: the text is the phone number, the customer's name its first_name"},
	{Name: "callback", Help: "an inline-keyboard button tap (callback_query): the text is its callback_data"},
	{Name: "edited", Help: "an edited_message with the text; the relay ignores edits"},
}

// Emulator is a local Bot API (docs/provider.md): /bot<token>/<method>
// (case-insensitive; JSON, form, multipart or query), Telegram's
// {"ok":false,"error_code","description","parameters"} errors, per-chat
// message ids, getFile and /file/bot<token>/<path>, setWebhook, and signed
// (secret-token) updates. Bots get no delivery receipts.
type Emulator struct {
	o EmulatorOptions
	emukit.Plain
	bot int64

	mu      sync.Mutex
	nextID  map[int64]int64
	files   map[string]file
	uploads []string // ids of stored uploads, oldest first (bounded)
	hookURL string
	secret  string
}

type file struct {
	contentType string
	data        []byte
}

var _ provider.Emulator = (*Emulator)(nil)

// NewEmulator builds an emulator; serve its Handler anywhere.
func NewEmulator(o EmulatorOptions) *Emulator {
	var b [4]byte
	_, _ = rand.Read(b[:])
	bot := int64(binary.BigEndian.Uint32(b[:])%900000000) + 100000000
	if o.Token == "" {
		o.Token = strconv.FormatInt(bot, 10) + ":AA" + strings.ToUpper(emukit.HexID(4)) + "-" + emukit.HexID(12)
	} else if id, _, ok := strings.Cut(o.Token, ":"); ok {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			bot = n
		}
	}
	if o.Secret == "" {
		o.Secret = "ccx_" + emukit.HexID(16)
	}
	e := &Emulator{o: o, bot: bot, nextID: map[int64]int64{}, files: map[string]file{}, hookURL: o.WebhookURL, secret: o.Secret}
	e.InitPlain("telegram")
	return e
}

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "telegram" }

// Credentials implements provider.Emulator.
func (e *Emulator) Credentials() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return map[string]string{"CCX_TELEGRAM_BOT_TOKEN": e.o.Token, "CCX_TELEGRAM_WEBHOOK_SECRET": e.secret}
}

// Close implements provider.Emulator (Telegram fires no callbacks).
func (e *Emulator) Close() {}

// Receipt implements provider.Emulator: bots get no delivery receipts.
func (e *Emulator) Receipt(string, provider.ReceiptSpec) (*http.Request, error) {
	return nil, provider.ErrNoReceipts
}

// AddFile serves data for file_id id through getFile and /file/bot<token>/.
func (e *Emulator) AddFile(id, contentType string, data []byte) {
	e.mu.Lock()
	e.files[id] = file{contentType, data}
	e.mu.Unlock()
}

// WebhookURL is what setWebhook registered (or the configured one).
func (e *Emulator) WebhookURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hookURL
}

func tgErr(w http.ResponseWriter, code int, desc string, params map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b := map[string]any{"ok": false, "error_code": code, "description": desc}
	if params != nil {
		b["parameters"] = params
	}
	_ = json.NewEncoder(w).Encode(b)
}

func ok200(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// sendMethods are the recorded calls and the parameter each requires.
var sendMethods = map[string]string{"sendmessage": "text", "sendphoto": "photo", "senddocument": "document", "sendvideo": "video",
	"sendaudio": "audio", "sendvoice": "voice", "sendlocation": "latitude", "sendvenue": "address", "sendcontact": "phone_number"}

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

const maxUpload = 50 << 20

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	if p, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		e.serveFile(w, r, p)
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, "/bot")
	tok, method, _ := strings.Cut(p, "/")
	if !ok || tok == "" || !strings.Contains(tok, ":") {
		tgErr(w, 404, "Not Found", nil)
		return
	}
	method = strings.ToLower(method)
	_, isSend := sendMethods[method]
	body, s, rerr := emukit.StartSend(r, maxUpload)
	s.Path = "/bot<token>/" + method // the token stays out of the record
	answer := func(code int, desc string, params map[string]any) {
		if isSend || code == 404 || code == 401 {
			s.Status, s.Error = code, desc
			e.Rec.Add(s)
		}
		tgErr(w, code, desc, params)
	}
	if rerr != nil {
		answer(413, "Request Entity Too Large", nil)
		return
	}
	if tok != e.o.Token || e.Faults.BadCredentials() {
		answer(401, "Unauthorized", nil)
		return
	}
	params, uploads, err := readParams(r, body)
	if err != nil {
		answer(400, "Bad Request: "+err.Error(), nil)
		return
	}
	switch method {
	case "getme":
		ok200(w, map[string]any{"id": e.bot, "is_bot": true, "first_name": "ccx fake bot", "username": "ccx_fake_bot",
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false})
		return
	case "setwebhook":
		e.setWebhook(w, params)
		return
	case "deletewebhook":
		e.mu.Lock()
		e.hookURL = ""
		e.mu.Unlock()
		ok200(w, true)
		return
	case "getwebhookinfo":
		ok200(w, map[string]any{"url": e.WebhookURL(), "has_custom_certificate": false, "pending_update_count": 0})
		return
	case "getfile":
		e.getFile(w, str(params["file_id"]))
		return
	case "sendchataction", "answercallbackquery":
		ok200(w, true)
		return
	}
	if !isSend {
		answer(404, "Not Found", nil)
		return
	}
	chatS := str(params["chat_id"])
	s.To, s.From = chatS, "@ccx_fake_bot"
	s.Message = decodeCall(method, params)
	if limited, ra := e.Faults.RateLimited(); limited {
		n := emukit.RetryAfterSeconds(ra)
		answer(429, "Too Many Requests: retry after "+strconv.Itoa(n), map[string]any{"retry_after": n})
		return
	}
	if e.Faults.Fail() {
		answer(500, "Internal Server Error", nil)
		return
	}
	chat, err := strconv.ParseInt(chatS, 10, 64)
	if chatS == "" {
		answer(400, "Bad Request: chat_id is empty", nil)
		return
	}
	if err != nil || chat == 0 {
		answer(400, "Bad Request: chat not found", nil)
		return
	}
	if desc := validate(method, params, uploads, e.knownFile); desc != "" {
		answer(400, "Bad Request: "+desc, nil)
		return
	}
	if e.Faults.Rejected(chatS) {
		answer(403, "Forbidden: bot was blocked by the user", nil)
		return
	}
	e.mu.Lock()
	e.nextID[chat]++
	id := e.nextID[chat]
	e.mu.Unlock()
	s.ID, s.Status = chatS+":"+strconv.FormatInt(id, 10), 200
	res := map[string]any{"message_id": id, "date": time.Now().Unix(),
		"from": map[string]any{"id": e.bot, "is_bot": true, "first_name": "ccx fake bot", "username": "ccx_fake_bot"},
		"chat": map[string]any{"id": chat, "type": "private"}}
	e.fillResult(method, params, uploads, res)
	e.Rec.Add(s)
	ok200(w, res)
}

func (e *Emulator) setWebhook(w http.ResponseWriter, params map[string]any) {
	u := str(params["url"])
	secret := str(params["secret_token"])
	if u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			tgErr(w, 400, "Bad Request: bad webhook: Failed to resolve host", nil)
			return
		}
	}
	if secret != "" && !validSecret(secret) {
		tgErr(w, 400, "Bad Request: secret token contains unallowed characters", nil)
		return
	}
	e.mu.Lock()
	e.hookURL = u
	if secret != "" {
		e.secret = secret
	}
	e.mu.Unlock()
	desc := "Webhook was set"
	if u == "" {
		desc = "Webhook was deleted"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": true, "description": desc})
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// readParams reads a Bot API call's parameters from the query and a JSON,
// form or multipart body; uploads maps a multipart field to its file name.
func readParams(r *http.Request, body []byte) (map[string]any, map[string]upload, error) {
	params := map[string]any{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	uploads := map[string]upload{}
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case len(bytes.TrimSpace(body)) == 0:
	case mt == "application/json":
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, nil, errors.New("can't parse JSON object")
		}
		for k, v := range m {
			params[k] = v
		}
	case mt == "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, errors.New("can't parse multipart body")
			}
			data, _ := io.ReadAll(part)
			if part.FileName() != "" {
				uploads[part.FormName()] = upload{name: part.FileName(), contentType: part.Header.Get("Content-Type"), data: data}
				params[part.FormName()] = "attach://" + part.FileName()
			} else {
				params[part.FormName()] = string(data)
			}
		}
	default:
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, errors.New("can't parse form body")
		}
		for k := range v {
			params[k] = v.Get(k)
		}
	}
	return params, uploads, nil
}

type upload struct {
	name, contentType string
	data              []byte
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func num(v any) (float64, bool) {
	f, err := strconv.ParseFloat(str(v), 64)
	return f, err == nil
}

func (e *Emulator) knownFile(id string) bool {
	e.mu.Lock()
	_, ok := e.files[id]
	e.mu.Unlock()
	if ok {
		return true
	}
	_, ok = decodeFileID(id)
	return ok
}

// validate checks a send's parameters as the Bot API does; "" is fine.
func validate(method string, p map[string]any, uploads map[string]upload, known func(string) bool) string {
	field := sendMethods[method]
	if _, ok := p[field]; !ok && method != "sendvenue" {
		switch method {
		case "sendmessage":
			return "message text is empty"
		case "sendlocation":
			return "latitude and longitude must be specified"
		case "sendcontact":
			return "phone number must be non-empty"
		}
		return "there is no " + field + " in the request"
	}
	caption := str(p["caption"])
	if utf8.RuneCountInString(caption) > 1024 {
		return "message caption is too long"
	}
	switch method {
	case "sendmessage":
		t := str(p["text"])
		if strings.TrimSpace(t) == "" {
			return "message text is empty"
		}
		if utf8.RuneCountInString(t) > 4096 {
			return "message is too long"
		}
		if rm, ok := p["reply_markup"]; ok && !validMarkup(rm) {
			return "can't parse reply keyboard markup JSON object"
		}
	case "sendlocation", "sendvenue":
		lat, ok1 := num(p["latitude"])
		lng, ok2 := num(p["longitude"])
		if !ok1 || !ok2 {
			return "latitude and longitude must be specified"
		}
		if lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			return "wrong location"
		}
		if method == "sendvenue" && (str(p["title"]) == "" || str(p["address"]) == "") {
			return "venue title and address must be non-empty"
		}
	case "sendcontact":
		if str(p["first_name"]) == "" {
			return "contact first name must be non-empty"
		}
	default:
		v := str(p[field])
		if _, up := uploads[field]; up {
			return ""
		}
		if strings.Contains(v, "://") {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return "wrong HTTP URL specified"
			}
			if method == "senddocument" && !documentURLOK(u.Path) {
				// Telegram fetches only PDF, ZIP and GIF documents by URL.
				return "wrong type of the web page content"
			}
			return ""
		}
		if !known(v) {
			return "wrong file identifier/HTTP URL specified"
		}
	}
	return ""
}

func documentURLOK(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".pdf", ".zip", ".gif", "":
		return true
	}
	return false
}

func validMarkup(v any) bool {
	if s, ok := v.(string); ok {
		var m map[string]any
		return json.Unmarshal([]byte(s), &m) == nil
	}
	_, ok := v.(map[string]any)
	return ok
}

// markup reads reply_markup (object, or JSON text in forms).
func markup(v any) map[string]any {
	if s, ok := v.(string); ok {
		var m map[string]any
		_ = json.Unmarshal([]byte(s), &m)
		return m
	}
	m, _ := v.(map[string]any)
	return m
}

// decodeCall is what the customer sees of a send.
func decodeCall(method string, p map[string]any) channel.Message {
	caption := str(p["caption"])
	att := func(kind channel.AttachmentKind, field string) channel.Message {
		ref := str(p[field])
		name := ""
		if n, ok := strings.CutPrefix(ref, "attach://"); ok {
			name = n
		} else if u, err := url.Parse(ref); err == nil && strings.Contains(ref, "://") {
			name = path.Base(u.Path)
		}
		mimeType := ""
		if name != "" {
			mimeType = emukit.MIMEOf("file:///" + name)
		}
		if kind != channel.AttachmentFile {
			name = "" // only documents show their file name
		}
		return channel.NewAttachment(kind, ref, mimeType, name, caption)
	}
	switch method {
	case "sendmessage":
		text := str(p["text"])
		if m := markup(p["reply_markup"]); m != nil {
			var replies []string
			for _, key := range []string{"keyboard", "inline_keyboard"} {
				rows, _ := m[key].([]any)
				for _, row := range rows {
					btns, _ := row.([]any)
					for _, b := range btns {
						switch x := b.(type) {
						case map[string]any:
							replies = append(replies, str(x["text"]))
						case string:
							replies = append(replies, x)
						}
					}
				}
			}
			if len(replies) > 0 {
				return channel.QuickReply(text, replies...)
			}
		}
		return channel.Text(text)
	case "sendphoto":
		return att(channel.AttachmentImage, "photo")
	case "sendvideo":
		return att(channel.AttachmentVideo, "video")
	case "sendaudio":
		return att(channel.AttachmentAudio, "audio")
	case "sendvoice":
		return att(channel.AttachmentAudio, "voice")
	case "senddocument":
		return att(channel.AttachmentFile, "document")
	case "sendlocation", "sendvenue":
		lat, _ := num(p["latitude"])
		lng, _ := num(p["longitude"])
		title, addr := str(p["title"]), str(p["address"])
		label := addr
		if title != "" && title != addr {
			label = strings.Trim(title+", "+addr, ", ")
		}
		return channel.Location(lat, lng, label)
	case "sendcontact":
		return channel.Text(strings.TrimSpace("👤 " + str(p["first_name"]) + " " + str(p["last_name"]) + " " + str(p["phone_number"])))
	}
	return channel.Message{}
}

// fillResult adds the media or location of a send to its Message result;
// media sent by URL or upload gets file ids that getFile resolves.
func (e *Emulator) fillResult(method string, p map[string]any, uploads map[string]upload, res map[string]any) {
	if c := str(p["caption"]); c != "" {
		res["caption"] = c
	}
	ref := func(field, prefix string) string {
		if up, ok := uploads[field]; ok {
			id := prefix + "u" + base64.RawURLEncoding.EncodeToString([]byte(emukit.HexID(24)))
			e.storeUpload(id, up)
			return id
		}
		v := str(p[field])
		if strings.Contains(v, "://") {
			return encodeFileID(prefix, 'b', v)
		}
		return v // already a file id
	}
	switch method {
	case "sendmessage":
		res["text"] = str(p["text"])
	case "sendphoto":
		id := ref("photo", "AgAC")
		res["photo"] = []map[string]any{{"file_id": id, "file_unique_id": unique(id), "width": 1280, "height": 960}}
	case "sendvideo":
		id := ref("video", "BAAC")
		res["video"] = map[string]any{"file_id": id, "file_unique_id": unique(id), "width": 640, "height": 360, "duration": 5}
	case "sendaudio":
		id := ref("audio", "CQAC")
		res["audio"] = map[string]any{"file_id": id, "file_unique_id": unique(id), "duration": 5}
	case "sendvoice":
		id := ref("voice", "AwAC")
		res["voice"] = map[string]any{"file_id": id, "file_unique_id": unique(id), "duration": 5, "mime_type": "audio/ogg"}
	case "senddocument":
		id := ref("document", "BQAC")
		d := map[string]any{"file_id": id, "file_unique_id": unique(id)}
		if up, ok := uploads["document"]; ok {
			d["file_name"] = up.name
		}
		res["document"] = d
	case "sendlocation":
		lat, _ := num(p["latitude"])
		lng, _ := num(p["longitude"])
		res["location"] = map[string]any{"latitude": lat, "longitude": lng}
	case "sendvenue":
		lat, _ := num(p["latitude"])
		lng, _ := num(p["longitude"])
		loc := map[string]any{"latitude": lat, "longitude": lng}
		res["location"] = loc
		res["venue"] = map[string]any{"location": loc, "title": str(p["title"]), "address": str(p["address"])}
	case "sendcontact":
		res["contact"] = map[string]any{"phone_number": str(p["phone_number"]), "first_name": str(p["first_name"])}
	}
}

// maxStoredUploads bounds the uploads kept for getFile.
const maxStoredUploads = 32

func (e *Emulator) storeUpload(id string, up upload) {
	if len(up.data) > 20<<20 {
		return // bots cannot download more than 20 MB anyway
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.files[id] = file{up.contentType, up.data}
	e.uploads = append(e.uploads, id)
	if len(e.uploads) > maxStoredUploads {
		delete(e.files, e.uploads[0])
		e.uploads = e.uploads[1:]
	}
}

// File ids made from a URL carry it (base64url), so that any emulator
// instance — `ccx provider send` in one process, `ccx provider serve` in
// another — resolves them: prefix (4, Telegram's kind markers), size
// marker, URL.
func encodeFileID(prefix string, size byte, u string) string {
	return prefix + string(size) + base64.RawURLEncoding.EncodeToString([]byte(u))
}

func decodeFileID(id string) (string, bool) {
	if len(id) < 6 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(id[5:])
	if err != nil {
		return "", false
	}
	u, err := url.Parse(string(b))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return string(b), true
}

func unique(id string) string {
	h := fnv.New64a()
	h.Write([]byte(id))
	return "AQAD" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

var dirs = map[string]string{"AgAC": "photos", "BAAC": "videos", "CQAC": "music", "AwAC": "voice", "BQAC": "documents", "CAAC": "stickers"}

func filePath(id string) string {
	dir := "documents"
	if len(id) >= 4 {
		if d, ok := dirs[id[:4]]; ok {
			dir = d
		}
	}
	ext := ""
	if u, ok := decodeFileID(id); ok {
		if pu, err := url.Parse(u); err == nil {
			ext = path.Ext(pu.Path)
		}
	}
	return dir + "/" + id + ext
}

func (e *Emulator) getFile(w http.ResponseWriter, id string) {
	if id == "" {
		tgErr(w, 400, "Bad Request: file_id not specified", nil)
		return
	}
	e.mu.Lock()
	f, stored := e.files[id]
	e.mu.Unlock()
	if !stored && !e.knownFile(id) {
		tgErr(w, 400, "Bad Request: invalid file_id", nil)
		return
	}
	res := map[string]any{"file_id": id, "file_unique_id": unique(id), "file_path": filePath(id)}
	if stored {
		res["file_size"] = len(f.data)
	}
	ok200(w, res)
}

// maxDownload is the Bot API's download limit for bots.
const maxDownload = 20 << 20

func (e *Emulator) serveFile(w http.ResponseWriter, r *http.Request, p string) {
	tok, fp, _ := strings.Cut(p, "/")
	if tok != e.o.Token || r.Method != http.MethodGet && r.Method != http.MethodHead {
		tgErr(w, 404, "Not Found", nil)
		return
	}
	name := path.Base(fp)
	id := strings.TrimSuffix(name, path.Ext(name))
	e.mu.Lock()
	f, stored := e.files[id]
	if !stored {
		f, stored = e.files[name]
	}
	e.mu.Unlock()
	if stored {
		ct := f.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(f.data)
		return
	}
	src, ok := decodeFileID(id)
	if !ok {
		tgErr(w, 404, "Not Found", nil)
		return
	}
	// The customer's media lives at the URL the file id was made from.
	c := e.o.Client
	if c == nil {
		c = emukit.DefaultCallbackClient
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, src, nil)
	if err != nil {
		tgErr(w, 404, "Not Found", nil)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		tgErr(w, 502, "Bad Gateway: the file's source did not answer", nil)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tgErr(w, 404, "Not Found", nil)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	} else if ct := emukit.MIMEOf(src); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxDownload))
}

// DefaultCustomer is the private chat used when a CustomerMessage names none.
const DefaultCustomer = "424242"

// newMessageID numbers a customer message in its chat. A chat first seen
// through the customer starts at a random base, so that separate runs of
// `ccx provider send` do not repeat ids a server already de-duplicated.
func (e *Emulator) newMessageID(chat int64) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.nextID[chat] == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		e.nextID[chat] = int64(binary.BigEndian.Uint32(b[:])%1000000000) + 1000000
	}
	e.nextID[chat]++
	return e.nextID[chat]
}

// updateID is stable for a message, so a retry repeats its update_id.
func updateID(chat int64, msg string) int64 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d:%s", chat, msg)
	return int64(h.Sum32()%2000000000) + 100000000
}

// Update builds the Update JSON for a customer message.
func (e *Emulator) Update(in provider.CustomerMessage) ([]byte, error) {
	from := in.From
	if from == "" {
		from = DefaultCustomer
	}
	chat, err := strconv.ParseInt(from, 10, 64)
	if err != nil || chat <= 0 || from[0] == '+' {
		return nil, fmt.Errorf("telegram: customer %q is not a private chat id (a positive integer)", from)
	}
	msgID := in.ID
	if i := strings.LastIndexByte(msgID, ':'); i >= 0 {
		msgID = msgID[i+1:]
	}
	if msgID == "" {
		msgID = strconv.FormatInt(e.newMessageID(chat), 10)
	}
	mid, err := strconv.ParseInt(msgID, 10, 64)
	if err != nil && in.Native != "callback" {
		return nil, fmt.Errorf("telegram: message id %q is not an integer", in.ID)
	}
	when := in.Time
	if when.IsZero() {
		when = time.Now()
	}
	name := in.Name
	if name == "" {
		name = "Customer"
	}
	user := map[string]any{"id": chat, "is_bot": false, "first_name": name, "language_code": "en"}
	msg := map[string]any{"message_id": mid, "date": when.Unix(), "from": user,
		"chat": map[string]any{"id": chat, "first_name": name, "type": "private"}}
	upd := map[string]any{"update_id": updateID(chat, msgID)}
	m := in.Message
	text := func(what string) (string, error) {
		if m.Type != channel.MessageText || m.Text == "" {
			return "", fmt.Errorf("telegram: %s needs text", what)
		}
		return m.Text, nil
	}
	media := func(prefix string, a *channel.Attachment, withName bool) (map[string]any, error) {
		if a == nil || a.URL == "" {
			return nil, errors.New("telegram: an attachment needs a URL")
		}
		if len(a.URL) > 2048 {
			return nil, errors.New("telegram: attachment URL longer than 2048 bytes")
		}
		id := encodeFileID(prefix, 'b', a.URL)
		d := map[string]any{"file_id": id, "file_unique_id": unique(id), "mime_type": emukit.AttachmentMIME(a)}
		if withName {
			n := a.FileName
			if n == "" {
				if u, err := url.Parse(a.URL); err == nil {
					n = path.Base(u.Path)
				}
			}
			d["file_name"] = n
		}
		if a.Description != "" {
			msg["caption"] = a.Description
		}
		return d, nil
	}
	switch in.Native {
	case "":
		switch m.Type {
		case channel.MessageText:
			if m.Text == "" {
				return nil, errors.New("telegram: a text message needs text")
			}
			msg["text"] = m.Text
		case channel.MessageAttachment:
			a := m.Attachment
			if a == nil {
				return nil, errors.New("telegram: an attachment needs a URL")
			}
			switch a.Type {
			case channel.AttachmentImage:
				big, err := media("AgAC", a, false)
				if err != nil {
					return nil, err
				}
				small := encodeFileID("AgAC", 's', a.URL)
				delete(big, "mime_type") // PhotoSize has none
				big["width"], big["height"] = 1280, 960
				msg["photo"] = []map[string]any{{"file_id": small, "file_unique_id": unique(small), "width": 90, "height": 68}, big}
			case channel.AttachmentVideo:
				d, err := media("BAAC", a, true)
				if err != nil {
					return nil, err
				}
				d["width"], d["height"], d["duration"] = 640, 360, 5
				msg["video"] = d
			case channel.AttachmentAudio:
				d, err := media("CQAC", a, true)
				if err != nil {
					return nil, err
				}
				d["duration"] = 5
				msg["audio"] = d
			default:
				d, err := media("BQAC", a, true)
				if err != nil {
					return nil, err
				}
				msg["document"] = d
			}
		case channel.MessageLocation:
			if m.Latitude == nil || m.Longitude == nil {
				return nil, errors.New("telegram: a location needs latitude and longitude")
			}
			loc := map[string]any{"latitude": *m.Latitude, "longitude": *m.Longitude}
			msg["location"] = loc
			if m.Address != "" {
				title, addr, _ := strings.Cut(m.Address, ",")
				msg["venue"] = map[string]any{"location": loc, "title": strings.TrimSpace(title), "address": strings.TrimSpace(addr)}
			}
		default:
			return nil, fmt.Errorf("telegram: a customer cannot send a %s message", m.Type)
		}
	case "voice":
		d, err := media("AwAC", m.Attachment, false)
		if err != nil {
			return nil, err
		}
		d["mime_type"], d["duration"] = "audio/ogg", 3
		msg["voice"] = d
	case "sticker":
		emoji := m.Text
		if emoji == "" {
			emoji = "👍"
		}
		id := encodeFileID("CAAC", 'b', "https://stickers.invalid/"+url.PathEscape(emoji)+".webp")
		msg["sticker"] = map[string]any{"file_id": id, "file_unique_id": unique(id), "type": "regular", "width": 512, "height": 512,
			"is_animated": false, "is_video": false, "emoji": emoji}
	case "contact":
		phone, err := text("a contact (its phone number)")
		if err != nil {
			return nil, err
		}
		msg["contact"] = map[string]any{"phone_number": phone, "first_name": name, "user_id": chat}
	case "edited":
		t, err := text("an edited message")
		if err != nil {
			return nil, err
		}
		msg["text"] = t
		msg["edit_date"] = when.Unix() + 1
		upd["edited_message"] = msg
		return json.Marshal(upd)
	case "callback":
		data, err := text("a button tap (its callback_data)")
		if err != nil {
			return nil, err
		}
		if len(data) > 64 {
			return nil, errors.New("telegram: callback_data is at most 64 bytes")
		}
		e.mu.Lock()
		last := e.nextID[chat]
		e.mu.Unlock()
		cqID := in.ID
		if cqID == "" {
			cqID = strconv.FormatUint(uint64(updateID(chat, data+strconv.FormatInt(time.Now().UnixNano(), 10))), 10) + "0"
		}
		upd["update_id"] = updateID(chat, "cq"+cqID)
		upd["callback_query"] = map[string]any{"id": cqID, "from": user, "chat_instance": strconv.FormatInt(chat*7, 10), "data": data,
			"message": map[string]any{"message_id": last, "date": when.Unix() - 60, "chat": msg["chat"],
				"from": map[string]any{"id": e.bot, "is_bot": true, "first_name": "ccx fake bot", "username": "ccx_fake_bot"}, "text": "…"}}
		return json.Marshal(upd)
	default:
		return nil, fmt.Errorf("telegram: unknown native type %q (known: voice, sticker, contact, callback, edited)", in.Native)
	}
	upd["message"] = msg
	return json.Marshal(upd)
}

// Inbound implements provider.Emulator: the Update, with the secret token
// header (a wrong one when in.BadSignature). An empty target is the URL
// setWebhook registered.
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	if target == "" {
		target = e.WebhookURL()
	}
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	body, err := e.Update(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	e.mu.Lock()
	secret := e.secret
	e.mu.Unlock()
	if in.BadSignature {
		secret = "wrong_" + secret
	}
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	return req, nil
}
