package gupshup

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
)

// EmulatorOptions configure a Gupshup emulator.
type EmulatorOptions struct {
	// APIKey is the apikey header it accepts; empty → a fresh test key.
	APIKey string
	// AppName (src.name) and Source (the business number, digits or
	// +E.164) must match every send; empty → test values.
	AppName, Source string
	// Secret is the path secret of the server's callback URL: used to
	// expand {secret} in targets, to redact it in the record and to spoil it
	// for BadSignature.
	Secret string
	// Header and HeaderValue, when set, go on every callback (a partner
	// subscription's meta.headers).
	Header, HeaderValue string
	// CallbackURL is the app's callback URL (customer messages and
	// message-events); empty → no automatic message-events.
	CallbackURL string
	// NotOnWhatsApp are numbers (digits or +E.164) whose sends are
	// accepted and then fail asynchronously with code 1002.
	NotOnWhatsApp []string
	// NoReceipts turns the automatic message-events off.
	NoReceipts bool
	// ReceiptDelay comes before each automatic message-event (Gupshup
	// holds them ~5 s).
	ReceiptDelay time.Duration
	// Client posts the callbacks (default: 10 s timeout).
	Client *http.Client
}

// NativeTypes are Gupshup's customer-message variants (CustomerMessage.Native).
var NativeTypes = []provider.NativeType{
	{Name: "sticker", Help: "a sticker (payload.url) from an attachment URL (.webp)"},
	{Name: "contact", Help: "a shared contact card: the text is the phone number, the customer's name its formatted_name"},
	{Name: "button_reply", Help: "a tap on an interactive quick-reply button: the text is the button title"},
	{Name: "list_reply", Help: "a list row chosen: the text is the row title"},
	{Name: "quick_reply", Help: "a template quick-reply button tap (type quick_reply, payload.text)"},
	{Name: "opt-in", Help: "a user-event opted-in (no message; the relay ignores it)"},
}

// Emulator is a local Gupshup WhatsApp API v2 (docs/provider.md):
// POST /wa/api/v1/msg (and /sm/api/v1/msg) with the apikey header and the
// form fields, Gupshup's {"status":"error","message"} answers, 200
// {"status":"submitted","messageId"} served as text/html, message-event
// callbacks (enqueued, then sent/delivered/read with the WhatsApp id and
// gsId, or failed 1002) and v2 inbound message callbacks of every type.
type Emulator struct {
	o EmulatorOptions
	emukit.Base
}

var _ provider.Emulator = (*Emulator)(nil)

// NewEmulator builds an emulator; serve its Handler anywhere.
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.APIKey == "" {
		o.APIKey = emukit.HexID(16)
	}
	if o.AppName == "" {
		o.AppName = "CcxDemoApp"
	}
	o.Source = strings.TrimPrefix(strings.TrimSpace(o.Source), "+")
	if o.Source == "" {
		o.Source = "917834811114" // Gupshup's sandbox number
	}
	if o.HeaderValue != "" && o.Header == "" {
		o.Header = "Authorization"
	}
	e := &Emulator{o: o}
	e.Init("gupshup", o.Client, o.ReceiptDelay, !o.NoReceipts)
	return e
}

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "gupshup" }

// Credentials implements provider.Emulator.
func (e *Emulator) Credentials() map[string]string {
	c := map[string]string{"CCX_GUPSHUP_API_KEY": e.o.APIKey, "CCX_GUPSHUP_APP_NAME": e.o.AppName, "CCX_GUPSHUP_SOURCE": e.o.Source}
	if e.o.Secret != "" {
		c["CCX_GUPSHUP_SECRET"] = e.o.Secret
	}
	if e.o.HeaderValue != "" {
		c["CCX_GUPSHUP_WEBHOOK_HEADER"], c["CCX_GUPSHUP_WEBHOOK_TOKEN"] = e.o.Header, e.o.HeaderValue
	}
	return c
}

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

func gsErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "message": msg})
}

