// Package telegram is the relay adapter for the Telegram Bot API: JSON both
// ways, the X-Telegram-Bot-Api-Secret-Token header, quick replies as a reply
// keyboard, private chats only (docs/provider.md). The channel must use the
// Custom ID type: the contact ID is the chat id in decimal.
package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// DefaultBaseURL is the Bot API.
const DefaultBaseURL = "https://api.telegram.org"

// Options configure the adapter.
type Options struct {
	BaseURL  string
	BotToken string
	// Secret is the secret_token given to setWebhook; every update must carry
	// it in X-Telegram-Bot-Api-Secret-Token.
	Secret string
	Client *http.Client
	// Media configures the guarded client that fetches attachment URLs named
	// in /message calls and the bot's files (the API host is trusted).
	Media netguard.Options
}

// Adapter is the Telegram adapter.
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
	mo := o.Media
	mo.Trusted = append(append([]string(nil), mo.Trusted...), netguard.HostPort(o.BaseURL))
	if mo.MaxBytes <= 0 {
		mo.MaxBytes = MaxUpload
	}
	return &Adapter{o: o, media: netguard.New(mo)}
}

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "telegram" }

// SentOnAccept implements provider.SentOnAccept: bots get no receipts.
func (a *Adapter) SentOnAccept() bool { return true }

// Call renders the Bot API method and JSON body for a platform message.
func (a *Adapter) Call(req channel.OutgoingRequest) (string, map[string]any, error) {
	chat, err := strconv.ParseInt(req.ContactID, 10, 64)
	if err != nil || chat <= 0 {
		return "", nil, &provider.Error{Status: 400, Message: "telegram: contactId " + strconv.Quote(req.ContactID) + " is not a private chat id (a positive integer)"}
	}
	m := req.Message
	body := map[string]any{"chat_id": chat}
	switch m.Type {
	case channel.MessageText:
		body["text"] = m.Text
		return "sendMessage", body, nil
	case channel.MessageQuickReply:
		// A reply keyboard: a tap comes back as an ordinary text message.
		rows := make([][]map[string]string, 0, len(m.Replies))
		for _, r := range m.Replies {
			rows = append(rows, []map[string]string{{"text": r}})
		}
		body["text"] = m.Title
		body["reply_markup"] = map[string]any{"keyboard": rows, "one_time_keyboard": true, "resize_keyboard": true}
		return "sendMessage", body, nil
	case channel.MessageLocation:
		if m.Latitude == nil || m.Longitude == nil {
			return "", nil, provider.Unsupported("telegram", m.Type)
		}
		body["latitude"], body["longitude"] = *m.Latitude, *m.Longitude
		if m.Address != "" {
			body["title"], body["address"] = m.Address, m.Address
			return "sendVenue", body, nil
		}
		return "sendLocation", body, nil
	case channel.MessageAttachment:
		at := m.Attachment
		if at == nil {
			return "", nil, provider.Unsupported("telegram", m.Type)
		}
		if at.Description != "" {
			body["caption"] = at.Description
		}
		switch at.Type {
		case channel.AttachmentImage:
			body["photo"] = at.URL
			return "sendPhoto", body, nil
		case channel.AttachmentVideo:
			body["video"] = at.URL
			return "sendVideo", body, nil
		case channel.AttachmentAudio:
			body["audio"] = at.URL
			return "sendAudio", body, nil
		}
		body["document"] = at.URL
		return "sendDocument", body, nil
	}
	return "", nil, provider.Unsupported("telegram", m.Type)
}

// Send implements provider.Adapter. The mId is "<chat_id>:<message_id>"
// because Telegram message ids are unique only per chat.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	method, body, err := a.Call(req)
	if err != nil {
		return "", err
	}
	var hr *http.Request
	if method == "sendDocument" && !documentByURL(req.Message.Attachment) {
		// sendDocument by URL only works for GIF, PDF and ZIP: fetch the
		// file and upload it (multipart, ≤ 50 MB).
		hr, err = a.uploadRequest(ctx, method, "document", body, req.Message.Attachment)
		if err != nil {
			return "", err
		}
	} else {
		b, _ := json.Marshal(body)
		hr, err = http.NewRequest(http.MethodPost, a.o.BaseURL+"/bot"+a.o.BotToken+"/"+method, bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		hr.Header.Set("Content-Type", "application/json")
	}
	status, _, rb, err := provider.Do(ctx, a.o.Client, "Telegram", hr)
	if err != nil {
		return "", err // provider.Do drops the URL (it holds the bot token)
	}
	return ParseSendResponse(status, rb)
}

