package relay

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
)

// TestBenchRelay is the measurement behind bench/relay.sh (skipped unless
// CCX_RELAY_BENCH=1): emulator + relay (ClickSend adapter, durable spool in
// CCX_RELAY_BENCH_DIR) + ClickSend fake, all on loopback. It prints one
// RESULT line; the script runs it several times and reports medians. No
// assertion depends on timing.
func TestBenchRelay(t *testing.T) {
	if os.Getenv("CCX_RELAY_BENCH") != "1" {
		t.Skip("set CCX_RELAY_BENCH=1 (bench/relay.sh)")
	}
	dir := os.Getenv("CCX_RELAY_BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	spool := filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano()))
	defer os.Remove(spool)

	fake := clicksend.NewFake()
	defer fake.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ch := emulator.GenerateChannel(channel.IDPhone, url)
	emu, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ad := clicksend.New(clicksend.Options{BaseURL: fake.URL(), Username: fake.Username, APIKey: fake.APIKey, Secret: "benchsecret"})
	eng, err := New(Options{Adapter: ad, ChannelID: ch.ID, Token: ch.Token, IDType: channel.IDPhone, WebhookURL: emu.WebhookURL(),
		SpoolPath: spool, PublicURL: url, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: eng.Handler()}
	go srv.Serve(ln)
	defer func() { srv.Close(); eng.Close() }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	// 1. Outgoing latency: POST /message through the relay versus the same
	// ClickSend call made directly to the fake; interleaved, sequential.
	msgBody := []byte(`{"channelId":"` + ch.ID + `","contactId":"+61411111111","message":{"type":"text","text":"hello"}}`)
	directBody := []byte(`{"messages":[{"to":"+61411111111","body":"hello","source":"ccx"}]}`)
	post := func(u string, body []byte, hdr map[string]string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := client.Do(req)
		d := time.Since(start)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", u, err, resp)
		}
		var buf [512]byte
		for {
			if _, err := resp.Body.Read(buf[:]); err != nil {
				break
			}
		}
		resp.Body.Close()
		return d
	}
	req0, _ := http.NewRequest(http.MethodPost, "http://x", nil)
	req0.SetBasicAuth(fake.Username, fake.APIKey)
	basic := req0.Header.Get("Authorization")
	const n = 1500
	var relayD, directD []time.Duration
	for i := 0; i < n+100; i++ {
		r := post(url+"/message", msgBody, map[string]string{"Authorization": "Bearer " + ch.Token})
		d := post(fake.URL()+"/v3/sms/send", directBody, map[string]string{"Authorization": basic})
		if i >= 100 { // warm-up
			relayD = append(relayD, r)
			directD = append(directD, d)
		}
	}
	// 2a. Inbound, one provider connection: each push waits for its own
	// fsync'd commit (the durable-ack latency at rest).
	var ack1 []time.Duration
	for i := 0; i < 500; i++ {
		v := clicksend.InboundForm(fmt.Sprintf("S-%06d", i), "+61411100000", "", "seq", time.Now().Unix())
		s := time.Now()
		if st, err := clicksend.Push(client, url+"/providers/clicksend/inbound/benchsecret", v); err != nil || st != 200 {
			t.Fatalf("push: %d %v", st, err)
		}
		ack1 = append(ack1, time.Since(s))
	}
	for eng.Spool().Stats().Depth > 0 {
		time.Sleep(time.Millisecond)
	}
	emu.Reset()
	// 2b. Inbound: provider pushes acked only once durable, 32 concurrent
	// pushers; then end-to-end until the emulator holds every message.
	const m = 5000
	var ackD []time.Duration
	var mu sync.Mutex
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for {
				i := next.Add(1) - 1
				if i >= m {
					break
				}
				v := clicksend.InboundForm(fmt.Sprintf("B-%06d", i), fmt.Sprintf("+614111%05d", i%500), "", "bench", time.Now().Unix())
				s := time.Now()
				st, err := clicksend.Push(client, url+"/providers/clicksend/inbound/benchsecret", v)
				local = append(local, time.Since(s))
				if err != nil || st != 200 {
					t.Errorf("push: %d %v", st, err)
					return
				}
			}
			mu.Lock()
			ackD = append(ackD, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	ackElapsed := time.Since(start)
	for eng.Spool().Stats().Depth > 0 {
		time.Sleep(time.Millisecond)
	}
	e2eElapsed := time.Since(start)
	in := 0
	for _, msg := range emu.Messages(emulator.Filter{}) {
		if msg.Direction == emulator.In {
			in++
		}
	}
	if in != m {
		t.Fatalf("emulator holds %d of %d", in, m)
	}
	st := eng.Spool().Stats()
	pct := func(ds []time.Duration, p float64) float64 {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return float64(s[int(p*float64(len(s)-1))].Microseconds())
	}
	fmt.Printf("RESULT relay_p50_us=%.0f relay_p99_us=%.0f direct_p50_us=%.0f direct_p99_us=%.0f added_p50_us=%.0f added_p99_us=%.0f "+
		"ack1_p50_us=%.0f ack1_p99_us=%.0f ack_p50_us=%.0f ack_p99_us=%.0f ack_msgs_per_s=%.0f e2e_msgs_per_s=%.0f ops_per_commit=%.1f\n",
		pct(relayD, .5), pct(relayD, .99), pct(directD, .5), pct(directD, .99),
		pct(relayD, .5)-pct(directD, .5), pct(relayD, .99)-pct(directD, .99),
		pct(ack1, .5), pct(ack1, .99), pct(ackD, .5), pct(ackD, .99), float64(m)/ackElapsed.Seconds(), float64(m)/e2eElapsed.Seconds(), st.OpsPerTxn)
}
