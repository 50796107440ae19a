package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"
)

// ReplayOptions are the flags of `ccx replay`.
type ReplayOptions struct {
	OutgoingOptions
	Rate float64
}

func newReplayCmd(f *Factory) *cobra.Command {
	o := &ReplayOptions{}
	cmd := &cobra.Command{
		Use:   "replay FILE --to BASE_URL",
		Short: "Re-send recorded /message calls to your server and judge each reply",
		Long: `replay reads calls recorded by 'ccx listen --record FILE' (or its --json output;
FILE may be - for stdin) and sends each one again to <BASE_URL>/message: the same
body byte-for-byte and the same headers, re-signed with the configured token
(records only hold a redacted one). Other credential headers (Cookie, X-Api-Key
and the like, redacted in records) are not sent; where the record shows the
configured token redacted in the body, the token is put back. Each reply is
checked like 'ccx trigger' does and a summary ends the run. Calls are paced at --rate per second (the platform's
documented limit is 20).

Each reply gets trigger's verdict (--json "verdict"). A reply passes when it is
ok and, where the record says how the server answered with the right token, in
the same status class (2xx/4xx/5xx) as recorded. The summary counts valid
replies, refusals, auth refusals, wrong replies and network errors apart.

Exit codes: 0 every reply passed; 1 a reply was refused, wrong, or in another
status class than recorded; 2 bad FILE content; 3 FILE unreadable or a network
error/timeout; 4 a reply was an auth refusal (401/403).`,
		Example: `  ccx listen --record calls.ndjson      # then make the platform (or ccx trigger) call it
  ccx replay calls.ndjson --to http://127.0.0.1:8080
  ccx replay calls.ndjson --json | jq .status`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), f, o, args[0])
		},
	}
	o.addFlags(cmd, false)
	cmd.Flags().StringVar(&o.To, "to", "", "base URL of your integration server; /message is appended (env CCX_API_BASE_URL, profile api_base_url)")
	cmd.Flags().Float64Var(&o.Rate, "rate", 20, "most calls per second (0: no limit)")
	urlFlag(cmd.Flags(), "to")
	limitFlag(cmd.Flags(), "rate", 0, math.Inf(1), useRate)
	_ = cmd.Flags().MarkHidden("contact-id")
	_ = cmd.Flags().MarkHidden("id-type")
	return cmd
}

// ReplayResult is one line of replay's --json output.
type ReplayResult struct {
	Index     int             `json:"index"`
	ID        string          `json:"id,omitempty"` // the recorded call's id
	Type      string          `json:"type,omitempty"`
	Status    int             `json:"status,omitempty"`
	Recorded  int             `json:"recordedStatus,omitempty"`
	Body      string          `json:"body,omitempty"`
	LatencyMS float64         `json:"latencyMs"`
	Verdict   verdict.Verdict `json:"verdict"`
	// MatchesRecording: the reply is in the recorded status class (absent
	// when the record cannot say: no status, or made without the right token).
	MatchesRecording *bool              `json:"matchesRecording,omitempty"`
	Findings         []validate.Finding `json:"findings"`
	Error            string             `json:"error,omitempty"`
}

