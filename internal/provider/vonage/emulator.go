package vonage

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
	"github.com/tidwall/gjson"
)

// EmulatorOptions configure a Vonage Messages emulator.
type EmulatorOptions struct {
	// ApplicationID and PrivateKey (PEM) are the application it accepts
	// JWTs of; APIKey and APISecret the Basic credentials; SignatureSecret
	// signs its webhooks. Empty → fresh test values (one RSA key per process).
	ApplicationID, PrivateKey, APIKey, APISecret, SignatureSecret string
	// From is the business number (+E.164); empty → +447700900000.
	From string
	// Channel of the customer's messages: whatsapp (default), sms or mms.
	Channel string
	// StatusURL is the application's status webhook (status_url).
	StatusURL string
	// InboundURL is the application's inbound webhook: Inbound posts there
	// when given no target.
	InboundURL string
	// NoReceipts turns the automatic statuses off.
	NoReceipts bool
	// ReceiptDelay separates the statuses of one send.
	ReceiptDelay time.Duration
	// Client posts the webhooks (default: 10 s timeout).
	Client *http.Client
}

// NativeTypes are Vonage's customer-message variants (CustomerMessage.Native).
var NativeTypes = []provider.NativeType{
	{Name: "reply", Help: "an interactive button or list-row tap (reply{id,title}): the text is the title and id (WhatsApp)"},
	{Name: "button", Help: "a template quick-reply button tap (button{payload,text}): the text is both (WhatsApp)"},
	{Name: "sticker", Help: "a sticker (sticker{url}) from an attachment URL (WhatsApp)"},
	{Name: "vcard", Help: "a contact card (vcard{url}) from an attachment URL"},
	{Name: "reaction", Help: "an emoji reaction (the text); the relay ignores reactions (WhatsApp)"},
	{Name: "unsupported", Help: "a message Vonage cannot represent (message_type unsupported); the relay ignores it"},
}

// Emulator is a local Vonage Messages API v1 (docs/provider.md): POST
// /v1/messages with an application JWT (RS256) or Basic auth, RFC 7807
// problem answers, 202 with a message_uuid, status and inbound webhooks
// signed with an HS256 JWT carrying payload_hash, and media at /v3/media/
// behind the JWT (Secure Inbound Media).
type Emulator struct {
	o   EmulatorOptions
	pub *rsa.PublicKey
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
const DefaultCustomer = "+447700900001"

// NewEmulator builds an emulator; serve its Handler anywhere. A
// PrivateKey that does not parse is replaced by a fresh one.
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.ApplicationID == "" {
		o.ApplicationID = uuid4()
	}
	key, err := ParsePrivateKey(o.PrivateKey)
	if err != nil {
		key = generatedKey()
		o.PrivateKey = EncodePrivateKey(key)
	}
	if o.APIKey == "" {
		o.APIKey = emukit.HexID(4)
	}
	if o.APISecret == "" {
		o.APISecret = emukit.HexID(8)
	}
	if o.SignatureSecret == "" {
		o.SignatureSecret = emukit.HexID(16)
	}
	if o.From == "" {
		o.From = "+447700900000"
	}
	o.Channel = strings.ToLower(o.Channel)
	if _, ok := messageTypes[o.Channel]; !ok {
		o.Channel = "whatsapp"
	}
	e := &Emulator{o: o, pub: &key.PublicKey, media: map[string]mediaFile{}}
	e.Init("vonage", o.Client, o.ReceiptDelay, !o.NoReceipts)
	return e
}

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "vonage" }

// Credentials implements provider.Emulator: the relay's variable names (the
// private key as one-line PEM).
func (e *Emulator) Credentials() map[string]string {
	return map[string]string{EnvApplicationID: e.o.ApplicationID, EnvPrivateKey: e.o.PrivateKey, EnvAPIKey: e.o.APIKey,
		EnvAPISecret: e.o.APISecret, EnvSignatureSecret: e.o.SignatureSecret, EnvFrom: e.o.From, EnvChannel: e.o.Channel}
}

// AddMedia serves data at /v3/media/<id>, behind the application JWT.
func (e *Emulator) AddMedia(id, contentType string, data []byte) {
	e.mu.Lock()
	e.media[id] = mediaFile{contentType, data}
	e.mu.Unlock()
}

// problem writes an RFC 7807 answer.
func problem(w http.ResponseWriter, status int, typ, title, detail string, invalid ...map[string]string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	p := map[string]any{"type": typ, "title": title, "detail": detail, "instance": emukit.HexID(16)}
	if len(invalid) > 0 {
		p["invalid_parameters"] = invalid
	}
	_ = json.NewEncoder(w).Encode(p)
}

