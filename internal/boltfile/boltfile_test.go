package boltfile

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// sample writes a bbolt file with what a reader must handle: a bucket big
// enough for branch pages, a value larger than a page (overflow), an inline
// bucket, a nested bucket; it returns the bytes and every key/value.
func sample(t testing.TB, opts *bolt.Options) ([]byte, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := bolt.Open(path, 0o600, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	err = db.Update(func(tx *bolt.Tx) error {
		big, _ := tx.CreateBucket([]byte("big"))
		for i := 0; i < 600; i++ {
			k, v := fmt.Sprintf("k%05d", i), strings.Repeat("v", i%90)
			want["big/"+k] = v
			if err := big.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		huge := strings.Repeat("h", 3*os.Getpagesize())
		want["big/huge"] = huge
		if err := big.Put([]byte("huge"), []byte(huge)); err != nil {
			return err
		}
		small, _ := tx.CreateBucket([]byte("small"))
		want["small/a"] = "1"
		if err := small.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		inner, _ := small.CreateBucket([]byte("inner"))
		want["small/inner/x"] = "y"
		return inner.Put([]byte("x"), []byte("y"))
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, want
}

func open(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCleanFileReadsCompletely(t *testing.T) {
	for name, opts := range map[string]*bolt.Options{"freelist kept": nil, "no freelist": {NoFreelistSync: true}} {
		t.Run(name, func(t *testing.T) {
			data, want := sample(t, opts)
			f := open(t, data)
			got := map[string]string{}
			probs := f.Check(Visitor{KV: func(path [][]byte, _ uint64, k, v []byte) {
				got[string(bytes.Join(path, []byte("/")))+"/"+string(k)] = string(v)
			}})
			if len(probs) > 0 || len(f.MetaProblems) > 0 {
				t.Fatalf("problems in a clean file: %v %v", probs, f.MetaProblems)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d key/values, want %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%s: got %d bytes, want %d", k, len(got[k]), len(v))
				}
			}
		})
	}
}

// pagesOf returns the tree's pages with their parent, and one branch page.
func pagesOf(t *testing.T, f *File, data []byte) (map[uint64]uint64, uint64) {
	parents := map[uint64]uint64{}
	f.Check(Visitor{Page: func(id, parent uint64) { parents[id] = parent }})
	for id := range parents {
		if ne.Uint16(data[int(id)*f.PageSize+8:]) == flagBranch {
			return parents, id
		}
	}
	t.Fatal("no branch page in the sample")
	return nil, 0
}

func TestDamageIsFound(t *testing.T) {
	data, _ := sample(t, &bolt.Options{NoFreelistSync: true})
	f := open(t, data)
	ps := f.PageSize
	parents, branch := pagesOf(t, f, data)
	var leaf uint64
	for id := range parents {
		if ne.Uint16(data[int(id)*ps+8:]) == flagLeaf && id != f.Metas[0].Root {
			leaf = id
			break
		}
	}
	cases := []struct {
		name string
		edit func(b []byte)
		want string
	}{
		{"page header names another page", func(b []byte) { ne.PutUint64(b[int(leaf)*ps:], 0) }, "page header names page 0"},
		{"unknown page type", func(b []byte) { ne.PutUint16(b[int(leaf)*ps+8:], 0x40) }, "page type 0x40"},
		{"element count grown", func(b []byte) { ne.PutUint16(b[int(leaf)*ps+10:], ne.Uint16(b[int(leaf)*ps+10:])+1) }, "want"},
		{"element count shrunk", func(b []byte) { ne.PutUint16(b[int(leaf)*ps+10:], ne.Uint16(b[int(leaf)*ps+10:])-1) }, "a damaged count, size or offset"},
		{"empty page with data", func(b []byte) { ne.PutUint16(b[int(leaf)*ps+10:], 0) }, "an empty page with data in it"},
		{"overflow past the end", func(b []byte) { ne.PutUint32(b[int(leaf)*ps+12:], 1<<30) }, "overflow pages run past the end"},
		{"a loop", func(b []byte) { ne.PutUint64(b[int(branch)*ps+pageHeaderSize+8:], branch) }, "page referenced twice"},
		{"child out of range", func(b []byte) { ne.PutUint64(b[int(branch)*ps+pageHeaderSize+8:], 1<<40) }, "out of range"},
		{"element points past the page", func(b []byte) { ne.PutUint32(b[int(leaf)*ps+pageHeaderSize+4:], 1<<20) }, "points past the end of the page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), data...)
			c.edit(b)
			probs := open(t, b).Check(Visitor{})
			var msgs []string
			for _, p := range probs {
				msgs = append(msgs, p.String())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Fatalf("want a problem with %q, got %q", c.want, msgs)
			}
		})
	}
	// A meta page: bbolt falls back to the other one; so does Open.
	b := append([]byte(nil), data...)
	b[pageHeaderSize+20] ^= 1
	f = open(t, b)
	if len(f.MetaProblems) != 1 || len(f.Metas) != 1 || len(f.Check(Visitor{})) != 0 {
		t.Fatalf("one damaged meta page: %v %v", f.MetaProblems, f.Metas)
	}
	b[ps+pageHeaderSize+20] ^= 1
	if _, err := Open(bytes.NewReader(b), int64(len(b))); err != ErrNotBolt {
		t.Fatalf("both meta pages damaged: %v", err)
	}
}

// TestWalkSkipsDamageAndLeavesFindTheRest: a walk reads what the damage
// spares, and the pages cut off below a damaged branch are found by Leaves
// within the lost key range.
func TestWalkSkipsDamageAndLeavesFindTheRest(t *testing.T) {
	data, want := sample(t, &bolt.Options{NoFreelistSync: true})
	f := open(t, data)
	_, branch := pagesOf(t, f, data)
	b := append([]byte(nil), data...)
	ne.PutUint64(b[int(branch)*f.PageSize:], 0) // the branch page is unreadable
	f = open(t, b)
	used := map[uint64]bool{}
	got := map[string]bool{}
	probs := f.Walk(f.Metas[0], Visitor{
		Page: func(id, _ uint64) { used[id] = true },
		KV: func(path [][]byte, _ uint64, k, v []byte) {
			got[string(bytes.Join(path, []byte("/")))+"/"+string(k)] = true
		},
	})
	if len(probs) == 0 || probs[0].Bucket != "big" || probs[0].Page != int64(branch) {
		t.Fatalf("problems %v", probs)
	}
	if !got["small/inner/x"] || got["big/k00001"] {
		t.Fatalf("walk read %d keys", len(got))
	}
	found := 0
	f.Leaves(f.Metas[0], func(id uint64) bool { return used[id] }, func(_ uint64, k, _ []byte) {
		if want["big/"+string(k)] != "" || string(k) == "k00000" {
			found++
		}
	})
	if found < 500 {
		t.Fatalf("Leaves found %d of the big bucket's keys", found)
	}
}

// FuzzCheck: any bytes, anywhere in a real file; Check, Walk and Leaves
// never panic and never loop.
func FuzzCheck(f *testing.F) {
	data, _ := sample(f, &bolt.Options{NoFreelistSync: true})
	f.Add(uint32(0), []byte{})
	f.Add(uint32(2*os.Getpagesize()+10), []byte{0xff})
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		b := append([]byte(nil), data...)
		copy(b[int(off)%len(b):], patch)
		bf, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		bf.Check(Visitor{})
		for _, m := range bf.Metas {
			bf.Walk(m, Visitor{})
			bf.Leaves(m, func(uint64) bool { return false }, func(uint64, []byte, []byte) {})
		}
	})
}

// TestNoProblemsInFilesBboltWrote: after every one of many random
// transactions (puts, deletes, buckets created and dropped, values from
// empty to several pages), Check finds nothing. A false alarm here would
// make the relay refuse a healthy spool.
func TestNoProblemsInFilesBboltWrote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rnd := rand.New(rand.NewSource(2))
	names := []string{"queue", "seen", "sent", "dead"}
	for txn := 0; txn < 150; txn++ {
		err := db.Update(func(tx *bolt.Tx) error {
			for op := 0; op < 1+rnd.Intn(60); op++ {
				name := []byte(names[rnd.Intn(len(names))])
				b, err := tx.CreateBucketIfNotExists(name)
				if err != nil {
					return err
				}
				k := []byte(fmt.Sprintf("%08d", rnd.Intn(3000)))
				switch r := rnd.Intn(100); {
				case r < 55:
					size := rnd.Intn(300)
					if rnd.Intn(50) == 0 {
						size = rnd.Intn(3 * os.Getpagesize())
					}
					if err := b.Put(k, bytes.Repeat([]byte{byte(r)}, size)); err != nil {
						return err
					}
				case r < 98:
					c := b.Cursor()
					for k2, _ := c.Seek(k); k2 != nil && rnd.Intn(4) != 0; k2, _ = c.Next() {
						if err := c.Delete(); err != nil {
							return err
						}
					}
				case r < 99:
					if err := tx.DeleteBucket(name); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = db.View(func(tx *bolt.Tx) error {
			var buf bytes.Buffer
			if _, err := tx.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			f, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if probs := f.Check(Visitor{}); len(probs) > 0 {
				t.Fatalf("transaction %d: problems in a file bbolt wrote: %v", txn, probs)
			}
			return nil
		})
	}
}
