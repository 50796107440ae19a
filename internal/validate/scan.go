package validate

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// The checker reads the payload with a purpose-built scanner rather than
// gjson.Result.ForEach: profiling showed ForEach re-scanning every nested
// container and string once per level (70% of the time). Here one iterative,
// validating pass records where each container ends (the "tape"); walking the
// document afterwards jumps over containers instead of re-scanning them.
// gjson still unescapes the rare escaped strings.

// vtype is a JSON value's type; tNone means absent.
type vtype uint8

const (
	tNone vtype = iota
	tNull
	tFalse
	tTrue
	tNumber
	tString
	tObject
	tArray
)

// val is one JSON value of the payload (gjson.Result's shape, minus parsing).
type val struct {
	Type  vtype
	Index int    // byte offset of the value in the payload
	Raw   string // the value's bytes
	Str   string // strings only: the unescaped text
	ord   int32  // containers only: position in the tape
}

func (v val) Exists() bool   { return v.Type != tNone }
func (v val) IsObject() bool { return v.Type == tObject }
func (v val) IsArray() bool  { return v.Type == tArray }

// Num parses a number value (JSON numbers always parse; huge ones give ±Inf).
func (v val) Num() float64 {
	f, _ := strconv.ParseFloat(v.Raw, 64)
	return f
}

// byteClass drives the scanner: which bytes end a plain run inside a string.
var strSpecial = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// tape records, per container in document order, the offset of its closing
// bracket and the ordinal of the first container after it. The first 32
// entries are fixed arrays (payloads have about eight containers), so a
// checker on the stack needs no allocation; more spill into slices.
type tape struct {
	n          int32
	ends, next [32]int32
	moreEnds   []int32
	moreNext   []int32
}

func (t *tape) open() int32 {
	k := t.n
	t.n++
	if k >= int32(len(t.ends)) {
		t.moreEnds = append(t.moreEnds, 0)
		t.moreNext = append(t.moreNext, 0)
	}
	return k
}

func (t *tape) close(k int32, end int) {
	if k < int32(len(t.ends)) {
		t.ends[k], t.next[k] = int32(end), t.n
		return
	}
	t.moreEnds[k-int32(len(t.ends))], t.moreNext[k-int32(len(t.ends))] = int32(end), t.n
}

func (t *tape) get(k int32) (end int, next int32) {
	if k < int32(len(t.ends)) {
		return int(t.ends[k]), t.next[k]
	}
	return int(t.moreEnds[k-int32(len(t.ends))]), t.moreNext[k-int32(len(t.ends))]
}

// scanResult says why a document is not well-formed.
type scanResult uint8

const (
	scanOK scanResult = iota
	scanSyntax
	scanDepth
)

// scanJSON validates c.s as exactly one JSON value (RFC 8259; UTF-8 is
// checked separately) and fills the tape. It is iterative: depth beyond
// MaxDepth is reported, never recursed into.
func (c *checker) scanJSON() (scanResult, int) {
	d := c.s
	n := len(d)
	var stack [MaxDepth]int32 // tape ordinals of the open containers
	var objs [MaxDepth]bool   // whether each open container is an object
	depth := 0
	c.tape.n = 0

	const (
		stValue = iota // expecting a value
		stAfter        // after a value: ',' or a closing bracket
		stKey          // expecting an object key
	)
	state := stValue
	i := 0
	for {
		for i < n && isSpace(d[i]) {
			i++
		}
		if i >= n {
			if state == stAfter && depth == 0 {
				return scanOK, 0
			}
			return scanSyntax, n
		}
		b := d[i]
		switch state {
		case stValue:
			switch {
			case b == '{' || b == '[':
				if depth == MaxDepth {
					return scanDepth, i
				}
				ord := c.tape.open()
				stack[depth], objs[depth] = ord, b == '{'
				depth++
				i++
				for i < n && isSpace(d[i]) {
					i++
				}
				if i < n && (d[i] == '}' && b == '{' || d[i] == ']' && b == '[') {
					depth--
					c.tape.close(ord, i)
					i++
					state = stAfter
				} else if b == '{' {
					state = stKey
				}
			case b == '"':
				j, ok := scanString(d, i)
				if !ok {
					return scanSyntax, j
				}
				i, state = j, stAfter
			case b == '-' || b >= '0' && b <= '9':
				j, ok := scanNumber(d, i)
				if !ok {
					return scanSyntax, j
				}
				i, state = j, stAfter
			case b == 't' && hasLit(d, i, "true"), b == 'n' && hasLit(d, i, "null"):
				i, state = i+4, stAfter
			case b == 'f' && hasLit(d, i, "false"):
				i, state = i+5, stAfter
			default:
				return scanSyntax, i
			}
		case stAfter:
			if depth == 0 {
				return scanSyntax, i // content after the document
			}
			top := objs[depth-1]
			switch {
			case b == ',':
				i++
				if top {
					state = stKey
				} else {
					state = stValue
				}
			case b == '}' && top, b == ']' && !top:
				depth--
				ord := stack[depth]
				c.tape.close(ord, i)
				i++
			default:
				return scanSyntax, i
			}
		case stKey:
			if b != '"' {
				return scanSyntax, i
			}
			j, ok := scanString(d, i)
			if !ok {
				return scanSyntax, j
			}
			i = j
			for i < n && isSpace(d[i]) {
				i++
			}
			if i >= n || d[i] != ':' {
				return scanSyntax, i
			}
			i++
			state = stValue
		}
	}
}

