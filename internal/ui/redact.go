package ui

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Redact shows a secret as its first and last four characters ("abcd…wxyz"),
// or only asterisks when it is too short for that to be safe.
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	if len(secret) < 16 {
		return strings.Repeat("*", 8)
	}
	return secret[:4] + "…" + secret[len(secret)-4:]
}

// RedactIn replaces every occurrence of secret in s with its redacted form,
// also where it appears percent-encoded (a query string, a form body).
func RedactIn(s, secret string) string {
	if secret == "" {
		return s
	}
	r := "" // made at the first match: most strings hold no secret
	e := escapesOf(secret)
	for i, enc := range [3]string{secret, e.query, e.path} {
		if i > 0 && enc == secret || !strings.Contains(s, enc) {
			continue
		}
		if r == "" {
			r = Redact(secret)
		}
		s = strings.ReplaceAll(s, enc, r)
	}
	return s
}

// secretEscapes are a secret's percent-encoded forms. The last secret's are
// kept: RedactIn runs on every field of every call ccx listen logs, nearly
// always with the same secret.
type secretEscapes struct{ secret, query, path string }

var lastEscapes atomic.Pointer[secretEscapes]

func escapesOf(secret string) *secretEscapes {
	if e := lastEscapes.Load(); e != nil && e.secret == secret {
		return e
	}
	e := &secretEscapes{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	lastEscapes.Store(e)
	return e
}

// RedactAll applies RedactIn for each secret.
func RedactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		s = RedactIn(s, sec)
	}
	return s
}

// credentialWords mark a header or query parameter whose value is a
// credential, whoever's it is: it is redacted whether or not it is one of
// the secrets we know.
var credentialWords = []string{"authorization", "token", "secret", "password", "passwd", "apikey", "api-key", "api_key",
	"cookie", "session", "credential", "access-key", "access_key", "private-key", "private_key"}

// IsCredentialHeader reports whether a header (or query parameter) carries a
// credential: Authorization, Proxy-Authorization, X-Forwarded-Authorization,
// Cookie, Set-Cookie, X-Api-Key, X-Auth-Token and anything named like them.
func IsCredentialHeader(name string) bool {
	if m := credentialNames.Load(); m != nil {
		if known, ok := (*m)[name]; ok {
			return known
		}
	}
	v := isCredentialName(name)
	remember(name, v)
	return v
}

// credentialNames caches IsCredentialHeader's verdicts: every call ccx
// listen logs asks about the same few header names. The map is replaced,
// never changed (reads take no lock), and bounded: names come from callers.
var credentialNames atomic.Pointer[map[string]bool]

const maxCredentialNames = 256

func remember(name string, v bool) {
	for {
		old := credentialNames.Load()
		var prev map[string]bool
		if old != nil {
			prev = *old
		}
		if len(prev) >= maxCredentialNames {
			return
		}
		m := make(map[string]bool, len(prev)+1)
		for k, x := range prev {
			m[k] = x
		}
		m[strings.Clone(name)] = v
		if credentialNames.CompareAndSwap(old, &m) {
			return
		}
	}
}

func isCredentialName(name string) bool {
	var buf [64]byte
	if len(name) > len(buf) || !lowerASCII(buf[:len(name)], name) {
		return hasCredentialWord([]byte(strings.ToLower(name)))
	}
	return hasCredentialWord(buf[:len(name)]) // no allocation: this runs on every header of every call
}

// lowerASCII writes the lower case of an ASCII s into dst; false when s is
// not ASCII (strings.ToLower then folds it).
func lowerASCII(dst []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return true
}

func hasCredentialWord(lower []byte) bool {
	for _, w := range credentialWords {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return false
}

// RedactHeader copies h with every credential header's value redacted
// (Authorization keeps its scheme, Cookie and Set-Cookie their cookie names)
// and each secret redacted wherever else it appears.
func RedactHeader(h http.Header, secrets ...string) http.Header {
	out := h.Clone()
	if out == nil {
		return http.Header{}
	}
	for k, vs := range out {
		cred := IsCredentialHeader(k)
		ck := http.CanonicalHeaderKey(k)
		for i, v := range vs {
			switch {
			case ck == "Cookie":
				v = redactCookies(v, "; ")
			case ck == "Set-Cookie":
				name, rest, _ := strings.Cut(v, ";")
				v = redactCookies(name, "") + cutSep(rest)
			case cred && strings.Contains(strings.ToLower(k), "authorization"):
				if scheme, c, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
					v = scheme + " " + Redact(strings.TrimSpace(c))
				} else {
					v = Redact(v)
				}
			case cred:
				v = Redact(v)
			}
			vs[i] = RedactAll(v, secrets...)
		}
	}
	return out
}

// HeaderHasSecrets reports whether RedactHeader would change anything in h:
// a credential header, or a secret in any value. Without one, a copy the
// caller owns needs no redacted copy.
func HeaderHasSecrets(h http.Header, secrets ...string) bool {
	for k, vs := range h {
		if IsCredentialHeader(k) {
			return true
		}
		for _, v := range vs {
			if RedactAll(v, secrets...) != v {
				return true
			}
		}
	}
	return false
}

func cutSep(rest string) string {
	if rest == "" {
		return ""
	}
	return ";" + rest
}

// redactCookies keeps the names of "a=1; b=2" and redacts the values.
func redactCookies(v, sep string) string {
	parts := []string{v}
	if sep != "" {
		parts = strings.Split(v, ";")
	}
	for i, p := range parts {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			parts[i] = name + "=" + Redact(val)
		} else {
			parts[i] = Redact(strings.TrimSpace(p))
		}
	}
	return strings.Join(parts, "; ")
}

// RedactURI redacts the secrets in a request URI (path and query) and the
// values of credential-named query parameters (?access_token=, ?api_key=),
// leaving the rest byte for byte.
func RedactURI(uri string, secrets ...string) string {
	path, query, ok := strings.Cut(uri, "?")
	if ok {
		pairs := strings.Split(query, "&")
		for i, p := range pairs {
			k, v, hasV := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasV && v != "" && IsCredentialHeader(name) {
				pairs[i] = k + "=" + url.QueryEscape(Redact(unescapeOr(v)))
			}
		}
		uri = path + "?" + strings.Join(pairs, "&")
	}
	return RedactAll(uri, secrets...)
}

func unescapeOr(v string) string {
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// Redactable keeps the secrets long enough to look for in text (shorter
// ones would redact ordinary words).
func Redactable(ss []string) []string {
	var out []string
	for _, s := range ss {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}
