package relay

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The spool is one bbolt file. Buckets:
//
//	queue   seq(8) → record                 events not yet accepted by the platform
//	flight  seq(8) → nil                    queued events whose post has started (in doubt after a crash)
//	dead    seq(8) → record                 events the platform refused for good (4xx)
//	bad     key → badRecord JSON            queue entries that could not be read (quarantined)
//	seen    key → unix ms                   de-duplication keys (provider message ids)
//	seenT   ms(8)+key → nil                 time index of seen, for pruning
//	sent    mId → sentInfo JSON             what /message sent: contact and best status
//	sentT   ms(8)+mId → nil                 time index of sent
//	meta    "mediaKey", "delivered",        small values
//	        "redelivered"
//
// A record is its JSON, a zero byte and the CRC-32C of the JSON, so that a
// damaged record is found and quarantined instead of posted (records
// written before the checksum have none and are read as plain JSON).
//
// Every write goes through one committer goroutine that folds whatever writes
// are waiting into a single fsync'd transaction (group commit): under load
// many events share one fsync, at rest a lone event pays no batching delay.
var (
	bQueue  = []byte("queue")
	bFlight = []byte("flight")
	bDead   = []byte("dead")
	bBad    = []byte("bad")
	bSeen   = []byte("seen")
	bSeenT  = []byte("seenT")
	bSent   = []byte("sent")
	bSentT  = []byte("sentT")
	bMeta   = []byte("meta")

	allBuckets = [][]byte{bQueue, bFlight, bDead, bBad, bSeen, bSeenT, bSent, bSentT, bMeta}
)

// ErrFull means the spool reached its bounds: the provider is answered 503 so
// that it retries later, rather than the event being dropped.
var ErrFull = errors.New("spool full")

// Record is one event waiting for the platform.
type Record struct {
	Seq       uint64          `json:"-"`
	Body      json.RawMessage `json:"body"` // the webhook JSON, exactly as it will be posted (stored verbatim)
	size      int64           // bytes in the spool, for the bound
	MID       string          `json:"mId"`
	ContactID string          `json:"contactId"`
	Kind      string          `json:"kind"`
	Key       string          `json:"key,omitempty"` // de-duplication key
	Enqueued  int64           `json:"enqueued"`      // unix ms
	Attempts  int             `json:"attempts,omitempty"`
	LastError string          `json:"lastError,omitempty"`
}

type sentInfo struct {
	ContactID string `json:"c"`
	Rank      int    `json:"r"`
	Time      int64  `json:"t"`
}

// Limits bound the spool.
type Limits struct {
	MaxEntries int           // queued events; 0 → 100000
	MaxBytes   int64         // queued bytes; 0 → 256 MiB
	Window     time.Duration // how long dedupe keys and sent mIds are kept; 0 → 72h
	MaxKeys    int           // at most this many dedupe keys / sent mIds; 0 → 1,000,000
}

func (l *Limits) defaults() {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 256 << 20
	}
	if l.Window <= 0 {
		l.Window = 72 * time.Hour
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = 1000000
	}
}

// Spool is the durable queue.
type Spool struct {
	db      *bolt.DB
	path    string
	lim     Limits
	ops     chan *op
	wg      sync.WaitGroup
	closed  chan struct{}
	stopped chan struct{} // closed when the committer has exited
	once    sync.Once

	depth, size, dead, seen, sent, delivered atomic.Int64
	bad, flight, redelivered                 atomic.Int64
	commits, committedOps                    atomic.Int64
	inDoubt                                  int64 // flight entries found at open: posts a crash may have cut short
	broken                                   atomic.Pointer[CorruptError]
	mediaKey                                 []byte
	now                                      func() time.Time
}

type op struct {
	fn   func(tx *bolt.Tx) error
	done chan error
	cb   func(error) // async ops: called by the committer instead of done
}

func (o *op) finish(err error) {
	if o.cb != nil {
		o.cb(err)
		return
	}
	o.done <- err
}

