package validate

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
)

// MaxDepth is the deepest nesting Bytes accepts. Real payloads nest five
// levels; the scanner's stack has room for MaxDepth open containers.
const MaxDepth = 64

// checkers are reused: a checker carries its tape and scanner stack.
var checkers = sync.Pool{New: func() any { return new(checker) }}

// keepTape caps the tape a pooled checker keeps (a huge payload's tape is
// dropped rather than pinned).
const keepTape = 1 << 16

// Bytes validates one payload. It never panics and never keeps a reference
// to data after it returns (callers may reuse the buffer).
func Bytes(data []byte, opts Options) Report {
	c := checkers.Get().(*checker)
	c.data, c.opts = data, opts
	c.run()
	if len(c.findings) > 1 {
		slices.SortStableFunc(c.findings, func(a, b Finding) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
	}
	r := Report{Kind: c.kind, Findings: c.findings, mids: c.mids, Media: c.mediaOut}
	c.mediaOut = nil
	c.data, c.findings, c.kind, c.depth, c.mids, c.channel = nil, nil, "", 0, midList{}, ""
	c.lineStarts = c.lineStarts[:0]
	if cap(c.tape) > keepTape {
		c.tape = nil
	}
	checkers.Put(c)
	return r
}

// DetectKind tells a webhook body, a /message body and a /message reply apart
// by their top-level keys; KindAuto when it cannot tell. (gjson reads the
// keys: this is not on the validation path.)
func DetectKind(data []byte) Kind {
	start := skipSpace(data, 0)
	if start == len(data) || data[start] != '{' {
		return KindAuto
	}
	if _, deep := depthExceeded(data, MaxDepth); deep || !gjson.ValidBytes(data) {
		return KindAuto
	}
	var has rootKeys
	gjson.ParseBytes(data).ForEach(func(k, _ gjson.Result) bool {
		has.note(k.Str)
		return true
	})
	return has.kind()
}

type rootKeys struct{ events, message, reply bool }

func (h *rootKeys) note(k string) {
	switch k {
	case "events":
		h.events = true
	case "message":
		h.message = true
	case "mId", "error":
		h.reply = true
	}
}

func (h rootKeys) kind() Kind {
	switch {
	case h.events:
		return KindWebhook
	case h.message:
		return KindMessage
	case h.reply:
		return KindReply
	}
	return KindAuto
}

// seg is one step of a JSON path: an object key, or an array index (idx >= 0).
type seg struct {
	key string
	idx int
}

// checker scans one payload onto its tape and walks it. The path is kept as
// a small stack and rendered only when a finding is added, so valid
// payloads allocate nothing.
type checker struct {
	data     []byte
	opts     Options
	kind     Kind
	findings []Finding

	path  [16]seg
	depth int

	lineStarts []int // built on the first finding

	// scanner state (scan.go)
	tape     []node
	stack    [MaxDepth]frame
	badOff   int    // the current string's first bad escape (-1: none)
	badRule  string // ... and its rule
	escFound int    // escape findings so far

	bigGrowths int // tape growths past bigTape (for a test)

	channel string  // the payload's channelId, for mId keys
	mids    midList // message mIds seen (only with opts.mids)

	mediaOut []Media // attachment URLs (only with opts.Media)
}

func (c *checker) push(key string) {
	if c.depth < len(c.path) {
		c.path[c.depth] = seg{key: key, idx: -1}
	}
	c.depth++
}

func (c *checker) pushIdx(i int) {
	if c.depth < len(c.path) {
		c.path[c.depth] = seg{idx: i}
	}
	c.depth++
}

func (c *checker) pop() { c.depth-- }

func (c *checker) pathString(leaf string) string {
	var b []byte
	n := min(c.depth, len(c.path))
	for i := 0; i < n; i++ {
		s := c.path[i]
		if s.idx >= 0 {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.idx), 10)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, s.key...)
	}
	if leaf != "" {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, leaf...)
	}
	return string(b)
}

// add records a finding at byte offset off; leaf names a field below the
// current path ("" for the current path itself).
func (c *checker) add(rule, leaf string, off int, msg string) {
	sev, ok := RuleSeverity(rule)
	if !ok {
		sev = Error
	}
	line, col := c.position(off)
	c.findings = append(c.findings, Finding{Severity: sev, Rule: rule, Path: c.pathString(leaf), Line: line, Column: col, Message: msg})
}

