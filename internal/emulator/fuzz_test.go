package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// FuzzWebhook posts arbitrary bodies to the webhook: the emulator never
// panics, answers 200 or a 4xx with an error body, leaves the state
// untouched on a 4xx, and keeps its invariants either way.
func FuzzWebhook(f *testing.F) {
	ch := Channel{ID: "fuzzchan", Token: "fuzztokenfuzztokenfuzztoken", IDType: channel.IDPhone, APIBaseURL: "http://127.0.0.1:1"}
	e, err := newEmulator(Options{Channels: []Channel{ch}, MaxBody: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	h := e.Handler()
	seeds := []string{
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}],"contact":{"firstName":"J"}}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message_echo","mId":"e1","timestamp":1732435200000,"message":{"type":"location","latitude":3.1,"longitude":101.6}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message_status","mId":"e1","timestamp":1732435200000,"status":{"value":"read"}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message_status","mId":"nope","timestamp":1,"status":{"value":"failed","message":"x"}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":"a","timestamp":1732435200000,"message":{"type":"attachment","attachment":{"type":"image","url":"https://x/y.jpg"}}},{"type":"message_status","mId":"a","timestamp":1732435200000,"status":{"value":"delivered"}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":"q","timestamp":1732435200000,"message":{"type":"quick_reply","title":"t","replies":["a","b"]}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":"c","timestamp":1732435200000,"message":{"type":"custom_payload","payload":{"a":[1,2,{"b":null}]}}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":null,"message":null,"status":7}]}`,
		`{"channelId":"other","contactId":"+1","events":[]}`,
		`{"channelId":1,"contactId":[],"events":{}}`,
		`[]`, `null`, `"x"`, ``, `{`, "\xff\xfe", `{"events":[{}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), true)
	}
	f.Add([]byte(seeds[0]), false)
	f.Fuzz(func(t *testing.T, body []byte, auth bool) {
		before := e.State()
		req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+ch.Token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			if !bytes.Contains(rec.Body.Bytes(), []byte(`"error":{"message":`)) {
				t.Fatalf("%d without an error body: %s", rec.Code, rec.Body)
			}
			after := e.State()
			if len(after.Messages) != len(before.Messages) || len(after.Contacts) != len(before.Contacts) || len(after.Warnings) != len(before.Warnings) {
				t.Fatalf("a %d changed the state", rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body)
		}
		checkConsistent(t, e)
	})
}

// BenchmarkWebhook measures the webhook handler in-process: auth,
// validation, decoding and storing one text message per post (unique mIds).
func BenchmarkWebhook(b *testing.B) {
	ch := Channel{ID: "benchchan", Token: "benchtokenbenchtokenbenchtoken", IDType: channel.IDPhone}
	e, err := newEmulator(Options{Channels: []Channel{ch}})
	if err != nil {
		b.Fatal(err)
	}
	h := e.Handler()
	bodies := make([][]byte, 1024)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"channelId":"benchchan","contactId":"+60177872890","events":[{"type":"message","mId":"bench-%d","timestamp":1732435200000,"message":{"type":"text","text":"Hello World"}}]}`, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(bodies) == 0 && i > 0 {
			b.StopTimer()
			e.Reset() // keep mIds unique without growing the state forever
			b.StartTimer()
		}
		req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Authorization", "Bearer "+ch.Token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkWebhookLoopback posts over real loopback HTTP from parallel
// clients, as `bench/emulate.sh` does with an external load generator.
func BenchmarkWebhookLoopback(b *testing.B) {
	ch := Channel{ID: "benchchan", Token: "benchtokenbenchtokenbenchtoken", IDType: channel.IDPhone}
	e, err := New(Options{Channels: []Channel{ch}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	body := []byte(`{"channelId":"benchchan","contactId":"+60177872890","events":[{"type":"message","mId":"same","timestamp":1732435200000,"message":{"type":"text","text":"Hello World"}}]}`)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	url := e.WebhookURL()
	b.SetParallelism(8) // 16 clients on 2 cores, like hey -c 16
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+ch.Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
