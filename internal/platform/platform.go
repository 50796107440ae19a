// Package platform is the HTTP client for the IS-Messenger Custom Channel
// webhook (spec §2): it POSTs JSON with the channel's Bearer token, reuses
// connections, retries what is worth retrying (network errors, 429, 5xx) with
// jittered exponential backoff that honours Retry-After, never retries other
// 4xx, and paces itself with a client-side rate limiter (the platform allows
// 20 requests/second per channel, §6).
package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/build"
	"github.com/ccx-cli/ccx/internal/verdict"
	"golang.org/x/time/rate"
)

// Defaults.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMaxRetries = 3
	// DefaultBackoff is the first retry's base delay; it doubles per retry.
	DefaultBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps both computed backoff and Retry-After, so a
	// hostile or confused server cannot park the client for an hour.
	DefaultMaxBackoff = 30 * time.Second
	// MaxBody is how much of a response body is kept.
	MaxBody = 1 << 20
	// defaultConns sizes the idle pool when Options.Concurrency is unset.
	defaultConns = 16
)

// Options configure a Client. Zero values pick the documented defaults.
type Options struct {
	WebhookURL string
	Token      string
	Timeout    time.Duration // per attempt; 0 → 10s
	MaxRetries int           // retries after the first attempt; <0 → none; 0 → default 3
	RateLimit  float64       // requests/second; 0 → unlimited (callers pass channel.RateLimitPerSec by default)
	HTTPClient *http.Client  // optional

	// Concurrency is how many requests the caller runs at once; it sizes the
	// idle connection pool so bulk sends reuse connections (0 → 16).
	Concurrency int
	// Backoff and MaxBackoff tune retry delays (0 → 250ms and 30s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// UserAgent overrides "ccx/<version>".
	UserAgent string

	// OnRetry, if set, hears of each retry before its backoff (progress
	// lines: "retrying (2/4) after 429…"). Called from the posting goroutine.
	OnRetry func(Retry)

	// Clock and Sleep replace time.Now and a context-aware sleep (tests: a
	// fake clock makes rate-limit and backoff behaviour exact, not timed).
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client posts webhook bodies. It is safe for concurrent use.
type Client struct {
	onRetry    func(Retry)
	url        string
	header     http.Header
	timeout    time.Duration
	maxRetries int
	backoff    time.Duration
	maxBackoff time.Duration
	limiter    *rate.Limiter
	hc         *http.Client
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
}

// Result is what came back from the platform.
type Result struct {
	Status   int           `json:"status"`
	Body     []byte        `json:"-"`
	Latency  time.Duration `json:"-"` // the final attempt's round trip
	Attempts int           `json:"attempts"`
	// Elapsed covers the whole Post: rate-limit waits, every attempt and backoff.
	Elapsed time.Duration `json:"-"`
	// RetryAfter is the last Retry-After the server asked for (0 if none).
	RetryAfter time.Duration `json:"-"`
	// Retried names why each earlier attempt was retried: "429", "503",
	// "network" (empty when the first attempt decided).
	Retried []string    `json:"-"`
	Header  http.Header `json:"-"`
}

// Retry describes one retry about to happen.
type Retry struct {
	Attempt     int           // the attempt about to be made (2 = first retry)
	MaxAttempts int           // 1 + MaxRetries
	Reason      string        // "429", "503", "network"
	Delay       time.Duration // backoff before it
	Err         error         // the network error, when Reason is "network"
}

// StatusError is a final non-2xx answer.
type StatusError struct {
	Result *Result
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("the platform answered %d %s", e.Result.Status, http.StatusText(e.Result.Status))
	if e.IsHTML() {
		msg += " with an HTML page, not the platform's JSON: is the webhook URL right?"
	}
	if e.Result.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Result.Attempts)
	}
	if b := Snippet(e.Result.Body, 500); b != "" {
		msg += ": " + b
	}
	return msg
}

// IsHTML reports a 2xx that is a web page: not the platform's answer (a
// wrong webhook URL pointing at a site).
func (e *StatusError) IsHTML() bool {
	return e.Result.Status >= 200 && e.Result.Status < 300
}

// IsAuth reports whether the platform rejected the credentials (401/403).
func (e *StatusError) IsAuth() bool {
	return e.Result.Status == http.StatusUnauthorized || e.Result.Status == http.StatusForbidden
}

// NetworkError means no response arrived (after all attempts).
type NetworkError struct {
	Err      error
	Attempts int
	Retried  []string // as Result.Retried
}

