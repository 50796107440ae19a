package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
	// Requests is the request log (newest maxRequests, redacted), kept by
	// the emulator beside the store: GET /_emulator/state leaves it out.
	Requests []RequestRecord `json:"requests,omitempty"`
}

// LoadState reads a state file. A missing file is an empty state; a file that
// is not a ccx emulator state is an error that names the file and the
// problem, so that nothing is ever silently wiped.
func LoadState(path string) (State, error) {
	st := State{Version: StateVersion}
	err := readStateFile(path, &st, func(m Message) { st.Messages = append(st.Messages, m) })
	return st, err
}

// readStateFile streams path into st (header, contacts, warnings) and
// hands each message to add, checked; nothing of the file is held whole.
func readStateFile(path string, st *State, add func(Message)) error {
	// ccx writes state files; a FIFO or device here would block for ever.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("read state: %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	defer f.Close()
	err = decodeStateStream(path, bufio.NewReaderSize(f, 1<<20), st, add)
	if isSyntax(err) {
		// Locate it as a whole-file decode does (error path only).
		if data, rerr := os.ReadFile(path); rerr == nil {
			return stateSyntaxError(path, data, err)
		}
	}
	return err
}

// decodeState decodes a whole state held in memory.
func decodeState(path string, data []byte) (State, error) {
	st := State{Version: StateVersion}
	err := decodeStateStream(path, bytes.NewReader(data), &st, func(m Message) { st.Messages = append(st.Messages, m) })
	if isSyntax(err) {
		err = stateSyntaxError(path, data, err)
	}
	if err != nil {
		return State{}, err
	}
	return st, nil
}

func stateSyntaxError(path string, data []byte, err error) error {
	var v struct{}
	if uerr := json.Unmarshal(data, &v); uerr != nil {
		err = uerr
	}
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
	return fmt.Errorf("state file %s%s is not a ccx emulator state (%v); it was left untouched: fix it, or move it away to start fresh", path, where, err)
}

// stateDecoder checks a state as it streams by: the store's indexes, the
// status timeline and the inbox rely on what it checks, and a file ccx
// wrote always passes, so a break means a hand edit or a damaged file.
type stateDecoder struct {
	st       *State
	add      func(Message)
	contacts map[contactKey]bool
	pending  []Message // messages listed before the contacts
	seen     map[string]bool
	last     int64
	n        int
}

func decodeStateStream(path string, r io.Reader, st *State, add func(Message)) error {
	return decodeStateFrom(stateSource{path, true}, r, st, add)
}

// stateSource names what a state is read from, for its errors: a file
// (left untouched), or an emulator's answer.
type stateSource struct {
	name string
	file bool
}

