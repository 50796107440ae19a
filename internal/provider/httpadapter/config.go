// Package httpadapter is the generic relay adapter: a config file of
// templates and JSON paths bridges any provider with a JSON (or form) send
// API and JSON/form webhooks, with no code (docs/relay.md, the http adapter). The config is
// JSON; testdata/relay/clicksend-http.json expresses ClickSend with it.
package httpadapter

import (
	"encoding/json"
	"fmt"
	"os"
)

// Config is the adapter's file.
type Config struct {
	// BaseURL is available to templates as {{.BaseURL}}; the relay's hidden
	// --provider-base-url overrides it (tests point it at a fake).
	BaseURL string      `json:"base_url"`
	Send    SendConfig  `json:"send"`
	Inbound *HookConfig `json:"inbound,omitempty"`
	Status  *HookConfig `json:"status,omitempty"`
}

// SendConfig describes the provider's send call.
type SendConfig struct {
	URL     string            `json:"url"`    // template
	Method  string            `json:"method"` // default POST
	Headers map[string]string `json:"headers"`
	// Encoding of the body: json (default) or form (the template renders a
	// JSON object of strings that is form-encoded).
	Encoding string `json:"encoding"`
	// Bodies per platform message type; "fallback" (or a missing type)
	// renders the text template with the type's text fallback.
	Bodies       map[string]string `json:"bodies"`
	Success      Success           `json:"success"`
	MessageID    string            `json:"message_id"`    // JSON path into the response
	ErrorMessage []string          `json:"error_message"` // JSON paths joined for the 4xx message
	Retry        Retry             `json:"retry"`
}

// Success says when a send worked.
type Success struct {
	Status []int  `json:"status"` // default 200, 201, 202
	Path   string `json:"path"`   // optional predicate: value at path ...
	Equals string `json:"equals"` // ... must equal this
}

// Retry says which answers are worth retrying.
type Retry struct {
	OnStatus       []int  `json:"on_status"` // default 429, 500, 502, 503, 504
	RetryAfterPath string `json:"retry_after_path"`
}

// HookConfig describes one webhook (inbound messages or status callbacks).
type HookConfig struct {
	Path        string            `json:"path"`         // under /providers/http/
	ContentType string            `json:"content_type"` // json | form | query
	Auth        Auth              `json:"auth"`
	EventsPath  string            `json:"events_path"` // array of events in the payload ("" → the payload is one event)
	Map         Map               `json:"map"`
	ContactID   string            `json:"contact_id_transform"` // none | e164_add_plus | strip_prefix:<p>
	StatusMap   map[string]string `json:"status_map"`           // provider value → sent|delivered|read|failed|ignore
	Response    Response          `json:"response"`
}

// Auth is one of a closed set of webhook checks.
type Auth struct {
	Type      string `json:"type"` // none | shared_secret_header | hmac | basic | path_secret
	Header    string `json:"header"`
	Algorithm string `json:"algorithm"` // sha1 | sha256 | sha512
	Encoding  string `json:"encoding"`  // hex | base64
	Prefix    string `json:"prefix"`
	SecretEnv string `json:"secret_env"` // the secret comes from this env variable, never from the file
	UserEnv   string `json:"user_env"`   // basic: user name variable
}

// Map names the fields of an event (paths; for form bodies, keys).
type Map struct {
	ContactID      string    `json:"contact_id"`
	MessageID      string    `json:"message_id"`
	Timestamp      TimeField `json:"timestamp"`
	Text           string    `json:"text"`
	AttachmentURL  string    `json:"attachment_url"`
	AttachmentMIME string    `json:"attachment_mime"`
	Latitude       string    `json:"latitude"`
	Longitude      string    `json:"longitude"`
	Address        string    `json:"address"`
	Status         string    `json:"status"`
	Error          string    `json:"error"`
	FirstName      string    `json:"first_name"`
}

// TimeField is a path and its unit: s, ms or rfc3339.
type TimeField struct {
	Path string `json:"path"`
	Unit string `json:"unit"`
}

// Response is what the provider is answered.
type Response struct {
	Status      int    `json:"status"`
	Body        string `json:"body"`
	ContentType string `json:"content_type"`
}

// Load reads and checks a config file.
func Load(path string) (*Config, error) {
	// A config, never a stream: a FIFO would block the start for ever.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads and checks a config.
func Parse(b []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("http adapter config: %w", err)
	}
	if c.Send.URL == "" || c.Send.MessageID == "" || c.Send.Bodies["text"] == "" {
		return nil, fmt.Errorf("http adapter config: send.url, send.message_id and send.bodies.text are required")
	}
	for _, h := range []*HookConfig{c.Inbound, c.Status} {
		if h == nil {
			continue
		}
		if h.Path == "" || h.Map.MessageID == "" {
			return nil, fmt.Errorf("http adapter config: every webhook needs path and map.message_id")
		}
		switch h.Auth.Type {
		case "", "none", "shared_secret_header", "hmac", "basic", "path_secret":
		default:
			return nil, fmt.Errorf("http adapter config: auth.type %q: use none, shared_secret_header, hmac, basic or path_secret", h.Auth.Type)
		}
		if h.Auth.Type != "" && h.Auth.Type != "none" && h.Auth.SecretEnv == "" {
			return nil, fmt.Errorf("http adapter config: auth.type %s needs secret_env", h.Auth.Type)
		}
	}
	return &c, nil
}
