// Package twilio is the relay adapter for Twilio Programmable Messaging: SMS,
// MMS and WhatsApp senders, form-encoded both ways, X-Twilio-Signature
// verification and status callbacks (docs/provider.md).
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// Options configure the adapter.
type Options struct {
	BaseURL             string
	AccountSID          string
	AuthToken           string
	From                string // +E164 or whatsapp:+E164
	MessagingServiceSID string
	// PublicURL is the relay's URL as configured in Twilio (signatures cover
	// it exactly; behind a TLS proxy the relay cannot guess it).
	PublicURL string
	// WebhookPath is where the relay takes this adapter's webhooks, under
	// PublicURL (default /providers/twilio; a relay of many channels puts
	// the channel in it). Status callbacks and signatures use it.
	WebhookPath string
	// NoStatusCallback leaves StatusCallback out of sends (use the Messaging
	// Service's instead).
	NoStatusCallback bool
	Client           *http.Client
	// Media configures the guarded client that fetches inbound media URLs
	// (the API host is trusted; anything else must be a public address).
	Media netguard.Options
}

// Adapter is the Twilio adapter.
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
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.WebhookPath == "" {
		o.WebhookPath = plainPath
	}
	o.WebhookPath = strings.TrimRight(o.WebhookPath, "/")
	mo := o.Media
	mo.Trusted = append(append([]string(nil), mo.Trusted...), netguard.HostPort(o.BaseURL))
	return &Adapter{o: o, media: netguard.New(mo)}
}

// plainPath is where the relay's engine hands the adapter its webhooks.
const plainPath = "/providers/twilio"

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "twilio" }

func (a *Adapter) whatsapp() bool { return strings.HasPrefix(a.o.From, "whatsapp:") }

// Form renders the Messages.json form for a platform message.
func (a *Adapter) Form(req channel.OutgoingRequest) (url.Values, error) {
	m := req.Message
	to := req.ContactID
	if a.whatsapp() {
		to = "whatsapp:" + to
	}
	f := url.Values{"To": {to}}
	if a.o.MessagingServiceSID != "" {
		f.Set("MessagingServiceSid", a.o.MessagingServiceSID)
	} else {
		f.Set("From", a.o.From)
	}
	if !a.o.NoStatusCallback && a.o.PublicURL != "" {
		f.Set("StatusCallback", a.o.PublicURL+a.o.WebhookPath+"/status")
	}
	switch m.Type {
	case channel.MessageAttachment:
		if m.Attachment == nil {
			return nil, provider.Unsupported("twilio", m.Type)
		}
		// MMS / WhatsApp media; the description is the caption.
		f.Set("MediaUrl", m.Attachment.URL)
		if m.Attachment.Description != "" {
			f.Set("Body", m.Attachment.Description)
		}
	case channel.MessageLocation:
		if a.whatsapp() && m.Latitude != nil && m.Longitude != nil {
			geo := "geo:" + strconv.FormatFloat(*m.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(*m.Longitude, 'f', -1, 64)
			if m.Address != "" {
				geo += "|" + m.Address
			}
			f.Set("PersistentAction", geo)
			body := m.Address
			if body == "" {
				body = provider.LocationText(m)
			}
			f.Set("Body", body)
		} else {
			f.Set("Body", provider.LocationText(m))
		}
	default:
		text, ok := provider.PlainText(m)
		if !ok {
			return nil, provider.Unsupported("twilio", m.Type)
		}
		f.Set("Body", text)
	}
	return f, nil
}

// Send implements provider.Adapter.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	form, err := a.Form(req)
	if err != nil {
		return "", err
	}
	u := a.o.BaseURL + "/2010-04-01/Accounts/" + url.PathEscape(a.o.AccountSID) + "/Messages.json"
	hr, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.SetBasicAuth(a.o.AccountSID, a.o.AuthToken)
	status, h, body, err := provider.Do(ctx, a.o.Client, "Twilio", hr)
	if err != nil {
		return "", err
	}
	return ParseSendResponse(status, h, body)
}

// ParseSendResponse reads a Messages.json answer: 201 with sid, or the 2010
// error shape {code, message, more_info, status}.
func ParseSendResponse(status int, h http.Header, body []byte) (string, error) {
	r := gjson.ParseBytes(body)
	if status == http.StatusCreated || status == http.StatusOK {
		sid := r.Get("sid").String()
		if sid == "" {
			return "", &provider.Error{Status: 400, Message: "Twilio: no sid in the response: " + provider.Snip(string(body))}
		}
		if st := r.Get("status").String(); st == "failed" || st == "undelivered" {
			return "", &provider.Error{Status: 400, Message: "Twilio: message " + st + ": " + r.Get("error_message").String()}
		}
		return sid, nil
	}
	detail := r.Get("message").String()
	if c := r.Get("code").Int(); c != 0 {
		detail = strconv.FormatInt(c, 10) + " " + detail
		switch c {
		case 21211, 21614, 21612, 21610, 21608:
			return "", &provider.Error{Status: 400, Message: "Twilio refused the recipient (" + detail + ")"}
		}
	}
	if detail == "" {
		detail = provider.Snip(string(body))
	}
	return "", provider.FromHTTP("Twilio", status, detail, provider.RetryAfterHeader(h))
}

