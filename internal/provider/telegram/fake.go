package telegram

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fake is a local Bot API: /bot<token>/<method> (case-insensitive; JSON or
// form), 401 for an unknown token, per-chat message ids, a blocked set (403),
// a 429 knob with parameters.retry_after, getFile and /file/bot<token>/<path>.
type Fake struct {
	Server *httptest.Server
	Token  string

	mu      sync.Mutex
	nextID  map[int64]int64
	calls   []FakeCall
	Blocked map[int64]bool
	Fail429 int
	Files   map[string][]byte // file_id → bytes
}

// FakeCall is one accepted method call.
type FakeCall struct {
	Method string
	Body   map[string]any
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	f := &Fake{Token: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", nextID: map[int64]int64{}, Blocked: map[int64]bool{}, Files: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops it.
func (f *Fake) Close() { f.Server.Close() }

// Calls returns what was accepted.
func (f *Fake) Calls() []FakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeCall(nil), f.calls...)
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

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if p, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		tok, path, _ := strings.Cut(p, "/")
		if tok != f.Token {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		b, ok := f.Files[strings.TrimPrefix(path, "photos/")]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(b)
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, "/bot")
	tok, method, _ := strings.Cut(p, "/")
	if !ok || tok == "" {
		tgErr(w, 404, "Not Found", nil)
		return
	}
	if tok != f.Token {
		tgErr(w, 401, "Unauthorized", nil)
		return
	}
	body := map[string]any{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var raw []byte
	if mt != "multipart/form-data" {
		raw, _ = io.ReadAll(r.Body)
	}
	if mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			tgErr(w, 400, "Bad Request: bad multipart body", nil)
			return
		}
		for k := range r.MultipartForm.Value {
			body[k] = r.MultipartForm.Value[k][0]
		}
		for k, fhs := range r.MultipartForm.File {
			body[k] = "upload:" + fhs[0].Filename
		}
	} else if mt == "application/json" {
		if err := json.Unmarshal(raw, &body); err != nil {
			tgErr(w, 400, "Bad Request: can't parse JSON", nil)
			return
		}
	} else {
		v, _ := url.ParseQuery(string(raw))
		for k := range v {
			body[k] = v.Get(k)
		}
	}
	method = strings.ToLower(method)
	if method == "getfile" {
		id, _ := body["file_id"].(string)
		f.mu.Lock()
		_, ok := f.Files[id]
		f.mu.Unlock()
		if !ok {
			tgErr(w, 400, "Bad Request: invalid file_id", nil)
			return
		}
		ok200(w, map[string]any{"file_id": id, "file_unique_id": "u" + id, "file_size": 3, "file_path": "photos/" + id})
		return
	}
	if method == "setwebhook" {
		ok200(w, true)
		return
	}
	need := map[string]string{"sendmessage": "text", "sendphoto": "photo", "senddocument": "document", "sendvideo": "video",
		"sendaudio": "audio", "sendlocation": "latitude", "sendvenue": "address"}
	field, known := need[method]
	if !known {
		tgErr(w, 404, "Not Found: method not found", nil)
		return
	}
	chat, err := toInt(body["chat_id"])
	if err != nil || chat == 0 {
		tgErr(w, 400, "Bad Request: chat not found", nil)
		return
	}
	if _, ok := body[field]; !ok {
		tgErr(w, 400, "Bad Request: message text is empty", nil)
		return
	}
	f.mu.Lock()
	if f.Fail429 > 0 {
		f.Fail429--
		f.mu.Unlock()
		tgErr(w, 429, "Too Many Requests: retry after 1", map[string]any{"retry_after": 1})
		return
	}
	if f.Blocked[chat] {
		f.mu.Unlock()
		tgErr(w, 403, "Forbidden: bot was blocked by the user", nil)
		return
	}
	f.nextID[chat]++
	id := f.nextID[chat]
	f.calls = append(f.calls, FakeCall{Method: method, Body: body})
	f.mu.Unlock()
	ok200(w, map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": chat, "type": "private"}})
}

func ok200(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case float64:
		return int64(x), nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, strconv.ErrSyntax
}

// TextUpdate is an Update with a private text message.
func TextUpdate(updateID, messageID, chatID int64, text string) []byte {
	b, _ := json.Marshal(map[string]any{"update_id": updateID, "message": map[string]any{
		"message_id": messageID, "date": 1732435200,
		"from": map[string]any{"id": chatID, "is_bot": false, "first_name": "Ada", "last_name": "L", "language_code": "en"},
		"chat": map[string]any{"id": chatID, "type": "private", "first_name": "Ada"},
		"text": text}})
	return b
}

// PostUpdate posts an update to the relay with the secret header ("" → none).
func PostUpdate(c *http.Client, u, secret string, update []byte) (int, error) {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(string(update)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
