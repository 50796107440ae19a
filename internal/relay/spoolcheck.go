package relay

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/boltfile"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CorruptError is a spool file the relay will not use: bbolt would panic or
// misread it. Nothing was changed; the message says how to go on.
type CorruptError struct {
	Path     string
	Problems []string
}

func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("spool %s is damaged: %s", e.Path, e.Problems[0])
	if n := len(e.Problems); n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n-1)
	}
	p := shellQuote(e.Path)
	return msg + fmt.Sprintf("; the file was not changed. Inspect it with 'ccx relay spool check --spool %s'; "+
		"'ccx relay spool salvage --spool %s --to NEW.db' copies every readable record to a new spool", p, p)
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"$`\\!*?;&|<>()[]{}#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ErrLocked means another process (a running relay) holds the spool file.
var ErrLocked = errors.New("locked by another process")

func lockedError(path string) error {
	return fmt.Errorf("spool %s is %w (is a relay running?)", path, ErrLocked)
}

// guard turns a panic of bbolt (and a fault on its memory map) into a
// *CorruptError naming the file. bbolt's writes roll back when they panic, so
// the database is not left locked.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &CorruptError{Path: path, Problems: []string{fmt.Sprintf("bbolt failed reading it: %v", r)}}
		}
	}()
	return fn()
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord is a record's JSON, a zero byte (JSON never holds one) and
// the CRC-32C of the JSON.
func encodeRecord(r *Record) ([]byte, error) {
	j, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	v := append(j, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(v[len(j)+1:], crc32.Checksum(j, castagnoli))
	return v, nil
}

// decodeRecord reads a queue or dead entry; it checks the key's length and
// the checksum before trusting either.
func decodeRecord(k, v []byte) (*Record, error) {
	if len(k) != 8 {
		return nil, fmt.Errorf("key of %d bytes, want 8", len(k))
	}
	j := v
	if n := len(v); n >= 5 && v[n-5] == 0 {
		j = v[:n-5]
		if crc32.Checksum(j, castagnoli) != binary.BigEndian.Uint32(v[n-4:]) {
			return nil, errors.New("checksum mismatch")
		}
	}
	r := &Record{}
	if err := json.Unmarshal(j, r); err != nil {
		return nil, fmt.Errorf("not a record: %w", err)
	}
	if r.MID == "" || len(r.Body) == 0 || !json.Valid(r.Body) {
		return nil, errors.New("record without an mId or a body")
	}
	r.Seq = binary.BigEndian.Uint64(k)
	r.size = int64(len(v))
	return r, nil
}

// badRecord is a quarantined queue entry, kept as it was found.
type badRecord struct {
	Reason string `json:"reason"`
	At     int64  `json:"at"`    // unix ms
	Value  []byte `json:"value"` // the entry's bytes (base64)
}

func badValue(v []byte, reason error, now int64) []byte {
	b, _ := json.Marshal(badRecord{Reason: reason.Error(), At: now, Value: v})
	return b
}

// quarantine moves an unreadable queue entry to the bad bucket.
func quarantine(tx *bolt.Tx, k, v []byte, reason error, now int64) error {
	if err := tx.Bucket(bBad).Put(k, badValue(v, reason, now)); err != nil {
		return err
	}
	if err := tx.Bucket(bFlight).Delete(k); err != nil {
		return err
	}
	return tx.Bucket(bQueue).Delete(k)
}

// CheckReport is what `ccx relay spool check` finds in a spool file.
type CheckReport struct {
	Path  string `json:"path"`
	OK    bool   `json:"ok"`    // nothing found at all
	Opens bool   `json:"opens"` // no problems: the relay opens it (and deals with the warnings)
	// Problems are damage the relay refuses to open (bbolt would panic or
	// misread): salvage copies what is readable to a new spool.
	Problems []string `json:"problems"`
	// Warnings are damage the relay survives: a damaged meta page (bbolt
	// uses the other, which may lose the last transaction), unreadable queue
	// entries (moved to the bad bucket at the next start), a queue sequence
	// behind its keys (repaired at the next start).
	Warnings    []string `json:"warnings"`
	Queue       int64    `json:"queue"`      // readable queued events
	Bytes       int64    `json:"bytes"`      // their size in the spool
	Unreadable  int64    `json:"unreadable"` // queued entries that cannot be read
	InFlight    int64    `json:"inFlight"`
	Dead        int64    `json:"dead"`
	Bad         int64    `json:"bad"` // already quarantined
	DedupeKeys  int64    `json:"dedupeKeys"`
	SentMIDs    int64    `json:"sentMIds"`
	Delivered   int64    `json:"delivered"`
	Redelivered int64    `json:"redelivered"`

	unreadable [][]byte // their keys, for OpenSpool
	oldest     *Record
	isSpool    bool // it has a queue bucket
}

// Clean reports whether nothing at all was found.
func (r *CheckReport) Clean() bool {
	return len(r.Problems) == 0 && len(r.Warnings) == 0 && r.Unreadable == 0 && r.Bad == 0
}

// CheckSpool inspects a spool file without changing it and without handing
// it to bbolt. The error is for a file that cannot be read at all (missing,
// no permission, held by a running relay); damage is in the report.
func CheckSpool(path string) (*CheckReport, error) {
	rep, err := checkFile(path, 500*time.Millisecond)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("spool %s is locked by a running relay: stop it first (or ask it with 'ccx relay status --url')", path)
		}
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	return rep.verdict(), nil
}

