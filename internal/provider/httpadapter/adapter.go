package httpadapter

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/tidwall/gjson"
)

// Adapter is the generic adapter.
type Adapter struct {
	c       *Config
	getenv  func(string) string
	url     *template.Template
	headers map[string]*template.Template
	bodies  map[string]*template.Template
	Client  *http.Client
}

// Data is what send templates see.
type Data struct {
	BaseURL   string
	ChannelID string
	ContactID string
	Message   channel.Message
	Text      string // the text rendering of any message (fallbacks)
	IsImage   bool
}

// New compiles a config; getenv resolves {{env}} and secret_env (nil → os.Getenv).
func New(c *Config, getenv func(string) string) (*Adapter, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	a := &Adapter{c: c, getenv: getenv, headers: map[string]*template.Template{}, bodies: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"env": getenv,
		"basic": func(u, p string) string {
			return base64.StdEncoding.EncodeToString([]byte(u + ":" + p))
		},
	}
	var err error
	if a.url, err = template.New("url").Funcs(funcs).Option("missingkey=error").Parse(c.Send.URL); err != nil {
		return nil, fmt.Errorf("send.url: %w", err)
	}
	for k, v := range c.Send.Headers {
		if a.headers[k], err = template.New(k).Funcs(funcs).Parse(v); err != nil {
			return nil, fmt.Errorf("send.headers.%s: %w", k, err)
		}
	}
	for k, v := range c.Send.Bodies {
		if v == "fallback" {
			continue
		}
		if a.bodies[k], err = template.New(k).Funcs(funcs).Parse(v); err != nil {
			return nil, fmt.Errorf("send.bodies.%s: %w", k, err)
		}
	}
	// Render every body with a sample message now, so a broken template
	// fails at start-up rather than on the first real message.
	lat, lng := 3.139, 101.6869
	samples := []channel.Message{channel.Text("sample"), channel.NewAttachment(channel.AttachmentImage, "https://example.com/a.jpg", "image/jpeg", "a.jpg", "a"),
		{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"}, channel.QuickReply("Q?", "A", "B")}
	for _, m := range samples {
		if _, _, err := a.Render(channel.OutgoingRequest{ChannelID: "c", ContactID: "+60177872890", Message: m}); err != nil {
			return nil, fmt.Errorf("send template for %s: %w", m.Type, err)
		}
	}
	return a, nil
}

// SetBaseURL overrides the config's base_url.
func (a *Adapter) SetBaseURL(u string) { a.c.BaseURL = strings.TrimRight(u, "/") }

// Name implements provider.Adapter.
func (a *Adapter) Name() string { return "http" }

// Render produces the send URL and body for a message.
func (a *Adapter) Render(req channel.OutgoingRequest) (string, []byte, error) {
	m := req.Message
	text, _ := provider.PlainText(m)
	d := Data{BaseURL: a.c.BaseURL, ChannelID: req.ChannelID, ContactID: req.ContactID, Message: m, Text: text,
		IsImage: m.Attachment != nil && m.Attachment.Type == channel.AttachmentImage}
	t := a.bodies[string(m.Type)]
	if t == nil {
		if text == "" && m.Type != channel.MessageText {
			return "", nil, provider.Unsupported("http", m.Type)
		}
		t = a.bodies["text"]
		d.Message = channel.Text(text)
	}
	var u, b bytes.Buffer
	if err := a.url.Execute(&u, d); err != nil {
		return "", nil, err
	}
	if err := t.Execute(&b, d); err != nil {
		return "", nil, err
	}
	body := bytes.TrimSpace(b.Bytes())
	if !json.Valid(body) {
		return "", nil, fmt.Errorf("rendered body is not valid JSON: %s", provider.Snip(string(body)))
	}
	if a.c.Send.Encoding == "form" {
		var kv map[string]any
		if err := json.Unmarshal(body, &kv); err != nil {
			return "", nil, fmt.Errorf("form encoding needs a JSON object: %w", err)
		}
		f := url.Values{}
		for k, v := range kv {
			f.Set(k, fmt.Sprint(v))
		}
		body = []byte(f.Encode())
	}
	return u.String(), body, nil
}

// Send implements provider.Adapter.
func (a *Adapter) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	u, body, err := a.Render(req)
	if err != nil {
		var pe *provider.Error
		if ok := asProvider(err, &pe); ok {
			return "", pe
		}
		return "", &provider.Error{Status: 400, Message: "http adapter: " + err.Error()}
	}
	method := a.c.Send.Method
	if method == "" {
		method = http.MethodPost
	}
	hr, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return "", &provider.Error{Status: 400, Message: "http adapter: " + err.Error()}
	}
	if a.c.Send.Encoding == "form" {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		hr.Header.Set("Content-Type", "application/json")
	}
	keys := make([]string, 0, len(a.headers))
	for k := range a.headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v bytes.Buffer
		_ = a.headers[k].Execute(&v, nil)
		hr.Header.Set(k, v.String())
	}
	status, h, rb, err := provider.Do(ctx, a.Client, "provider", hr)
	if err != nil {
		return "", err
	}
	return a.parseResponse(status, h, rb)
}

