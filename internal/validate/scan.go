package validate

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// The scanner reads a payload once: it checks the grammar (exactly what
// encoding/json accepts), UTF-8 inside strings, NUL bytes and the nesting
// depth, reports the escapes that decode to no valid text (string-nul,
// string-surrogate), and records the values the rules read on a flat tape.
// The checker then walks the tape: nested values are never parsed again.
// The walk is iterative (an explicit stack of MaxDepth frames), so no
// input makes it recurse.

// node is one value on the tape (an object member is a key node followed
// by its value's nodes).
type node struct {
	off uint32 // the value's first byte (a key's opening quote)
	// x: for strings, numbers and literals the offset one past the value
	// (offMask), with escBit set on strings holding a backslash and wideBit
	// on those holding a non-ASCII byte; for objects and arrays the tape
	// index after their subtree.
	x uint32
}

// maxEscapeFindings caps string-nul/string-surrogate findings per payload.
const maxEscapeFindings = 20

const (
	escBit  = 1 << 31
	wideBit = 1 << 30
	offMask = wideBit - 1
	maxScan = offMask // offsets must fit below the flag bits
)

// Recording contexts: whose children go on the tape. Only the containers
// the rules look into are recorded, so an unknown field's big value (or a
// custom payload) costs a scan and no tape.
type rctx uint8

const (
	rNone    rctx = iota // children not recorded
	rFlat                // children recorded, their children not
	rRoot                // the root object
	rEvents              // events[]
	rEvent               // events[i]
	rMessage             // message{} (at the root or in an event)
)

type frame struct {
	obj    bool
	keyEsc bool // the current key holds a backslash
	keyBad bool // ... and a bad escape: its path segment is shown raw
	ctx    rctx
	node   int32 // tape index of the container; -1 when not recorded
	idx    int32 // array: index of the current element
	key    int32 // object: offset of the current key's opening quote
	keyEnd int32 // ... and of its closing quote
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special has a high bit set in the lane of every byte a string's fast
// path must stop at ('"', '\\', a control character, non-ASCII); the lowest
// set bit is exact, higher ones may be borrow noise.
func special(w uint64) uint64 {
	q := w ^ (lsb * '"')
	b := w ^ (lsb * '\\')
	return ((q - lsb) &^ q) | ((b - lsb) &^ b) | ((w - lsb*0x20) &^ w) | w&msb
}

// scan reads the value at start (the first non-space byte) to the end of
// data. It returns false on any syntax, encoding or depth error, and leaves
// nothing on the tape the caller may rely on then.
func (c *checker) scan(start int) bool {
	data := c.data
	n := len(data)
	c.tape = c.tape[:0]
	c.escFound = 0
	sp := 0
	i := start
	rec := true // record the next value on the tape

value:
	if i >= n {
		return false
	}
	if len(c.tape) == cap(c.tape) { // the appends below then never grow it
		c.growTape(i)
	}
	switch data[i] {
	case '{', '[':
		if sp == MaxDepth {
			return false
		}
		f := &c.stack[sp]
		*f = frame{obj: data[i] == '{', node: -1, ctx: c.childCtx(sp, data[i] == '{')}
		if rec {
			f.node = int32(len(c.tape))
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(len(c.tape) + 1)})
		}
		sp++
		i = skipSpace(data, i+1)
		if i >= n {
			return false
		}
		if f.obj {
			if data[i] == '}' {
				i++
				goto close
			}
			goto key
		}
		if data[i] == ']' {
			i++
			goto close
		}
		rec = f.ctx != rNone
		goto value
	case '"':
		end, flags, ok := c.scanStr(i)
		if !ok {
			return false
		}
		if rec {
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(end) | flags})
		}
		if c.badOff >= 0 {
			c.escapeFinding(sp)
		}
		i = end
	case 't':
		if n-i < 4 || data[i+1] != 'r' || data[i+2] != 'u' || data[i+3] != 'e' {
			return false
		}
		if rec {
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(i + 4)})
		}
		i += 4
	case 'f':
		if n-i < 5 || data[i+1] != 'a' || data[i+2] != 'l' || data[i+3] != 's' || data[i+4] != 'e' {
			return false
		}
		if rec {
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(i + 5)})
		}
		i += 5
	case 'n':
		if n-i < 4 || data[i+1] != 'u' || data[i+2] != 'l' || data[i+3] != 'l' {
			return false
		}
		if rec {
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(i + 4)})
		}
		i += 4
	default:
		end := number(data, i)
		if end < 0 {
			return false
		}
		if rec {
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(end)})
		}
		i = end
	}

