package telegram

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// Fake is an Emulator on an httptest server for tests.
type Fake struct {
	*Emulator
	Server *httptest.Server
	Token  string
}

// FakeCall is one accepted method call, its parameters decoded (uploads
// appear as "upload:<file name>").
type FakeCall struct {
	Method string
	Body   map[string]any
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	e := NewEmulator(EmulatorOptions{Token: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"})
	return &Fake{Emulator: e, Server: httptest.NewServer(e.Handler()), Token: e.o.Token}
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops it.
func (f *Fake) Close() { f.Emulator.Close(); f.Server.Close() }

// Calls returns the accepted sends.
func (f *Fake) Calls() []FakeCall {
	var out []FakeCall
	for _, s := range f.Sends() {
		if s.ID == "" {
			continue
		}
		r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(s.Body))
		r.Header.Set("Content-Type", s.ContentType)
		params, uploads, _ := readParams(r, s.Body)
		for k, v := range params {
			if n, ok := v.(json.Number); ok {
				params[k], _ = n.Float64()
			}
		}
		for k, u := range uploads {
			params[k] = "upload:" + u.name
		}
		out = append(out, FakeCall{Method: strings.TrimPrefix(s.Path, "/bot<token>/"), Body: params})
	}
	return out
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
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(update))
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
