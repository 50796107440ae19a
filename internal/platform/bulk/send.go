// Package bulk sends built webhook bodies through a platform.Client and
// reports them: one request, a bulk run (NDJSON results, summary, progress
// bar, warnings said once), a dry run, and retries as they happen.
package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/validate/report"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/tidwall/gjson"
)

// Result is the --json object of one request.
type Result struct {
	Type      string          `json:"type,omitempty"`
	Seq       int             `json:"seq,omitempty"`
	OK        bool            `json:"ok"`
	Event     string          `json:"event,omitempty"`
	MID       string          `json:"mId"`
	Status    int             `json:"status,omitempty"`
	Attempts  int             `json:"attempts,omitempty"`
	LatencyMs float64         `json:"latencyMs,omitempty"`
	Body      json.RawMessage `json:"body,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Verdict says how it went (`ccx help exit-codes`); Warnings are the
	// platform's, from its 200 answer; Retried names why attempts were retried.
	Verdict  verdict.Verdict `json:"verdict"`
	Warnings []string        `json:"warnings,omitempty"`
	Retried  []string        `json:"retried,omitempty"`
}

// NewResult reports an outcome with token redacted.
func NewResult(out platform.Outcome, token string) Result {
	r := Result{OK: out.OK(), MID: out.MID, Verdict: Verdict(out.Err)}
	if out.Result != nil {
		r.Status = out.Result.Status
		r.Attempts = out.Result.Attempts
		r.Retried = out.Result.Retried
		r.Warnings = Warnings(out.Result, token)
		r.LatencyMs = ms(out.Result.Latency)
		if b := bytes.TrimSpace(out.Result.Body); len(b) > 0 {
			b = []byte(ui.RedactIn(string(b), token))
			if json.Valid(b) {
				r.Body = b
			} else {
				r.Body, _ = ui.Marshal(platform.Snippet(b, 2000))
			}
		}
	} else {
		var ne *platform.NetworkError
		if errors.As(out.Err, &ne) {
			r.Attempts, r.Retried = ne.Attempts, ne.Retried
		}
	}
	if out.Err != nil {
		r.Error = ui.RedactIn(out.Err.Error(), token)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Warnings are the "warnings" of a 200 answer (the emulator sends them; the
// platform may): accepted, but worth a look.
func Warnings(res *platform.Result, token string) []string {
	if res == nil || res.Status/100 != 2 {
		return nil
	}
	var out []string
	for _, w := range gjson.GetBytes(res.Body, "warnings").Array() {
		if s := strings.TrimSpace(w.String()); s != "" {
			out = append(out, ui.RedactIn(s, token))
		}
	}
	return out
}

// PrintWarnings writes each warning on stderr.
func PrintWarnings(io *ui.IOStreams, ws []string) {
	st := io.Styles(io.ErrOut)
	for _, w := range ws {
		fmt.Fprintf(io.ErrOut, "%s %s\n", st.Warning.Render("!"), w)
	}
}

// Verdict classifies a send's outcome in the words of `ccx help exit-codes`.
func Verdict(err error) verdict.Verdict {
	var se *platform.StatusError
	var ne *platform.NetworkError
	switch {
	case err == nil:
		return verdict.OK
	case errors.As(err, &se):
		return verdict.OfStatus(se.Result.Status, se.Result.Header, se.Result.Body)
	case errors.As(err, &ne) && platform.IsTimeout(ne.Err):
		return verdict.Timeout
	case errors.As(err, &ne):
		return verdict.Network
	case errors.Is(err, context.Canceled):
		return verdict.Interrupted
	}
	return verdict.Network
}

// One posts body once and prints the result (--json: one object); the
// error is the client's.
func One(ctx context.Context, io *ui.IOStreams, c *platform.Client, body []byte, what, mid, token string, asJSON bool) error {
	res, err := c.Post(ctx, body)
	if errors.Is(err, context.Canceled) {
		return err
	}
	out := platform.Outcome{Seq: 1, MID: mid, Result: res, Err: err}
	if asJSON {
		r := NewResult(out, token)
		r.Event = what
		_ = ui.WriteJSON(io.Out, r)
	} else if err == nil {
		st := io.Styles(io.Out)
		extra := ""
		if res.Attempts > 1 {
			extra = fmt.Sprintf(", %d attempts", res.Attempts)
		}
		fmt.Fprintf(io.Out, "%s sent %s mId=%s: %d %s (%s%s)\n", st.OK.Render("✓"), what, mid, res.Status, http.StatusText(res.Status), res.Latency.Round(time.Millisecond/10), extra)
	}
	if res != nil {
		PrintWarnings(io, Warnings(res, token))
	}
	return err
}

// RetryPrinter prints "retrying (2/4) after 429…" on stderr, one line at a
// time from many workers.
type RetryPrinter struct {
	IO    *ui.IOStreams
	Token string
	Show  func() bool // nil: always
	mu    sync.Mutex
}

// OnRetry is a platform.Options.OnRetry.
func (p *RetryPrinter) OnRetry(r platform.Retry) {
	if p.Show != nil && !p.Show() {
		return
	}
	why := r.Reason
	if r.Err != nil {
		why = "a network error (" + ui.RedactIn(r.Err.Error(), p.Token) + ")"
	}
	st := p.IO.Styles(p.IO.ErrOut)
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.IO.ErrOut, "%s (%d/%d) after %s, in %s…\n", st.Warning.Render("retrying"), r.Attempt, r.MaxAttempts, why, r.Delay.Round(time.Millisecond))
}

// DryRun prints the body (stdout) and the equivalent curl (stderr), or one
// --json object; shownToken is the token as it may be shown. The curl reads
// the token from $CCX_API_TOKEN, so it runs as printed, unless showToken
// (--show-token) puts the token itself in it.
func DryRun(io *ui.IOStreams, url, shownToken string, showToken bool, body []byte, count int, asJSON bool) error {
	curlToken := platform.TokenVar
	if showToken {
		curlToken = shownToken
	}
	curl := platform.Curl(url, curlToken, platform.UserAgent(), body)
	if asJSON {
		out := map[string]any{
			"dryRun": true,
			"url":    url,
			"count":  count,
			"headers": map[string]string{
				"authorization": "Bearer " + shownToken,
				"content-type":  "application/json",
				"cache-control": "no-cache",
				"user-agent":    platform.UserAgent(),
			},
			"curl": curl,
		}
		if json.Valid(body) {
			out["payload"] = json.RawMessage(body)
		} else {
			out["payload"] = string(body)
		}
		return ui.WriteJSON(io.Out, out)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(body)
	}
	fmt.Fprintln(io.Out, pretty.String())
	st := io.Styles(io.ErrOut)
	note := "dry run: nothing sent. The equivalent request:"
	if count > 1 {
		note = fmt.Sprintf("dry run: nothing sent (would send %d, each with its own mId). The first request:", count)
	}
	fmt.Fprintf(io.ErrOut, "%s\n%s\n", st.Dim.Render(note), curl)
	return nil
}

// Explain tags a platform error with its fault kind and remedy; other
// errors (an interrupt) pass through.
func Explain(err error) error {
	var se *platform.StatusError
	var ne *platform.NetworkError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		switch verdict.OfStatus(se.Result.Status, se.Result.Header, se.Result.Body) {
		case verdict.Auth:
			return fault.New(fault.Auth, fmt.Errorf("%v\nThe platform rejected the credentials: check the API token and channel ID (`ccx config get api_token`, `ccx config set api_token -`, --token or CCX_API_TOKEN)", err))
		case verdict.NoRoute:
			return fault.New(fault.Failure, fmt.Errorf("%v\nNothing answers at the webhook URL (404): copy it again from the channel's settings (`ccx config set webhook_url URL`)", err))
		case verdict.RateLimited:
			return fault.New(fault.Failure, fmt.Errorf("%v\nThe platform is rate limiting this channel (20 requests/s): lower --rate, or raise --retries", err))
		}
		return fault.New(fault.Failure, err)
	case errors.As(err, &ne):
		return fault.New(fault.IO, err)
	}
	return err
}

// SummaryFailure is a bulk run's failure (fault-tagged), or nil when every request was sent.
func SummaryFailure(sum platform.Summary) error {
	switch {
	case sum.AuthError:
		return fault.New(fault.Auth, fmt.Errorf("the platform rejected the credentials (401/403); stopped after %s. Check the API token and channel ID (`ccx config get api_token`, --token or CCX_API_TOKEN)", ui.Plural(sum.Count, "request")))
	case sum.ByStatus["network"] > 0 && sum.ByStatus["network"] == sum.Failed:
		return fault.New(fault.IO, fmt.Errorf("%d of %s got no response", sum.Failed, ui.Plural(sum.Count, "request")))
	case sum.Failed > 0:
		return fault.New(fault.Failure, fmt.Errorf("%d of %s failed", sum.Failed, ui.Plural(sum.Count, "request")))
	}
	return nil
}

// Check validates body before it is sent: findings on stderr, and when it
// is invalid a failure (and with asJSON the refusal on stdout).
func Check(io *ui.IOStreams, body []byte, o validate.Options, asJSON bool) error {
	rep := validate.Bytes(body, o)
	if rep.HasErrors() && asJSON {
		_ = ui.WriteJSON(io.Out, map[string]any{"ok": false, "error": "invalid payload", "findings": rep.Findings})
	}
	report.Findings(io.ErrOut, io.Styles(io.ErrOut), rep.Findings)
	if rep.HasErrors() {
		return fault.New(fault.Failure, fmt.Errorf("refusing to send an invalid payload (%s); fix it, or pass --no-validate to send it anyway", ui.Plural(rep.Errors(), "error")))
	}
	return nil
}
