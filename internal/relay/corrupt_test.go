package relay

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/boltfile"
	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
	bolt "go.etcd.io/bbolt"
)

// buildSpool writes a spool as a relay leaves it: queued events over many
// pages, some delivered, one dead, dedupe keys and sent mIds. It returns the
// queued events (mId → body) and all events ever queued. Its last
// transaction changes no queued event, so both meta pages see the same queue.
func buildSpool(t testing.TB, path string, n int) (queued, all map[string]string) {
	t.Helper()
	s, err := OpenSpool(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The same bytes every time: a fixed clock and media key.
	s.now = func() time.Time { return time.UnixMilli(1767225600000) }
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put([]byte("mediaKey"), bytes.Repeat([]byte{7}, 32))
	}); err != nil {
		t.Fatal(err)
	}
	queued, all = map[string]string{}, map[string]string{}
	var recs []*Record
	for i := 0; i < n; i++ {
		mid := fmt.Sprintf("mid-%04d", i)
		body := fmt.Sprintf(`{"i":%d,"text":%q}`, i, strings.Repeat("x", 40+i%200))
		it := Item{Key: "k|" + mid, ContactID: fmt.Sprintf("+6017787%04d", i%13), MID: mid, Kind: "message",
			Build: func(string) ([]byte, error) { return []byte(body), nil }}
		_, rs, err := s.Enqueue([]Item{it})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rs...)
		queued[mid] = body
		all[mid] = body
	}
	for _, r := range recs[:n/10] {
		if err := s.Done(r); err != nil {
			t.Fatal(err)
		}
		delete(queued, r.MID)
	}
	if err := s.Bury(recs[n/10], "platform answered 400"); err != nil {
		t.Fatal(err)
	}
	delete(queued, recs[n/10].MID)
	if err := s.Claim(recs[n/10+1 : n/10+2]); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := s.RecordSent(fmt.Sprintf("out-%d", i), "+60177870000"); err != nil {
			t.Fatal(err)
		}
	}
	return queued, all
}

// layout maps a clean spool: each queued mId's leaf page, and each page's parent.
type layout struct {
	leaf   map[string]uint64
	parent map[uint64]uint64
	pages  int
	ps     int
}

func mapSpool(t testing.TB, data []byte) *layout {
	bf, err := boltfile.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	l := &layout{leaf: map[string]uint64{}, parent: map[uint64]uint64{}, pages: len(data) / bf.PageSize, ps: bf.PageSize}
	probs := bf.Check(boltfile.Visitor{
		Page: func(id, parent uint64) { l.parent[id] = parent },
		KV: func(path [][]byte, page uint64, k, v []byte) {
			if string(path[0]) == "queue" {
				r, err := decodeRecord(k, v)
				if err != nil {
					t.Fatalf("clean spool: %v", err)
				}
				l.leaf[r.MID] = page
			}
		},
	})
	if len(probs) > 0 {
		t.Fatalf("clean spool has problems: %v", probs)
	}
	return l
}

// atRisk: damage to page p can lose mid (its leaf or a page above it).
func (l *layout) atRisk(mid string, p uint64) bool {
	for q := l.leaf[mid]; ; {
		if q == p {
			return true
		}
		par, ok := l.parent[q]
		if !ok || par == 0 {
			return false
		}
		q = par
	}
}

