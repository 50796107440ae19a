// Command relayload is the load generator of bench/relay-scale.sh. It posts
// -n ClickSend inbound pushes (each a new provider message id, -contacts
// contacts, spread over -channels) to the relays of -targets in turn, as a
// load balancer would, from -c concurrent senders; each push counts once the
// relay answered 200, which it does only after the event is durable (bbolt
// fsync or JetStream publish ack). It then polls the relays' /metrics until
// they have delivered all -n to the platform, checks that the emulator
// stored each exactly once, and prints one RESULT line: inbound and
// end-to-end msg/s, ack latency, and the CPU seconds (from /proc) of every
// process named in -pids, in total and per 1,000 messages.
//
// -mode post only posts (relays started with a tiny --rate-limit leave the
// events queued) and prints how many the relays delivered meanwhile;
// -mode drain posts nothing and times fresh relays delivering that backlog
// (-n: how many they must deliver, -total: what the emulator must then hold):
// the delivery rate alone, without the inbound work competing for the CPU.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/provider/clicksend"
)

func main() {
	targets := flag.String("targets", "", "comma-separated relay base URLs (http://127.0.0.1:PORT)")
	channels := flag.String("channels", "", "comma-separated channel IDs for channel-scoped routes (/providers/<id>/clicksend/…); empty: one channel, /providers/clicksend/…")
	secret := flag.String("secret", "", "ClickSend path secret")
	n := flag.Int("n", 10000, "pushes")
	c := flag.Int("c", 32, "concurrent senders")
	contacts := flag.Int("contacts", 500, "contacts per channel")
	run := flag.String("run", "r", "prefix of the provider message ids (unique per run)")
	metrics := flag.String("metrics", "", "comma-separated admin URLs (http://127.0.0.1:PORT) whose /metrics count deliveries")
	emu := flag.String("emulator", "", "emulator base URL: reset before, stored messages counted after")
	pids := flag.String("pids", "", "comma-separated name=pid whose CPU time is measured")
	tick := flag.Float64("clk-tck", 100, "clock ticks per second of /proc/PID/stat (getconf CLK_TCK)")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up waiting for delivery after this long")
	mode := flag.String("mode", "full", "full (post, then wait for delivery) | post | drain (see the package comment)")
	total := flag.Int("total", 0, "-mode drain: the messages of -run the emulator must hold at the end (default -n)")
	resume := flag.Int("resume", 0, "-mode drain: send SIGCONT to this pid (the emulator, stopped while the relays started) when the clock starts")
	flag.Parse()
	if *mode != "full" && *mode != "post" && *mode != "drain" {
		fail(2, "-mode must be full, post or drain")
	}
	if *total == 0 {
		*total = *n
	}
	if *targets == "" || *metrics == "" || *secret == "" || *n < 1 || *c < 1 || *contacts < 1 {
		fail(2, "-targets, -metrics, -secret are required; -n, -c, -contacts ≥ 1")
	}
	if err := run1(opts{strings.Split(*targets, ","), splitNonEmpty(*channels), *secret, *n, *c, *contacts, *run,
		strings.Split(*metrics, ","), *emu, *pids, *tick, *timeout, *mode, *total, *resume}); err != nil {
		fail(1, err.Error())
	}
}

type opts struct {
	targets, channels []string
	secret            string
	n, c, contacts    int
	run               string
	metrics           []string
	emu, pids         string
	tick              float64
	timeout           time.Duration
	mode              string
	total, resume     int
}

