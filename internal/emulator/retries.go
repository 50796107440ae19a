package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// An integration server that retries a post the platform refused for good
// (a wrong token, a bad body) fills the log with the same refusal. The
// emulator ties repeated posts of one event (same channel, event type,
// status and mId) within retryWindow together and, once they stop for
// retryQuiet, reports the series once as a retry pattern: a warning (live
// log, --json, /_emulator/warnings) and RequestRecord.Retry on every post.

// RetryInfo ties a webhook post to the earlier posts of the same event.
type RetryInfo struct {
	MID      string `json:"mId"`
	Attempt  int    `json:"attempt"`           // 2: the first repeat
	FirstSeq int64  `json:"firstSeq"`          // request log seq of the first post
	Pattern  string `json:"pattern,omitempty"` // the report, once made
}

// WarnRetryPattern is the warning rule of a reported retry pattern.
const WarnRetryPattern = "retry-pattern"

const (
	retryWindow    = 2 * time.Minute
	retryQuiet     = 3 * time.Second
	maxRetrySeries = 10000
	maxSeriesSeqs  = 64
)

type retryKey struct{ channel, typ, status, mid string }

type retrySeries struct {
	key         retryKey
	first, last time.Time
	n           int
	seqs        []int64 // the first maxSeriesSeqs posts
	statuses    []int
	reported    bool
	timer       *time.Timer
}

type retryTracker struct {
	mu     sync.Mutex
	series map[retryKey]*retrySeries
	quiet  time.Duration // 0: retryQuiet (tests set it long and flush)
	// nextSweep: see sweepLocked.
	nextSweep time.Time
}

// noteRetries records a logged webhook post (seq) in its series and ties
// the record to the earlier posts.
func (e *Emulator) noteRetries(seq int64, rec *RequestRecord) {
	if len(rec.Events) == 0 {
		return
	}
	t := &e.retries
	now := time.Now()
	var info *RetryInfo
	t.mu.Lock()
	if t.series == nil {
		t.series = map[retryKey]*retrySeries{}
	}
	for i, ev := range rec.Events {
		if ev.MID == "" || repeatedIn(rec.Events[:i], ev) {
			continue
		}
		k := retryKey{rec.ChannelID, ev.Type, ev.Status, ev.MID}
		s := t.series[k]
		if s == nil || now.Sub(s.first) > retryWindow {
			if s != nil && s.timer != nil {
				s.timer.Stop()
			}
			if len(t.series) >= maxRetrySeries && !t.sweepLocked(now) {
				continue // too many distinct posts in the window: stop tracking new ones
			}
			s = &retrySeries{key: k, first: now}
			t.series[k] = s
		}
		s.n++
		s.last = now
		if len(s.seqs) < maxSeriesSeqs {
			s.seqs, s.statuses = append(s.seqs, seq), append(s.statuses, rec.Status)
		}
		if s.n < 2 {
			continue
		}
		if info == nil {
			info = &RetryInfo{MID: ev.MID, Attempt: s.n, FirstSeq: s.seqs[0]}
		}
		if !s.reported && suspectRetries(s.statuses) {
			quiet := t.quiet
			if quiet <= 0 {
				quiet = retryQuiet
			}
			if s.timer == nil {
				k := k
				s.timer = time.AfterFunc(quiet, func() { e.reportRetry(k) })
			} else {
				s.timer.Reset(quiet)
			}
		}
	}
	t.mu.Unlock()
	if info != nil {
		e.reqs.update(seq, func(r *RequestRecord) { r.Retry = info })
	}
}

func repeatedIn(evs []EventRef, ev EventRef) bool {
	for _, o := range evs {
		if o == ev {
			return true
		}
	}
	return false
}

// sweepLocked drops series older than the window (at most once a second:
// a full map of fresh series is not swept on every post); it reports
// whether there is room for another.
func (t *retryTracker) sweepLocked(now time.Time) bool {
	if now.Before(t.nextSweep) {
		return false
	}
	t.nextSweep = now.Add(time.Second)
	for k, s := range t.series {
		if now.Sub(s.first) > retryWindow {
			if s.timer != nil {
				s.timer.Stop()
			}
			delete(t.series, k)
		}
	}
	return len(t.series) < maxRetrySeries
}

