package clicksend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
)

// EmulatorOptions configure a ClickSend emulator.
type EmulatorOptions struct {
	// Username and APIKey are the Basic credentials it accepts; empty →
	// fresh test values.
	Username, APIKey string
	// Secret is the path secret the server's push URLs carry (ClickSend
	// signs nothing). It is only used to redact the URLs in the record, to
	// expand {secret} in targets and to spoil them for BadSignature.
	Secret string
	// From is the business number: inbound messages arrive `to` it.
	From string
	// ReceiptURL is the delivery-receipt rule's URL (account level, as in
	// ClickSend's dashboard); empty → no automatic receipts.
	ReceiptURL string
	// WebhookType is the rules' webhook_type: post (form, the default),
	// json, or get (query string).
	WebhookType string
	// NoReceipts turns the automatic receipts off.
	NoReceipts bool
	// ReceiptDelay comes before each automatic receipt.
	ReceiptDelay time.Duration
	// Client posts the receipts (default: 10 s timeout).
	Client *http.Client
}

// NativeTypes: a ClickSend customer sends SMS text only.
var NativeTypes = []provider.NativeType{}

// Emulator is a local ClickSend REST v3 (docs/provider.md): /v3/sms/send and
// /v3/mms/send with Basic auth and ClickSend's envelopes (401 UNAUTHORIZED,
// per-message INVALID_RECIPIENT inside a 200, 429 TOO_MANY_REQUESTS, 500),
// delivery-receipt pushes to the configured rule URL, and inbound SMS pushes
// in the rule's webhook type. Sends records one send per message of a call.
type Emulator struct {
	o EmulatorOptions
	emukit.Base
}

var _ provider.Emulator = (*Emulator)(nil)

// NewEmulator builds an emulator; serve its Handler anywhere.
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.Username == "" {
		o.Username = "ccx-" + emukit.HexID(4)
	}
	if o.APIKey == "" {
		o.APIKey = strings.ToUpper(emukit.UUID())
	}
	if o.From == "" {
		o.From = "+61411111111"
	}
	switch o.WebhookType {
	case "", "post", "json", "get":
	default:
		o.WebhookType = "post"
	}
	e := &Emulator{o: o}
	e.Init("clicksend", o.Client, o.ReceiptDelay, !o.NoReceipts)
	return e
}

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "clicksend" }

// Credentials implements provider.Emulator.
func (e *Emulator) Credentials() map[string]string {
	c := map[string]string{"CCX_CLICKSEND_USERNAME": e.o.Username, "CCX_CLICKSEND_API_KEY": e.o.APIKey, "CCX_CLICKSEND_FROM": e.o.From}
	if e.o.Secret != "" {
		c["CCX_CLICKSEND_SECRET"] = e.o.Secret
	}
	return c
}

func envelope(w http.ResponseWriter, status int, code, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if data == nil {
		data = []any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"http_code": status, "response_code": code, "response_msg": msg, "data": data})
}

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

