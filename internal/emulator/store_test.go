package emulator

import (
	"testing"
)

// checkConsistent asserts the store's invariants: every message's contact
// exists, seqs are unique and increasing, and every index (contact, channel,
// mId, the contact list's counts) names exactly the messages a walk finds.
func checkConsistent(t testing.TB, e *Emulator) {
	t.Helper()
	s := e.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.convs) != len(s.contacts) {
		t.Fatalf("%d contact indexes for %d contacts", len(s.convs), len(s.contacts))
	}
	for i, c := range s.contacts {
		k := contactKey{c.ChannelID, c.ID}
		if j, ok := s.cidx[k]; !ok || int(j) != i {
			t.Fatalf("contact index for %v is %d (%v), want %d", k, j, ok, i)
		}
	}
	if len(s.cidx) != len(s.contacts) {
		t.Fatalf("contact index has %d entries for %d contacts", len(s.cidx), len(s.contacts))
	}
	var last int64
	wantConv := make([]conv, len(s.contacts))
	wantChan := map[string][]int32{}
	firstMID := map[contactKey]int32{}
	for i := range s.msgs {
		m := s.viewLocked(int32(i))
		ci, ok := s.cidx[contactKey{m.ChannelID, m.ContactID}]
		if !ok || ci != s.msgs[i].contact {
			t.Fatalf("message %d belongs to unknown contact %q", m.Seq, m.ContactID)
		}
		if m.Seq <= last {
			t.Fatalf("message seq %d after %d", m.Seq, last)
		}
		if m.Seq > s.seq {
			t.Fatalf("message seq %d beyond the store's %d", m.Seq, s.seq)
		}
		last = m.Seq
		if len(m.Timeline) == 0 {
			t.Fatalf("message %d has no timeline", m.Seq)
		}
		cv := &wantConv[ci]
		cv.msgs = append(cv.msgs, int32(i))
		if m.Direction == In {
			cv.in++
			cv.lastIn = m.Seq
		}
		wantChan[m.ChannelID] = append(wantChan[m.ChannelID], int32(i))
		if m.MID != "" {
			k := contactKey{m.ChannelID, m.MID}
			if _, ok := firstMID[k]; !ok {
				firstMID[k] = int32(i)
			}
		}
	}
	for ci, want := range wantConv {
		got := s.convs[ci]
		if !equalIdx(got.msgs, want.msgs) || got.in != want.in || got.lastIn != want.lastIn {
			t.Fatalf("contact %q index %+v, a walk finds %+v", s.contacts[ci].ID, got, want)
		}
	}
	for ch, want := range wantChan {
		if !equalIdx(s.chans[ch], want) {
			t.Fatalf("channel %q index %v, a walk finds %v", ch, s.chans[ch], want)
		}
	}
	n := 0
	for ch, byMID := range s.mids {
		for mid, i := range byMID {
			n++
			if w, ok := firstMID[contactKey{ch, mid}]; !ok || w != i {
				t.Fatalf("mId %q of channel %q indexes message %d, want %d", mid, ch, i, w)
			}
		}
	}
	if n != len(firstMID) {
		t.Fatalf("mId index has %d entries, the messages %d distinct mIds", n, len(firstMID))
	}
	if len(s.warnings) > 2*maxWarnings {
		t.Fatalf("%d warnings kept, cap is %d", len(s.warnings), maxWarnings)
	}
}

func equalIdx(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
