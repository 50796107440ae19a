package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// ---- scanning helpers ----------------------------------------------------

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// depthExceeded reports the offset of the bracket where nesting first passes
// limit. It is a flat byte loop (no recursion, so any depth is harmless) that
// tracks only string state and bracket depth, not grammar: it locates a
// json-depth finding once the scan failed (the rules rank depth before
// syntax), and guards gjson's recursive validator in completeJSON and
// DetectKind. Input with too few brackets to nest that deep skips the loop.
func depthExceeded(data []byte, limit int) (int, bool) {
	if bytes.Count(data, []byte{'{'})+bytes.Count(data, []byte{'['}) <= limit {
		return 0, false
	}
	depth := 0
	inStr := false
	for i := 0; i < len(data); i++ {
		b := data[i]
		if inStr {
			if b == '\\' {
				i++
			} else if b == '"' {
				inStr = false
			}
			continue
		}
		switch b {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > limit {
				return i, true
			}
		case '}', ']':
			depth--
		}
	}
	return 0, false
}

func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return 0
}

// syntaxError locates a syntax error; only called on the failure path.
func syntaxError(data []byte, at int) (int, string) {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset)
		if off > 0 && off < len(data) {
			off--
		}
		msg := se.Error()
		if msg == "unexpected end of JSON input" {
			msg = "unexpected end of input (truncated?)"
		}
		return off, msg
	}
	return at, "unexpected character"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// caseHint suggests the lower-case spelling when only the case is wrong.
func caseHint(got string, known ...string) string {
	for _, k := range known {
		if got != k && equalFold(got, k) {
			return " (did you mean " + strconv.Quote(k) + "? values are lower case)"
		}
	}
	return ""
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && equalFold(s[:len(p)], p) }

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) <= 60 {
		return s
	}
	cut := 57
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// checkURL accepts an absolute http(s) URL with a host and no white space or
// control characters; it returns why not, or "". Hand-written rather than
// net/url so the happy path does not allocate.
func checkURL(u string) string {
	var rest string
	switch {
	case hasPrefixFold(u, "https://"):
		rest = u[8:]
	case hasPrefixFold(u, "http://"):
		rest = u[7:]
	default:
		return strconv.Quote(clip(u)) + " is not an absolute http(s) URL (e.g. https://files.example.com/photo.jpg)"
	}
	for i := 0; i < len(u); i++ {
		if b := u[i]; b <= ' ' || b == 0x7f {
			return strconv.Quote(clip(u)) + " contains white space or a control character; percent-encode it"
		}
	}
	host := rest
	for i := 0; i < len(host); i++ {
		if b := host[i]; b == '/' || b == '?' || b == '#' {
			host = host[:i]
			break
		}
	}
	if i := lastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if len(host) > 0 && host[0] == '[' { // IPv6 literal
		if j := lastIndexByte(host, ']'); j > 1 {
			return ""
		}
		return strconv.Quote(clip(u)) + " has a malformed IPv6 host"
	}
	if i := lastIndexByte(host, ':'); i >= 0 {
		if port := host[i+1:]; port != "" && !isDigits(port) {
			return strconv.Quote(clip(u)) + " has a bad port " + strconv.Quote(clip(port))
		}
		host = host[:i]
	}
	if host == "" {
		return strconv.Quote(clip(u)) + " has no host"
	}
	for i := 0; i < len(host); i++ {
		b := host[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '.' || b == '_' || b == '%' || b >= 0x80) {
			return strconv.Quote(clip(u)) + " has an invalid host"
		}
	}
	return ""
}

func lastIndexByte(s string, b byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == b {
			return i
		}
	}
	return -1
}

func isAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func looksLikeEmail(s string) bool {
	at := -1
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == '@':
			if at >= 0 {
				return false
			}
			at = i
		case b <= ' ':
			return false
		}
	}
	if at <= 0 || at == len(s)-1 {
		return false
	}
	dom := s[at+1:]
	dot := lastIndexByte(dom, '.')
	return dot > 0 && dot < len(dom)-1
}

// isLangTag accepts ISO 639 codes with optional region parts: en, en_US, pt-BR, zh-Hant-TW.
func isLangTag(s string) bool {
	n := 0
	first := true
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '-' || s[i] == '_' {
			if first && (n < 2 || n > 3) || !first && (n < 2 || n > 8) {
				return false
			}
			first, n = false, 0
			continue
		}
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || !first && b >= '0' && b <= '9') {
			return false
		}
		n++
	}
	return true
}
