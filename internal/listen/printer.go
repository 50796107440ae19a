package listen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// JSONPrinter writes one NDJSON line per call. It is safe for concurrent use.
type JSONPrinter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONPrinter prints to w.
func NewJSONPrinter(w io.Writer) *JSONPrinter { return &JSONPrinter{w: w} }

// lineBufs are the printers' line buffers, encoded outside the lock.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Print writes c as one line (Call.AppendJSON), with one Write.
func (p *JSONPrinter) Print(c Call) error {
	bp := lineBufs.Get().(*[]byte)
	b := append(c.AppendJSON((*bp)[:0]), '\n')
	p.mu.Lock()
	_, err := p.w.Write(b)
	p.mu.Unlock()
	if cap(b) <= 64<<10 { // a huge body's buffer is not kept
		*bp = b
		lineBufs.Put(bp)
	}
	return err
}

// Recorder appends calls to a file as NDJSON (the --record format, which is
// also what --json prints and what `ccx replay` reads). Tokens are already
// redacted in Call.Header.
type Recorder struct {
	JSONPrinter
	f *os.File
}

// OpenRecorder opens path for appending, mode 0600 (records hold message
// contents that may be personal data); an existing file others may read is
// tightened to 0600, with a warning on warn.
func OpenRecorder(path string, warn io.Writer) (*Recorder, error) {
	f, err := fsutil.OpenPrivate(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, warn)
	if err != nil {
		return nil, err
	}
	return &Recorder{JSONPrinter: JSONPrinter{w: f}, f: f}, nil
}

// Close closes the file.
func (r *Recorder) Close() error { return r.f.Close() }

// PrettyPrinter writes Stripe-style "-->" request and "<--" reply lines tied
// by the call id, for people watching a terminal.
type PrettyPrinter struct {
	mu sync.Mutex
	w  io.Writer
	st ui.Styles
	// Width, when set, is the terminal's: a line longer wraps, its
	// continuation indented under the time and arrow.
	Width int
}

// NewPrettyPrinter prints to w with styles st (plain when colour is off).
func NewPrettyPrinter(w io.Writer, st ui.Styles) *PrettyPrinter {
	return &PrettyPrinter{w: w, st: st}
}

// Request prints the "-->" line when a call arrives.
func (p *PrettyPrinter) Request(c Call) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s %s  %s %s", p.st.Dim.Render(c.Time.Format("15:04:05")), p.st.Info.Render("-->"),
		p.st.Dim.Render(c.ID), c.Method, c.Path)
	if c.ContactID != "" {
		fmt.Fprintf(&b, "  %s", p.st.Path.Render(c.ContactID))
	}
	if c.Message != nil {
		fmt.Fprintf(&b, "  %s %s", p.st.Bold.Render(string(c.Message.Type)), RenderMessage(c.Message))
	}
	fmt.Fprintf(&b, "  %s\n", p.auth(c.Auth))
	for _, f := range c.Findings {
		sty, label := p.st.Warning, "warning"
		if f.Severity == validate.Error {
			sty, label = p.st.Error, "error"
		}
		loc := f.Path
		if loc == "" {
			loc = fmt.Sprintf("%d:%d", f.Line, f.Column)
		}
		fmt.Fprintf(&b, "            %s %s %s (%s)\n", sty.Render(label), loc, f.Message, p.st.Dim.Render(f.Rule))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, ui.Wrap(b.String(), p.Width, 12))
}

func (p *PrettyPrinter) auth(a string) string {
	switch a {
	case AuthOK:
		return p.st.OK.Render("auth ok")
	case AuthSkipped:
		return p.st.Dim.Render("auth not checked")
	}
	return p.st.Error.Render("auth " + a)
}

// Reply prints the "<--" line once the reply is written.
func (p *PrettyPrinter) Reply(c Call) {
	status := fmt.Sprint(c.Status)
	switch {
	case c.Status >= 200 && c.Status < 300:
		status = p.st.OK.Render(status)
	case c.Status >= 400 && c.Status < 500:
		status = p.st.Warning.Render(status)
	default:
		status = p.st.Error.Render(status)
	}
	body := strings.TrimSpace(string(c.ReplyBody))
	if len(body) > 200 {
		body = body[:197] + "..."
	}
	via := ""
	if c.Forwarded {
		via = p.st.Dim.Render(" (from your server)")
		if c.ForwardError != "" {
			via = p.st.Error.Render(" (forward failed)")
		}
	}
	line := fmt.Sprintf("%s  %s %s  %s %s%s  %s\n", p.st.Dim.Render(c.Time.Add(c.Latency).Format("15:04:05")), p.st.Info.Render("<--"),
		p.st.Dim.Render(c.ID), status, body, via, p.st.Dim.Render(c.Latency.Round(10*time.Microsecond).String()))
	if c.Verdict != "" {
		line += p.verdict(c)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, ui.Wrap(line, p.Width, 12))
}

// verdict judges a forwarded reply in the words `ccx trigger` uses.
func (p *PrettyPrinter) verdict(c Call) string {
	var b strings.Builder
	for _, f := range c.ReplyFindings {
		sty, label := p.st.Warning, "warning"
		if f.Severity == validate.Error {
			sty, label = p.st.Error, "error"
		}
		loc := f.Path
		if loc == "" {
			loc = "reply"
		}
		fmt.Fprintf(&b, "            %s %s: %s (%s)\n", sty.Render(label), loc, f.Message, p.st.Dim.Render(f.Rule))
	}
	label, text := outgoing.Explain(c.Verdict, c.Status, c.ReplyHeader)
	sty, mark := p.st.Error, "✗ "
	switch c.Verdict {
	case verdict.OK:
		sty, mark = p.st.OK, "✓ "
	case verdict.Auth, verdict.Refused, verdict.RateLimited:
		sty = p.st.Warning
	}
	fmt.Fprintf(&b, "            %s %s\n", sty.Render(mark+label+":"), text)
	return b.String()
}

// RenderMessage is a one-line, human reading of a message.
func RenderMessage(m *channel.Message) string {
	switch m.Type {
	case channel.MessageText:
		return quote(m.Text, 80)
	case channel.MessageAttachment:
		if m.Attachment == nil {
			return "(no attachment)"
		}
		s := string(m.Attachment.Type) + " " + m.Attachment.URL
		if m.Attachment.FileName != "" {
			s += " " + quote(m.Attachment.FileName, 40)
		}
		return s
	case channel.MessageLocation:
		s := ""
		if m.Latitude != nil && m.Longitude != nil {
			s = fmt.Sprintf("%g,%g", *m.Latitude, *m.Longitude)
		}
		if m.Address != "" {
			s += " " + quote(m.Address, 60)
		}
		return strings.TrimSpace(s)
	case channel.MessageQuickReply:
		return quote(m.Title, 60) + " [" + strings.Join(m.Replies, " | ") + "]"
	case channel.MessageCustomPayload:
		return trunc(string(m.Payload), 80)
	}
	return ""
}

func quote(s string, n int) string { return fmt.Sprintf("%q", trunc(s, n)) }

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
