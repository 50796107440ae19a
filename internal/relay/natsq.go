package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The JetStream queue (docs/relay.md, "Several relays: --queue"):
//
//	stream CCX_RELAY (work queue, file storage)
//	  ccx.in.<channel>.<p>   events waiting for the platform, p = hash(contact) mod partitions
//	  ccx.dead.<channel>     events the platform refused for good
//	consumer ccx_in_<channel>_<p>   durable, one per partition, MaxAckPending 1:
//	                                one event of a partition in flight in the whole cluster
//	KV ccx_relay_sent   <channel>.<b64 mId> → sentInfo (contact, best status, reply time); TTL = dedupe window
//	KV ccx_relay_seen   <channel>.<b64 key> → unix ms; TTL = dedupe window
//	KV ccx_relay_meta   partitions; <channel>.mediaKey
//
// De-duplication is two-fold. The Nats-Msg-Id header carries the channel and
// the provider message id and the stream's duplicate window is --dedupe-window: that
// catches relays publishing the same event at once. But the server rebuilds
// that window after a restart from the messages it still holds, and a work
// queue drops delivered ones; so each key is also kept in ccx_relay_seen,
// checked before the publish and written after it.
const (
	natsStream     = "CCX_RELAY"
	natsSentBucket = "ccx_relay_sent"
	natsMetaBucket = "ccx_relay_meta"
	natsSeenBucket = "ccx_relay_seen"
	// natsPartitions is used when the first relay creates the queue; later
	// relays read the count the queue was made with, so all hash alike.
	natsPartitions = 16
)

// NATSOptions select the JetStream queue and how to reach it, by the NATS
// client conventions: user:password or a token in the URL, a .creds file,
// TLS files.
type NATSOptions struct {
	URLs      []string // nats://[user:pass@]host:4222
	CredsFile string   // JWT and nkey seed (.creds)
	TLSCA     string   // CA bundle to verify the servers
	TLSCert   string   // client certificate (mutual TLS), with TLSKey
	TLSKey    string
	// AckWait is how long an event may stay in flight without a sign of life
	// from its relay before another relay takes it over (0 → 10s). A live
	// relay extends it while it retries.
	AckWait time.Duration
	// Replicas of the stream and buckets (a JetStream cluster of 3: 3); 0 → 1.
	Replicas int
}

// RedactURLs hides the password (or token) of each comma-separated URL, for
// logs and status.
func RedactURLs(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			if strings.Contains(p, "@") { // unparseable but may hold a secret
				parts[i] = "xxxxx@" + p[strings.LastIndexByte(p, '@')+1:]
			}
			continue
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx") // a bare user part is a token
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// ErrQueueAuth means the NATS servers refused the relay's credentials.
var ErrQueueAuth = errors.New("the NATS server refused the credentials")

type natsQueue struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	stream     jetstream.Stream
	sent, meta jetstream.KeyValue
	seen       jetstream.KeyValue
	cons       []jetstream.Consumer
	ch         string // the channel, as a subject token
	parts      int
	ackWait    time.Duration
	lim        Limits
	where      string // redacted URLs, for Stats
	mediaKey   []byte
	log        *slog.Logger
	now        func() time.Time

	msgs                   sync.Map // *Record → jetstream.Msg, while a worker delivers it
	wg                     sync.WaitGroup
	delivered, redelivered atomic.Int64
	cached                 atomic.Pointer[Stats]
	pendMu                 sync.Mutex
	pendAt                 time.Time
	pendN                  int64
	closeOnce              sync.Once
}

const natsOpTimeout = 5 * time.Second

