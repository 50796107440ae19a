package listen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"
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

// MarshalJSON writes the call as one record.
func (c Call) MarshalJSON() ([]byte, error) {
	j := callJSON{callAlias: callAlias(c), LatencyMS: float64(c.Latency.Microseconds()) / 1000}
	j.Body, j.BodyBase64 = encodeBody(c.Body)
	j.ReplyBody, j.ReplyBodyBase64 = encodeBody(c.ReplyBody)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // records are read by people and jq, not embedded in HTML
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

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
