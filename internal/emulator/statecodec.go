package emulator

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
)

// A state file of a million messages is read at a few hundred MB/s: a
// splitter cuts it into top-level values without decoding them, and
// messages in the shape ccx writes are decoded from gjson results instead
// of by reflection. Anything else (other key spellings, nulls, escapes in
// keys, unexpected types) goes to encoding/json, so a file means what
// json.Unmarshal says it means, and a syntax error is located by it.

// syntaxError is JSON the splitter cannot cut; readStateFile locates it
// with a whole-file json.Unmarshal.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func isSyntax(err error) bool {
	var se *json.SyntaxError
	var own *syntaxError
	return errors.As(err, &se) || errors.As(err, &own)
}

type splitter struct {
	r   *bufio.Reader
	buf []byte
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// next returns the next byte that is not white space, consuming it.
func (s *splitter) next() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(c) {
			return c, nil
		}
	}
}

// peek is next without consuming the byte.
func (s *splitter) peek() (byte, error) {
	c, err := s.next()
	if err == nil {
		_ = s.r.UnreadByte()
	}
	return c, err
}

// value returns the bytes of the next JSON value (white space skipped). It
// only finds where the value ends; the caller's decoder checks it. The
// slice is valid until the next call.
func (s *splitter) value() ([]byte, error) {
	if _, err := s.peek(); err != nil {
		return nil, unexpectedEOF(err)
	}
	s.buf = s.buf[:0]
	depth, inStr, esc := 0, false, false
	for {
		chunk, err := s.r.Peek(max(s.r.Buffered(), 1))
		if len(chunk) == 0 {
			if len(s.buf) > 0 && depth == 0 && !inStr { // a number or literal at the very end
				return s.buf, nil
			}
			return nil, unexpectedEOF(err)
		}
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					if depth == 0 {
						return s.take(chunk, i+1), nil
					}
				}
				continue
			}
			switch c {
			case '"':
				if depth == 0 && (i > 0 || len(s.buf) > 0) { // "1"2 is not one value
					return s.take(chunk, i), nil
				}
				inStr = true
			case '{', '[':
				if depth == 0 && (i > 0 || len(s.buf) > 0) {
					return s.take(chunk, i), nil
				}
				depth++
			case '}', ']':
				if depth == 0 { // ends a scalar inside the caller's container
					return s.take(chunk, i), nil
				}
				depth--
				if depth == 0 {
					return s.take(chunk, i+1), nil
				}
			case ',', ':', ' ', '\t', '\n', '\r':
				if depth == 0 {
					return s.take(chunk, i), nil
				}
			}
		}
		s.buf = append(s.buf, chunk...)
		_, _ = s.r.Discard(len(chunk))
	}
}

func (s *splitter) take(chunk []byte, n int) []byte {
	s.buf = append(s.buf, chunk[:n]...)
	_, _ = s.r.Discard(n)
	return s.buf
}

func unexpectedEOF(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return &syntaxError{"unexpected end of JSON input"}
	}
	return err
}

// decodeMessage decodes one element of "messages".
func decodeMessage(raw []byte, m *Message) error {
	if fastMessage(raw, m) {
		return nil
	}
	*m = Message{}
	return json.Unmarshal(raw, m)
}

// Message keys in the order of the bit that marks them seen.
var messageKeys = map[string]uint{"seq": 0, "channelId": 1, "contactId": 2, "mId": 3, "direction": 4, "origin": 5, "type": 6,
	"message": 7, "timestamp": 8, "status": 9, "reason": 10, "timeline": 11, "reply": 12}

