// Package transport builds the HTTP client of every command that calls a
// server on the user's say-so (trigger, check, replay, listen --forward-to,
// send): extra headers, a CA file or no verification, and --verbose's
// request/response heads on stderr with credentials redacted.
package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Options are the transport flags.
type Options struct {
	Headers  []string // --header "Name: value" (repeatable)
	Insecure bool     // --insecure: do not verify the server's certificate
	CACert   string   // --cacert FILE: PEM certificates trusted besides the system's
	// Verbose, if set, receives each request's and response's head.
	Verbose io.Writer
	// Secrets are redacted wherever Verbose shows them (tokens in URLs,
	// headers the name does not mark as credentials).
	Secrets []string
	// Warn receives --insecure's warning (stderr).
	Warn io.Writer
	// Base is the transport to build on; nil → a clone of
	// http.DefaultTransport.
	Base *http.Transport
}

// Set reports whether any transport flag is given (a command may then keep
// its own default client).
func (o Options) Set() bool {
	return len(o.Headers) > 0 || o.Insecure || o.CACert != "" || o.Verbose != nil
}

// ParseHeaders turns "Name: value" strings into a header; a malformed one is
// a usage error.
func ParseHeaders(hs []string) (http.Header, error) {
	h := http.Header{}
	for _, s := range hs {
		k, v, ok := strings.Cut(s, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, fault.New(fault.Usage, fmt.Errorf("--header %q: want NAME:VALUE (e.g. --header 'X-Env: staging')", s))
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(k), strings.TrimSpace(v))
	}
	return h, nil
}

// Client builds the client. Its errors are tagged: a bad --header or a
// --cacert file without certificates is a usage error, an unreadable one I/O.
func (o Options) Client() (*http.Client, error) {
	rt, err := o.RoundTripper()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// RoundTripper is Client's transport, for callers that set up their own
// http.Client.
func (o Options) RoundTripper() (http.RoundTripper, error) {
	extra, err := ParseHeaders(o.Headers)
	if err != nil {
		return nil, err
	}
	t := o.Base
	if t == nil {
		t = http.DefaultTransport.(*http.Transport).Clone()
	} else {
		t = t.Clone()
	}
	if o.CACert != "" || o.Insecure {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		}
		if o.CACert != "" {
			pool, err := loadCAs(o.CACert)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = pool
		}
		if o.Insecure {
			cfg.InsecureSkipVerify = true // the user asked: --insecure
			if o.Warn != nil {
				fmt.Fprintln(o.Warn, "warning: --insecure: the server's TLS certificate is not verified; anyone on the path can read and change the calls")
			}
		}
		t.TLSClientConfig = cfg
	}
	return &roundTripper{base: t, extra: extra, verbose: o.Verbose, secrets: o.Secrets, cacert: o.CACert != ""}, nil
}

// loadCAs is the system pool plus the PEM certificates in path.
func loadCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.New(fault.IO, fmt.Errorf("--cacert: %w", err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fault.New(fault.Usage, fmt.Errorf("--cacert %s: no PEM certificate in the file", path))
	}
	return pool, nil
}

type roundTripper struct {
	base    http.RoundTripper
	extra   http.Header
	verbose io.Writer
	secrets []string
	cacert  bool
	mu      sync.Mutex // one head at a time on Verbose
	seq     atomic.Int64
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(rt.extra) > 0 {
		req = req.Clone(req.Context())
		for k, vs := range rt.extra {
			req.Header[k] = vs
		}
	}
	n := rt.seq.Add(1)
	if rt.verbose != nil {
		rt.show(rt.requestHead(n, req))
	}
	start := time.Now()
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		err = rt.explain(err)
		if rt.verbose != nil {
			rt.show(fmt.Sprintf("< #%d %s after %s\n", n, ui.RedactAll(err.Error(), rt.secrets...), time.Since(start).Round(time.Millisecond)))
		}
		return nil, err
	}
	if rt.verbose != nil {
		rt.show(rt.responseHead(n, resp, time.Since(start)))
	}
	return resp, nil
}

// explain adds the remedy to a certificate the client does not trust.
func (rt *roundTripper) explain(err error) error {
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &hn):
		return fmt.Errorf("%w (the certificate is for another host name; --insecure skips the check)", err)
	case errors.As(err, &ua), errors.As(err, &cv):
		remedy := "pass --cacert FILE with the CA that signed it, or --insecure to skip the check"
		if rt.cacert {
			remedy = "it is not signed by the --cacert CA either; check the file, or pass --insecure to skip the check"
		}
		return fmt.Errorf("the server's TLS certificate is not trusted: %w (%s)", err, remedy)
	}
	return err
}

func (rt *roundTripper) show(s string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	_, _ = io.WriteString(rt.verbose, s)
}

func (rt *roundTripper) requestHead(n int64, req *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "> #%d %s %s\n", n, req.Method, ui.RedactAll(req.URL.String(), rt.secrets...))
	rt.writeHeader(&b, "> ", req.Header)
	if req.ContentLength > 0 {
		fmt.Fprintf(&b, "> (body %d bytes)\n", req.ContentLength)
	}
	return b.String()
}

func (rt *roundTripper) responseHead(n int64, resp *http.Response, d time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "< #%d %s %s in %s\n", n, resp.Proto, resp.Status, d.Round(time.Millisecond))
	rt.writeHeader(&b, "< ", resp.Header)
	return b.String()
}

// writeHeader writes h sorted, credential headers redacted whoever's they are.
func (rt *roundTripper) writeHeader(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if ui.IsCredentialHeader(k) {
				v = redactCredential(v)
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, ui.RedactAll(v, rt.secrets...))
		}
	}
}

// redactCredential keeps a scheme ("Bearer") and redacts what follows.
func redactCredential(v string) string {
	if scheme, cred, ok := strings.Cut(v, " "); ok && !strings.ContainsAny(scheme, "=;") {
		return scheme + " " + ui.Redact(strings.TrimSpace(cred))
	}
	return ui.Redact(v)
}
