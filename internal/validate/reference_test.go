package validate

// The validator as it was before the one-pass scanner (gjson reads every
// level; NUL, UTF-8, depth and syntax are separate passes), kept verbatim
// for FuzzScannerDiff: the new scanner must give the same kind, findings,
// paths, messages and line:column on every input.

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
)

// refBytes validates one payload. It never panics and never keeps a reference
// to data after it returns (callers may reuse the buffer).
func refBytes(data []byte, opts Options) Report {
	c := refChecker{data: data, opts: opts}
	c.run()
	if len(c.findings) > 1 {
		slices.SortStableFunc(c.findings, func(a, b Finding) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
	}
	return Report{Kind: c.kind, Findings: c.findings}
}

// refChecker walks one payload. The path is kept as a small stack and rendered
// only when a finding is added, so valid payloads allocate almost nothing.
type refChecker struct {
	data     []byte
	opts     Options
	kind     Kind
	findings []Finding

	path  [16]seg
	depth int

	lineStarts []int // built on the first finding
}

func (c *refChecker) push(key string) {
	if c.depth < len(c.path) {
		c.path[c.depth] = seg{key: key, idx: -1}
	}
	c.depth++
}

func (c *refChecker) pushIdx(i int) {
	if c.depth < len(c.path) {
		c.path[c.depth] = seg{idx: i}
	}
	c.depth++
}

func (c *refChecker) pop() { c.depth-- }

func (c *refChecker) pathString(leaf string) string {
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
func (c *refChecker) add(rule, leaf string, off int, msg string) {
	sev, ok := RuleSeverity(rule)
	if !ok {
		sev = Error
	}
	line, col := c.position(off)
	c.findings = append(c.findings, Finding{Severity: sev, Rule: rule, Path: c.pathString(leaf), Line: line, Column: col, Message: msg})
}

// position maps a byte offset to line:column with a line table built once per
// payload, so many findings do not rescan the input.
func (c *refChecker) position(off int) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > len(c.data) {
		off = len(c.data)
	}
	if c.lineStarts == nil {
		c.lineStarts = append(make([]int, 0, 16), 0)
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

func (c *refChecker) run() {
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
	if i := bytes.IndexByte(data, 0); i >= 0 {
		c.add(RuleEncoding, "", i, "the input contains a NUL byte; JSON text cannot contain one (binary data or a UTF-16 file?)")
		return
	}
	if !utf8.Valid(data) {
		c.add(RuleEncoding, "", invalidUTF8(data), "the input is not valid UTF-8; save it as UTF-8")
		return
	}
	// The depth check comes first: gjson's validator and parser recurse
	// once per level, and this flat loop never does.
	if off, deep := depthExceeded(data, MaxDepth); deep {
		c.add(RuleDepth, "", off, "JSON nesting is deeper than "+strconv.Itoa(MaxDepth)+" levels; no Custom Channel payload nests that deep")
		return
	}
	if !gjson.ValidBytes(data) {
		off, why := syntaxError(data, start)
		c.add(RuleSyntax, "", off, "not well-formed JSON: "+why)
		return
	}
	c.escapes()
	// A string view of data without copying: gjson results point into it,
	// and every message built below copies what it quotes.
	s := unsafe.String(unsafe.SliceData(data), len(data))
	root := gjson.Parse(s)
	root.Index = start // Parse leaves it 0; ForEach offsets children from it
	if !root.IsObject() {
		if root.IsArray() && skipSpace(data, start+1) < len(data) && data[skipSpace(data, start+1)] == ']' {
			c.add(RuleArrayEmpty, "", start, "an empty array: there is no payload to validate")
			return
		}
		c.add(RuleType, "", start, "a payload must be a JSON object, got "+refTypeName(root))
		return
	}

	var r refRootFields
	nkeys := 0
	root.ForEach(func(k, v gjson.Result) bool {
		nkeys++
		p := r.slot(k.Str)
		if p == nil {
			return true
		}
		if p.Exists() {
			c.duplicate(k)
		}
		*p = v
		return true
	})

	c.kind = c.opts.Kind
	if c.kind == KindAuto {
		c.kind = rootKeys{events: r.events.Exists(), message: r.message.Exists(), reply: r.mid.Exists() || r.errv.Exists()}.kind()
	}
	known := 0
	switch c.kind {
	case KindWebhook:
		known = refCount(r.channelID, r.contactID, r.events, r.contact)
		c.envelope(root, &r)
	case KindMessage:
		known = refCount(r.channelID, r.contactID, r.message)
		c.ids(root, &r)
		c.requiredObject(root, r.message, "message")
	case KindReply:
		known = refCount(r.mid, r.errv)
		c.reply(root, &r)
	default:
		c.add(RuleKind, "", start, `cannot tell the payload kind: expected "events" (webhook body), "message" (/message body) or "mId"/"error" (/message reply); use --kind`)
		return
	}
	if nkeys > known {
		c.rootExtras(root)
	}
}

func refCount(rs ...gjson.Result) int {
	n := 0
	for _, r := range rs {
		if r.Exists() {
			n++
		}
	}
	return n
}

// refRootFields are the top-level keys of every kind (the last occurrence wins,
// as with JSON.parse on the platform's side).
type refRootFields struct {
	channelID, contactID, events, contact, message, mid, errv gjson.Result
}

func (r *refRootFields) slot(k string) *gjson.Result {
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
func (c *refChecker) rootExtras(root gjson.Result) {
	root.ForEach(func(k, v gjson.Result) bool {
		var kinds Kind
		switch k.Str {
		case "channelId", "contactId":
			if c.kind != KindReply {
				return true
			}
			kinds = "a webhook or /message body"
		case "events", "contact":
			if c.kind == KindWebhook {
				return true
			}
			kinds = "a webhook body"
		case "message":
			if c.kind == KindMessage {
				return true
			}
			kinds = "a /message body"
			if c.kind == KindWebhook {
				kinds += " (in a webhook body it goes inside events[])"
			}
		case "mId", "error":
			if c.kind == KindReply {
				return true
			}
			kinds = "a /message reply"
			if c.kind == KindWebhook && k.Str == "mId" {
				kinds = "a /message reply (in a webhook body it goes inside events[])"
			}
		default:
			c.unknown(k, "")
			return true
		}
		c.add(RuleUnexpectedField, k.Str, k.Index, strconv.Quote(k.Str)+" belongs to "+string(kinds)+", not to a "+kindNoun(c.kind))
		return true
	})
}

func (c *refChecker) duplicate(k gjson.Result) {
	c.add(RuleDuplicateKey, k.Str, k.Index, "key "+strconv.Quote(k.Str)+" appears more than once in this object; the platform (JSON.parse) keeps the last one")
}

func (c *refChecker) unknown(k gjson.Result, where string) {
	msg := "unknown field " + strconv.Quote(k.Str)
	if where != "" {
		msg += " in " + where
	}
	c.add(RuleUnknownField, k.Str, k.Index, msg+"; the platform probably ignores it (check the spelling)")
}

// ---- shared field checks -------------------------------------------------

func (c *refChecker) missing(parent gjson.Result, key, what string) {
	c.add(RuleRequired, key, parent.Index, strconv.Quote(key)+" is required: "+what)
}

func (c *refChecker) wrongType(v gjson.Result, key, want string) {
	name := strconv.Quote(key)
	if key == "" {
		name = c.pathString("")
	}
	c.add(RuleType, key, v.Index, name+" must be "+want+", got "+refTypeName(v))
}

// requiredString checks presence, type and non-emptiness; ok reports a usable
// non-empty string.
func (c *refChecker) requiredString(parent, v gjson.Result, key, what string) bool {
	switch {
	case !v.Exists():
		c.missing(parent, key, what)
	case v.Type != gjson.String:
		c.wrongType(v, key, "a string")
	case v.Str == "":
		c.add(RuleEmpty, key, v.Index, strconv.Quote(key)+" is empty: "+what)
	default:
		return true
	}
	return false
}

// optionalString checks the type of an optional string field.
func (c *refChecker) optionalString(v gjson.Result, key string) {
	if v.Exists() && v.Type != gjson.String {
		c.wrongType(v, key, "a string")
	}
}

func (c *refChecker) requiredObject(parent, v gjson.Result, key string) {
	switch {
	case !v.Exists():
		c.missing(parent, key, "an object with a \"type\"")
	case !v.IsObject():
		c.wrongType(v, key, "an object")
	default:
		c.push(key)
		c.message(v)
		c.pop()
	}
}

func (c *refChecker) ids(root gjson.Result, r *refRootFields) {
	if c.requiredString(root, r.channelID, "channelId", "the Channel ID from the channel's settings") &&
		c.opts.ChannelID != "" && r.channelID.Str != c.opts.ChannelID {
		c.add(RuleChannelIDMismatch, "channelId", r.channelID.Index, "channelId "+strconv.Quote(r.channelID.Str)+" is not the configured channel "+strconv.Quote(c.opts.ChannelID))
	}
	v := r.contactID
	switch {
	case !v.Exists():
		c.missing(root, "contactId", "the contact's phone number or custom ID")
	case v.Type != gjson.String:
		c.wrongType(v, "contactId", "a string")
	default:
		if p := checkID(v.Str, c.opts.IDType); p.bad {
			off := v.Index
			if len(v.Raw) == len(v.Str)+2 { // no escapes: point at the character
				off += 1 + p.offset
			}
			c.add(p.rule, "contactId", off, p.msg)
		}
	}
}

func (c *refChecker) envelope(root gjson.Result, r *refRootFields) {
	c.ids(root, r)
	ev := r.events
	switch {
	case !ev.Exists():
		c.missing(root, "events", "an array with one event")
	case !ev.IsArray():
		c.wrongType(ev, "events", "an array of event objects")
	default:
		c.push("events")
		n := 0
		ev.ForEach(func(_, e gjson.Result) bool {
			c.pushIdx(n)
			if n == 1 {
				c.add(RuleEventsMultiple, "", e.Index, "more than one event in one POST; every documented sample sends one event per request")
			}
			c.event(e)
			c.pop()
			n++
			return true
		})
		c.pop()
		if n == 0 {
			c.add(RuleEventsEmpty, "events", ev.Index, `"events" is empty: send one event per POST`)
		}
		if n > 1 && !c.opts.mids {
			c.repeatedMIDs(ev)
		}
	}
	if ct := r.contact; ct.Exists() {
		if !ct.IsObject() {
			c.wrongType(ct, "contact", "an object (omit it rather than send null)")
		} else {
			c.push("contact")
			id := ""
			if r.contactID.Type == gjson.String {
				id = r.contactID.Str
			}
			c.contact(ct, id)
			c.pop()
		}
	}
}

// ---- events --------------------------------------------------------------

type refEventFields struct{ typ, mid, ts, message, status gjson.Result }

func (c *refChecker) event(e gjson.Result) {
	if !e.IsObject() {
		c.wrongType(e, "", "an event object")
		return
	}
	var f refEventFields
	e.ForEach(func(k, v gjson.Result) bool {
		var p *gjson.Result
		switch k.Str {
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
			if k.Str == "mld" || k.Str == "mid" || k.Str == "MId" {
				c.add(RuleUnknownField, k.Str, k.Index, "unknown field "+strconv.Quote(k.Str)+": the message id is spelled \"mId\"")
			} else {
				c.unknown(k, "an event")
			}
			return true
		}
		if p.Exists() {
			c.duplicate(k)
		}
		*p = v
		return true
	})

	typ := ""
	switch t := f.typ; {
	case !t.Exists():
		c.missing(e, "type", "message, message_echo or message_status")
	case t.Type != gjson.String:
		c.wrongType(t, "type", "a string")
	default:
		switch t.Str {
		case "message", "message_echo", "message_status":
			typ = t.Str
		default:
			c.add(RuleEnum, "type", t.Index, "unknown event type "+strconv.Quote(t.Str)+": use message, message_echo or message_status"+caseHint(t.Str, "message", "message_echo", "message_status"))
		}
	}
	if c.requiredString(e, f.mid, "mId", "the message id, at most 50 characters") {
		c.midLength(f.mid, "mId")
	}
	c.timestamp(e, f.ts)

	switch typ {
	case "message", "message_echo":
		c.requiredObject(e, f.message, "message")
		if f.status.Exists() {
			c.add(RuleUnexpectedField, "status", f.status.Index, `"status" belongs to message_status events; a `+typ+` event carries "message"`)
		}
	case "message_status":
		switch s := f.status; {
		case !s.Exists():
			c.missing(e, "status", `an object {"value": "sent|delivered|read|failed"}`)
		case !s.IsObject():
			c.wrongType(s, "status", "an object")
		default:
			c.push("status")
			c.status(s)
			c.pop()
		}
		if f.message.Exists() {
			c.add(RuleUnexpectedField, "message", f.message.Index, `"message" is not used by message_status events (receipts carry "status")`)
		}
	}
}

func (c *refChecker) midLength(v gjson.Result, key string) {
	if len(v.Str) <= 50 {
		return
	}
	if n := utf8.RuneCountInString(v.Str); n > 50 {
		c.add(RuleMIDLength, key, v.Index, "mId is "+strconv.Itoa(n)+" characters; the maximum is 50")
	}
}

// timestamp checks epoch milliseconds (§2.3).
func (c *refChecker) timestamp(e, v gjson.Result) {
	const key = "timestamp"
	switch {
	case !v.Exists():
		c.missing(e, key, "UNIX epoch in milliseconds, e.g. 1732435200000")
		return
	case v.Type == gjson.String:
		hint := ""
		if isDigits(v.Str) {
			hint = ": write it without quotes"
		}
		c.add(RuleType, key, v.Index, `"timestamp" must be a number (epoch milliseconds), got a string`+hint)
		return
	case v.Type != gjson.Number:
		c.wrongType(v, key, "a number (epoch milliseconds)")
		return
	}
	raw, n := v.Raw, v.Num
	switch {
	case raw[0] == '-':
		c.add(RuleTimestampRange, key, v.Index, "timestamp "+raw+" is negative; use epoch milliseconds, e.g. 1732435200000")
		return
	case n != float64(int64(n)) && n < 1e18:
		c.add(RuleTimestampRange, key, v.Index, "timestamp "+raw+" is fractional; use whole epoch milliseconds")
		return
	}
	switch {
	case n >= 1e9 && n < 1e10:
		c.add(RuleTimestampSeconds, key, v.Index, "timestamp "+raw+" looks like seconds; the platform expects milliseconds: use "+strconv.FormatInt(int64(n)*1000, 10)+" (×1000)")
	case n < 1e11:
		c.add(RuleTimestampRange, key, v.Index, "timestamp "+raw+" is before 1973 in milliseconds; use epoch milliseconds, e.g. 1732435200000")
	case n >= 1e14:
		hint := ""
		switch {
		case n >= 1e17:
			hint = " (it looks like nanoseconds: divide by 1000000)"
		case n >= 1e15:
			hint = " (it looks like microseconds: divide by 1000)"
		}
		c.add(RuleTimestampRange, key, v.Index, "timestamp "+raw+" is after the year 5000 in milliseconds"+hint)
	}
}

func (c *refChecker) status(s gjson.Result) {
	var value, msg gjson.Result
	s.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "value":
			if value.Exists() {
				c.duplicate(k)
			}
			value = v
		case "message":
			if msg.Exists() {
				c.duplicate(k)
			}
			msg = v
		default:
			c.unknown(k, "status")
		}
		return true
	})
	failed := false
	if c.requiredString(s, value, "value", "sent, delivered, read or failed") {
		switch value.Str {
		case "sent", "delivered", "read":
		case "failed":
			failed = true
		default:
			c.add(RuleEnum, "value", value.Index, "unknown status "+strconv.Quote(value.Str)+": use sent, delivered, read or failed"+caseHint(value.Str, "sent", "delivered", "read", "failed"))
		}
	}
	c.optionalString(msg, "message")
	if failed && (!msg.Exists() || msg.Type == gjson.String && isBlank(msg.Str)) {
		c.add(RuleStatusReason, "message", s.Index, `a "failed" status should say why in status.message (shown to agents)`)
	}
}

func (c *refChecker) message(m gjson.Result) {
	var f [mCount]gjson.Result
	m.ForEach(func(k, v gjson.Result) bool {
		i := messageKey(k.Str)
		if i < 0 {
			c.unknown(k, "a message")
			return true
		}
		if f[i].Exists() {
			c.duplicate(k)
		}
		f[i] = v
		return true
	})
	t := f[mType]
	switch {
	case !t.Exists():
		c.missing(m, "type", "text, attachment, location, quick_reply or custom_payload")
		return
	case t.Type != gjson.String:
		c.wrongType(t, "type", "a string")
		return
	}
	switch t.Str {
	case "text":
		c.text(m, f[mText])
	case "attachment":
		c.attachment(m, f[mAttachment])
	case "location":
		c.location(m, &f)
	case "quick_reply":
		c.quickReply(m, f[mTitle], f[mReplies])
	case "custom_payload":
		c.add(RuleCustomPayload, "type", t.Index, "custom_payload is not documented for Custom Channels; the platform may not forward it (unverified)")
		switch p := f[mPayload]; {
		case !p.Exists():
			c.missing(m, "payload", "a JSON object passed through as-is")
		case !p.IsObject():
			c.wrongType(p, "payload", "a JSON object")
		}
	default:
		c.add(RuleEnum, "type", t.Index, "unknown message type "+strconv.Quote(t.Str)+": use text, attachment, location, quick_reply or custom_payload"+caseHint(t.Str, "text", "attachment", "location", "quick_reply", "custom_payload"))
		return
	}
	allowed := messageAllowed[t.Str]
	for i := 1; i < mCount; i++ {
		if f[i].Exists() && allowed&(1<<i) == 0 {
			key := messageKeys[i]
			c.add(RuleUnexpectedField, key, f[i].Index, strconv.Quote(key)+" does not belong to a "+t.Str+" message; the platform ignores it")
		}
	}
}

func (c *refChecker) text(m, v gjson.Result) {
	switch {
	case !v.Exists():
		c.missing(m, "text", "the message text")
	case v.Type != gjson.String:
		c.wrongType(v, "text", "a string")
	case isBlank(v.Str):
		c.add(RuleTextEmpty, "text", v.Index, "text message has empty text; send at least one visible character")
	default:
		limit := c.opts.TextLimit
		if limit <= 0 {
			limit = channel.TextWarnLen
		}
		if len(v.Str) > limit {
			if n := utf8.RuneCountInString(v.Str); n > limit {
				c.add(RuleTextLength, "text", v.Index, "text is "+strconv.Itoa(n)+" characters; messages over "+strconv.Itoa(limit)+" may be rejected or cut (split it)")
			}
		}
	}
}

func (c *refChecker) attachment(m, a gjson.Result) {
	switch {
	case !a.Exists():
		c.missing(m, "attachment", `an object {"type": "image|video|audio|file", "url": "https://..."}`)
		return
	case !a.IsObject():
		c.wrongType(a, "attachment", "an object")
		return
	}
	c.push("attachment")
	defer c.pop()
	var typ, url, mime, name, desc gjson.Result
	a.ForEach(func(k, v gjson.Result) bool {
		var p *gjson.Result
		switch k.Str {
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
			return true
		}
		if p.Exists() {
			c.duplicate(k)
		}
		*p = v
		return true
	})
	kind := ""
	if c.requiredString(a, typ, "type", "image, video, audio or file") {
		switch typ.Str {
		case "image", "video", "audio", "file":
			kind = typ.Str
		default:
			c.add(RuleEnum, "type", typ.Index, "unknown attachment type "+strconv.Quote(typ.Str)+": use image, video, audio or file"+caseHint(typ.Str, "image", "video", "audio", "file"))
		}
	}
	switch {
	case !url.Exists():
		c.missing(a, "url", "a public http(s) URL the platform downloads")
	case url.Type != gjson.String:
		c.wrongType(url, "url", "a string")
	default:
		if why := checkURL(url.Str); why != "" {
			c.add(RuleURL, "url", url.Index, "attachment URL "+why)
		}
	}
	c.optionalString(mime, "mimeType")
	c.optionalString(name, "fileName")
	c.optionalString(desc, "description")
	if kind != "" && mime.Type == gjson.String && mime.Str != "" {
		if want := kindForMIME(mime.Str); want != kind {
			c.add(RuleAttachmentMIME, "type", typ.Index, "attachment type "+strconv.Quote(kind)+" does not match mimeType "+strconv.Quote(mime.Str)+"; expected "+strconv.Quote(want))
		}
	}
}

func (c *refChecker) location(m gjson.Result, f *[mCount]gjson.Result) {
	lat, lng := f[mLat], f[mLng]
	if nested := f[mLocation]; nested.Exists() {
		c.add(RuleLocationNested, "location", nested.Index, locationNestedHint)
		if !lat.Exists() && !lng.Exists() {
			c.add(RuleRequired, "latitude", nested.Index, locationNestedOnly)
			c.optionalString(f[mAddress], "address")
			return
		}
	}
	c.coord(m, lat, "latitude", 90, RuleLatitude)
	c.coord(m, lng, "longitude", 180, RuleLongitude)
	c.optionalString(f[mAddress], "address")
}

func (c *refChecker) coord(parent, v gjson.Result, key string, limit float64, rule string) {
	var x float64
	switch v.Type {
	case gjson.Number:
		x = v.Num
	case gjson.String:
		n, err := strconv.ParseFloat(v.Str, 64)
		if err != nil || n != n || n > 1e300 || n < -1e300 {
			c.add(RuleType, key, v.Index, strconv.Quote(key)+" must be a number of degrees, got the string "+strconv.Quote(clip(v.Str)))
			return
		}
		c.add(RuleCoordinateString, key, v.Index, strconv.Quote(key)+" is a string; send it as a JSON number ("+v.Str+")")
		x = n
	default:
		if !v.Exists() {
			c.missing(parent, key, "WGS-84 degrees as a number")
		} else {
			c.wrongType(v, key, "a number of degrees")
		}
		return
	}
	if x < -limit || x > limit {
		lim := strconv.Itoa(int(limit))
		c.add(rule, key, v.Index, key+" "+strconv.FormatFloat(x, 'g', -1, 64)+" is outside [-"+lim+", "+lim+"]")
	}
}

func (c *refChecker) quickReply(m, title, replies gjson.Result) {
	c.requiredString(m, title, "title", "the prompt shown above the options")
	switch {
	case !replies.Exists():
		c.missing(m, "replies", "an array of option strings")
		return
	case !replies.IsArray():
		c.wrongType(replies, "replies", "an array of strings")
		return
	}
	c.push("replies")
	n := 0
	replies.ForEach(func(_, r gjson.Result) bool {
		c.pushIdx(n)
		switch {
		case r.Type != gjson.String:
			c.wrongType(r, "", "a string (replies are plain strings, not objects)")
		case isBlank(r.Str):
			c.add(RuleEmpty, "", r.Index, "reply option is empty")
		}
		if n == 10 {
			c.add(RuleRepliesCount, "", r.Index, "more than 10 quick replies; providers commonly cap the list at 10")
		}
		c.pop()
		n++
		return true
	})
	c.pop()
	if n == 0 {
		c.add(RuleRepliesEmpty, "replies", replies.Index, "quick_reply needs at least one reply option")
	}
}

// ---- contact -------------------------------------------------------------

func (c *refChecker) contact(ct gjson.Result, contactID string) {
	ct.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "firstName", "lastName":
			c.optionalString(v, k.Str)
		case "profilePic":
			if v.Type != gjson.String {
				c.wrongType(v, k.Str, "a string (URL)")
			} else if v.Str != "" {
				if why := checkURL(v.Str); why != "" {
					c.add(RuleContactField, k.Str, v.Index, "profilePic "+why)
				}
			}
		case "countryCode":
			if v.Type != gjson.String {
				c.wrongType(v, k.Str, "a string")
			} else if !isAlpha2(v.Str) {
				c.add(RuleContactField, k.Str, v.Index, "countryCode "+strconv.Quote(clip(v.Str))+" is not an ISO 3166-1 alpha-2 code such as \"MY\""+countryCodeHint(v.Str, contactID))
			}
		case "email":
			if v.Type != gjson.String {
				c.wrongType(v, k.Str, "a string")
			} else if v.Str != "" && !looksLikeEmail(v.Str) {
				c.add(RuleContactField, k.Str, v.Index, "email "+strconv.Quote(clip(v.Str))+" does not look like an e-mail address")
			}
		case "phone":
			if v.Type != gjson.String {
				c.wrongType(v, k.Str, "a string")
			} else if v.Str != "" {
				if checkID(v.Str, "phone").bad {
					c.add(RuleContactField, k.Str, v.Index, "phone "+strconv.Quote(clip(v.Str))+" is not E.164 (+ and 7 to 15 digits, e.g. +60123456789)")
				}
			}
		case "language", "locale":
			if v.Type != gjson.String {
				c.wrongType(v, k.Str, "a string")
			} else if v.Str != "" && !isLangTag(v.Str) {
				c.add(RuleContactField, k.Str, v.Index, k.Str+" "+strconv.Quote(clip(v.Str))+" is not a language tag such as \"en\" or \"en_US\"")
			}
		case "timezone":
			c.timezone(v)
		default:
			c.unknown(k, "contact (known: firstName, lastName, profilePic, countryCode, email, phone, language, locale, timezone)")
		}
		return true
	})
}