// knownTypes are the message objects /msg accepts (session messages).
var knownTypes = map[string]bool{"text": true, "image": true, "video": true, "audio": true, "file": true, "sticker": true,
	"location": true, "quick_reply": true, "list": true, "contact": true, "reaction": true}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	body, s, rerr := emukit.StartSend(r, 1<<20)
	answer := func(status int, msg string) {
		s.Status, s.Error = status, msg
		e.Rec.Add(s)
		gsErr(w, status, msg)
	}
	if rerr != nil {
		answer(413, "Request Entity Too Large")
		return
	}
	if path != "/wa/api/v1/msg" && path != "/sm/api/v1/msg" {
		answer(404, "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		answer(405, "Method Not Allowed")
		return
	}
	if r.Header.Get("apikey") != e.o.APIKey || e.Faults.BadCredentials() {
		answer(401, "Authentication Failed")
		return
	}
	form := url.Values{}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			answer(400, "Invalid Request")
			return
		}
	}
	dest := form.Get("destination")
	s.To, s.From = dest, form.Get("source")
	s.Message = DecodeMessage(form.Get("message"))
	if limited, ra := e.Faults.RateLimited(); limited {
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(emukit.RetryAfterSeconds(ra)))
		}
		answer(429, "Too Many Requests")
		return
	}
	if e.Faults.Fail() {
		answer(500, "Internal server error, please try again later")
		return
	}
	if ch := form.Get("channel"); ch != "" && ch != "whatsapp" {
		answer(400, "Invalid Channel")
		return
	}
	if form.Get("src.name") != e.o.AppName || strings.TrimPrefix(form.Get("source"), "+") != e.o.Source {
		answer(400, "Invalid App Details")
		return
	}
	if !digits(dest) || e.Faults.Rejected(dest, "+"+dest) {
		answer(400, "Invalid Destination")
		return
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(form.Get("message")), &obj); err != nil || obj == nil {
		answer(400, "Invalid Message")
		return
	}
	t, _ := obj["type"].(string)
	if !knownTypes[t] {
		answer(400, "Invalid Message Type")
		return
	}
	if desc := validate(t, obj); desc != "" {
		answer(400, desc)
		return
	}
	id := newUUID()
	s.ID, s.Status = id, http.StatusOK
	s.CallbackURL = e.shown(e.o.CallbackURL)
	rs := e.Rec.Add(s)
	w.Header().Set("Content-Type", "text/html; charset=utf-8") // as Gupshup serves it
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "submitted", "messageId": id})
	if e.AutoReceipts() && e.o.CallbackURL != "" {
		e.fireEvents(rs)
	}
}

func digits(s string) bool {
	if len(s) < 7 || len(s) > 15 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validate checks what WhatsApp would refuse; "" is fine.
func validate(t string, o map[string]any) string {
	str := func(k string) string { v, _ := o[k].(string); return v }
	isURL := func(v string) bool {
		u, err := url.Parse(v)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	}
	switch t {
	case "text":
		if strings.TrimSpace(str("text")) == "" {
			return "Message text is empty"
		}
		if utf8.RuneCountInString(str("text")) > 4096 {
			return "Message text is too long"
		}
	case "image":
		if !isURL(str("originalUrl")) && str("id") == "" {
			return "Invalid Media URL"
		}
	case "video", "audio", "file", "sticker":
		if !isURL(str("url")) && str("id") == "" {
			return "Invalid Media URL"
		}
	case "location":
		lat, err1 := strconv.ParseFloat(str("latitude"), 64)
		lng, err2 := strconv.ParseFloat(str("longitude"), 64)
		if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			return "Invalid location"
		}
	case "quick_reply":
		opts, _ := o["options"].([]any)
		if len(opts) == 0 || len(opts) > 3 {
			return "Quick reply needs 1 to 3 options"
		}
		for _, op := range opts {
			m, _ := op.(map[string]any)
			if t, _ := m["title"].(string); t == "" || utf8.RuneCountInString(t) > 20 {
				return "Quick reply option titles are 1 to 20 characters"
			}
		}
	case "list":
		items, _ := o["items"].([]any)
		rows := 0
		for _, it := range items {
			m, _ := it.(map[string]any)
			os, _ := m["options"].([]any)
			rows += len(os)
		}
		if rows == 0 || rows > 10 || str("body") == "" {
			return "List needs a body and 1 to 10 rows"
		}
	}
	return ""
}

