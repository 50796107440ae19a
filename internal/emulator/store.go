package emulator

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// store holds the state behind one mutex. Messages are kept compact (rec:
// contact by index, enums by symbol, a timeline only once it has more than
// its first entry) and indexed by contact, channel and mId, so that views
// of one conversation or one page never walk or copy the whole state.
// Every mutation goes through it, so the invariants (each message's contact
// exists; an mId maps to exactly one message per channel) hold after any
// request, however malformed.
type store struct {
	mu       sync.Mutex
	version  int
	seq      int64
	contacts []Contact
	convs    []conv                      // parallel to contacts
	cidx     map[contactKey]int32        // → index into contacts
	msgs     []rec                       // arrival order (seq increases)
	chans    map[string][]int32          // channel → indexes into msgs
	mids     map[string]map[string]int32 // channel → mId → index into msgs (the first with it)
	warnings []Warning
	syms     symtab
	gen      uint64 // bumped by reset: a walk that sees it change stops
	dirty    bool
	now      func() time.Time
	// outgoing counts the /message calls in flight per channel; outChanged
	// is closed (and replaced) whenever one ends or stores its mId, waking
	// receipts held for an mId not known yet (awaitMIDs).
	outgoing   map[string]int
	outChanged chan struct{}
	onHold     func() // tests: a receipt starts waiting for its mId
}

type contactKey struct{ channel, id string }

// conv is a contact's index: its messages and what the inbox's contact list shows.
type conv struct {
	msgs   []int32 // indexes into store.msgs, arrival order
	in     int32   // incoming messages
	lastIn int64   // seq of the last incoming message
}

// rec is one stored message; view turns it back into a Message.
type rec struct {
	seq, ts                  int64
	contact                  int32
	dir, origin, status, typ uint32 // symbols
	mid                      string
	text                     string           // the content when it is {type, text} only
	content                  *channel.Message // any other content
	reason                   string
	timeline                 []StatusChange // nil: the one applied entry {status, reason, ts}
	reply                    *ReplyInfo
}

// symtab interns the few distinct strings of the enum-like fields.
type symtab struct {
	ids  map[string]uint32
	strs []string
}

func (t *symtab) id(s string) uint32 {
	if i, ok := t.ids[s]; ok {
		return i
	}
	if t.ids == nil {
		t.ids = map[string]uint32{}
	}
	t.ids[s] = uint32(len(t.strs))
	t.strs = append(t.strs, s)
	return uint32(len(t.strs) - 1)
}

func newStore(st State, now func() time.Time) *store {
	s := &store{now: now, outgoing: map[string]int{}, outChanged: make(chan struct{})}
	s.resetLocked()
	if st.Version != 0 {
		s.version = st.Version
	}
	s.seq = st.Seq
	for _, c := range st.Contacts {
		s.addContactLocked(c)
	}
	for _, m := range st.Messages {
		s.loadMessageLocked(m)
	}
	s.warnings = st.Warnings
	return s
}

func (s *store) resetLocked() {
	s.version, s.seq = StateVersion, 0
	s.contacts, s.convs, s.msgs, s.warnings = nil, nil, nil, nil
	s.cidx = map[contactKey]int32{}
	s.chans = map[string][]int32{}
	s.mids = map[string]map[string]int32{}
	s.gen++
	for _, v := range []string{"", string(In), string(Out), string(OriginContact), string(OriginEcho), string(OriginPlatform),
		string(StatusReceived), string(channel.StatusSent), string(channel.StatusDelivered), string(channel.StatusRead), string(channel.StatusFailed),
		string(channel.MessageText), string(channel.MessageAttachment), string(channel.MessageLocation), string(channel.MessageQuickReply), string(channel.MessageCustomPayload)} {
		s.syms.id(v)
	}
}

func (s *store) addContactLocked(c Contact) int32 {
	i := int32(len(s.contacts))
	s.contacts = append(s.contacts, c)
	s.convs = append(s.convs, conv{})
	s.cidx[contactKey{c.ChannelID, c.ID}] = i
	return i
}

