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
// first occurrence. It keeps no payload bytes. The table that every mId
// probes holds 8 bytes a slot (the hash's upper 43 bits and the index of
// the mId's packed position), 53% to 80% full, so it stays small for the
// caches; positions sit in an append-only list read only on a repeat.
// About 20 MB of live heap for a million mIds; past MaxMIDs it stops remembering new
// ones (and says so once). Not safe for concurrent use; Stream calls it
// from the caller's goroutine only.
type MIDIndex struct {
	slots  []uint64   // 0 is empty; else hash&^idxMask | position index+1
	pos    [][]uint64 // packed positions by first appearance, in chunks (growth copies nothing)
	npos   int
	files  []string
	file   uint64
	warned bool
}

// idxBits hold a position's index+1 in a slot; the rest is the hash.
const (
	idxBits = 21
	idxMask = 1<<idxBits - 1
)

// MaxMIDs caps what a MIDIndex remembers (about 40 MB at the cap).
const MaxMIDs = idxMask - 1

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
	return &MIDIndex{slots: make([]uint64, 1024)}
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

// lookup finds key's slot (key is a hash with its index bits clear): the
// slot if present (ok), else the empty slot where it goes. Slots are probed
// a bucket of eight (one cache line) at a time.
func (x *MIDIndex) lookup(key uint64) (i int, ok bool) {
	nb := len(x.slots) / midBucket
	hi, _ := bits.Mul64(key, uint64(nb))
	for b := int(hi); ; b++ {
		if b == nb {
			b = 0
		}
		bucket := x.slots[b*midBucket : b*midBucket+midBucket]
		for j, s := range bucket {
			switch {
			case s == 0:
				return b*midBucket + j, false
			case s&^idxMask == key:
				return b*midBucket + j, true
			}
		}
	}
}

const midBucket = 8

const posChunk = 1 << 14

func (x *MIDIndex) addPosition(p uint64) {
	if x.npos%posChunk == 0 {
		x.pos = append(x.pos, make([]uint64, 0, posChunk))
	}
	last := &x.pos[len(x.pos)-1]
	*last = append(*last, p)
	x.npos++
}

func (x *MIDIndex) position(i int) uint64 { return x.pos[i/posChunk][i%posChunk] }

func (x *MIDIndex) grow() {
	old := x.slots
	n := len(old) + len(old)/2
	x.slots = make([]uint64, n-n%midBucket)
	for _, s := range old {
		if s != 0 {
			i, _ := x.lookup(s &^ idxMask)
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
		key := m.h &^ idxMask
		at, ok := x.lookup(key)
		if ok {
			r.Findings = append(r.Findings, x.finding(m, x.position(int(x.slots[at]&idxMask-1)), raw))
			added = true
			continue
		}
		if x.npos >= MaxMIDs {
			if !x.warned {
				x.warned = true
				r.Findings = append(r.Findings, Finding{Severity: Warning, Rule: RuleMIDDuplicate, Path: "events[" + strconv.Itoa(int(m.event)) + "].mId", Line: int(m.line), Column: int(m.col),
					Message: "more than " + strconv.Itoa(MaxMIDs) + " distinct mIds in this input: later ones are no longer checked for repeats"})
				added = true
			}
			continue
		}
		x.addPosition(packPos(x.file, m.line, m.col))
		x.slots[at] = key | uint64(x.npos)
		if x.npos*5 > len(x.slots)*4 {
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