// Signature computes X-Twilio-Signature for a form POST to fullURL.
func Signature(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Valid checks a signature, with and without the default port, because
// Twilio's signer is inconsistent about it.
func Valid(authToken, fullURL string, form url.Values, header string) bool {
	if header == "" {
		return false
	}
	for _, u := range urlVariants(fullURL) {
		if subtle.ConstantTimeCompare([]byte(Signature(authToken, u, form)), []byte(header)) == 1 {
			return true
		}
	}
	return false
}

func urlVariants(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if def == "" {
		return out
	}
	v := *u
	if u.Port() == "" {
		v.Host = u.Host + ":" + def
	} else if u.Port() == def {
		v.Host = u.Hostname()
	} else {
		return out
	}
	return append(out, v.String())
}

// Verify implements provider.Adapter on the public URL of the request.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return provider.ErrBadSignature
	}
	// Twilio signed the URL it was given: WebhookPath, whatever path the
	// engine hands the request on with.
	uri := r.URL.RequestURI()
	if rest, ok := strings.CutPrefix(uri, plainPath); ok {
		uri = a.o.WebhookPath + rest
	}
	full := a.o.PublicURL + uri
	if !Valid(a.o.AuthToken, full, form, r.Header.Get("X-Twilio-Signature")) {
		return provider.ErrBadSignature
	}
	return nil
}

func stripWA(s string) string { return strings.TrimPrefix(s, "whatsapp:") }

// Parse implements provider.Adapter: /providers/twilio/inbound and /status.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, provider.Bad("Twilio webhook: bad form body: %v", err)
	}
	sid := f.Get("MessageSid")
	if sid == "" {
		sid = f.Get("SmsSid")
	}
	if sid == "" {
		return nil, provider.Bad("Twilio webhook without MessageSid")
	}
	if strings.HasSuffix(r.URL.Path, "/status") {
		st := f.Get("MessageStatus")
		if st == "" {
			st = f.Get("SmsStatus")
		}
		v, reason, ok := MapStatus(st, f.Get("ErrorCode"), f.Get("ChannelStatusMessage"))
		if !ok {
			return nil, nil
		}
		s := &channel.Status{Value: v, Message: reason}
		return []provider.Inbound{{Kind: provider.KindStatus, ProviderID: sid, ContactID: stripWA(f.Get("To")), Status: s}}, nil
	}
	from := stripWA(f.Get("From"))
	if from == "" {
		return nil, provider.Bad("Twilio inbound without From")
	}
	in := provider.Inbound{Kind: provider.KindMessage, ProviderID: sid, ContactID: from}
	if name := f.Get("ProfileName"); name != "" {
		in.Contact = &channel.Contact{FirstName: name, Phone: from}
	}
	n, _ := strconv.Atoi(f.Get("NumMedia"))
	if n > 10 {
		n = 10 // MMS carries at most 10
	}
	if n > 0 && f.Get("MediaUrl0") != "" {
		// One platform attachment per media item; the first carries the
		// text as its description and keeps the MessageSid as its id.
		var out []provider.Inbound
		for i := 0; i < n; i++ {
			u := f.Get("MediaUrl" + strconv.Itoa(i))
			if u == "" {
				continue
			}
			mime := f.Get("MediaContentType" + strconv.Itoa(i))
			desc := ""
			it := in
			if i == 0 {
				desc = f.Get("Body")
			} else {
				it.ProviderID = sid + "-" + strconv.Itoa(i)
			}
			m := channel.NewAttachment(channel.KindForMIME(mime), u, mime, "", desc)
			it.Message = &m
			it.MediaRef = u // may need Basic auth: served through /media/
			out = append(out, it)
		}
		return out, nil
	}
	switch {
	case f.Get("Latitude") != "" && f.Get("Longitude") != "":
		lat, err1 := strconv.ParseFloat(f.Get("Latitude"), 64)
		lng, err2 := strconv.ParseFloat(f.Get("Longitude"), 64)
		if err1 != nil || err2 != nil {
			return nil, provider.Bad("Twilio inbound: bad Latitude/Longitude")
		}
		addr := f.Get("Address")
		if addr == "" {
			addr = f.Get("Label")
		}
		m := channel.Location(lat, lng, addr)
		in.Message = &m
	default:
		text := f.Get("Body")
		if text == "" {
			text = f.Get("ButtonText")
		}
		if text == "" {
			return nil, nil // nothing the platform can show
		}
		m := channel.Text(text)
		in.Message = &m
	}
	return []provider.Inbound{in}, nil
}

// MapStatus normalises a Twilio MessageStatus (docs/relay.md).
func MapStatus(st, errorCode, channelMsg string) (channel.StatusValue, string, bool) {
	switch st {
	case "sent":
		return channel.StatusSent, "", true
	case "delivered", "partially_delivered":
		return channel.StatusDelivered, "", true
	case "read":
		return channel.StatusRead, "", true
	case "failed", "undelivered", "canceled":
		reason := "Twilio: " + st
		if errorCode != "" {
			reason += " (error " + errorCode + ")"
		}
		if channelMsg != "" {
			reason += ": " + channelMsg
		}
		return channel.StatusFailed, reason, true
	}
	return "", "", false
}

// Ack implements provider.Acker: empty TwiML, no auto-reply.
func (a *Adapter) Ack(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response/>`))
}

// OpenMedia implements provider.MediaOpener: Twilio media may need Basic auth.
func (a *Adapter) OpenMedia(ctx context.Context, ref string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(ref); err == nil && sameHost(u, a.o.BaseURL) {
		req.SetBasicAuth(a.o.AccountSID, a.o.AuthToken)
	}
	return a.media.Do(req)
}

// sameHost: credentials only ever go to Twilio's own host (or the fake).
func sameHost(u *url.URL, base string) bool {
	b, err := url.Parse(base)
	if err != nil {
		return false
	}
	if u.Host == b.Host {
		return true
	}
	return b.Host == "api.twilio.com" && strings.HasSuffix(u.Host, ".twilio.com")
}