func hasLit(d string, i int, lit string) bool {
	return len(d)-i >= len(lit) && d[i:i+len(lit)] == lit
}

// scanString checks the string starting at the quote d[i]; it returns the
// offset after the closing quote.
func scanString(d string, i int) (int, bool) {
	// Short strings (keys, enum values) end within a few bytes: check them
	// byte by byte. For longer ones, the next quote ends the string when the
	// run before it has no backslash and no control character.
	j := i + 1
	for lim := min(len(d), j+16); j < lim && !strSpecial[d[j]]; j++ {
	}
	if j < len(d) && d[j] == '"' {
		return j + 1, true
	}
	if j < len(d) && !strSpecial[d[j]] {
		if q := strings.IndexByte(d[j:], '"'); q >= 0 {
			seg := d[j : j+q]
			if strings.IndexByte(seg, '\\') < 0 && !hasControl(seg) {
				return j + q + 1, true
			}
		}
	}
	for j < len(d) {
		b := d[j]
		if !strSpecial[b] {
			j++
			continue
		}
		switch {
		case b == '"':
			return j + 1, true
		case b == '\\':
			if j+1 >= len(d) {
				return len(d), false
			}
			switch d[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(d)-j < 6 || !isHex(d[j+2]) || !isHex(d[j+3]) || !isHex(d[j+4]) || !isHex(d[j+5]) {
					return j, false
				}
				j += 6
			default:
				return j + 1, false
			}
		default: // a control character
			return j, false
		}
	}
	return len(d), false
}

// hasControl reports whether s has a byte below 0x20 (SWAR, 8 bytes a step).
func hasControl(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (x-lo*0x20)&^x&hi != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

func isHex(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

// scanNumber checks -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? at d[i].
func scanNumber(d string, i int) (int, bool) {
	n := len(d)
	if d[i] == '-' {
		i++
	}
	if i >= n {
		return i, false
	}
	switch {
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		for i < n && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < n && d[i] == '.' {
		i++
		if i >= n || d[i] < '0' || d[i] > '9' {
			return i, false
		}
		for i < n && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < n && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < n && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= n || d[i] < '0' || d[i] > '9' {
			return i, false
		}
		for i < n && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i, true
}

// value reads the (already validated) value at d[i]; next is the tape
// ordinal the next container will have. It returns the value, the offset
// after it and the ordinal after it.
func (c *checker) value(i int, next int32) (val, int, int32) {
	d := c.s
	switch b := d[i]; b {
	case '{', '[':
		end, after := c.tape.get(next)
		t := tObject
		if b == '[' {
			t = tArray
		}
		return val{Type: t, Index: i, Raw: d[i : end+1], ord: next}, end + 1, after
	case '"':
		j := i + 1
		for lim := min(len(d), j+16); j < lim && d[j] != '"' && d[j] != '\\'; j++ {
		}
		if d[j] == '"' {
			raw := d[i : j+1]
			return val{Type: tString, Index: i, Raw: raw, Str: raw[1 : len(raw)-1]}, j + 1, next
		}
		if d[j] != '\\' {
			if q := strings.IndexByte(d[j:], '"'); q >= 0 && strings.IndexByte(d[j:j+q], '\\') < 0 {
				raw := d[i : j+q+1]
				return val{Type: tString, Index: i, Raw: raw, Str: raw[1 : len(raw)-1]}, j + q + 1, next
			}
		}
		esc := false
		for {
			b := d[j]
			if b == '"' {
				break
			}
			if b == '\\' {
				esc = true
				j += 2
				continue
			}
			j++
		}
		raw := d[i : j+1]
		v := val{Type: tString, Index: i, Raw: raw, Str: raw[1 : len(raw)-1]}
		if esc {
			v.Str = gjson.Parse(raw).Str
		}
		return v, j + 1, next
	case 't':
		return val{Type: tTrue, Index: i, Raw: d[i : i+4]}, i + 4, next
	case 'f':
		return val{Type: tFalse, Index: i, Raw: d[i : i+5]}, i + 5, next
	case 'n':
		return val{Type: tNull, Index: i, Raw: d[i : i+4]}, i + 4, next
	}
	j := i + 1
	for j < len(d) {
		b := d[j]
		if b >= '0' && b <= '9' || b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-' {
			j++
			continue
		}
		break
	}
	return val{Type: tNumber, Index: i, Raw: d[i:j]}, j, next
}

// forEach visits the members of an object (key and value) or the elements
// of an array (zero key) in document order, until fn returns false.
func (c *checker) forEach(v val, fn func(k, v val) bool) {
	if v.Type != tObject && v.Type != tArray {
		return
	}
	d := c.s
	obj := v.Type == tObject
	i := v.Index + 1
	next := v.ord + 1
	for {
		for isSpace(d[i]) {
			i++
		}
		switch d[i] {
		case '}', ']':
			return
		case ',':
			i++
			for isSpace(d[i]) {
				i++
			}
		}
		var k, x val
		if obj {
			k, i, _ = c.value(i, next)
			for d[i] != ':' {
				i++
			}
			i++
			for isSpace(d[i]) {
				i++
			}
		}
		x, i, next = c.value(i, next)
		if !fn(k, x) {
			return
		}
	}
}

// get returns the member key of object v (the last one, as JSON.parse does).
func (c *checker) get(v val, key string) val {
	var out val
	c.forEach(v, func(k, x val) bool {
		if k.Str == key {
			out = x
		}
		return true
	})
	return out
}