type apiSendBody struct {
	MediaFile string `json:"media_file"`
	Messages  []struct {
		To           string `json:"to"`
		Body         string `json:"body"`
		From         string `json:"from"`
		Subject      string `json:"subject"`
		CustomString string `json:"custom_string"`
		Country      string `json:"country"`
		Schedule     any    `json:"schedule"`
	} `json:"messages"`
}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	u, p, ok := r.BasicAuth()
	authed := ok && u == e.o.Username && p == e.o.APIKey && !e.Faults.BadCredentials()
	if path == "/v3/account" && r.Method == http.MethodGet {
		if !authed {
			envelope(w, 401, "UNAUTHORIZED", "Unauthorized. Please check your credentials.", nil)
			return
		}
		envelope(w, 200, "SUCCESS", "Here's your account", map[string]any{"username": e.o.Username, "balance": "100.00",
			"_currency": map[string]any{"currency_name_short": "AUD"}})
		return
	}
	body, s, err := emukit.StartSend(r, 4<<20)
	answer := func(status int, code, msg string) {
		s.Status, s.Error = status, code+" "+msg
		e.Rec.Add(s)
		envelope(w, status, code, msg, nil)
	}
	if err != nil {
		answer(413, "BAD_REQUEST", "Request too large.")
		return
	}
	if path != "/v3/sms/send" && path != "/v3/mms/send" {
		answer(404, "NOT_FOUND", "Resource not found.")
		return
	}
	if r.Method != http.MethodPost {
		answer(405, "METHOD_NOT_FOUND", "Method not found.")
		return
	}
	if !authed {
		answer(401, "UNAUTHORIZED", "Unauthorized. Please check your credentials.")
		return
	}
	if limited, ra := e.Faults.RateLimited(); limited {
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(emukit.RetryAfterSeconds(ra)))
		}
		answer(429, "TOO_MANY_REQUESTS", "Too many requests.")
		return
	}
	if e.Faults.Fail() {
		answer(500, "INTERNAL_SERVER_ERROR", "Internal server error.")
		return
	}
	var req apiSendBody
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		answer(400, "BAD_REQUEST", "Invalid input.")
		return
	}
	mms := path == "/v3/mms/send"
	if mms && req.MediaFile == "" {
		answer(400, "BAD_REQUEST", "Invalid input: media_file is required.")
		return
	}
	if mms {
		if mu, err := url.Parse(req.MediaFile); err != nil || (mu.Scheme != "http" && mu.Scheme != "https") || mu.Host == "" {
			answer(400, "BAD_REQUEST", "Invalid input: media_file must be a URL.")
			return
		}
	}
	var msgs []map[string]any
	queued := 0
	var accepted []provider.Send
	for _, m := range req.Messages {
		st := "SUCCESS"
		switch {
		case !channel.IsE164(m.To) || e.Faults.Rejected(m.To):
			st = "INVALID_RECIPIENT"
		case strings.TrimSpace(m.Body) == "" && !mms:
			st = "EMPTY_MESSAGE"
		}
		from := m.From
		if from == "" {
			from = e.o.From // ClickSend picks a shared number
		}
		one := s
		one.To, one.From, one.Status = m.To, from, http.StatusOK
		if mms {
			mime := emukit.MIMEOf(req.MediaFile)
			if mime == "" {
				mime = "image/jpeg"
			}
			one.Message = channel.NewAttachment(channel.AttachmentImage, req.MediaFile, mime, m.Subject, m.Body)
		} else {
			one.Message = channel.Text(m.Body)
		}
		id := emukit.UUID()
		if st == "SUCCESS" {
			one.ID = id
			queued++
			one.CallbackURL = e.shown(e.o.ReceiptURL)
		} else {
			one.Error = st
		}
		accepted = append(accepted, e.Rec.Add(one))
		country := m.Country
		if country == "" {
			country = "AU"
		}
		msgs = append(msgs, map[string]any{"direction": "out", "date": time.Now().Unix(), "to": m.To, "body": m.Body, "from": from,
			"schedule": 0, "message_id": id, "message_parts": 1, "message_price": "0.0792", "from_email": nil, "list_id": nil,
			"custom_string": m.CustomString, "contact_id": nil, "user_id": 1, "subaccount_id": 1, "country": country,
			"carrier": "Telstra", "status": st})
	}
	envelope(w, 200, "SUCCESS", "Messages queued for delivery.", map[string]any{"total_price": 0.0792 * float64(queued),
		"total_count": len(msgs), "queued_count": queued, "blocked_count": 0, "messages": msgs,
		"_currency": map[string]any{"currency_name_short": "AUD", "currency_prefix_d": "$", "currency_prefix_c": "¢", "currency_name_long": "Australian Dollars"}})
	if e.AutoReceipts() && e.o.ReceiptURL != "" {
		for _, a := range accepted {
			if a.ID != "" {
				e.fireReceipt(a)
			}
		}
	}
}

// shown is a URL with the path secret redacted (records and logs).
func (e *Emulator) shown(u string) string {
	u = e.expand(u)
	if e.o.Secret == "" {
		return u
	}
	return strings.ReplaceAll(u, e.o.Secret, "<secret>")
}

// expand replaces {secret} in a target with the secret.
func (e *Emulator) expand(u string) string { return strings.ReplaceAll(u, "{secret}", e.o.Secret) }

// fireReceipt queues the delivered receipt of one accepted message:
// ClickSend pushes the handset's delivery report.
func (e *Emulator) fireReceipt(s provider.Send) {
	e.FireSteps(s, []channel.StatusValue{channel.StatusDelivered}, func(st channel.StatusValue) (*http.Request, error) {
		return e.Receipt("", provider.ReceiptSpec{ProviderID: s.ID, Status: st})
	})
}