// position maps a byte offset to line:column with a line table built once per
// payload, so many findings do not rescan the input.
func (c *checker) position(off int) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > len(c.data) {
		off = len(c.data)
	}
	if len(c.lineStarts) == 0 {
		c.lineStarts = append(c.lineStarts, 0)
		for i := 0; ; {
			j := bytes.IndexByte(c.data[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			c.lineStarts = append(c.lineStarts, i)
		}
	}
	lo, hi := 0, len(c.lineStarts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if c.lineStarts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, off - c.lineStarts[lo] + 1
}

// Position turns a byte offset into a 1-based line and column (in bytes).
func Position(data []byte, offset int) (line, col int) {
	if offset < 0 {
		offset = 0
	}
	if offset > len(data) {
		offset = len(data)
	}
	head := data[:offset]
	line = 1 + bytes.Count(head, []byte{'\n'})
	col = offset - (bytes.LastIndexByte(head, '\n') + 1) + 1
	return line, col
}

// ---- values on the tape ----------------------------------------------------

// value is a tape node as the rules see it: kind is its first byte ('{',
// '[', '"', 't', 'f', 'n', or a number's '-' or digit), 0 when it is absent;
// off is where it starts in the payload.
type value struct {
	kind byte
	n    int32 // tape index
	off  int
}

func (v value) exists() bool { return v.kind != 0 }
func (v value) isObj() bool  { return v.kind == '{' }
func (v value) isArr() bool  { return v.kind == '[' }
func (v value) isStr() bool  { return v.kind == '"' }
func (v value) isNum() bool  { return v.kind == '-' || v.kind >= '0' && v.kind <= '9' }

func (c *checker) val(n int32) value {
	off := int(c.tape[n].off)
	return value{kind: c.data[off], n: n, off: off}
}

// next is the tape index after value n's subtree.
func (c *checker) next(n int32) int32 {
	if k := c.data[c.tape[n].off]; k == '{' || k == '[' {
		return int32(c.tape[n].x)
	}
	return n + 1
}

// strOf is a string's text: a view of the payload when it holds no escape
// (messages copy what they quote), else its decoded copy.
func (c *checker) strOf(v value) string {
	x := c.tape[v.n].x
	raw := c.data[v.off+1 : x&offMask-1]
	if x&escBit == 0 {
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	return unescape(raw)
}

// escaped reports whether string v holds a backslash.
func (c *checker) escaped(v value) bool { return c.tape[v.n].x&escBit != 0 }

// runes counts the characters of s, string v's text.
func (c *checker) runes(v value, s string) int {
	if c.tape[v.n].x&(escBit|wideBit) == 0 {
		return len(s) // ASCII as written
	}
	return utf8.RuneCountInString(s)
}

// rawOf is a scalar's JSON text.
func (c *checker) rawOf(v value) string {
	raw := c.data[v.off : c.tape[v.n].x&offMask]
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

func (c *checker) numOf(v value) float64 {
	raw := c.rawOf(v)
	if n, ok := smallInt(raw); ok {
		return float64(n)
	}
	n, _ := strconv.ParseFloat(raw, 64) // ±Inf beyond float64, as JSON.parse
	return n
}

// smallInt reads up to 15 digits: exact in a float64, so the same value
// ParseFloat gives, without its cost (timestamps are such numbers).
func smallInt(s string) (int, bool) {
	if len(s) > 15 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int(d)
	}
	return n, true
}

// iter walks the members of a recorded object or the elements of a
// recorded array.
type iter struct {
	c      *checker
	i, end int32
}

func (c *checker) iter(v value) iter { return iter{c: c, i: v.n + 1, end: int32(c.tape[v.n].x)} }

func (it *iter) member() (k, v value, ok bool) {
	if it.i >= it.end {
		return value{}, value{}, false
	}
	k, v = it.c.val(it.i), it.c.val(it.i+1)
	it.i = it.c.next(it.i + 1)
	return k, v, true
}

func (it *iter) elem() (v value, ok bool) {
	if it.i >= it.end {
		return value{}, false
	}
	v = it.c.val(it.i)
	it.i = it.c.next(it.i)
	return v, true
}

// lastMember returns the last value of key in object o (JSON.parse keeps
// the last duplicate).
func (c *checker) lastMember(o value, key string) value {
	var out value
	for it := c.iter(o); ; {
		k, v, ok := it.member()
		if !ok {
			return out
		}
		if c.strOf(k) == key {
			out = v
		}
	}
}

func typeName(v value) string {
	switch {
	case !v.exists():
		return "nothing"
	case v.kind == 'n':
		return "null"
	case v.kind == 't' || v.kind == 'f':
		return "a boolean"
	case v.isStr():
		return "a string"
	case v.isArr():
		return "an array"
	case v.isObj():
		return "an object"
	}
	return "a number"
}

// ---- the document ------------------------------------------------------------

func (c *checker) run() {
	data := c.data
	if c.opts.MaxBytes > 0 && len(data) > c.opts.MaxBytes {
		c.add(RuleTooLarge, "", 0, "the document is "+strconv.Itoa(len(data))+" bytes; the limit is "+strconv.Itoa(c.opts.MaxBytes))
		return
	}
	start := skipSpace(data, 0)
	if start == len(data) {
		c.add(RuleSyntax, "", len(data), "the input is empty: expected a JSON object")
		return
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		c.add(RuleEncoding, "", 0, "the input starts with a UTF-8 byte order mark (BOM); remove it (JSON.parse and most JSON parsers reject it)")
		return
	}
	if len(data) > maxScan {
		c.add(RuleTooLarge, "", 0, "the document is "+strconv.Itoa(len(data))+" bytes; the limit is "+strconv.Itoa(maxScan))
		return
	}
	if !c.scan(start) {
		c.findings = c.findings[:0]
		c.depth = 0
		c.diagnose(start)
		return
	}
	root := c.val(0)
	if !root.isObj() {
		if root.isArr() && skipSpace(data, start+1) < len(data) && data[skipSpace(data, start+1)] == ']' {
			c.add(RuleArrayEmpty, "", start, "an empty array: there is no payload to validate")
			return
		}
		c.add(RuleType, "", start, "a payload must be a JSON object, got "+typeName(root))
		return
	}

	var r rootFields
	nkeys := 0
	for it := c.iter(root); ; {
		k, v, ok := it.member()
		if !ok {
			break
		}
		nkeys++
		p := r.slot(c.strOf(k))
		if p == nil {
			continue
		}
		if p.exists() {
			c.duplicate(k)
		}
		*p = v
	}

	c.kind = c.opts.Kind
	if c.kind == KindAuto {
		c.kind = rootKeys{events: r.events.exists(), message: r.message.exists(), reply: r.mid.exists() || r.errv.exists()}.kind()
	}
	known := 0
	switch c.kind {
	case KindWebhook:
		known = count(r.channelID, r.contactID, r.events, r.contact)
		c.envelope(root, &r)
	case KindMessage:
		known = count(r.channelID, r.contactID, r.message)
		c.ids(root, &r)
		c.requiredObject(root, r.message, "message")
	case KindReply:
		known = count(r.mid, r.errv)
		c.reply(root, &r)
	default:
		c.add(RuleKind, "", start, `cannot tell the payload kind: expected "events" (webhook body), "message" (/message body) or "mId"/"error" (/message reply); use --kind`)
		return
	}
	if nkeys > known {
		c.rootExtras(root)
	}
}

// diagnose reports why the scan failed, checking in the order the rules
// rank: a NUL byte anywhere, then invalid UTF-8, then nesting, then syntax.
// Only failing payloads take these extra passes.
func (c *checker) diagnose(start int) {
	data := c.data
	if i := bytes.IndexByte(data, 0); i >= 0 {
		c.add(RuleEncoding, "", i, "the input contains a NUL byte; JSON text cannot contain one (binary data or a UTF-16 file?)")
		return
	}
	if !utf8.Valid(data) {
		c.add(RuleEncoding, "", invalidUTF8(data), "the input is not valid UTF-8; save it as UTF-8")
		return
	}
	if off, deep := depthExceeded(data, MaxDepth); deep {
		c.add(RuleDepth, "", off, "JSON nesting is deeper than "+strconv.Itoa(MaxDepth)+" levels; no Custom Channel payload nests that deep")
		return
	}
	off, why := syntaxError(data, start)
	c.add(RuleSyntax, "", off, "not well-formed JSON: "+why)
}

func count(vs ...value) int {
	n := 0
	for _, v := range vs {
		if v.exists() {
			n++
		}
	}
	return n
}

// rootFields are the top-level keys of every kind (the last occurrence wins,
// as with JSON.parse on the platform's side).
type rootFields struct {
	channelID, contactID, events, contact, message, mid, errv value
}

func (r *rootFields) slot(k string) *value {
	switch k {
	case "channelId":
		return &r.channelID
	case "contactId":
		return &r.contactID
	case "events":
		return &r.events
	case "contact":
		return &r.contact
	case "message":
		return &r.message
	case "mId":
		return &r.mid
	case "error":
		return &r.errv
	}
	return nil
}

// rootExtras reports top-level keys that do not belong to the payload's kind.
func (c *checker) rootExtras(root value) {
	for it := c.iter(root); ; {
		k, _, ok := it.member()
		if !ok {
			return
		}
		key := c.strOf(k)
		var kinds Kind
		switch key {
		case "channelId", "contactId":
			if c.kind != KindReply {
				continue
			}
			kinds = "a webhook or /message body"
		case "events", "contact":
			if c.kind == KindWebhook {
				continue
			}
			kinds = "a webhook body"
		case "message":
			if c.kind == KindMessage {
				continue
			}
			kinds = "a /message body"
			if c.kind == KindWebhook {
				kinds += " (in a webhook body it goes inside events[])"
			}
		case "mId", "error":
			if c.kind == KindReply {
				continue
			}
			kinds = "a /message reply"
			if c.kind == KindWebhook && key == "mId" {
				kinds = "a /message reply (in a webhook body it goes inside events[])"
			}
		default:
			c.unknown(k, "")
			continue
		}
		c.add(RuleUnexpectedField, key, k.off, strconv.Quote(key)+" belongs to "+string(kinds)+", not to a "+kindNoun(c.kind))
	}
}

func kindNoun(k Kind) string {
	switch k {
	case KindWebhook:
		return "webhook body"
	case KindMessage:
		return "/message body"
	}
	return "/message reply"
}

func (c *checker) duplicate(k value) {
	key := c.strOf(k)
	c.add(RuleDuplicateKey, key, k.off, "key "+strconv.Quote(key)+" appears more than once in this object; the platform (JSON.parse) keeps the last one")
}

func (c *checker) unknown(k value, where string) {
	key := c.strOf(k)
	msg := "unknown field " + strconv.Quote(key)
	if where != "" {
		msg += " in " + where
	}
	c.add(RuleUnknownField, key, k.off, msg+"; the platform probably ignores it (check the spelling)")
}

// ---- shared field checks -------------------------------------------------

func (c *checker) missing(parent value, key, what string) {
	c.add(RuleRequired, key, parent.off, strconv.Quote(key)+" is required: "+what)
}

func (c *checker) wrongType(v value, key, want string) {
	name := strconv.Quote(key)
	if key == "" {
		name = c.pathString("")
	}
	c.add(RuleType, key, v.off, name+" must be "+want+", got "+typeName(v))
}

// requiredString checks presence, type and non-emptiness; ok reports a usable
// non-empty string.
func (c *checker) requiredString(parent, v value, key, what string) bool {
	switch {
	case !v.exists():
		c.missing(parent, key, what)
	case !v.isStr():
		c.wrongType(v, key, "a string")
	case c.strOf(v) == "":
		c.add(RuleEmpty, key, v.off, strconv.Quote(key)+" is empty: "+what)
	default:
		return true
	}
	return false
}

// optionalString checks the type of an optional string field.
func (c *checker) optionalString(v value, key string) {
	if v.exists() && !v.isStr() {
		c.wrongType(v, key, "a string")
	}
}

func (c *checker) requiredObject(parent, v value, key string) {
	switch {
	case !v.exists():
		c.missing(parent, key, "an object with a \"type\"")
	case !v.isObj():
		c.wrongType(v, key, "an object")
	default:
		c.push(key)
		c.message(v)
		c.pop()
	}
}

func (c *checker) ids(root value, r *rootFields) {
	if c.requiredString(root, r.channelID, "channelId", "the Channel ID from the channel's settings") && c.opts.ChannelID != "" {
		if ch := c.strOf(r.channelID); ch != c.opts.ChannelID {
			c.add(RuleChannelIDMismatch, "channelId", r.channelID.off, "channelId "+strconv.Quote(ch)+" is not the configured channel "+strconv.Quote(c.opts.ChannelID))
		}
	}
	v := r.contactID
	switch {
	case !v.exists():
		c.missing(root, "contactId", "the contact's phone number or custom ID")
	case !v.isStr():
		c.wrongType(v, "contactId", "a string")
	default:
		if p := checkID(c.strOf(v), c.opts.IDType); p.bad {
			off := v.off
			if !c.escaped(v) { // no escapes: point at the character
				off += 1 + p.offset
			}
			c.add(p.rule, "contactId", off, p.msg)
		}
	}
}

func (c *checker) envelope(root value, r *rootFields) {
	c.ids(root, r)
	if c.opts.mids && r.channelID.isStr() {
		c.channel = c.strOf(r.channelID)
	}
	ev := r.events
	switch {
	case !ev.exists():
		c.missing(root, "events", "an array with one event")
	case !ev.isArr():
		c.wrongType(ev, "events", "an array of event objects")
	default:
		c.push("events")
		n := 0
		for it := c.iter(ev); ; n++ {
			e, ok := it.elem()
			if !ok {
				break
			}
			c.pushIdx(n)
			if n == 1 {
				c.add(RuleEventsMultiple, "", e.off, "more than one event in one POST; every documented sample sends one event per request")
			}
			c.event(e)
			c.pop()
		}
		c.pop()
		if n == 0 {
			c.add(RuleEventsEmpty, "events", ev.off, `"events" is empty: send one event per POST`)
		}
		if n > 1 && !c.opts.mids { // Stream's MIDIndex sees these itself
			c.repeatedMIDs(ev)
		}
	}
	if ct := r.contact; ct.exists() {
		if !ct.isObj() {
			c.wrongType(ct, "contact", "an object (omit it rather than send null)")
		} else {
			c.push("contact")
			c.contact(ct, r.contactID)
			c.pop()
		}
	}
}

// ---- events --------------------------------------------------------------

type eventFields struct{ typ, mid, ts, message, status value }

func (c *checker) event(e value) {
	if !e.isObj() {
		c.wrongType(e, "", "an event object")
		return
	}
	var f eventFields
	for it := c.iter(e); ; {
		k, v, ok := it.member()
		if !ok {
			break
		}
		var p *value
		switch key := c.strOf(k); key {
		case "type":
			p = &f.typ
		case "mId":
			p = &f.mid
		case "timestamp":
			p = &f.ts
		case "message":
			p = &f.message
		case "status":
			p = &f.status
		default:
			if key == "mld" || key == "mid" || key == "MId" {
				c.add(RuleUnknownField, key, k.off, "unknown field "+strconv.Quote(key)+": the message id is spelled \"mId\"")
			} else {
				c.unknown(k, "an event")
			}
			continue
		}
		if p.exists() {
			c.duplicate(k)
		}
		*p = v
	}

	typ := ""
	switch t := f.typ; {
	case !t.exists():
		c.missing(e, "type", "message, message_echo or message_status")
	case !t.isStr():
		c.wrongType(t, "type", "a string")
	default:
		switch ts := c.strOf(t); ts {
		case "message", "message_echo", "message_status":
			typ = ts
		default:
			c.add(RuleEnum, "type", t.off, "unknown event type "+strconv.Quote(ts)+": use message, message_echo or message_status"+caseHint(ts, "message", "message_echo", "message_status"))
		}
	}
	if c.requiredString(e, f.mid, "mId", "the message id, at most 50 characters") {
		c.midLength(f.mid, "mId")
		if c.opts.mids && typ != "message_status" && typ != "" {
			c.noteMID(f.mid)
		}
	}
	c.timestamp(e, f.ts)

	switch typ {
	case "message", "message_echo":
		c.requiredObject(e, f.message, "message")
		if f.status.exists() {
			c.add(RuleUnexpectedField, "status", f.status.off, `"status" belongs to message_status events; a `+typ+` event carries "message"`)
		}
	case "message_status":
		switch s := f.status; {
		case !s.exists():
			c.missing(e, "status", `an object {"value": "sent|delivered|read|failed"}`)
		case !s.isObj():
			c.wrongType(s, "status", "an object")
		default:
			c.push("status")
			c.status(s)
			c.pop()
		}
		if f.message.exists() {
			c.add(RuleUnexpectedField, "message", f.message.off, `"message" is not used by message_status events (receipts carry "status")`)
		}
	}
}

// repeatedMIDs reports a message mId used twice within one payload's events
// (a rare shape, so a quadratic look over at most 64 events).
func (c *checker) repeatedMIDs(ev value) {
	var mids [64]value
	n := 0
	c.push("events")
	defer c.pop()
	for it, i := c.iter(ev), 0; n < len(mids); i++ {
		e, ok := it.elem()
		if !ok {
			break
		}
		if !e.isObj() {
			continue
		}
		t, m := c.lastMember(e, "type"), c.lastMember(e, "mId")
		if !t.isStr() || !m.isStr() || c.strOf(m) == "" {
			continue
		}
		if ts := c.strOf(t); ts != "message" && ts != "message_echo" {
			continue
		}
		s := c.strOf(m)
		for _, p := range mids[:n] {
			if c.strOf(p) == s {
				line, col := c.position(p.off)
				c.pushIdx(i)
				c.add(RuleMIDDuplicate, "mId", m.off, "mId "+strconv.Quote(clip(s))+" was already used for this channel at "+strconv.Itoa(line)+":"+strconv.Itoa(col)+midDuplicateAdvice)
				c.pop()
				break
			}
		}
		mids[n] = m
		n++
	}
}

const midDuplicateAdvice = "; send each message's mId once (whether the platform drops or repeats a duplicate is not documented)"

func (c *checker) midLength(v value, key string) {
	s := c.strOf(v)
	if len(s) <= 50 {
		return
	}
	if n := c.runes(v, s); n > 50 {
		c.add(RuleMIDLength, key, v.off, "mId is "+strconv.Itoa(n)+" characters; the maximum is 50")
	}
}

// timestamp checks epoch milliseconds (§2.3).
func (c *checker) timestamp(e, v value) {
	const key = "timestamp"
	switch {
	case !v.exists():
		c.missing(e, key, "UNIX epoch in milliseconds, e.g. 1732435200000")
		return
	case v.isStr():
		hint := ""
		if isDigits(c.strOf(v)) {
			hint = ": write it without quotes"
		}
		c.add(RuleType, key, v.off, `"timestamp" must be a number (epoch milliseconds), got a string`+hint)
		return
	case !v.isNum():
		c.wrongType(v, key, "a number (epoch milliseconds)")
		return
	}
	raw, n := c.rawOf(v), c.numOf(v)
	switch {
	case raw[0] == '-':
		c.add(RuleTimestampRange, key, v.off, "timestamp "+raw+" is negative; use epoch milliseconds, e.g. 1732435200000")
		return
	case n != float64(int64(n)) && n < 1e18:
		c.add(RuleTimestampRange, key, v.off, "timestamp "+raw+" is fractional; use whole epoch milliseconds")
		return
	}
	switch {
	case n >= 1e9 && n < 1e10:
		c.add(RuleTimestampSeconds, key, v.off, "timestamp "+raw+" looks like seconds; the platform expects milliseconds: use "+strconv.FormatInt(int64(n)*1000, 10)+" (×1000)")
	case n < 1e11:
		c.add(RuleTimestampRange, key, v.off, "timestamp "+raw+" is before 1973 in milliseconds; use epoch milliseconds, e.g. 1732435200000")
	case n >= 1e14:
		hint := ""
		switch {
		case n >= 1e17:
			hint = " (it looks like nanoseconds: divide by 1000000)"
		case n >= 1e15:
			hint = " (it looks like microseconds: divide by 1000)"
		}
		c.add(RuleTimestampRange, key, v.off, "timestamp "+raw+" is after the year 5000 in milliseconds"+hint)
	}
}

func (c *checker) status(s value) {
	var val, msg value
	for it := c.iter(s); ; {
		k, v, ok := it.member()
		if !ok {
			break
		}
		switch c.strOf(k) {
		case "value":
			if val.exists() {
				c.duplicate(k)
			}
			val = v
		case "message":
			if msg.exists() {
				c.duplicate(k)
			}
			msg = v
		default:
			c.unknown(k, "status")
		}
	}
	failed := false
	if c.requiredString(s, val, "value", "sent, delivered, read or failed") {
		switch vs := c.strOf(val); vs {
		case "sent", "delivered", "read":
		case "failed":
			failed = true
		default:
			c.add(RuleEnum, "value", val.off, "unknown status "+strconv.Quote(vs)+": use sent, delivered, read or failed"+caseHint(vs, "sent", "delivered", "read", "failed"))
		}
	}
	c.optionalString(msg, "message")
	if failed && (!msg.exists() || msg.isStr() && isBlank(c.strOf(msg))) {
		c.add(RuleStatusReason, "message", s.off, `a "failed" status should say why in status.message (shown to agents)`)
	}
}

// ---- messages ------------------------------------------------------------

// Message fields, indexed so that each message type's allowed set is a bit mask.
const (
	mType = iota
	mText
	mAttachment
	mLat
	mLng
	mAddress
	mTitle
	mReplies
	mPayload
	mLocation
	mCount
)

var messageKeys = [mCount]string{"type", "text", "attachment", "latitude", "longitude", "address", "title", "replies", "payload", "location"}

// allowed fields per message type ("location" is allowed on location
// messages so that the nested form gets its own warning).
var messageAllowed = map[string]uint16{
	"text":           1<<mType | 1<<mText,
	"attachment":     1<<mType | 1<<mAttachment,
	"location":       1<<mType | 1<<mLat | 1<<mLng | 1<<mAddress | 1<<mLocation,
	"quick_reply":    1<<mType | 1<<mTitle | 1<<mReplies,
	"custom_payload": 1<<mType | 1<<mPayload,
}

func messageKey(k string) int {
	switch k {
	case "type":
		return mType
	case "text":
		return mText
	case "attachment":
		return mAttachment
	case "latitude":
		return mLat
	case "longitude":
		return mLng
	case "address":
		return mAddress
	case "title":
		return mTitle
	case "replies":
		return mReplies
	case "payload":
		return mPayload
	case "location":
		return mLocation
	}
	return -1
}

func (c *checker) message(m value) {
	var f [mCount]value
	for it := c.iter(m); ; {
		k, v, ok := it.member()
		if !ok {
			break
		}
		i := messageKey(c.strOf(k))
		if i < 0 {
			c.unknown(k, "a message")
			continue
		}
		if f[i].exists() {
			c.duplicate(k)
		}
		f[i] = v
	}
	t := f[mType]
	switch {
	case !t.exists():
		c.missing(m, "type", "text, attachment, location, quick_reply or custom_payload")
		return
	case !t.isStr():
		c.wrongType(t, "type", "a string")
		return
	}
	ts := c.strOf(t)
	switch ts {
	case "text":
		c.text(m, f[mText])
	case "attachment":
		c.attachment(m, f[mAttachment])
	case "location":
		c.location(m, &f)
	case "quick_reply":
		c.quickReply(m, f[mTitle], f[mReplies])
	case "custom_payload":
		c.add(RuleCustomPayload, "type", t.off, "custom_payload is not documented for Custom Channels; the platform may not forward it (unverified)")
		switch p := f[mPayload]; {
		case !p.exists():
			c.missing(m, "payload", "a JSON object passed through as-is")
		case !p.isObj():
			c.wrongType(p, "payload", "a JSON object")
		}
	default:
		c.add(RuleEnum, "type", t.off, "unknown message type "+strconv.Quote(ts)+": use text, attachment, location, quick_reply or custom_payload"+caseHint(ts, "text", "attachment", "location", "quick_reply", "custom_payload"))
		return
	}
	allowed := messageAllowed[ts]
	for i := 1; i < mCount; i++ {
		if f[i].exists() && allowed&(1<<i) == 0 {
			key := messageKeys[i]
			c.add(RuleUnexpectedField, key, f[i].off, strconv.Quote(key)+" does not belong to a "+ts+" message; the platform ignores it")
		}
	}
}

func (c *checker) text(m, v value) {
	switch {
	case !v.exists():
		c.missing(m, "text", "the message text")
	case !v.isStr():
		c.wrongType(v, "text", "a string")
	case isBlank(c.strOf(v)):
		c.add(RuleTextEmpty, "text", v.off, "text message has empty text; send at least one visible character")
	default:
		limit := c.opts.TextLimit
		if limit <= 0 {
			limit = channel.TextWarnLen
		}
		if s := c.strOf(v); len(s) > limit {
			if n := c.runes(v, s); n > limit {
				c.add(RuleTextLength, "text", v.off, "text is "+strconv.Itoa(n)+" characters; messages over "+strconv.Itoa(limit)+" may be rejected or cut (split it)")
			}
		}
	}
}

func (c *checker) attachment(m, a value) {
	switch {
	case !a.exists():
		c.missing(m, "attachment", `an object {"type": "image|video|audio|file", "url": "https://..."}`)
		return
	case !a.isObj():
		c.wrongType(a, "attachment", "an object")
		return
	}
	c.push("attachment")
	defer c.pop()
	var typ, url, mime, name, desc value
	for it := c.iter(a); ; {
		k, v, ok := it.member()
		if !ok {
			break
		}
		var p *value
		switch c.strOf(k) {
		case "type":
			p = &typ
		case "url":
			p = &url
		case "mimeType":
			p = &mime
		case "fileName":
			p = &name
		case "description":
			p = &desc
		default:
			c.unknown(k, "attachment")
			continue
		}
		if p.exists() {
			c.duplicate(k)
		}
		*p = v
	}
	kind := ""
	if c.requiredString(a, typ, "type", "image, video, audio or file") {
		switch ts := c.strOf(typ); ts {
		case "image", "video", "audio", "file":
			kind = ts
		default:
			c.add(RuleEnum, "type", typ.off, "unknown attachment type "+strconv.Quote(ts)+": use image, video, audio or file"+caseHint(ts, "image", "video", "audio", "file"))
		}
	}
	switch {
	case !url.exists():
		c.missing(a, "url", "a public http(s) URL the platform downloads")
	case !url.isStr():
		c.wrongType(url, "url", "a string")
	default:
		if why := checkURL(c.strOf(url)); why != "" {
			c.add(RuleURL, "url", url.off, "attachment URL "+why)
		} else if c.opts.Media {
			c.media(url, typ)
		}
	}
	c.optionalString(mime, "mimeType")
	c.optionalString(name, "fileName")
	c.optionalString(desc, "description")
	if kind != "" && mime.isStr() {
		if ms := c.strOf(mime); ms != "" {
			if want := kindForMIME(ms); want != kind {
				c.add(RuleAttachmentMIME, "type", typ.off, "attachment type "+strconv.Quote(kind)+" does not match mimeType "+strconv.Quote(ms)+"; expected "+strconv.Quote(want))
			}
		}
	}
}

// media notes an attachment URL for Report.Media.
func (c *checker) media(url, typ value) {
	kind := ""
	if typ.isStr() {
		switch k := c.strOf(typ); k {
		case "image", "video", "audio", "file":
			kind = k
		}
	}
	line, col := c.position(url.off)
	c.mediaOut = append(c.mediaOut, Media{URL: strings.Clone(c.strOf(url)), Kind: kind, Path: c.pathString("url"), Line: line, Column: col})
}

// kindForMIME mirrors channel.KindForMIME without allocating.
func kindForMIME(m string) string {
	switch {
	case hasPrefixFold(m, "image/"):
		return "image"
	case hasPrefixFold(m, "video/"):
		return "video"
	case hasPrefixFold(m, "audio/"):
		return "audio"
	}
	return "file"
}

func (c *checker) location(m value, f *[mCount]value) {
	lat, lng := f[mLat], f[mLng]
	if nested := f[mLocation]; nested.exists() {
		c.add(RuleLocationNested, "location", nested.off, locationNestedHint)
		if !lat.exists() && !lng.exists() {
			// The platform reads message.latitude/longitude only: a
			// location that is only nested has no coordinates for it.
			c.add(RuleRequired, "latitude", nested.off, locationNestedOnly)
			c.optionalString(f[mAddress], "address")
			return
		}
	}
	c.coord(m, lat, "latitude", 90, RuleLatitude)
	c.coord(m, lng, "longitude", 180, RuleLongitude)
	c.optionalString(f[mAddress], "address")
}

const (
	locationNestedHint = "put latitude, longitude and address flat on the message, not inside message.location{}"
	locationNestedOnly = `"latitude" and "longitude" are required flat on the message: the platform reads message.latitude and message.longitude, and here they sit only inside message.location{}; flatten it ({"type": "location", "latitude": ..., "longitude": ...})`
)

func (c *checker) coord(parent, v value, key string, limit float64, rule string) {
	var x float64
	switch {
	case v.isNum():
		x = c.numOf(v)
	case v.isStr():
		s := c.strOf(v)
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n != n || n > 1e300 || n < -1e300 {
			c.add(RuleType, key, v.off, strconv.Quote(key)+" must be a number of degrees, got the string "+strconv.Quote(clip(s)))
			return
		}
		c.add(RuleCoordinateString, key, v.off, strconv.Quote(key)+" is a string; send it as a JSON number ("+s+")")
		x = n
	default:
		if !v.exists() {
			c.missing(parent, key, "WGS-84 degrees as a number")
		} else {
			c.wrongType(v, key, "a number of degrees")
		}
		return
	}
	if x < -limit || x > limit {
		lim := strconv.Itoa(int(limit))
		c.add(rule, key, v.off, key+" "+strconv.FormatFloat(x, 'g', -1, 64)+" is outside [-"+lim+", "+lim+"]")
	}
}

func (c *checker) quickReply(m, title, replies value) {
	c.requiredString(m, title, "title", "the prompt shown above the options")
	switch {
	case !replies.exists():
		c.missing(m, "replies", "an array of option strings")
		return
	case !replies.isArr():
		c.wrongType(replies, "replies", "an array of strings")
		return
	}
	c.push("replies")
	n := 0
	for it := c.iter(replies); ; n++ {
		r, ok := it.elem()
		if !ok {
			break
		}
		c.pushIdx(n)
		switch {
		case !r.isStr():
			c.wrongType(r, "", "a string (replies are plain strings, not objects)")
		case isBlank(c.strOf(r)):
			c.add(RuleEmpty, "", r.off, "reply option is empty")
		}
		if n == 10 {
			c.add(RuleRepliesCount, "", r.off, "more than 10 quick replies; providers commonly cap the list at 10")
		}
		c.pop()
	}
	c.pop()
	if n == 0 {
		c.add(RuleRepliesEmpty, "replies", replies.off, "quick_reply needs at least one reply option")
	}
}

// ---- contact -------------------------------------------------------------

func (c *checker) contact(ct, contactID value) {
	for it := c.iter(ct); ; {
		k, v, ok := it.member()
		if !ok {
			return
		}
		key := c.strOf(k)
		switch key {
		case "firstName", "lastName":
			c.optionalString(v, key)
		case "profilePic":
			if !v.isStr() {
				c.wrongType(v, key, "a string (URL)")
			} else if s := c.strOf(v); s != "" {
				if why := checkURL(s); why != "" {
					c.add(RuleContactField, key, v.off, "profilePic "+why)
				}
			}
		case "countryCode":
			if !v.isStr() {
				c.wrongType(v, key, "a string")
			} else if s := c.strOf(v); !isAlpha2(s) {
				id := ""
				if contactID.isStr() {
					id = c.strOf(contactID)
				}
				c.add(RuleContactField, key, v.off, "countryCode "+strconv.Quote(clip(s))+" is not an ISO 3166-1 alpha-2 code such as \"MY\""+countryCodeHint(s, id))
			}
		case "email":
			if !v.isStr() {
				c.wrongType(v, key, "a string")
			} else if s := c.strOf(v); s != "" && !looksLikeEmail(s) {
				c.add(RuleContactField, key, v.off, "email "+strconv.Quote(clip(s))+" does not look like an e-mail address")
			}
		case "phone":
			if !v.isStr() {
				c.wrongType(v, key, "a string")
			} else if s := c.strOf(v); s != "" {
				if checkID(s, "phone").bad {
					c.add(RuleContactField, key, v.off, "phone "+strconv.Quote(clip(s))+" is not E.164 (+ and 7 to 15 digits, e.g. +60123456789)")
				}
			}
		case "language", "locale":
			if !v.isStr() {
				c.wrongType(v, key, "a string")
			} else if s := c.strOf(v); s != "" && !isLangTag(s) {
				c.add(RuleContactField, key, v.off, key+" "+strconv.Quote(clip(s))+" is not a language tag such as \"en\" or \"en_US\"")
			}
		case "timezone":
			c.timezone(v)
		default:
			c.unknown(k, "contact (known: firstName, lastName, profilePic, countryCode, email, phone, language, locale, timezone)")
		}
	}
}

func (c *checker) timezone(v value) {
	const key = "timezone"
	var x float64
	switch {
	case v.isNum():
		x = c.numOf(v)
	case v.isStr():
		s := c.strOf(v)
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			c.add(RuleContactField, key, v.off, "timezone must be a UTC offset in hours as a number, e.g. 8; got "+strconv.Quote(clip(s)))
			return
		}
		c.add(RuleContactField, key, v.off, "timezone is a string; send the UTC offset as a number, e.g. "+strconv.FormatFloat(n, 'g', -1, 64))
		x = n
	default:
		c.wrongType(v, key, "a number (UTC offset in hours)")
		return
	}
	if x < -12 || x > 14 {
		c.add(RuleContactField, key, v.off, "timezone "+strconv.FormatFloat(x, 'g', -1, 64)+" is not a UTC offset in hours (-12 to 14)")
	}
}

// ---- /message replies ----------------------------------------------------

func (c *checker) reply(root value, r *rootFields) {
	st := c.opts.ReplyStatus
	success := r.mid.exists() || !r.errv.exists()
	switch {
	case st == 0:
		if r.mid.exists() && r.errv.exists() {
			c.add(RuleUnexpectedField, "error", r.errv.off, `a reply carries either "mId" (200) or "error" (4xx), not both`)
		}
	case st == 200:
		success = true
	case st >= 200 && st < 300:
		success = true
		c.add(RuleReplyStatusNot200, "", root.off, "the platform documents 200 for success; "+strconv.Itoa(st)+" may not be taken as sent")
	case st >= 400 && st < 500:
		success = false
	default:
		c.add(RuleReplyStatus, "", root.off, "reply status "+strconv.Itoa(st)+": answer 200 {\"mId\": ...} on success or 4xx {\"error\": {\"message\": ...}} on failure"+statusHint(st))
		return
	}
	if success {
		if c.requiredString(root, r.mid, "mId", "the provider's message id (200 replies)") {
			c.midLength(r.mid, "mId")
		}
		if st != 0 && r.errv.exists() {
			c.add(RuleUnexpectedField, "error", r.errv.off, `"error" in a `+strconv.Itoa(st)+` reply; success replies carry only "mId"`)
		}
		return
	}
	if r.mid.exists() {
		c.add(RuleUnexpectedField, "mId", r.mid.off, `"mId" in a `+strconv.Itoa(st)+` reply; error replies carry {"error": {"message": ...}}`)
	}
	e := r.errv
	switch {
	case !e.exists():
		c.missing(root, "error", `an object {"message": "why the message was not sent"}`)
		return
	case !e.isObj():
		c.wrongType(e, "error", `an object {"message": ...}`)
		return
	}
	c.push("error")
	defer c.pop()
	var msg value
	for it := c.iter(e); ; {
		k, v, ok := it.member()
		if !ok {
			break
		}
		if c.strOf(k) == "message" {
			if msg.exists() {
				c.duplicate(k)
			}
			msg = v
		} else {
			c.unknown(k, "error")
		}
	}
	c.requiredString(e, msg, "message", "the reason shown for the failed message")
}

func statusHint(st int) string {
	switch {
	case st >= 500 && st < 600:
		return " (a 5xx is undocumented: the platform may retry or drop the message)"
	case st >= 300 && st < 400:
		return " (redirects are not followed as success)"
	}
	return ""
}
