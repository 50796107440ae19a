// Package mediacheck looks at an attachment URL the way the platform will
// fetch it: it asks for the headers (HEAD, falling back to a ranged GET),
// within a time and size bound, over http(s) only, and reports what would
// keep the attachment from showing: an unreachable URL, a non-2xx answer,
// Content-Disposition: attachment (a forced download; the Quick Start asks
// for inline), or a Content-Type that does not fit the attachment type.
//
// It is for URLs in the user's own payloads (local dev servers included),
// not the SSRF-guarded path of netguard: it connects where the URL says.
package mediacheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/validate"
)

// Problem is one reason the platform may not show the attachment. Rule is
// one of validate's media-* rule ids (all warnings).
type Problem struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Options bound a Checker.
type Options struct {
	Timeout      time.Duration // per URL, both requests included; 0: 5 s
	MaxRedirects int           // 0: 5
	// Transport, when set, replaces the default one (tests).
	Transport http.RoundTripper
}

// Checker checks URLs and remembers each URL's answer, so a URL repeated in
// a stream is fetched once. Safe for concurrent use.
type Checker struct {
	client  *http.Client
	timeout time.Duration

	mu    sync.Mutex
	cache map[string][]Problem
}

// maxHeaderBytes bounds the answer's headers; maxBody what is read of a
// GET's body (the range asks for one byte; a server may send it all).
const (
	maxHeaderBytes = 64 << 10
	maxBody        = 64 << 10
	maxCache       = 4096
)

var errScheme = errors.New("redirect to a scheme other than http(s)")

// New returns a Checker.
func New(o Options) *Checker {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	tr := o.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: o.Timeout}).DialContext,
			TLSHandshakeTimeout:    o.Timeout,
			ResponseHeaderTimeout:  o.Timeout,
			MaxResponseHeaderBytes: maxHeaderBytes,
			MaxIdleConns:           8,
			IdleConnTimeout:        30 * time.Second,
		}
	}
	max := o.MaxRedirects
	c := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return errScheme
		}
		if len(via) > max {
			return fmt.Errorf("more than %d redirects", max)
		}
		return nil
	}}
	return &Checker{client: c, timeout: o.Timeout, cache: map[string][]Problem{}}
}

// Check fetches raw's headers and returns the problems for an attachment
// of kind (image, video, audio or file; "" skips the type check). A URL
// that is not absolute http(s) gives nothing: the validator's url-invalid
// covers it.
func (c *Checker) Check(ctx context.Context, raw, kind string) []Problem {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	key := kind + " " + raw
	c.mu.Lock()
	ps, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return ps
	}
	ps = c.check(ctx, u, kind)
	if ctx.Err() != nil {
		return ps // not cached: the caller gave up, not the server
	}
	c.mu.Lock()
	if len(c.cache) >= maxCache {
		clear(c.cache)
	}
	c.cache[key] = ps
	c.mu.Unlock()
	return ps
}

func (c *Checker) check(ctx context.Context, u *url.URL, kind string) []Problem {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	shown := u.Redacted()
	resp, err := c.do(ctx, http.MethodHead, u)
	if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		// Servers that refuse HEAD (405, 501) or sign URLs for GET only
		// (403) answer a GET: ask once more, for one byte.
		resp.Body.Close()
		resp, err = c.do(ctx, http.MethodGet, u)
	} else if err != nil && !unreachable(err) {
		resp, err = c.do(ctx, http.MethodGet, u)
	}
	if err != nil {
		return []Problem{{validate.RuleMediaUnreachable, "attachment URL " + shown + " cannot be fetched: " + reason(err) + "; the platform will not be able to show it"}}
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, maxBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return []Problem{{validate.RuleMediaStatus, fmt.Sprintf("attachment URL %s answers %s; the platform needs a 2xx to fetch it", shown, resp.Status)}}
	}
	var ps []Problem
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if d, _, err := mime.ParseMediaType(cd); err == nil && strings.EqualFold(d, "attachment") || err != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(cd)), "attachment") {
			ps = append(ps, Problem{validate.RuleMediaDisposition, "attachment URL " + shown + " is served with Content-Disposition: " + clip(cd) + ", which forces a download; serve it inline (Content-Disposition: inline, or none) so the platform can show it"})
		}
	}
	if why := typeMismatch(resp.Header.Get("Content-Type"), kind); why != "" {
		ps = append(ps, Problem{validate.RuleMediaContentType, "attachment URL " + shown + " " + why})
	}
	return ps
}

func (c *Checker) do(ctx context.Context, method string, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if method == http.MethodGet {
		req.Header.Set("Range", "bytes=0-0")
	}
	req.Header.Set("User-Agent", "ccx-mediacheck")
	return c.client.Do(req)
}

// unreachable reports errors a second request would only repeat: no
// connection, no name, no time left, a refused redirect.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errScheme)
}

func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.Is(err, errScheme):
		return "it redirects to a scheme other than http(s)"
	}
	return err.Error()
}

// typeMismatch says why a Content-Type does not fit the attachment kind
// ("" when it fits, or when there is nothing to judge).
func typeMismatch(ct, kind string) string {
	if ct == "" {
		if kind == "" || kind == "file" {
			return ""
		}
		return "is served without a Content-Type; the platform may not show it as " + article(kind)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "has an unreadable Content-Type " + clip(ct)
	}
	if mt == "text/html" {
		return "is served as text/html: a web page (a login, error or preview page?), not the " + orFile(kind) + " itself"
	}
	switch kind {
	case "image", "video", "audio":
		if !strings.HasPrefix(mt, kind+"/") {
			return "is served as " + mt + ", which does not fit " + article(kind) + " attachment (expected " + kind + "/*)"
		}
	}
	return ""
}

func article(kind string) string {
	if kind == "image" || kind == "audio" {
		return "an " + kind
	}
	return "a " + kind
}

func orFile(kind string) string {
	if kind == "" {
		return "file"
	}
	return kind
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// AddFindings checks every attachment URL of a validated payload (Report.Media,
// filled with Options.Media) and appends the problems as warnings located at
// the URL.
func AddFindings(ctx context.Context, c *Checker, r *validate.Report) {
	n := len(r.Findings)
	for _, m := range r.Media {
		for _, p := range c.Check(ctx, m.URL, m.Kind) {
			r.Findings = append(r.Findings, validate.Finding{Severity: validate.Warning, Rule: p.Rule, Path: m.Path, Line: m.Line, Column: m.Column, Message: p.Message})
		}
	}
	if len(r.Findings) > n && n > 0 {
		slices.SortStableFunc(r.Findings, func(a, b validate.Finding) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
	}
}
