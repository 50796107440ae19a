package ui

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v as one compact JSON line: the --json contract (one object,
// or one line per item for NDJSON streams), stable and pipe-friendly.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