func (c *refChecker) timezone(v gjson.Result) {
	const key = "timezone"
	x := v.Num
	switch v.Type {
	case gjson.Number:
	case gjson.String:
		n, err := strconv.ParseFloat(v.Str, 64)
		if err != nil {
			c.add(RuleContactField, key, v.Index, "timezone must be a UTC offset in hours as a number, e.g. 8; got "+strconv.Quote(clip(v.Str)))
			return
		}
		c.add(RuleContactField, key, v.Index, "timezone is a string; send the UTC offset as a number, e.g. "+strconv.FormatFloat(n, 'g', -1, 64))
		x = n
	default:
		c.wrongType(v, key, "a number (UTC offset in hours)")
		return
	}
	if x < -12 || x > 14 {
		c.add(RuleContactField, key, v.Index, "timezone "+strconv.FormatFloat(x, 'g', -1, 64)+" is not a UTC offset in hours (-12 to 14)")
	}
}

// ---- /message replies ----------------------------------------------------

func (c *refChecker) reply(root gjson.Result, r *refRootFields) {
	st := c.opts.ReplyStatus
	success := r.mid.Exists() || !r.errv.Exists()
	switch {
	case st == 0:
		if r.mid.Exists() && r.errv.Exists() {
			c.add(RuleUnexpectedField, "error", r.errv.Index, `a reply carries either "mId" (200) or "error" (4xx), not both`)
		}
	case st == 200:
		success = true
	case st >= 200 && st < 300:
		success = true
		c.add(RuleReplyStatusNot200, "", root.Index, "the platform documents 200 for success; "+strconv.Itoa(st)+" may not be taken as sent")
	case st >= 400 && st < 500:
		success = false
	default:
		c.add(RuleReplyStatus, "", root.Index, "reply status "+strconv.Itoa(st)+": answer 200 {\"mId\": ...} on success or 4xx {\"error\": {\"message\": ...}} on failure"+statusHint(st))
		return
	}
	if success {
		if c.requiredString(root, r.mid, "mId", "the provider's message id (200 replies)") {
			c.midLength(r.mid, "mId")
		}
		if st != 0 && r.errv.Exists() {
			c.add(RuleUnexpectedField, "error", r.errv.Index, `"error" in a `+strconv.Itoa(st)+` reply; success replies carry only "mId"`)
		}
		return
	}
	if r.mid.Exists() {
		c.add(RuleUnexpectedField, "mId", r.mid.Index, `"mId" in a `+strconv.Itoa(st)+` reply; error replies carry {"error": {"message": ...}}`)
	}
	e := r.errv
	switch {
	case !e.Exists():
		c.missing(root, "error", `an object {"message": "why the message was not sent"}`)
		return
	case !e.IsObject():
		c.wrongType(e, "error", `an object {"message": ...}`)
		return
	}
	c.push("error")
	defer c.pop()
	var msg gjson.Result
	e.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "message" {
			if msg.Exists() {
				c.duplicate(k)
			}
			msg = v
		} else {
			c.unknown(k, "error")
		}
		return true
	})
	c.requiredString(e, msg, "message", "the reason shown for the failed message")
}