func run1(o opts) error {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.c + 4}}
	if o.mode == "drain" {
		return drain(client, o)
	}
	if o.emu != "" {
		if err := postEmpty(client, o.emu+"/_emulator/reset"); err != nil {
			return err
		}
	}
	procs, err := parsePids(o.pids)
	if err != nil {
		return err
	}
	procs = append(procs, proc{"loader", os.Getpid()})
	base, err := delivered(client, o.metrics)
	if err != nil {
		return err
	}
	cpu0 := cpuAll(procs, o.tick)
	nch := max(1, len(o.channels))
	url := func(i int) string {
		u := o.targets[i%len(o.targets)] + "/providers/"
		if len(o.channels) > 0 {
			u += o.channels[i%nch] + "/"
		}
		return u + "clicksend/inbound/" + o.secret
	}
	var next atomic.Int64
	var failed atomic.Int64
	lat := make([][]time.Duration, o.c)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= o.n {
					return
				}
				contact := fmt.Sprintf("+614%08d", (i/nch)%o.contacts)
				v := clicksend.InboundForm(fmt.Sprintf("%s-%07d", o.run, i), contact, "", "bench "+strconv.Itoa(i), time.Now().Unix())
				s := time.Now()
				st, err := clicksend.Push(client, url(i), v)
				lat[w] = append(lat[w], time.Since(s))
				if err != nil || st != http.StatusOK {
					if failed.Add(1) == 1 {
						fmt.Fprintf(os.Stderr, "relayload: push %d: status %d %v\n", i, st, err)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	ackElapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d pushes not acknowledged with 200", f, o.n)
	}
	if o.mode == "post" {
		d, err := delivered(client, o.metrics)
		if err != nil {
			return err
		}
		fmt.Printf("RESULT ack_msgs_per_s=%.0f delivered=%.0f\n", float64(o.n)/ackElapsed.Seconds(), d-base)
		return nil
	}
	deadline := time.Now().Add(o.timeout)
	for {
		d, err := delivered(client, o.metrics)
		if err != nil {
			return err
		}
		if d-base >= float64(o.n) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("delivered %.0f of %d within %s", d-base, o.n, o.timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e2eElapsed := time.Since(start)
	cpu1 := cpuAll(procs, o.tick)

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT ack_msgs_per_s=%.0f e2e_msgs_per_s=%.0f ack_p50_ms=%.2f ack_p99_ms=%.2f",
		float64(o.n)/ackElapsed.Seconds(), float64(o.n)/e2eElapsed.Seconds(), pct(.5), pct(.99))
	relayCPU := 0.0
	for _, p := range procs {
		s := cpu1[p.name] - cpu0[p.name]
		if strings.HasPrefix(p.name, "relay") {
			relayCPU += s
		}
		fmt.Fprintf(&b, " cpu_%s_s=%.2f cpu_%s_per_1k=%.3f", p.name, s, p.name, s*1000/float64(o.n))
	}
	fmt.Fprintf(&b, " cpu_relays_per_1k=%.3f", relayCPU*1000/float64(o.n))
	if o.emu != "" {
		stored, distinct, err := storedAtPlatform(client, o.emu, o.run)
		if err != nil {
			return err
		}
		if distinct != o.n || stored != o.n {
			return fmt.Errorf("the emulator stored %d inbound messages (%d distinct mIds) of %d", stored, distinct, o.n)
		}
		fmt.Fprintf(&b, " stored=%d", stored)
	}
	fmt.Println(b.String())
	return nil
}

// drain times the relays of -metrics delivering the backlog of -n events
// left by -mode post, from the first reading of their metrics on.
func drain(client *http.Client, o opts) error {
	procs, err := parsePids(o.pids)
	if err != nil {
		return err
	}
	base, err := delivered(client, o.metrics)
	if err != nil {
		return err
	}
	cpu0 := cpuAll(procs, o.tick)
	start := time.Now()
	if o.resume > 0 {
		if err := syscall.Kill(o.resume, syscall.SIGCONT); err != nil {
			return fmt.Errorf("resume %d: %v", o.resume, err)
		}
	}
	deadline := start.Add(o.timeout)
	for {
		d, err := delivered(client, o.metrics)
		if err != nil {
			return err
		}
		if d >= float64(o.n) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drain: delivered %.0f of %d within %s", d, o.n, o.timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu1 := cpuAll(procs, o.tick)
	timed := float64(o.n) - base
	if timed < float64(o.n)/2 {
		return fmt.Errorf("drain: %.0f of %d were delivered before the first reading: too few timed", base, o.n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT drain_msgs_per_s=%.0f drain_timed=%.0f", timed/elapsed.Seconds(), timed)
	relayCPU := 0.0
	for _, p := range procs {
		s := cpu1[p.name] - cpu0[p.name]
		if strings.HasPrefix(p.name, "relay") {
			relayCPU += s
		}
		fmt.Fprintf(&b, " dcpu_%s_per_1k=%.3f", p.name, s*1000/timed)
	}
	fmt.Fprintf(&b, " dcpu_relays_per_1k=%.3f", relayCPU*1000/timed)
	if o.emu != "" {
		stored, distinct, err := storedAtPlatform(client, o.emu, o.run)
		if err != nil {
			return err
		}
		if distinct != o.total || stored != o.total {
			return fmt.Errorf("the emulator stored %d inbound messages (%d distinct mIds) of %d", stored, distinct, o.total)
		}
		fmt.Fprintf(&b, " drain_stored=%d", stored)
	}
	fmt.Println(b.String())
	return nil
}

// delivered sums ccx_relay_deliveries_total{result="ok"} over the relays
// (every channel's series).
func delivered(c *http.Client, admins []string) (float64, error) {
	total := 0.0
	for _, a := range admins {
		resp, err := c.Get(a + "/metrics")
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ccx_relay_deliveries_total{") || !strings.Contains(line, `result="ok"`) {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				resp.Body.Close()
				return 0, fmt.Errorf("%s/metrics: %q: %v", a, line, err)
			}
			total += v
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// storedAtPlatform counts the emulator's inbound messages of this run and
// their distinct mIds.
func storedAtPlatform(c *http.Client, emu, run string) (stored, distinct int, err error) {
	resp, err := c.Get(emu + "/_emulator/messages")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Messages []struct {
			MID       string `json:"mId"`
			Direction string `json:"direction"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, 0, fmt.Errorf("emulator messages: %v", err)
	}
	seen := map[string]bool{}
	for _, m := range body.Messages {
		if m.Direction != "in" || !strings.HasPrefix(m.MID, run+"-") {
			continue
		}
		stored++
		seen[m.MID] = true
	}
	return stored, len(seen), nil
}

type proc struct {
	name string
	pid  int
}

func parsePids(s string) ([]proc, error) {
	var out []proc
	for _, kv := range splitNonEmpty(s) {
		name, p, ok := strings.Cut(kv, "=")
		pid, err := strconv.Atoi(p)
		if !ok || err != nil {
			return nil, fmt.Errorf("-pids: %q is not name=pid", kv)
		}
		out = append(out, proc{name, pid})
	}
	return out, nil
}

// cpuAll reads utime+stime of each process, in seconds.
func cpuAll(ps []proc, tick float64) map[string]float64 {
	out := map[string]float64{}
	for _, p := range ps {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
		if err != nil {
			fail(1, fmt.Sprintf("cpu of %s: %v", p.name, err))
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		out[p.name] = (u + s) / tick
	}
	return out
}

func postEmpty(c *http.Client, u string) error {
	resp, err := c.Post(u, "application/json", nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

func splitNonEmpty(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "relayload:", msg)
	os.Exit(code)
}