// loadMessageLocked adds a message of a loaded state (its contact exists:
// checkState made sure; one that does not is dropped rather than breaking
// the indexes).
func (s *store) loadMessageLocked(m Message) {
	ci, ok := s.cidx[contactKey{m.ChannelID, m.ContactID}]
	if !ok {
		return
	}
	if m.Seq > s.seq {
		s.seq = m.Seq
	}
	s.appendLocked(ci, m)
}

// appendLocked packs m and indexes it.
func (s *store) appendLocked(ci int32, m Message) int32 {
	r := rec{seq: m.Seq, ts: m.Timestamp, contact: ci,
		dir: s.syms.id(string(m.Direction)), origin: s.syms.id(string(m.Origin)), status: s.syms.id(string(m.Status)), typ: s.syms.id(string(m.Type)),
		mid: m.MID, reason: m.Reason, reply: m.Reply}
	c := m.Content
	if c.Type == m.Type && c.Attachment == nil && c.Latitude == nil && c.Longitude == nil && c.Address == "" && c.Title == "" && c.Replies == nil && c.Payload == nil {
		r.text = c.Text
	} else {
		r.content = &c
	}
	if !(len(m.Timeline) == 1 && m.Timeline[0] == StatusChange{Status: m.Status, Reason: m.Reason, Timestamp: m.Timestamp, Applied: true}) {
		r.timeline = append([]StatusChange{}, m.Timeline...)
	}
	i := int32(len(s.msgs))
	s.msgs = append(s.msgs, r)
	cv := &s.convs[ci]
	cv.msgs = append(cv.msgs, i)
	if m.Direction == In {
		cv.in++
		cv.lastIn = m.Seq
	}
	ch := m.ChannelID
	s.chans[ch] = append(s.chans[ch], i)
	if m.MID != "" {
		byMID := s.mids[ch]
		if byMID == nil {
			byMID = map[string]int32{}
			s.mids[ch] = byMID
		}
		if _, dup := byMID[m.MID]; !dup {
			byMID[m.MID] = i
		}
	}
	return i
}

// viewLocked is message i as a Message the caller owns (the timeline is
// its own; content slices are shared, and never mutated after storing).
func (s *store) viewLocked(i int32) Message {
	r := &s.msgs[i]
	c := &s.contacts[r.contact]
	m := Message{Seq: r.seq, ChannelID: c.ChannelID, ContactID: c.ID, MID: r.mid,
		Direction: Direction(s.syms.strs[r.dir]), Origin: Origin(s.syms.strs[r.origin]), Type: channel.MessageType(s.syms.strs[r.typ]),
		Timestamp: r.ts, Status: channel.StatusValue(s.syms.strs[r.status]), Reason: r.reason, Reply: r.reply}
	if r.content != nil {
		m.Content = *r.content
	} else {
		m.Content = channel.Message{Type: m.Type, Text: r.text}
	}
	if r.timeline != nil {
		m.Timeline = append([]StatusChange{}, r.timeline...)
	} else {
		m.Timeline = []StatusChange{{Status: m.Status, Reason: m.Reason, Timestamp: m.Timestamp, Applied: true}}
	}
	return m
}

// change is what one mutation produced, for the event stream.
type change struct {
	contacts []Contact
	messages []Message // stored or updated messages (copies)
	statuses []Message // messages whose status moved (copies)
	warnings []Warning
}

func (s *store) warnLocked(ch *change, w Warning) {
	w.Time = s.now().UTC()
	s.warnings = append(s.warnings, w)
	// Trim in batches (amortised O(1)); snapshots show the last maxWarnings.
	if n := len(s.warnings); n > 2*maxWarnings {
		s.warnings = append(s.warnings[:0:0], s.warnings[n-maxWarnings:]...)
	}
	ch.warnings = append(ch.warnings, w)
}

// touchContactLocked finds or creates the contact; profile is only used at
// creation (spec §2.7: contact{} is a creation-time hint).
func (s *store) touchContactLocked(ch *change, channelID, contactID string, profile *channel.Contact) int32 {
	now := s.now().UTC()
	if i, ok := s.cidx[contactKey{channelID, contactID}]; ok {
		s.contacts[i].LastActivity = now
		return i
	}
	c := Contact{ChannelID: channelID, ID: contactID, CreatedAt: now, LastActivity: now}
	if profile != nil && !profile.IsZero() {
		p := *profile
		c.Profile = &p
	}
	ch.contacts = append(ch.contacts, c)
	return s.addContactLocked(c)
}

