package report

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/mediacheck"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
)

// Output formats of `ccx validate`.
const (
	Text   = "text"
	JSON   = "json"
	GitHub = "github"
)

// Options are the flags and arguments of `ccx validate`.
type Options struct {
	IO      *ui.IOStreams
	Inputs  []string // files, directories or "-" (stdin); empty means stdin
	Kind    validate.Kind
	IDType  channel.IDType
	Channel string // expected channelId; "" skips the check
	Status  int    // HTTP status of reply payloads; 0 infers
	Limit   int    // text length warning threshold
	Strict  bool   // warnings fail too
	Output  string
	Quiet   bool
	Jobs    int // workers for NDJSON/array inputs; 1: sequential
	// FetchMedia fetches every attachment URL's headers (mediacheck).
	FetchMedia bool
	// Ignore holds rule ids left out of the findings (validate.ParseIgnore).
	// Ignoring mid-duplicate also drops the index of mIds, and its memory.
	Ignore map[string]bool
}

// Tally counts what a run saw.
type Tally struct {
	Files      int  `json:"files"`
	Payloads   int  `json:"payloads"`
	Invalid    int  `json:"invalid"`
	Errors     int  `json:"errors"`
	Warnings   int  `json:"warnings"`
	Unreadable int  `json:"unreadable"`
	Strict     bool `json:"strict"`
	OK         bool `json:"ok"`
}

type runner struct {
	opts  *Options
	out   *bufio.Writer // stdout, buffered: one write per finding is too slow for big streams
	st    ui.Styles
	tty   bool
	tally Tally
	line  []byte // reused output line

	sevWarn, sevErr string // rendered severities
	nameFor         string // file whose quoted name is in nameJSON
	nameJSON        []byte
	mids            *validate.MIDIndex  // this input's mIds (a directory is one input)
	media           *mediacheck.Checker // --fetch-media
}

// Run validates every input, printing as it goes; the tally says what it
// saw. A non-nil error is ctx's, or a failed write (fault.IO).
func Run(ctx context.Context, opts *Options) (Tally, error) {
	r := &runner{opts: opts, out: bufio.NewWriterSize(opts.IO.Out, 64<<10), tty: opts.IO.IsStdoutTTY() && opts.Output == Text}
	defer r.out.Flush()
	r.st = opts.IO.Styles(opts.IO.Out)
	if opts.FetchMedia {
		r.media = mediacheck.New(mediacheck.Options{})
	}
	inputs := opts.Inputs
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return r.tally, err
		}
		files, err := ExpandInput(in, r.skip)
		if err != nil {
			r.unreadable(in, err)
			continue
		}
		r.mids = nil
		if !opts.Ignore[validate.RuleMIDDuplicate] {
			r.mids = validate.NewMIDIndex()
		}
		for _, file := range files {
			if err := r.file(ctx, file); err != nil {
				if ctx.Err() != nil {
					return r.tally, ctx.Err()
				}
				r.unreadable(file, err)
			}
		}
	}
	return r.tally, r.finish()
}

// skip notes on stderr a file a directory walk leaves out.
func (r *runner) skip(path, why string) {
	fmt.Fprintf(r.opts.IO.ErrOut, "note: skipping %s: %s\n", path, why)
}

// ExpandInput turns a directory into its *.json, *.ndjson and *.jsonl files
// in name order (hidden directories below it are skipped, and so are
// payload-named entries that are not regular files, with a note: a FIFO
// would block the walk forever); files and "-" pass through.
func ExpandInput(in string, skip func(path, why string)) ([]string, error) {
	if in == "-" {
		return []string{in}, nil
	}
	info, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{in}, nil
	}
	var files []string
	err = filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != in && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .cache and friends
		}
		if d.IsDir() || payloadExt(path) == "" {
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 { // follow it, as opening it would
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			mode = fi.Mode()
		}
		if !mode.IsRegular() {
			skip(path, "not a regular file ("+fileKind(mode)+")")
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.json, *.ndjson or *.jsonl files in this directory", in)
	}
	return files, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	}
	return "mode " + m.String()
}

func payloadExt(path string) string {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json", ".ndjson", ".jsonl":
		return ext
	}
	return ""
}

func (r *runner) file(ctx context.Context, file string) error {
	var in io.Reader
	name := file
	// Reads give way to ctx: stdin may be a pipe that never writes, a named
	// file a FIFO that never gets a writer.
	if file == "-" {
		in, name = ctxio.Reader(ctx, r.opts.IO.In), "<stdin>"
	} else {
		fh, err := ctxio.Open(ctx, file)
		if err != nil {
			return err
		}
		defer fh.Close()
		in = ctxio.Reader(ctx, fh)
	}
	so := validate.StreamOptions{Options: validate.Options{
		Kind: r.opts.Kind, IDType: r.opts.IDType, ChannelID: r.opts.Channel,
		ReplyStatus: r.opts.Status, TextLimit: r.opts.Limit, Media: r.media != nil,
	}, Jobs: r.opts.Jobs, MIDs: r.mids, NoMIDs: r.mids == nil}
	if r.mids != nil {
		r.mids.File(name)
	}
	if ext := payloadExt(file); ext == ".ndjson" || ext == ".jsonl" {
		so.Format = validate.FormatNDJSON
	}
	r.tally.Files++
	_, err := validate.Stream(in, so, func(p validate.Payload) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.media != nil {
			mediacheck.AddFindings(ctx, r.media, &p.Report)
		}
		return r.payload(name, file == "-", p)
	})
	return err
}