func openNATS(o NATSOptions, channelID string, lim Limits, log *slog.Logger) (*natsQueue, error) {
	lim.defaults()
	if len(o.URLs) == 0 {
		return nil, errors.New("relay: no NATS server URL")
	}
	if o.AckWait <= 0 {
		o.AckWait = 10 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	where := RedactURLs(strings.Join(o.URLs, ","))
	opts := []nats.Option{nats.Name("ccx relay"), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("queue disconnected; reconnecting", "queue", where, "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("queue reconnected", "server", RedactURLs(nc.ConnectedUrlRedacted())) })}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	if o.TLSCA != "" {
		opts = append(opts, nats.RootCAs(o.TLSCA))
	}
	if o.TLSCert != "" || o.TLSKey != "" {
		if o.TLSCert == "" || o.TLSKey == "" {
			return nil, errors.New("relay: a TLS client certificate needs both the certificate and its key")
		}
		opts = append(opts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	nc, err := nats.Connect(strings.Join(o.URLs, ","), opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
			return nil, fmt.Errorf("queue %s: %w (%v)", where, ErrQueueAuth, err)
		}
		return nil, fmt.Errorf("queue %s: %w", where, err)
	}
	q := &natsQueue{nc: nc, ch: subjectToken(channelID), ackWait: o.AckWait, lim: lim, where: where, log: log, now: time.Now}
	if err := q.setup(o.Replicas); err != nil {
		nc.Close()
		return nil, fmt.Errorf("queue %s: %w", where, err)
	}
	log.Info("queue ready", "queue", where, "stream", natsStream, "partitions", q.parts, "ackWait", q.ackWait.String(), "replicas", o.Replicas)
	return q, nil
}

func (q *natsQueue) setup(replicas int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*natsOpTimeout)
	defer cancel()
	js, err := jetstream.New(q.nc)
	if err != nil {
		return err
	}
	q.js = js
	// Work-queue retention: an acknowledged event leaves the stream. The
	// bounds are the spool's; DiscardNew makes a full stream refuse (503 to
	// the provider) rather than drop old events.
	q.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: natsStream,
		Subjects: []string{"ccx.in.>", "ccx.dead.>"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		Duplicates: q.lim.Window, MaxMsgs: int64(q.lim.MaxEntries), MaxBytes: q.lim.MaxBytes, Discard: jetstream.DiscardNew,
		Replicas: replicas})
	if err != nil {
		return fmt.Errorf("stream %s: %w", natsStream, err)
	}
	if q.sent, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: natsSentBucket, History: 1, TTL: q.lim.Window,
		Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
		return fmt.Errorf("bucket %s: %w", natsSentBucket, err)
	}
	if q.seen, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: natsSeenBucket, History: 1, TTL: q.lim.Window,
		Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
		return fmt.Errorf("bucket %s: %w", natsSeenBucket, err)
	}
	if q.meta, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: natsMetaBucket, History: 1,
		Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
		return fmt.Errorf("bucket %s: %w", natsMetaBucket, err)
	}
	parts, err := q.shared(ctx, "partitions", []byte(strconv.Itoa(natsPartitions)))
	if err != nil {
		return err
	}
	if q.parts, err = strconv.Atoi(string(parts)); err != nil || q.parts < 1 || q.parts > 1024 {
		return fmt.Errorf("bucket %s: partitions %q is not a count", natsMetaBucket, parts)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if q.mediaKey, err = q.shared(ctx, q.ch+".mediaKey", key); err != nil {
		return err
	}
	for p := 0; p < q.parts; p++ {
		c, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "ccx_in_" + q.ch + "_" + strconv.Itoa(p),
			FilterSubject: q.inSubject(p), AckPolicy: jetstream.AckExplicitPolicy, AckWait: q.ackWait,
			MaxAckPending: 1, MaxDeliver: -1, DeliverPolicy: jetstream.DeliverAllPolicy, Replicas: replicas})
		if err != nil {
			return fmt.Errorf("consumer of partition %d: %w", p, err)
		}
		q.cons = append(q.cons, c)
	}
	return nil
}

// shared returns the meta value under key, storing v first if there is none:
// the first relay decides, the others adopt it.
func (q *natsQueue) shared(ctx context.Context, key string, v []byte) ([]byte, error) {
	if _, err := q.meta.Create(ctx, key, v); err == nil {
		return v, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("bucket %s: %w", natsMetaBucket, err)
	}
	e, err := q.meta.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", natsMetaBucket, err)
	}
	return e.Value(), nil
}

// subjectToken keeps a channel ID usable in subjects, KV keys and consumer
// names: letters, digits, - and _ stay, anything else is =XX.
func subjectToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

