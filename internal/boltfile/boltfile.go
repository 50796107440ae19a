// Package boltfile reads bbolt's on-disk format with code that checks every
// offset before it uses it. bbolt trusts its file: a damaged page makes it
// panic, or fault on its memory map, sometimes in a goroutine of its own
// where no recover can reach. Check finds that damage before bbolt sees the
// file; Walk reads what is still readable of a damaged file (for salvage).
//
// The format (bbolt 1.x, version 2): two meta pages (0 and 1) each naming
// the root bucket's page, the page count and a checksum; branch and leaf
// pages of a B+tree per bucket; small buckets stored inline in their
// parent's value. Numbers are in the machine's byte order, as bbolt writes
// them.
package boltfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
)

const (
	pageHeaderSize   = 16
	elemSize         = 16 // branch and leaf element headers are both 16 bytes
	bucketHeaderSize = 16
	metaSumLen       = 56 // the meta fields the checksum covers
	magic            = 0xED0CDAED
	version          = 2
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagMeta         = 0x04
	flagFreelist     = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)
	maxDepth         = 64  // tree levels plus nested buckets; real files stay under 10
	maxProblems      = 100 // a shredded file is summarised, not listed in full
)

var ne = binary.NativeEndian

// ErrNotBolt means neither meta page is valid: not a bbolt file, or one whose
// both meta pages are damaged.
var ErrNotBolt = errors.New("no valid bbolt meta page (not a bbolt file, or both meta pages are damaged)")

// Problem is one piece of damage, located.
type Problem struct {
	Page   int64  // page number, -1 when not about one page
	Bucket string // bucket path ("queue", "a/b"); "" for the root
	Msg    string
	// Lo and Hi bound the keys the damaged page held (nil: unbounded), so
	// a salvage can look for them elsewhere.
	Lo, Hi  []byte
	bounded bool
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Page >= 0 {
		fmt.Fprintf(&b, "page %d", p.Page)
	}
	if p.Bucket != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(bucket %s)", p.Bucket)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Meta is one valid meta page.
type Meta struct {
	Page      int    // 0 or 1
	TxID      uint64 // the transaction that wrote it
	Root      uint64 // the root bucket's page
	HighWater uint64 // pages in use: every referenced page is below it
	Freelist  uint64 // the freelist page, or all ones when none is kept
}

// File is an opened bbolt file.
type File struct {
	r        io.ReaderAt
	size     int64
	PageSize int
	// Metas are the valid meta pages, newest first: bbolt uses Metas[0].
	Metas []Meta
	// MetaProblems are meta pages that are damaged; bbolt falls back to the
	// other one (losing the last transaction when the newer one is hit).
	MetaProblems []Problem
}

// Open reads the meta pages of a bbolt file of size bytes.
func Open(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size}
	// bbolt finds the page size in the first meta page, else by probing
	// for the second one at every power of two from 1 KiB.
	ps := 0
	if m, err := f.readMeta(0, 0); err == nil {
		ps = int(m.pageSize)
	} else {
		for i := 0; i <= 14 && ps == 0; i++ {
			pos := int64(1024) << i
			if pos >= size-1024 {
				break
			}
			if m, err := f.readMeta(pos, 1); err == nil {
				ps = int(m.pageSize)
			}
		}
	}
	if ps == 0 {
		return nil, ErrNotBolt
	}
	f.PageSize = ps
	for i := 0; i < 2; i++ {
		m, err := f.readMeta(int64(i)*int64(ps), i)
		if err != nil {
			f.MetaProblems = append(f.MetaProblems, Problem{Page: int64(i), Msg: "meta page: " + err.Error()})
			continue
		}
		if int(m.pageSize) != ps {
			f.MetaProblems = append(f.MetaProblems, Problem{Page: int64(i), Msg: fmt.Sprintf("meta page: page size %d, the other says %d", m.pageSize, ps)})
			continue
		}
		f.Metas = append(f.Metas, m.Meta)
	}
	if len(f.Metas) == 0 {
		return nil, ErrNotBolt
	}
	if len(f.Metas) == 2 && f.Metas[1].TxID > f.Metas[0].TxID {
		f.Metas[0], f.Metas[1] = f.Metas[1], f.Metas[0]
	}
	return f, nil
}