func decodeStateFrom(src stateSource, r io.Reader, st *State, add func(Message)) error {
	d := &stateDecoder{st: st, add: add, seen: map[string]bool{}}
	path := src.name
	notState := func(err error) error {
		if !src.file {
			return fmt.Errorf("%s is not a ccx emulator state (%w)", path, err)
		}
		return fmt.Errorf("state file %s is not a ccx emulator state (%w); it was left untouched: fix it, or move it away to start fresh", path, err)
	}
	bad := func(err error) error {
		if !src.file {
			return fmt.Errorf("%s: %v", path, err)
		}
		return fmt.Errorf("state file %s: %v; it was left untouched: fix it, or move it away to start fresh", path, err)
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<20)
	}
	sp := &splitter{r: br}
	c, err := sp.next()
	if err == io.EOF && !src.file {
		return fmt.Errorf("%s is empty", path)
	}
	if err == io.EOF {
		return fmt.Errorf("state file %s is empty; move it away or delete it to start fresh", path)
	}
	if err != nil {
		return notState(err)
	}
	if c != '{' {
		_ = br.UnreadByte()
		raw, err := sp.value()
		if err == nil {
			var v State
			err = json.Unmarshal(raw, &v) // says what it is instead
		}
		if err == nil {
			err = &syntaxError{"a state is a JSON object"}
		}
		return notState(err)
	}
	st.Version = 0
	for first := true; ; first = false {
		c, err := sp.next()
		if err != nil {
			return notState(unexpectedEOF(err))
		}
		if c == '}' && first {
			break
		}
		if !first {
			if c == '}' {
				break
			}
			if c != ',' {
				return notState(&syntaxError{fmt.Sprintf("invalid character %q after object key:value pair", c)})
			}
			if c, err = sp.next(); err != nil {
				return notState(unexpectedEOF(err))
			}
		}
		if c != '"' {
			return notState(&syntaxError{fmt.Sprintf("invalid character %q looking for beginning of object key string", c)})
		}
		_ = br.UnreadByte()
		raw, err := sp.value()
		var k string
		if err == nil {
			err = json.Unmarshal(raw, &k)
		}
		if err != nil {
			return notState(err)
		}
		if c, err := sp.next(); err != nil || c != ':' {
			return notState(&syntaxError{"invalid character after object key"})
		}
		for _, name := range []string{"version", "seq", "contacts", "messages", "warnings", "requests"} {
			if strings.EqualFold(k, name) { // as encoding/json matches field names
				k = name
			}
		}
		if d.seen[k] && (k == "contacts" || k == "messages") {
			return bad(fmt.Errorf("%q is given twice", k))
		}
		d.seen[k] = true
		if k == "messages" {
			err = d.messages(sp)
		} else {
			raw, err = sp.value()
			if err == nil {
				switch k {
				case "version":
					err = json.Unmarshal(raw, &st.Version)
				case "seq":
					err = json.Unmarshal(raw, &st.Seq)
				case "contacts":
					st.Contacts = nil
					if err = json.Unmarshal(raw, &st.Contacts); err == nil {
						err = d.setContacts()
					}
				case "warnings":
					st.Warnings = nil
					err = json.Unmarshal(raw, &st.Warnings)
				case "requests": // the request log (requests.go)
					st.Requests = nil
					err = json.Unmarshal(raw, &st.Requests)
				default:
					var skip json.RawMessage
					err = json.Unmarshal(raw, &skip)
				}
			}
		}
		if err != nil {
			var ce checkError
			if errors.As(err, &ce) {
				return bad(err)
			}
			return notState(err)
		}
	}
	if _, err := sp.next(); err != io.EOF {
		return notState(&syntaxError{"invalid character after top-level value"})
	}
	if (st.Version == 0 || st.Version > StateVersion) && !src.file {
		return fmt.Errorf("%s has state version %d; this ccx reads version %d", path, st.Version, StateVersion)
	}
	if st.Version == 0 || st.Version > StateVersion {
		return fmt.Errorf("state file %s has version %d; this ccx reads version %d; it was left untouched", path, st.Version, StateVersion)
	}
	if st.Seq < 0 || st.Seq > maxSeq {
		return bad(fmt.Errorf("seq %d is out of range (0 to 2^53-1)", st.Seq))
	}
	if d.contacts == nil {
		if err := d.setContacts(); err != nil {
			return bad(err)
		}
	}
	if len(st.Warnings) > 2*maxWarnings {
		st.Warnings = append([]Warning(nil), lastWarnings(st.Warnings)...)
	}
	return nil
}

// checkError is a state that parses but contradicts itself.
type checkError struct{ error }

func (d *stateDecoder) setContacts() error {
	d.contacts = make(map[contactKey]bool, len(d.st.Contacts))
	for i, c := range d.st.Contacts {
		k := contactKey{c.ChannelID, c.ID}
		switch {
		case c.ChannelID == "" || c.ID == "":
			return checkError{fmt.Errorf("contacts[%d] has no channelId or contactId", i)}
		case d.contacts[k]:
			return checkError{fmt.Errorf("contacts[%d]: contact %q of channel %q is listed twice", i, c.ID, c.ChannelID)}
		}
		d.contacts[k] = true
	}
	for _, m := range d.pending {
		if err := d.message(m); err != nil {
			return err
		}
	}
	d.pending = nil
	return nil
}

