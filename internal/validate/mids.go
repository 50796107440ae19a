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
// first occurrence. It keeps no payload bytes: a 16-byte slot per distinct
// mId (a 64-bit hash and the packed position) in an open-addressing table
// kept between 53% and 80% full, about 25 MB for a million mIds; past
// MaxMIDs it stops remembering new ones (and says so once). Not safe for
// concurrent use; Stream calls it from the caller's goroutine only.
type MIDIndex struct {
	slots  []midSlot // len is the capacity; h == 0 is empty
	n      int
	files  []string
	file   uint64
	warned bool
}

type midSlot struct{ h, pos uint64 }

// MaxMIDs caps what a MIDIndex remembers (about 50 MB of table at the cap).
const MaxMIDs = 2_000_000

// Packed positions: file, line and column in 14, 30 and 20 bits; a field
// that does not fit is all ones and shown as "?".
const (
	posFileBits, posLineBits, posColBits = 14, 30, 20
)

func packPos(file uint64, line, col int32) uint64 {
	f := min(file, 1<<posFileBits-1)
	l := min(uint64(line), 1<<posLineBits-1)
	c := min(uint64(col), 1<<posColBits-1)
	return f<<(posLineBits+posColBits) | l<<posColBits | c
}

func unpackPos(p uint64) (file uint64, line, col string) {
	field := func(v uint64, bits uint) string {
		if v == 1<<bits-1 {
			return "?"
		}
		return strconv.FormatUint(v, 10)
	}
	return p >> (posLineBits + posColBits), field(p>>posColBits&(1<<posLineBits-1), posLineBits), field(p&(1<<posColBits-1), posColBits)
}

// NewMIDIndex returns an empty index.
func NewMIDIndex() *MIDIndex {
	return &MIDIndex{slots: make([]midSlot, 1024)}
}

// File names the input the next payloads come from (in messages about a
// first occurrence in another file).
func (x *MIDIndex) File(name string) {
	if n := len(x.files); n > 0 && x.files[n-1] == name {
		return
	}
	x.files = append(x.files, name)
	x.file = uint64(len(x.files) - 1)
}

// lookup finds h's slot: its position if present (ok), else the empty slot
// where it goes.
func (x *MIDIndex) lookup(h uint64) (i int, ok bool) {
	hi, _ := bits.Mul64(h, uint64(len(x.slots)))
	for i = int(hi); ; i++ {
		if i == len(x.slots) {
			i = 0
		}
		switch x.slots[i].h {
		case h:
			return i, true
		case 0:
			return i, false
		}
	}
}

func (x *MIDIndex) grow() {
	old := x.slots
	x.slots = make([]midSlot, len(old)+len(old)/2)
	for _, s := range old {
		if s.h != 0 {
			i, _ := x.lookup(s.h)
			x.slots[i] = s
		}
	}
}

// check adds mid-duplicate findings to a payload (stream coordinates) whose
// raw bytes are raw (nil when not kept).
func (x *MIDIndex) check(r *Report, raw []byte) {
	added := false
	for i := 0; i < r.mids.n; i++ {
		m := *r.mids.at(i)
		h := m.h | 1 // 0 marks an empty slot
		at, ok := x.lookup(h)
		if ok {
			r.Findings = append(r.Findings, x.finding(m, x.slots[at].pos, raw))
			added = true
			continue
		}
		if x.n >= MaxMIDs {
			if !x.warned {
				x.warned = true
				r.Findings = append(r.Findings, Finding{Severity: Warning, Rule: RuleMIDDuplicate, Path: "events[" + strconv.Itoa(int(m.event)) + "].mId", Line: int(m.line), Column: int(m.col),
					Message: "more than " + strconv.Itoa(MaxMIDs) + " distinct mIds in this input: later ones are no longer checked for repeats"})
				added = true
			}
			continue
		}
		x.slots[at] = midSlot{h: h, pos: packPos(x.file, m.line, m.col)}
		x.n++
		if x.n*5 > len(x.slots)*4 {
			x.grow()
		}
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

func (x *MIDIndex) finding(m midRef, first uint64, raw []byte) Finding {
	what := "this mId"
	if raw != nil && int(m.end) <= len(raw) && m.start <= m.end {
		what = "mId " + strconv.Quote(clip(string(raw[m.start:m.end])))
	}
	file, line, col := unpackPos(first)
	where := line + ":" + col
	switch {
	case file == 1<<posFileBits-1 && x.file >= file:
		where += " of one of the files after the first 16382" // not packed
	case file != x.file && file < uint64(len(x.files)):
		where = x.files[file] + ":" + where
	}
	return Finding{Severity: Warning, Rule: RuleMIDDuplicate, Path: "events[" + strconv.Itoa(int(m.event)) + "].mId", Line: int(m.line), Column: int(m.col),
		Message: what + " was already used for this channel at " + where + midDuplicateAdvice}
}
