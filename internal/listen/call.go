package listen

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
)

// callJSON is the stable NDJSON form of a Call (for --json and --record):
// bodies are kept byte-exact as strings (base64 when not UTF-8) so that
// `ccx replay` resends exactly what was received.
type callJSON struct {
	callAlias
	Body            *string `json:"body,omitempty"`
	BodyBase64      string  `json:"bodyBase64,omitempty"`
	ReplyBody       *string `json:"replyBody,omitempty"`
	ReplyBodyBase64 string  `json:"replyBodyBase64,omitempty"`
	LatencyMS       float64 `json:"latencyMs"`
}

type callAlias Call

// MarshalJSON writes the call as one record (AppendJSON).
func (c Call) MarshalJSON() ([]byte, error) { return c.AppendJSON(nil), nil }

// AppendJSON appends the call's record to b: the bytes json.Marshal gave for
// the callJSON form (fields in that order, HTML-safe escapes, header keys
// sorted), written directly. The --json and --record logs write one per
// call, and reflection plus json.Marshal's re-compaction of the result were
// a third of `ccx listen --json`'s CPU.
func (c Call) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"time":`...)
	b = appendTime(b, c.Time)
	b = append(b, `,"method":`...)
	b = appendString(b, c.Method)
	b = append(b, `,"path":`...)
	b = appendString(b, c.Path)
	if c.Remote != "" {
		b = append(b, `,"remote":`...)
		b = appendString(b, c.Remote)
	}
	b = append(b, `,"header":`...)
	b = appendHeader(b, c.Header)
	b = append(b, `,"auth":`...)
	b = appendString(b, c.Auth)
	if c.Kind != "" {
		b = append(b, `,"type":`...)
		b = appendString(b, string(c.Kind))
	}
	if c.ChannelID != "" {
		b = append(b, `,"channelId":`...)
		b = appendString(b, c.ChannelID)
	}
	if c.ContactID != "" {
		b = append(b, `,"contactId":`...)
		b = appendString(b, c.ContactID)
	}
	if c.Message != nil {
		m := c.messageJSON
		if m == nil {
			m, _ = ui.Marshal(c.Message) // plain strings and numbers: cannot fail
		}
		b = append(b, `,"message":`...)
		b = append(b, m...)
	}
	b = append(b, `,"findings":`...)
	b = appendFindings(b, c.Findings)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(c.Status), 10)
	if len(c.ReplyHeader) > 0 {
		b = append(b, `,"replyHeader":`...)
		b = appendHeader(b, c.ReplyHeader)
	}
	if c.Forwarded {
		b = append(b, `,"forwarded":true`...)
	}
	if c.ForwardError != "" {
		b = append(b, `,"forwardError":`...)
		b = appendString(b, c.ForwardError)
	}
	if c.Verdict != "" {
		b = append(b, `,"verdict":`...)
		b = appendString(b, string(c.Verdict))
	}
	if len(c.ReplyFindings) > 0 {
		b = append(b, `,"replyFindings":`...)
		b = appendFindings(b, c.ReplyFindings)
	}
	b = appendBody(b, "body", c.Body)
	b = appendBody(b, "replyBody", c.ReplyBody)
	b = append(b, `,"latencyMs":`...)
	b = appendFloat(b, float64(c.Latency.Microseconds())/1000)
	return append(b, '}')
}

// appendBody writes a body byte-exact: as a string when it is UTF-8, else
// as base64 under NAME+"Base64"; nothing for a nil body.
func appendBody(b []byte, name string, body []byte) []byte {
	if body == nil {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	if utf8.Valid(body) {
		b = append(b, '"', ':')
		return appendString(b, unsafe.String(unsafe.SliceData(body), len(body)))
	}
	b = append(b, `Base64":"`...)
	b = base64.StdEncoding.AppendEncode(b, body)
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 { // as time.Time.MarshalJSON refuses them
		m, _ := json.Marshal(t)
		return append(b, m...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendHeader writes a header as encoding/json writes a map of string
// slices: keys sorted, nil as null.
func appendHeader(b []byte, h http.Header) []byte {
	if h == nil {
		return append(b, "null"...)
	}
	var small [16]string
	keys := small[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		vs := h[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendFindings(b []byte, fs []validate.Finding) []byte {
	if fs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"severity":`...)
		b = appendString(b, string(f.Severity))
		b = append(b, `,"rule":`...)
		b = appendString(b, f.Rule)
		b = append(b, `,"path":`...)
		b = appendString(b, f.Path)
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(f.Line), 10)
		b = append(b, `,"column":`...)
		b = strconv.AppendInt(b, int64(f.Column), 10)
		b = append(b, `,"message":`...)
		b = appendString(b, f.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendFloat formats a float64 as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, '0') // json.Marshal would fail; latencies are finite
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString writes s as a JSON string the way an Encoder with
// SetEscapeHTML(false) does: <, > and & as they are (records are read by
// people too; the decoded bytes are the same), U+2028/U+2029 escaped,
// invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte { return ui.AppendJSONString(b, s, false) }

// UnmarshalJSON reads a record written by MarshalJSON (replay).
func (c *Call) UnmarshalJSON(b []byte) error {
	var j callJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Call(j.callAlias)
	var err error
	if c.Body, err = decodeBody(j.Body, j.BodyBase64); err != nil {
		return err
	}
	if c.ReplyBody, err = decodeBody(j.ReplyBody, j.ReplyBodyBase64); err != nil {
		return err
	}
	c.Latency = time.Duration(j.LatencyMS * float64(time.Millisecond))
	if c.Header == nil {
		c.Header = http.Header{}
	}
	return nil
}

func encodeBody(b []byte) (*string, string) {
	if b == nil {
		return nil, ""
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, ""
	}
	return nil, base64.StdEncoding.EncodeToString(b)
}

func decodeBody(s *string, b64 string) ([]byte, error) {
	if b64 != "" {
		return base64.StdEncoding.DecodeString(b64)
	}
	if s != nil {
		return []byte(*s), nil
	}
	return nil, nil
}
