package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tidwall/sjson"
)

// Template is a webhook body with holes where each request of a bulk run
// gets its own mId (and, optionally, timestamp). The body is serialised
// once; rendering is a few appends, so the hot path never re-marshals.
type Template struct {
	parts [][]byte // len(holes)+1 literal pieces
	holes []hole
	// NewMID makes the mId of request seq (1-based).
	NewMID func(seq int) string
	// Now gives the timestamp (ms) for timestamp holes.
	Now func() int64
}

type hole bool // true: mId, false: timestamp

// sentinel marks a hole; the random-looking suffix keeps it from matching
// anything a real payload carries.
const sentinel = "ccx-hole-%d-5f1e9b7c0d"

// NewTemplate cuts body at the given sjson paths: midPaths get a fresh mId
// (a JSON string), tsPaths the current time in ms (a JSON number).
func NewTemplate(body []byte, midPaths, tsPaths []string) (*Template, error) {
	t := &Template{}
	var marks [][]byte
	var err error
	for i, p := range append(append([]string(nil), midPaths...), tsPaths...) {
		mark := fmt.Sprintf(sentinel, i)
		body, err = sjson.SetBytes(body, p, mark)
		if err != nil {
			return nil, fmt.Errorf("template path %s: %w", p, err)
		}
		q, _ := json.Marshal(mark)
		marks = append(marks, q)
		t.holes = append(t.holes, hole(i < len(midPaths)))
	}
	// Split at the marks in the order they appear in the body.
	type pos struct {
		at, n int
		h     hole
	}
	var found []pos
	for i, m := range marks {
		at := bytes.Index(body, m)
		if at < 0 {
			return nil, fmt.Errorf("template: hole %d not found", i)
		}
		found = append(found, pos{at, len(m), t.holes[i]})
	}
	for i := 1; i < len(found); i++ { // insertion sort: a handful of holes
		for j := i; j > 0 && found[j].at < found[j-1].at; j-- {
			found[j], found[j-1] = found[j-1], found[j]
		}
	}
	t.holes = t.holes[:0]
	last := 0
	for _, f := range found {
		t.parts = append(t.parts, body[last:f.at])
		t.holes = append(t.holes, f.h)
		last = f.at + f.n
	}
	t.parts = append(t.parts, body[last:])
	return t, nil
}

// Size is the rendered size without the holes, to size buffers.
func (t *Template) size() int {
	n := 0
	for _, p := range t.parts {
		n += len(p)
	}
	return n + len(t.holes)*52
}

// Render returns a fresh body for request seq and the first mId in it. The
// buffer is new each time: the transport may still read a body after Post
// returns, so bodies are never recycled.
func (t *Template) Render(seq int) ([]byte, string) {
	out := make([]byte, 0, t.size())
	var first string
	var ts int64
	for i, h := range t.holes {
		out = append(out, t.parts[i]...)
		if h {
			mid := t.NewMID(seq)
			if first == "" {
				first = mid
			}
			out = appendJSONString(out, mid)
		} else {
			if ts == 0 {
				ts = t.Now()
			}
			out = strconv.AppendInt(out, ts, 10)
		}
	}
	return append(out, t.parts[len(t.parts)-1]...), first
}

// appendJSONString quotes s, escaping only when it must (UUIDs never need it).
func appendJSONString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(out, q...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}
