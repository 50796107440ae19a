package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/natstest"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
)

// natsPartitions is the queue's partition count (relay.natsPartitions): the
// most events one relay can have in flight.
const natsPartitions = 16

// ccxBinary builds cmd/ccx into the test's temp dir.
func ccxBinary(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ccx")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ccx-cli/ccx/cmd/ccx").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cluster is N real `ccx relay --queue` processes on one embedded JetStream,
// delivering through a switchable proxy (the platform's outages) to an
// emulator.
type cluster struct {
	t      *testing.T
	ctx    context.Context
	bin    string
	dir    string
	js     *natstest.Server
	emu    *emulator.Emulator
	hook   string      // the proxy's webhook URL
	down   atomic.Bool // the proxy answers 503: the platform is out
	ports  []int
	mu     sync.Mutex // guards procs
	procs  []*exec.Cmd
	logs   bytes.Buffer
	logMu  sync.Mutex
	client *http.Client
}

func newCluster(t *testing.T, ctx context.Context, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, ctx: ctx, bin: ccxBinary(t, ctx), dir: t.TempDir(), client: &http.Client{Timeout: 5 * time.Second}}
	c.js = natstest.Start(t, filepath.Join(c.dir, "js"))
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c.emu = emu
	target, _ := url.Parse(emu.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.down.Load() {
			http.Error(w, "platform outage", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c.hook = "http://" + ln.Addr().String() + emulator.WebhookPath
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.ports = append(c.ports, l.Addr().(*net.TCPAddr).Port)
		l.Close()
		c.procs = append(c.procs, nil)
		c.start(i)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.procs {
			if p != nil {
				_ = p.Process.Kill()
				_ = p.Wait()
			}
		}
	})
	return c
}

func (c *cluster) log() string {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	return c.logs.String()
}

// start runs relay i (again, after a kill) on its port.
func (c *cluster) start(i int) {
	c.t.Helper()
	ch := c.emu.Channel()
	cmd := exec.Command(c.bin, "relay", "--provider", "clicksend", "--port", strconv.Itoa(c.ports[i]),
		"--webhook-url", c.hook, "--channel-id", ch.ID, "--token", ch.Token, "--id-type", "phone",
		"--queue", c.js.URL(), "--queue-ack-wait", "2s", "--rate-limit", "0", "--backoff", "20ms", "--max-backoff", "1s",
		"--provider-base-url", "http://127.0.0.1:9", "--admin-addr", "off", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "CCX_CONFIG="+filepath.Join(c.dir, "config.toml"),
		"CCX_CLICKSEND_USERNAME=u", "CCX_CLICKSEND_API_KEY=k", "CCX_CLICKSEND_SECRET=nats-test-secret")
	cmd.Stderr = &lockedWriter{w: &c.logs, mu: &c.logMu}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.procs[i] = cmd
	c.mu.Unlock()
}

// kill sends relay i SIGKILL and starts it again.
func (c *cluster) kill(i int) {
	c.t.Helper()
	c.mu.Lock()
	p := c.procs[i]
	c.mu.Unlock()
	if err := p.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	_ = p.Wait()
	c.start(i)
}

// push delivers message i to the relays as a provider behind a load
// balancer does: to relay i mod N, then the next one, until one answers 200.
func (c *cluster) push(i int, v url.Values) bool {
	for try := 0; ; try++ {
		port := c.ports[(i+try)%len(c.ports)]
		st, err := clicksend.Push(c.client, "http://127.0.0.1:"+strconv.Itoa(port)+"/providers/clicksend/inbound/nats-test-secret", v)
		if err == nil && st == 200 {
			return true
		}
		if c.ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stream pushes total messages from contacts contacts, each contact's in
// order (one after the other, acknowledged before the next), counting the
// acknowledged ones in acked; wait returns how many were never acknowledged.
func (c *cluster) stream(total, contacts int, acked *atomic.Int64) (wait func() int64) {
	var wg sync.WaitGroup
	var stuck atomic.Int64
	const pushers = 8
	for w := 0; w < pushers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Pusher w owns the contacts ≡ w (mod pushers) and sends their
			// messages in index order.
			for i := 0; i < total; i++ {
				if (i%contacts)%pushers != w {
					continue
				}
				v := clicksend.InboundForm(fmt.Sprintf("NK-%04d", i), contactOf(i, contacts), "+61400000000", textOf(i, contacts), time.Now().Unix())
				if !c.push(i, v) {
					stuck.Add(1)
					continue
				}
				acked.Add(1)
			}
		}()
	}
	return func() int64 { wg.Wait(); return stuck.Load() }
}

func contactOf(i, contacts int) string { return fmt.Sprintf("+614111%05d", i%contacts) }
func textOf(i, contacts int) string {
	return fmt.Sprintf("contact %d message %d", i%contacts, i/contacts)
}