const errBase = "https://developer.vonage.com/api-errors"

// authorized checks a Bearer JWT (RS256, this application, not expired) or
// Basic credentials.
func (e *Emulator) authorized(r *http.Request, jwtOnly bool) bool {
	if e.Faults.BadCredentials() {
		return false
	}
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		c, err := VerifyRS256(tok, e.pub)
		if err != nil || claimStr(c, "application_id") != e.o.ApplicationID {
			return false
		}
		now := time.Now().Unix()
		if exp, ok := claimInt(c, "exp"); ok && exp < now {
			return false
		}
		iat, ok := claimInt(c, "iat")
		return ok && iat <= now+300
	}
	if jwtOnly {
		return false
	}
	u, p, ok := r.BasicAuth()
	return ok && u == e.o.APIKey && p == e.o.APISecret
}

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

// messageTypes are the message types each channel takes.
var messageTypes = map[string][]string{
	"whatsapp": {"text", "image", "audio", "video", "file", "template", "sticker", "custom", "reaction"},
	"sms":      {"text"},
	"mms":      {"text", "image", "vcard", "audio", "video", "file"},
}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/v3/media/"); ok && r.Method == http.MethodGet {
		e.serveMedia(w, r, id)
		return
	}
	body, s, rerr := emukit.StartSend(r, 1<<20)
	answer := func(status int, typ, title, detail string, invalid ...map[string]string) {
		s.Status, s.Error = status, title+": "+detail
		for _, p := range invalid {
			s.Error += " (" + p["name"] + " " + p["reason"] + ")"
		}
		e.Rec.Add(s)
		problem(w, status, typ, title, detail, invalid...)
	}
	if r.URL.Path != "/v1/messages" {
		answer(404, errBase+"#not-found", "Not Found", "The requested resource "+r.URL.Path+" does not exist.")
		return
	}
	if rerr != nil {
		answer(413, errBase+"/messages#1010", "Request too large", "The request body is too large.")
		return
	}
	if !e.authorized(r, false) {
		answer(401, errBase+"#unauthorized", "Unauthorized", "You did not provide correct credentials.")
		return
	}
	if r.Method != http.MethodPost {
		answer(405, errBase+"#method-not-allowed", "Method Not Allowed", "Use POST.")
		return
	}
	if !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
		answer(400, errBase+"#invalid-json", "Malformed JSON", "The request body did not contain valid JSON.")
		return
	}
	m := gjson.ParseBytes(body)
	to, from := m.Get("to").String(), m.Get("from").String()
	s.To, s.From = to, from
	s.Message = decodeSend(m)
	if limited, _ := e.Faults.RateLimited(); limited {
		answer(429, errBase+"/messages#1000", "Throttled", "You have exceeded the submission capacity allowed on this account. Please wait and retry.")
		return
	}
	if e.Faults.Fail() {
		answer(500, errBase+"#internal-error", "Internal Error", "An internal error occurred. Please retry.")
		return
	}
	if status, title, detail, invalid := e.validate(m); status != 0 {
		answer(status, errBase+"/messages#1020", title, detail, invalid...)
		return
	}
	if e.Faults.Rejected(to, "+"+to) {
		answer(422, errBase+"/messages#1020", "Invalid params", "The value of one or more parameters is invalid.", map[string]string{"name": "to", "reason": "Number not reachable on " + m.Get("channel").String()})
		return
	}
	id := uuid4()
	s.ID, s.Status, s.CallbackURL = id, http.StatusAccepted, e.o.StatusURL
	recorded2 := e.Rec.Add(s)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"message_uuid": id})
	if e.AutoReceipts() && s.CallbackURL != "" {
		e.fireReceipts(recorded2, m.Get("channel").String())
	}
}