// push builds a ClickSend push in the rule's webhook type.
func (e *Emulator) push(target string, v url.Values, numeric map[string]bool, bad bool) (*http.Request, error) {
	target = e.expand(target)
	if bad {
		if e.o.Secret == "" || !strings.Contains(target, e.o.Secret) {
			return nil, errors.New("clicksend: a bad signature spoils the path secret, but the URL does not contain it (CCX_CLICKSEND_SECRET)")
		}
		target = strings.ReplaceAll(target, e.o.Secret, "not-"+e.o.Secret)
	}
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	var req *http.Request
	var err error
	switch e.o.WebhookType {
	case "json":
		m := map[string]any{}
		for k := range v {
			val := v.Get(k)
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && numeric[k] {
				m[k] = n
			} else {
				m[k] = val
			}
		}
		b, _ := json.Marshal(m)
		req, err = http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case "get":
		u, perr := url.Parse(target)
		if perr != nil {
			return nil, perr
		}
		q := u.Query()
		for k := range v {
			q.Set(k, v.Get(k))
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequest(http.MethodGet, u.String(), nil)
	default:
		req, err = http.NewRequest(http.MethodPost, target, strings.NewReader(v.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "ClickSend")
	return req, nil
}

// Receipt implements provider.Emulator: a delivery-receipt push
// (sms_receipt fields; status_code 200 sent, 201 delivered, 301 failed).
func (e *Emulator) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if r.ProviderID == "" {
		return nil, errors.New("clicksend: a receipt needs the message_id of a sent message")
	}
	if target == "" {
		target = e.o.ReceiptURL
	}
	if target == "" {
		return nil, errors.New("clicksend: no receipt URL: give the delivery-receipt rule's URL")
	}
	s, known := e.Rec.ByID(r.ProviderID)
	var code, text, errCode, errText string
	switch r.Status {
	case channel.StatusSent:
		code, text = "200", "Sent"
	case channel.StatusDelivered:
		code, text = "201", "Delivered"
	case channel.StatusFailed:
		code, text, errCode, errText = "301", "Failed", "8", "Unknown subscriber"
		if n, err := strconv.Atoi(strings.TrimSpace(r.Reason)); err == nil && n > 0 {
			errCode = strconv.Itoa(n)
		} else if r.Reason != "" {
			errText = r.Reason
		}
	case channel.StatusRead:
		return nil, errors.New("clicksend: SMS has no read receipts (status_code 200, 201 or 301 only)")
	default:
		return nil, fmt.Errorf("clicksend: unknown status %q (use sent, delivered or failed)", r.Status)
	}
	when := r.Time
	if when.IsZero() {
		when = time.Now()
	}
	sent := when
	custom, kind := "", "sms"
	if known {
		sent = s.Time
		custom = customString(s.Body, s.To)
		if strings.Contains(s.Path, "/mms/") {
			kind = "mms"
		}
	}
	v := url.Values{"timestamp_send": {strconv.FormatInt(sent.Unix(), 10)}, "timestamp": {strconv.FormatInt(when.Unix(), 10)},
		"message_id": {r.ProviderID}, "status_code": {code}, "status_text": {text}, "error_code": {errCode}, "error_text": {errText},
		"custom_string": {custom}, "subaccount_id": {"1"}, "user_id": {"1"}, "message_type": {kind}}
	return e.push(target, v, map[string]bool{"timestamp_send": true, "timestamp": true, "status_code": true, "subaccount_id": true, "user_id": true}, r.BadSignature)
}

// customString is the custom_string a send gave the message to `to`.
func customString(body []byte, to string) string {
	var b apiSendBody
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	for _, m := range b.Messages {
		if m.To == to {
			return m.CustomString
		}
	}
	return ""
}

// DefaultCustomer is the customer used when a CustomerMessage names none.
const DefaultCustomer = "+61400000000"

// InboundValues are the fields of an inbound SMS push (inbound_sms): a
// reply to the last message sent to the customer carries its id and body.
func (e *Emulator) InboundValues(in provider.CustomerMessage) (url.Values, error) {
	from := in.From
	if from == "" {
		from = DefaultCustomer
	}
	if !channel.IsE164(from) {
		return nil, fmt.Errorf("clicksend: customer %q is not a +E.164 number", from)
	}
	if in.Native != "" {
		return nil, fmt.Errorf("clicksend: unknown native type %q (ClickSend has none)", in.Native)
	}
	m := in.Message
	switch m.Type {
	case channel.MessageText:
		if m.Text == "" {
			return nil, errors.New("clicksend: a text message needs text")
		}
	case channel.MessageAttachment:
		return nil, errors.New("clicksend: ClickSend pushes inbound SMS only (no inbound MMS push is documented): send the URL as text")
	default:
		return nil, fmt.Errorf("clicksend: a customer can only send text over SMS, not a %s", m.Type)
	}
	id := in.ID
	if id == "" {
		id = emukit.UUID()
	}
	when := in.Time
	if when.IsZero() {
		when = time.Now()
	}
	v := url.Values{"timestamp": {strconv.FormatInt(when.Unix(), 10)}, "from": {from}, "to": {e.o.From}, "body": {m.Text},
		"original_body": {""}, "original_message_id": {""}, "custom_string": {""}, "message_id": {id}, "_keyword": {firstWord(m.Text)},
		"user_id": {"1"}, "subaccount_id": {"1"}}
	if last, ok := e.lastSentTo(from); ok {
		v.Set("original_message_id", last.ID)
		v.Set("original_body", last.Message.Text)
		v.Set("custom_string", customString(last.Body, from))
	}
	return v, nil
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(f[0])
}

func (e *Emulator) lastSentTo(to string) (provider.Send, bool) {
	sends := e.Rec.Sends()
	for i := len(sends) - 1; i >= 0; i-- {
		if sends[i].ID != "" && sends[i].To == to {
			return sends[i], true
		}
	}
	return provider.Send{}, false
}

// Inbound implements provider.Emulator. target is the inbound rule's URL as
// configured (with the server's path secret in it, or {secret}).
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	v, err := e.InboundValues(in)
	if err != nil {
		return nil, err
	}
	return e.push(target, v, map[string]bool{"timestamp": true, "user_id": true, "subaccount_id": true}, in.BadSignature)
}
