package platform

import (
	"context"
	"errors"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is one request of a bulk run.
type Outcome struct {
	Seq    int // 1-based
	MID    string
	Result *Result // nil when no response arrived
	Err    error
}

// OK reports whether the platform accepted the request.
func (o Outcome) OK() bool { return o.Err == nil && o.Result != nil }

// StatusKey groups failures in a summary: the HTTP status, or "network".
func (o Outcome) StatusKey() string {
	if o.Result != nil {
		return strconv.Itoa(o.Result.Status)
	}
	return "network"
}

// BulkOptions steer Client.Bulk.
type BulkOptions struct {
	Count       int
	Concurrency int // 0 → 1
	// Body returns request seq's body and its (first) mId. Called from many
	// goroutines at once.
	Body func(seq int) ([]byte, string)
	// OnOutcome, if set, sees every outcome as it completes (concurrently:
	// it must do its own locking).
	OnOutcome func(Outcome)
	// Done, Failed and Retried, if set, count completed requests, those
	// that failed and those that needed more than one attempt (for a
	// progress bar).
	Done, Failed, Retried *atomic.Int64
	// StopOnAuth ends the run at the first 401/403: every later request
	// would be rejected the same way.
	StopOnAuth bool
}

// Summary is what a bulk run did.
type Summary struct {
	Count     int            `json:"count"` // requests attempted to completion
	Sent      int            `json:"sent"`
	Failed    int            `json:"failed"`
	ByStatus  map[string]int `json:"failedByStatus"`
	Elapsed   time.Duration  `json:"-"`
	Rate      float64        `json:"ratePerSec"` // completed requests per second
	P50       time.Duration  `json:"-"`
	P90       time.Duration  `json:"-"`
	P99       time.Duration  `json:"-"`
	AuthError bool           `json:"-"`
	Stopped   bool           `json:"stopped,omitempty"` // ended early (auth error or cancel)
	// Retried counts requests that needed more than one attempt;
	// RetriedBy counts the retries by reason ("429", "503", "network").
	Retried   int            `json:"retried"`
	RetriedBy map[string]int `json:"retriedBy"`
	// RateLimited: the platform answered 429 at least once, so the achieved
	// rate may be below the one asked for.
	RateLimited bool `json:"rateLimited"`
}

// workerStats is private to one goroutine: no lock on the hot path.
type workerStats struct {
	latencies []time.Duration
	sent      int
	byStatus  map[string]int
	auth      bool
	retried   int
	retriedBy map[string]int
	limited   bool
}

// Bulk sends Count requests with Concurrency workers sharing the client's
// rate limiter and connection pool.
func (c *Client) Bulk(ctx context.Context, o BulkOptions) Summary {
	workers := max(o.Concurrency, 1)
	workers = min(workers, max(o.Count, 1))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	stats := make([]workerStats, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(st *workerStats) {
			defer wg.Done()
			st.byStatus = map[string]int{}
			st.retriedBy = map[string]int{}
			st.latencies = make([]time.Duration, 0, o.Count/workers+1)
			for {
				seq := int(next.Add(1))
				if seq > o.Count || ctx.Err() != nil {
					return
				}
				body, mid := o.Body(seq)
				res, err := c.Post(ctx, body)
				if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
					return // cancelled mid-flight: not an outcome
				}
				out := Outcome{Seq: seq, MID: mid, Result: res, Err: err}
				if res != nil {
					st.latencies = append(st.latencies, res.Latency)
				}
				if st.countRetries(res, err) && o.Retried != nil {
					o.Retried.Add(1)
				}
				if !out.OK() && o.Failed != nil {
					o.Failed.Add(1)
				}
				if out.OK() {
					st.sent++
				} else {
					st.byStatus[out.StatusKey()]++
					var se *StatusError
					if errors.As(err, &se) && se.IsAuth() {
						st.auth = true
						if o.StopOnAuth {
							cancel()
						}
					}
				}
				if o.OnOutcome != nil {
					o.OnOutcome(out)
				}
				if o.Done != nil {
					o.Done.Add(1)
				}
			}
		}(&stats[w])
	}
	wg.Wait()
	elapsed := time.Since(start)

	s := Summary{ByStatus: map[string]int{}, RetriedBy: map[string]int{}, Elapsed: elapsed}
	var all []time.Duration
	for _, st := range stats {
		s.Retried += st.retried
		for k, v := range st.retriedBy {
			s.RetriedBy[k] += v
		}
		s.RateLimited = s.RateLimited || st.limited
		s.Sent += st.sent
		for k, v := range st.byStatus {
			s.ByStatus[k] += v
			s.Failed += v
		}
		s.AuthError = s.AuthError || st.auth
		all = append(all, st.latencies...)
	}
	s.Count = s.Sent + s.Failed
	s.Stopped = s.Count < o.Count
	if elapsed > 0 {
		s.Rate = float64(s.Count) / elapsed.Seconds()
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	s.P50, s.P90, s.P99 = Percentile(all, 50), Percentile(all, 90), Percentile(all, 99)
	return s
}

// countRetries notes why a request needed more than one attempt, and
// reports whether it did.
func (st *workerStats) countRetries(res *Result, err error) bool {
	var why []string
	if res != nil {
		why = res.Retried
		st.limited = st.limited || res.Status == 429
	} else {
		var ne *NetworkError
		if errors.As(err, &ne) {
			why = ne.Retried
		}
	}
	if len(why) > 0 {
		st.retried++
	}
	for _, w := range why {
		st.retriedBy[w]++
		st.limited = st.limited || w == "429"
	}
	return len(why) > 0
}

// Percentile is the nearest-rank percentile of sorted durations (0 if none).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