// validate answers 0 for a good send, else the status, title, detail and
// the invalid parameters.
func (e *Emulator) validate(m gjson.Result) (int, string, string, []map[string]string) {
	missing := func(name string) (int, string, string, []map[string]string) {
		return 422, "Invalid params", "The value of one or more parameters is invalid.", []map[string]string{{"name": name, "reason": "is required"}}
	}
	invalid := func(name, reason string) (int, string, string, []map[string]string) {
		return 422, "Invalid params", "The value of one or more parameters is invalid.", []map[string]string{{"name": name, "reason": reason}}
	}
	for _, k := range []string{"channel", "message_type", "to", "from"} {
		if m.Get(k).String() == "" {
			return missing(k)
		}
	}
	ch, mt, to := m.Get("channel").String(), m.Get("message_type").String(), m.Get("to").String()
	types, ok := messageTypes[ch]
	if !ok {
		return invalid("channel", "must be one of whatsapp, sms, mms (this emulator)")
	}
	if !oneOf(mt, types) {
		return invalid("message_type", "must be one of "+strings.Join(types, ", ")+" for channel "+ch)
	}
	if strings.HasPrefix(to, "+") || strings.HasPrefix(to, "00") || !isDigits(to) || len(to) < 7 || len(to) > 15 {
		return invalid("to", "must be an E.164 number without a leading + or 00")
	}
	if ch != "sms" && Digits(m.Get("from").String()) != Digits(e.o.From) {
		return invalid("from", "is not a number of this application")
	}
	switch mt {
	case "text":
		t := m.Get("text").String()
		max := 4096
		if ch == "sms" {
			max = 1000
		}
		if strings.TrimSpace(t) == "" {
			return missing("text")
		}
		if utf8.RuneCountInString(t) > max {
			return invalid("text", "must be at most "+strconv.Itoa(max)+" characters")
		}
	case "image", "audio", "video", "file", "vcard", "sticker":
		u := m.Get(mt + ".url").String()
		if u == "" && !(mt == "sticker" && m.Get("sticker.id").String() != "") {
			return missing(mt + ".url")
		}
		if u != "" {
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				return invalid(mt+".url", "must be an http(s) URL")
			}
		}
	case "custom":
		c := m.Get("custom")
		if !c.IsObject() || c.Get("type").String() == "" {
			return missing("custom.type")
		}
		if c.Get("type").String() == "interactive" {
			msg := gjson.Parse(`{"messaging_product":"whatsapp","to":"` + to + `","type":"interactive","interactive":` + c.Get("interactive").Raw + `}`)
			if c.Get("interactive").Raw == "" {
				return missing("custom.interactive")
			}
			if code, title, details := whatsapp.Validate(msg); code != 0 {
				return invalid("custom.interactive", title+": "+details)
			}
		}
	case "template":
		if m.Get("template.name").String() == "" {
			return missing("template.name")
		}
	}
	return 0, "", "", nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// decodeSend is what the customer gets from a Messages API body.
func decodeSend(m gjson.Result) channel.Message {
	mt := m.Get("message_type").String()
	att := func(kind channel.AttachmentKind) channel.Message {
		o := m.Get(mt)
		u := o.Get("url").String()
		return channel.NewAttachment(kind, u, emukit.MIMEOf(u), o.Get("name").String(), o.Get("caption").String())
	}
	switch mt {
	case "text":
		return channel.Text(m.Get("text").String())
	case "image", "sticker":
		return att(channel.AttachmentImage)
	case "video":
		return att(channel.AttachmentVideo)
	case "audio":
		return att(channel.AttachmentAudio)
	case "file", "vcard":
		return att(channel.AttachmentFile)
	case "custom":
		c := m.Get("custom")
		switch c.Get("type").String() {
		case "location":
			l := c.Get("location")
			return channel.Location(l.Get("latitude").Float(), l.Get("longitude").Float(), provider.JoinNonEmpty(", ", l.Get("name").String(), l.Get("address").String()))
		case "interactive":
			return whatsapp.DecodeInteractive(c.Get("interactive"))
		}
		return channel.CustomPayload(json.RawMessage(c.Raw))
	}
	return channel.CustomPayload(json.RawMessage(m.Raw))
}

func (e *Emulator) serveMedia(w http.ResponseWriter, r *http.Request, id string) {
	if !e.authorized(r, true) {
		problem(w, 401, errBase+"#unauthorized", "Unauthorized", "Secure Inbound Media: a JWT of the application is required.")
		return
	}
	e.mu.Lock()
	f, ok := e.media[id]
	e.mu.Unlock()
	if !ok {
		problem(w, 404, errBase+"#not-found", "Not Found", "Media "+id+" does not exist or has expired.")
		return
	}
	ct := f.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(f.data)
}

// fireReceipts queues submitted → delivered (→ read on WhatsApp) for a send.
func (e *Emulator) fireReceipts(s provider.Send, ch string) {
	steps := []channel.StatusValue{channel.StatusSent, channel.StatusDelivered}
	if ch == "whatsapp" {
		steps = append(steps, channel.StatusRead)
	}
	e.FireSteps(s, steps, func(st channel.StatusValue) (*http.Request, error) {
		return e.Receipt(s.CallbackURL, provider.ReceiptSpec{ProviderID: s.ID, Status: st})
	})
}

