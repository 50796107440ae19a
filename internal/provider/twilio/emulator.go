package twilio

import (
	"encoding/json"
	"errors"
	"fmt"
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

// EmulatorOptions configure a Twilio emulator.
type EmulatorOptions struct {
	// AccountSID and AuthToken are the credentials it accepts and signs
	// with; empty → fresh test values.
	AccountSID, AuthToken string
	// From is the business number (+E.164 or whatsapp:+E.164): inbound
	// messages go To it, and sends From another sender are refused (21606).
	// Empty → any sender is accepted.
	From string
	// StatusCallback is used for sends that name none (the Messaging
	// Service's callback URL in Twilio's console).
	StatusCallback string
	// NoReceipts turns the automatic status callbacks off.
	NoReceipts bool
	// ReceiptDelay separates the callbacks of one send (sent, delivered, read).
	ReceiptDelay time.Duration
	// Client posts the callbacks (default: 10 s timeout).
	Client *http.Client
}

// NativeTypes are Twilio's customer-message variants (CustomerMessage.Native).
var NativeTypes = []provider.NativeType{
	{Name: "button", Help: "a WhatsApp quick-reply button tap: Body and ButtonText are the text, ButtonPayload the text too (WhatsApp business numbers only)"},
}

// Emulator is a local Twilio Programmable Messaging API (docs/provider.md):
// POST /2010-04-01/Accounts/{sid}/Messages.json with Basic auth, Twilio's
// error bodies and codes, 201 with an SM/MM sid, signed status callbacks,
// signed inbound webhooks, Basic-protected media.
type Emulator struct {
	o EmulatorOptions
	emukit.Base

	mu    sync.Mutex
	media map[string]media
}

type media struct {
	contentType string
	data        []byte
}

var _ provider.Emulator = (*Emulator)(nil)

// NewEmulator builds an emulator; serve its Handler anywhere.
func NewEmulator(o EmulatorOptions) *Emulator {
	if o.AccountSID == "" {
		o.AccountSID = "AC" + emukit.HexID(16)
	}
	if o.AuthToken == "" {
		o.AuthToken = emukit.HexID(16)
	}
	e := &Emulator{o: o, media: map[string]media{}}
	e.Init("twilio", o.Client, o.ReceiptDelay, !o.NoReceipts)
	return e
}

// Name implements provider.Emulator.
func (e *Emulator) Name() string { return "twilio" }

// Credentials implements provider.Emulator: the relay's variable names.
func (e *Emulator) Credentials() map[string]string {
	c := map[string]string{"CCX_TWILIO_ACCOUNT_SID": e.o.AccountSID, "CCX_TWILIO_AUTH_TOKEN": e.o.AuthToken}
	if e.o.From != "" {
		c["CCX_TWILIO_FROM"] = e.o.From
	}
	return c
}

// AddMedia serves data at /media/<name> and at Twilio's own media path
// /2010-04-01/Accounts/{sid}/Messages/{MM}/Media/<name>, behind Basic auth.
func (e *Emulator) AddMedia(name, contentType string, data []byte) {
	e.mu.Lock()
	e.media[name] = media{contentType, data}
	e.mu.Unlock()
}

// Twilio's 2010 API error body.
func twErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

const apiPrefix = "/2010-04-01/Accounts/"

// Handler implements provider.Emulator.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	sendPath := apiPrefix + e.o.AccountSID + "/Messages.json"
	u, p, ok := r.BasicAuth()
	authed := ok && u == e.o.AccountSID && p == e.o.AuthToken && !e.Faults.BadCredentials()
	if name, isMedia := e.mediaName(path); isMedia && r.Method == http.MethodGet {
		if !authed {
			twErr(w, 401, 20003, "Authenticate")
			return
		}
		e.mu.Lock()
		m, found := e.media[name]
		e.mu.Unlock()
		if !found {
			twErr(w, 404, 20404, "The requested resource "+path+" was not found")
			return
		}
		w.Header().Set("Content-Type", m.contentType)
		_, _ = w.Write(m.data)
		return
	}
	if r.Method == http.MethodGet && strings.HasPrefix(path, apiPrefix+e.o.AccountSID+"/Messages/") && strings.HasSuffix(path, ".json") {
		if !authed {
			twErr(w, 401, 20003, "Authenticate")
			return
		}
		e.fetch(w, strings.TrimSuffix(strings.TrimPrefix(path, apiPrefix+e.o.AccountSID+"/Messages/"), ".json"))
		return
	}
	body, s, err := emukit.StartSend(r, 1<<20)
	answer := func(status, code int, msg string) {
		s.Status, s.Error = status, fmt.Sprintf("%d %s", code, msg)
		e.Rec.Add(s)
		twErr(w, status, code, msg)
	}
	if err != nil {
		answer(413, 21617, "The request body is too large.")
		return
	}
	if !authed {
		answer(401, 20003, "Authenticate")
		return
	}
	if path != sendPath {
		answer(404, 20404, "The requested resource "+path+" was not found")
		return
	}
	if r.Method != http.MethodPost {
		answer(405, 20004, "Method not allowed")
		return
	}
	// Twilio reads only form parameters: a JSON body is a request without To.
	form := url.Values{}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		if form, err = url.ParseQuery(string(body)); err != nil {
			answer(400, 21602, "Message body is required.")
			return
		}
	}
	to, from, msid := form.Get("To"), form.Get("From"), form.Get("MessagingServiceSid")
	s.To, s.From, s.CallbackURL = to, from, form.Get("StatusCallback")
	if s.From == "" {
		s.From = msid
	}
	s.Message = decodeSend(form)
	if limited, ra := e.Faults.RateLimited(); limited {
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(emukit.RetryAfterSeconds(ra)))
		}
		answer(429, 20429, "Too Many Requests")
		return
	}
	if e.Faults.Fail() {
		answer(500, 20500, "An internal server error has occurred")
		return
	}
	bodyText, mediaURLs := form.Get("Body"), form["MediaUrl"]
	switch {
	case to == "":
		answer(400, 21604, "A 'To' phone number is required.")
		return
	case from == "" && msid == "":
		answer(400, 21603, "A 'From' phone number is required.")
		return
	case bodyText == "" && len(mediaURLs) == 0 && form.Get("ContentSid") == "":
		answer(400, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(bodyText) > 1600:
		answer(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	case len(mediaURLs) > 10:
		answer(400, 21623, "The number of media files exceeds the limit of 10.")
		return
	}
	for _, m := range mediaURLs {
		if mu, err := url.Parse(m); err != nil || (mu.Scheme != "http" && mu.Scheme != "https") || mu.Host == "" {
			answer(400, 21620, "Media urls: "+m+" are invalid. Please use only valid http and https urls")
			return
		}
	}
	if strings.HasPrefix(to, "whatsapp:") != strings.HasPrefix(from, "whatsapp:") && from != "" {
		answer(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
		return
	}
	if e.o.From != "" && from != "" && from != e.o.From {
		answer(400, 21606, "The From phone number "+from+" is not a valid, SMS-capable inbound phone number or short code for your account.")
		return
	}
	if !channel.IsE164(stripWA(to)) || e.Faults.Rejected(to, stripWA(to)) {
		answer(400, 21211, "The 'To' number "+to+" is not a valid phone number.")
		return
	}
	prefix := "SM"
	if len(mediaURLs) > 0 {
		prefix = "MM"
	}
	sid := prefix + emukit.HexID(16)
	s.ID, s.Status = sid, http.StatusCreated
	if s.CallbackURL == "" {
		s.CallbackURL = e.o.StatusCallback
	}
	recorded2 := e.Rec.Add(s)
	now := time.Now().UTC().Format(time.RFC1123Z)
	status := "queued"
	if msid != "" {
		status = "accepted"
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(e.resource(sid, status, form, now))
	if e.AutoReceipts() && s.CallbackURL != "" {
		e.fireReceipts(recorded2)
	}
}

func (e *Emulator) mediaName(path string) (string, bool) {
	if n, ok := strings.CutPrefix(path, "/media/"); ok {
		return n, true
	}
	if strings.HasPrefix(path, apiPrefix) && strings.Contains(path, "/Media/") {
		return path[strings.LastIndex(path, "/")+1:], true
	}
	return "", false
}

// resource is a Message resource as Twilio renders it.
func (e *Emulator) resource(sid, status string, form url.Values, now string) map[string]any {
	var msid any
	if v := form.Get("MessagingServiceSid"); v != "" {
		msid = v
	}
	uri := apiPrefix + e.o.AccountSID + "/Messages/" + sid
	return map[string]any{"account_sid": e.o.AccountSID, "api_version": "2010-04-01", "body": form.Get("Body"),
		"date_created": now, "date_sent": nil, "date_updated": now, "direction": "outbound-api",
		"error_code": nil, "error_message": nil, "from": form.Get("From"), "messaging_service_sid": msid,
		"num_media": strconv.Itoa(len(form["MediaUrl"])), "num_segments": "1", "price": nil, "price_unit": "USD",
		"sid": sid, "status": status, "subresource_uris": map[string]string{"media": uri + "/Media.json"},
		"to": form.Get("To"), "uri": uri + ".json"}
}

// fetch answers GET Messages/{sid}.json with the latest known status.
func (e *Emulator) fetch(w http.ResponseWriter, sid string) {
	s, ok := e.Rec.ByID(sid)
	if !ok {
		twErr(w, 404, 20404, "The requested resource "+apiPrefix+e.o.AccountSID+"/Messages/"+sid+".json was not found")
		return
	}
	form, _ := url.ParseQuery(string(s.Body))
	status := "queued"
	for _, c := range s.Callbacks {
		status = twilioStatus(c.Status)
	}
	res := e.resource(sid, status, form, s.Time.Format(time.RFC1123Z))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(res)
}

// decodeSend is what the customer gets from a Messages.json form.
func decodeSend(f url.Values) channel.Message {
	body := f.Get("Body")
	if urls := f["MediaUrl"]; len(urls) > 0 {
		mime := emukit.MIMEOf(urls[0])
		return channel.NewAttachment(channel.KindForMIME(mime), urls[0], mime, "", body)
	}
	if geo, ok := strings.CutPrefix(f.Get("PersistentAction"), "geo:"); ok {
		coords, label, _ := strings.Cut(geo, "|")
		latS, lngS, _ := strings.Cut(coords, ",")
		lat, err1 := strconv.ParseFloat(latS, 64)
		lng, err2 := strconv.ParseFloat(lngS, 64)
		if err1 == nil && err2 == nil {
			return channel.Location(lat, lng, label)
		}
	}
	if sid := f.Get("ContentSid"); sid != "" {
		p, _ := json.Marshal(map[string]string{"ContentSid": sid, "ContentVariables": f.Get("ContentVariables")})
		return channel.CustomPayload(p)
	}
	return channel.Text(body)
}

// fireReceipts queues sent → delivered (→ read on WhatsApp) for one send.
func (e *Emulator) fireReceipts(s provider.Send) {
	steps := []channel.StatusValue{channel.StatusSent, channel.StatusDelivered}
	if strings.HasPrefix(s.To, "whatsapp:") {
		steps = append(steps, channel.StatusRead)
	}
	e.FireSteps(s, steps, func(st channel.StatusValue) (*http.Request, error) {
		return e.Receipt(s.CallbackURL, provider.ReceiptSpec{ProviderID: s.ID, Status: st})
	})
}

func twilioStatus(v channel.StatusValue) string {
	if v == channel.StatusFailed {
		return "undelivered"
	}
	return string(v)
}

// Receipt implements provider.Emulator: a status callback form, signed.
func (e *Emulator) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if r.ProviderID == "" {
		return nil, errors.New("twilio: a receipt needs the MessageSid of a sent message")
	}
	s, known := e.Rec.ByID(r.ProviderID)
	if target == "" {
		target = s.CallbackURL
	}
	if target == "" {
		target = e.o.StatusCallback
	}
	if target == "" {
		return nil, errors.New("twilio: no StatusCallback URL: the send named none and none is configured")
	}
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	from, to := e.o.From, r.To
	if known {
		from, to = s.From, s.To
	} else if strings.HasPrefix(e.o.From, "whatsapp:") && to != "" && !strings.HasPrefix(to, "whatsapp:") {
		to = "whatsapp:" + to
	}
	st := twilioStatus(r.Status)
	switch r.Status {
	case channel.StatusSent, channel.StatusDelivered, channel.StatusRead, channel.StatusFailed:
	default:
		return nil, fmt.Errorf("twilio: unknown status %q (use sent, delivered, read or failed)", r.Status)
	}
	f := url.Values{"MessageSid": {r.ProviderID}, "SmsSid": {r.ProviderID}, "MessageStatus": {st}, "SmsStatus": {st},
		"AccountSid": {e.o.AccountSID}, "From": {from}, "To": {to}, "ApiVersion": {"2010-04-01"}}
	if strings.HasPrefix(from, "MG") {
		f.Set("MessagingServiceSid", from)
		f.Del("From")
	}
	wa := strings.HasPrefix(to, "whatsapp:")
	if r.Status == channel.StatusFailed {
		code := "30003" // Unreachable destination handset
		if n, err := strconv.Atoi(strings.TrimSpace(r.Reason)); err == nil && n > 0 {
			code = strconv.Itoa(n)
		} else if wa && r.Reason != "" {
			f.Set("ChannelStatusMessage", r.Reason)
		}
		f.Set("ErrorCode", code)
	}
	when := r.Time
	if when.IsZero() {
		when = time.Now()
	}
	if wa {
		f.Set("ChannelPrefix", "whatsapp")
		f.Set("ChannelInstallSid", "XE"+strings.Repeat("0", 32))
		f.Set("ChannelToAddress", strings.TrimPrefix(stripWA(to), "+"))
		if r.Status == channel.StatusRead || r.Status == channel.StatusDelivered {
			f.Set("EventType", strings.ToUpper(string(r.Status)))
		}
	} else if r.Status == channel.StatusDelivered || r.Status == channel.StatusFailed {
		f.Set("RawDlrDoneDate", when.UTC().Format("0601021504"))
	}
	return e.signedPost(target, f, r.BadSignature)
}

// DefaultCustomer is the customer used when a CustomerMessage names none.
const DefaultCustomer = "+60177872890"

// InboundForm is the inbound message webhook form for a customer message
// (docs/provider.md).
func (e *Emulator) InboundForm(in provider.CustomerMessage) (url.Values, error) {
	from := in.From
	if from == "" {
		from = DefaultCustomer
	}
	if !channel.IsE164(from) {
		return nil, fmt.Errorf("twilio: customer %q is not a +E.164 number", from)
	}
	wa := strings.HasPrefix(e.o.From, "whatsapp:")
	to := e.o.From
	if to == "" {
		to = "+15005550006"
	}
	m := in.Message
	prefix := "SM"
	if m.Type == channel.MessageAttachment {
		prefix = "MM"
	}
	sid := in.ID
	if sid == "" {
		sid = prefix + emukit.HexID(16)
	}
	sender := from
	if wa {
		sender = "whatsapp:" + from
	}
	f := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {e.o.AccountSID},
		"From": {sender}, "To": {to}, "Body": {""}, "NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"},
		"ApiVersion": {"2010-04-01"}}
	if wa {
		f.Set("WaId", strings.TrimPrefix(from, "+"))
		if in.Name != "" {
			f.Set("ProfileName", in.Name)
		}
	} else {
		for _, k := range []string{"FromCountry", "FromState", "FromCity", "FromZip", "ToCountry", "ToState", "ToCity", "ToZip"} {
			f.Set(k, "")
		}
	}
	needWA := func(what string) error {
		if !wa {
			return fmt.Errorf("twilio: %s comes only from WhatsApp senders: give the emulator a whatsapp:+E.164 business number", what)
		}
		return nil
	}
	switch in.Native {
	case "":
	case "button":
		if err := needWA("a button tap"); err != nil {
			return nil, err
		}
		if m.Type != channel.MessageText || m.Text == "" {
			return nil, errors.New("twilio: a button tap needs the button's text")
		}
		f.Set("Body", m.Text)
		f.Set("ButtonText", m.Text)
		f.Set("ButtonPayload", m.Text)
		f.Set("MessageType", "button")
		return f, nil
	default:
		return nil, fmt.Errorf("twilio: unknown native type %q (known: button)", in.Native)
	}
	switch m.Type {
	case channel.MessageText:
		if m.Text == "" {
			return nil, errors.New("twilio: a text message needs text")
		}
		f.Set("Body", m.Text)
	case channel.MessageAttachment:
		if m.Attachment == nil || m.Attachment.URL == "" {
			return nil, errors.New("twilio: an attachment needs a URL")
		}
		f.Set("NumMedia", "1")
		f.Set("MediaUrl0", m.Attachment.URL)
		f.Set("MediaContentType0", emukit.AttachmentMIME(m.Attachment))
		f.Set("Body", m.Attachment.Description)
	case channel.MessageLocation:
		if err := needWA("a location"); err != nil {
			return nil, err
		}
		if m.Latitude == nil || m.Longitude == nil {
			return nil, errors.New("twilio: a location needs latitude and longitude")
		}
		f.Set("Latitude", strconv.FormatFloat(*m.Latitude, 'f', -1, 64))
		f.Set("Longitude", strconv.FormatFloat(*m.Longitude, 'f', -1, 64))
		if m.Address != "" {
			f.Set("Address", m.Address)
			f.Set("Label", m.Address)
		}
		f.Set("MessageType", "location")
	default:
		return nil, fmt.Errorf("twilio: a customer cannot send a %s message", m.Type)
	}
	return f, nil
}

// Inbound implements provider.Emulator.
func (e *Emulator) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	if err := emukit.CheckTarget(target); err != nil {
		return nil, err
	}
	f, err := e.InboundForm(in)
	if err != nil {
		return nil, err
	}
	return e.signedPost(target, f, in.BadSignature)
}

// signedPost builds Twilio's webhook request: the form, signed over the full
// URL (query included) and the sorted parameters.
func (e *Emulator) signedPost(target string, f url.Values, bad bool) (*http.Request, error) {
	key := e.o.AuthToken
	if bad {
		key = "not-" + key
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(f.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("X-Twilio-Signature", Signature(key, target, f))
	return req, nil
}