// checkFile checks path while holding bbolt's shared lock, so that a
// running relay's writes are never mistaken for damage.
func checkFile(path string, lockWait time.Duration) (*CheckReport, error) {
	unlock, err := lockShared(path, lockWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{Path: path, Problems: []string{}, Warnings: []string{}}
	bf, err := boltfile.Open(fh, fi.Size())
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	for _, p := range bf.MetaProblems {
		rep.Warnings = append(rep.Warnings, p.String()+" (bbolt uses the other meta page)")
	}
	sc := newSchemaCheck(rep)
	for _, p := range bf.Check(sc.visitor()) {
		rep.Problems = append(rep.Problems, p.String())
	}
	sc.finish()
	return rep, nil
}

func (r *CheckReport) verdict() *CheckReport {
	r.Opens = len(r.Problems) == 0
	r.OK = r.Clean()
	return r
}

// lockShared takes bbolt's shared lock by opening the file read-only (which
// reads no more than the meta pages). A file bbolt refuses to open at all
// is left to the checker to describe.
func lockShared(path string, wait time.Duration) (func(), error) {
	var db *bolt.DB
	err := guard(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: wait})
		return err
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, lockedError(path)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return nil, err
	case err != nil:
		return func() {}, nil
	}
	return func() { _ = guard(path, db.Close) }, nil
}

// schemaCheck adds what a spool must look like to bbolt's structure.
type schemaCheck struct {
	rep      *CheckReport
	buckets  map[string]bool
	queueSeq uint64
	lastSeq  uint64
	shortKey int64
	badWhy   []string
}

func newSchemaCheck(rep *CheckReport) *schemaCheck {
	return &schemaCheck{rep: rep, buckets: map[string]bool{}}
}

func (c *schemaCheck) visitor() boltfile.Visitor {
	return boltfile.Visitor{Bucket: c.bucket, KV: c.kv}
}

func (c *schemaCheck) bucket(path [][]byte, seq uint64) {
	if len(path) != 1 {
		c.rep.Problems = append(c.rep.Problems, fmt.Sprintf("unexpected nested bucket %q", path[len(path)-1]))
		return
	}
	name := string(path[0])
	c.buckets[name] = true
	if name == string(bQueue) {
		c.queueSeq = seq
	}
}