// SignedPost builds a webhook as Vonage sends it: JSON with an HS256 JWT in
// Authorization whose payload_hash covers the body (a wrong secret when bad).
func (e *Emulator) SignedPost(target string, body []byte, bad bool) (*http.Request, error) {
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	secret := e.o.SignatureSecret
	if bad {
		secret = "not-" + secret
	}
	tok := SignHS256(map[string]any{"iat": time.Now().Unix(), "jti": uuid4(), "iss": "Vonage",
		"payload_hash": PayloadHash(body), "api_key": e.o.APIKey, "application_id": e.o.ApplicationID}, secret)
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "Vonage-Messages/1.0")
	return req, nil
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Receipt implements provider.Emulator: a status webhook, signed.
func (e *Emulator) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if r.ProviderID == "" {
		return nil, errors.New("vonage: a status needs the message_uuid of a sent message")
	}
	s, known := e.Rec.ByID(r.ProviderID)
	if target == "" {
		target = s.CallbackURL
	}
	if target == "" {
		target = e.o.StatusURL
	}
	if target == "" {
		return nil, errors.New("vonage: no status URL: configure the application's status webhook (--status-url)")
	}
	to, from, ch := Digits(r.To), Digits(e.o.From), e.o.Channel
	if known {
		to, from = s.To, s.From
		ch = gjson.GetBytes(s.Body, "channel").String()
	}
	if to == "" {
		to = Digits(DefaultCustomer)
	}
	st := map[string]any{"message_uuid": r.ProviderID, "to": to, "from": from, "timestamp": isoTime(r.Time), "channel": ch}
	switch r.Status {
	case channel.StatusSent:
		st["status"] = "submitted"
	case channel.StatusDelivered:
		st["status"] = "delivered"
	case channel.StatusRead:
		st["status"] = "read"
	case channel.StatusFailed:
		code, detail := "1300", r.Reason
		if n, err := strconv.Atoi(strings.TrimSpace(r.Reason)); err == nil && n > 0 {
			code, detail = strconv.Itoa(n), ""
		}
		if detail == "" {
			detail = "Message could not be delivered."
		}
		st["status"] = "rejected"
		st["error"] = map[string]string{"type": errBase + "/messages#" + code, "title": code, "detail": detail, "instance": emukit.HexID(16)}
	default:
		return nil, fmt.Errorf("vonage: unknown status %q (use sent, delivered, read or failed)", r.Status)
	}
	switch {
	case ch == "sms" && st["status"] != "read":
		st["usage"] = map[string]string{"currency": "EUR", "price": "0.0333"}
		st["sms"] = map[string]string{"count_total": "1"}
	case ch == "whatsapp" && st["status"] == "submitted":
		st["whatsapp"] = map[string]any{"conversation": map[string]any{"id": strings.ReplaceAll(r.ProviderID, "-", "")[:24], "origin": map[string]string{"type": "service"}}}
	}
	b, _ := json.Marshal(st)
	return e.SignedPost(target, b, r.BadSignature)
}

// Inbound implements provider.Emulator: an inbound message webhook, signed.
// An empty target is the application's inbound URL.
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	if target == "" {
		target = e.o.InboundURL
	}
	body, err := e.InboundBody(in)
	if err != nil {
		return nil, err
	}
	return e.SignedPost(target, body, in.BadSignature)
}