// DecodeMessage is what the customer gets from a send's message field.
func DecodeMessage(raw string) channel.Message {
	r := []byte(raw)
	var o struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		OriginalURL string `json:"originalUrl"`
		URL         string `json:"url"`
		Caption     string `json:"caption"`
		Filename    string `json:"filename"`
		Latitude    any    `json:"latitude"`
		Longitude   any    `json:"longitude"`
		Name        string `json:"name"`
		Address     string `json:"address"`
		Body        string `json:"body"`
		Content     struct {
			Text string `json:"text"`
		} `json:"content"`
		Options []struct {
			Title string `json:"title"`
		} `json:"options"`
		Items []struct {
			Options []struct {
				Title string `json:"title"`
			} `json:"options"`
		} `json:"items"`
	}
	if json.Unmarshal(r, &o) != nil {
		return channel.Message{}
	}
	switch o.Type {
	case "text":
		return channel.Text(o.Text)
	case "image":
		return channel.NewAttachment(channel.AttachmentImage, o.OriginalURL, emukit.MIMEOf(o.OriginalURL), "", o.Caption)
	case "video":
		return channel.NewAttachment(channel.AttachmentVideo, o.URL, emukit.MIMEOf(o.URL), "", o.Caption)
	case "audio":
		return channel.NewAttachment(channel.AttachmentAudio, o.URL, emukit.MIMEOf(o.URL), "", "")
	case "sticker":
		return channel.NewAttachment(channel.AttachmentImage, o.URL, "image/webp", "", "")
	case "file":
		return channel.NewAttachment(channel.AttachmentFile, o.URL, emukit.MIMEOf(o.URL), o.Filename, o.Caption)
	case "location":
		lat, _ := strconv.ParseFloat(fmt.Sprint(o.Latitude), 64)
		lng, _ := strconv.ParseFloat(fmt.Sprint(o.Longitude), 64)
		label := o.Address
		if o.Name != "" && o.Name != o.Address {
			label = strings.Trim(o.Name+", "+o.Address, ", ")
		}
		return channel.Location(lat, lng, label)
	case "quick_reply":
		var rs []string
		for _, op := range o.Options {
			rs = append(rs, op.Title)
		}
		return channel.QuickReply(o.Content.Text, rs...)
	case "list":
		var rs []string
		for _, it := range o.Items {
			for _, op := range it.Options {
				rs = append(rs, op.Title)
			}
		}
		return channel.QuickReply(o.Body, rs...)
	}
	return channel.CustomPayload(json.RawMessage(r))
}