// documentByURL: Telegram fetches only GIF, PDF and ZIP documents by URL.
func documentByURL(at *channel.Attachment) bool {
	switch strings.ToLower(at.MimeType) {
	case "application/pdf", "application/zip", "image/gif":
		return true
	}
	for _, ext := range []string{".pdf", ".zip", ".gif"} {
		if strings.HasSuffix(strings.ToLower(at.FileName), ext) || strings.HasSuffix(strings.ToLower(strings.SplitN(at.URL, "?", 2)[0]), ext) {
			return true
		}
	}
	return false
}

// MaxUpload is Telegram's upload limit for documents.
const MaxUpload = 50 << 20

// uploadFailed is every failure to fetch an attachment for upload: one text.
func uploadFailed() error {
	return &provider.Error{Status: 400, Message: "telegram: " + netguard.ErrFetch.Error() + " (the attachment, to upload it; at most 50 MB)"}
}

func (a *Adapter) uploadRequest(ctx context.Context, method, field string, body map[string]any, at *channel.Attachment) (*http.Request, error) {
	// The URL is the platform's to name: fetched through the guarded client,
	// and every failure reads the same (no probing of the relay's network).
	resp, err := a.media.Get(ctx, at.URL)
	if err != nil {
		return nil, uploadFailed()
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, uploadFailed()
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range body {
		if k == field {
			continue
		}
		_ = mw.WriteField(k, fmt.Sprint(v))
	}
	name := at.FileName
	if name == "" {
		name = path.Base(strings.SplitN(at.URL, "?", 2)[0])
	}
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		return nil, err
	}
	_, _ = fw.Write(data)
	if err := mw.Close(); err != nil {
		return nil, err
	}
	hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+"/bot"+a.o.BotToken+"/"+method, &buf)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	return hr, nil
}

// ParseSendResponse reads {"ok":true,"result":Message} or
// {"ok":false,"error_code","description","parameters":{"retry_after"}}.
func ParseSendResponse(status int, body []byte) (string, error) {
	r := gjson.ParseBytes(body)
	if r.Get("ok").Bool() {
		id, chat := r.Get("result.message_id"), r.Get("result.chat.id")
		if !id.Exists() || !chat.Exists() {
			return "", &provider.Error{Status: 400, Message: "Telegram: no message_id in the response"}
		}
		return chat.Raw + ":" + id.Raw, nil
	}
	desc := r.Get("description").String()
	if desc == "" {
		desc = provider.Snip(string(body))
	}
	code := int(r.Get("error_code").Int())
	if code == 0 {
		code = status
	}
	switch {
	case code == 401 || code == 404 && strings.Contains(desc, "Not Found"):
		return "", &provider.Error{Status: 400, Message: "Telegram rejected the bot token (" + strconv.Itoa(code) + "): " + desc}
	case code == 403:
		return "", &provider.Error{Status: 400, Message: "Telegram refused the chat (403): " + desc}
	case code == 429:
		ra := time.Duration(r.Get("parameters.retry_after").Int()) * time.Second
		return "", &provider.Error{Status: 429, Retryable: true, RetryAfter: ra, Message: "Telegram rate limit (429): " + desc}
	}
	return "", provider.FromHTTP("Telegram", code, desc, 0)
}

// Verify implements provider.Adapter.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if a.o.Secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.o.Secret)) != 1 {
		return provider.ErrBadSignature
	}
	return nil
}