// TestCorruptSpool flips or zeroes bytes at many offsets of every page of a
// real spool file, and asserts for each: nothing panics (check, status,
// open, Pending, salvage); a refusal is a *CorruptError naming the file and
// the way out; a spool that opens never yields a damaged record and loses
// only events on the damaged page; damage the tree does not reach changes
// nothing; salvage always succeeds and keeps every event not on the damaged page.
func TestCorruptSpool(t *testing.T) {
	spoolNoSync = true
	defer func() { spoolNoSync = false }()
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	queued, all := buildSpool(t, clean, 300)
	data, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	l := mapSpool(t, data)
	rnd := rand.New(rand.NewSource(1))
	type damage struct {
		off  int
		zero bool
	}
	var cases []damage
	for p := 0; p < l.pages; p++ {
		offs := []int{0, 8, 10, 11, 12, 16, 20, 24, 28, 33, 48, 100, l.ps / 2, l.ps - 1, rnd.Intn(l.ps)}
		if _, used := l.parent[uint64(p)]; !used && p >= 2 {
			offs = []int{10, rnd.Intn(l.ps)} // free pages: a sample is enough
		}
		for i, o := range offs {
			cases = append(cases, damage{p*l.ps + o, i%3 == 2})
		}
	}
	var refused, opened, quarantined, salvaged, lost, resurrected, fromFree int
	for i, c := range cases {
		page := uint64(c.off / l.ps)
		bad := append([]byte(nil), data...)
		what := fmt.Sprintf("flip byte %d (page %d)", c.off, page)
		if c.zero {
			what = fmt.Sprintf("zero bytes %d+8 (page %d)", c.off, page)
			for j := c.off; j < c.off+8 && j < len(bad); j++ {
				bad[j] = 0
			}
		} else {
			bad[c.off] ^= 0xff
		}
		path := filepath.Join(dir, fmt.Sprintf("c%d.db", i))
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		noPanic := func(step string, fn func()) {
			t.Helper()
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: %s panicked: %v", what, step, r)
				}
			}()
			fn()
		}
		refusal := func(step string, err error) {
			t.Helper()
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "ccx relay spool salvage") {
				t.Errorf("%s: %s: want a *CorruptError naming the file and salvage, got %T %v", what, step, err, err)
			}
		}
		_, reachable := l.parent[page]
		var rep *CheckReport
		noPanic("check", func() {
			if rep, err = CheckSpool(path); err != nil {
				t.Errorf("%s: check: %v", what, err)
			}
		})
		if rep == nil {
			continue
		}
		if !reachable && page >= 2 && !rep.Clean() {
			t.Errorf("%s: a page the tree does not use, but check reports %v %v", what, rep.Problems, rep.Warnings)
		}
		noPanic("status", func() {
			if _, err := ReadStats(path); err != nil {
				refusal("status", err)
			}
		})
		noPanic("open", func() {
			s, err := OpenSpool(path, Limits{})
			if err != nil {
				refused++
				refusal("open", err)
				if len(rep.Problems) == 0 || page < 2 || !reachable {
					t.Errorf("%s: open refused (%v), but check found no problem or the page is not in use", what, err)
				}
				return
			}
			defer s.Close()
			opened++
			if len(rep.Problems) > 0 {
				t.Errorf("%s: check found problems %v, but open accepted the file", what, rep.Problems)
			}
			pending, err := s.Pending()
			if err != nil {
				t.Errorf("%s: Pending: %v", what, err)
				return
			}
			got := map[string]bool{}
			for _, r := range pending {
				if queued[r.MID] != string(r.Body) {
					t.Errorf("%s: Pending returned a damaged record %q %s", what, r.MID, r.Body)
				}
				got[r.MID] = true
			}
			for mid := range queued {
				if !got[mid] && !l.atRisk(mid, page) {
					t.Errorf("%s: open lost %s, which is not on the damaged page", what, mid)
				}
			}
			if st := s.Stats(); st.Bad > 0 {
				quarantined++
			}
		})
		out := filepath.Join(dir, fmt.Sprintf("s%d.db", i))
		if err := os.WriteFile(path, bad, 0o600); err != nil { // open may have quarantined
			t.Fatal(err)
		}
		noPanic("salvage", func() {
			srep, err := Salvage(path, out, false)
			if err != nil {
				t.Errorf("%s: salvage: %v", what, err)
				return
			}
			salvaged++
			fromFree += int(srep.FromFreePages)
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: salvaged file: %v %v", what, fi.Mode(), err)
			}
			crep, err := CheckSpool(out)
			if err != nil || len(crep.Problems) > 0 {
				t.Errorf("%s: the salvaged spool: %v %v", what, crep, err)
				return
			}
			s, err := OpenSpool(out, Limits{})
			if err != nil {
				t.Errorf("%s: open the salvaged spool: %v", what, err)
				return
			}
			defer s.Close()
			pending, _ := s.Pending()
			got := map[string]bool{}
			for _, r := range pending {
				if all[r.MID] != string(r.Body) {
					t.Errorf("%s: salvage kept a damaged record %q", what, r.MID)
				}
				if _, ok := queued[r.MID]; !ok {
					resurrected++ // an older copy of a delivered event, from a free page: same mId
					if srep.FromFreePages == 0 {
						t.Errorf("%s: salvage brought back delivered %q, but reports no event from free pages", what, r.MID)
					}
				}
				got[r.MID] = true
			}
			for mid := range queued {
				if !got[mid] {
					lost++
					if !l.atRisk(mid, page) {
						t.Errorf("%s: salvage lost %s, which is not on the damaged page (report %+v)", what, mid, srep)
					}
				}
			}
		})
		os.Remove(path)
		os.Remove(out)
	}
	t.Logf("%d damaged copies of a %d-page spool (%d queued): %d refused with a CorruptError, %d opened (%d with quarantined records), "+
		"%d salvaged (%d events lost in all, each on its damaged page; %d found on free pages, of which %d delivered before)",
		len(cases), l.pages, len(queued), refused, opened, quarantined, salvaged, lost, fromFree, resurrected)
	if refused == 0 || opened == 0 || quarantined == 0 {
		t.Errorf("the cases should cover refusal, opening and quarantine: %d %d %d", refused, opened, quarantined)
	}
}