func (s *store) hasContact(channelID, contactID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.cidx[contactKey{channelID, contactID}]
	return ok
}

// latestContact is the channel's most recently active contact.
func (s *store) latestContact(channelID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *Contact
	for i := range s.contacts {
		c := &s.contacts[i]
		if c.ChannelID == channelID && (best == nil || !c.LastActivity.Before(best.LastActivity)) {
			best = c
		}
	}
	if best == nil {
		return "", false
	}
	return best.ID, true
}

func (s *store) midLocked(channelID, mid string) (int32, bool) {
	i, ok := s.mids[channelID][mid]
	return i, ok
}

// applyWebhook stores one validated webhook post. It trusts nothing: the
// validator may be lenient, so every field is checked again before use.
func (s *store) applyWebhook(channelID string, wh *channel.Webhook) change {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch change
	for i, ev := range wh.Events {
		switch ev.Type {
		case channel.EventMessage, channel.EventEcho:
			if ev.Message == nil || ev.MID == "" || wh.ContactID == "" {
				s.warnLocked(&ch, Warning{ChannelID: channelID, ContactID: wh.ContactID, MID: ev.MID, Rule: WarnMalformedEvent,
					Message: fmt.Sprintf("events[%d]: %s event without mId or message was ignored", i, ev.Type)})
				continue
			}
			s.storeEventLocked(&ch, channelID, wh, ev)
		case channel.EventStatus:
			if ev.Status == nil || ev.MID == "" {
				s.warnLocked(&ch, Warning{ChannelID: channelID, ContactID: wh.ContactID, MID: ev.MID, Rule: WarnMalformedEvent,
					Message: fmt.Sprintf("events[%d]: message_status without mId or status was ignored", i)})
				continue
			}
			s.applyStatusLocked(&ch, channelID, wh.ContactID, ev)
		default:
			s.warnLocked(&ch, Warning{ChannelID: channelID, ContactID: wh.ContactID, MID: ev.MID, Rule: WarnMalformedEvent,
				Message: fmt.Sprintf("events[%d]: unknown event type %q was ignored", i, ev.Type)})
		}
	}
	if len(ch.contacts)+len(ch.messages)+len(ch.statuses)+len(ch.warnings) > 0 {
		s.dirty = true
	}
	return ch
}

func (s *store) storeEventLocked(ch *change, channelID string, wh *channel.Webhook, ev channel.Event) {
	if _, dup := s.midLocked(channelID, ev.MID); dup {
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: wh.ContactID, MID: ev.MID, Rule: WarnDuplicateMID,
			Message: fmt.Sprintf("mId %q was already stored; the repeated %s was ignored", ev.MID, ev.Type)})
		return
	}
	ci := s.touchContactLocked(ch, channelID, wh.ContactID, wh.Contact)
	c := &s.contacts[ci] // the contact's strings, shared by its messages
	m := Message{ChannelID: c.ChannelID, ContactID: c.ID, MID: ev.MID, Type: ev.Message.Type,
		Content: *ev.Message, Timestamp: ev.Timestamp}
	if ev.Type == channel.EventEcho {
		// An echo is the business writing through another path: outgoing,
		// already sent, never delivered again (spec §2.5).
		m.Direction, m.Origin, m.Status = Out, OriginEcho, channel.StatusSent
	} else {
		m.Direction, m.Origin, m.Status = In, OriginContact, StatusReceived
	}
	m.Timeline = []StatusChange{{Status: m.Status, Timestamp: ev.Timestamp, Applied: true}}
	s.addMessageLocked(ch, ci, m)
}

func (s *store) addMessageLocked(ch *change, ci int32, m Message) Message {
	s.seq++
	m.Seq = s.seq
	s.appendLocked(ci, m)
	ch.messages = append(ch.messages, cloneMessage(m))
	return m
}