func (c *cluster) waitUntil(what string, cond func() bool) {
	c.t.Helper()
	for !cond() {
		if c.ctx.Err() != nil {
			c.t.Fatalf("gave up waiting for %s; relay log:\n%s", what, c.log())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *cluster) inbound() []emulator.Message {
	var out []emulator.Message
	for _, m := range c.emu.Messages(emulator.Filter{}) {
		if m.Direction == emulator.In {
			out = append(out, m)
		}
	}
	return out
}

// drained reports whether the queue's consumers have nothing pending or in
// flight, read from the server by a client of the test's own.
func (c *cluster) drained() bool {
	nc, err := nats.Connect(c.js.URL(), nats.Timeout(time.Second))
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "CCX_RELAY")
	if err != nil {
		return false
	}
	names := s.ConsumerNames(ctx)
	n := 0
	for name := range names.Name() {
		cons, err := s.Consumer(ctx, name)
		if err != nil {
			return false
		}
		ci, err := cons.Info(ctx)
		if err != nil || ci.NumPending+uint64(ci.NumAckPending) > 0 {
			return false
		}
		n++
	}
	return names.Err() == nil && n == natsPartitions
}

// check counts the emulator's inbound messages by mId and content and the
// order per contact; it returns the same-mId re-posts.
func (c *cluster) check(total, contacts int) int {
	c.t.Helper()
	got := map[string]int{}
	next := map[string]int{}
	for _, m := range c.inbound() {
		got[m.MID]++
		var i int
		if _, err := fmt.Sscanf(m.MID, "NK-%d", &i); err != nil || i < 0 || i >= total {
			c.t.Errorf("unexpected inbound %+v", m)
			continue
		}
		if m.Content.Text != textOf(i, contacts) || m.ContactID != contactOf(i, contacts) {
			c.t.Errorf("%s: content %q from %s, want %q from %s", m.MID, m.Content.Text, m.ContactID, textOf(i, contacts), contactOf(i, contacts))
		}
		if k := i / contacts; k != next[m.ContactID] {
			c.t.Errorf("contact %s: message %d stored where %d was due (order across relays)", m.ContactID, k, next[m.ContactID])
			next[m.ContactID] = k + 1
		} else {
			next[m.ContactID]++
		}
	}
	for i := 0; i < total; i++ {
		if id := fmt.Sprintf("NK-%04d", i); got[id] != 1 {
			c.t.Errorf("%s stored %d times", id, got[id])
		}
	}
	reposts := 0
	for _, w := range c.emu.Warnings() {
		switch w.Rule {
		case emulator.WarnDuplicateMID:
			reposts++
		case emulator.WarnRetryPattern: // the same re-posts, reported as a series
		default:
			c.t.Errorf("emulator warning: %+v", w)
		}
	}
	return reposts
}

// TestNATSRelaysSurviveKillsAndARestart runs three relay processes on one
// JetStream and streams 1,000 inbound ClickSend pushes at them (each
// retried at the next relay until acknowledged, as a provider behind a load
// balancer would); one relay is killed with SIGKILL at 25% and another at
// 50%, and the JetStream server restarts at 75%. Every message must reach
// the emulator exactly once, with its content, each contact's in order.
func TestNATSRelaysSurviveKillsAndARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ccx binary")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := newCluster(t, ctx, 3)
	const total, contacts = 1000, 40
	var acked atomic.Int64
	wait := c.stream(total, contacts, &acked)
	c.waitUntil("250 acknowledged pushes", func() bool { return acked.Load() >= total/4 })
	c.kill(0)
	c.waitUntil("500 acknowledged pushes", func() bool { return acked.Load() >= total/2 })
	c.kill(1)
	c.waitUntil("750 acknowledged pushes", func() bool { return acked.Load() >= 3*total/4 })
	if err := c.js.Restart(); err != nil {
		t.Fatal(err)
	}
	if n := wait(); n > 0 {
		t.Fatalf("%d pushes were never acknowledged; relay log:\n%s", n, c.log())
	}
	c.waitUntil("every message in the emulator", func() bool { return len(c.inbound()) >= total })
	c.waitUntil("the queue drained", c.drained)
	reposts := c.check(total, contacts)
	// At least once: an event posted by a relay that died (or lost the
	// server) before its acknowledgement landed is posted again with the
	// same mId; a relay has at most one event per partition in flight.
	bound := 3 * natsPartitions
	t.Logf("2 kills and a JetStream restart, %d messages over 3 relays, %d same-mId re-posts (bound %d)", total, reposts, bound)
	if reposts > bound {
		t.Errorf("%d re-posts, more than the bound %d", reposts, bound)
	}
}

// TestNATSAbsorbsAPlatformOutage: two relays, the platform out for 30 s
// from the start. The provider's pushes are all acknowledged meanwhile
// (stored in JetStream), the relays keep their events in flight without
// handing them to each other (no same-mId re-posts), and once the platform
// is back everything arrives once, in order.
func TestNATSAbsorbsAPlatformOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ccx binary")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := newCluster(t, ctx, 2)
	c.down.Store(true)
	outage := time.Now()
	const total, contacts = 200, 10
	var acked atomic.Int64
	wait := c.stream(total, contacts, &acked)
	if n := wait(); n > 0 {
		t.Fatalf("%d pushes were never acknowledged during the outage; relay log:\n%s", n, c.log())
	}
	if n := len(c.inbound()); n != 0 {
		t.Fatalf("%d messages got through the outage", n)
	}
	select { // the outage lasts 30 s
	case <-time.After(30*time.Second - time.Since(outage)):
	case <-ctx.Done():
		t.Fatal("deadline during the outage")
	}
	c.down.Store(false)
	c.waitUntil("every message in the emulator", func() bool { return len(c.inbound()) >= total })
	c.waitUntil("the queue drained", c.drained)
	if reposts := c.check(total, contacts); reposts != 0 {
		t.Errorf("%d same-mId re-posts: a live relay's event went to the other relay", reposts)
	}
}