type rawMeta struct {
	Meta
	pageSize uint32
}

func (f *File) readMeta(off int64, page int) (rawMeta, error) {
	var buf [pageHeaderSize + 64]byte
	if off < 0 || off+int64(len(buf)) > f.size {
		return rawMeta{}, errors.New("beyond the end of the file")
	}
	if _, err := f.r.ReadAt(buf[:], off); err != nil {
		return rawMeta{}, err
	}
	m := buf[pageHeaderSize:]
	if ne.Uint32(m[0:]) != magic {
		return rawMeta{}, errors.New("bad magic number")
	}
	if ne.Uint32(m[4:]) != version {
		return rawMeta{}, fmt.Errorf("format version %d, want %d", ne.Uint32(m[4:]), version)
	}
	h := fnv.New64a()
	h.Write(m[:metaSumLen])
	if h.Sum64() != ne.Uint64(m[metaSumLen:]) {
		return rawMeta{}, errors.New("checksum mismatch")
	}
	rm := rawMeta{pageSize: ne.Uint32(m[8:]), Meta: Meta{Page: page, Root: ne.Uint64(m[16:]),
		Freelist: ne.Uint64(m[32:]), HighWater: ne.Uint64(m[40:]), TxID: ne.Uint64(m[48:])}}
	if ps := rm.pageSize; ps < 512 || ps > 1<<24 || ps&(ps-1) != 0 {
		return rawMeta{}, fmt.Errorf("implausible page size %d", ps)
	}
	return rm, nil
}

// Visitor receives what a walk finds. Slices are only valid during the call.
type Visitor struct {
	// Bucket is called for every bucket, before its contents.
	Bucket func(path [][]byte, sequence uint64)
	// KV is called for every readable key/value of a bucket, in key order,
	// with the page that holds it (an inline bucket's: its parent's page).
	KV func(path [][]byte, page uint64, k, v []byte)
	// Page is called for every tree page read, with the page that points
	// to it (a branch, or the leaf holding its bucket's header).
	Page func(id, parent uint64)
}

// Check walks the tree of the meta page bbolt would use and reports every
// problem that would make bbolt misbehave; none means bbolt can open the
// file and read all of it. visit may be the zero Visitor.
func (f *File) Check(visit Visitor) []Problem {
	w := f.walker(f.Metas[0], visit)
	w.walk()
	w.checkFreelist()
	return w.result()
}

// Walk reads every readable key/value of the tree of one meta page,
// skipping what is damaged, and returns the damage it met.
func (f *File) Walk(m Meta, visit Visitor) []Problem {
	w := f.walker(m, visit)
	w.walk()
	return w.result()
}

type walker struct {
	f        *File
	m        Meta
	v        Visitor
	visited  map[uint64]bool
	problems []Problem
	more     int
}

func (f *File) walker(m Meta, v Visitor) *walker {
	return &walker{f: f, m: m, v: v, visited: map[uint64]bool{0: true, 1: true}}
}

func (w *walker) result() []Problem {
	if w.more > 0 {
		w.problems = append(w.problems, Problem{Page: -1, Msg: fmt.Sprintf("and %d more problems", w.more)})
	}
	return w.problems
}

// problem records damage; the page being walked sets its key range.
func (w *walker) problem(page int64, path [][]byte, format string, args ...any) {
	if len(w.problems) >= maxProblems {
		w.more++
		return
	}
	w.problems = append(w.problems, Problem{Page: page, Bucket: pathString(path), Msg: fmt.Sprintf(format, args...)})
}

// wholeBucket records damage that loses all of a bucket (its header).
func (w *walker) wholeBucket(page int64, path [][]byte, format string, args ...any) {
	w.problem(page, path, format, args...)
	if n := len(w.problems); n > 0 && w.more == 0 {
		w.problems[n-1].bounded = true
	}
}