after:
	i = skipSpace(data, i)
	if sp == 0 {
		return i == n
	}
	if i >= n {
		return false
	}
	if f := &c.stack[sp-1]; f.obj {
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			goto key
		case '}':
			i++
			goto close
		}
		return false
	} else {
		switch data[i] {
		case ',':
			f.idx++
			rec = f.ctx != rNone
			i = skipSpace(data, i+1)
			goto value
		case ']':
			i++
			goto close
		}
		return false
	}

key:
	if i >= n || data[i] != '"' {
		return false
	}
	if len(c.tape) == cap(c.tape) {
		c.growTape(i)
	}
	{
		f := &c.stack[sp-1]
		end, flags, ok := c.scanStr(i)
		if !ok {
			return false
		}
		f.key, f.keyEnd, f.keyEsc, f.keyBad = int32(i), int32(end-1), flags&escBit != 0, c.badOff >= 0
		rec = f.ctx != rNone
		if rec {
			c.tape = append(c.tape, node{off: uint32(i), x: uint32(end) | flags})
		}
		if c.badOff >= 0 {
			c.escapeFinding(sp)
		}
		i = skipSpace(data, end)
		if i >= n || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		goto value
	}

close:
	sp--
	if f := &c.stack[sp]; f.node >= 0 {
		c.tape[f.node].x = uint32(len(c.tape))
	}
	goto after
}

// growTape makes room for at least one more node. bigTape is where the
// tape stops doubling: a big document's tape grows to the size
// extrapolated from what the scan has seen so far, so that it is copied
// once or twice instead of leaving a trail of garbage several times its
// size (32 MiB of quick replies peaked at 321 MB; now 193 MB).
const bigTape = 1 << 16

func (c *checker) growTape(at int) {
	want := max(2*len(c.tape), 64)
	if len(c.tape) >= bigTape {
		c.bigGrowths++
		want = len(c.tape) + len(c.tape)/4
		if at > 0 {
			est := int(uint64(len(c.tape)) * uint64(len(c.data)) / uint64(at)) // nodes per byte so far, times the document
			want = max(want, est+est/16)
		}
	}
	c.tape = slices.Grow(c.tape, want-len(c.tape))
}

// childCtx is the recording context of a container opened at depth sp
// (0: the root), from its parent's context and, in an object, its key.
func (c *checker) childCtx(sp int, obj bool) rctx {
	if sp == 0 {
		if obj {
			return rRoot
		}
		return rNone
	}
	f := &c.stack[sp-1]
	if !f.obj {
		if f.ctx == rEvents {
			return rEvent
		}
		return rNone
	}
	switch f.ctx {
	case rRoot:
		switch c.frameKey(f) {
		case "events":
			return rEvents
		case "contact", "error":
			return rFlat
		case "message":
			return rMessage
		}
	case rEvent:
		switch c.frameKey(f) {
		case "message":
			return rMessage
		case "status":
			return rFlat
		}
	case rMessage:
		switch c.frameKey(f) {
		case "attachment", "replies", "location":
			return rFlat
		}
	}
	return rNone
}