func (d *stateDecoder) messages(sp *splitter) error {
	c, err := sp.peek()
	if err != nil {
		return unexpectedEOF(err)
	}
	if c != '[' {
		raw, err := sp.value()
		if err != nil {
			return err
		}
		var ms []Message // null, or says what is wrong
		if err := json.Unmarshal(raw, &ms); err != nil || len(ms) == 0 {
			return err
		}
		return &syntaxError{"messages must be an array"}
	}
	_, _ = sp.next()
	// The splitter feeds batches of elements to decoders on the other
	// CPUs; their results are checked and stored here, in file order, so
	// errors come out as a sequential read finds them.
	type result struct {
		ms  []Message
		err error // after ms
	}
	type batch struct {
		raw  []byte
		ends []int
		out  chan result
	}
	workers := max(runtime.GOMAXPROCS(0), 1)
	jobs := make(chan *batch, workers)
	order := make(chan chan result, 2*workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				var r result
				start := 0
				for _, end := range b.ends {
					var m Message
					if r.err = decodeMessage(b.raw[start:end], &m); r.err != nil {
						break
					}
					r.ms = append(r.ms, m)
					start = end
				}
				b.out <- r
			}
		}()
	}
	produced := make(chan struct{})
	go func() { // the only user of sp until produced closes
		defer close(produced)
		defer close(order)
		defer close(jobs)
		fail := func(err error) {
			out := make(chan result, 1)
			out <- result{err: err}
			select {
			case order <- out:
			case <-stop:
			}
		}
		const per = 512
		b := &batch{out: make(chan result, 1)}
		send := func() bool {
			if len(b.ends) == 0 {
				return true
			}
			select {
			case order <- b.out:
			case <-stop:
				return false
			}
			select {
			case jobs <- b:
			case <-stop:
				return false
			}
			b = &batch{out: make(chan result, 1), raw: make([]byte, 0, 2*len(b.raw))}
			return true
		}
		for first := true; ; first = false {
			c, err := sp.peek()
			if err != nil {
				if send() {
					fail(unexpectedEOF(err))
				}
				return
			}
			if c == ']' && first {
				_, _ = sp.next()
				return
			}
			if c == ']' {
				if send() {
					fail(&syntaxError{"invalid character ']' looking for beginning of value"})
				}
				return
			}
			raw, err := sp.value()
			if err != nil {
				if send() {
					fail(err)
				}
				return
			}
			b.raw = append(b.raw, raw...)
			b.ends = append(b.ends, len(b.raw))
			if len(b.ends) == per && !send() {
				return
			}
			c, err = sp.next()
			switch {
			case err != nil:
				if send() {
					fail(unexpectedEOF(err))
				}
				return
			case c == ']':
				send()
				return
			case c != ',':
				if send() {
					fail(&syntaxError{fmt.Sprintf("invalid character %q after array element", c)})
				}
				return
			}
		}
	}()
	err = func() error {
		for out := range order {
			r := <-out
			for _, m := range r.ms {
				if d.contacts == nil {
					d.pending = append(d.pending, m)
				} else if err := d.message(m); err != nil {
					return err
				}
			}
			if r.err != nil {
				return r.err
			}
		}
		return nil
	}()
	close(stop)
	<-produced
	wg.Wait()
	return err
}

func (d *stateDecoder) message(m Message) error {
	i := d.n
	d.n++
	switch {
	case m.Seq <= d.last || m.Seq > maxSeq:
		return checkError{fmt.Errorf("messages[%d]: seq %d does not follow %d (seqs increase, at most 2^53-1)", i, m.Seq, d.last)}
	case !d.contacts[contactKey{m.ChannelID, m.ContactID}]:
		return checkError{fmt.Errorf("messages[%d] (seq %d) belongs to contact %q of channel %q, which is not in contacts", i, m.Seq, m.ContactID, m.ChannelID)}
	}
	if len(m.Timeline) == 0 { // hand-made files omit it: start it at the status
		m.Timeline = []StatusChange{{Status: m.Status, Reason: m.Reason, Timestamp: m.Timestamp, Applied: true}}
	}
	d.last = m.Seq
	d.add(m)
	return nil
}

