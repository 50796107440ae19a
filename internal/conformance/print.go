package conformance

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"

	"github.com/ccx-cli/ccx/internal/ui"
)

// PrintTable writes the results as a table (CHECK RESULT EVIDENCE, a
// reason line under a result that has one) and the counts. width is the
// terminal's (0: not a terminal): evidence wraps under its column to fit.
func PrintTable(w io.Writer, st ui.Styles, width int, results []Result, passed, failed, warned, skipped int) {
	tb := ui.Table{MinWidths: []int{17, 6}}
	tb.Row("CHECK", "RESULT", "EVIDENCE")
	for _, r := range results {
		v := strings.ToUpper(string(r.Verdict))
		switch r.Verdict {
		case Pass:
			v = st.OK.Render(v)
		case Fail:
			v = st.Error.Render(v)
		case Warn:
			v = st.Warning.Render(v)
		default:
			v = st.Dim.Render(v)
		}
		var ev string
		switch {
		case r.Error != "":
			ev = r.Error
		case r.Status != 0:
			ev = fmt.Sprintf("%d %s  %s", r.Status, ui.OneLine(r.Body, 80), st.Dim.Render(ui.Millis(r.LatencyMS)))
		default:
			ev = r.Body
		}
		tb.Row(r.ID, v, ev)
		if r.Reason != "" {
			reason := r.Reason
			if r.Security {
				reason = st.Error.Render(reason)
			}
			tb.Row("", "", "↳ "+reason)
		}
	}
	_, _ = io.WriteString(w, tb.Render(width))
	summary := fmt.Sprintf("%d passed, %d failed, %s, %d skipped", passed, failed, ui.Plural(warned, "warning"), skipped)
	if failed > 0 {
		summary = st.Error.Render(summary)
	} else {
		summary = st.OK.Render(summary)
	}
	fmt.Fprintln(w, ui.Wrap(summary, width, 2))
}

// FirstError is the first call's error, for "cannot reach": "no answer" if none.
func (rep *Report) FirstError() string {
	for _, r := range rep.Results {
		if r.Error != "" {
			return r.Error
		}
	}
	return "no answer"
}

// PrintBanner says, before the run, what is called and who the messages go
// to: never a real-looking person silently (from says where the contact came
// from; "" contact is the fictional test contact).
func PrintBanner(w io.Writer, url string, timeout time.Duration, contact, from string, t channel.IDType) {
	fmt.Fprintf(w, "checking %s%s (timeout %v per call)\n", strings.TrimRight(url, "/"), "/message", timeout)
	if contact == "" {
		contact = DefaultContact(t)
		from = "ccx check's fictional test contact; set --contact-id or the profile's contact_id to use another"
	}
	fmt.Fprintf(w, "contact %s (%s)\n", contact, from)
}

// PrintHints writes what every call had in common, once before the details.
func PrintHints(w io.Writer, st ui.Styles, rep *Report) {
	for _, h := range rep.Hints {
		fmt.Fprintf(w, "%s %s\n", st.Warning.Render("hint:"), h)
	}
}
