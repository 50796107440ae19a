// Package demo is a tiny IS-Messenger Custom Channel integration server over
// Telegram, written as a user of ccx would write one: it answers the
// platform's POST /message by calling the Bot API, and forwards the Bot
// API's webhook (POST /telegram) to the platform's webhook. server_test.go
// tests it with github.com/ccx-cli/ccx/ccxtest.
package demo

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config wires the server to the platform and to Telegram.
type Config struct {
	WebhookURL string // the platform's webhook
	ChannelID  string
	Token      string // the channel's API token
	// TelegramURL is the Bot API's base URL (https://api.telegram.org).
	TelegramURL   string
	BotToken      string
	WebhookSecret string // Telegram's secret_token header
}

type server struct {
	c    Config
	http *http.Client
	mu   sync.Mutex
	seen map[string]bool // Telegram retries an update it thinks was lost
}

// New is the server's handler.
func New(c Config) http.Handler {
	s := &server{c: c, http: &http.Client{Timeout: 10 * time.Second}, seen: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /message", s.message)
	mux.HandleFunc("POST /telegram", s.telegram)
	return mux
}

func fail(w http.ResponseWriter, status int, format string, a ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": fmt.Sprintf(format, a...)}})
}

type outgoing struct {
	ChannelID string `json:"channelId"`
	ContactID string `json:"contactId"`
	Message   *struct {
		Type      string   `json:"type"`
		Text      string   `json:"text"`
		Title     string   `json:"title"`
		Replies   []string `json:"replies"`
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	} `json:"message"`
}

// message is the platform's call: one message for one contact.
func (s *server) message(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(tok), []byte(s.c.Token)) != 1 {
		fail(w, http.StatusUnauthorized, "invalid API token")
		return
	}
	var in outgoing
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "invalid JSON: %v", err)
		return
	}
	switch {
	case in.ChannelID != s.c.ChannelID:
		fail(w, http.StatusForbidden, "unknown channel %q", in.ChannelID)
		return
	case in.ContactID == "":
		fail(w, http.StatusBadRequest, "contactId is missing")
		return
	case in.Message == nil || in.Message.Type == "":
		fail(w, http.StatusBadRequest, "message.type is missing")
		return
	}
	m := in.Message
	method, params := "sendMessage", map[string]any{"chat_id": in.ContactID}
	switch m.Type {
	case "text":
		params["text"] = m.Text
	case "quick_reply":
		text := m.Title
		for i, r := range m.Replies {
			text += fmt.Sprintf("\n%d. %s", i+1, r)
		}
		params["text"] = text
	case "location":
		if m.Latitude == nil || m.Longitude == nil {
			fail(w, http.StatusBadRequest, "a location needs latitude and longitude")
			return
		}
		method, params["latitude"], params["longitude"] = "sendLocation", *m.Latitude, *m.Longitude
	default:
		fail(w, http.StatusBadRequest, "message type %q is not supported", m.Type)
		return
	}
	id, err := s.send(r, method, params)
	if err != nil {
		fail(w, http.StatusBadRequest, "telegram: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"mId": in.ContactID + ":" + strconv.FormatInt(id, 10)})
}

// send calls the Bot API and returns the message id it answers.
func (s *server) send(r *http.Request, method string, params map[string]any) (int64, error) {
	body, _ := json.Marshal(params)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, s.c.TelegramURL+"/bot"+s.c.BotToken+"/"+method, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("the Bot API did not answer")
	}
	defer resp.Body.Close()
	var out struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
		Result      struct {
			MessageID int64 `json:"message_id"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
		return 0, fmt.Errorf("HTTP %d %s", resp.StatusCode, out.Description)
	}
	return out.Result.MessageID, nil
}

// telegram takes the Bot API's webhook: a customer's message.
func (s *server) telegram(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.c.WebhookSecret)) != 1 {
		http.Error(w, "bad secret", http.StatusUnauthorized)
		return
	}
	var u struct {
		Message *struct {
			ID   int64  `json:"message_id"`
			Date int64  `json:"date"`
			Text string `json:"text"`
			Chat struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"message"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&u); err != nil || u.Message == nil || u.Message.Text == "" {
		w.WriteHeader(http.StatusOK) // nothing this server forwards: never make Telegram retry it
		return
	}
	m := u.Message
	contact := strconv.FormatInt(m.Chat.ID, 10)
	mid := "tg:" + contact + ":" + strconv.FormatInt(m.ID, 10)
	s.mu.Lock()
	dup := s.seen[mid]
	s.mu.Unlock()
	if dup {
		w.WriteHeader(http.StatusOK)
		return
	}
	ev := map[string]any{"channelId": s.c.ChannelID, "contactId": contact, "events": []any{map[string]any{
		"type": "message", "mId": mid, "timestamp": m.Date * 1000, "message": map[string]string{"type": "text", "text": m.Text}}}}
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, s.c.WebhookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.c.Token)
	resp, err := s.http.Do(req)
	if err != nil {
		http.Error(w, "platform unreachable", http.StatusBadGateway) // Telegram retries
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		http.Error(w, "platform refused", http.StatusBadGateway)
		return
	}
	s.mu.Lock()
	s.seen[mid] = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