// maxSeq keeps sequence numbers exact in the inbox's JavaScript and far
// from overflowing.
const maxSeq = 1<<53 - 1

// loadStore reads a state file straight into a store. The decoder hands
// over messages only once the contacts are known.
func loadStore(path string, now func() time.Time) (*store, error) {
	s, _, err := loadStoreAndLog(path, now)
	return s, err
}

// loadStoreAndLog is loadStore that also returns the saved request log.
func loadStoreAndLog(path string, now func() time.Time) (*store, []RequestRecord, error) {
	s := newStore(State{}, now)
	var st State
	loaded := false
	addContacts := func() {
		if !loaded {
			for _, c := range st.Contacts {
				s.addContactLocked(c)
			}
			loaded = true
		}
	}
	err := readStateFile(path, &st, func(m Message) {
		addContacts()
		s.loadMessageLocked(m)
	})
	if err != nil {
		return nil, nil, err
	}
	addContacts()
	if st.Version != 0 {
		s.version = st.Version
	}
	if st.Seq > s.seq {
		s.seq = st.Seq
	}
	s.warnings = st.Warnings
	return s, st.Requests, nil
}

// writeState streams the state f selects (every message: Filter{}) as
// JSON, one contact, message or warning a line. The store is locked a
// chunk of messages at a time, never for the whole walk, and only a chunk
// is copied; the messages are the ones stored when the walk began (their
// contacts are all in it), each as it is when its chunk is read.
func (s *store) writeState(w io.Writer, f Filter, extra ...stateSection) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	item := func(first bool, v any) error {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		if !first {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return nil
	}
	s.mu.Lock()
	gen, version, seq := s.gen, s.version, s.seq
	var contacts []Contact
	for i := range s.contacts {
		if f.contact(&s.contacts[i]) {
			contacts = append(contacts, cloneContact(s.contacts[i]))
		}
	}
	warnings := append([]Warning{}, lastWarnings(s.warnings)...)
	idx, all := s.selectLocked(f)
	n := len(idx)
	if all {
		n = len(s.msgs)
	}
	s.mu.Unlock()

	fmt.Fprintf(bw, "{\n  \"version\": %d,\n  \"seq\": %d,\n  \"contacts\": [", version, seq)
	for i, c := range contacts {
		if err := item(i == 0, c); err != nil {
			return err
		}
	}
	bw.WriteString(list(len(contacts)) + ",\n  \"messages\": [")
	const chunk = 1024
	views := make([]Message, 0, chunk)
	written := 0
	for k := 0; k < n; k += chunk {
		views = views[:0]
		s.mu.Lock()
		if s.gen != gen { // reset meanwhile: what was written still holds together
			s.mu.Unlock()
			break
		}
		for j := k; j < min(k+chunk, n); j++ {
			i := int32(j)
			if !all {
				i = idx[j]
			}
			views = append(views, s.viewLocked(i))
		}
		s.mu.Unlock()
		for _, m := range views {
			if err := item(written == 0, m); err != nil {
				return err
			}
			written++
		}
	}
	bw.WriteString(list(written) + ",\n  \"warnings\": [")
	for i, wn := range warnings {
		if err := item(i == 0, wn); err != nil {
			return err
		}
	}
	bw.WriteString(list(len(warnings)))
	for _, sec := range extra {
		bw.WriteString(",\n  " + strconv.Quote(sec.name) + ": [")
		for i, v := range sec.items {
			if err := item(i == 0, v); err != nil {
				return err
			}
		}
		bw.WriteString(list(len(sec.items)))
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// list closes a JSON array of n items written by writeState.
func list(n int) string {
	if n == 0 {
		return "]"
	}
	return "\n  ]"
}

// writeStateFile writes the store atomically, mode 0600: messages can hold personal data.
func writeStateFile(path string, s *store, extra ...stateSection) error {
	return fsutil.WritePrivateFunc(path, func(w io.Writer) error { return s.writeState(w, Filter{}, extra...) })
}

// stateSection is a top-level array the state file keeps besides the
// store's (the request log), written after the warnings.
type stateSection struct {
	name  string
	items []any
}
