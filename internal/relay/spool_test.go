package relay

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func item(key, contact, mid string, rank int) Item {
	return Item{Key: key, ContactID: contact, MID: mid, Kind: "message", StatusRank: rank,
		Build: func(c string) ([]byte, error) { return json.Marshal(map[string]string{"c": c, "m": mid}) }}
}

func TestSpoolDedupeOrderAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSpool(path, Limits{MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	outs, recs, err := s.Enqueue([]Item{item("k1", "+1", "m1", 0), item("k1", "+1", "m1", 0), item("k2", "+1", "m2", 0)})
	if err != nil || len(recs) != 2 || outs[0] != Queued || outs[1] != Duplicate || outs[2] != Queued {
		t.Fatalf("%v %d %v", outs, len(recs), err)
	}
	// Status ordering: delivered, then sent (older) is skipped, then read.
	if err := s.RecordSent("sm1", "+2"); err != nil {
		t.Fatal(err)
	}
	o, _, _ := s.Enqueue([]Item{item("s-d", "", "sm1", 3)})
	o2, _, _ := s.Enqueue([]Item{item("s-s", "", "sm1", 1)})
	o3, r3, _ := s.Enqueue([]Item{item("s-r", "", "sm1", 4)})
	if o[0] != Queued || o2[0] != Skipped || o3[0] != Queued || r3[0].ContactID != "+2" {
		t.Fatalf("status order: %v %v %v", o, o2, o3)
	}
	// Unknown mId and no contact: nothing to address it to.
	if o, _, _ := s.Enqueue([]Item{item("s-x", "", "nope", 1)}); o[0] != Skipped {
		t.Fatalf("unknown mId: %v", o)
	}
	if err := s.Done(recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Bury(recs[1], "400"); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Depth != 2 || st.Dead != 1 || st.Delivered != 1 || st.DedupeKeys != 6 {
		t.Fatalf("stats %+v", st)
	}
	s.Close()
	// Read-only stats of a closed spool, then reopen: the same state.
	rs, err := ReadStats(path)
	if err != nil || rs.Depth != 2 || rs.Dead != 1 || rs.Delivered != 1 || rs.Oldest == nil {
		t.Fatalf("ReadStats %+v %v", rs, err)
	}
	s, err = OpenSpool(path, Limits{MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Pending()
	if err != nil || len(p) != 2 || p[0].MID != "sm1" {
		t.Fatalf("pending %+v %v", p, err)
	}
	if o, _, _ := s.Enqueue([]Item{item("k2", "+1", "m2", 0)}); o[0] != Duplicate {
		t.Fatal("dedupe keys must survive a restart")
	}
	if _, err := ReadStats(path); err == nil {
		t.Fatal("ReadStats must refuse a spool a relay holds")
	}
}

func TestSpoolBoundsAndPrune(t *testing.T) {
	s, err := OpenSpool(filepath.Join(t.TempDir(), "s.db"), Limits{MaxEntries: 2, Window: time.Hour, MaxKeys: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Enqueue([]Item{item("a", "+1", "a", 0), item("b", "+1", "b", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Enqueue([]Item{item("c", "+1", "c", 0)}); !errors.Is(err, ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	// Two hours later the keys are out of the window; MaxKeys trims too.
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if err := s.Prune(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.DedupeKeys != 0 {
		t.Fatalf("keys after prune: %+v", st)
	}
}

// TestInFlightIsCountedAfterACrash: events marked in flight and never
// marked done (the process died) are counted as redelivered at the next
// open, and only those.
func TestInFlightIsCountedAfterACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSpool(path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := s.Enqueue([]Item{item("a", "+1", "a", 0), item("b", "+1", "b", 0), item("c", "+1", "c", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Claim(recs[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(recs[0]); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.InFlight != 1 || st.Depth != 2 || st.Redelivered != 0 {
		t.Fatalf("stats %+v", st)
	}
	s.Close() // as a crash would leave it: b in flight
	for round, want := range []int64{1, 2} {
		s, err = OpenSpool(path, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); s.InDoubt() != 1 || st.InFlight != 1 || st.Redelivered != want {
			t.Fatalf("reopen %d: in doubt %d, stats %+v", round, s.InDoubt(), st)
		}
		s.Close()
	}
	s, _ = OpenSpool(path, Limits{})
	defer s.Close()
	p, _ := s.Pending()
	if err := s.Done(p[0]); err != nil || p[0].MID != "b" {
		t.Fatal(p[0].MID, err)
	}
	if st := s.Stats(); st.InFlight != 0 || st.Depth != 1 || st.Delivered != 2 {
		t.Fatalf("after delivery: %+v", st)
	}
}