// InboundBody is the inbound webhook JSON for a customer message. Media are
// given at their URL (Vonage hosts them; AddMedia serves files at
// /v3/media/ behind the JWT).
func (e *Emulator) InboundBody(in provider.CustomerMessage) ([]byte, error) {
	from := in.From
	if from == "" {
		from = DefaultCustomer
	}
	if !channel.IsE164(from) {
		return nil, fmt.Errorf("vonage: customer %q is not a +E.164 number", from)
	}
	id := in.ID
	if id == "" {
		id = uuid4()
	}
	ch := e.o.Channel
	b := map[string]any{"channel": ch, "message_uuid": id, "to": Digits(e.o.From), "from": Digits(from), "timestamp": isoTime(in.Time)}
	if ch == "whatsapp" {
		name := in.Name
		if name == "" {
			name = "Customer"
		}
		b["profile"] = map[string]string{"name": name}
		b["context_status"] = "none"
	}
	m := in.Message
	needWA := func(what string) error {
		if ch != "whatsapp" {
			return fmt.Errorf("vonage: %s comes only on the whatsapp channel (this emulator plays %s)", what, ch)
		}
		return nil
	}
	text := func(what string) (string, error) {
		if m.Type != channel.MessageText || strings.TrimSpace(m.Text) == "" {
			return "", fmt.Errorf("vonage: %s needs text", what)
		}
		return m.Text, nil
	}
	media := func(mt string, a *channel.Attachment, caption bool) error {
		if a == nil || a.URL == "" {
			return errors.New("vonage: an attachment needs a URL")
		}
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("vonage: attachment URL %q is not an absolute http(s) URL", a.URL)
		}
		o := map[string]any{"url": a.URL}
		if caption && a.Description != "" {
			o["caption"] = a.Description
		}
		if mt == "file" || mt == "vcard" {
			n := a.FileName
			if n == "" {
				if u, err := url.Parse(a.URL); err == nil {
					n = path.Base(u.Path)
				}
			}
			o["name"] = n
		}
		b["message_type"], b[mt] = mt, o
		return nil
	}
	var err error
	switch in.Native {
	case "":
		switch m.Type {
		case channel.MessageText:
			if strings.TrimSpace(m.Text) == "" {
				return nil, errors.New("vonage: a text message needs text")
			}
			b["message_type"], b["text"] = "text", m.Text
			if ch == "sms" {
				kw, _, _ := strings.Cut(strings.TrimSpace(m.Text), " ")
				b["sms"] = map[string]string{"num_messages": "1", "keyword": strings.ToUpper(kw)}
				b["usage"] = map[string]string{"currency": "EUR", "price": "0.0057"}
			}
		case channel.MessageAttachment:
			if ch == "sms" {
				return nil, errors.New("vonage: an SMS carries text only")
			}
			if m.Attachment == nil {
				return nil, errors.New("vonage: an attachment needs a URL")
			}
			mt := map[channel.AttachmentKind]string{channel.AttachmentImage: "image", channel.AttachmentVideo: "video", channel.AttachmentAudio: "audio"}[m.Attachment.Type]
			if mt == "" {
				mt = "file"
			}
			err = media(mt, m.Attachment, mt != "audio")
		case channel.MessageLocation:
			if err := needWA("a location"); err != nil {
				return nil, err
			}
			if m.Latitude == nil || m.Longitude == nil {
				return nil, errors.New("vonage: a location needs latitude and longitude")
			}
			// WhatsApp inbound locations use lat/long (docs/provider.md).
			loc := map[string]any{"lat": *m.Latitude, "long": *m.Longitude}
			if m.Address != "" {
				n, addr, found := strings.Cut(m.Address, ",")
				if found {
					loc["name"], loc["address"] = strings.TrimSpace(n), strings.TrimSpace(addr)
				} else {
					loc["address"] = m.Address
				}
			}
			b["message_type"], b["location"] = "location", loc
		default:
			return nil, fmt.Errorf("vonage: a customer cannot send a %s message", m.Type)
		}
	case "reply", "button", "reaction":
		if err := needWA("a " + in.Native); err != nil {
			return nil, err
		}
		t, err := text("a " + in.Native)
		if err != nil {
			return nil, err
		}
		switch in.Native {
		case "reply":
			b["message_type"], b["reply"] = "reply", map[string]string{"id": t, "title": t}
			b["context_status"] = "available"
		case "button":
			b["message_type"], b["button"] = "button", map[string]string{"payload": t, "text": t, "subtype": "quick_reply"}
		default:
			b["message_type"], b["reaction"] = "reaction", map[string]string{"action": "react", "emoji": t}
		}
	case "sticker":
		if err := needWA("a sticker"); err != nil {
			return nil, err
		}
		err = media("sticker", m.Attachment, false)
	case "vcard":
		if ch == "sms" {
			return nil, errors.New("vonage: an SMS carries text only")
		}
		err = media("vcard", m.Attachment, false)
	case "unsupported":
		b["message_type"] = "unsupported"
	default:
		return nil, fmt.Errorf("vonage: unknown native type %q (known: reply, button, sticker, vcard, reaction, unsupported)", in.Native)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(b)
}

// MediaID is a fresh id for AddMedia (Vonage's are UUIDs).
func MediaID() string { return uuid4() }

// uuid4 is a random (version 4) UUID, as Vonage's message_uuid.
func uuid4() string {
	h := []byte(emukit.HexID(16))
	h[12] = '4'
	h[16] = "89ab"[h[16]%4]
	s := string(h)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
