package bulk

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	goio "io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/verdict"

	"github.com/schollz/progressbar/v3"
)

// Run is one bulk run: a body whose mId and timestamp paths change per
// request.
type Run struct {
	Body              []byte
	MID               string // the first mId; with no MIDPaths every request's
	MIDPaths, TSPaths []string
	MIDPrefix         string // mIds are <prefix>-<n>; "" for fresh UUIDs
	Count             int
	Concurrency       int
	Rate              float64 // asked for: the summary notes a 429-throttled run
	Token             string
	JSON              bool
}

// Do sends the run, streams --json results, then prints the summary and
// each distinct platform warning once.
func (b Run) Do(ctx context.Context, io *ui.IOStreams, c *platform.Client) (platform.Summary, error) {
	tpl, err := platform.NewTemplate(b.Body, b.MIDPaths, b.TSPaths)
	if err != nil {
		return platform.Summary{}, err
	}
	tpl.Now = channel.NowMillis
	tpl.NewMID = func(int) string { return channel.NewMID() }
	if b.MIDPrefix != "" {
		tpl.NewMID = func(seq int) string { return b.MIDPrefix + "-" + strconv.Itoa(seq) }
	}
	body := tpl.Render
	if len(b.MIDPaths) == 0 { // receipts: every request is about the same mId
		body = func(seq int) ([]byte, string) {
			out, _ := tpl.Render(seq)
			return out, b.MID
		}
	}
	var mu sync.Mutex
	var pc ProgressCounts
	bo := platform.BulkOptions{
		Count: b.Count, Concurrency: b.Concurrency, Body: body, StopOnAuth: true,
		Done: &pc.Done, Failed: &pc.Failed, Retried: &pc.Retried,
	}
	// Each distinct platform warning is said once, with how often it came.
	warned := map[string]int{}
	var order []string
	var wmu sync.Mutex
	noteWarnings := func(out platform.Outcome) {
		ws := Warnings(out.Result, b.Token)
		if len(ws) == 0 {
			return
		}
		wmu.Lock()
		defer wmu.Unlock()
		for _, w := range ws {
			if warned[w] == 0 {
				order = append(order, w)
			}
			warned[w]++
		}
	}
	bo.OnOutcome = noteWarnings
	var flushNDJSON func()
	if b.JSON {
		// Buffered, flushed every 100ms and at the end: one write per line
		// would cost a syscall per request at load-test rates.
		bw := bufio.NewWriterSize(io.Out, 64<<10)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		bo.OnOutcome = func(out platform.Outcome) {
			noteWarnings(out)
			r := NewResult(out, b.Token)
			r.Type, r.Seq = "result", out.Seq
			mu.Lock()
			_ = enc.Encode(r)
			mu.Unlock()
		}
		quit := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					mu.Lock()
					_ = bw.Flush()
					mu.Unlock()
				case <-quit:
					return
				}
			}
		}()
		flushNDJSON = func() {
			close(quit)
			wg.Wait()
			_ = bw.Flush()
		}
	}
	stop := Progress(io, &pc, b.Count)
	sum := c.Bulk(ctx, bo)
	stop()
	if flushNDJSON != nil {
		flushNDJSON()
	}

	if b.JSON {
		_ = ui.WriteJSON(io.Out, summaryLine{
			Type: "summary", Requested: b.Count, Count: sum.Count, Sent: sum.Sent, Failed: sum.Failed,
			FailedByStatus: sum.ByStatus, ElapsedMs: ms(sum.Elapsed), RatePerSec: round2(sum.Rate),
			LatencyMs: latencies{P50: ms(sum.P50), P90: ms(sum.P90), P99: ms(sum.P99)}, Stopped: sum.Stopped,
			Retried: sum.Retried, RetriedBy: sum.RetriedBy, RateLimited: sum.RateLimited, Verdict: BulkVerdict(sum),
		})
	} else {
		PrintSummary(io, sum, b.Count, b.Rate)
	}
	for _, w := range order {
		if n := warned[w]; n > 1 {
			w += fmt.Sprintf(" (×%d)", n)
		}
		PrintWarnings(io, []string{w})
	}
	return sum, nil
}