// statusRank orders the forward statuses; failed is terminal and handled apart.
func statusRank(v channel.StatusValue) int {
	switch v {
	case channel.StatusSent:
		return 1
	case channel.StatusDelivered:
		return 2
	case channel.StatusRead:
		return 3
	}
	return 0
}

// applyStatusLocked moves a message's status. Every receipt is recorded in
// the timeline; it only becomes the current status when it moves forward
// (sent → delivered → read) or fails a message not yet failed.
func (s *store) applyStatusLocked(ch *change, channelID, contactID string, ev channel.Event) {
	i, ok := s.midLocked(channelID, ev.MID)
	if !ok {
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnUnknownMID,
			Message: fmt.Sprintf("message_status %q for unknown mId %q: no stored message has it (was it returned by your /message endpoint?)", ev.Status.Value, ev.MID)})
		return
	}
	m := s.viewLocked(i)
	if m.ContactID != contactID {
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnStatusContact,
			Message: fmt.Sprintf("message_status for mId %q names contact %q, but the message belongs to %q", ev.MID, contactID, m.ContactID)})
	}
	sc := StatusChange{Status: ev.Status.Value, Reason: ev.Status.Message, Timestamp: ev.Timestamp}
	next, cur := ev.Status.Value, m.Status
	switch {
	case m.Direction == In:
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnStatusIncoming,
			Message: fmt.Sprintf("message_status %q for mId %q, a message the contact sent: receipts apply to outgoing messages; ignored", next, ev.MID)})
	case cur == channel.StatusFailed:
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnStatusAfterFail,
			Message: fmt.Sprintf("message_status %q for mId %q after it failed: failed is final; recorded, not applied", next, ev.MID)})
	case next == channel.StatusFailed:
		sc.Applied = true
	case statusRank(next) == 0:
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnMalformedEvent,
			Message: fmt.Sprintf("unknown status %q for mId %q; recorded, not applied", next, ev.MID)})
	case statusRank(next) < statusRank(cur):
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnStatusBackwards,
			Message: fmt.Sprintf("message_status for mId %q moves backwards from %q to %q; recorded, not applied", ev.MID, cur, next)})
	default:
		sc.Applied = true
	}
	m.Timeline = append(m.Timeline, sc)
	r := &s.msgs[i]
	r.timeline = m.Timeline
	if sc.Applied {
		m.Status, m.Reason = next, ev.Status.Message
		r.status, r.reason = s.syms.id(string(next)), m.Reason
	}
	s.contacts[r.contact].LastActivity = s.now().UTC()
	ch.statuses = append(ch.statuses, cloneMessage(m))
}

// addOutgoing stores the outcome of an outgoing call.
func (s *store) addOutgoing(m Message) (Message, change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch change
	ci := s.touchContactLocked(&ch, m.ChannelID, m.ContactID, nil)
	m.ChannelID, m.ContactID = s.contacts[ci].ChannelID, s.contacts[ci].ID
	if m.MID != "" {
		if _, dup := s.midLocked(m.ChannelID, m.MID); dup {
			s.warnLocked(&ch, Warning{ChannelID: m.ChannelID, ContactID: m.ContactID, MID: m.MID, Rule: WarnDuplicateMID,
				Message: fmt.Sprintf("your /message endpoint returned mId %q, which an earlier message already has; receipts will go to the earlier one", m.MID)})
		}
	}
	m = s.addMessageLocked(&ch, ci, m)
	s.dirty = true
	s.wakeLocked()
	return cloneMessage(m), ch
}

// beginOutgoing counts a /message call in flight; call the returned func
// once its outcome is stored.
func (s *store) beginOutgoing(channelID string) (end func()) {
	s.mu.Lock()
	s.outgoing[channelID]++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.outgoing[channelID]--; s.outgoing[channelID] <= 0 {
			delete(s.outgoing, channelID)
		}
		s.wakeLocked()
	}
}

func (s *store) wakeLocked() {
	close(s.outChanged)
	s.outChanged = make(chan struct{})
}