func (e *NetworkError) Error() string {
	s := "no response from the webhook: " + e.Err.Error()
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func (e *NetworkError) Unwrap() error { return e.Err }

// New builds a Client.
func New(opts Options) *Client {
	c := &Client{
		url:        opts.WebhookURL,
		timeout:    opts.Timeout,
		maxRetries: opts.MaxRetries,
		backoff:    opts.Backoff,
		maxBackoff: opts.MaxBackoff,
		hc:         opts.HTTPClient,
		now:        opts.Clock,
		sleep:      opts.Sleep,
		onRetry:    opts.OnRetry,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.maxRetries < 0:
		c.maxRetries = 0
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	}
	if c.backoff <= 0 {
		c.backoff = DefaultBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = DefaultMaxBackoff
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if opts.RateLimit > 0 {
		// Burst 1: requests are spaced evenly, never bunched at the start,
		// so a 20/s limit never exceeds 20 in any one-second window.
		c.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), 1)
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: newTransport(opts.Concurrency)}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = defaultUA()
	}
	// Built once and shared read-only by every request: the transport never
	// mutates request headers.
	c.header = http.Header{
		"Authorization": {"Bearer " + opts.Token},
		"Content-Type":  {"application/json"},
		"Cache-Control": {"no-cache"},
		"User-Agent":    {ua},
	}
	return c
}

// NewTransport is the transport New gives a client sized for conns
// concurrent requests (for callers that wrap it: --verbose).
func NewTransport(conns int) *http.Transport { return newTransport(conns) }

func newTransport(conns int) *http.Transport {
	if conns <= 0 {
		conns = defaultConns
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns * 2
	t.MaxIdleConnsPerHost = conns * 2
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = 0 // the per-attempt context covers it
	return t
}

// Post sends body and returns the final result. Result is non-nil whenever a
// response arrived (also with a *StatusError). The final attempt decides the
// outcome: a response (2xx → nil error, else *StatusError) or, when none
// arrived, a *NetworkError. A cancelled ctx returns ctx.Err().
func (c *Client) Post(ctx context.Context, body []byte) (*Result, error) {
	start := c.now()
	var retried []string
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		res, err := c.once(ctx, body)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if res != nil {
			res.Attempts = attempt
			res.Retried = retried
		}
		if attempt <= c.maxRetries && retryable(res, err) {
			reason := "network"
			if res != nil {
				reason = strconv.Itoa(res.Status)
			}
			retried = append(retried, reason)
			d := c.backoffFor(attempt, res)
			if c.onRetry != nil {
				c.onRetry(Retry{Attempt: attempt + 1, MaxAttempts: c.maxRetries + 1, Reason: reason, Delay: d, Err: err})
			}
			if err := c.sleep(ctx, d); err != nil {
				return res, err
			}
			continue
		}
		if res == nil {
			return nil, &NetworkError{Err: err, Attempts: attempt, Retried: retried}
		}
		res.Elapsed = c.now().Sub(start)
		if res.Status < 200 || res.Status > 299 || verdict.IsHTML(res.Header, res.Body) {
			return res, &StatusError{Result: res}
		}
		return res, nil
	}
}

// wait takes one token from the limiter, sleeping through the injected sleep
// so tests can count the delays instead of timing them.
func (c *Client) wait(ctx context.Context) error {
	if c.limiter == nil {
		return nil
	}
	now := c.now()
	r := c.limiter.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			r.CancelAt(c.now())
			return err
		}
	}
	return nil
}

func (c *Client) once(ctx context.Context, body []byte) (*Result, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = c.header
	t0 := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	// Drain a little more so the connection can be reused, then close.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	r := &Result{Status: resp.StatusCode, Body: data, Latency: time.Since(t0), Header: resp.Header}
	r.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	// A body cut short by the network still came with a status, and the
	// status is what decides: keep what was read.
	_ = rerr
	return r, nil
}

func retryable(r *Result, err error) bool {
	if r == nil {
		return err != nil && !errors.Is(err, context.Canceled)
	}
	return r.Status == http.StatusTooManyRequests || r.Status >= 500
}

// backoffFor is the delay before retry number attempt (1-based): the
// server's Retry-After when given, else base·2^(attempt-1) with jitter in
// [d/2, d]; both capped at maxBackoff.
func (c *Client) backoffFor(attempt int, r *Result) time.Duration {
	if r != nil && r.RetryAfter > 0 {
		return min(r.RetryAfter, c.maxBackoff)
	}
	d := c.backoff << (attempt - 1)
	if d <= 0 || d > c.maxBackoff {
		d = c.maxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Snippet renders a response body for an error message: at most max bytes
// (cut on a rune boundary), whitespace collapsed to one line, control
// characters dropped, and a note of how much was cut.
func Snippet(body []byte, max int) string {
	if len(body) == 0 {
		return ""
	}
	cut := body
	if len(cut) > max {
		cut = cut[:max]
		for len(cut) > 0 && !utf8.Valid(cut) {
			cut = cut[:len(cut)-1]
		}
	}
	var b strings.Builder
	space := false
	for _, r := range string(cut) {
		switch {
		case r == ' ' || r == '\n' || r == '\r' || r == '\t':
			space = true
			continue
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	s := b.String()
	if len(body) > len(cut) {
		s += fmt.Sprintf(" … (%d more bytes)", len(body)-len(cut))
	}
	return s
}

// IsTimeout reports whether a network error was a timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

func defaultUA() string { return "ccx/" + build.Version }
