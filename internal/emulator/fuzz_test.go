package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// stateSeeds are state files: one a real emulator wrote, and hand-made
// broken ones of each kind.
func stateSeeds(t testing.TB) []string {
	ch := Channel{ID: "fuzzchan", Token: "fuzztokenfuzztokenfuzztoken", IDType: channel.IDPhone}
	e, err := newEmulator(Options{Channels: []Channel{ch}})
	if err != nil {
		t.Fatal(err)
	}
	h := e.Handler()
	for _, body := range []string{
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}],"contact":{"firstName":"J"}}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message_echo","mId":"e1","timestamp":1732435200000,"message":{"type":"location","latitude":3.1,"longitude":101.6}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message_status","mId":"e1","timestamp":1732435200000,"status":{"value":"failed","message":"x"}},{"type":"message_status","mId":"e1","timestamp":1,"status":{"value":"read"}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60123456789","events":[{"type":"message","mId":"c","timestamp":1732435200000,"message":{"type":"custom_payload","payload":{"a":[1,2,{"b":null}]}}},{"type":"message_status","mId":"ghost","timestamp":1,"status":{"value":"read"}}]}`,
	} {
		req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ch.Token)
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	real, _ := json.Marshal(e.State())
	return []string{
		string(real),
		`{"version":1}`,
		`{"version":1,"seq":0,"contacts":null,"messages":null,"warnings":null}`,
		`{"version":1,"contacts":[{"channelId":"a","contactId":"1"},{"channelId":"a","contactId":"1"}]}`,
		`{"version":1,"messages":[{"seq":1,"channelId":"a","contactId":"nobody","mId":"x","direction":"in","timeline":[{"status":"received"}]}]}`,
		`{"version":1,"contacts":[{"channelId":"a","contactId":"1"}],"messages":[{"seq":2,"channelId":"a","contactId":"1","mId":"x","timeline":[]},{"seq":2,"channelId":"a","contactId":"1","mId":"x"}]}`,
		`{"version":1,"seq":-5,"contacts":[{"channelId":"a","contactId":"1"}],"messages":[{"seq":-1,"channelId":"a","contactId":"1","direction":"out","status":"sent","timeline":[{"status":"sent","applied":true}]}]}`,
		`{"version":1,"warnings":[{"rule":"x","message":"y"}]}`,
		`{"version":1,"contacts":[{"channelId":"fuzzchan","contactId":"+60177872890","contact":{"firstName":"A"},"createdAt":"2024-01-01T00:00:00Z","lastActivity":"9999-12-31T23:59:59Z"}]}`,
		`{"version":2}`, `{"version":0}`, `[]`, `null`, ``, `{`, `{"version":"1"}`, `{"version":1,"messages":[{"message":{"type":"attachment","attachment":null}}]}`,
	}
}

// FuzzStateFile loads arbitrary --state files: a file is either refused
// with an error that names it, or loaded into an emulator whose invariants
// hold, which serves its API, takes webhooks on the loaded messages, and
// writes a state that loads back the same.
func FuzzStateFile(f *testing.F) {
	for _, s := range stateSeeds(f) {
		f.Add([]byte(s))
	}
	ch := Channel{ID: "fuzzchan", Token: "fuzztokenfuzztokenfuzztoken", IDType: channel.IDPhone, APIBaseURL: "http://127.0.0.1:1"}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState("fuzz-state.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz-state.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		e, err := newEmulatorState(Options{Channels: []Channel{ch}}, st)
		if err != nil {
			t.Fatal(err)
		}
		checkConsistent(t, e)
		h := e.Handler()
		for _, path := range []string{"/_emulator/", "/_emulator/state", "/_emulator/contacts", "/_emulator/messages?contactId=%2B60177872890", "/_emulator/warnings", "/_emulator/requests"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Host = "127.0.0.1"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
		}
		snap := e.State()
		WriteInbox(io.Discard, snap, Conversations(snap, "", ""), plainStyles())
		for _, m := range snap.Messages {
			_ = Describe(m.Content)
		}
		// Round trip: what Close would write loads back to the same state.
		written, err := json.Marshal(&snap)
		if err != nil {
			t.Fatalf("the loaded state cannot be written: %v", err)
		}
		back, err := decodeState("fuzz-state.json", written)
		if err != nil {
			t.Fatalf("a written state does not load: %v\n%s", err, written)
		}
		e2, err := newEmulatorState(Options{Channels: []Channel{ch}}, back)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(e2.State())
		if !bytes.Equal(again, written) {
			t.Fatalf("state changed across write and load:\n%s\n%s", written, again)
		}
		// Webhooks on the loaded messages and contacts keep the invariants.
		var bodies []string
		for i, m := range snap.Messages {
			if i == 4 {
				break
			}
			if m.ChannelID != ch.ID || m.MID == "" {
				continue
			}
			for _, v := range []string{"delivered", "failed", "read"} {
				w := channel.NewWebhook(ch.ID, m.ContactID, nil, channel.NewReceipt(m.MID, channel.StatusValue(v), "r"))
				b, _ := json.Marshal(w)
				bodies = append(bodies, string(b))
			}
			ev := channel.NewEvent(channel.EventMessage, channel.Text("again"))
			ev.MID = m.MID
			b, _ := json.Marshal(channel.NewWebhook(ch.ID, m.ContactID, nil, ev))
			bodies = append(bodies, string(b))
		}
		for _, c := range snap.Contacts {
			if c.ChannelID == ch.ID {
				ev := channel.NewEvent(channel.EventMessage, channel.Text("new"))
				ev.MID = "fuzz-new-" + c.ID
				b, _ := json.Marshal(channel.NewWebhook(ch.ID, c.ID, nil, ev))
				bodies = append(bodies, string(b))
				break
			}
		}
		for _, b := range bodies {
			req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+ch.Token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("webhook on loaded state: %d %s", rec.Code, rec.Body)
			}
		}
		checkConsistent(t, e)
		e.Reset()
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
