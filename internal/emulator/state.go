package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ccx-cli/ccx/internal/fsutil"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// StateVersion is written into every state file; a file from a newer ccx is
// refused rather than half-read.
const StateVersion = 1

// maxWarnings bounds the warning log kept in the state (oldest dropped), so a
// long benchmark of duplicate posts cannot grow it without limit.
const maxWarnings = 1000

// Direction of a stored message, seen from the business.
type Direction string

const (
	// In is a message the contact wrote (a `message` event).
	In Direction = "in"
	// Out is a message the business sent: a `message_echo` event, or a
	// message the emulator asked the integration server to deliver.
	Out Direction = "out"
)

// Origin says how a message reached the emulator.
type Origin string

const (
	OriginContact  Origin = "contact"  // message event
	OriginEcho     Origin = "echo"     // message_echo event
	OriginPlatform Origin = "platform" // sent by the emulator through <base>/message
)

// StatusReceived is the status of a message the contact sent; receipts
// (sent/delivered/read/failed) only apply to outgoing messages.
const StatusReceived channel.StatusValue = "received"

// Contact is a conversation partner, created on first contact.
type Contact struct {
	ChannelID    string           `json:"channelId"`
	ID           string           `json:"contactId"`
	Profile      *channel.Contact `json:"contact,omitempty"`
	CreatedAt    time.Time        `json:"createdAt"`
	LastActivity time.Time        `json:"lastActivity"`
}

// StatusChange is one entry of a message's status timeline.
type StatusChange struct {
	Status    channel.StatusValue `json:"status"`
	Reason    string              `json:"reason,omitempty"`
	Timestamp int64               `json:"timestamp"` // ms, from the event or the emulator's clock
	Applied   bool                `json:"applied"`   // false: recorded but ignored (backwards, after failed)
}

// ReplyInfo is what the integration server answered to an outgoing call.
type ReplyInfo struct {
	URL        string             `json:"url,omitempty"` // the <API base URL>/message that was called
	Verdict    verdict.Verdict    `json:"verdict,omitempty"`
	HTTPStatus int                `json:"httpStatus,omitempty"`
	Body       string             `json:"body,omitempty"`
	LatencyMS  float64            `json:"latencyMs"`
	Findings   []validate.Finding `json:"findings,omitempty"`
}

// Message is one stored message, in either direction.
type Message struct {
	Seq       int64               `json:"seq"` // order of arrival, unique
	ChannelID string              `json:"channelId"`
	ContactID string              `json:"contactId"`
	MID       string              `json:"mId,omitempty"` // empty when an outgoing call failed
	Direction Direction           `json:"direction"`
	Origin    Origin              `json:"origin"`
	Type      channel.MessageType `json:"type"`
	Content   channel.Message     `json:"message"`
	Timestamp int64               `json:"timestamp"` // ms: the event's timestamp, or when the emulator sent it
	Status    channel.StatusValue `json:"status"`
	Reason    string              `json:"reason,omitempty"` // failure reason of the current status
	Timeline  []StatusChange      `json:"timeline"`
	Reply     *ReplyInfo          `json:"reply,omitempty"` // outgoing only
}

// Warning is something odd the emulator accepted without failing the request:
// an unknown mId in a receipt, a status moving backwards, a duplicate mId.
type Warning struct {
	Time      time.Time `json:"time"`
	ChannelID string    `json:"channelId,omitempty"`
	ContactID string    `json:"contactId,omitempty"`
	MID       string    `json:"mId,omitempty"`
	Rule      string    `json:"rule"`
	Message   string    `json:"message"`
}

// Warning rules (stable ids, like validate's).
const (
	WarnUnknownMID      = "unknown-mid"
	WarnDuplicateMID    = "duplicate-mid"
	WarnStatusBackwards = "status-backwards"
	WarnStatusAfterFail = "status-after-failed"
	WarnStatusIncoming  = "status-on-incoming"
	WarnStatusContact   = "status-contact-mismatch"
	WarnValidation      = "validation-warning"
	WarnContentType     = "content-type"
	WarnMalformedEvent  = "malformed-event"
	WarnStatusEarly     = "status-before-reply" // a receipt came before its /message reply was read
)