func (q *natsQueue) inSubject(p int) string { return "ccx.in." + q.ch + "." + strconv.Itoa(p) }
func (q *natsQueue) deadSubject() string    { return "ccx.dead." + q.ch }
func (q *natsQueue) sentKey(mid string) string {
	return q.ch + "." + base64.RawURLEncoding.EncodeToString([]byte(mid))
}

// seenBefore reports whether key was published before (within the window).
func (q *natsQueue) seenBefore(ctx context.Context, key string) (bool, error) {
	_, err := q.seen.Get(ctx, q.sentKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// sentRecord is what the sent bucket holds for an mId.
type sentRecord struct {
	sentInfo
	Replied int64 `json:"p,omitempty"` // unix ms the /message reply went out
}

func (q *natsQueue) getSent(ctx context.Context, mid string) (sentRecord, uint64, bool, error) {
	var si sentRecord
	e, err := q.sent.Get(ctx, q.sentKey(mid))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return si, 0, false, nil
	}
	if err != nil {
		return si, 0, false, err
	}
	_ = json.Unmarshal(e.Value(), &si)
	return si, e.Revision(), true, nil
}

// updateSent applies change to mid's record with compare-and-set, so that
// relays writing the same mId at once never undo each other.
func (q *natsQueue) updateSent(ctx context.Context, mid string, change func(*sentRecord) bool) error {
	for i := 0; i < 8; i++ {
		si, rev, found, err := q.getSent(ctx, mid)
		if err != nil {
			return err
		}
		if !change(&si) {
			return nil
		}
		b, _ := json.Marshal(si)
		if found {
			_, err = q.sent.Update(ctx, q.sentKey(mid), b, rev)
		} else {
			_, err = q.sent.Create(ctx, q.sentKey(mid), b)
		}
		if err == nil {
			return nil
		}
		var ae *jetstream.APIError
		if !errors.Is(err, jetstream.ErrKeyExists) && !(errors.As(err, &ae) && ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
			return err
		}
	}
	return errors.New("sent record of " + mid + " kept changing")
}

// Enqueue publishes each item and returns once JetStream has stored it (the
// publish ack). A publish the stream's duplicate window recognises is a
// Duplicate. Items are published one by one: if one fails, those before it
// are stored, and the provider's retry of the whole webhook finds them
// duplicates.
func (q *natsQueue) Enqueue(items []Item) ([]Outcome, []*Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	outs := make([]Outcome, 0, len(items))
	var recs []*Record
	now := q.now().UnixMilli()
	for _, it := range items {
		if it.Key != "" {
			dup, err := q.seenBefore(ctx, it.Key)
			if err != nil {
				return nil, nil, err
			}
			if dup {
				outs = append(outs, Duplicate)
				continue
			}
		}
		contact := it.ContactID
		if it.StatusRank > 0 {
			si, _, found, err := q.getSent(ctx, it.MID)
			if err != nil {
				return nil, nil, err
			}
			if contact == "" {
				contact = si.ContactID
			}
			// Never downgrade: read > delivered > failed > sent.
			if contact == "" || (found && si.Rank >= it.StatusRank) {
				outs = append(outs, Skipped)
				continue
			}
		}
		body, err := it.Build(contact)
		if err != nil {
			outs = append(outs, Skipped)
			continue
		}
		r := &Record{Body: body, MID: it.MID, ContactID: contact, Kind: it.Kind, Key: it.Key, Enqueued: now}
		data, err := json.Marshal(r)
		if err != nil { // a body that is not JSON: nothing the platform could take
			outs = append(outs, Skipped)
			continue
		}
		m := nats.NewMsg(q.inSubject(int(contactHash(contact) % uint32(q.parts))))
		m.Data = data
		if it.Key != "" {
			// The window is the stream's, shared by every channel: the
			// same provider id on two channels is two events.
			m.Header.Set(jetstream.MsgIDHeader, q.ch+"|"+it.Key)
		}
		ack, err := q.js.PublishMsg(ctx, m)
		if err != nil {
			if full(err) {
				return nil, nil, ErrFull
			}
			return nil, nil, err
		}
		if it.Key != "" {
			// Before the provider's acknowledgement: its retry after a
			// server restart must find the key.
			if _, err := q.seen.Put(ctx, q.sentKey(it.Key), []byte(strconv.FormatInt(now, 10))); err != nil {
				return nil, nil, err
			}
		}
		if ack.Duplicate {
			outs = append(outs, Duplicate)
			continue
		}
		if it.StatusRank > 0 {
			rank := it.StatusRank
			if err := q.updateSent(ctx, it.MID, func(si *sentRecord) bool {
				if si.Rank >= rank {
					return false
				}
				si.Rank, si.Time = rank, now
				if si.ContactID == "" {
					si.ContactID = contact
				}
				return true
			}); err != nil {
				q.log.Warn("cannot record the status of a sent message (an older status may still follow)", "mId", it.MID, "err", err)
			}
		}
		r.Seq = ack.Sequence
		outs = append(outs, Queued)
		recs = append(recs, r)
	}
	return outs, recs, nil
}

// full reports a publish the stream refused for its bounds.
func full(err error) bool {
	s := err.Error()
	return strings.Contains(s, "maximum messages") || strings.Contains(s, "maximum bytes") || strings.Contains(s, "resource limits")
}

// RecordSentAsync writes nothing: the sent record is written with the reply
// (replied), one write per send. A receipt that comes first waits for it.
func (q *natsQueue) RecordSentAsync(mid, contactID string, cb func(error)) {
	if cb != nil {
		cb(nil)
	}
}

// replied records the mId's contact and reply time, in the background (the
// reply is already written). Receipts for mid, on any relay, wait for it.
func (q *natsQueue) replied(mid, contactID string) {
	now := q.now().UnixMilli()
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
		defer cancel()
		err := q.updateSent(ctx, mid, func(si *sentRecord) bool {
			if si.ContactID == "" {
				si.ContactID = contactID
			}
			if si.Time == 0 {
				si.Time = now
			}
			si.Replied = now
			return true
		})
		if err != nil {
			q.log.Error("cannot record the sent message (status receipts may not find their contact)", "mId", mid, "err", err)
		}
	}()
}