func asProvider(err error, pe **provider.Error) bool {
	e, ok := err.(*provider.Error)
	if ok {
		*pe = e
	}
	return ok
}

func (a *Adapter) parseResponse(status int, h http.Header, body []byte) (string, error) {
	s := a.c.Send
	okStatus := s.Success.Status
	if len(okStatus) == 0 {
		okStatus = []int{200, 201, 202}
	}
	r := gjson.ParseBytes(body)
	detail := func() string {
		var parts []string
		for _, p := range s.ErrorMessage {
			if v := r.Get(p).String(); v != "" {
				parts = append(parts, v)
			}
		}
		if len(parts) == 0 {
			return provider.Snip(string(body))
		}
		return strings.Join(parts, " ")
	}
	if !contains(okStatus, status) {
		retry := s.Retry.OnStatus
		if len(retry) == 0 {
			retry = []int{429, 500, 502, 503, 504}
		}
		ra := provider.RetryAfterHeader(h)
		if s.Retry.RetryAfterPath != "" {
			if n := r.Get(s.Retry.RetryAfterPath).Int(); n > 0 {
				ra = time.Duration(n) * time.Second
			}
		}
		e := provider.FromHTTP("provider", status, detail(), ra)
		e.Retryable = contains(retry, status)
		return "", e
	}
	if s.Success.Path != "" {
		if v := r.Get(s.Success.Path).String(); v != s.Success.Equals {
			return "", &provider.Error{Status: 400, Message: "provider did not accept the message: " + v}
		}
	}
	id := r.Get(s.MessageID).String()
	if id == "" {
		return "", &provider.Error{Status: 400, Message: "provider response has no " + s.MessageID}
	}
	return id, nil
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// hook picks the webhook config for a request path.
func (a *Adapter) hook(r *http.Request) (*HookConfig, bool) {
	rest := strings.TrimPrefix(r.URL.Path, "/providers/http/")
	seg, _, _ := strings.Cut(rest, "/")
	if a.c.Inbound != nil && seg == strings.Trim(a.c.Inbound.Path, "/") {
		return a.c.Inbound, false
	}
	if a.c.Status != nil && seg == strings.Trim(a.c.Status.Path, "/") {
		return a.c.Status, true
	}
	return nil, false
}

// Unverified implements provider.Unverified: hooks whose auth is none.
func (a *Adapter) Unverified() []string {
	var out []string
	for _, h := range []*HookConfig{a.c.Inbound, a.c.Status} {
		if h != nil && unchecked(h) {
			out = append(out, fmt.Sprintf("webhook /providers/http/%s has auth.type none", strings.Trim(h.Path, "/")))
		}
	}
	return out
}

// UnverifiedRequest implements provider.Unverified.
func (a *Adapter) UnverifiedRequest(r *http.Request) bool {
	h, _ := a.hook(r)
	return h != nil && unchecked(h)
}

func unchecked(h *HookConfig) bool { return h.Auth.Type == "" || h.Auth.Type == "none" }

// Verify implements provider.Adapter with the hook's auth.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	h, _ := a.hook(r)
	if h == nil {
		return provider.ErrBadSignature
	}
	au := h.Auth
	secret := a.getenv(au.SecretEnv)
	eq := func(x, y string) bool { return subtle.ConstantTimeCompare([]byte(x), []byte(y)) == 1 }
	switch au.Type {
	case "", "none":
		return nil
	case "shared_secret_header":
		if secret != "" && eq(r.Header.Get(au.Header), secret) {
			return nil
		}
	case "path_secret":
		seg := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if secret != "" && eq(seg, secret) {
			return nil
		}
	case "basic":
		u, p, ok := r.BasicAuth()
		if ok && secret != "" && eq(u, a.getenv(au.UserEnv)) && eq(p, secret) {
			return nil
		}
	case "hmac":
		var nh func() hash.Hash
		switch au.Algorithm {
		case "sha1":
			nh = sha1.New
		case "sha512":
			nh = sha512.New
		default:
			nh = sha256.New
		}
		m := hmac.New(nh, []byte(secret))
		m.Write(body)
		var want string
		if au.Encoding == "base64" {
			want = base64.StdEncoding.EncodeToString(m.Sum(nil))
		} else {
			want = hex.EncodeToString(m.Sum(nil))
		}
		if secret != "" && eq(r.Header.Get(au.Header), au.Prefix+want) {
			return nil
		}
	}
	return provider.ErrBadSignature
}

