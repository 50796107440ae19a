package relay

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Delivery from the JetStream queue: one fetch loop per partition, and the
// queue's state read from the server.

// run starts one delivery loop per partition. --workers does not apply: the
// partitions are the concurrency, shared by all relays (MaxAckPending 1).
func (q *natsQueue) run(ctx context.Context, wg *sync.WaitGroup, d delivery) error {
	for p := range q.cons {
		wg.Add(1)
		go q.partition(ctx, wg, d, q.cons[p])
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The gauges' figures: 18 server requests per refresh, so not per scrape.
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			st := q.Stats()
			q.cached.Store(&st)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

func (q *natsQueue) route([]*Record) {} // the consumers fetch them

func (q *natsQueue) partition(ctx context.Context, wg *sync.WaitGroup, d delivery, c jetstream.Consumer) {
	defer wg.Done()
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		m, err := c.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				d.log.Debug("queue fetch failed; retrying", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(250 * time.Millisecond):
				}
			}
			continue
		}
		q.handle(ctx, d, m)
	}
}

// handle delivers one fetched event. While it retries, the relay tells
// JetStream it is still at work, so the event is not handed to another
// relay; a relay that dies stops doing so, and after AckWait another relay
// posts the event again (same mId: at least once).
func (q *natsQueue) handle(ctx context.Context, d delivery, m jetstream.Msg) {
	r := &Record{}
	if err := json.Unmarshal(m.Data(), r); err != nil || len(r.Body) == 0 {
		d.log.Error("the queue holds an unreadable event; moved to the dead subject", "subject", m.Subject(), "err", err)
		dm := nats.NewMsg(q.deadSubject())
		dm.Data = m.Data()
		pctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
		_, perr := q.js.PublishMsg(pctx, dm)
		cancel()
		if perr == nil {
			_ = m.Ack()
		}
		return
	}
	if md, err := m.Metadata(); err == nil {
		r.Seq = md.Sequence.Stream
		if md.NumDelivered > 1 {
			q.redelivered.Add(1)
			d.log.Warn("an event was in flight at a relay that stopped or lost the queue; posting it again with the same mId (at least once)", "mId", r.MID, "deliveries", md.NumDelivered)
		}
	}
	q.msgs.Store(r, m)
	defer q.msgs.Delete(r)
	stop := make(chan struct{})
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		t := time.NewTicker(q.ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	res, ok := d.deliver(r)
	close(stop)
	<-beat
	switch {
	case !ok:
		_ = m.Nak() // stopping: another relay takes it now
	case res == delivered:
		q.delivered.Add(1)
		if err := m.Ack(); err != nil {
			d.log.Error("queue acknowledgement failed after delivery; the event will be posted again (same mId)", "mId", r.MID, "err", err)
		}
	}
}

// pending counts the events waiting or in flight in this channel's
// partitions, across all relays. Drain polls it: a fresh count at most
// every 200 ms (16 requests each).
func (q *natsQueue) pending() int64 {
	q.pendMu.Lock()
	defer q.pendMu.Unlock()
	if time.Since(q.pendAt) < 200*time.Millisecond {
		return q.pendN
	}
	q.pendN, q.pendAt = q.countPending(), time.Now()
	return q.pendN
}

func (q *natsQueue) countPending() int64 {
	if !q.nc.IsConnected() {
		// No server: nothing this relay holds can be acknowledged, so there
		// is nothing to drain; what it did not ack stays in the stream for
		// the others or the next start. Waiting out each call's timeout
		// made a stop take 20 s and more.
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	var n int64
	for _, c := range q.cons {
		ci, err := c.Info(ctx)
		if err != nil {
			return 1 // unknown: not drained
		}
		n += int64(ci.NumPending) + int64(ci.NumAckPending)
	}
	return n
}

func (q *natsQueue) gauges() Stats {
	if st := q.cached.Load(); st != nil {
		return *st
	}
	return Stats{}
}

// Stats reads the queue's state from the server: depth and in-flight across
// all relays; delivered and redelivered count this relay's work.
func (q *natsQueue) Stats() Stats {
	st := Stats{Path: q.where + " (JetStream stream " + natsStream + ")", MaxEntries: q.lim.MaxEntries, MaxBytes: q.lim.MaxBytes,
		Delivered: q.delivered.Load(), Redelivered: q.redelivered.Load()}
	if !q.nc.IsConnected() {
		return st // the server's counts are not to be had: this relay's own only
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	for _, c := range q.cons {
		if ci, err := c.Info(ctx); err == nil {
			st.Depth += int64(ci.NumPending) + int64(ci.NumAckPending)
			st.InFlight += int64(ci.NumAckPending)
		}
	}
	if si, err := q.stream.Info(ctx, jetstream.WithSubjectFilter(q.deadSubject())); err == nil {
		st.Bytes = int64(si.State.Bytes)
		for _, n := range si.State.Subjects {
			st.Dead += int64(n)
		}
	}
	if ks, err := q.sent.Status(ctx); err == nil {
		st.SentMIDs = int64(ks.Values())
	}
	if ks, err := q.seen.Status(ctx); err == nil {
		st.DedupeKeys = int64(ks.Values())
	}
	return st
}

// Close waits for background writes and leaves the server; events not
// acknowledged stay in the stream for the other relays or the next start.
func (q *natsQueue) Close() error {
	q.closeOnce.Do(func() {
		q.wg.Wait()
		_ = q.nc.FlushTimeout(2 * time.Second)
		q.nc.Close()
	})
	return nil
}
