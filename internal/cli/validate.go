package cli

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
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/mediacheck"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/spf13/cobra"
)

// Output formats of `ccx validate`.
const (
	outputText   = "text"
	outputJSON   = "json"
	outputGitHub = "github"
)

var validateOutputs = []string{outputText, outputJSON, outputGitHub}

// ValidateOptions are the flags and arguments of `ccx validate`.
type ValidateOptions struct {
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
}

func newValidateCmd(f *Factory, runF func(context.Context, *ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IO}
	var kind, idType, output string
	cmd := &cobra.Command{
		Use:   "validate [FILE|DIR|-]...",
		Short: "Check webhook bodies, /message bodies and /message replies against the Custom Channel spec",
		Long: `Validate Custom Channel payloads: the webhook bodies your integration server POSTs to
IS-Messenger, the /message bodies the platform sends you, and your /message replies.

Inputs are files, directories (searched for *.json, *.ndjson and *.jsonl, in name
order, skipping hidden directories and, with a note, anything that is not a
regular file, such as a FIFO) or - for stdin (the default). Each input may hold one JSON document, a JSON
array of payloads, or NDJSON (one payload per line); the layout is detected.
The payload kind is detected from its keys unless --kind is given.

Every finding has a severity, a JSON path, the line:column in the input, a stable
rule id and a message (see docs/validate.md for the rule list). Warnings do not
fail the run unless --strict is given.

The ID type (--id-type) and the expected channel (--channel-id) fall back to
CCX_ID_TYPE / CCX_CHANNEL_ID and the active profile's id_type / channel_id.

--fetch-media also fetches each attachment URL's headers (HEAD, else a one-byte
GET; 5 s each; http(s) only) and warns (media-unreachable, media-status,
media-disposition, media-content-type) where the platform could not show it.
It is off by default: it needs the network.

Exit status: 0 all payloads valid; 1 a payload has an error (or a warning with
--strict); 2 usage error; 3 an input could not be read (the other inputs are
still validated, and 3 wins over 1).`,
		Example: `  # Validate the sample webhook bodies
  ccx validate testdata/valid/webhook/

  # Phone-number contact IDs, warnings fail too
  ccx validate --id-type phone --strict testdata/valid/webhook/message--text.json

  # NDJSON from stdin, one JSON result per payload
  cat testdata/ndjson/valid.ndjson | ccx validate - --output json

  # A reply your /message handler returned with HTTP 400
  ccx validate --kind reply --status 400 testdata/valid/reply/400--error.json

  # GitHub Actions annotations
  ccx validate --output github testdata/valid/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if len(args) == 0 && f.IO.IsStdinTTY() {
				return usageHelp(cmd.CommandPath(), errors.New("nothing to validate: give FILE, DIR or - (stdin is a terminal)"))
			}
			switch kind {
			case "", "auto":
			default:
				if !oneOf(validate.Kind(kind), validate.Kinds) {
					return UsageErrorf(fmt.Errorf("unknown --kind %q: use webhook, message or reply", kind))
				}
				opts.Kind = validate.Kind(kind)
			}
			switch {
			case output == "" && f.JSON:
				opts.Output = outputJSON
			case output == "":
				opts.Output = outputText
			case !oneOf(output, validateOutputs):
				return UsageErrorf(fmt.Errorf("unknown --output %q: use text, json or github", output))
			case f.JSON && output != outputJSON:
				return UsageErrorf(fmt.Errorf("--json conflicts with --output %s", output))
			default:
				opts.Output = output
			}
			if opts.Status != 0 && opts.Status < 100 {
				return UsageErrorf(fmt.Errorf("invalid --status %d: use an HTTP status, 100-599 (0 infers it from the body)", opts.Status))
			}
			if opts.Jobs == 0 {
				opts.Jobs = runtime.GOMAXPROCS(0)
			}
			settings, err := f.Settings(config.Profile{IDType: idType, ChannelID: opts.Channel})
			if err != nil {
				return err
			}
			if settings.IDType != "" {
				t, err := channel.ParseIDType(settings.IDType)
				if err != nil {
					where := "--id-type"
					if idType == "" {
						where = "id_type (from CCX_ID_TYPE or the profile)"
					}
					return UsageErrorf(fmt.Errorf("%s: %w", where, err))
				}
				opts.IDType = t
			}
			opts.Channel = settings.ChannelID
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runValidate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "kind", "", "payload kind: webhook, message or reply (default: detect)")
	fl.StringVar(&idType, "id-type", "", "contact ID type: phone or custom (default: the profile's id_type)")
	fl.StringVar(&opts.Channel, "channel-id", "", "expected channelId (default: the profile's channel_id)")
	fl.IntVar(&opts.Status, "status", 0, "HTTP status the reply payloads came with (default: inferred from the body)")
	fl.IntVar(&opts.Limit, "text-limit", channel.TextWarnLen, "warn when a text is longer than this many characters")
	fl.BoolVar(&opts.Strict, "strict", false, "treat warnings as failures (exit 1)")
	fl.StringVarP(&output, "output", "o", "", "output format: text, json (NDJSON, one line per payload) or github")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only failing findings and no summary")
	fl.BoolVar(&opts.FetchMedia, "fetch-media", false, "fetch each attachment URL's headers and warn when the platform could not show it (needs the network)")
	fl.IntVarP(&opts.Jobs, "jobs", "j", 0, "validate NDJSON lines and array elements on N workers (0: one per CPU; 1: sequential)")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion(validate.Kinds))
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(validateOutputs))
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(replyStatuses))
	limitFlag(fl, "status", 0, 599, "an HTTP status, 100-599 (0 infers it from the body)")
	limitFlag(fl, "text-limit", 0, noMax, "0 or a positive number of characters")
	limitFlag(fl, "jobs", 0, 1024, "0 (one per CPU) to 1024")
	cmd.AddCommand(newValidateIDCmd(f))
	return cmd
}

// validateTally counts what a run saw.
type validateTally struct {
	Files      int  `json:"files"`
	Payloads   int  `json:"payloads"`
	Invalid    int  `json:"invalid"`
	Errors     int  `json:"errors"`
	Warnings   int  `json:"warnings"`
	Unreadable int  `json:"unreadable"`
	Strict     bool `json:"strict"`
	OK         bool `json:"ok"`
}

type validateRun struct {
	opts  *ValidateOptions
	out   *bufio.Writer // stdout, buffered: one write per finding is too slow for big streams
	st    ui.Styles
	tty   bool
	tally validateTally
	line  []byte // reused output line

	sevWarn, sevErr string // rendered severities
	nameFor         string // file whose quoted name is in nameJSON
	nameJSON        []byte
	mids            *validate.MIDIndex  // this input's mIds (a directory is one input)
	media           *mediacheck.Checker // --fetch-media
}

// runValidate validates every input, printing as it goes, and maps the
// outcome to the exit code (3 unreadable > 1 invalid > 0).
func runValidate(ctx context.Context, opts *ValidateOptions) error {
	r := &validateRun{opts: opts, out: bufio.NewWriterSize(opts.IO.Out, 64<<10), tty: opts.IO.IsStdoutTTY() && opts.Output == outputText}
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
			return err
		}
		files, err := expandInput(in, r.skip)
		if err != nil {
			r.unreadable(in, err)
			continue
		}
		r.mids = validate.NewMIDIndex()
		for _, file := range files {
			if err := r.file(ctx, file); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.unreadable(file, err)
			}
		}
	}
	return r.finish()
}

// skip notes on stderr a file a directory walk leaves out.
func (r *validateRun) skip(path, why string) {
	fmt.Fprintf(r.opts.IO.ErrOut, "note: skipping %s: %s\n", path, why)
}

// expandInput turns a directory into its *.json, *.ndjson and *.jsonl files
// in name order (hidden directories below it are skipped, and so are
// payload-named entries that are not regular files, with a note: a FIFO
// would block the walk forever); files and "-" pass through.
func expandInput(in string, skip func(path, why string)) ([]string, error) {
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

func (r *validateRun) file(ctx context.Context, file string) error {
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
	}, Jobs: r.opts.Jobs, MIDs: r.mids}
	r.mids.File(name)
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

func (r *validateRun) failing(f validate.Finding) bool {
	return f.Severity == validate.Error || r.opts.Strict
}

func (r *validateRun) payload(name string, stdin bool, p validate.Payload) error {
	t := &r.tally
	t.Payloads++
	errs, warns := p.Report.Errors(), p.Report.Warnings()
	t.Errors += errs
	t.Warnings += warns
	valid := errs == 0 && (!r.opts.Strict || warns == 0)
	if !valid {
		t.Invalid++
	}
	switch r.opts.Output {
	case outputJSON:
		if r.nameFor != name { // the quoted file name is the same for every payload of a file
			r.nameFor, r.nameJSON = name, appendJSONString(nil, name)
		}
		r.line = appendPayloadJSON(r.line[:0], r.nameJSON, p, valid, errs, warns)
		_, err := r.out.Write(r.line)
		return err
	case outputGitHub:
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
func (r *validateRun) text(name string, p validate.Payload, f validate.Finding) error {
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

func (r *validateRun) unreadable(name string, err error) {
	r.tally.Unreadable++
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Path + ": " + pe.Err.Error()
	}
	if name == "-" {
		msg = "<stdin>: " + msg
	}
	if r.opts.Output == outputJSON {
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

func (r *validateRun) finish() error {
	t := &r.tally
	t.Strict = r.opts.Strict
	t.OK = t.Invalid == 0 && t.Unreadable == 0
	if r.opts.Output == outputJSON {
		if err := ui.WriteJSON(r.out, struct {
			Type string `json:"type"`
			*validateTally
		}{"summary", t}); err != nil {
			return Exit(ExitIO, err)
		}
	}
	if err := r.out.Flush(); err != nil {
		return Exit(ExitIO, err)
	}
	if r.opts.Output != outputJSON && !r.opts.Quiet {
		r.summary()
	}
	switch {
	case t.Unreadable > 0:
		return Silent(ExitIO)
	case t.Invalid > 0:
		return Silent(ExitFailure)
	}
	return nil
}

func (r *validateRun) summary() {
	t := r.tally
	st := r.opts.IO.Styles(r.opts.IO.ErrOut)
	checked := fmt.Sprintf("%s in %s", plural(t.Payloads, "payload"), plural(t.Files, "file"))
	var line string
	switch {
	case t.Invalid == 0 && t.Warnings == 0:
		line = st.OK.Render("✓") + " " + checked + ": all valid"
	case t.Invalid == 0:
		line = st.Warning.Render("!") + " " + checked + ": valid, " + plural(t.Warnings, "warning")
	default:
		what := plural(t.Errors, "error") + ", " + plural(t.Warnings, "warning")
		if t.Strict && t.Warnings > 0 {
			what += " (--strict: warnings fail)"
		}
		line = st.Error.Render("✗") + " " + checked + ": " + strconv.Itoa(t.Invalid) + " invalid; " + what
	}
	if t.Unreadable > 0 {
		line += "; " + plural(t.Unreadable, "input") + " unreadable"
	}
	fmt.Fprintln(r.opts.IO.ErrOut, line)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// ---- validate id -----------------------------------------------------------

// ValidateIDOptions are the flags and arguments of `ccx validate id`.
type ValidateIDOptions struct {
	IO     *ui.IOStreams
	Values []string
	IDType channel.IDType
	JSON   bool
}

func newValidateIDCmd(f *Factory) *cobra.Command {
	opts := &ValidateIDOptions{IO: f.IO}
	var idType string
	cmd := &cobra.Command{
		Use:   "id VALUE...",
		Short: "Check contact IDs against the channel's ID type",
		Long: `Check one or more contact IDs against the Custom Channel ID rules:

  phone   E.164 with a leading +: + then 7 to 15 digits, no leading 0
  custom  1 to 50 characters from A-Z a-z 0-9 _ = + / @

Without --type (and without CCX_ID_TYPE or a profile id_type) a value must fit
one of the two (in effect the custom alphabet, which holds every E.164 number).
One verdict per value; exit 1 if any value is invalid. To validate a file that
is literally named "id", write ./id.`,
		Example: `  ccx validate id +60177872890 --type phone
  ccx validate id user_123 alice@example --type custom --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageHelp(cmd.CommandPath(), fmt.Errorf("%s needs at least one VALUE", cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Values, opts.JSON = args, f.JSON
			settings, err := f.Settings(config.Profile{IDType: idType})
			if err != nil {
				return err
			}
			if settings.IDType != "" {
				t, err := channel.ParseIDType(settings.IDType)
				if err != nil {
					return UsageErrorf(fmt.Errorf("--type: %w", err))
				}
				opts.IDType = t
			}
			return runValidateID(opts)
		},
	}
	cmd.Flags().StringVar(&idType, "type", "", "ID type: phone or custom (default: the profile's id_type)")
	_ = cmd.RegisterFlagCompletionFunc("type", fixedCompletion(channel.IDTypes))
	return cmd
}

type idVerdict struct {
	Value    string             `json:"value"`
	Type     string             `json:"type"`
	Valid    bool               `json:"valid"`
	Findings []validate.Finding `json:"findings"`
}

func runValidateID(opts *ValidateIDOptions) error {
	st := opts.IO.Styles(opts.IO.Out)
	typ := string(opts.IDType)
	if typ == "" {
		typ = "any"
	}
	bad := 0
	for _, v := range opts.Values {
		fs := validate.ID(v, opts.IDType)
		if fs == nil {
			fs = []validate.Finding{}
		} else {
			bad++
		}
		if opts.JSON {
			if err := ui.WriteJSON(opts.IO.Out, idVerdict{Value: v, Type: typ, Valid: len(fs) == 0, Findings: fs}); err != nil {
				return Exit(ExitIO, err)
			}
			continue
		}
		if len(fs) == 0 {
			fmt.Fprintf(opts.IO.Out, "%s %s: valid %s contact ID\n", st.OK.Render("✓"), strconv.Quote(v), typ)
			continue
		}
		for _, f := range fs {
			fmt.Fprintf(opts.IO.Out, "%s %s: %s [%s] at character %d: %s\n", st.Error.Render("✗"), strconv.Quote(v), st.Error.Render("invalid"), f.Rule, f.Column, f.Message)
		}
	}
	if opts.IDType == "" && !opts.JSON {
		fmt.Fprintln(opts.IO.ErrOut, "note: no ID type (--type, CCX_ID_TYPE or the profile's id_type): checked against both types (a value must fit one); --type narrows it")
	}
	if bad > 0 {
		return Silent(ExitFailure)
	}
	return nil
}
