package emulator

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// guard protects the browser-facing routes (the /_emulator/ API and the
// inbox) from other web pages, since they have no authentication:
//
//   - DNS rebinding: a page on evil.example whose name later resolves to
//     127.0.0.1 is same-origin with us as far as the browser knows, but its
//     requests carry Host: evil.example. Only IP literals (which cannot be
//     rebound), localhost and configured names are served (421 otherwise).
//   - Cross-site request forgery: a page may POST "simple" requests (a form,
//     text/plain) to any address. A state change must come from our own
//     origin (Origin, Sec-Fetch-Site) and carry JSON (403, 415 otherwise).
//
// Clients that are not browsers (curl, `ccx emulate send`) send neither
// Origin nor Sec-Fetch-Site and are unaffected. The webhook is not guarded:
// it takes a Bearer token, which a page can neither know nor send without a
// CORS preflight that is never granted.
func (e *Emulator) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.hostAllowed(r.Host) {
			self := e.url
			if self == "" {
				self = "its IP address or localhost"
			}
			writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("Host %q is not this emulator's address: use %s, or start it with --allow-host for another name", r.Host, self), nil)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, fmt.Sprintf("cross-site request refused (Sec-Fetch-Site: %s): the emulator API only takes changes from its own page or from non-browser clients", site), nil)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("cross-origin request refused (Origin %s): the emulator API only takes changes from its own page or from non-browser clients", o), nil)
			return
		}
		ct := r.Header.Get("Content-Type")
		if ct != "" || r.ContentLength != 0 {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send application/json", ct), nil)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a Host header names this emulator. The port
// is not compared: a port forward (docker -p 8080:4747) changes it, and a
// rebinding page cannot choose an IP literal or localhost as its origin.
func (e *Emulator) hostAllowed(host string) bool {
	if host == "" { // HTTP/1.0 without Host: no browser sends that
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
	if net.ParseIP(h) != nil || h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	for _, a := range e.allowedHosts {
		if h == a {
			return true
		}
	}
	return false
}

// sameOrigin compares an Origin header with the request's own host. The
// scheme is not compared: a TLS-terminating proxy in front turns http into
// https, and the host, already checked, is what tells sites apart.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // "null" (sandboxed frames, file://) included
	}
	return strings.EqualFold(u.Host, host)
}

// hostNames normalises Options.AllowedHosts and adds the host of Addr when
// it is a name (`--host myhost.lan`).
func hostNames(opts Options) []string {
	var out []string
	add := func(h string) {
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		h = strings.ToLower(strings.TrimSuffix(strings.Trim(strings.TrimSpace(h), "[]"), "."))
		if h != "" && net.ParseIP(h) == nil {
			out = append(out, h)
		}
	}
	for _, h := range opts.AllowedHosts {
		add(h)
	}
	if opts.Addr != "" {
		add(opts.Addr)
	}
	return out
}
