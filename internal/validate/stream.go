package validate

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"sync"

	"github.com/tidwall/gjson"
)

// Format is how payloads are laid out in an input stream.
type Format string

const (
	FormatAuto   Format = ""       // detect: '[' starts an array, one JSON value per line is NDJSON, else one document
	FormatJSON   Format = "json"   // one document
	FormatNDJSON Format = "ndjson" // one payload per line (.ndjson, .jsonl)
	FormatArray  Format = "array"  // a top-level JSON array of payloads
)

// DefaultMaxDocBytes caps one document, NDJSON line or array element. Larger
// ones get a json-too-large finding and are skipped, never buffered whole.
const DefaultMaxDocBytes = 32 << 20

// StreamOptions steer Stream.
type StreamOptions struct {
	Options
	Format      Format
	MaxDocBytes int // 0: DefaultMaxDocBytes
	// Jobs > 1 validates NDJSON lines and array elements on that many
	// goroutines, in batches; fn still sees every payload in input order,
	// on the caller's goroutine. 0 or 1: sequential. A single document is
	// always validated on the caller's goroutine.
	Jobs int
	// MIDs remembers the message mIds seen, for mid-duplicate across
	// several Stream calls (the files of a directory); nil: this stream only.
	MIDs *MIDIndex
	// NoMIDs skips the mid-duplicate check (and its index) altogether.
	NoMIDs bool
}

// Payload is one validated payload of a stream.
type Payload struct {
	Index  int // 0-based position among the stream's payloads
	Line   int // 1-based line where the payload starts in the stream
	Column int // 1-based byte column where it starts
	// Raw holds the payload's bytes, valid only during the callback (nil when
	// it was too large to keep).
	Raw []byte
	// Report's findings are in stream coordinates (line:column of the input).
	Report Report
}

// Stream validates every payload of r in one pass with bounded memory: NDJSON
// is read line by line, arrays element by element, and a single document is
// read only up to the cap. fn sees each payload in order; Stream returns the
// format it used and the first read error (or fn's error).
func Stream(r io.Reader, opts StreamOptions, fn func(Payload) error) (Format, error) {
	if opts.MaxDocBytes <= 0 {
		opts.MaxDocBytes = DefaultMaxDocBytes
	}
	if opts.MIDs == nil && !opts.NoMIDs {
		opts.MIDs = NewMIDIndex()
	}
	opts.mids = opts.MIDs != nil
	s := &streamer{br: bufio.NewReaderSize(r, 64<<10), opts: opts, fn: fn, line: 1, col: 1}
	format, err := s.run()
	if p := s.par; p != nil {
		// Payloads read before a read error are still reported, as in the
		// sequential run; after an error from fn nothing more is.
		if p.failed == nil {
			p.flush()
		}
		p.stop()
		if p.failed != nil {
			err = p.failed
		}
	}
	return format, err
}

type streamer struct {
	br        *bufio.Reader
	opts      StreamOptions
	fn        func(Payload) error
	line, col int // position of the next unread byte
	index     int
	buf       []byte
	par       *pool // nil: sequential
}

func (s *streamer) run() (Format, error) {
	format := s.opts.Format
	if format == FormatNDJSON {
		s.parallel()
		return format, s.ndjson(nil, 0, 0)
	}
	eof, err := s.skipSpace()
	if err != nil {
		return format, err
	}
	if eof {
		return format, s.emitFinding(RuleSyntax, "the input is empty: expected a JSON object, an array of them or NDJSON")
	}
	first, _ := s.br.Peek(1)
	if format == FormatArray || format == FormatAuto && first[0] == '[' {
		s.parallel()
		return FormatArray, s.array()
	}
	startLine, startCol := s.line, s.col
	if format == FormatJSON {
		return format, s.document(nil, false, startLine, startCol)
	}
	// Auto: a first line that is complete JSON followed by more content is NDJSON.
	line, tooLong, err := s.readLine(true)
	nl := err == nil
	if err != nil && err != io.EOF {
		return format, err
	}
	if tooLong {
		return FormatJSON, s.tooLargeAt(startLine, startCol)
	}
	if completeJSON(line) {
		more, err := s.hasMore()
		if err != nil {
			return format, err
		}
		if more {
			s.parallel()
			return FormatNDJSON, s.ndjson(line, startLine, startCol)
		}
		return FormatJSON, s.validate(line, startLine, startCol)
	}
	return FormatJSON, s.document(line, nl, startLine, startCol)
}