// OpenSpool opens (or creates) the spool file. A file with damage bbolt
// cannot survive is refused with a *CorruptError before bbolt reads it;
// queue entries that cannot be read are moved to the bad bucket.
func OpenSpool(path string, lim Limits) (*Spool, error) {
	lim.defaults()
	var unreadable [][]byte
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		rep, err := checkFile(path, 2*time.Second)
		if err != nil {
			return nil, err
		}
		if len(rep.Problems) > 0 {
			return nil, &CorruptError{Path: path, Problems: rep.Problems}
		}
		unreadable = rep.unreadable
	}
	var db *bolt.DB
	err := guard(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType, NoSync: spoolNoSync})
		return err
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, lockedError(path)
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	s := &Spool{db: db, path: path, lim: lim, ops: make(chan *op, 4096), closed: make(chan struct{}), stopped: make(chan struct{}), now: time.Now}
	err = guard(path, func() error { return db.Update(s.init(unreadable)) })
	if err != nil {
		db.Close()
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	s.wg.Add(1)
	go s.committer()
	return s, nil
}

// spoolNoSync skips fsync: only the fuzz targets set it, to run fast.
var spoolNoSync = false

// init creates the buckets, quarantines the unreadable queue entries the
// check found, repairs a queue sequence that fell behind its keys, and loads
// the counters.
func (s *Spool) init(unreadable [][]byte) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		q, bad := tx.Bucket(bQueue), tx.Bucket(bBad)
		now := s.now().UnixMilli()
		for _, k := range unreadable {
			if v := q.Get(k); v != nil {
				if _, err := decodeRecord(k, v); err != nil {
					if err := quarantine(tx, k, v, err, now); err != nil {
						return err
					}
				}
			}
		}
		// NextSequence must never hand out a key already in use: a damaged
		// bucket header could otherwise make a new event overwrite an old one.
		var last uint64
		for _, b := range [][]byte{bQueue, bDead} {
			if k, _ := tx.Bucket(b).Cursor().Last(); len(k) == 8 {
				last = max(last, binary.BigEndian.Uint64(k))
			}
		}
		if q.Sequence() < last {
			if err := q.SetSequence(last); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if k := meta.Get([]byte("mediaKey")); len(k) == 32 {
			s.mediaKey = append([]byte(nil), k...)
		} else {
			s.mediaKey = make([]byte, 32)
			_, _ = rand.Read(s.mediaKey)
			if err := meta.Put([]byte("mediaKey"), s.mediaKey); err != nil {
				return err
			}
		}
		s.delivered.Store(int64(counter(meta, "delivered")))
		// Events whose post had started when the relay stopped: they are
		// posted again (same mId), so count them as redeliveries now.
		s.inDoubt = countKeys(tx.Bucket(bFlight))
		redelivered := counter(meta, "redelivered") + uint64(s.inDoubt)
		if s.inDoubt > 0 {
			if err := meta.Put([]byte("redelivered"), seqKey(redelivered)); err != nil {
				return err
			}
		}
		s.redelivered.Store(int64(redelivered))
		var n, sz int64
		_ = q.ForEach(func(k, v []byte) error { n++; sz += int64(len(v)); return nil })
		s.depth.Store(n)
		s.size.Store(sz)
		s.flight.Store(s.inDoubt)
		s.dead.Store(int64(tx.Bucket(bDead).Stats().KeyN))
		s.bad.Store(countKeys(bad)) // Stats() would miss this transaction's quarantines
		s.seen.Store(int64(tx.Bucket(bSeen).Stats().KeyN))
		s.sent.Store(int64(tx.Bucket(bSent).Stats().KeyN))
		return nil
	}
}