// TestUnreadableRecordIsQuarantined: one queued entry that cannot be read
// (garbage value, short key) goes to the bad bucket; the rest are returned
// in order, and the counters say so.
func TestUnreadableRecordIsQuarantined(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSpool(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*Record
	for _, mid := range []string{"a", "b", "c"} {
		_, rs, err := s.Enqueue([]Item{item("k"+mid, "+1", mid, 0)})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rs...)
	}
	// Damage b's value in place and add an entry with a short key.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket(bQueue)
		v := append([]byte(nil), q.Get(seqKey(recs[1].Seq))...)
		v[3] ^= 0x20
		if err := q.Put(seqKey(recs[1].Seq), v); err != nil {
			return err
		}
		if err := q.Put([]byte("xyz"), []byte(`{"mId":"z","body":{}}`)); err != nil {
			return err
		}
		// A record from before the checksum is still read.
		return q.Put(seqKey(99), []byte(`{"body":{"x":1},"mId":"old","contactId":"+1","kind":"message","enqueued":1}`))
	}); err != nil {
		t.Fatal(err)
	}
	s.depth.Add(2)
	pending, err := s.Pending()
	if err != nil || len(pending) != 3 || pending[0].MID != "a" || pending[1].MID != "c" || pending[2].MID != "old" {
		t.Fatalf("pending %v %v", pending, err)
	}
	if st := s.Stats(); st.Bad != 2 || st.Depth != 3 {
		t.Fatalf("stats %+v", st)
	}
	s.Close()
	st, err := ReadStats(path)
	if err != nil || st.Bad != 2 || st.Depth != 3 {
		t.Fatalf("ReadStats %+v %v", st, err)
	}
	// What was quarantined is kept as found, with the reason.
	s, err = OpenSpool(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.view(func(tx *bolt.Tx) error {
		var br badRecord
		if err := json.Unmarshal(tx.Bucket(bBad).Get(seqKey(recs[1].Seq)), &br); err != nil || !strings.Contains(br.Reason, "checksum") || len(br.Value) == 0 {
			t.Errorf("bad record %+v %v", br, err)
		}
		return nil
	})
}

// TestEngineDeliversAroundAnUnreadableRecord: a relay restarted on a spool
// with one damaged event quarantines it, delivers the others, and says so
// in its metrics and status.
func TestEngineDeliversAroundAnUnreadableRecord(t *testing.T) {
	var spool string
	r := newRig(t, loopback.New(), channel.IDPhone, func(o *Options) {
		spool = filepath.Join(t.TempDir(), "s.db")
		s, err := OpenSpool(spool, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for i, text := range []string{"one", "two", "three"} {
			mid := fmt.Sprintf("m%d", i)
			ev := channel.Event{Type: channel.EventMessage, MID: mid, Timestamp: 1700000000000, Message: &channel.Message{Type: "text", Text: text}}
			body, _ := json.Marshal(channel.NewWebhook(o.ChannelID, "+60177872890", nil, ev))
			_, rs, err := s.Enqueue([]Item{{Key: mid, ContactID: "+60177872890", MID: mid, Kind: "message",
				Build: func(string) ([]byte, error) { return body, nil }}})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, rs[0].Seq)
		}
		if err := s.db.Update(func(tx *bolt.Tx) error {
			q := tx.Bucket(bQueue)
			v := append([]byte(nil), q.Get(seqKey(seqs[1]))...)
			v[len(v)/2] ^= 0x01
			return q.Put(seqKey(seqs[1]), v)
		}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		o.SpoolPath = spool
	})
	waitFor(t, "the two readable events", func() bool { return len(r.inbound()) == 2 })
	if got := r.inbound(); got[0].Content.Text != "one" || got[1].Content.Text != "three" {
		t.Fatalf("delivered %+v", got)
	}
	if st := r.eng.Spool().Stats(); st.Bad != 1 {
		t.Fatalf("stats %+v", st)
	}
	mfs, err := r.eng.met.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var bad float64 = -1
	for _, mf := range mfs {
		if mf.GetName() == "ccx_relay_spool_bad" {
			bad = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if bad != 1 {
		t.Fatalf("ccx_relay_spool_bad = %v, want 1", bad)
	}
}

// TestBranchKeyBelowItsChildIsRefused: the fuzzer's find. A branch key
// lowered below its child's first key still looks ordered (bbolt's own
// check accepts it), but bbolt's next write there looks the child up by
// that key and corrupts the tree. The spool must be refused instead.
func TestBranchKeyBelowItsChildIsRefused(t *testing.T) {
	spoolNoSync = true
	defer func() { spoolNoSync = false }()
	path := filepath.Join(t.TempDir(), "s.db")
	buildSpool(t, path, 100)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := mapSpool(t, data)
	var branch uint64
	for _, p := range l.parent {
		if p != 0 && data[int(p)*l.ps+8] == 0x01 {
			branch = p
		}
	}
	if branch == 0 {
		t.Fatal("no branch page in the queue")
	}
	// Element 0's key (8 bytes: a sequence number) becomes 1.
	e := int(branch)*l.ps + 16
	pos := int(binary.NativeEndian.Uint32(data[e:]))
	binary.BigEndian.PutUint64(data[e+pos:], 1)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, err := OpenSpool(path, Limits{}); !errors.As(err, &ce) {
		t.Fatalf("open: %v, want a *CorruptError", err)
	}
}
