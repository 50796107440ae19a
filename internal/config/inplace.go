package config

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// The config file is edited in place: a change rewrites only the values
// that changed, adds a key at the end of its profile's table and removes
// a key's or a profile's own lines, so the user's comments, blank lines and
// key order stay. go-toml's parser (unstable: it keeps comments and byte
// ranges) finds them. A file of any other shape (dotted keys, inline or
// nested tables, unknown keys) is written anew, as is any edit whose result
// would not read back as the intended config.

type keyLine struct {
	start, end int            // the line, its newline included
	value      unstable.Range // the value's bytes
}

type tableSpan struct {
	// start: the header line, or the comment lines right above it (they
	// are the table's); end: where the next table's start is (or EOF).
	start, end int
	lastLine   int // end of the header line or of the last key line
	keys       map[string]keyLine
}

type document struct {
	active    *keyLine
	topEnd    int // where the first table begins (or EOF)
	tables    map[string]*tableSpan
	order     []string
	endsClean bool // the file ends with a newline
}

// edited returns orig changed to hold f, or false when orig's shape is not
// one this editor knows (the caller then writes the file anew).
func (f *File) edited(orig []byte) ([]byte, bool) {
	doc, ok := parseDocument(orig)
	if !ok {
		return nil, false
	}
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	switch {
	case doc.active == nil && f.Active != "":
		edits = append(edits, edit{doc.topInsert(orig), doc.topInsert(orig), "active = " + quoteTOML(f.Active) + "\n"})
	case doc.active != nil && f.Active == "":
		edits = append(edits, edit{doc.active.start, doc.active.end, ""})
	case doc.active != nil:
		edits = append(edits, edit{int(doc.active.value.Offset), int(doc.active.value.Offset + doc.active.value.Length), quoteTOML(f.Active)})
	}
	for _, name := range doc.order {
		t := doc.tables[name]
		p, keep := f.Profiles[name]
		if !keep {
			edits = append(edits, edit{t.start, t.end, ""})
			continue
		}
		var added strings.Builder
		for _, k := range Keys {
			v, _ := p.Get(k)
			kl, had := t.keys[k]
			switch {
			case had && v == "":
				edits = append(edits, edit{kl.start, kl.end, ""})
			case had:
				edits = append(edits, edit{int(kl.value.Offset), int(kl.value.Offset + kl.value.Length), quoteTOML(v)})
			case v != "":
				added.WriteString(k + " = " + quoteTOML(v) + "\n")
			}
		}
		if added.Len() > 0 {
			edits = append(edits, edit{t.lastLine, t.lastLine, added.String()})
		}
	}
	var names []string
	for name := range f.Profiles {
		if _, ok := doc.tables[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var tail strings.Builder
	if len(names) > 0 && !doc.endsClean && len(orig) > 0 {
		tail.WriteString("\n")
	}
	for _, name := range names {
		tail.WriteString("\n[profiles." + quoteKey(name) + "]\n")
		p := f.Profiles[name]
		for _, k := range Keys {
			if v, _ := p.Get(k); v != "" {
				tail.WriteString(k + " = " + quoteTOML(v) + "\n")
			}
		}
	}
	if tail.Len() > 0 {
		edits = append(edits, edit{len(orig), len(orig), tail.String()})
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	at := 0
	for _, e := range edits {
		if e.start < at {
			return nil, false // overlapping: not a shape we edit
		}
		out.Write(orig[at:e.start])
		out.WriteString(e.text)
		at = e.end
	}
	out.Write(orig[at:])
	// The result must read back as f, or it is not written.
	var back File
	if err := toml.Unmarshal(out.Bytes(), &back); err != nil || back.Active != f.Active || !sameProfiles(back.Profiles, f.Profiles) {
		return nil, false
	}
	return out.Bytes(), true
}

func sameProfiles(a, b map[string]Profile) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// topInsert is where a new top-level key goes: before the first table, and
// after the file's leading comment block when the file starts with one.
func (d *document) topInsert(orig []byte) int {
	if d.topEnd < len(orig) || len(d.tables) > 0 {
		return d.topEnd
	}
	return len(orig)
}

func parseDocument(orig []byte) (doc *document, ok bool) {
	defer func() {
		if recover() != nil {
			doc, ok = nil, false
		}
	}()
	doc = &document{tables: map[string]*tableSpan{}, topEnd: len(orig), endsClean: bytes.HasSuffix(orig, []byte("\n"))}
	p := unstable.Parser{KeepComments: true}
	p.Reset(orig)
	var cur *tableSpan
	topSet := false
	lineStart := func(off int) int { return bytes.LastIndexByte(orig[:off], '\n') + 1 }
	lineEnd := func(off int) int {
		if i := bytes.IndexByte(orig[off:], '\n'); i >= 0 {
			return off + i + 1
		}
		return len(orig)
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Comment:
			continue
		case unstable.Table:
			parts, first := keyParts(e.Key())
			if len(parts) != 2 || parts[0] != "profiles" || doc.tables[parts[1]] != nil {
				if len(parts) == 1 && parts[0] == "profiles" && cur == nil && !topSet {
					// A bare [profiles] (as go-toml writes it) ends the top level.
					doc.topEnd, topSet = backOverComments(orig, 0, lineStart(int(first.Offset))), true
					continue
				}
				return nil, false
			}
			start := lineStart(int(first.Offset))
			from := 0
			if cur != nil {
				from = cur.lastLine
			}
			start = backOverComments(orig, from, start)
			if cur == nil {
				if !topSet {
					doc.topEnd, topSet = start, true
				}
			} else {
				cur.end = start
			}
			cur = &tableSpan{start: start, end: len(orig), lastLine: lineEnd(int(first.Offset)), keys: map[string]keyLine{}}
			doc.tables[parts[1]] = cur
			doc.order = append(doc.order, parts[1])
		case unstable.KeyValue:
			parts, _ := keyParts(e.Key())
			v := e.Value()
			if len(parts) != 1 || v.Kind != unstable.String {
				return nil, false
			}
			kl := keyLine{start: lineStart(int(e.Raw.Offset)), end: lineEnd(int(e.Raw.Offset + e.Raw.Length)), value: v.Raw}
			if cur == nil {
				if parts[0] != "active" || doc.active != nil || topSet {
					return nil, false
				}
				doc.active = &kl
				continue
			}
			if !isKey(parts[0]) {
				return nil, false
			}
			if _, dup := cur.keys[parts[0]]; dup {
				return nil, false
			}
			cur.keys[parts[0]] = kl
			cur.lastLine = kl.end
		default:
			return nil, false
		}
	}
	if p.Error() != nil {
		return nil, false
	}
	return doc, true
}

// backOverComments moves a header line's start back over the comment lines
// right above it (they introduce the table), but not before from.
func backOverComments(orig []byte, from, start int) int {
	for start > from && start > 0 {
		prev := bytes.LastIndexByte(orig[:start-1], '\n') + 1
		if prev < from || !strings.HasPrefix(strings.TrimSpace(string(orig[prev:start-1])), "#") {
			break
		}
		start = prev
	}
	return start
}

func keyParts(it unstable.Iterator) ([]string, unstable.Range) {
	var parts []string
	var first unstable.Range
	for it.Next() {
		n := it.Node()
		if len(parts) == 0 {
			first = n.Raw
		}
		parts = append(parts, string(n.Data))
	}
	return parts, first
}

func isKey(k string) bool {
	for _, x := range Keys {
		if x == k {
			return true
		}
	}
	return false
}

// quoteTOML writes s as a TOML basic string.
func quoteTOML(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteKey leaves a bare key bare and quotes one with a dot.
func quoteKey(k string) string {
	if strings.ContainsAny(k, ".") {
		return quoteTOML(k)
	}
	return k
}