// summaryLine is the final NDJSON line of a bulk --json run.
type summaryLine struct {
	Type           string          `json:"type"`
	Requested      int             `json:"requested"`
	Count          int             `json:"count"`
	Sent           int             `json:"sent"`
	Failed         int             `json:"failed"`
	FailedByStatus map[string]int  `json:"failedByStatus"`
	ElapsedMs      float64         `json:"elapsedMs"`
	RatePerSec     float64         `json:"ratePerSec"`
	LatencyMs      latencies       `json:"latencyMs"`
	Stopped        bool            `json:"stopped"`
	Retried        int             `json:"retried"`
	RetriedBy      map[string]int  `json:"retriedBy"`
	RateLimited    bool            `json:"rateLimited"`
	Verdict        verdict.Verdict `json:"verdict"`
}

// BulkVerdict is the run's verdict: what ended it, else the commonest failure.
func BulkVerdict(s platform.Summary) verdict.Verdict {
	switch {
	case s.AuthError:
		return verdict.Auth
	case s.Failed == 0:
		return verdict.OK
	case s.ByStatus["network"] == s.Failed:
		return verdict.Network
	case s.ByStatus["429"] > 0:
		return verdict.RateLimited
	}
	return verdict.Refused
}

type latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// PrintSummary writes the human summary of a bulk run on stdout.
func PrintSummary(io *ui.IOStreams, s platform.Summary, requested int, rate float64) {
	w := ui.WrapLines(io.Out, io.Width(), 2)
	st := io.Styles(io.Out)
	fmt.Fprintf(w, "%s %d of %d in %s (%.1f req/s)\n", st.OK.Render("sent"), s.Sent, requested, s.Elapsed.Round(time.Millisecond), s.Rate)
	if s.Failed > 0 {
		keys := make([]string, 0, len(s.ByStatus))
		for k := range s.ByStatus {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s: %d", k, s.ByStatus[k])
		}
		fmt.Fprintf(w, "%s %d (%s)\n", st.Error.Render("failed"), s.Failed, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s\n", fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99))
	if s.Retried > 0 {
		fmt.Fprintf(w, "%s %s (%s)\n", st.Warning.Render("retried"), ui.Plural(s.Retried, "request"), countList(s.RetriedBy, "×"))
	}
	if s.RateLimited && rate > 0 && s.Rate < rate*0.9 {
		fmt.Fprintf(w, "%s %.1f req/s is below --rate %g because the platform rate-limited (429)\n", st.Warning.Render("note:"), s.Rate, rate)
	}
}

// countList renders {"429":3,"503":1} as "429 ×3, 503 ×1", sorted by key.
func countList(m map[string]int, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s%d", k, sep, m[k])
	}
	return strings.Join(parts, ", ")
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond / 10).String()
}

// ProgressCounts are a bulk run's running counts, as the bar shows them.
type ProgressCounts struct{ Done, Failed, Retried atomic.Int64 }

// Progress draws a bar on stderr while a bulk run goes, only on a terminal:
// percent, count, rate, ETA, and the failures and retries so far.
// schollz/progressbar draws it (rate and ETA smoothed, width-aware); the
// counts are polled so the hot path only adds to atomics.
func Progress(io *ui.IOStreams, c *ProgressCounts, count int) (stop func()) {
	if !io.IsStderrTTY() || count <= 0 {
		return func() {}
	}
	bar := NewBar(io.ErrOut, count, io.ColorEnabled())
	quit := make(chan struct{})
	finished := make(chan struct{})
	update := func() {
		bar.Describe(progressNote(c.Failed.Load(), c.Retried.Load()))
		_ = bar.Set64(c.Done.Load())
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				update()
			case <-quit:
				update()
				_ = bar.Exit()
				fmt.Fprintln(io.ErrOut)
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// NewBar is the bulk run's bar on w: "[===>   ]  42% (420/1000, 96 req/s) [4s:6s]".
func NewBar(w goio.Writer, count int, color bool) *progressbar.ProgressBar {
	return progressbar.NewOptions(count,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionEnableColorCodes(color),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetTheme(progressbar.Theme{Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]"}),
	)
}

// progressNote is the bar's tail: "2 failed, 1 retried" (empty when none).
func progressNote(failed, retried int64) string {
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", failed))
	}
	if retried > 0 {
		parts = append(parts, fmt.Sprintf("%d retried", retried))
	}
	return strings.Join(parts, ", ")
}
