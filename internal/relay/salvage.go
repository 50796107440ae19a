package relay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ccx-cli/ccx/internal/boltfile"
	bolt "go.etcd.io/bbolt"
)

// SalvageReport says what Salvage copied.
type SalvageReport struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Problems is the damage met while reading: records on those pages
	// could not be read.
	Problems []string `json:"problems"`
	Queue    int64    `json:"queue"` // readable queued events copied
	// Quarantined queued entries could not be read; they are copied to the
	// new spool's bad bucket.
	Quarantined int64 `json:"quarantined"`
	// FromPrevious queued events were read from the previous transaction's
	// tree, because the newest one is damaged.
	FromPrevious int64 `json:"fromPrevious"`
	// FromFreePages queued events were found on pages the damaged tree no
	// longer reaches, in the key range of the damaged pages. Some may be
	// older copies of events delivered since: they are posted again, with
	// the same mId.
	FromFreePages int64 `json:"fromFreePages"`
	InFlight      int64 `json:"inFlight"`
	Dead          int64 `json:"dead"`
	Bad           int64 `json:"bad"`
	DedupeKeys    int64 `json:"dedupeKeys"`
	SentMIDs      int64 `json:"sentMIds"`
}

// ErrExists means the salvage target exists and no --force was given.
var ErrExists = errors.New("exists")

// ErrSameFile means the salvage target is the spool being salvaged.
var ErrSameFile = errors.New("is the spool being salvaged")

// ErrNothingReadable means the source has no readable tree at all.
var ErrNothingReadable = errors.New("nothing readable")

type kv struct{ k, v []byte }

// tree is what one walk of a damaged file read, per top-level bucket.
type tree struct {
	kvs  map[string][]kv
	keys map[string]map[string]bool
	seq  uint64 // the queue's sequence
	used map[uint64]bool
}

func readTree(f *boltfile.File, m boltfile.Meta) (*tree, []boltfile.Problem) {
	t := &tree{kvs: map[string][]kv{}, keys: map[string]map[string]bool{}, used: map[uint64]bool{}}
	probs := f.Walk(m, boltfile.Visitor{
		Page: func(id, _ uint64) { t.used[id] = true },
		Bucket: func(path [][]byte, seq uint64) {
			if len(path) == 1 && bytes.Equal(path[0], bQueue) {
				t.seq = seq
			}
		},
		KV: func(path [][]byte, _ uint64, k, v []byte) {
			if len(path) != 1 {
				return
			}
			t.add(string(path[0]), k, v)
		},
	})
	return t, probs
}

func (t *tree) add(b string, k, v []byte) bool {
	if t.keys[b] == nil {
		t.keys[b] = map[string]bool{}
	}
	if t.keys[b][string(k)] {
		return false // a damaged page can repeat a key
	}
	t.keys[b][string(k)] = true
	t.kvs[b] = append(t.kvs[b], kv{append([]byte(nil), k...), append([]byte(nil), v...)})
	return true
}

func (t *tree) has(b, k string) bool { return t.keys[b] != nil && t.keys[b][k] }

// lostRanges are the queue key ranges the damage cut off.
func lostRanges(probs []boltfile.Problem) [][2][]byte {
	var out [][2][]byte
	for _, p := range probs {
		switch {
		case p.Bucket == string(bQueue):
			out = append(out, [2][]byte{p.Lo, p.Hi})
		case p.Bucket == "" || p.Page < 0: // the root bucket or the whole file: the queue could be anywhere
			return [][2][]byte{{nil, nil}}
		}
	}
	return out
}