// awaitReplied polls the sent bucket until a relay recorded that the reply
// for mid was written and flushed (replied runs after that); it gives up
// after 5 s (an mId the relays never sent: a status of an older or foreign
// message).
func (q *natsQueue) awaitReplied(ctx context.Context, mid string) {
	deadline := time.Now().Add(unknownWait)
	for time.Now().Before(deadline) {
		si, _, _, err := q.getSent(ctx, mid)
		if err == nil && si.Replied > 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (q *natsQueue) Known(mid string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	_, _, found, err := q.getSent(ctx, mid)
	return err == nil && found
}

func (q *natsQueue) MediaKey() []byte { return q.mediaKey }

// Prune has nothing to do: the stream's duplicate window and the bucket's
// TTL forget old keys on the server.
func (q *natsQueue) Prune() error { return nil }

// Bury keeps r on the dead subject, then takes it off the queue.
func (q *natsQueue) Bury(r *Record, reason string) error {
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	r.LastError = reason
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	m := nats.NewMsg(q.deadSubject())
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, "dead|"+strconv.FormatUint(r.Seq, 10))
	if _, err := q.js.PublishMsg(ctx, m); err != nil {
		return err
	}
	if v, ok := q.msgs.Load(r); ok {
		return v.(jetstream.Msg).Ack()
	}
	return nil
}

// ParseQueueURLs checks a --queue value (nats://host:4222[,nats://…]) and
// returns its URLs and the secrets in them (passwords, tokens), for the log
// redactor.
func ParseQueueURLs(s string) (urls, secrets []string, err error) {
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		u, perr := url.Parse(p)
		if perr != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
			return nil, nil, fmt.Errorf("--queue %q: use nats://host:4222 or tls://host:4222, comma-separated", RedactURLs(p))
		}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				secrets = append(secrets, pw)
			} else {
				secrets = append(secrets, u.User.Username())
			}
		}
		urls = append(urls, p)
	}
	return urls, secrets, nil
}
