// Package payload builds the webhook bodies `ccx send` posts: one event
// wrapped from flags, or a file edited by --set paths, with the paths whose
// values a bulk run changes per request.
package payload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Payload is a built body, and for bulk runs the paths whose values change
// per request.
type Payload struct {
	Body     []byte
	What     string // "message text", "message_status", "file a.json"
	MID      string
	MIDPaths []string
	TSPaths  []string
	FromFile bool // findings point into the file as written; send it compact
}

// usage tags a mistake in the flags (the CLI exits 2).
func usage(err error) error { return fault.New(fault.Usage, err) }

// Edit is one --set / --set-string override.
type Edit struct {
	Path  string
	Value string
	Raw   bool // a JSON literal, else a string
}

// ParseSets reads --set (JSON literal, else string) and --set-string values.
func ParseSets(sets, setStrings []string) ([]Edit, error) {
	var out []Edit
	add := func(s, flag string, asString bool) error {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			return usage(fmt.Errorf("--%s %q: want PATH=VALUE", flag, s))
		}
		if err := CheckSetPath(path); err != nil {
			return usage(fmt.Errorf("--%s %q: %v", flag, s, err))
		}
		raw := !asString && json.Valid([]byte(value))
		out = append(out, Edit{Path: path, Value: value, Raw: raw})
		return nil
	}
	for _, s := range sets {
		if err := add(s, "set", false); err != nil {
			return nil, err
		}
	}
	for _, s := range setStrings {
		if err := add(s, "set-string", true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CheckSetPath accepts plain dotted paths: keys and array indexes, with
// sjson's "\." escape; no wildcards, queries or empty components.
func CheckSetPath(path string) error {
	if path == "" {
		return errors.New("empty path")
	}
	if strings.ContainsAny(path, "*?#|@") {
		return errors.New("invalid path: wildcards, queries and modifiers (* ? # | @) are not allowed; use keys and indexes like events.0.message.text")
	}
	for _, part := range strings.Split(strings.ReplaceAll(path, `\.`, "_"), ".") {
		if part == "" {
			return errors.New("invalid path: empty component (leading, trailing or double dot)")
		}
	}
	return nil
}

// FileOptions are the settings and flags a file payload is edited with.
type FileOptions struct {
	ChannelID, ContactID   string
	SetChannel, SetContact bool // given explicitly: override the file
	Contact                channel.Contact
	Timezone               string // --timezone, checked only for an object
	MID                    string // every event's mId, when set
	Timestamp              int64  // every event's timestamp, when set
	Count                  int
	Edits                  []Edit
}

// FromFile edits a file's body: missing IDs from the settings, explicit
// flags over the file, then the --set edits.
func FromFile(name string, data []byte, o FileOptions) (*Payload, error) {
	p := &Payload{What: "file " + name, FromFile: true}
	trimmed := bytes.TrimSpace(data)
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && gjson.ValidBytes(trimmed)
	if !isObject {
		if len(o.Edits) > 0 || o.Count > 1 {
			return nil, usage(fmt.Errorf("%s is not a JSON object, so --set and --count cannot apply", name))
		}
		// Not JSON: validation reports it (located), or --no-validate sends it as is.
		p.Body = data
		return p, nil
	}
	body := append([]byte(nil), trimmed...)
	set := func(path string, v any) error {
		var err error
		body, err = sjson.SetBytes(body, path, v)
		return err
	}
	setRaw := func(path, raw string) error {
		var err error
		body, err = sjson.SetRawBytes(body, path, []byte(raw))
		return err
	}
	for _, k := range []struct {
		key     string
		changed bool
		val     string
	}{
		{"channelId", o.SetChannel, o.ChannelID},
		{"contactId", o.SetContact, o.ContactID},
	} {
		if (k.changed || !gjson.GetBytes(body, k.key).Exists()) && k.val != "" {
			if err := set(k.key, k.val); err != nil {
				return nil, err
			}
		}
	}
	tz, err := Timezone(o.Timezone)
	if err != nil {
		return nil, err
	}
	if tz != nil {
		o.Contact.Timezone = tz
	}
	if !o.Contact.IsZero() {
		cb, _ := ui.Marshal(o.Contact)
		gjson.ParseBytes(cb).ForEach(func(k, v gjson.Result) bool {
			err = setRaw("contact."+k.String(), v.Raw)
			return err == nil
		})
		if err != nil {
			return nil, err
		}
	}
	events := gjson.GetBytes(body, "events")
	n := 0
	if events.IsArray() {
		n = len(events.Array())
	}
	for i := 0; i < n; i++ {
		if o.MID != "" {
			if err := set(fmt.Sprintf("events.%d.mId", i), o.MID); err != nil {
				return nil, err
			}
		}
		if o.Timestamp != 0 {
			if err := set(fmt.Sprintf("events.%d.timestamp", i), o.Timestamp); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range o.Edits {
		var err error
		if e.Raw {
			err = setRaw(e.Path, e.Value)
		} else {
			err = set(e.Path, e.Value)
		}
		if err != nil {
			return nil, usage(fmt.Errorf("--set %s: %v", e.Path, err))
		}
	}
	p.Body = body
	p.MID = gjson.GetBytes(body, "events.0.mId").String()
	for i, ev := range gjson.GetBytes(body, "events").Array() {
		if ev.Get("type").String() != string(channel.EventStatus) {
			p.MIDPaths = append(p.MIDPaths, fmt.Sprintf("events.%d.mId", i))
		}
	}
	return p, nil
}

// Fields are the envelope and event values given by flags and settings.
type Fields struct {
	ChannelID, ContactID string
	Contact              channel.Contact
	MID                  string // "" for a fresh one
	Timestamp            int64  // 0 for now (and a fresh one per bulk request)
}

// Message is a message (or with echo a message_echo) event.
func Message(f Fields, m channel.Message, echo bool) (*Payload, error) {
	t := channel.EventMessage
	if echo {
		t = channel.EventEcho
	}
	ev := channel.NewEvent(t, m)
	if f.MID != "" {
		ev.MID = f.MID
	}
	p, err := envelope(f, ev)
	if err != nil {
		return nil, err
	}
	p.What = string(t) + " " + string(m.Type)
	return p, nil
}

// Receipt is a message_status event about mid; every request of a bulk run
// is about that same message.
func Receipt(f Fields, mid string, v channel.StatusValue, reason string) (*Payload, error) {
	p, err := envelope(f, channel.NewReceipt(mid, v, reason))
	if err != nil {
		return nil, err
	}
	p.What = "message_status " + string(v)
	p.MIDPaths = nil
	return p, nil
}

// envelope wraps one event built from flags.
func envelope(f Fields, ev channel.Event) (*Payload, error) {
	if f.Timestamp != 0 {
		ev.Timestamp = f.Timestamp
	}
	w := channel.NewWebhook(f.ChannelID, f.ContactID, &f.Contact, ev)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies carry text exactly as typed
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	p := &Payload{Body: bytes.TrimRight(buf.Bytes(), "\n"), MID: ev.MID, MIDPaths: []string{"events.0.mId"}}
	if f.Timestamp == 0 {
		p.TSPaths = []string{"events.0.timestamp"}
	}
	return p, nil
}

// Compact makes a file payload compact for the wire (a no-op otherwise).
func (p *Payload) Compact() {
	if !p.FromFile {
		return
	}
	var c bytes.Buffer
	if json.Compact(&c, p.Body) == nil {
		p.Body = c.Bytes()
	}
}

// Read reads a payload file, or in for "-", up to 16 MiB; a pipe or FIFO
// that never writes gives way to ctx.
func Read(ctx context.Context, name string, in io.Reader) ([]byte, error) {
	if name != "-" {
		fh, err := ctxio.Open(ctx, name)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		in = fh
	}
	return io.ReadAll(io.LimitReader(ctxio.Reader(ctx, in), 16<<20))
}

// Timezone parses --timezone, a UTC offset in hours; "" is none.
func Timezone(s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	tz, err := strconv.ParseFloat(s, 64)
	if err != nil || tz < -12 || tz > 14 {
		return nil, usage(fmt.Errorf("--timezone %q: want a UTC offset in hours between -12 and 14, e.g. 8 or -3.5", s))
	}
	return &tz, nil
}