// fromFreePages looks for queued events cut off by damage on the leaf
// pages the tree no longer reaches, in the key ranges the damage lost. A
// page sharing a key with what the tree still reaches is an older copy of a
// live page (its other events were delivered since), and is passed over.
// Only records with a checksum count.
func (t *tree) fromFreePages(f *boltfile.File, m boltfile.Meta, lost [][2][]byte) int64 {
	var n int64
	var page []kv
	var cur uint64
	flush := func() {
		defer func() { page = page[:0] }()
		for _, e := range page {
			if t.has(string(bQueue), string(e.k)) || t.has(string(bDead), string(e.k)) || t.has(string(bBad), string(e.k)) {
				return
			}
		}
		for _, e := range page {
			r, err := decodeRecord(e.k, e.v)
			if err != nil || !inRanges(e.k, lost) {
				continue
			}
			b := string(bQueue)
			if r.LastError != "" { // Bury sets it: a dead record
				b = string(bDead)
			}
			if t.add(b, e.k, e.v) && b == string(bQueue) {
				n++
			}
		}
	}
	f.Leaves(m, func(id uint64) bool { return t.used[id] }, func(id uint64, k, v []byte) {
		if id != cur {
			flush()
			cur = id
		}
		if len(k) == 8 && len(v) >= 5 && v[len(v)-5] == 0 {
			page = append(page, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		}
	})
	flush()
	return n
}

func inRanges(k []byte, rs [][2][]byte) bool {
	for _, r := range rs {
		if (r[0] == nil || bytes.Compare(k, r[0]) >= 0) && (r[1] == nil || bytes.Compare(k, r[1]) < 0) {
			return true
		}
	}
	return false
}

// Salvage copies every readable record of the spool at from into a new
// spool file at to (mode 0600). It reads the file with its own bounded
// reader, never with bbolt, so any damage is survivable; queued entries
// that cannot be read go to the new spool's bad bucket. to must not exist
// unless force is set. The source is never changed.
func Salvage(from, to string, force bool) (*SalvageReport, error) {
	rep := &SalvageReport{From: from, To: to, Problems: []string{}}
	if fi, err := os.Stat(to); err == nil {
		if src, serr := os.Stat(from); serr == nil && os.SameFile(fi, src) {
			return nil, fmt.Errorf("--to %s %w: pick a new file", to, ErrSameFile)
		}
		if !force {
			return nil, fmt.Errorf("%s %w: pick another file, or --force to replace it", to, ErrExists)
		}
	}
	unlock, err := lockShared(from, 500*time.Millisecond)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fh, err := os.Open(from)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	bf, err := boltfile.Open(fh, fi.Size())
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, fmt.Errorf("spool %s: %w: %v", from, ErrNothingReadable, err)
	}
	for _, p := range bf.MetaProblems {
		rep.Problems = append(rep.Problems, p.String())
	}
	cur, probs := readTree(bf, bf.Metas[0])
	for _, p := range probs {
		rep.Problems = append(rep.Problems, p.String())
	}
	if len(probs) > 0 && len(bf.Metas) > 1 {
		// The previous transaction's tree shares most pages with the newest
		// one, but not the pages the last commit rewrote: fill the gaps.
		prev, _ := readTree(bf, bf.Metas[1])
		rep.FromPrevious = cur.merge(prev)
	}
	if lost := lostRanges(probs); len(lost) > 0 {
		rep.FromFreePages = cur.fromFreePages(bf, bf.Metas[0], lost)
	}
	if err := writeSalvage(cur, to, force, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// merge adds what prev has and cur lacks. A queued event is taken only if
// cur knows nothing of its key (not queued, dead or quarantined there).
func (cur *tree) merge(prev *tree) int64 {
	var fromPrev int64
	known := func(b, k string) bool { return cur.keys[b] != nil && cur.keys[b][k] }
	for b, kvs := range prev.kvs {
		for _, e := range kvs {
			k := string(e.k)
			if known(b, k) || (b == string(bQueue) && (known(string(bDead), k) || known(string(bBad), k))) {
				continue
			}
			if b == string(bMeta) && cur.kvs[b] != nil {
				continue // counters and the media key: the newest tree's, when it has them
			}
			if cur.keys[b] == nil {
				cur.keys[b] = map[string]bool{}
			}
			cur.keys[b][k] = true
			cur.kvs[b] = append(cur.kvs[b], e)
			if b == string(bQueue) {
				fromPrev++
			}
		}
	}
	cur.seq = max(cur.seq, prev.seq)
	for id := range prev.used {
		cur.used[id] = true
	}
	return fromPrev
}

func writeSalvage(t *tree, to string, force bool, rep *SalvageReport) error {
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".salvage-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	db, err := bolt.Open(tmpName, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType, NoSync: spoolNoSync})
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		put := func(b []byte, k, v []byte) error {
			if len(k) == 0 || len(k) > bolt.MaxKeySize {
				return nil
			}
			return tx.Bucket(b).Put(k, v)
		}
		var last uint64
		for _, e := range sorted(t.kvs[string(bQueue)]) {
			if _, err := decodeRecord(e.k, e.v); err != nil {
				if len(e.k) > 0 && len(e.k) <= bolt.MaxKeySize {
					if err := put(bBad, e.k, badValue(e.v, err, now)); err != nil {
						return err
					}
					rep.Quarantined++
				}
				continue
			}
			if err := put(bQueue, e.k, e.v); err != nil {
				return err
			}
			last = max(last, binary.BigEndian.Uint64(e.k))
			rep.Queue++
		}
		for _, e := range sorted(t.kvs[string(bDead)]) {
			if err := put(bDead, e.k, e.v); err != nil {
				return err
			}
			if len(e.k) == 8 {
				last = max(last, binary.BigEndian.Uint64(e.k))
			}
			rep.Dead++
		}
		for _, e := range sorted(t.kvs[string(bBad)]) {
			if err := put(bBad, e.k, e.v); err != nil {
				return err
			}
			rep.Bad++
		}
		for _, e := range sorted(t.kvs[string(bFlight)]) {
			if tx.Bucket(bQueue).Get(e.k) != nil { // only for events still queued
				if err := put(bFlight, e.k, nil); err != nil {
					return err
				}
				rep.InFlight++
			}
		}
		for _, b := range [][]byte{bSeen, bSent, bMeta} {
			for _, e := range sorted(t.kvs[string(b)]) {
				if err := put(b, e.k, e.v); err != nil {
					return err
				}
				switch string(b) {
				case string(bSeen):
					rep.DedupeKeys++
				case string(bSent):
					rep.SentMIDs++
				}
			}
		}
		for _, b := range [][]byte{bSeenT, bSentT} {
			for _, e := range sorted(t.kvs[string(b)]) {
				if len(e.k) >= 8 {
					if err := put(b, e.k, nil); err != nil {
						return err
					}
				}
			}
		}
		rep.Bad += rep.Quarantined
		return tx.Bucket(bQueue).SetSequence(max(t.seq, last))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", to, err)
	}
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return err
	}
	if force {
		return os.Rename(tmpName, to)
	}
	// A link never replaces a file that appeared meanwhile.
	if err := os.Link(tmpName, to); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s %w: pick another file, or --force to replace it", to, ErrExists)
		}
		return os.Rename(tmpName, to) // a file system without hard links
	}
	return nil
}

func sorted(kvs []kv) []kv {
	sort.Slice(kvs, func(i, j int) bool { return bytes.Compare(kvs[i].k, kvs[j].k) < 0 })
	return kvs
}