// frameKey is the decoded current key of object frame f.
func (c *checker) frameKey(f *frame) string {
	raw := c.data[f.key+1 : f.keyEnd]
	if !f.keyEsc {
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	return unescape(raw)
}

// scanStr scans the string whose opening quote is at i and returns the offset
// after its closing quote and its flags (escBit, wideBit). c.badOff and
// c.badRule name its first escape that decodes to no valid text (badOff <
// 0: none).
func (c *checker) scanStr(i int) (end int, flags uint32, ok bool) {
	data := c.data
	n := len(data)
	c.badOff = -1
	j := i + 1
	for {
		for j+8 <= n {
			m := special(binary.LittleEndian.Uint64(data[j:])) & msb
			if m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		if j >= n {
			return 0, 0, false
		}
		switch b := data[j]; {
		case b == '"':
			return j + 1, flags, true
		case b == '\\':
			flags |= escBit
			if j+1 >= n {
				return 0, 0, false
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				v, ok := hex4(data, j+2)
				if !ok {
					return 0, 0, false
				}
				if c.badOff < 0 {
					switch {
					case v == 0:
						c.badOff, c.badRule = j, RuleStringNUL
					case v >= 0xD800 && v <= 0xDBFF:
						if j+12 <= n && data[j+6] == '\\' && data[j+7] == 'u' {
							if lo, ok := hex4(data, j+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
								j += 6 // the pair's second half, checked here
								break
							}
						}
						c.badOff, c.badRule = j, RuleStringSurrogate
					case v >= 0xDC00 && v <= 0xDFFF:
						c.badOff, c.badRule = j, RuleStringSurrogate
					}
				}
				j += 6
			default:
				return 0, 0, false
			}
		case b < 0x20:
			return 0, 0, false
		case b < 0x80:
			j++ // only after a partial word near the end
		default:
			flags |= wideBit
			r, size := utf8.DecodeRune(data[j:])
			if r == utf8.RuneError && size <= 1 {
				return 0, 0, false
			}
			j += size
		}
	}
}

// hex4 reads the four hex digits of a \u escape at data[j:].
func hex4(data []byte, j int) (uint32, bool) {
	if j+4 > len(data) {
		return 0, false
	}
	var v uint32
	for _, b := range data[j : j+4] {
		switch {
		case b >= '0' && b <= '9':
			b -= '0'
		case b >= 'a' && b <= 'f':
			b -= 'a' - 10
		case b >= 'A' && b <= 'F':
			b -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(b)
	}
	return v, true
}

// number scans a JSON number at data[i]; -1 when it is malformed.
func number(data []byte, i int) int {
	n := len(data)
	if data[i] == '-' {
		i++
		if i == n {
			return -1
		}
	}
	switch b := data[i]; {
	case b == '0':
		i++
	case b >= '1' && b <= '9':
		i++
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < n && data[i] == '.' {
		i++
		if i == n || data[i] < '0' || data[i] > '9' {
			return -1
		}
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i == n || data[i] < '0' || data[i] > '9' {
			return -1
		}
		for i < n && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	return i
}

// escapeFinding reports the bad escape the scanner just met in a string at
// depth sp, located by the path the scanner is at (for a key, its frame's
// current key is already that key: the path ends with it).
func (c *checker) escapeFinding(sp int) {
	if c.escFound >= maxEscapeFindings {
		return
	}
	c.escFound++
	c.depth = 0
	for k := 0; k < sp; k++ {
		f := &c.stack[k]
		if !f.obj {
			c.pushIdx(int(f.idx))
			continue
		}
		raw := c.data[f.key+1 : f.keyEnd]
		switch {
		case f.keyBad:
			c.push(string(raw)) // shown as written: it decodes to U+FFFD
		case f.keyEsc:
			c.push(unescape(raw))
		default:
			c.push(string(raw))
		}
	}
	off := c.badOff
	if c.badRule == RuleStringNUL {
		c.add(RuleStringNUL, "", off, `the string holds "\u0000", a NUL character: receivers cut the text there or reject it; remove it`)
	} else {
		c.add(RuleStringSurrogate, "", off, `the string holds "`+string(c.data[off:off+6])+`", a lone UTF-16 surrogate that is not a character: it cannot be encoded as UTF-8; send the character itself or its full surrogate pair`)
	}
	c.depth = 0
}

// unescape decodes the content of a string holding escapes (valid JSON) as
// gjson and encoding/json do: a surrogate without its partner becomes
// U+FFFD, \u0000 a NUL character.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		if b != '\\' {
			out = append(out, b)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			v, _ := hex4(raw, i+1)
			r := rune(v)
			i += 4
			if v >= 0xD800 && v < 0xDC00 && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo, ok := hex4(raw, i+3); ok && lo >= 0xDC00 && lo < 0xE000 {
					r = (r-0xD800)<<10 | (rune(lo) - 0xDC00) + 0x10000
					i += 6
				}
			}
			out = utf8.AppendRune(out, r) // a lone surrogate encodes as U+FFFD
		default: // '"', '\\', '/'
			out = append(out, raw[i])
		}
	}
	return string(out)
}
