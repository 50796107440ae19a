// Package deliver acts as a provider towards an integration server
// (`ccx provider send`): it posts the webhook an Emulator built — a
// customer message or a status callback — and judges the server's answer
// the way that provider would read it.
package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// DefaultTimeout bounds one post: a server that hangs is a failure.
const DefaultTimeout = 10 * time.Second

// Verdicts are the words every ccx network command uses (internal/verdict):
// ok (2xx: delivered), auth (401/403: the signature or secret refused),
// refused, no-route, rate-limited, server-error (the provider would retry or
// drop it), wrong-reply (an answer the provider cannot use, a web page, or a
// bad signature accepted), timeout and network (no HTTP answer).

// Finding is one remark about an answer.
type Finding struct {
	Severity string `json:"severity"` // error | warning
	Message  string `json:"message"`
}

// Attempt is one post and its judgement.
type Attempt struct {
	N         int             `json:"attempt"`
	Method    string          `json:"method"`
	URL       string          `json:"url"` // secrets redacted
	Status    int             `json:"status,omitempty"`
	Body      string          `json:"body,omitempty"` // the answer, cut at 2 KiB
	LatencyMS float64         `json:"latencyMs"`
	Verdict   verdict.Verdict `json:"verdict"`
	Findings  []Finding       `json:"findings"`
	Error     string          `json:"error,omitempty"`
}

// Options say where and how to post.
type Options struct {
	Target  string
	Timeout time.Duration // per post; 0 → DefaultTimeout
	Repeat  int           // posts of the same webhook (provider retries); < 1 → 1
	// BadSignature tells the judge that accepting is wrong.
	BadSignature bool
	// Secrets are redacted from URLs and bodies in the attempts.
	Secrets []string
	Client  *http.Client
}

// Build is what posting needs from an emulator: a fresh copy of the same
// request for each attempt.
type Build func() (*http.Request, error)

// Post sends the webhook Repeat times and judges each answer. The error is
// for a webhook that could not be built (bad input, not the server's fault).
func Post(ctx context.Context, provName string, o Options, build Build) ([]Attempt, error) {
	req, err := build()
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	n := o.Repeat
	if n < 1 {
		n = 1
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := o.Client
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	var out []Attempt
	for i := 1; i <= n; i++ {
		a := Attempt{N: i, Method: req.Method, URL: redact(req.URL.String(), o.Secrets), Findings: []Finding{}}
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		actx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		resp, err := c.Do(r.WithContext(actx))
		if err != nil {
			cancel()
			a.LatencyMS = ms(time.Since(start))
			a.Error = describe(err, timeout, o.Secrets)
			a.Verdict = verdict.Network
			if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
				a.Verdict = verdict.Timeout
			}
			out = append(out, a)
			if ctx.Err() != nil {
				return out, nil
			}
			continue
		}
		rb, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		a.LatencyMS = ms(time.Since(start))
		a.Status = resp.StatusCode
		a.Body = redact(snip(rb), o.Secrets)
		a.Verdict, a.Findings = Judge(provName, o.BadSignature, resp.StatusCode, resp.Header, rb)
		if f, ok := judgeHandshake(req, resp.StatusCode, rb); ok && a.Verdict == verdict.OK && !o.BadSignature {
			a.Verdict, a.Findings = verdict.WrongReply, append(a.Findings, f)
		}
		if rerr != nil {
			a.Findings = append(a.Findings, Finding{"warning", "the answer's body broke off: " + rerr.Error()})
		}
		out = append(out, a)
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func snip(b []byte) string {
	const max = 2048
	s := strings.ToValidUTF8(string(b), "�")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "<secret>")
			s = strings.ReplaceAll(s, url.PathEscape(sec), "<secret>")
		}
	}
	return s
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// describe names a transport failure without repeating a URL that may hold
// a secret.
func describe(err error, timeout time.Duration, secrets []string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %v (--timeout)", timeout)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	msg := err.Error()
	if strings.Contains(msg, "malformed HTTP") || strings.Contains(msg, "HTTP/1.x transport connection broken") {
		return "the server's answer is not HTTP: " + msg
	}
	return redact(msg, secrets)
}

// judgeHandshake: Meta's webhook verification GET wants hub.challenge back
// as the plain body, or it does not save the callback URL.
func judgeHandshake(req *http.Request, status int, body []byte) (Finding, bool) {
	ch := req.URL.Query().Get("hub.challenge")
	if req.Method != http.MethodGet || ch == "" || status < 200 || status > 299 || strings.TrimSpace(string(body)) == ch {
		return Finding{}, false
	}
	return Finding{"error", fmt.Sprintf("the verification answer is %q: Meta wants the hub.challenge value %q as the plain body", snip(body), ch)}, true
}

