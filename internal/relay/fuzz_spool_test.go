package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ccx-cli/ccx/internal/boltfile"
	bolt "go.etcd.io/bbolt"
)

var (
	fuzzTemplateOnce sync.Once
	fuzzTemplate     []byte
)

// FuzzSpoolOpen patches bytes of a real spool file anywhere and opens it as
// the relay and `relay status` do. Nothing may panic; a refusal is a
// *CorruptError and agrees with CheckSpool; a spool that opens is used
// (Pending, Enqueue, Claim, Prune, Stats) and closed without the relay
// having written any damage of its own; salvage always succeeds.
func FuzzSpoolOpen(f *testing.F) {
	spoolNoSync = true
	f.Cleanup(func() { spoolNoSync = false })
	dir := fuzzDir(f)
	fuzzTemplateOnce.Do(func() {
		path := filepath.Join(dir, "template.db")
		buildSpool(f, path, 40)
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		// Only the pages in use are worth patching: cut the file after them.
		bf, err := boltfile.Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			f.Fatal(err)
		}
		fuzzTemplate = data[:bf.Metas[0].HighWater*uint64(bf.PageSize)]
	})
	f.Add(uint32(0), []byte{})
	f.Add(uint32(8192), []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint32(3*4096+10), []byte{0xff, 0xff})
	f.Add(uint32(4*4096+16), []byte{1, 0, 0, 0, 0xff})
	f.Add(uint32(4096+16), []byte{0xed, 0xda})
	f.Add(uint32(5*4096+200), []byte("garbage"))
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		data := append([]byte(nil), fuzzTemplate...)
		if len(patch) > 64 {
			patch = patch[:64]
		}
		copy(data[int(off)%len(data):], patch)
		path := filepath.Join(dir, "fuzz.db")
		out := filepath.Join(dir, "fuzz-salvaged.db")
		os.Remove(out)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := CheckSpool(path)
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		if _, err := ReadStats(path); err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) && rep.Opens && rep.isSpool {
				t.Fatalf("status: %v", err)
			}
		}
		s, err := OpenSpool(path, Limits{MaxEntries: 1000})
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("open: want a *CorruptError, got %T %v", err, err)
			}
			if rep.Opens {
				t.Fatalf("open refused (%v) a file check accepts", err)
			}
		} else {
			if !rep.Opens {
				t.Fatalf("open accepted a file check refuses: %v", rep.Problems)
			}
			pending, err := s.Pending()
			if err != nil {
				t.Fatalf("pending: %v", err)
			}
			if len(pending) > 0 {
				if err := s.Claim(pending[:1]); err != nil {
					t.Fatalf("claim: %v", err)
				}
				if err := s.Done(pending[0]); err != nil {
					t.Fatalf("done: %v", err)
				}
			}
			if _, _, err := s.Enqueue([]Item{item("fuzz-key", "+1", "fuzz-mid", 0)}); err != nil {
				t.Fatalf("enqueue: %v", err)
			}
			if err := s.Prune(); err != nil {
				t.Fatalf("prune: %v", err)
			}
			_ = s.Stats()
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			after, err := CheckSpool(path)
			if err != nil || !after.Opens || after.Unreadable > 0 {
				t.Fatalf("the relay left damage behind: %+v %v", after, err)
			}
		}
		if rep.Opens {
			return // salvage is for the files the relay refuses
		}
		if _, err := Salvage(path, out, false); err != nil && !errors.Is(err, ErrNothingReadable) {
			t.Fatalf("salvage: %v", err)
		}
	})
}

// fuzzDir is a directory in memory when there is one: the fuzz targets
// write a spool file per exec.
func fuzzDir(f *testing.F) string {
	dir, err := os.MkdirTemp("/dev/shm", "ccx-fuzz-")
	if err != nil {
		return f.TempDir()
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// FuzzPending puts arbitrary keys and values in the queue next to a good
// record: Pending never fails or panics, returns the good record and only
// readable ones, and quarantines the rest.
func FuzzPending(f *testing.F) {
	spoolNoSync = true
	f.Cleanup(func() { spoolNoSync = false })
	good, _ := encodeRecord(&Record{Body: json.RawMessage(`{"a":1}`), MID: "good", ContactID: "+1", Kind: "message"})
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x05"), []byte(`{"mId":"x","body":{}}`), []byte{})
	f.Add([]byte("short"), good, []byte("{"))
	f.Add([]byte{}, good[:len(good)-1], append(good[:len(good)-5:len(good)-5], 0, 1, 2, 3, 4))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x07"), []byte(`{"mId":"x","body":"no"}`), []byte(`{"mId":"","body":{}}`))
	s, err := OpenSpool(filepath.Join(fuzzDir(f), "s.db"), Limits{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, key, v1, v2 []byte) {
		n := int64(0)
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bQueue, bBad, bFlight} {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
				if _, err := tx.CreateBucket(b); err != nil {
					return err
				}
			}
			q := tx.Bucket(bQueue)
			put := func(k, v []byte) error {
				if len(k) == 0 || len(k) > bolt.MaxKeySize || q.Get(k) != nil {
					return nil
				}
				n++
				return q.Put(k, v)
			}
			if err := put(seqKey(1<<40), good); err != nil {
				return err
			}
			if err := put(key, v1); err != nil {
				return err
			}
			return put(seqKey(3), v2)
		})
		if err != nil {
			t.Fatal(err)
		}
		s.depth.Store(n)
		s.bad.Store(0)
		pending, err := s.Pending()
		if err != nil {
			t.Fatalf("pending: %v", err)
		}
		found := false
		for _, r := range pending {
			if r.MID == "" || !json.Valid(r.Body) {
				t.Fatalf("pending returned an unreadable record %+v", r)
			}
			found = found || r.MID == "good"
		}
		if !found {
			t.Fatal("the good record is missing")
		}
		if st := s.Stats(); st.Depth != int64(len(pending)) || st.Bad != n-int64(len(pending)) {
			t.Fatalf("stats %+v after %d entries, %d pending", st, n, len(pending))
		}
		// Whatever was quarantined stays out of the queue.
		again, err := s.Pending()
		if err != nil || len(again) != len(pending) {
			t.Fatalf("second pending: %d %v", len(again), err)
		}
	})
}