// Parse implements provider.Adapter.
func (a *Adapter) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	h, isStatus := a.hook(r)
	if h == nil {
		return nil, provider.Bad("no webhook configured at %s", r.URL.Path)
	}
	var events []func(string) string
	switch h.ContentType {
	case "form", "query":
		vals := r.URL.Query()
		if h.ContentType == "form" {
			v, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, provider.Bad("bad form body: %v", err)
			}
			vals = v
		}
		events = append(events, vals.Get)
	default:
		if !gjson.ValidBytes(body) {
			return nil, provider.Bad("webhook body is not JSON")
		}
		root := gjson.ParseBytes(body)
		list := []gjson.Result{root}
		if h.EventsPath != "" {
			list = root.Get(h.EventsPath).Array()
		}
		for _, ev := range list {
			ev := ev
			events = append(events, func(p string) string {
				if p == "" {
					return ""
				}
				return ev.Get(p).String()
			})
		}
	}
	var out []provider.Inbound
	for _, get := range events {
		g := func(p string) string {
			if p == "" {
				return ""
			}
			return get(p)
		}
		id := g(h.Map.MessageID)
		if id == "" {
			return nil, provider.Bad("webhook event without %s", h.Map.MessageID)
		}
		in := provider.Inbound{ProviderID: id, ContactID: transform(h.ContactID, g(h.Map.ContactID)), Timestamp: timestamp(g(h.Map.Timestamp.Path), h.Map.Timestamp.Unit)}
		if isStatus {
			v := h.StatusMap[g(h.Map.Status)]
			if v == "" || v == "ignore" {
				continue
			}
			st := &channel.Status{Value: channel.StatusValue(v)}
			if st.Value == channel.StatusFailed {
				st.Message = g(h.Map.Error)
			}
			in.Kind, in.Status = provider.KindStatus, st
			out = append(out, in)
			continue
		}
		in.Kind = provider.KindMessage
		if in.ContactID == "" {
			return nil, provider.Bad("webhook event without %s", h.Map.ContactID)
		}
		if n := g(h.Map.FirstName); n != "" {
			in.Contact = &channel.Contact{FirstName: n}
		}
		switch {
		case g(h.Map.AttachmentURL) != "":
			mime := g(h.Map.AttachmentMIME)
			m := channel.NewAttachment(channel.KindForMIME(mime), g(h.Map.AttachmentURL), mime, "", g(h.Map.Text))
			in.Message = &m
		case g(h.Map.Latitude) != "" && g(h.Map.Longitude) != "":
			lat, err1 := strconv.ParseFloat(g(h.Map.Latitude), 64)
			lng, err2 := strconv.ParseFloat(g(h.Map.Longitude), 64)
			if err1 != nil || err2 != nil {
				return nil, provider.Bad("bad latitude/longitude")
			}
			m := channel.Location(lat, lng, g(h.Map.Address))
			in.Message = &m
		default:
			m := channel.Text(g(h.Map.Text))
			in.Message = &m
		}
		out = append(out, in)
	}
	return out, nil
}

func transform(t, v string) string {
	switch {
	case v == "":
		return ""
	case t == "e164_add_plus" && !strings.HasPrefix(v, "+"):
		return "+" + v
	case strings.HasPrefix(t, "strip_prefix:"):
		return strings.TrimPrefix(v, strings.TrimPrefix(t, "strip_prefix:"))
	}
	return v
}

func timestamp(v, unit string) int64 {
	if v == "" {
		return 0
	}
	if unit == "rfc3339" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0
		}
		return t.UnixMilli()
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n <= 0 {
		return 0
	}
	if unit == "ms" {
		return int64(n)
	}
	return int64(n * 1000)
}

// Responder lets the engine answer each hook as configured.
func (a *Adapter) Respond(w http.ResponseWriter, r *http.Request) bool {
	h, _ := a.hook(r)
	if h == nil || (h.Response.Status == 0 && h.Response.Body == "") {
		return false
	}
	if h.Response.ContentType != "" {
		w.Header().Set("Content-Type", h.Response.ContentType)
	}
	st := h.Response.Status
	if st == 0 {
		st = 200
	}
	w.WriteHeader(st)
	_, _ = w.Write([]byte(h.Response.Body))
	return true
}