func (r *runner) failing(f validate.Finding) bool {
	return f.Severity == validate.Error || r.opts.Strict
}

func (r *runner) payload(name string, stdin bool, p validate.Payload) error {
	t := &r.tally
	t.Payloads++
	p.Report.Drop(r.opts.Ignore)
	errs, warns := p.Report.Errors(), p.Report.Warnings()
	t.Errors += errs
	t.Warnings += warns
	valid := errs == 0 && (!r.opts.Strict || warns == 0)
	if !valid {
		t.Invalid++
	}
	switch r.opts.Output {
	case JSON:
		if r.nameFor != name { // the quoted file name is the same for every payload of a file
			r.nameFor, r.nameJSON = name, appendJSONString(nil, name)
		}
		r.line = appendPayloadJSON(r.line[:0], r.nameJSON, p, valid, errs, warns)
		_, err := r.out.Write(r.line)
		return err
	case GitHub:
		for _, f := range p.Report.Findings {
			if r.opts.Quiet && !r.failing(f) {
				continue
			}
			if _, err := io.WriteString(r.out, githubAnnotation(name, stdin, f)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range p.Report.Findings {
		if r.opts.Quiet && !r.failing(f) {
			continue
		}
		if err := r.text(name, p, f); err != nil {
			return err
		}
	}
	if r.tty && len(p.Report.Findings) > 0 {
		return r.out.Flush()
	}
	return nil
}

// appendPayloadJSON encodes one "payload" line of the json output by hand (the
// same bytes encoding/json would write, as a test checks), because reflection
// per payload dominated large runs.
// file is the JSON-quoted file name.
func appendPayloadJSON(b []byte, file []byte, p validate.Payload, valid bool, errs, warns int) []byte {
	b = append(b, `{"type":"payload","file":`...)
	b = append(b, file...)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(p.Index), 10)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(p.Line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(p.Column), 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(p.Report.Kind))
	b = append(b, `,"valid":`...)
	b = strconv.AppendBool(b, valid)
	b = append(b, `,"errors":`...)
	b = strconv.AppendInt(b, int64(errs), 10)
	b = append(b, `,"warnings":`...)
	b = strconv.AppendInt(b, int64(warns), 10)
	b = append(b, `,"findings":[`...)
	for i, f := range p.Report.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"severity":`...)
		b = appendJSONString(b, string(f.Severity))
		b = append(b, `,"rule":`...)
		b = appendJSONString(b, f.Rule)
		b = append(b, `,"path":`...)
		b = appendJSONString(b, f.Path)
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(f.Line), 10)
		b = append(b, `,"column":`...)
		b = strconv.AppendInt(b, int64(f.Column), 10)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, f.Message)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// appendJSONString quotes s as encoding/json does with HTML escaping off.
func appendJSONString(b []byte, s string) []byte { return ui.AppendJSONString(b, s, false) }

// text prints one finding: a plain grep-friendly line, or on a terminal a
// coloured header with the offending source line and a caret.
func (r *runner) text(name string, p validate.Payload, f validate.Finding) error {
	st := r.st
	if r.sevWarn == "" { // lipgloss rendering is slow: do it once per run
		r.sevWarn, r.sevErr = st.Warning.Render(string(validate.Warning)), st.Error.Render(string(validate.Error))
	}
	sev := r.sevWarn
	if f.Severity == validate.Error {
		sev = r.sevErr
	}
	path := f.Path
	if path == "" {
		path = "(document)"
	}
	if !r.tty {
		b := append(r.line[:0], name...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(f.Line), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(f.Column), 10)
		b = append(b, ": "...)
		b = append(b, sev...)
		b = append(b, ' ')
		b = append(b, f.Rule...)
		b = append(b, ": "...)
		b = append(b, path...)
		b = append(b, ": "...)
		b = append(b, f.Message...)
		r.line = append(b, '\n')
		_, err := r.out.Write(r.line)
		return err
	}
	loc := fmt.Sprintf("%s:%d:%d", name, f.Line, f.Column)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s\n", st.Bold.Render(loc), sev, st.Dim.Render("["+f.Rule+"]"), st.Path.Render(path))
	fmt.Fprintf(&b, "  %s\n", f.Message)
	if line, caret, ok := snippet(p, f); ok {
		num := strconv.Itoa(f.Line)
		gutter := strings.Repeat(" ", len(num))
		fmt.Fprintf(&b, "  %s %s %s\n", st.Dim.Render(num), st.Dim.Render("│"), line)
		fmt.Fprintf(&b, "  %s %s %s%s\n", gutter, st.Dim.Render("│"), caret, st.Error.Render("^"))
	}
	_, err := io.WriteString(r.out, b.String())
	return err
}

// snippet returns the source line of a finding (windowed around the column
// for long lines) and the padding that puts a caret under the column.
func snippet(p validate.Payload, f validate.Finding) (line, pad string, ok bool) {
	if p.Raw == nil || f.Line < p.Line {
		return "", "", false
	}
	raw := p.Raw
	for i := p.Line; i < f.Line; i++ {
		j := bytes.IndexByte(raw, '\n')
		if j < 0 {
			return "", "", false
		}
		raw = raw[j+1:]
	}
	if j := bytes.IndexByte(raw, '\n'); j >= 0 {
		raw = raw[:j]
	}
	text := strings.TrimRight(string(raw), "\r")
	col := f.Column - 1   // byte offset in the line
	if f.Line == p.Line { // Raw starts mid-line (array elements): pad to the real column
		text = strings.Repeat(" ", p.Column-1) + text
	}
	if col < 0 || col > len(text) || !utf8.ValidString(text) {
		return "", "", false
	}
	const width = 100
	before, after := text[:col], text[col:]
	if n := utf8.RuneCountInString(before); n > width/2 {
		before = "…" + string([]rune(before)[n-width/2+1:])
	}
	if utf8.RuneCountInString(after) > width/2 {
		after = string([]rune(after)[:width/2-1]) + "…"
	}
	var padb strings.Builder
	for _, c := range before {
		if c == '\t' {
			padb.WriteByte('\t')
		} else {
			padb.WriteByte(' ')
		}
	}
	return strings.Map(printable, before+after), padb.String(), true
}

// printable keeps control characters from reaching the terminal.
func printable(r rune) rune {
	if r < ' ' && r != '\t' || r == 0x7f {
		return '·'
	}
	return r
}

// githubAnnotation renders a GitHub Actions workflow command; data and
// property values are escaped as the runner expects.
func githubAnnotation(name string, stdin bool, f validate.Finding) string {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(string(f.Severity))
	b.WriteByte(' ')
	if !stdin {
		b.WriteString("file=" + escapeGitHubProperty(name) + ",")
	}
	fmt.Fprintf(&b, "line=%d,col=%d,title=%s::", f.Line, f.Column, escapeGitHubProperty(f.Rule))
	msg := f.Message
	if f.Path != "" {
		msg = f.Path + ": " + msg
	}
	b.WriteString(escapeGitHubData(msg))
	b.WriteByte('\n')
	return b.String()
}

var (
	githubData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	githubProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeGitHubData(s string) string { return githubData.Replace(s) }

func escapeGitHubProperty(s string) string { return githubProperty.Replace(s) }

func (r *runner) unreadable(name string, err error) {
	r.tally.Unreadable++
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Path + ": " + pe.Err.Error()
	}
	if name == "-" {
		msg = "<stdin>: " + msg
	}
	if r.opts.Output == JSON {
		_ = ui.WriteJSON(r.out, struct {
			Type    string `json:"type"`
			File    string `json:"file"`
			Message string `json:"message"`
		}{"error", name, msg})
	}
	_ = r.out.Flush() // keep stdout and stderr in order on a terminal
	st := r.opts.IO.Styles(r.opts.IO.ErrOut)
	fmt.Fprintf(r.opts.IO.ErrOut, "%s %s\n", st.Error.Render("error:"), msg)
}

func (r *runner) finish() error {
	t := &r.tally
	t.Strict = r.opts.Strict
	t.OK = t.Invalid == 0 && t.Unreadable == 0
	if r.opts.Output == JSON {
		if err := ui.WriteJSON(r.out, struct {
			Type string `json:"type"`
			*Tally
		}{"summary", t}); err != nil {
			return fault.New(fault.IO, err)
		}
	}
	if err := r.out.Flush(); err != nil {
		return fault.New(fault.IO, err)
	}
	if r.opts.Output != JSON && !r.opts.Quiet {
		r.summary()
	}
	return nil
}

func (r *runner) summary() {
	t := r.tally
	st := r.opts.IO.Styles(r.opts.IO.ErrOut)
	checked := fmt.Sprintf("%s in %s", ui.Plural(t.Payloads, "payload"), ui.Plural(t.Files, "file"))
	var line string
	switch {
	case t.Invalid == 0 && t.Warnings == 0:
		line = st.OK.Render("✓") + " " + checked + ": all valid"
	case t.Invalid == 0:
		line = st.Warning.Render("!") + " " + checked + ": valid, " + ui.Plural(t.Warnings, "warning")
	default:
		what := ui.Plural(t.Errors, "error") + ", " + ui.Plural(t.Warnings, "warning")
		if t.Strict && t.Warnings > 0 {
			what += " (--strict: warnings fail)"
		}
		line = st.Error.Render("✗") + " " + checked + ": " + strconv.Itoa(t.Invalid) + " invalid; " + what
	}
	if t.Unreadable > 0 {
		line += "; " + ui.Plural(t.Unreadable, "input") + " unreadable"
	}
	fmt.Fprintln(r.opts.IO.ErrOut, line)
}