// replayHeader keeps the recorded headers except the per-connection ones
// and the credentials (records hold those redacted: Authorization, Cookie,
// X-Api-Key and the like), and signs with the configured token.
func replayHeader(rec http.Header, token string) http.Header {
	h := http.Header{}
	for k, vs := range rec {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Host", "Connection", "Keep-Alive",
			"Transfer-Encoding", "Te", "Trailer", "Upgrade", "Accept-Encoding":
			continue
		}
		if ui.IsCredentialHeader(k) {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Authorization", "Bearer "+token)
	return h
}

// restoreToken puts the configured token back where a record shows it
// redacted in the body (listen redacts its own token wherever it appears),
// so a body that carried the token is replayed as it was received. A token
// too short to redact recognisably ("********") is left alone.
func restoreToken(body []byte, token string) []byte {
	r := ui.Redact(token)
	if !strings.Contains(r, "…") || !bytes.Contains(body, []byte(r)) {
		return body
	}
	return bytes.ReplaceAll(body, []byte(r), []byte(token))
}

// readRecords reads a record file (or stdin for "-"); a pipe or FIFO that
// never writes gives way to ctx.
func readRecords(ctx context.Context, path string, in io.Reader) ([]listen.Call, error) {
	r := in
	if path != "-" {
		fh, err := ctxio.Open(ctx, path)
		if err != nil {
			return nil, readError(ctx, err)
		}
		defer fh.Close()
		r = fh
	}
	sc := bufio.NewScanner(ctxio.Reader(ctx, r))
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	var calls []listen.Call
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var c listen.Call
		if err := json.Unmarshal([]byte(b), &c); err != nil || !gjson.Get(b, "method").Exists() {
			if err == nil {
				err = fmt.Errorf(`no "method": not a record written by ccx listen --record/--json`)
			}
			return nil, UsageErrorf(fmt.Errorf("%s:%d: %v", path, line, err))
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		return nil, readError(ctx, fmt.Errorf("%s: %w", path, err))
	}
	if len(calls) == 0 {
		return nil, UsageErrorf(fmt.Errorf("%s: no recorded calls", path))
	}
	return calls, nil
}

func runReplay(ctx context.Context, f *Factory, o *ReplayOptions, path string) error {
	r, err := o.resolve(f, false)
	if err != nil {
		return err
	}
	calls, err := readRecords(ctx, path, f.IO.In)
	if err != nil {
		return err
	}
	st := f.IO.Styles(f.IO.Out)
	var tally replayTally
	var gap time.Duration
	if o.Rate > 0 {
		gap = time.Duration(float64(time.Second) / o.Rate)
	}
	var next time.Time
	for i, c := range calls {
		if gap > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
			next = time.Now().Add(gap)
		}
		if ctx.Err() != nil {
			fmt.Fprintf(f.IO.ErrOut, "interrupted after %d of %d calls\n", i, len(calls))
			return Silent(ExitInterrupted)
		}
		method := c.Method
		if method == "" {
			method = http.MethodPost
		}
		res, err := r.client.Do(ctx, outgoing.Request{Method: method, Body: restoreToken(c.Body, r.client.Token), Header: replayHeader(c.Header, r.client.Token)})
		if err != nil {
			return UsageErrorf(err)
		}
		out := ReplayResult{Index: i + 1, ID: c.ID, Type: string(c.Kind), Recorded: c.Status, Findings: []validate.Finding{},
			LatencyMS: float64(res.Latency.Microseconds()) / 1000}
		if res.Err != nil {
			out.Error = res.Err.Error()
		} else {
			out.Status, out.Body = res.Status, ui.RedactIn(string(res.Body), r.client.Token)
			out.Findings = append(out.Findings, outgoing.Judge(res.Status, res.Header, res.Body)...)
		}
		out.Verdict = res.Verdict(out.Findings)
		if recordComparable(c) && res.Err == nil {
			same := c.Status/100 == res.Status/100
			out.MatchesRecording = &same
		}
		tally.add(out)
		if f.JSON {
			if err := ui.WriteJSON(f.IO.Out, out); err != nil {
				return Exit(ExitIO, err)
			}
			continue
		}
		label := out.Type
		if label == "" {
			label = "(no message type)"
		}
		fmt.Fprintf(f.IO.Out, "[%d/%d] %s %s  %s", i+1, len(calls), st.Dim.Render(c.ID), st.Bold.Render(label), st.Info.Render("<--"))
		if res.Err != nil {
			fmt.Fprintf(f.IO.Out, " %s\n", st.Error.Render(res.Err.Error()))
			continue
		}
		fmt.Fprintf(f.IO.Out, " %s %s  %s", statusStyle(st, res.Status), strings.TrimSpace(out.Body), st.Dim.Render(fmtMS(out.LatencyMS)))
		switch {
		case out.MatchesRecording != nil && !*out.MatchesRecording:
			fmt.Fprintf(f.IO.Out, "  %s", st.Error.Render(fmt.Sprintf("(recorded %d: the answer changed)", c.Status)))
		case c.Status != 0 && c.Status != res.Status:
			fmt.Fprintf(f.IO.Out, "  %s", st.Dim.Render(fmt.Sprintf("(recorded %d)", c.Status)))
		}
		fmt.Fprintln(f.IO.Out)
		printFindings(f, st, out.Findings)
		if out.Verdict != verdict.OK {
			fmt.Fprintf(f.IO.Out, "    %s\n", replyVerdictLine(st, out.Verdict, res.Status, res.Header))
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "replayed %d call(s): %s\n", len(calls), tally.summary())
	return exitSilently(tally.exitCode())
}

// recordComparable reports whether a record's status says how the server answers
// this call: only when it was made with the right token, since replay
// re-signs every call with it.
func recordComparable(c listen.Call) bool {
	return c.Status != 0 && (c.Auth == listen.AuthOK || c.Auth == "")
}

// replayTally counts replies by what they were, so that refusals are never
// counted as valid replies.
type replayTally struct {
	valid, refused, auth, wrong, netErr, changed int
}

func (t *replayTally) add(r ReplayResult) {
	switch r.Verdict {
	case verdict.OK:
		t.valid++
	case verdict.Refused, verdict.RateLimited:
		t.refused++
	case verdict.Auth:
		t.auth++
	case verdict.Timeout, verdict.Network:
		t.netErr++
	default:
		t.wrong++
	}
	if r.MatchesRecording != nil && !*r.MatchesRecording {
		t.changed++
	}
}

func (t *replayTally) summary() string {
	s := fmt.Sprintf("%d valid replies, %d refused, %d auth refusals (401/403), %d wrong, %d network errors", t.valid, t.refused, t.auth, t.wrong, t.netErr)
	if t.changed > 0 {
		s += fmt.Sprintf("; %d answered in another status class than recorded", t.changed)
	}
	return s
}

// exitCode: a reply passes when it is valid and in the recorded status
// class; network errors win, then auth refusals, then any other failure.
func (t *replayTally) exitCode() int {
	switch {
	case t.netErr > 0:
		return ExitIO
	case t.auth > 0:
		return ExitAuth
	case t.refused > 0 || t.wrong > 0 || t.changed > 0:
		return ExitFailure
	}
	return ExitOK
}
