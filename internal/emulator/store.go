package emulator

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// store holds the state behind one mutex, with indexes rebuilt from the
// state on load. Every mutation goes through it, so the invariants (each
// message's contact exists; an mId maps to exactly one message per channel)
// hold after any request, however malformed.
type store struct {
	mu       sync.Mutex
	st       State
	contacts map[contactKey]int // index into st.Contacts
	mids     map[contactKey]int // (channel, mId) → index into st.Messages
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

func newStore(st State, now func() time.Time) *store {
	if st.Version == 0 {
		st.Version = StateVersion
	}
	s := &store{st: st, now: now, contacts: map[contactKey]int{}, mids: map[contactKey]int{},
		outgoing: map[string]int{}, outChanged: make(chan struct{})}
	for i, c := range st.Contacts {
		s.contacts[contactKey{c.ChannelID, c.ID}] = i
	}
	for i, m := range st.Messages {
		if m.Seq > s.st.Seq {
			s.st.Seq = m.Seq
		}
		if m.MID == "" {
			continue
		}
		k := contactKey{m.ChannelID, m.MID}
		if _, dup := s.mids[k]; !dup {
			s.mids[k] = i
		}
	}
	return s
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
	s.st.Warnings = append(s.st.Warnings, w)
	// Trim in batches (amortised O(1)); snapshots show the last maxWarnings.
	if n := len(s.st.Warnings); n > 2*maxWarnings {
		s.st.Warnings = append(s.st.Warnings[:0:0], s.st.Warnings[n-maxWarnings:]...)
	}
	ch.warnings = append(ch.warnings, w)
}

// touchContactLocked finds or creates the contact; profile is only used at
// creation (spec §2.7: contact{} is a creation-time hint).
func (s *store) touchContactLocked(ch *change, channelID, contactID string, profile *channel.Contact) *Contact {
	now := s.now().UTC()
	k := contactKey{channelID, contactID}
	if i, ok := s.contacts[k]; ok {
		c := &s.st.Contacts[i]
		c.LastActivity = now
		return c
	}
	c := Contact{ChannelID: channelID, ID: contactID, CreatedAt: now, LastActivity: now}
	if profile != nil && !profile.IsZero() {
		p := *profile
		c.Profile = &p
	}
	s.st.Contacts = append(s.st.Contacts, c)
	s.contacts[k] = len(s.st.Contacts) - 1
	ch.contacts = append(ch.contacts, c)
	return &s.st.Contacts[len(s.st.Contacts)-1]
}

func (s *store) hasContact(channelID, contactID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.contacts[contactKey{channelID, contactID}]
	return ok
}

// latestContact is the channel's most recently active contact.
func (s *store) latestContact(channelID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *Contact
	for i := range s.st.Contacts {
		c := &s.st.Contacts[i]
		if c.ChannelID == channelID && (best == nil || !c.LastActivity.Before(best.LastActivity)) {
			best = c
		}
	}
	if best == nil {
		return "", false
	}
	return best.ID, true
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
	k := contactKey{channelID, ev.MID}
	if _, dup := s.mids[k]; dup {
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: wh.ContactID, MID: ev.MID, Rule: WarnDuplicateMID,
			Message: fmt.Sprintf("mId %q was already stored; the repeated %s was ignored", ev.MID, ev.Type)})
		return
	}
	s.touchContactLocked(ch, channelID, wh.ContactID, wh.Contact)
	m := Message{ChannelID: channelID, ContactID: wh.ContactID, MID: ev.MID, Type: ev.Message.Type,
		Content: *ev.Message, Timestamp: ev.Timestamp}
	if ev.Type == channel.EventEcho {
		// An echo is the business writing through another path: outgoing,
		// already sent, never delivered again (spec §2.5).
		m.Direction, m.Origin, m.Status = Out, OriginEcho, channel.StatusSent
	} else {
		m.Direction, m.Origin, m.Status = In, OriginContact, StatusReceived
	}
	m.Timeline = []StatusChange{{Status: m.Status, Timestamp: ev.Timestamp, Applied: true}}
	s.addMessageLocked(ch, m)
}