func countKeys(b *bolt.Bucket) int64 {
	var n int64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

func counter(meta *bolt.Bucket, name string) uint64 {
	if v := meta.Get([]byte(name)); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// committer runs queued write ops in shared transactions. An op's error is
// its own (ops decide before they write); only a failed commit fails all.
func (s *Spool) committer() {
	defer s.wg.Done()
	defer close(s.stopped)
	batch := make([]*op, 0, 1024)
	errs := make([]error, 0, 1024)
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.closed:
			// Finish what is queued, then stop.
			for {
				select {
				case o := <-s.ops:
					o.finish(s.update(o.fn))
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < cap(batch) {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		errs = errs[:0]
		err := s.update(func(tx *bolt.Tx) error {
			for _, o := range batch {
				errs = append(errs, o.fn(tx))
			}
			return nil
		})
		s.commits.Add(1)
		s.committedOps.Add(int64(len(batch)))
		for i, o := range batch {
			if err != nil {
				o.finish(err)
			} else {
				o.finish(errs[i])
			}
		}
	}
}

// update runs one write transaction. A panic inside bbolt (a page damaged
// since the spool was opened) fails it and every later write: the file
// needs `ccx relay spool check` before the relay is trusted with it again.
func (s *Spool) update(fn func(tx *bolt.Tx) error) error {
	if ce := s.broken.Load(); ce != nil {
		return ce
	}
	err := guard(s.path, func() error { return s.db.Update(fn) })
	var ce *CorruptError
	if errors.As(err, &ce) {
		s.broken.CompareAndSwap(nil, ce)
	}
	return err
}

// view runs one read transaction, turning a bbolt panic into an error.
func (s *Spool) view(fn func(tx *bolt.Tx) error) error {
	return guard(s.path, func() error { return s.db.View(fn) })
}

// write runs fn in the next group commit and returns once it is on disk.
func (s *Spool) write(fn func(tx *bolt.Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	s.submit(o)
	return s.await(o.done)
}

var errSpoolClosed = errors.New("spool closed")

// submit hands o to the group-commit loop, or finishes it with
// errSpoolClosed when the spool is closing.
func (s *Spool) submit(o *op) {
	select {
	case s.ops <- o:
	case <-s.closed:
		o.finish(errSpoolClosed)
	}
}

// Item is an event to enqueue.
type Item struct {
	Key       string // de-duplication key ("" → none)
	ContactID string
	MID       string
	Kind      string
	// Status items: the mId whose status changes and the new rank; Build gets
	// the contact (from the item, else from what /message recorded).
	StatusRank int
	Build      func(contactID string) ([]byte, error)
}

// Outcome of Enqueue for one item.
type Outcome int

const (
	Queued    Outcome = iota
	Duplicate         // key seen in the window: the provider retried
	Skipped           // nothing to send (status would go backwards, or unknown mId with no contact)
)

func (o Outcome) String() string {
	return [...]string{"queued", "duplicate", "skipped"}[o]
}

func seqKey(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func timeKey(ms int64, k string) []byte {
	b := make([]byte, 8+len(k))
	binary.BigEndian.PutUint64(b, uint64(ms))
	copy(b[8:], k)
	return b
}

// Enqueue makes items durable (one transaction) and returns each outcome and
// the records queued. It fails with ErrFull before writing anything when the
// spool is at its bounds.
func (s *Spool) Enqueue(items []Item) ([]Outcome, []*Record, error) {
	if s.depth.Load()+int64(len(items)) > int64(s.lim.MaxEntries) || s.size.Load() > s.lim.MaxBytes {
		return nil, nil, ErrFull
	}
	var outs []Outcome
	var recs []*Record
	var dSeen, dSent int64
	now := s.now().UnixMilli()
	err := s.write(func(tx *bolt.Tx) error {
		outs, recs, dSeen, dSent = outs[:0], recs[:0], 0, 0
		q, seen, seenT, sent, sentT := tx.Bucket(bQueue), tx.Bucket(bSeen), tx.Bucket(bSeenT), tx.Bucket(bSent), tx.Bucket(bSentT)
		for _, it := range items {
			if it.Key != "" && seen.Get([]byte(it.Key)) != nil {
				outs = append(outs, Duplicate)
				continue
			}
			contact := it.ContactID
			if it.StatusRank > 0 {
				var si sentInfo
				v := sent.Get([]byte(it.MID))
				if v != nil {
					_ = json.Unmarshal(v, &si)
				}
				if contact == "" {
					contact = si.ContactID
				}
				// Never downgrade: read > delivered > failed > sent; failed overrides only sent.
				if contact == "" || (v != nil && si.Rank >= it.StatusRank) {
					outs = append(outs, Skipped)
					if it.Key != "" {
						if err := putTimed(seen, seenT, it.Key, now); err != nil {
							return err
						}
						dSeen++
					}
					continue
				}
				if v == nil {
					dSent++
				}
				si = sentInfo{ContactID: contact, Rank: it.StatusRank, Time: now}
				b, _ := json.Marshal(si)
				if v != nil {
					_ = sentT.Delete(timeKey(prevTime(v), it.MID))
				}
				if err := sent.Put([]byte(it.MID), b); err != nil {
					return err
				}
				if err := sentT.Put(timeKey(now, it.MID), nil); err != nil {
					return err
				}
			}
			body, err := it.Build(contact)
			if err != nil {
				outs = append(outs, Skipped)
				continue
			}
			n, _ := q.NextSequence()
			r := &Record{Seq: n, Body: body, MID: it.MID, ContactID: contact, Kind: it.Kind, Key: it.Key, Enqueued: now}
			v, err := encodeRecord(r)
			if err != nil { // a body that is not JSON: nothing the platform could take
				outs = append(outs, Skipped)
				continue
			}
			r.size = int64(len(v))
			if err := q.Put(seqKey(n), v); err != nil {
				return err
			}
			if it.Key != "" {
				if err := putTimed(seen, seenT, it.Key, now); err != nil {
					return err
				}
				dSeen++
			}
			outs = append(outs, Queued)
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var sz int64
	for _, r := range recs {
		sz += r.size
	}
	s.depth.Add(int64(len(recs)))
	s.size.Add(sz)
	s.seen.Add(dSeen)
	s.sent.Add(dSent)
	return outs, recs, nil
}

func prevTime(v []byte) int64 {
	var si sentInfo
	_ = json.Unmarshal(v, &si)
	return si.Time
}

func putTimed(b, bt *bolt.Bucket, key string, now int64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(now))
	if err := b.Put([]byte(key), v[:]); err != nil {
		return err
	}
	return bt.Put(timeKey(now, key), nil)
}

// RecordSent remembers what /message sent (mId → contact) so receipts that
// do not name the contact can be addressed, and status order can be kept.
// It waits for the commit.
func (s *Spool) RecordSent(mid, contactID string) error {
	ch := make(chan error, 1)
	s.RecordSentAsync(mid, contactID, func(err error) { ch <- err })
	return s.await(ch)
}

// await waits for an async op's result, or for the committer to stop.
func (s *Spool) await(ch chan error) error {
	select {
	case err := <-ch:
		return err
	case <-s.stopped:
		select {
		case err := <-ch:
			return err
		default:
			return errSpoolClosed
		}
	}
}

// Known reports whether /message recorded a send (or a status) for mid.
func (s *Spool) Known(mid string) bool {
	known := false
	_ = s.view(func(tx *bolt.Tx) error {
		known = tx.Bucket(bSent).Get([]byte(mid)) != nil
		return nil
	})
	return known
}

// RecordSentAsync queues the same write for the next group commit without
// waiting. Later spool writes (a receipt for this mId) commit after it.
func (s *Spool) RecordSentAsync(mid, contactID string, cb func(error)) {
	now := s.now().UnixMilli()
	added := false
	fn := func(tx *bolt.Tx) error {
		added = false
		sent := tx.Bucket(bSent)
		if sent.Get([]byte(mid)) != nil {
			return nil
		}
		b, _ := json.Marshal(sentInfo{ContactID: contactID, Time: now})
		if err := sent.Put([]byte(mid), b); err != nil {
			return err
		}
		added = true
		return tx.Bucket(bSentT).Put(timeKey(now, mid), nil)
	}
	o := &op{fn: fn, cb: func(err error) {
		if err == nil && added {
			s.sent.Add(1)
		}
		if cb != nil {
			cb(err)
		}
	}}
	s.submit(o)
}

// Done removes a delivered record and waits for the commit.
func (s *Spool) Done(r *Record) error {
	ch := make(chan error, 1)
	s.DoneAsync(r, func(err error) { ch <- err })
	return s.await(ch)
}

// DoneAsync removes a delivered record (and its in-flight mark) in the next
// group commit without waiting. Until that commit a crash means one more
// post of the same mId; the worker's next Claim waits for it.
func (s *Spool) DoneAsync(r *Record, cb func(error)) {
	inFlight := false
	fn := func(tx *bolt.Tx) error {
		meta, fl, k := tx.Bucket(bMeta), tx.Bucket(bFlight), seqKey(r.Seq)
		if err := meta.Put([]byte("delivered"), seqKey(counter(meta, "delivered")+1)); err != nil {
			return err
		}
		if inFlight = fl.Get(k) != nil; inFlight {
			if err := fl.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bQueue).Delete(k)
	}
	s.submit(&op{fn: fn, cb: func(err error) {
		if err == nil {
			s.depth.Add(-1)
			s.size.Add(-r.size)
			s.delivered.Add(1)
			if inFlight {
				s.flight.Add(-1)
			}
		}
		if cb != nil {
			cb(err)
		}
	}})
}

// Claim marks records in flight, about to be posted, and waits for the
// commit. The spool commits in order, so when Claim returns every write
// submitted before it (the worker's earlier deliveries) is on disk too. A
// crash can then repeat only the posts of records in flight, and the next
// start counts them (Stats.Redelivered).
func (s *Spool) Claim(next []*Record) error {
	if len(next) == 0 {
		return nil
	}
	var added int64
	err := s.write(func(tx *bolt.Tx) error {
		added = 0
		fl := tx.Bucket(bFlight)
		for _, r := range next {
			if k := seqKey(r.Seq); fl.Get(k) == nil {
				added++
				if err := fl.Put(k, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		s.flight.Add(added)
	}
	return err
}

// Bury moves a record the platform refused for good to the dead bucket.
func (s *Spool) Bury(r *Record, reason string) error {
	r.LastError = reason
	v, err := encodeRecord(r)
	if err != nil {
		return err
	}
	var dFlight int64
	err = s.write(func(tx *bolt.Tx) error {
		dFlight = 0
		if err := tx.Bucket(bDead).Put(seqKey(r.Seq), v); err != nil {
			return err
		}
		fl := tx.Bucket(bFlight)
		if fl.Get(seqKey(r.Seq)) != nil {
			dFlight = -1
			if err := fl.Delete(seqKey(r.Seq)); err != nil {
				return err
			}
		}
		return tx.Bucket(bQueue).Delete(seqKey(r.Seq))
	})
	if err == nil {
		s.depth.Add(-1)
		s.size.Add(-r.size)
		s.dead.Add(1)
		s.flight.Add(dFlight)
	}
	return err
}

// Pending returns the queued records in order (used at start-up). An entry
// that cannot be read is moved to the bad bucket, and the rest are returned:
// one damaged record never holds up the queue.
func (s *Spool) Pending() ([]*Record, error) {
	var out []*Record
	type entry struct {
		k, v []byte
		err  error
	}
	var bad []entry
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bQueue).ForEach(func(k, v []byte) error {
			r, err := decodeRecord(k, v)
			if err != nil {
				bad = append(bad, entry{append([]byte(nil), k...), append([]byte(nil), v...), err})
				return nil
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		now := s.now().UnixMilli()
		var sz int64
		err := s.write(func(tx *bolt.Tx) error {
			sz = 0
			for _, e := range bad {
				if err := quarantine(tx, e.k, e.v, e.err, now); err != nil {
					return err
				}
				sz += int64(len(e.v))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		s.depth.Add(-int64(len(bad)))
		s.size.Add(-sz)
		s.bad.Add(int64(len(bad)))
	}
	return out, nil
}

// InDoubt is how many events were in flight when the spool was last
// closed, or the relay killed: they are posted again.
func (s *Spool) InDoubt() int64 { return s.inDoubt }

// Prune forgets dedupe keys and sent mIds older than the window, and the
// oldest beyond MaxKeys.
func (s *Spool) Prune() error {
	cutoff := s.now().Add(-s.lim.Window).UnixMilli()
	var dSeen, dSent int64
	err := s.write(func(tx *bolt.Tx) error {
		dSeen = pruneTimed(tx.Bucket(bSeen), tx.Bucket(bSeenT), cutoff, s.seen.Load()-int64(s.lim.MaxKeys), 100000)
		dSent = pruneTimed(tx.Bucket(bSent), tx.Bucket(bSentT), cutoff, s.sent.Load()-int64(s.lim.MaxKeys), 100000)
		return nil
	})
	if err == nil {
		s.seen.Add(-dSeen)
		s.sent.Add(-dSent)
	}
	return err
}

func pruneTimed(b, bt *bolt.Bucket, cutoff, over int64, max int) int64 {
	var n int64
	c := bt.Cursor()
	var del [][]byte
	for k, _ := c.First(); k != nil && len(del) < max; k, _ = c.Next() {
		if len(k) < 8 { // not a time key: damage; drop it
			del = append(del, append([]byte(nil), k...))
			continue
		}
		ts := int64(binary.BigEndian.Uint64(k[:8]))
		if ts >= cutoff && int64(len(del)) >= over {
			break
		}
		del = append(del, append([]byte(nil), k...))
	}
	for _, k := range del {
		_ = bt.Delete(k)
		if len(k) < 8 {
			continue
		}
		// Only delete the main key if its current timestamp is this one.
		if v := b.Get(k[8:]); v != nil && (len(v) != 8 || bytes.Equal(v, k[:8])) {
			_ = b.Delete(k[8:])
			n++
		}
	}
	return n
}

// Stats is the spool's inspectable state.
type Stats struct {
	Path        string  `json:"path"`
	Depth       int64   `json:"depth"`
	Bytes       int64   `json:"bytes"`
	MaxEntries  int     `json:"maxEntries"`
	MaxBytes    int64   `json:"maxBytes"`
	Dead        int64   `json:"dead"`
	Bad         int64   `json:"bad"`         // quarantined: queue entries that could not be read
	InFlight    int64   `json:"inFlight"`    // posts under way (after a crash: in doubt, posted again)
	Redelivered int64   `json:"redelivered"` // events posted again after a restart because their post was in flight
	DedupeKeys  int64   `json:"dedupeKeys"`
	SentMIDs    int64   `json:"sentMIds"`
	Delivered   int64   `json:"delivered"`
	OldestAgeMS int64   `json:"oldestAgeMs"`
	Commits     int64   `json:"commits,omitempty"`
	OpsPerTxn   float64 `json:"opsPerCommit,omitempty"`
	Oldest      *Record `json:"oldest,omitempty"`
}

// Stats reads the spool state.
func (s *Spool) Stats() Stats {
	st := Stats{Path: s.path, Depth: s.depth.Load(), Bytes: s.size.Load(), MaxEntries: s.lim.MaxEntries,
		MaxBytes: s.lim.MaxBytes, Dead: s.dead.Load(), Bad: s.bad.Load(), InFlight: s.flight.Load(),
		Redelivered: s.redelivered.Load(), DedupeKeys: s.seen.Load(), SentMIDs: s.sent.Load(),
		Delivered: s.delivered.Load(), Commits: s.commits.Load()}
	if st.Commits > 0 {
		st.OpsPerTxn = float64(s.committedOps.Load()) / float64(st.Commits)
	}
	_ = s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bQueue).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if r, err := decodeRecord(k, v); err == nil {
				r.Body = nil
				st.Oldest = r
				st.OldestAgeMS = s.now().UnixMilli() - r.Enqueued
				break
			}
		}
		return nil
	})
	return st
}

// MediaKey signs /media/ URLs; it is kept in the spool so URLs in queued
// events survive a restart.
func (s *Spool) MediaKey() []byte { return s.mediaKey }

// Close finishes pending writes and closes the file.
func (s *Spool) Close() error {
	s.once.Do(func() { close(s.closed) })
	s.wg.Wait()
	return guard(s.path, s.db.Close)
}
