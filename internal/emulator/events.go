package emulator

import (
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/validate"
)

// EventKind names what happened; the live log and the SSE stream key on it.
type EventKind string

const (
	EventWebhookAccepted EventKind = "webhook.accepted" // a webhook post was answered 200
	EventWebhookRejected EventKind = "webhook.rejected" // answered 4xx (auth, validation, rate limit, size)
	EventContactCreated  EventKind = "contact.created"
	EventMessageReceived EventKind = "message.received" // a `message` event was stored
	EventMessageEcho     EventKind = "message.echo"     // a `message_echo` was stored as outgoing
	EventStatusChanged   EventKind = "message.status"   // a receipt was recorded
	EventOutgoingSent    EventKind = "outgoing.sent"    // the server answered /message with an mId
	EventOutgoingFailed  EventKind = "outgoing.failed"  // the server rejected or could not be reached
	EventWarning         EventKind = "warning"
	// The provider face (Options.Providers); Event.Phone carries the
	// customer's phone message.
	EventCustomerMessage EventKind = "customer.message" // a customer wrote; the provider posted it to the server
	EventProviderSend    EventKind = "provider.send"    // the server called a provider's send API
	EventProviderReceipt EventKind = "provider.receipt" // a provider posted a status callback to the server
	EventPhoneLinked     EventKind = "phone.linked"     // a phone message got its platform mId
)

// Event is one entry of the live stream (GET /_emulator/events, Subscribe).
type Event struct {
	Seq        int64              `json:"seq"`
	Time       time.Time          `json:"time"`
	Kind       EventKind          `json:"kind"`
	ChannelID  string             `json:"channelId,omitempty"`
	ContactID  string             `json:"contactId,omitempty"`
	MID        string             `json:"mId,omitempty"`
	HTTPStatus int                `json:"httpStatus,omitempty"`
	Method     string             `json:"method,omitempty"` // a rejected request that was not a POST
	Summary    string             `json:"summary"`
	Rule       string             `json:"rule,omitempty"` // warnings: the Warning's rule
	Message    *Message           `json:"message,omitempty"`
	Contact    *Contact           `json:"contact,omitempty"`
	Findings   []validate.Finding `json:"findings,omitempty"`
	Provider   string             `json:"provider,omitempty"`
	Phone      *PhoneMessage      `json:"phone,omitempty"`
}

// subscriberBuffer is how many events a slow library subscriber (Subscribe)
// may lag behind before events are dropped for it (never blocking the
// webhook path).
const subscriberBuffer = 4096

// streamBuffer is how far an HTTP event stream may lag behind before it is
// dropped: a browser that stopped reading must cost a bounded amount of
// memory, and it reloads everything when EventSource reconnects.
const streamBuffer = 256

type bus struct {
	mu      sync.Mutex
	seq     int64
	subs    map[int]*subscriber
	nextID  int
	dropped int64
}

type subscriber struct {
	ch      chan Event
	dropped int64
	// evict: on overflow the subscription ends (its channel is closed and
	// lagged set) instead of losing single events.
	evict  bool
	lagged bool
}

func newBus() *bus { return &bus{subs: map[int]*subscriber{}} }

func (b *bus) publish(evs ...Event) {
	if len(evs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range evs {
		b.seq++
		ev.Seq = b.seq
		if ev.Time.IsZero() {
			ev.Time = time.Now().UTC()
		}
		for id, s := range b.subs {
			select {
			case s.ch <- ev:
			default:
				s.dropped++
				b.dropped++
				if s.evict {
					s.lagged = true
					delete(b.subs, id)
					close(s.ch)
				}
			}
		}
	}
}

// subscribe is the lossy library subscription (Subscribe).
func (b *bus) subscribe() (<-chan Event, func()) {
	ch, _, cancel := b.add(subscriberBuffer, false, 0)
	return ch, cancel
}

// subscribeStream is an HTTP stream's subscription: at most limit of them
// at once (ok false beyond), each ended when it lags streamBuffer events
// behind; lagged then reports true.
func (b *bus) subscribeStream(limit int) (events <-chan Event, lagged func() bool, cancel func(), ok bool) {
	ch, s, cancel := b.add(streamBuffer, true, limit)
	if s == nil {
		return nil, nil, nil, false
	}
	return ch, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return s.lagged }, cancel, true
}

func (b *bus) add(buf int, evict bool, limit int) (<-chan Event, *subscriber, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if evict && b.streamsLocked() >= limit {
		return nil, nil, nil
	}
	id := b.nextID
	b.nextID++
	s := &subscriber{ch: make(chan Event, buf), evict: evict}
	b.subs[id] = s
	return s.ch, s, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(s.ch)
		}
	}
}

func (b *bus) streamsLocked() int {
	n := 0
	for _, s := range b.subs {
		if s.evict {
			n++
		}
	}
	return n
}

// streams counts the open HTTP event streams.
func (b *bus) streams() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.streamsLocked()
}

func (b *bus) hasSubscribers() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}

// closeAll ends every subscription (shutdown).
func (b *bus) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, s := range b.subs {
		delete(b.subs, id)
		close(s.ch)
	}
}