// Judge reads an answer as the provider would.
func Judge(provName string, badSignature bool, status int, h http.Header, body []byte) (verdict.Verdict, []Finding) {
	fs := []Finding{}
	switch {
	case status >= 200 && status < 300:
		if badSignature {
			return verdict.WrongReply, append(fs, Finding{"error", fmt.Sprintf("the server accepted (%d) a badly signed webhook: it must verify the signature and answer 401 or 403", status)})
		}
		if verdict.IsHTML(h, body) {
			return verdict.WrongReply, append(fs, Finding{"error", fmt.Sprintf("a web page (%d), not a webhook handler's answer: the provider counts it delivered and the message is lost; is the URL your server's webhook route?", status)})
		}
		return verdict.OK, append(fs, answerFindings(provName, h, body)...)
	case status == 401 || status == 403:
		if !badSignature {
			fs = append(fs, Finding{"error", fmt.Sprintf("the server refused (%d) a correctly signed webhook: check the secret, and for Twilio the exact public URL it signs", status)})
		}
		return verdict.Auth, fs
	case status >= 300 && status < 400:
		return verdict.WrongReply, append(fs, Finding{"error", fmt.Sprintf("a redirect (%d): providers do not follow redirects for webhooks; use the final URL", status)})
	case status >= 400 && status < 500:
		return verdict.OfStatus(status, h, body), append(fs, Finding{"error", fmt.Sprintf("the server refused the webhook (%d); %s", status, retryNote(provName, status))})
	case status >= 500:
		return verdict.ServerError, append(fs, Finding{"error", fmt.Sprintf("the server failed (%d); %s", status, retryNote(provName, status))})
	}
	return verdict.WrongReply, append(fs, Finding{"error", fmt.Sprintf("status %d is not a final HTTP answer", status)})
}

func retryNote(provName string, status int) string {
	switch provName {
	case "telegram":
		return "Telegram retries the update until a 2xx"
	case "twilio":
		return "by default Twilio does not retry incoming-message webhooks: the message is lost (Twilio debugger error 11200)"
	case "gupshup":
		return "Gupshup retries a callback that is not answered 2xx within 10 s, after a brief interval"
	case "zalo":
		return "Zalo redelivers an event not answered 200 within about 2 s (header num_retry) and disables a webhook that keeps failing"
	case "whatsapp":
		return "Meta retries a failed webhook with decreasing frequency for up to 7 days"
	}
	return "the provider may retry it or drop it"
}

// answerFindings: a 2xx whose body the provider would act on.
func answerFindings(provName string, h http.Header, body []byte) []Finding {
	b := strings.TrimSpace(string(body))
	ct := strings.ToLower(h.Get("Content-Type"))
	var fs []Finding
	switch provName {
	case "twilio":
		switch {
		case b == "":
		case strings.Contains(b, "<Response"):
			if strings.Contains(b, "<Message") {
				fs = append(fs, Finding{"warning", "the TwiML answer has <Message>: Twilio sends it to the customer as an auto-reply"})
			}
			if !strings.Contains(ct, "xml") {
				fs = append(fs, Finding{"warning", "TwiML served as " + ct + ": use Content-Type text/xml"})
			}
		default:
			fs = append(fs, Finding{"warning", "the answer is not TwiML (Twilio logs warning 12300): answer an empty body or <Response/> as text/xml"})
		}
	case "telegram":
		if strings.Contains(b, `"method"`) && strings.HasPrefix(b, "{") {
			fs = append(fs, Finding{"warning", "the answer is a Bot API method call: Telegram executes it (a reply nobody asked for)"})
		}
	}
	return fs
}

// Inbound posts e's webhook for a customer message.
func Inbound(ctx context.Context, e provider.Emulator, o Options, in provider.CustomerMessage) ([]Attempt, error) {
	o.BadSignature = in.BadSignature
	return Post(ctx, e.Name(), o, func() (*http.Request, error) { return e.Inbound(o.Target, in) })
}

// Receipt posts e's status callback for a sent message.
func Receipt(ctx context.Context, e provider.Emulator, o Options, r provider.ReceiptSpec) ([]Attempt, error) {
	o.BadSignature = r.BadSignature
	return Post(ctx, e.Name(), o, func() (*http.Request, error) { return e.Receipt(o.Target, r) })
}
