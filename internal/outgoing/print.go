package outgoing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// VerdictLine is the one-line verdict on a /message reply, as trigger and
// replay print it (listen's printer words it the same way).
func VerdictLine(st ui.Styles, v verdict.Verdict, status int, h http.Header) string {
	label, text := Explain(v, status, h)
	sty := st.Error
	switch v {
	case verdict.OK:
		sty = st.OK
	case verdict.Auth, verdict.Refused, verdict.RateLimited, verdict.Interrupted:
		sty = st.Warning
	}
	mark := "✗ "
	if v == verdict.OK {
		mark = "✓ "
	}
	return sty.Render(mark+label+":") + " " + text
}

// PrintFindings writes the findings on a reply, indented under it.
func PrintFindings(w io.Writer, st ui.Styles, fs []validate.Finding) {
	for _, x := range fs {
		sty, label := st.Warning, "warning"
		if x.Severity == validate.Error {
			sty, label = st.Error, "error"
		}
		loc := x.Path
		if loc == "" {
			loc = "reply"
		}
		fmt.Fprintf(w, "    %s %s: %s (%s)\n", sty.Render(label), loc, x.Message, st.Dim.Render(x.Rule))
	}
}

// PrintDryRun shows the request and an equivalent curl. The token is never
// printed: the curl line reads it from $CCX_API_TOKEN.
func PrintDryRun(w io.Writer, url string, body []byte, token string, asJSON bool) error {
	if asJSON {
		return ui.WriteJSON(w, map[string]any{
			"method": "POST", "url": url,
			"headers": map[string]string{"Authorization": "Bearer " + ui.Redact(token), "Content-Type": "application/json"},
			"body":    RawJSON(body),
		})
	}
	fmt.Fprintf(w, "POST %s\nAuthorization: Bearer %s\nContent-Type: application/json\n\n%s\n\n", url, ui.Redact(token), body)
	fmt.Fprintf(w, "curl -sS -X POST %s -H \"Authorization: Bearer $CCX_API_TOKEN\" -H 'Content-Type: application/json' --data-raw %s\n",
		shellQuote(url), shellQuote(string(body)))
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// RawJSON embeds bytes in JSON output as JSON when they are, else as a string.
func RawJSON(b []byte) any {
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	return string(b)
}

// TriggerResult is trigger's --json output.
type TriggerResult struct {
	URL       string             `json:"url"`
	Request   any                `json:"request"`
	Status    int                `json:"status,omitempty"`
	Body      string             `json:"body,omitempty"`
	LatencyMS float64            `json:"latencyMs"`
	Verdict   verdict.Verdict    `json:"verdict"` // see `ccx help exit-codes`
	Findings  []validate.Finding `json:"findings"`
	Error     string             `json:"error,omitempty"`
}

// Trigger posts body to url as the platform would and judges the reply;
// the error is a request that could not be built.
func (c *Client) Trigger(ctx context.Context, url string, body []byte) (TriggerResult, *Result, error) {
	res, err := c.Do(ctx, Request{Body: body})
	if err != nil {
		return TriggerResult{}, nil, err
	}
	out := TriggerResult{URL: url, Request: RawJSON(body), Findings: []validate.Finding{}}
	out.LatencyMS = float64(res.Latency.Microseconds()) / 1000
	if res.Err != nil {
		out.Error = res.Err.Error()
	} else {
		out.Status, out.Body = res.Status, ui.RedactIn(string(res.Body), c.Token)
		out.Findings = append(out.Findings, Judge(res.Status, res.Header, res.Body)...)
	}
	out.Verdict = res.Verdict(out.Findings)
	if ctx.Err() != nil {
		out.Verdict = verdict.Interrupted
	}
	return out, res, nil
}

// PrintTrigger writes the call (kind and the message as rendered), the reply,
// its findings and the verdict.
func PrintTrigger(w io.Writer, st ui.Styles, out TriggerResult, res *Result, kind, rendered string) {
	fmt.Fprintf(w, "%s POST %s  %s %s\n", st.Info.Render("-->"), out.URL, st.Bold.Render(kind), rendered)
	if res.Err != nil {
		fmt.Fprintf(w, "%s %s  %s\n", st.Error.Render("<--"), st.Error.Render(res.Err.Error()), st.Dim.Render(ui.Millis(out.LatencyMS)))
		return
	}
	fmt.Fprintf(w, "%s %s %s  %s\n", st.Info.Render("<--"), ui.HTTPStatus(st, res.Status), strings.TrimSpace(out.Body), st.Dim.Render(ui.Millis(out.LatencyMS)))
	PrintFindings(w, st, out.Findings)
	fmt.Fprintln(w, VerdictLine(st, out.Verdict, res.Status, res.Header))
}

// PlaceholderChannel is the channelId trigger sends when none is configured.
const PlaceholderChannel = "ccx-test-channel"

// SampleContact is a contactId valid for the ID type, for trigger's tries.
func SampleContact(t channel.IDType) string {
	if t == channel.IDCustom {
		return "ccx_test_contact"
	}
	return "+60177872890"
}
