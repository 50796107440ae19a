package emulators

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
)

// What `ccx provider serve|send` share: the --provider, --credentials and
// address checks, and the secrets never to print.

// LookupFlag is Lookup for a --provider flag: unknown names are usage errors.
func LookupFlag(name string) (Info, error) {
	info, err := Lookup(name)
	if err != nil {
		return info, fault.Usagef("--provider: %v", err)
	}
	return info, nil
}

// ReadCredentials reads info's credentials: env, then the --credentials file.
func ReadCredentials(ctx context.Context, info Info, path string, getenv func(string) string) (map[string]string, error) {
	c, err := config.LoadCredentials(ctx, path, getenv)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fault.New(fault.Interrupted, errors.New("interrupted"))
		}
		return nil, fault.New(fault.IO, fmt.Errorf("--credentials: %v", err))
	}
	out := map[string]string{}
	for _, k := range info.Credentials {
		if v := c.Get(k); v != "" {
			out[k] = v
		}
	}
	return out, nil
}

// SecretValues are the credential values never to print.
func SecretValues(info Info, creds map[string]string) []string {
	var out []string
	for k, v := range creds {
		if info.Secret[k] && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// CheckAddress checks a phone-like flag value (--business-number) of info.
func CheckAddress(info Info, flag, v string) error {
	if v == "" || info.Name == "telegram" || info.Name == "zalo" { // a chat id, an OA id
		return nil
	}
	bare := v
	if info.Name == "twilio" {
		bare = strings.TrimPrefix(v, "whatsapp:")
	}
	if !strings.HasPrefix(bare, "+") || len(bare) < 8 {
		return fault.Usagef("invalid %s %q: use +E.164 (e.g. +15005550006)%s", flag, v, map[bool]string{true: " or whatsapp:+E.164"}[info.Name == "twilio"])
	}
	return nil
}

// CheckWebhookType checks a ClickSend --webhook-type.
func CheckWebhookType(info Info, t string) error {
	switch {
	case t != "" && t != "post" && t != "json" && t != "get":
		return fault.Usagef("invalid --webhook-type %q: use post, json or get", t)
	case t != "" && info.Name != "clicksend":
		return fault.Usagef("--webhook-type is a ClickSend setting")
	}
	return nil
}

// CheckURL checks an absolute http(s) URL flag ({secret} stands for a path secret).
func CheckURL(flag, s string) error {
	s = strings.ReplaceAll(s, "{secret}", "x")
	req, err := http.NewRequest(http.MethodPost, s, nil)
	if err == nil && ((req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "") {
		err = fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if err != nil {
		return fault.Usagef("invalid %s: %v", flag, err)
	}
	return nil
}