func fastMessage(raw []byte, m *Message) bool {
	if !gjson.ValidBytes(raw) {
		return false
	}
	v := gjson.ParseBytes(raw)
	if !v.IsObject() {
		return false
	}
	var seen uint
	ok := true
	v.ForEach(func(k, val gjson.Result) bool {
		bit, known := messageKeys[k.Str]
		if !known || k.Raw != `"`+k.Str+`"` || seen&(1<<bit) != 0 {
			ok = false // case-folded, escaped or repeated keys: encoding/json decides
			return false
		}
		seen |= 1 << bit
		var s string
		switch k.Str {
		case "seq":
			m.Seq, ok = fastInt(val)
		case "timestamp":
			m.Timestamp, ok = fastInt(val)
		case "message":
			ok = fastContent(val, &m.Content)
		case "timeline":
			m.Timeline, ok = fastTimeline(val)
		case "reply":
			if val.Type != gjson.JSON || !strings.HasPrefix(val.Raw, "{") {
				ok = false
				break
			}
			var r ReplyInfo
			ok = json.Unmarshal([]byte(val.Raw), &r) == nil
			m.Reply = &r
		default:
			if s, ok = fastString(val); !ok {
				break
			}
			switch k.Str {
			case "channelId":
				m.ChannelID = s
			case "contactId":
				m.ContactID = s
			case "mId":
				m.MID = s
			case "direction":
				m.Direction = Direction(s)
			case "origin":
				m.Origin = Origin(s)
			case "type":
				m.Type = fastType(s)
			case "status":
				m.Status = statusOf(s)
			case "reason":
				m.Reason = s
			}
		}
		return ok
	})
	return ok
}

func fastInt(v gjson.Result) (int64, bool) {
	if v.Type != gjson.Number {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	return n, err == nil
}

// fastString is the value of a plain JSON string (escapes go through
// encoding/json, which also repairs invalid UTF-8 as it does). The copy
// keeps the stored string from pinning the whole message's bytes.
func fastString(v gjson.Result) (string, bool) {
	if v.Type != gjson.String {
		return "", false
	}
	if strings.IndexByte(v.Raw, '\\') >= 0 || !utf8.ValidString(v.Str) {
		var s string
		if json.Unmarshal([]byte(v.Raw), &s) != nil {
			return "", false
		}
		return s, true
	}
	return strings.Clone(v.Str), true
}

func fastType(s string) channel.MessageType {
	for _, t := range []channel.MessageType{channel.MessageText, channel.MessageAttachment, channel.MessageLocation, channel.MessageQuickReply, channel.MessageCustomPayload} {
		if string(t) == s {
			return t
		}
	}
	return channel.MessageType(s)
}

func statusOf(s string) channel.StatusValue {
	for _, v := range []channel.StatusValue{StatusReceived, channel.StatusSent, channel.StatusDelivered, channel.StatusRead, channel.StatusFailed} {
		if string(v) == s {
			return v
		}
	}
	return channel.StatusValue(s)
}

// fastContent decodes {type, text}; any other content goes to encoding/json.
func fastContent(v gjson.Result, c *channel.Message) bool {
	if !v.IsObject() {
		return false
	}
	plain := true
	var seen uint
	v.ForEach(func(k, val gjson.Result) bool {
		var s string
		var ok bool
		switch {
		case k.Raw == `"type"` && seen&1 == 0:
			seen |= 1
			s, ok = fastString(val)
			c.Type = fastType(s)
		case k.Raw == `"text"` && seen&2 == 0:
			seen |= 2
			s, ok = fastString(val)
			c.Text = s
		}
		plain = ok
		return ok
	})
	if plain {
		return true
	}
	*c = channel.Message{}
	return json.Unmarshal([]byte(v.Raw), c) == nil
}

func fastTimeline(v gjson.Result) ([]StatusChange, bool) {
	if !v.IsArray() {
		return nil, false
	}
	out := make([]StatusChange, 0, 4)
	ok := true
	v.ForEach(func(_, e gjson.Result) bool {
		if !e.IsObject() {
			ok = false
			return false
		}
		var sc StatusChange
		var seen uint
		e.ForEach(func(k, val gjson.Result) bool {
			var s string
			switch {
			case k.Raw == `"status"` && seen&1 == 0:
				seen |= 1
				s, ok = fastString(val)
				sc.Status = statusOf(s)
			case k.Raw == `"reason"` && seen&2 == 0:
				seen |= 2
				sc.Reason, ok = fastString(val)
			case k.Raw == `"timestamp"` && seen&4 == 0:
				seen |= 4
				sc.Timestamp, ok = fastInt(val)
			case k.Raw == `"applied"` && seen&8 == 0:
				seen |= 8
				ok = val.Type == gjson.True || val.Type == gjson.False
				sc.Applied = val.Type == gjson.True
			default:
				ok = false
			}
			return ok
		})
		out = append(out, sc)
		return ok
	})
	return out, ok
}