func pathString(path [][]byte) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = printable(p)
	}
	return strings.Join(parts, "/")
}

// printable shows a bucket name as text when it is text, else as hex.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", b)
		}
	}
	return string(b)
}

func (w *walker) walk() {
	if w.m.HighWater > uint64(w.f.size)/uint64(w.f.PageSize) {
		w.problem(-1, nil, "the file has %d pages, its meta page records %d (truncated?)", w.f.size/int64(w.f.PageSize), w.m.HighWater)
	}
	w.page(w.m.Root, 0, nil, nil, nil, 0)
}

// readPage returns the bytes of page id (with its overflow pages), or nil
// after reporting why it cannot be used.
func (w *walker) readPage(id uint64, path [][]byte, want uint16) []byte {
	ps := uint64(w.f.PageSize)
	if id < 2 || id >= w.m.HighWater {
		w.problem(int64(id), path, "page number out of range [2, %d)", w.m.HighWater)
		return nil
	}
	if w.visited[id] {
		w.problem(int64(id), path, "page referenced twice (a loop, or two owners)")
		return nil
	}
	w.visited[id] = true
	off := id * ps
	if off+pageHeaderSize > uint64(w.f.size) {
		w.problem(int64(id), path, "beyond the end of the file")
		return nil
	}
	var hdr [pageHeaderSize]byte
	if _, err := w.f.r.ReadAt(hdr[:], int64(off)); err != nil {
		w.problem(int64(id), path, "cannot read: %v", err)
		return nil
	}
	if got := ne.Uint64(hdr[0:]); got != id {
		w.problem(int64(id), path, "page header names page %d", got)
		return nil
	}
	if flags := ne.Uint16(hdr[8:]); flags&want == 0 || flags&(flags-1) != 0 {
		w.problem(int64(id), path, "page type %#x, want %s", flags, typeName(want))
		return nil
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if id+overflow >= w.m.HighWater || off+(overflow+1)*ps > uint64(w.f.size) {
		w.problem(int64(id), path, "%d overflow pages run past the end of the data", overflow)
		return nil
	}
	for i := uint64(1); i <= overflow; i++ {
		if w.visited[id+i] {
			w.problem(int64(id), path, "overflow page %d is also used elsewhere", id+i)
			return nil
		}
		w.visited[id+i] = true
	}
	buf := make([]byte, (overflow+1)*ps)
	if _, err := w.f.r.ReadAt(buf, int64(off)); err != nil {
		w.problem(int64(id), path, "cannot read: %v", err)
		return nil
	}
	return buf
}

func typeName(flags uint16) string {
	var names []string
	if flags&flagBranch != 0 {
		names = append(names, "branch")
	}
	if flags&flagLeaf != 0 {
		names = append(names, "leaf")
	}
	if flags&flagFreelist != 0 {
		names = append(names, "freelist")
	}
	if flags&flagMeta != 0 {
		names = append(names, "meta")
	}
	return strings.Join(names, " or ")
}

// page walks a bucket's tree page; every key must be in [lo, hi).
func (w *walker) page(id, parent uint64, path [][]byte, lo, hi []byte, depth int) {
	if depth > maxDepth {
		w.problem(int64(id), path, "tree deeper than %d levels", maxDepth)
		return
	}
	n := len(w.problems)
	buf := w.readPage(id, path, flagBranch|flagLeaf)
	if buf == nil {
		w.setRange(n, lo, hi)
		return
	}
	if w.v.Page != nil {
		w.v.Page(id, parent)
	}
	w.elements(id, buf, false, path, lo, hi, depth)
	w.setRange(n, lo, hi)
}

// setRange bounds the problems found since the n-th by the keys of the
// page they were found in (problems deeper down are bounded already).
func (w *walker) setRange(n int, lo, hi []byte) {
	for i := n; i < len(w.problems); i++ {
		if p := &w.problems[i]; !p.bounded {
			p.Lo, p.Hi, p.bounded = lo, hi, true
		}
	}
}

// elements reads the elements of a page (a tree page, or an inline bucket's
// page inside its parent's value, then id is the parent's) and recurses into
// children and buckets.
//
// bbolt packs a page: the element headers, then each element's key and
// value in order, with no gap. Checking that catches a damaged count, size
// or offset that would otherwise still point inside the page.
func (w *walker) elements(pid uint64, buf []byte, inline bool, path [][]byte, lo, hi []byte, depth int) {
	id := int64(pid)
	flags := ne.Uint16(buf[8:])
	count := int(ne.Uint16(buf[10:]))
	if pageHeaderSize+count*elemSize > len(buf) {
		w.problem(id, path, "%d elements do not fit in the page", count)
		count = (len(buf) - pageHeaderSize) / elemSize
	}
	branch := flags == flagBranch
	if branch && count == 0 {
		w.problem(id, path, "empty branch page")
		return
	}
	// bbolt zeroes a page before it fills it, so an empty page holds only
	// zeros; anything else there means a damaged element count.
	if count == 0 && !inline && !allZero(buf[pageHeaderSize:]) {
		w.problem(id, path, "an empty page with data in it (a damaged element count)")
		return
	}
	type child struct {
		key []byte
		id  uint64
	}
	var children []child
	prev := lo
	next := uint64(pageHeaderSize + count*elemSize) // where element i's data must start
	for i := 0; i < count; i++ {
		e := pageHeaderSize + i*elemSize
		el := buf[e : e+elemSize]
		var eflags, pos, ksize, vsize uint64
		if branch {
			pos, ksize = uint64(ne.Uint32(el[0:])), uint64(ne.Uint32(el[4:]))
		} else {
			eflags, pos, ksize, vsize = uint64(ne.Uint32(el[0:])), uint64(ne.Uint32(el[4:])), uint64(ne.Uint32(el[8:])), uint64(ne.Uint32(el[12:]))
		}
		start := uint64(e) + pos
		if start+ksize+vsize > uint64(len(buf)) {
			w.problem(id, path, "element %d points past the end of the page", i)
			continue
		}
		if start != next {
			w.problem(id, path, "element %d: data at offset %d, want %d (a damaged count, size or offset)", i, start, next)
		}
		next = start + ksize + vsize
		k := buf[start : start+ksize]
		v := buf[start+ksize : start+ksize+vsize]
		if len(k) == 0 {
			w.problem(id, path, "element %d has an empty key", i)
			continue
		}
		if prev != nil && (bytes.Compare(k, prev) < 0 || (i > 0 && bytes.Equal(k, prev))) {
			w.problem(id, path, "element %d: keys out of order", i)
			continue
		}
		if hi != nil && bytes.Compare(k, hi) >= 0 {
			w.problem(id, path, "element %d: key beyond its parent's range", i)
			continue
		}
		if i == 0 && lo != nil && !bytes.Equal(k, lo) {
			// bbolt keeps a branch key equal to its child's first key, and
			// its writes look the child up by that key: a mismatch makes the
			// next write to this part of the tree corrupt it.
			w.problem(id, path, "first key differs from the key its parent has for it")
		}
		prev = k
		if branch {
			children = append(children, child{k, ne.Uint64(el[8:])})
			continue
		}
		switch eflags {
		case 0:
			if len(path) == 0 {
				w.problem(id, path, "element %d: a plain value in the root bucket", i)
				continue
			}
			if w.v.KV != nil {
				w.v.KV(path, pid, k, v)
			}
		case bucketLeafFlag:
			w.bucket(pid, append(path[:len(path):len(path)], k), v, depth)
		default:
			w.problem(id, path, "element %d: unknown flags %#x", i, eflags)
		}
	}
	if inline && count > 0 && next != uint64(len(buf)) {
		w.problem(id, path, "inline bucket: %d bytes of data after its last element", uint64(len(buf))-next)
	}
	for i, c := range children {
		upper := hi
		if i+1 < len(children) {
			upper = children[i+1].key
		}
		w.page(c.id, pid, path, c.key, upper, depth+1)
	}
}

// bucket walks a bucket given its header (the value of its key).
func (w *walker) bucket(parentID uint64, path [][]byte, v []byte, depth int) {
	parent := int64(parentID)
	if depth > maxDepth {
		w.wholeBucket(parent, path, "buckets nested deeper than %d", maxDepth)
		return
	}
	if len(v) < bucketHeaderSize {
		w.wholeBucket(parent, path, "bucket header of %d bytes", len(v))
		return
	}
	root, seq := ne.Uint64(v[0:]), ne.Uint64(v[8:])
	if w.v.Bucket != nil {
		w.v.Bucket(path, seq)
	}
	if root != 0 {
		w.page(root, parentID, path, nil, nil, depth+1)
		return
	}
	// An inline bucket: a leaf page inside the value.
	inline := v[bucketHeaderSize:]
	if len(inline) < pageHeaderSize {
		w.wholeBucket(parent, path, "inline bucket of %d bytes", len(inline))
		return
	}
	if flags := ne.Uint16(inline[8:]); flags != flagLeaf {
		w.wholeBucket(parent, path, "inline bucket page type %#x, want leaf", flags)
		return
	}
	n := len(w.problems)
	w.elements(parentID, inline, true, path, nil, nil, depth+1)
	w.setRange(n, nil, nil)
}

// checkFreelist checks a kept freelist (bbolt reads it when opening for
// writing): its page, and that it frees no page in use.
func (w *walker) checkFreelist() {
	id := w.m.Freelist
	if id == noFreelist {
		return
	}
	buf := w.readPage(id, nil, flagFreelist)
	if buf == nil {
		return
	}
	count, start := uint64(ne.Uint16(buf[10:])), uint64(pageHeaderSize)
	if count == 0xFFFF {
		if len(buf) < pageHeaderSize+8 {
			w.problem(int64(id), nil, "freelist count does not fit")
			return
		}
		count, start = ne.Uint64(buf[pageHeaderSize:]), pageHeaderSize+8
	}
	if count > uint64(len(buf)) || start+count*8 > uint64(len(buf)) {
		w.problem(int64(id), nil, "freelist of %d pages does not fit in its page", count)
		return
	}
	for i := uint64(0); i < count; i++ {
		p := ne.Uint64(buf[start+i*8:])
		switch {
		case p < 2 || p >= w.m.HighWater:
			w.problem(int64(id), nil, "freelist names page %d, out of range", p)
		case w.visited[p]:
			w.problem(int64(id), nil, "freelist names page %d, which is in use", p)
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Leaves calls fn for each key/value of each well-formed leaf page below
// the high-water mark of m that skip does not exclude. Pages the tree does
// not reach hold older copies of data, or data cut off by damage above
// them; a page with any fault, or holding buckets, is passed over.
func (f *File) Leaves(m Meta, skip func(page uint64) bool, fn func(page uint64, k, v []byte)) {
	end := min(m.HighWater, uint64(f.size)/uint64(f.PageSize))
	for id := uint64(2); id < end; id++ {
		if skip(id) {
			continue
		}
		var kvs [][2][]byte
		w := f.walker(m, Visitor{KV: func(_ [][]byte, _ uint64, k, v []byte) { kvs = append(kvs, [2][]byte{k, v}) }})
		buf := w.readPage(id, nil, flagLeaf)
		if buf == nil {
			continue
		}
		pid := id
		id += uint64(len(buf)/f.PageSize) - 1 // its overflow pages are part of it
		if hasBuckets(buf) {
			continue
		}
		w.elements(pid, buf, false, [][]byte{nil}, nil, nil, 0)
		if len(w.problems) > 0 {
			continue
		}
		for _, e := range kvs {
			fn(pid, e[0], e[1])
		}
	}
}

func hasBuckets(buf []byte) bool {
	count := int(ne.Uint16(buf[10:]))
	for i := 0; i < count && pageHeaderSize+(i+1)*elemSize <= len(buf); i++ {
		if ne.Uint32(buf[pageHeaderSize+i*elemSize:]) != 0 {
			return true
		}
	}
	return false
}