// awaitMIDs holds a receipt whose mId is not known yet while a /message
// call of its channel is in flight (its reply may carry that mId): until
// every mId is known, no call is in flight, done closes or max passes. It
// returns the mIds that became known while it waited.
func (s *store) awaitMIDs(done <-chan struct{}, channelID string, mids []string, max time.Duration) (late []string) {
	var timeout <-chan time.Time
	var unknown []string
	for {
		s.mu.Lock()
		unknown = unknown[:0]
		for _, mid := range mids {
			if _, ok := s.midLocked(channelID, mid); !ok {
				unknown = append(unknown, mid)
			}
		}
		if late == nil {
			late = append([]string{}, unknown...) // unknown on arrival
		}
		if len(unknown) == 0 || s.outgoing[channelID] == 0 {
			s.mu.Unlock()
			break
		}
		wake := s.outChanged
		s.mu.Unlock()
		if timeout == nil {
			if s.onHold != nil {
				s.onHold()
			}
			t := time.NewTimer(max)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-wake:
			continue
		case <-timeout:
		case <-done:
		}
		break
	}
	// late: unknown on arrival, known now.
	out := late[:0]
	for _, mid := range late {
		if !containsStr(unknown, mid) {
			out = append(out, mid)
		}
	}
	return out
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (s *store) addWarning(w Warning) change {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch change
	s.warnLocked(&ch, w)
	s.dirty = true
	return ch
}

func (s *store) messageByMID(channelID, mid string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.midLocked(channelID, mid)
	if !ok {
		return Message{}, false
	}
	return s.viewLocked(i), true
}

// snapshot is a deep copy of the whole state (the library's State; the HTTP
// API and the state file stream instead, see writeState).
func (s *store) snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Version: s.version, Seq: s.seq,
		Contacts: make([]Contact, len(s.contacts)),
		Messages: make([]Message, len(s.msgs)),
		Warnings: append([]Warning{}, lastWarnings(s.warnings)...)}
	for i := range s.contacts {
		st.Contacts[i] = cloneContact(s.contacts[i])
	}
	for i := range s.msgs {
		st.Messages[i] = s.viewLocked(int32(i))
	}
	return st
}

func (s *store) warningsCopy() []Warning {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Warning{}, lastWarnings(s.warnings)...)
}

func cloneContact(c Contact) Contact {
	if c.Profile != nil {
		p := *c.Profile
		c.Profile = &p
	}
	return c
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.dirty = true
	s.wakeLocked()
}

// takeDirty reports whether something changed since the last call.
func (s *store) takeDirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirty
	s.dirty = false
	return d
}

func (s *store) markDirty() {
	s.mu.Lock()
	s.dirty = true
	s.mu.Unlock()
}

// cloneMessage copies the slices a caller could otherwise mutate under us.
// Content is shared by value; its slices are never mutated after storing.
func cloneMessage(m Message) Message {
	m.Timeline = append([]StatusChange(nil), m.Timeline...)
	return m
}

// Filter selects messages.
type Filter struct {
	ChannelID string
	ContactID string
}

func (f Filter) contact(c *Contact) bool {
	return (f.ChannelID == "" || c.ChannelID == f.ChannelID) && (f.ContactID == "" || c.ID == f.ContactID)
}

// selectLocked is the indexes of the messages f matches, in arrival order;
// all means every message (idx is nil then). The slice is shared with the
// store: its first len() entries are never written again, so it may be read
// after unlocking.
func (s *store) selectLocked(f Filter) (idx []int32, all bool) {
	switch {
	case f.ContactID == "" && f.ChannelID == "":
		return nil, true
	case f.ContactID == "":
		return s.chans[f.ChannelID], false
	case f.ChannelID != "":
		if ci, ok := s.cidx[contactKey{f.ChannelID, f.ContactID}]; ok {
			return s.convs[ci].msgs, false
		}
		return nil, false
	}
	// One contact ID on every channel: merge its conversations by seq.
	var lists [][]int32
	for ch := range s.chans {
		if ci, ok := s.cidx[contactKey{ch, f.ContactID}]; ok {
			lists = append(lists, s.convs[ci].msgs)
		}
	}
	if len(lists) == 1 {
		return lists[0], false
	}
	for _, l := range lists {
		idx = append(idx, l...)
	}
	// Indexes into msgs follow arrival order, so sorting them sorts by seq.
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	return idx, false
}