// refLastMember returns the last value of key in object o: JSON.parse keeps the
// last duplicate, while gjson's Get returns the first.
func (c *refChecker) repeatedMIDs(ev gjson.Result) {
	var mids []gjson.Result
	c.push("events")
	i := 0
	ev.ForEach(func(_, e gjson.Result) bool {
		defer func() { i++ }()
		if len(mids) >= 64 {
			return false
		}
		if !e.IsObject() {
			return true
		}
		t, m := refLastMember(e, "type"), refLastMember(e, "mId")
		if t.Type != gjson.String || m.Type != gjson.String || m.Str == "" || t.Str != "message" && t.Str != "message_echo" {
			return true
		}
		for _, p := range mids {
			if p.Str == m.Str {
				line, col := c.position(p.Index)
				c.pushIdx(i)
				c.add(RuleMIDDuplicate, "mId", m.Index, "mId "+strconv.Quote(clip(m.Str))+" was already used for this channel at "+strconv.Itoa(line)+":"+strconv.Itoa(col)+midDuplicateAdvice)
				c.pop()
				break
			}
		}
		mids = append(mids, m)
		return true
	})
	c.pop()
}

func refLastMember(o gjson.Result, key string) gjson.Result {
	var out gjson.Result
	o.ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			out = v
		}
		return true
	})
	return out
}

