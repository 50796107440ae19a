// Package replay re-sends calls recorded by `ccx listen` to an integration
// server, re-signed with the configured token, and judges every reply.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/tidwall/gjson"
)

// readErr tags a failed read: interrupted when ctx ended, else I/O.
func readErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fault.New(fault.Interrupted, errors.New("interrupted"))
	}
	return fault.New(fault.IO, err)
}

// Result is one line of replay's --json output.
type Result struct {
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

// Header keeps the recorded headers except the per-connection ones
// and the credentials (records hold those redacted: Authorization, Cookie,
// X-Api-Key and the like), and signs with the configured token.
func Header(rec http.Header, token string) http.Header {
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

// RestoreToken puts the configured token back where a record shows it
// redacted in the body (listen redacts its own token wherever it appears),
// so a body that carried the token is replayed as it was received. A token
// too short to redact recognisably ("********") is left alone.
func RestoreToken(body []byte, token string) []byte {
	r := ui.Redact(token)
	if !strings.Contains(r, "…") || !bytes.Contains(body, []byte(r)) {
		return body
	}
	return bytes.ReplaceAll(body, []byte(r), []byte(token))
}

// Read reads a record file (or stdin for "-"); a pipe or FIFO that never
// writes gives way to ctx. Errors are fault-tagged: bad content is Usage.
func Read(ctx context.Context, path string, in io.Reader) ([]listen.Call, error) {
	r := in
	if path != "-" {
		fh, err := ctxio.Open(ctx, path)
		if err != nil {
			return nil, readErr(ctx, err)
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
			return nil, fault.New(fault.Usage, fmt.Errorf("%s:%d: %v", path, line, err))
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		return nil, readErr(ctx, fmt.Errorf("%s: %w", path, err))
	}
	if len(calls) == 0 {
		return nil, fault.New(fault.Usage, fmt.Errorf("%s: no recorded calls", path))
	}
	return calls, nil
}

// Options say where and how fast to replay, and how to report.
type Options struct {
	Client *outgoing.Client
	Rate   float64 // calls per second; 0: no limit
	IO     *ui.IOStreams
	JSON   bool
}

// Run replays calls, printing each reply (--json: one Result per line) and
// the summary on stderr. The error is a request that could not be built
// (fault.Usage) or a failed write (fault.IO).
func Run(ctx context.Context, o Options, calls []listen.Call) (Tally, error) {
	f := o
	st := f.IO.Styles(f.IO.Out)
	var tally Tally
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
			fmt.Fprintf(f.IO.ErrOut, "interrupted after %d of %s\n", i, ui.Plural(len(calls), "call"))
			tally.Interrupted = true
			return tally, nil
		}
		method := c.Method
		if method == "" {
			method = http.MethodPost
		}
		res, err := o.Client.Do(ctx, outgoing.Request{Method: method, Body: RestoreToken(c.Body, o.Client.Token), Header: Header(c.Header, o.Client.Token)})
		if err != nil {
			return tally, fault.New(fault.Usage, err)
		}
		out := Result{Index: i + 1, ID: c.ID, Type: string(c.Kind), Recorded: c.Status, Findings: []validate.Finding{},
			LatencyMS: float64(res.Latency.Microseconds()) / 1000}
		if res.Err != nil {
			out.Error = res.Err.Error()
		} else {
			out.Status, out.Body = res.Status, ui.RedactIn(string(res.Body), o.Client.Token)
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
				return tally, fault.New(fault.IO, err)
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
		fmt.Fprintf(f.IO.Out, " %s %s  %s", ui.HTTPStatus(st, res.Status), strings.TrimSpace(out.Body), st.Dim.Render(ui.Millis(out.LatencyMS)))
		switch {
		case out.MatchesRecording != nil && !*out.MatchesRecording:
			fmt.Fprintf(f.IO.Out, "  %s", st.Error.Render(fmt.Sprintf("(recorded %d: the answer changed)", c.Status)))
		case c.Status != 0 && c.Status != res.Status:
			fmt.Fprintf(f.IO.Out, "  %s", st.Dim.Render(fmt.Sprintf("(recorded %d)", c.Status)))
		}
		fmt.Fprintln(f.IO.Out)
		outgoing.PrintFindings(f.IO.Out, st, out.Findings)
		if out.Verdict != verdict.OK {
			fmt.Fprintf(f.IO.Out, "    %s\n", outgoing.VerdictLine(st, out.Verdict, res.Status, res.Header))
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "replayed %s: %s\n", ui.Plural(len(calls), "call"), tally.Summary())
	return tally, nil
}

// recordComparable reports whether a record's status says how the server answers
// this call: only when it was made with the right token, since replay
// re-signs every call with it.
func recordComparable(c listen.Call) bool {
	return c.Status != 0 && (c.Auth == listen.AuthOK || c.Auth == "")
}

// Tally counts replies by what they were, so that refusals are never
// counted as valid replies.
type Tally struct {
	Valid, Refused, Auth, Wrong, NetErr, Changed int
	Interrupted                                  bool
}

func (t *Tally) add(r Result) {
	switch r.Verdict {
	case verdict.OK:
		t.Valid++
	case verdict.Refused, verdict.RateLimited:
		t.Refused++
	case verdict.Auth:
		t.Auth++
	case verdict.Timeout, verdict.Network:
		t.NetErr++
	default:
		t.Wrong++
	}
	if r.MatchesRecording != nil && !*r.MatchesRecording {
		t.Changed++
	}
}

// Summary is the counts in words.
func (t *Tally) Summary() string {
	s := fmt.Sprintf("%s, %d refused, %s (401/403), %d wrong, %s", ui.Plural(t.Valid, "valid reply", "valid replies"), t.Refused,
		ui.Plural(t.Auth, "auth refusal"), t.Wrong, ui.Plural(t.NetErr, "network error"))
	if t.Changed > 0 {
		s += fmt.Sprintf("; %d answered in another status class than recorded", t.Changed)
	}
	return s
}