func (s *store) addMessageLocked(ch *change, m Message) Message {
	s.st.Seq++
	m.Seq = s.st.Seq
	s.st.Messages = append(s.st.Messages, m)
	if m.MID != "" {
		k := contactKey{m.ChannelID, m.MID}
		if _, dup := s.mids[k]; !dup {
			s.mids[k] = len(s.st.Messages) - 1
		}
	}
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
	i, ok := s.mids[contactKey{channelID, ev.MID}]
	if !ok {
		s.warnLocked(ch, Warning{ChannelID: channelID, ContactID: contactID, MID: ev.MID, Rule: WarnUnknownMID,
			Message: fmt.Sprintf("message_status %q for unknown mId %q: no stored message has it (was it returned by your /message endpoint?)", ev.Status.Value, ev.MID)})
		return
	}
	m := &s.st.Messages[i]
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
	if sc.Applied {
		m.Status, m.Reason = next, ev.Status.Message
	}
	if c, ok := s.contacts[contactKey{channelID, m.ContactID}]; ok {
		s.st.Contacts[c].LastActivity = s.now().UTC()
	}
	ch.statuses = append(ch.statuses, cloneMessage(*m))
}

// addOutgoing stores the outcome of an outgoing call.
func (s *store) addOutgoing(m Message) (Message, change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch change
	s.touchContactLocked(&ch, m.ChannelID, m.ContactID, nil)
	if m.MID != "" {
		if _, dup := s.mids[contactKey{m.ChannelID, m.MID}]; dup {
			s.warnLocked(&ch, Warning{ChannelID: m.ChannelID, ContactID: m.ContactID, MID: m.MID, Rule: WarnDuplicateMID,
				Message: fmt.Sprintf("your /message endpoint returned mId %q, which an earlier message already has; receipts will go to the earlier one", m.MID)})
		}
	}
	m = s.addMessageLocked(&ch, m)
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
			if _, ok := s.mids[contactKey{channelID, mid}]; !ok {
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

// snapshot is a deep copy of the state, safe to hand out.
func (s *store) snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

func (s *store) snapshotLocked() State {
	st := State{Version: s.st.Version, Seq: s.st.Seq,
		Contacts: make([]Contact, len(s.st.Contacts)),
		Messages: make([]Message, len(s.st.Messages)),
		Warnings: append([]Warning{}, lastWarnings(s.st.Warnings)...)}
	for i, c := range s.st.Contacts {
		if c.Profile != nil {
			p := *c.Profile
			c.Profile = &p
		}
		st.Contacts[i] = c
	}
	for i, m := range s.st.Messages {
		st.Messages[i] = cloneMessage(m)
	}
	return st
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = State{Version: StateVersion}
	s.contacts = map[contactKey]int{}
	s.mids = map[contactKey]int{}
	s.dirty = true
	s.wakeLocked()
}

// takeDirty returns a snapshot when something changed since the last call.
func (s *store) takeDirty() (State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return State{}, false
	}
	s.dirty = false
	return s.snapshotLocked(), true
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

// filterMessages returns matching messages in arrival order.
func filterMessages(st State, f Filter) []Message {
	out := []Message{}
	for _, m := range st.Messages {
		if (f.ChannelID == "" || m.ChannelID == f.ChannelID) && (f.ContactID == "" || m.ContactID == f.ContactID) {
			out = append(out, m)
		}
	}
	return out
}

// filterContacts returns matching contacts, most recently active first.
func filterContacts(st State, channelID string) []Contact {
	out := []Contact{}
	for _, c := range st.Contacts {
		if channelID == "" || c.ChannelID == channelID {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastActivity.After(out[j].LastActivity) })
	return out
}

func lastWarnings(ws []Warning) []Warning {
	if len(ws) > maxWarnings {
		return ws[len(ws)-maxWarnings:]
	}
	return ws
}
