package relay

import (
	"context"
	"log/slog"
	"sync"
)

// queue is where accepted events wait for the platform: the bbolt spool on
// one machine (spoolQueue), JetStream across many (natsQueue). Both keep the
// same promises: Enqueue returns once the events are durable, each event is
// posted until the platform takes it or refuses it for good, events of one
// contact are posted in order, and provider retries are de-duplicated.
type queue interface {
	// Enqueue makes items durable and returns each outcome and the records queued.
	Enqueue(items []Item) ([]Outcome, []*Record, error)
	// RecordSentAsync remembers that /message sent mid to contactID.
	RecordSentAsync(mid, contactID string, cb func(error))
	// Known reports whether a send (or status) was recorded for mid.
	Known(mid string) bool
	// Bury moves a record the platform refused for good out of the queue.
	Bury(r *Record, reason string) error
	MediaKey() []byte
	Stats() Stats
	Prune() error
	Close() error

	// run starts delivery: the queue's workers hand records to d.deliver,
	// in order per contact, and settle them by its result.
	run(ctx context.Context, wg *sync.WaitGroup, d delivery) error
	// route hands records just enqueued to the workers (the spool's are in
	// memory; JetStream's consumers fetch them instead).
	route(recs []*Record)
	// pending is how many events wait or are in flight.
	pending() int64
	// gauges are the counters metrics read on every scrape (cheap).
	gauges() Stats
}

// delivery is what the engine gives a queue's workers.
type delivery struct {
	workers int
	log     *slog.Logger
	// deliver retries r until it is delivered or buried; ok is false when
	// the engine stops first (r stays queued).
	deliver func(r *Record) (res result, ok bool)
}

// replyWaiter is a queue shared by several relays: a receipt may reach one
// relay while another answered the /message call of its mId, so the wait for
// that reply goes through the queue, not the engine's memory.
type replyWaiter interface {
	// awaitReplied returns once a relay wrote the /message reply for mid
	// (and the platform had a moment to store it), or after a deadline.
	awaitReplied(ctx context.Context, mid string)
	// replied records that the reply for mid went out.
	replied(mid, contactID string)
}

// spoolQueue is the bbolt spool with its in-memory worker queues.
type spoolQueue struct {
	*Spool
	queues []chan *Record
}

func (q *spoolQueue) pending() int64 { return q.depth.Load() }

func (q *spoolQueue) gauges() Stats {
	return Stats{Depth: q.depth.Load(), Bytes: q.size.Load(), Dead: q.dead.Load(), Bad: q.bad.Load(),
		InFlight: q.flight.Load(), Redelivered: q.redelivered.Load()}
}

// run loads what the spool holds from a previous run and starts the workers.
func (q *spoolQueue) run(ctx context.Context, wg *sync.WaitGroup, d delivery) error {
	pending, err := q.Pending()
	if err != nil {
		return err
	}
	cap := q.lim.MaxEntries + 1024
	q.queues = make([]chan *Record, d.workers)
	for i := range q.queues {
		q.queues[i] = make(chan *Record, cap)
	}
	q.route(pending)
	if len(pending) > 0 {
		d.log.Info("resuming spooled events", "count", len(pending))
	}
	if n := q.InDoubt(); n > 0 {
		d.log.Warn("events were being posted when the relay stopped; posting them again with the same mId (at least once: the platform may see them twice)", "count", n)
	}
	if st := q.Stats(); st.Bad > 0 {
		d.log.Error("the spool holds unreadable events, quarantined in its bad bucket (the rest are delivered); see 'ccx relay spool check'", "bad", st.Bad, "spool", st.Path)
	}
	for i := range q.queues {
		wg.Add(1)
		go q.worker(ctx, wg, d, q.queues[i])
	}
	return nil
}

func (q *spoolQueue) route(recs []*Record) {
	if q.queues == nil {
		return // not started: run loads them from the spool
	}
	for _, r := range recs {
		q.queues[contactHash(r.ContactID)%uint32(len(q.queues))] <- r
	}
}

// contactHash is FNV-1a: events of one contact always land in one partition.
func contactHash(c string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(c); i++ {
		h = (h ^ uint32(c[i])) * 16777619
	}
	return h
}

// ClaimBatch bounds how many events a delivery worker has in flight: the
// most a crash can make it post twice. 1 repeats the fewest; 4 would keep
// the end-to-end rate of unbatched asynchronous marking at an unlimited
// --rate-limit (about 1.8 times that of 1, far above the platform's 20/s),
// at up to 4 repeats per worker per crash (docs/relay.md).
const ClaimBatch = 1

// worker delivers its partition in order; a record that fails is retried
// with backoff until it is delivered or refused for good: nothing is dropped.
//
// Before posting, the worker marks the next batch of up to ClaimBatch waiting
// events in flight and waits for that write. Each delivered event leaves the
// queue in the next group commit, without waiting; the spool commits in
// order, so once a batch is marked, every earlier delivery is off the queue
// on disk. A crash can then repeat only posts of the current batch: at most
// ClaimBatch per worker, all counted at the next start.
func (q *spoolQueue) worker(ctx context.Context, wg *sync.WaitGroup, d delivery, in chan *Record) {
	defer wg.Done()
	batch := make([]*Record, 0, ClaimBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case r := <-in:
			batch = append(batch, r)
		}
	fill:
		for len(batch) < ClaimBatch {
			select {
			case r := <-in:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if err := q.Claim(batch); err != nil {
			// Post anyway: the events stay queued, so a failed write can
			// only make them be posted again later, never lost.
			d.log.Error("spool write failed before delivery", "mId", batch[0].MID, "err", err)
		}
		for _, r := range batch {
			res, ok := d.deliver(r)
			if !ok {
				return // the rest of the batch stays in the spool for the next start
			}
			if res == delivered {
				q.DoneAsync(r, func(err error) {
					if err != nil {
						d.log.Error("spool write failed after delivery; the event will be posted again (same mId)", "mId", r.MID, "err", err)
					}
				})
			}
		}
	}
}