// State is everything the emulator remembers; it is what --state persists.
type State struct {
	Version  int       `json:"version"`
	Seq      int64     `json:"seq"`
	Contacts []Contact `json:"contacts"`
	Messages []Message `json:"messages"`
	Warnings []Warning `json:"warnings"`
}

// LoadState reads a state file. A missing file is an empty state; a file that
// is not a ccx emulator state is an error that names the file and the
// problem, so that nothing is ever silently wiped.
func LoadState(path string) (State, error) {
	// ccx writes state files; a FIFO or device here would block for ever.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return State{}, fmt.Errorf("read state: %s: not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Version: StateVersion}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read state: %w", err)
	}
	return decodeState(path, data)
}

func decodeState(path string, data []byte) (State, error) {
	var st State
	if len(bytes.TrimSpace(data)) == 0 {
		return State{}, fmt.Errorf("state file %s is empty; move it away or delete it to start fresh", path)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		where := ""
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := int(se.Offset) - 1 // Offset is just past the offending byte
			if off < 0 {
				off = 0
			}
			l, c := validate.Position(data, off)
			where = fmt.Sprintf(":%d:%d", l, c)
		}
		return State{}, fmt.Errorf("state file %s%s is not a ccx emulator state (%v); it was left untouched: fix it, or move it away to start fresh", path, where, err)
	}
	if st.Version == 0 || st.Version > StateVersion {
		return State{}, fmt.Errorf("state file %s has version %d; this ccx reads version %d; it was left untouched", path, st.Version, StateVersion)
	}
	if err := checkState(&st); err != nil {
		return State{}, fmt.Errorf("state file %s: %v; it was left untouched: fix it, or move it away to start fresh", path, err)
	}
	return st, nil
}

// maxSeq keeps sequence numbers exact in the inbox's JavaScript and far
// from overflowing.
const maxSeq = 1<<53 - 1

// checkState refuses a state whose parts contradict each other: the store's
// indexes, the status timeline and the inbox rely on these, and a file ccx
// wrote always has them, so a break means a hand edit or a damaged file.
// A missing timeline is started from the status, and the warning log
// trimmed as the store would: neither loses anything.
func checkState(st *State) error {
	if st.Seq < 0 || st.Seq > maxSeq {
		return fmt.Errorf("seq %d is out of range (0 to 2^53-1)", st.Seq)
	}
	contacts := make(map[contactKey]bool, len(st.Contacts))
	for i, c := range st.Contacts {
		k := contactKey{c.ChannelID, c.ID}
		switch {
		case c.ChannelID == "" || c.ID == "":
			return fmt.Errorf("contacts[%d] has no channelId or contactId", i)
		case contacts[k]:
			return fmt.Errorf("contacts[%d]: contact %q of channel %q is listed twice", i, c.ID, c.ChannelID)
		}
		contacts[k] = true
	}
	var last int64
	for i, m := range st.Messages {
		switch {
		case m.Seq <= last || m.Seq > maxSeq:
			return fmt.Errorf("messages[%d]: seq %d does not follow %d (seqs increase, at most 2^53-1)", i, m.Seq, last)
		case !contacts[contactKey{m.ChannelID, m.ContactID}]:
			return fmt.Errorf("messages[%d] (seq %d) belongs to contact %q of channel %q, which is not in contacts", i, m.Seq, m.ContactID, m.ChannelID)
		}
		if len(m.Timeline) == 0 { // hand-made files omit it: start it at the status
			st.Messages[i].Timeline = []StatusChange{{Status: m.Status, Reason: m.Reason, Timestamp: m.Timestamp, Applied: true}}
		}
		last = m.Seq
	}
	if len(st.Warnings) > 2*maxWarnings {
		st.Warnings = append([]Warning(nil), lastWarnings(st.Warnings)...)
	}
	return nil
}

// writeStateFile writes st atomically, mode 0600: messages can hold personal data.
func writeStateFile(path string, st *State) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // people read the file: "<b>", not \u003cb\u003e
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return err
	}
	return fsutil.WritePrivate(path, buf.Bytes())
}