// suspectRetries: a post was repeated after an answer that retrying cannot
// change (a 2xx, or a 4xx other than 408, 425 and 429).
func suspectRetries(statuses []int) bool {
	for _, st := range statuses[:len(statuses)-1] {
		if !retryable(st) {
			return true
		}
	}
	return false
}

func retryable(st int) bool {
	return st == 0 || st == http.StatusRequestTimeout || st == http.StatusTooEarly || st == http.StatusTooManyRequests || st >= 500
}

// reportRetry reports a series once.
func (e *Emulator) reportRetry(k retryKey) {
	t := &e.retries
	t.mu.Lock()
	s := t.series[k]
	if s == nil || s.reported {
		t.mu.Unlock()
		return
	}
	s.reported = true
	msg := retryPattern(s)
	seqs := append([]int64(nil), s.seqs...)
	t.mu.Unlock()
	for _, seq := range seqs {
		e.reqs.update(seq, func(r *RequestRecord) {
			if r.Retry == nil {
				r.Retry = &RetryInfo{MID: k.mid, Attempt: 1, FirstSeq: seqs[0]}
			}
			r.Retry.Pattern = msg
		})
	}
	chg := e.store.addWarning(Warning{ChannelID: k.channel, MID: k.mid, Rule: WarnRetryPattern, Message: msg})
	e.bus.publish(chg.events()...)
}

// reset forgets every series (Reset, Shutdown).
func (t *retryTracker) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.series {
		if s.timer != nil {
			s.timer.Stop()
		}
	}
	t.series = nil
}

// flushRetries reports every pending series now (tests; the timers do it
// otherwise).
func (e *Emulator) flushRetries() {
	t := &e.retries
	t.mu.Lock()
	var pending []*retrySeries
	for _, s := range t.series {
		if !s.reported && s.timer != nil {
			s.timer.Stop()
			pending = append(pending, s)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].seqs[0] < pending[j].seqs[0] })
	keys := make([]retryKey, len(pending))
	for i, s := range pending {
		keys[i] = s.key
	}
	t.mu.Unlock()
	for _, k := range keys {
		e.reportRetry(k)
	}
}

// retryPattern words a report: how often, how long, what was answered and
// what to do about it.
func retryPattern(s *retrySeries) string {
	head := fmt.Sprintf("mId %q (%s) posted %d times in %s", s.key.mid, strings.TrimSpace(s.key.typ+" "+s.key.status), s.n, fmtSpan(s.last.Sub(s.first)))
	same := true
	for _, st := range s.statuses {
		same = same && st == s.statuses[0]
	}
	if same {
		st := s.statuses[0]
		switch {
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			return fmt.Sprintf("%s, all refused with %d: your server retries on %d; fix the token instead", head, st, st)
		case st == http.StatusNotFound:
			return fmt.Sprintf("%s, all refused with 404: your server retries on 404; fix the webhook URL (POST %s) instead", head, WebhookPath)
		case st >= 200 && st < 300:
			return fmt.Sprintf("%s, all accepted (%d): your server posts the same event again after a 2xx; does it read the answer, or time out too early?", head, st)
		case st >= 400 && st < 500:
			return fmt.Sprintf("%s, all refused with %d: your server retries on %d; fix the body instead (the answer's error.message says what)", head, st, st)
		}
	}
	answers := make([]string, len(s.statuses))
	for i, st := range s.statuses {
		answers[i] = strconv.Itoa(st)
	}
	if len(s.statuses) < s.n {
		answers = append(answers, "…")
	}
	return fmt.Sprintf("%s (answered %s): only 429, 408 and 5xx answers are worth retrying; after a 2xx the event is stored, after another 4xx fix the post instead", head, strings.Join(answers, ", "))
}

func fmtSpan(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}