func refTypeName(r gjson.Result) string {
	switch r.Type {
	case gjson.Null:
		if !r.Exists() {
			return "nothing"
		}
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if r.IsArray() {
		return "an array"
	}
	return "an object"
}

// escapes reports, in every string (keys too), the escapes that are valid
// JSON text but no valid text once decoded: \u0000 (a NUL character) and a
// UTF-16 surrogate without its partner. One finding per string. data is
// well-formed JSON no deeper than MaxDepth when this runs; the walk is flat
// and keeps the refChecker's path so findings are located like all others.
func (c *refChecker) escapes() {
	data := c.data
	if !bytes.Contains(data, []byte(`\u`)) {
		return
	}
	type frame struct{ obj, keyed bool }
	var stack [MaxDepth + 1]frame
	sp, found := 0, 0
	expectKey := false
	for i := 0; i < len(data) && found < maxEscapeFindings; i++ {
		switch data[i] {
		case '{':
			stack[sp] = frame{obj: true}
			sp++
			expectKey = true
		case '[':
			stack[sp] = frame{}
			sp++
			c.pushIdx(0)
		case '}':
			sp--
			if stack[sp].keyed {
				c.pop()
			}
			expectKey = false
		case ']':
			sp--
			c.pop()
		case ',':
			if f := &stack[sp-1]; f.obj {
				if f.keyed {
					c.pop()
					f.keyed = false
				}
				expectKey = true
			} else if d := c.depth - 1; d < len(c.path) {
				c.path[d].idx++
			}
		case '"':
			end, bad, off := refScanString(data, i)
			if expectKey {
				key := string(data[i+1 : end])
				if bad == "" { // a bad escape stays as written: it decodes to U+FFFD
					key = refDecodeKey(data[i+1 : end])
				}
				c.push(key)
				stack[sp-1].keyed = true
				expectKey = false
			}
			switch bad {
			case RuleStringNUL:
				c.add(bad, "", off, `the string holds "\u0000", a NUL character: receivers cut the text there or reject it; remove it`)
				found++
			case RuleStringSurrogate:
				c.add(bad, "", off, `the string holds "`+string(data[off:off+6])+`", a lone UTF-16 surrogate that is not a character: it cannot be encoded as UTF-8; send the character itself or its full surrogate pair`)
				found++
			}
			i = end
		}
	}
	c.depth = 0
}

// refScanString scans the string starting at data[i] == '"'; end is the index
// of its closing quote. bad names the first bad escape in it ("" when none)
// and off is where that escape starts.
func refScanString(data []byte, i int) (end int, bad string, off int) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '"':
			return j, bad, off
		case '\\':
			if j+1 < len(data) && data[j+1] == 'u' && j+6 <= len(data) {
				v, _ := strconv.ParseUint(string(data[j+2:j+6]), 16, 16)
				switch {
				case bad != "":
				case v == 0:
					bad, off = RuleStringNUL, j
				case v >= 0xD800 && v <= 0xDBFF:
					if lo, ok := refLowSurrogate(data, j+6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						j += 6 // the pair's second half
					} else {
						bad, off = RuleStringSurrogate, j
					}
				case v >= 0xDC00 && v <= 0xDFFF:
					bad, off = RuleStringSurrogate, j
				}
				j += 5
			} else {
				j++ // the escaped character
			}
		}
	}
	return len(data), bad, off
}

// refLowSurrogate reads a \uXXXX escape at data[j:].
func refLowSurrogate(data []byte, j int) (uint64, bool) {
	if j+6 > len(data) || data[j] != '\\' || data[j+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[j+2:j+6]), 16, 16)
	return v, err == nil
}

// refDecodeKey turns a key's raw bytes into its text for the finding's path.
func refDecodeKey(raw []byte) string { // raw is free of bad escapes
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return string(raw)
	}
	return s
}