// completeJSON reports whether line is one well-formed JSON value. The flat
// depth pre-check runs first because gjson's validator recurses and a first
// line can be 32 MiB of brackets. Too deep counts as complete: it is one
// payload either way, reported as json-depth.
func completeJSON(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	if _, deep := depthExceeded(line, MaxDepth); deep {
		return true
	}
	return gjson.ValidBytes(line)
}

// readByte reads one byte and keeps line:column.
func (s *streamer) readByte() (byte, error) {
	b, err := s.br.ReadByte()
	if err != nil {
		return 0, err
	}
	if b == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	return b, nil
}

func (s *streamer) skipSpace() (eof bool, err error) {
	for {
		b, err := s.br.ReadByte()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		switch b {
		case '\n':
			s.line++
			s.col = 1
		case ' ', '\t', '\r':
			s.col++
		default:
			return false, s.br.UnreadByte()
		}
	}
}

// hasMore skips white space (counting lines) and reports whether anything follows.
func (s *streamer) hasMore() (bool, error) {
	eof, err := s.skipSpace()
	return !eof, err
}

// readLine reads up to and without the next '\n' (and a '\r' before it); a
// line over the cap is consumed but not kept (tooLong).
// With giveUp, reading stops at the cap instead of skipping to the line's end.
// Without it, a line that is whole in the reader's buffer is returned in
// place, not copied: it is valid until the next read.
func (s *streamer) readLine(giveUp bool) (line []byte, tooLong bool, err error) {
	s.buf = s.buf[:0]
	inPlace := !giveUp
	for {
		chunk, err := s.br.ReadSlice('\n')
		if inPlace && err != bufio.ErrBufferFull {
			if err == nil {
				s.line++
				s.col = 1
			}
			line = bytes.TrimSuffix(chunk, []byte{'\n'})
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if len(line) > s.opts.MaxDocBytes {
				tooLong, line = true, nil
			}
			return line, tooLong, err
		}
		inPlace = false
		if !tooLong {
			if len(s.buf)+len(chunk) > s.opts.MaxDocBytes+2 {
				tooLong = true
				s.buf = s.buf[:0]
				if giveUp {
					return nil, true, nil
				}
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			s.line++
			s.col = 1
		}
		line = s.buf
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > s.opts.MaxDocBytes {
			tooLong, line = true, nil
		}
		return line, tooLong, err
	}
}

// ndjson validates line by line; first (from auto-detection) started at
// firstLine:firstCol.
func (s *streamer) ndjson(first []byte, firstLine, firstCol int) error {
	if first != nil {
		if err := s.validate(first, firstLine, firstCol); err != nil {
			return err
		}
	}
	for {
		lineNo, colNo := s.line, s.col
		line, tooLong, err := s.readLine(false)
		if err != nil && err != io.EOF {
			return err
		}
		switch {
		case tooLong:
			if err := s.tooLargeAt(lineNo, colNo); err != nil {
				return err
			}
		case len(bytes.TrimSpace(line)) > 0:
			if err := s.validate(line, lineNo, colNo); err != nil {
				return err
			}
		}
		if err == io.EOF {
			if s.index == 0 {
				return s.emitFinding(RuleSyntax, "the input is empty: expected one JSON payload per line")
			}
			return nil
		}
	}
}

// document reads a single document (prefix already read) up to the cap.
// (prefix is its first line, already read; nl says a newline ended it).
func (s *streamer) document(prefix []byte, nl bool, startLine, startCol int) error {
	if nl {
		prefix = append(prefix, '\n')
	}
	limit := int64(s.opts.MaxDocBytes - len(prefix) + 1)
	rest, err := io.ReadAll(io.LimitReader(s.br, limit))
	if err != nil {
		return err
	}
	if len(prefix)+len(rest) > s.opts.MaxDocBytes {
		return s.tooLargeAt(startLine, startCol)
	}
	doc := append(prefix, rest...)
	return s.validate(doc, startLine, startCol)
}

func (s *streamer) tooLargeAt(line, col int) error {
	f := Finding{Severity: Error, Rule: RuleTooLarge, Line: line, Column: col,
		Message: "payload is larger than " + sizeString(s.opts.MaxDocBytes) + "; it was skipped without being read into memory"}
	return s.emit(Payload{Line: line, Column: col, Report: Report{Findings: []Finding{f}}})
}

func sizeString(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// emitFinding reports a stream-level problem (bad array syntax, empty input)
// as a payload of its own at the current position.
func (s *streamer) emitFinding(rule, msg string) error {
	sev, _ := RuleSeverity(rule)
	f := Finding{Severity: sev, Rule: rule, Line: s.line, Column: s.col, Message: msg}
	return s.emit(Payload{Line: s.line, Column: s.col, Report: Report{Findings: []Finding{f}}})
}

func (s *streamer) emit(p Payload) error {
	if s.par != nil {
		return s.add(nil, p.Line, p.Column, &p.Report)
	}
	p.Index = s.index
	s.index++
	if p.Report.mids.n > 0 {
		s.opts.MIDs.check(&p.Report, p.Raw)
	}
	return s.fn(p)
}

// validate checks one payload and shifts its findings into stream coordinates.
func (s *streamer) validate(raw []byte, line, col int) error {
	if s.par != nil {
		return s.add(raw, line, col, nil)
	}
	r := Bytes(raw, s.opts.Options)
	shift(&r, line, col)
	return s.emit(Payload{Line: line, Column: col, Raw: raw, Report: r})
}

// shift moves a payload's findings (and mIds) from payload to stream
// coordinates.
func shift(r *Report, line, col int) {
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Line == 1 {
			f.Column += col - 1
		}
		f.Line += line - 1
	}
	for i := range r.Media {
		m := &r.Media[i]
		if m.Line == 1 {
			m.Column += col - 1
		}
		m.Line += line - 1
	}
	for i := 0; i < r.mids.n; i++ {
		m := r.mids.at(i)
		if m.line == 1 {
			m.col += int32(col - 1)
		}
		m.line += int32(line - 1)
	}
}

// array splits a top-level array into elements without decoding them: a flat
// scanner that tracks strings and bracket depth (no recursion, any depth).
func (s *streamer) array() error {
	openLine, openCol := s.line, s.col
	if b, err := s.readByte(); err != nil || b != '[' {
		if err != nil && err != io.EOF {
			return err
		}
		return s.emitFinding(RuleSyntax, "expected '[' to start an array of payloads")
	}
	for n := 0; ; n++ {
		eof, err := s.skipSpace()
		if err != nil {
			return err
		}
		if eof {
			return s.emitFinding(RuleSyntax, "unexpected end of input inside the array (truncated?)")
		}
		if b, _ := s.br.Peek(1); b[0] == ']' && n == 0 {
			s.readByte()
			// "[]" is no payloads, not "all valid": say so, as an error.
			sev, _ := RuleSeverity(RuleArrayEmpty)
			f := Finding{Severity: sev, Rule: RuleArrayEmpty, Line: openLine, Column: openCol,
				Message: "an empty array: there is no payload to validate"}
			if err := s.emit(Payload{Line: openLine, Column: openCol, Report: Report{Findings: []Finding{f}}}); err != nil {
				return err
			}
			break
		}
		line, col := s.line, s.col
		raw, tooLong, err := s.element()
		if err != nil && err != io.EOF {
			return err
		}
		if tooLong {
			if err := s.tooLargeAt(line, col); err != nil {
				return err
			}
		} else if len(raw) > 0 {
			if err := s.validate(raw, line, col); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return s.emitFinding(RuleSyntax, "unexpected end of input inside the array (truncated?)")
		}
		if eof, err := s.skipSpace(); err != nil {
			return err
		} else if eof {
			return s.emitFinding(RuleSyntax, "unexpected end of input inside the array (truncated?)")
		}
		b, _ := s.readByte()
		if b == ']' {
			break
		}
		if b != ',' {
			s.col--
			return s.emitFinding(RuleSyntax, "expected ',' or ']' after array element "+strconv.Itoa(n)+", got "+strconv.QuoteRune(rune(b)))
		}
		if eof, err := s.skipSpace(); err != nil {
			return err
		} else if !eof {
			if b, _ := s.br.Peek(1); b[0] == ']' {
				return s.emitFinding(RuleSyntax, "trailing comma before ']' (JSON does not allow it)")
			}
		}
	}
	if more, err := s.hasMore(); err != nil {
		return err
	} else if more {
		return s.emitFinding(RuleSyntax, "unexpected content after the closing ']' of the array")
	}
	return nil
}

// element captures one array element's bytes (up to the cap), scanning the
// reader's buffer in place rather than byte by byte.
func (s *streamer) element() (raw []byte, tooLong bool, err error) {
	s.buf = s.buf[:0]
	depth := 0
	inStr, esc := false, false
	first, scalar := true, false
	for {
		if _, err := s.br.Peek(1); err != nil {
			return s.buf, tooLong, err
		}
		win, _ := s.br.Peek(s.br.Buffered())
		i, done := 0, false
	scan:
		for ; i < len(win); i++ {
			b := win[i]
			if first {
				first = false
				scalar = b != '"' && b != '{' && b != '[' && b != '}' && b != ']'
			}
			if scalar {
				switch b {
				case ',', ']', ' ', '\t', '\r', '\n': // a scalar ends at a delimiter, left unread
					done = true
					break scan
				}
				continue
			}
			if inStr {
				switch {
				case esc:
					esc = false
				case b == '\\':
					esc = true
				case b == '"':
					inStr = false
					if depth == 0 {
						i++
						done = true
						break scan
					}
				}
				continue
			}
			switch b {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth <= 0 {
					i++
					done = true
					break scan
				}
			}
		}
		chunk := win[:i]
		if !tooLong {
			if len(s.buf)+len(chunk) > s.opts.MaxDocBytes {
				tooLong = true
				s.buf = s.buf[:0]
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		s.advance(chunk)
		if _, err := s.br.Discard(i); err != nil {
			return s.buf, tooLong, err
		}
		if done {
			return s.buf, tooLong, nil
		}
	}
}

// advance moves line:column over bytes consumed without readByte.
func (s *streamer) advance(b []byte) {
	if n := bytes.Count(b, []byte{'\n'}); n > 0 {
		s.line += n
		s.col = len(b) - bytes.LastIndexByte(b, '\n')
		return
	}
	s.col += len(b)
}

// ---- parallel validation ----------------------------------------------------
//
// The caller's goroutine reads and splits the input as in the sequential run
// and copies payloads into batches; workers validate whole batches; the
// caller hands finished batches to fn strictly in input order. At most
// maxInFlight batches exist at a time (the reader waits for the oldest one
// to be reported before it starts another), so memory stays bounded
// whatever the input's size. Batching amortises the channel hand-offs,
// which would otherwise cost about as much as validating a small payload.

// Batch limits: a batch is dispatched at batchPayloads payloads or
// batchBytes bytes, whichever comes first (variables so that tests can force
// many small batches).
var (
	batchPayloads = 256
	batchBytes    = 1 << 20
)

const keepBatchBuf = 4 << 20 // a batch buffer grown beyond this (a huge payload) is not kept

// item is one payload of a batch.
type item struct {
	line, col, index int
	start, end       int // Raw is buf[start:end]; start < 0: no Raw
	ready            bool
	rep              Report
}

type batch struct {
	items []item
	buf   []byte        // the batch's payload bytes, back to back
	done  chan struct{} // closed by the worker once every item has its report
}

type pool struct {
	opts   Options
	fn     func(Payload) error
	mids   *MIDIndex
	work   chan *batch
	queue  []*batch // dispatched, in input order, not yet reported
	free   []*batch
	cur    *batch // being filled
	max    int    // batches in flight
	wg     sync.WaitGroup
	failed error // fn's error: nothing is reported after it
}

// parallel switches the streamer to batched validation on opts.Jobs workers.
func (s *streamer) parallel() {
	jobs := s.opts.Jobs
	if jobs <= 1 || s.par != nil {
		return
	}
	max := 2 * jobs // enough to keep every worker busy while one batch is reported
	p := &pool{opts: s.opts.Options, fn: s.fn, mids: s.opts.MIDs, work: make(chan *batch, max), max: max}
	for i := 0; i < jobs; i++ {
		p.wg.Add(1)
		go p.worker()
	}
	s.par = p
}

func (p *pool) worker() {
	defer p.wg.Done()
	for b := range p.work {
		for i := range b.items {
			it := &b.items[i]
			if it.ready {
				continue
			}
			it.rep = Bytes(b.buf[it.start:it.end], p.opts)
			shift(&it.rep, it.line, it.col)
		}
		close(b.done)
	}
}

// add appends a payload to the current batch (raw is copied; rep != nil is a
// finding known without validation) and dispatches the batch when it is full.
func (s *streamer) add(raw []byte, line, col int, rep *Report) error {
	p := s.par
	if p.failed != nil {
		return p.failed
	}
	b := p.cur
	if b == nil {
		if n := len(p.free); n > 0 {
			b, p.free = p.free[n-1], p.free[:n-1]
		} else {
			b = &batch{items: make([]item, 0, batchPayloads)}
		}
		p.cur = b
	}
	it := item{line: line, col: col, index: s.index, start: -1}
	s.index++
	if rep != nil {
		it.rep, it.ready = *rep, true
	} else {
		it.start = len(b.buf)
		b.buf = append(b.buf, raw...)
		it.end = len(b.buf)
	}
	b.items = append(b.items, it)
	if len(b.items) >= batchPayloads || len(b.buf) >= batchBytes {
		return p.dispatch()
	}
	return nil
}

// dispatch hands the current batch to the workers, then reports finished
// batches: every one that is done already, and the oldest ones while too
// many are in flight.
func (p *pool) dispatch() error {
	if b := p.cur; b != nil && len(b.items) > 0 {
		b.done = make(chan struct{})
		p.work <- b // never blocks: the channel holds max batches
		p.queue = append(p.queue, b)
		p.cur = nil
	}
	for len(p.queue) > 0 {
		if len(p.queue) < p.max {
			select {
			case <-p.queue[0].done:
			default:
				return nil
			}
		}
		if err := p.report(); err != nil {
			return err
		}
	}
	return nil
}

// report waits for the oldest batch and passes its payloads to fn in order.
func (p *pool) report() error {
	b := p.queue[0]
	<-b.done
	p.queue = p.queue[1:]
	for i := range b.items {
		it := &b.items[i]
		pl := Payload{Index: it.index, Line: it.line, Column: it.col, Report: it.rep}
		if it.start >= 0 {
			pl.Raw = b.buf[it.start:it.end]
		}
		if pl.Report.mids.n > 0 {
			p.mids.check(&pl.Report, pl.Raw)
		}
		if err := p.fn(pl); err != nil {
			p.failed = err
			return err
		}
	}
	clear(b.items) // drop the reports' findings
	b.items = b.items[:0]
	if cap(b.buf) > keepBatchBuf {
		b.buf = nil
	}
	b.buf = b.buf[:0]
	p.free = append(p.free, b)
	return nil
}

// flush reports everything still pending.
func (p *pool) flush() {
	if p.dispatch() != nil {
		return
	}
	for len(p.queue) > 0 {
		if p.report() != nil {
			return
		}
	}
}

// stop ends the workers; batches in their hands are finished first.
func (p *pool) stop() {
	close(p.work)
	p.wg.Wait()
}