// Parse implements provider.Adapter: one Update per webhook. Only private
// chats become events (group ids are negative, which no Custom ID allows).
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	if !gjson.ValidBytes(body) {
		return nil, provider.Bad("Telegram update is not JSON")
	}
	u := gjson.ParseBytes(body)
	if !u.Get("update_id").Exists() {
		return nil, provider.Bad("Telegram update without update_id")
	}
	if cq := u.Get("callback_query"); cq.Exists() {
		// An inline-button tap: report its data as text.
		chat := cq.Get("message.chat")
		if chat.Get("type").String() != "private" || cq.Get("data").String() == "" {
			return nil, nil
		}
		m := channel.Text(cq.Get("data").String())
		return []provider.Inbound{{Kind: provider.KindMessage, ProviderID: "cq-" + cq.Get("id").String(),
			ContactID: chat.Get("id").Raw, Message: &m, Contact: contactOf(cq.Get("from"))}}, nil
	}
	msg := u.Get("message")
	if !msg.Exists() || msg.Get("chat.type").String() != "private" {
		return nil, nil // edited messages, channel posts, groups: nothing for the platform
	}
	chat := msg.Get("chat.id")
	if chat.Type != gjson.Number || chat.Int() <= 0 {
		return nil, provider.Bad("Telegram message with a bad chat.id")
	}
	in := provider.Inbound{Kind: provider.KindMessage, ProviderID: chat.Raw + ":" + msg.Get("message_id").Raw,
		ContactID: chat.Raw, Timestamp: msg.Get("date").Int() * 1000, Contact: contactOf(msg.Get("from"))}
	caption := msg.Get("caption").String()
	media := func(kind channel.AttachmentKind, f gjson.Result, mime, name string) {
		if mime == "" {
			mime = f.Get("mime_type").String()
		}
		if name == "" {
			name = f.Get("file_name").String()
		}
		m := channel.NewAttachment(kind, "telegram-file:"+f.Get("file_id").String(), mime, name, caption)
		in.Message = &m
		in.MediaRef = f.Get("file_id").String() // the download URL holds the bot token
	}
	switch {
	case msg.Get("text").Exists():
		m := channel.Text(msg.Get("text").String())
		in.Message = &m
	case msg.Get("photo").IsArray():
		ps := msg.Get("photo").Array()
		if len(ps) == 0 {
			return nil, nil
		}
		media(channel.AttachmentImage, ps[len(ps)-1], "image/jpeg", "") // largest last
	case msg.Get("video").Exists():
		media(channel.AttachmentVideo, msg.Get("video"), "", "")
	case msg.Get("audio").Exists():
		media(channel.AttachmentAudio, msg.Get("audio"), "", "")
	case msg.Get("voice").Exists():
		media(channel.AttachmentAudio, msg.Get("voice"), "", "")
	case msg.Get("document").Exists():
		d := msg.Get("document")
		media(channel.KindForMIME(d.Get("mime_type").String()), d, "", "")
	case msg.Get("venue").Exists():
		v := msg.Get("venue")
		addr := strings.TrimSpace(v.Get("title").String() + ", " + v.Get("address").String())
		m := channel.Location(v.Get("location.latitude").Float(), v.Get("location.longitude").Float(), strings.Trim(addr, ", "))
		in.Message = &m
	case msg.Get("location").Exists():
		m := channel.Location(msg.Get("location.latitude").Float(), msg.Get("location.longitude").Float(), "")
		in.Message = &m
	case msg.Get("contact").Exists():
		c := msg.Get("contact")
		m := channel.Text("👤 " + strings.TrimSpace(c.Get("first_name").String()+" "+c.Get("last_name").String()) + " " + c.Get("phone_number").String())
		in.Message = &m
	default:
		return nil, nil // stickers, polls, service messages
	}
	return []provider.Inbound{in}, nil
}

func contactOf(from gjson.Result) *channel.Contact {
	if !from.Exists() {
		return nil
	}
	c := &channel.Contact{FirstName: from.Get("first_name").String(), LastName: from.Get("last_name").String(),
		Language: from.Get("language_code").String()}
	if c.IsZero() {
		return nil
	}
	return c
}

// OpenMedia implements provider.MediaOpener: getFile, then the file URL
// (which embeds the bot token, so it is never given to the platform).
func (a *Adapter) OpenMedia(ctx context.Context, fileID string) (*http.Response, error) {
	b, _ := json.Marshal(map[string]string{"file_id": fileID})
	hr, err := http.NewRequest(http.MethodPost, a.o.BaseURL+"/bot"+a.o.BotToken+"/getFile", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	status, _, rb, err := provider.Do(ctx, a.o.Client, "Telegram", hr)
	if err != nil || status != 200 {
		return nil, &provider.Error{Status: 400, Message: "Telegram getFile failed"}
	}
	path := gjson.GetBytes(rb, "result.file_path").String()
	if path == "" {
		return nil, &provider.Error{Status: 400, Message: "Telegram getFile: no file_path"}
	}
	return a.media.Get(ctx, a.o.BaseURL+"/file/bot"+a.o.BotToken+"/"+path)
}