// newUUID is a Gupshup message id (a lower-case UUID v4).
func newUUID() string {
	h := emukit.HexID(16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// WAMID is the fake WhatsApp id of a Gupshup message (stable, so every
// event of one message names the same one).
func WAMID(gsID string) string {
	sum := sha256.Sum256([]byte(gsID))
	return "gBEGkYaYVSEEAg" + base64.RawURLEncoding.EncodeToString(sum[:9])
}

// shown is a URL with the path secret redacted.
func (e *Emulator) shown(u string) string {
	u = e.expand(u)
	if e.o.Secret == "" {
		return u
	}
	return strings.ReplaceAll(u, e.o.Secret, "<secret>")
}

func (e *Emulator) expand(u string) string {
	u = strings.ReplaceAll(u, "{secret}", e.o.Secret)
	return strings.ReplaceAll(u, "<secret>", e.o.Secret)
}

func (e *Emulator) notOnWhatsApp(dest string) bool {
	for _, n := range e.o.NotOnWhatsApp {
		if strings.TrimPrefix(n, "+") == dest {
			return true
		}
	}
	return false
}

// fireEvents queues enqueued, then sent → delivered → read (or failed
// 1002 for a number not on WhatsApp).
func (e *Emulator) fireEvents(s provider.Send) {
	steps := []channel.StatusValue{"enqueued", channel.StatusSent, channel.StatusDelivered, channel.StatusRead}
	reason := ""
	if e.notOnWhatsApp(s.To) {
		steps, reason = []channel.StatusValue{"enqueued", channel.StatusFailed}, "1002"
	}
	e.FireSteps(s, steps, func(st channel.StatusValue) (*http.Request, error) {
		return e.event("", s.ID, "+"+s.To, st, reason, time.Time{}, false)
	})
}

// Receipt implements provider.Emulator: a message-event (sent, delivered,
// read with the WhatsApp id and gsId; failed with the Gupshup id, code and
// reason). Reason may be a Gupshup code (1002) or a text.
func (e *Emulator) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if r.ProviderID == "" {
		return nil, errors.New("gupshup: a receipt needs the messageId of a sent message")
	}
	switch r.Status {
	case channel.StatusSent, channel.StatusDelivered, channel.StatusRead, channel.StatusFailed:
	default:
		return nil, fmt.Errorf("gupshup: unknown status %q (use sent, delivered, read or failed)", r.Status)
	}
	to := r.To
	if s, ok := e.Rec.ByID(r.ProviderID); ok {
		to = "+" + s.To
	}
	if to == "" {
		return nil, errors.New("gupshup: a message-event names the destination: give the recipient (--from)")
	}
	return e.event(target, r.ProviderID, to, r.Status, r.Reason, r.Time, r.BadSignature)
}

// failReasons are Gupshup's texts for the codes a receipt may name.
var failReasons = map[string]string{"1002": "Number Does Not Exists On WhatsApp", "1003": "Unable to send message | Check your wallet balance",
	"1005": "Message sending failed as user is inactive for session message and template did not match",
	"1006": "Message sending failed as user is inactive for session message and not opted in for template message",
	"1008": "User is not Opted in and Inactive", "1010": "Invalid Media URL", "1011": "Invalid Media Size", "1012": "Number Opted Out"}

func (e *Emulator) event(target, gsID, to string, st channel.StatusValue, reason string, when time.Time, bad bool) (*http.Request, error) {
	if target == "" {
		target = e.o.CallbackURL
	}
	if target == "" {
		return nil, errors.New("gupshup: no callback URL: give the app's callback URL")
	}
	if when.IsZero() {
		when = time.Now()
	}
	dest := strings.TrimPrefix(to, "+")
	p := map[string]any{"destination": dest, "type": string(st)}
	switch st {
	case "enqueued":
		p["id"] = gsID
		p["payload"] = map[string]any{"whatsappMessageId": WAMID(gsID), "type": "session"}
	case channel.StatusFailed:
		code, text := "1002", failReasons["1002"]
		if n, err := strconv.Atoi(strings.TrimSpace(reason)); err == nil && n > 0 {
			code, text = strconv.Itoa(n), failReasons[strconv.Itoa(n)]
			if text == "" {
				text = "Message sending failed"
			}
		} else if reason != "" {
			text = reason
		}
		c, _ := strconv.Atoi(code)
		p["id"] = gsID
		p["payload"] = map[string]any{"code": c, "reason": text}
	default:
		p["id"], p["gsId"] = WAMID(gsID), gsID
		inner := map[string]any{"ts": when.Unix()}
		p["payload"] = inner
		if st == channel.StatusSent {
			p["conversation"] = map[string]any{"id": emukit.HexID(16), "expiresAt": when.Add(24 * time.Hour).Unix(), "type": "service"}
			p["pricing"] = map[string]any{"policy": "CBP", "category": "service"}
		}
	}
	env := map[string]any{"app": e.o.AppName, "timestamp": when.UnixMilli(), "version": 2, "type": "message-event", "payload": p}
	return e.post(target, env, bad)
}

// post builds a callback: JSON, the custom header when configured, and
// for BadSignature the path secret and header token spoiled.
func (e *Emulator) post(target string, env any, bad bool) (*http.Request, error) {
	target = e.expand(target)
	header := e.o.HeaderValue
	if bad {
		spoiled := false
		if e.o.Secret != "" && strings.Contains(target, e.o.Secret) {
			target, spoiled = strings.ReplaceAll(target, e.o.Secret, "not-"+e.o.Secret), true
		}
		if header != "" {
			header, spoiled = "not-"+header, true
		}
		if !spoiled {
			return nil, errors.New("gupshup: Gupshup signs nothing: a bad signature spoils the path secret (CCX_GUPSHUP_SECRET, in the URL) or the header token (CCX_GUPSHUP_WEBHOOK_TOKEN), and neither is set")
		}
	}
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gupshup-Callback/1.0")
	if header != "" {
		req.Header.Set(e.o.Header, header)
	}
	return req, nil
}

// DefaultCustomer is the customer used when a CustomerMessage names none.
const DefaultCustomer = "+84901234567"

// Callback builds the v2 message callback body for a customer message.
func (e *Emulator) Callback(in provider.CustomerMessage) (map[string]any, error) {
	from := in.From
	if from == "" {
		from = DefaultCustomer
	}
	if !channel.IsE164(from) {
		return nil, fmt.Errorf("gupshup: customer %q is not a +E.164 number", from)
	}
	phone := from[1:]
	when := in.Time
	if when.IsZero() {
		when = time.Now()
	}
	if in.Native == "opt-in" {
		return map[string]any{"app": e.o.AppName, "timestamp": when.UnixMilli(), "version": 2, "type": "user-event",
			"payload": map[string]any{"phone": phone, "type": "opted-in"}}, nil
	}
	id := in.ID
	if id == "" {
		id = "ABEGhIQBI0Vn" + base64.RawURLEncoding.EncodeToString([]byte(emukit.HexID(9)))[:20]
	}
	name := in.Name
	if name == "" {
		name = "Customer"
	}
	cc := countryCode(phone)
	p := map[string]any{"id": id, "source": phone,
		"sender": map[string]any{"phone": phone, "name": name, "country_code": cc, "dial_code": strings.TrimPrefix(phone, cc)}}
	m := in.Message
	needText := func(what string) (string, error) {
		if m.Type != channel.MessageText || strings.TrimSpace(m.Text) == "" {
			return "", fmt.Errorf("gupshup: %s needs text", what)
		}
		return m.Text, nil
	}
	media := func(t string) error {
		a := m.Attachment
		if m.Type != channel.MessageAttachment || a == nil || a.URL == "" {
			return fmt.Errorf("gupshup: a %s needs an attachment URL", t)
		}
		c := map[string]any{"url": a.URL, "contentType": emukit.AttachmentMIME(a), "urlExpiry": when.Add(7 * 24 * time.Hour).UnixMilli()}
		if a.Description != "" && t != "audio" && t != "sticker" {
			c["caption"] = a.Description
		}
		if t == "file" {
			n := a.FileName
			if n == "" {
				n = fileName(a.URL)
			}
			c["name"] = n
		}
		if t == "sticker" {
			c["contentType"] = "image/webp"
		}
		p["type"], p["payload"] = t, c
		return nil
	}
	switch in.Native {
	case "":
		switch m.Type {
		case channel.MessageText:
			if m.Text == "" {
				return nil, errors.New("gupshup: a text message needs text")
			}
			p["type"], p["payload"] = "text", map[string]any{"text": m.Text}
		case channel.MessageAttachment:
			if m.Attachment == nil {
				return nil, errors.New("gupshup: an attachment needs a URL")
			}
			t := map[channel.AttachmentKind]string{channel.AttachmentImage: "image", channel.AttachmentVideo: "video", channel.AttachmentAudio: "audio"}[m.Attachment.Type]
			if t == "" {
				t = "file"
			}
			if err := media(t); err != nil {
				return nil, err
			}
		case channel.MessageLocation:
			if m.Latitude == nil || m.Longitude == nil {
				return nil, errors.New("gupshup: a location needs latitude and longitude")
			}
			c := map[string]any{"latitude": strconv.FormatFloat(*m.Latitude, 'f', -1, 64), "longitude": strconv.FormatFloat(*m.Longitude, 'f', -1, 64)}
			if m.Address != "" {
				// Gupshup's samples show coordinates only; a named place (a
				// WhatsApp venue) adds name and address.
				n, addr, _ := strings.Cut(m.Address, ",")
				c["name"], c["address"] = strings.TrimSpace(n), strings.TrimSpace(addr)
			}
			p["type"], p["payload"] = "location", c
		default:
			return nil, fmt.Errorf("gupshup: a customer cannot send a %s message", m.Type)
		}
	case "sticker":
		if err := media("sticker"); err != nil {
			return nil, err
		}
	case "contact":
		ph, err := needText("a contact (its phone number)")
		if err != nil {
			return nil, err
		}
		p["type"], p["payload"] = "contact", map[string]any{"contacts": []any{map[string]any{
			"name":   map[string]any{"formatted_name": name, "first_name": name},
			"phones": []any{map[string]any{"phone": ph, "type": "Mobile"}}}}}
	case "button_reply", "list_reply":
		t, err := needText("a " + in.Native + " (its title)")
		if err != nil {
			return nil, err
		}
		c := map[string]any{"title": t, "id": "ccx-" + emukit.HexID(3), "reply": t + " 1"}
		if in.Native == "list_reply" {
			c["postbackText"], c["description"] = t, ""
		}
		p["type"], p["payload"] = in.Native, c
		if last, ok := e.lastSentTo(phone); ok {
			p["context"] = map[string]any{"id": WAMID(last.ID), "gsId": last.ID}
		}
	case "quick_reply":
		t, err := needText("a template button tap (its text)")
		if err != nil {
			return nil, err
		}
		p["type"], p["payload"] = "quick_reply", map[string]any{"text": t, "type": "button", "postbackText": t}
	default:
		return nil, fmt.Errorf("gupshup: unknown native type %q (known: sticker, contact, button_reply, list_reply, quick_reply, opt-in)", in.Native)
	}
	return map[string]any{"app": e.o.AppName, "timestamp": when.UnixMilli(), "version": 2, "type": "message", "payload": p}, nil
}

func countryCode(phone string) string {
	for _, n := range []int{3, 2, 1} {
		if len(phone) > n && knownCC[phone[:n]] {
			return phone[:n]
		}
	}
	return phone[:1]
}

var knownCC = map[string]bool{"1": true, "7": true, "44": true, "49": true, "55": true, "60": true, "61": true, "62": true, "63": true,
	"65": true, "66": true, "81": true, "84": true, "86": true, "91": true, "92": true, "234": true, "254": true, "971": true}

func (e *Emulator) lastSentTo(dest string) (provider.Send, bool) {
	sends := e.Rec.Sends()
	for i := len(sends) - 1; i >= 0; i-- {
		if sends[i].ID != "" && sends[i].To == dest {
			return sends[i], true
		}
	}
	return provider.Send{}, false
}

// Inbound implements provider.Emulator. An empty target is the callback URL.
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	env, err := e.Callback(in)
	if err != nil {
		return nil, err
	}
	if target == "" {
		target = e.o.CallbackURL
	}
	if target == "" {
		return nil, errors.New("gupshup: no callback URL: give the server's webhook URL")
	}
	return e.post(target, env, in.BadSignature)
}