func (c *schemaCheck) kv(path [][]byte, _ uint64, k, v []byte) {
	if len(path) != 1 {
		return
	}
	r := c.rep
	switch string(path[0]) {
	case string(bQueue):
		rec, err := decodeRecord(k, v)
		if err != nil {
			r.Unreadable++
			r.unreadable = append(r.unreadable, append([]byte(nil), k...))
			if len(c.badWhy) < 3 {
				c.badWhy = append(c.badWhy, fmt.Sprintf("queue entry %x: %v", k, err))
			}
			return
		}
		r.Queue++
		r.Bytes += int64(len(v))
		c.lastSeq = max(c.lastSeq, rec.Seq)
		if r.oldest == nil {
			rec.Body = nil
			r.oldest = rec
		}
	case string(bDead):
		r.Dead++
		if len(k) == 8 {
			c.lastSeq = max(c.lastSeq, binary.BigEndian.Uint64(k))
		}
	case string(bBad):
		r.Bad++
	case string(bFlight):
		r.InFlight++
	case string(bSeen):
		r.DedupeKeys++
	case string(bSent):
		r.SentMIDs++
	case string(bSeenT), string(bSentT):
		if len(k) < 8 {
			c.shortKey++
		}
	case string(bMeta):
		switch string(k) {
		case "delivered":
			if len(v) == 8 {
				r.Delivered = int64(binary.BigEndian.Uint64(v))
			}
		case "redelivered":
			if len(v) == 8 {
				r.Redelivered = int64(binary.BigEndian.Uint64(v))
			}
		case "mediaKey":
			if len(v) != 32 {
				r.Warnings = append(r.Warnings, "the media signing key is damaged: /media/ URLs in queued events will not verify")
			}
		}
	}
}

func (c *schemaCheck) finish() {
	r := c.rep
	if len(c.buckets) > 0 {
		for _, b := range allBuckets {
			if !c.buckets[string(b)] && string(b) != string(bBad) && string(b) != string(bFlight) {
				r.Problems = append(r.Problems, fmt.Sprintf("bucket %q is missing (a damaged name?)", b))
			}
		}
		for name := range c.buckets {
			known := false
			for _, b := range allBuckets {
				known = known || name == string(b)
			}
			if !known {
				r.Warnings = append(r.Warnings, fmt.Sprintf("unknown bucket %q (a damaged name, or a spool of a newer ccx)", name))
			}
		}
	}
	if r.Unreadable > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d queued entries cannot be read (the relay moves them to the bad bucket and delivers the rest): %s",
			r.Unreadable, strings.Join(c.badWhy, "; ")))
	}
	if r.Bad > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the bad bucket holds %d quarantined entries", r.Bad))
	}
	r.isSpool = c.buckets[string(bQueue)]
	if r.isSpool && c.queueSeq < c.lastSeq {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the queue's sequence %d is behind its last key %d (the relay repairs it at start)", c.queueSeq, c.lastSeq))
	}
	if c.shortKey > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d time-index keys are too short (pruning drops them)", c.shortKey))
	}
}

// ReadStats reports the state of a spool file no relay holds, without
// changing it (unreadable queue entries count as bad: the next start
// quarantines them).
func ReadStats(path string) (Stats, error) {
	rep, err := checkFile(path, 500*time.Millisecond)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return Stats{}, fmt.Errorf("spool %s is locked by a running relay: ask it with --url", path)
		}
		return Stats{}, fmt.Errorf("spool %s: %w", path, err)
	}
	if len(rep.Problems) > 0 {
		return Stats{}, &CorruptError{Path: path, Problems: rep.Problems}
	}
	if !rep.isSpool {
		return Stats{}, fmt.Errorf("%s is not a ccx relay spool", path)
	}
	st := Stats{Path: path, Depth: rep.Queue, Bytes: rep.Bytes, Dead: rep.Dead, Bad: rep.Bad + rep.Unreadable,
		InFlight: rep.InFlight, Redelivered: rep.Redelivered, DedupeKeys: rep.DedupeKeys, SentMIDs: rep.SentMIDs,
		Delivered: rep.Delivered, Oldest: rep.oldest}
	if st.Oldest != nil {
		st.OldestAgeMS = time.Now().UnixMilli() - st.Oldest.Enqueued
	}
	return st, nil
}
