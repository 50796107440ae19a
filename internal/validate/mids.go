package validate

import (
	"bytes"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
)

// midRef is one message mId of a payload: a hash of channel and mId, and
// where the mId's value starts (payload coordinates until shifted).
type midRef struct {
	h          uint64
	event      int32 // index in events[]
	line, col  int32
	start, end int32 // the mId's text in the payload's bytes
}

// midList holds a payload's mIds: the first inline (one event per POST
// is the rule, so most payloads allocate nothing), the rest in more.
type midList struct {
	n     int
	first midRef
	more  []midRef
}

func (l *midList) add(m midRef) {
	if l.n == 0 {
		l.first = m
	} else {
		l.more = append(l.more, m)
	}
	l.n++
}

func (l *midList) at(i int) *midRef {
	if i == 0 {
		return &l.first
	}
	return &l.more[i-1]
}

var midSeed = maphash.MakeSeed()

// midHash keys an mId by its channel: two seeded hashes, mixed (a collision
// at 64 bits costs at most a wrong warning).
func midHash(channel, mid string) uint64 {
	return maphash.String(midSeed, mid) ^ bits.RotateLeft64(maphash.String(midSeed, channel)*0x9e3779b97f4a7c15, 31)
}

// noteMID records a message event's mId (a non-empty string) for Stream.
func (c *checker) noteMID(v value) {
	line, col := 1, v.off+1
	if bytes.IndexByte(c.data[:v.off], '\n') >= 0 { // not one NDJSON line: count
		line, col = Position(c.data, v.off)
	}
	end := int32(c.tape[v.n].x&offMask) - 1
	event := int32(0)
	if c.depth > 0 && c.depth <= len(c.path) {
		event = int32(c.path[c.depth-1].idx)
	}
	c.mids.add(midRef{h: midHash(c.channel, c.strOf(v)), event: event, line: int32(line), col: int32(col), start: int32(v.off + 1), end: end})
}

// MIDIndex remembers the message mIds of one input (a stream, or every file
// of a directory) so that a repeat is reported as mid-duplicate with the
// first occurrence. It keeps 16 bytes a distinct mId and no payload bytes;
// past MaxMIDs distinct mIds it stops remembering new ones (and says so
// once). Not safe for concurrent use; Stream calls it from the caller's
// goroutine only.
type MIDIndex struct {
	seen   map[uint64]midPos
	files  []string
	file   int32
	full   bool
	warned bool
}

type midPos struct{ file, line, col int32 }

// MaxMIDs caps what a MIDIndex remembers (about 40 MB of map at the cap).
const MaxMIDs = 2_000_000

// NewMIDIndex returns an empty index.
func NewMIDIndex() *MIDIndex {
	return &MIDIndex{seen: make(map[uint64]midPos, 1024)}
}

// File names the input the next payloads come from (in messages about a
// first occurrence in another file).
func (x *MIDIndex) File(name string) {
	if n := len(x.files); n > 0 && x.files[n-1] == name {
		return
	}
	x.files = append(x.files, name)
	x.file = int32(len(x.files) - 1)
}

// check adds mid-duplicate findings to a payload (stream coordinates) whose
// raw bytes are raw (nil when not kept).
func (x *MIDIndex) check(r *Report, raw []byte) {
	added := false
	for i := 0; i < r.mids.n; i++ {
		m := *r.mids.at(i)
		if first, ok := x.seen[m.h]; ok {
			r.Findings = append(r.Findings, x.finding(m, first, raw))
			added = true
			continue
		}
		if len(x.seen) >= MaxMIDs {
			if !x.warned {
				x.warned = true
				r.Findings = append(r.Findings, Finding{Severity: Warning, Rule: RuleMIDDuplicate, Path: "events[" + strconv.Itoa(int(m.event)) + "].mId", Line: int(m.line), Column: int(m.col),
					Message: "more than " + strconv.Itoa(MaxMIDs) + " distinct mIds in this input: later ones are no longer checked for repeats"})
				added = true
			}
			continue
		}
		x.seen[m.h] = midPos{file: x.file, line: m.line, col: m.col}
	}
	r.mids = midList{}
	if added && len(r.Findings) > 1 {
		slices.SortStableFunc(r.Findings, func(a, b Finding) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
	}
}

func (x *MIDIndex) finding(m midRef, first midPos, raw []byte) Finding {
	what := "this mId"
	if raw != nil && int(m.end) <= len(raw) && m.start <= m.end {
		what = "mId " + strconv.Quote(clip(string(raw[m.start:m.end])))
	}
	where := strconv.Itoa(int(first.line)) + ":" + strconv.Itoa(int(first.col))
	if first.file != x.file && int(first.file) < len(x.files) {
		where = x.files[first.file] + ":" + where
	}
	return Finding{Severity: Warning, Rule: RuleMIDDuplicate, Path: "events[" + strconv.Itoa(int(m.event)) + "].mId", Line: int(m.line), Column: int(m.col),
		Message: what + " was already used for this channel at " + where + midDuplicateAdvice}
}