// messages returns the messages f matches in arrival order.
func (s *store) messages(f Filter) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, all := s.selectLocked(f)
	n := len(idx)
	if all {
		n = len(s.msgs)
	}
	out := make([]Message, 0, n)
	for k := 0; k < n; k++ {
		i := int32(k)
		if !all {
			i = idx[k]
		}
		out = append(out, s.viewLocked(i))
	}
	return out
}

// Page is one page of a paginated list; Next is the cursor of the next
// (older) page, "" on the last one.
type Page[T any] struct {
	Items []T
	Next  string
}

// messagePage returns up to limit messages f matches with seq < before (0:
// the newest), in arrival order. Seqs only grow, so paging back with Next
// while messages arrive neither skips nor repeats one.
func (s *store) messagePage(f Filter, limit int, before int64) Page[Message] {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, all := s.selectLocked(f)
	n := len(idx)
	if all {
		n = len(s.msgs)
	}
	at := func(k int) int32 {
		if all {
			return int32(k)
		}
		return idx[k]
	}
	end := n
	if before > 0 {
		end = sort.Search(n, func(k int) bool { return s.msgs[at(k)].seq >= before })
	}
	start := max(end-limit, 0)
	p := Page[Message]{Items: make([]Message, 0, end-start)}
	for k := start; k < end; k++ {
		p.Items = append(p.Items, s.viewLocked(at(k)))
	}
	if start > 0 && len(p.Items) > 0 {
		p.Next = seqCursor(p.Items[0].Seq)
	}
	return p
}

// ContactSummary is a contact with what an inbox's contact list shows: how
// many messages, how many from the contact, and the last one.
type ContactSummary struct {
	Contact
	MessageCount    int      `json:"messageCount"`
	Incoming        int      `json:"incoming"`
	LastIncomingSeq int64    `json:"lastIncomingSeq,omitempty"`
	Last            *Message `json:"last,omitempty"`
}

// contactPage returns up to limit contacts of channelID ("" for all), most
// recently active first, after the cursor (limit <= 0: all of them).
func (s *store) contactPage(channelID string, limit int, after contactCursor) Page[ContactSummary] {
	type entry struct {
		at  time.Time
		key contactKey
		i   int32
	}
	s.mu.Lock()
	gen := s.gen
	es := make([]entry, 0, len(s.contacts))
	for i := range s.contacts {
		c := &s.contacts[i]
		if channelID == "" || c.ChannelID == channelID {
			es = append(es, entry{c.LastActivity, contactKey{c.ChannelID, c.ID}, int32(i)})
		}
	}
	s.mu.Unlock()
	less := func(a, b entry) bool { // most recent first; ties by key, so the order is total
		if !a.at.Equal(b.at) {
			return a.at.After(b.at)
		}
		if a.key.channel != b.key.channel {
			return a.key.channel < b.key.channel
		}
		return a.key.id < b.key.id
	}
	sort.Slice(es, func(i, j int) bool { return less(es[i], es[j]) })
	start := 0
	if after.set {
		ref := entry{at: after.at, key: after.key}
		start = sort.Search(len(es), func(k int) bool { return less(ref, es[k]) })
	}
	end := len(es)
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	p := Page[ContactSummary]{Items: make([]ContactSummary, 0, end-start)}
	s.mu.Lock()
	for _, e := range es[start:end] {
		if s.gen != gen || int(e.i) >= len(s.contacts) {
			break
		}
		cv := &s.convs[e.i]
		cs := ContactSummary{Contact: cloneContact(s.contacts[e.i]), MessageCount: len(cv.msgs), Incoming: int(cv.in), LastIncomingSeq: cv.lastIn}
		if n := len(cv.msgs); n > 0 {
			m := s.viewLocked(cv.msgs[n-1])
			cs.Last = &m
		}
		p.Items = append(p.Items, cs)
	}
	s.mu.Unlock()
	if end < len(es) && len(p.Items) > 0 {
		last := es[end-1]
		p.Next = contactCursor{set: true, at: last.at, key: last.key}.String()
	}
	return p
}

func lastWarnings(ws []Warning) []Warning {
	if len(ws) > maxWarnings {
		return ws[len(ws)-maxWarnings:]
	}
	return ws
}
