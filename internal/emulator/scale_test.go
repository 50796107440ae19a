package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// testClock is a store clock that moves 1ms a call, so activity orders are total.
func testClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func storeText(s *store, channelID, contact, mid, text string) {
	wh := textIn(Channel{ID: channelID}, contact, mid, text)
	s.applyWebhook(channelID, &wh)
}

// wantMessages is f applied by brute force to a snapshot.
func wantMessages(st State, f Filter) []Message {
	out := []Message{}
	for _, m := range st.Messages {
		c := Contact{ChannelID: m.ChannelID, ID: m.ContactID}
		if f.contact(&c) {
			out = append(out, m)
		}
	}
	return out
}

func seqs(ms []Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func TestMessagePagesWhileMessagesArrive(t *testing.T) {
	s := newStore(State{}, testClock())
	for i := 0; i < 300; i++ {
		storeText(s, "chanA", fmt.Sprintf("+6012345678%d", i%3), fmt.Sprintf("a%d", i), "hi")
		storeText(s, "chanB", "+60123456780", fmt.Sprintf("b%d", i), "hi")
	}
	for _, f := range []Filter{{ChannelID: "chanA", ContactID: "+60123456780"}, {ContactID: "+60123456780"}, {ChannelID: "chanB"}, {}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			want := seqs(wantMessages(s.snapshot(), f))
			var got []int64
			before := int64(0)
			for pages := 0; ; pages++ {
				if pages > 1000 {
					t.Fatal("paging does not end")
				}
				p := s.messagePage(f, 37, before)
				if len(p.Items) == 0 || len(p.Items) > 37 {
					t.Fatalf("page %d has %d messages", pages, len(p.Items))
				}
				got = append(seqs(p.Items), got...)
				// Newer messages arrive between pages, for this contact too.
				storeText(s, "chanA", "+60123456780", fmt.Sprintf("late-%v-%d", f, pages), "late")
				storeText(s, "chanB", "+60123456780", fmt.Sprintf("late-%v-%d", f, pages), "late")
				if p.Next == "" {
					break
				}
				if before, _ = parseSeqCursor(p.Next); before == 0 {
					t.Fatalf("next %q is not a cursor", p.Next)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("pages put together: %d messages %v…, want the %d there were at the first page %v…", len(got), got[:min(5, len(got))], len(want), want[:min(5, len(want))])
			}
		})
	}
	if p := s.messagePage(Filter{ContactID: "nobody"}, 10, 0); len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("unknown contact: %+v", p)
	}
}

func TestPaginationAPI(t *testing.T) {
	ch := Channel{ID: "chan123", Token: "tokentokentokentokentoken0001"}
	e := start(t, Options{Channels: []Channel{ch}})
	for i := 0; i < 30; i++ {
		post(t, e, ch, textIn(ch, fmt.Sprintf("+6017787289%d", i%10), fmt.Sprintf("m%d", i), fmt.Sprintf("text %d", i)))
	}
	get := func(path string) (int, map[string]json.RawMessage) {
		t.Helper()
		resp, err := http.Get(e.URL() + APIPrefix + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp.StatusCode, out
	}
	// Contacts: pages of 4, most recent first, each once, with the last message.
	var seen []string
	next := ""
	for n := 0; n < 10; n++ {
		code, out := get("contacts?limit=4&before=" + next)
		if code != 200 {
			t.Fatalf("contacts: HTTP %d %s", code, out["error"])
		}
		var cs []ContactSummary
		if err := json.Unmarshal(out["contacts"], &cs); err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			seen = append(seen, c.ID)
			if c.MessageCount != 3 || c.Incoming != 3 || c.Last == nil || c.Last.Seq != c.LastIncomingSeq || c.Last.ContactID != c.ID {
				t.Fatalf("summary of %s: %+v", c.ID, c)
			}
		}
		next = ""
		_ = json.Unmarshal(out["next"], &next)
		if next == "" {
			break
		}
	}
	want := []string{}
	for i := 9; i >= 0; i-- {
		want = append(want, fmt.Sprintf("+6017787289%d", i))
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("contact pages: %v, want %v", seen, want)
	}
	// Without limit: the old answer, every contact, no next.
	if _, out := get("contacts"); out["next"] != nil || strings.Count(string(out["contacts"]), `"contactId"`) < 10 {
		t.Fatalf("unpaginated contacts: %s", out)
	}
	// Messages of one contact: 2 of 3, then the oldest.
	_, out := get("messages?contactId=%2B60177872895&limit=2")
	var ms []Message
	_ = json.Unmarshal(out["messages"], &ms)
	var cur string
	_ = json.Unmarshal(out["next"], &cur)
	if len(ms) != 2 || ms[0].MID != "m15" || ms[1].MID != "m25" || cur == "" {
		t.Fatalf("first page: %s", out)
	}
	_, out = get("messages?contactId=%2B60177872895&limit=2&before=" + cur)
	ms = nil
	_ = json.Unmarshal(out["messages"], &ms)
	if len(ms) != 1 || ms[0].MID != "m5" || out["next"] != nil {
		t.Fatalf("last page: %s", out)
	}
	if _, out := get("messages?contactId=nobody&limit=5"); string(out["messages"]) != "[]" {
		t.Fatalf("no messages: %s", out)
	}
	for _, bad := range []string{"messages?limit=0", "messages?limit=x", "messages?limit=1001", "messages?before=abc", "contacts?before=bm9wZQ", "contacts?limit=-1"} {
		if code, out := get(bad); code != http.StatusBadRequest || out["error"] == nil {
			t.Errorf("%s: HTTP %d %s, want 400 with an error", bad, code, out)
		}
	}
}

// TestIndexesMatchAWalk drives the store with random posts, receipts,
// outgoing messages and resets, then checks every index against a walk and
// every selection and page against a brute-force filter.
func TestIndexesMatchAWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	s := newStore(State{}, testClock())
	e := &Emulator{store: s}
	chans := []string{"chanA", "chanB"}
	contacts := []string{"+60100000001", "+60100000002", "+60100000003", "c4"}
	var mids []string
	for op := 0; op < 4000; op++ {
		ch, ct := chans[rng.Intn(2)], contacts[rng.Intn(len(contacts))]
		switch r := rng.Intn(100); {
		case r < 50:
			mid := fmt.Sprintf("m%d", rng.Intn(3000)) // some repeat: duplicates
			mids = append(mids, mid)
			kind := channel.EventMessage
			if r < 10 {
				kind = channel.EventEcho
			}
			ev := channel.NewEvent(kind, channel.Text("x"))
			ev.MID = mid
			wh := channel.NewWebhook(ch, ct, nil, ev)
			s.applyWebhook(ch, &wh)
		case r < 80 && len(mids) > 0:
			v := []channel.StatusValue{channel.StatusSent, channel.StatusDelivered, channel.StatusRead, channel.StatusFailed, "odd"}[rng.Intn(5)]
			wh := receipt(Channel{ID: ch}, ct, mids[rng.Intn(len(mids))], v, "why")
			s.applyWebhook(ch, &wh)
		case r < 98:
			m := Message{ChannelID: ch, ContactID: ct, Direction: Out, Origin: OriginPlatform, Type: channel.MessageLocation,
				Content: channel.Location(1, 2, "here"), Status: channel.StatusSent, Timestamp: int64(op)}
			if r%2 == 0 {
				m.MID = fmt.Sprintf("o%d", op)
			}
			m.Timeline = []StatusChange{{Status: m.Status, Timestamp: int64(op) + 1, Applied: true}}
			s.addOutgoing(m)
		default:
			s.reset()
			mids = nil
		}
		if op%500 == 499 {
			checkConsistent(t, e)
			st := s.snapshot()
			for _, f := range []Filter{{}, {ChannelID: "chanA"}, {ContactID: ct}, {ChannelID: ch, ContactID: ct}, {ChannelID: "none"}} {
				want := wantMessages(st, f)
				if got := s.messages(f); !reflect.DeepEqual(seqs(got), seqs(want)) {
					t.Fatalf("op %d: messages(%+v) = %v, a walk finds %v", op, f, seqs(got), seqs(want))
				}
				before := int64(rng.Intn(int(st.Seq) + 2))
				limit := 1 + rng.Intn(20)
				var older []Message
				for _, m := range want {
					if before == 0 || m.Seq < before {
						older = append(older, m)
					}
				}
				wantPage := older[max(len(older)-limit, 0):]
				p := s.messagePage(f, limit, before)
				if !reflect.DeepEqual(p.Items, append([]Message{}, wantPage...)) {
					t.Fatalf("op %d: page(%+v, %d, %d) = %v, want %v", op, f, limit, before, seqs(p.Items), seqs(wantPage))
				}
				if (p.Next != "") != (len(older) > limit) {
					t.Fatalf("op %d: page(%+v, %d, %d) next %q with %d older", op, f, limit, before, p.Next, len(older))
				}
			}
		}
	}
}

// richState is a store with every kind of content, timeline and reply.
func richState(t testing.TB) *store {
	t.Helper()
	s := newStore(State{}, testClock())
	ch := Channel{ID: "chanA"}
	for i := 0; i < 50; i++ {
		ct := fmt.Sprintf("+6012300000%d", i%7)
		contents := []channel.Message{channel.Text(fmt.Sprintf("hi <%d> & \"you\"", i)), channel.Location(3.1, 101.6, "KL"),
			channel.NewAttachment(channel.AttachmentImage, "https://example.com/a.png", "image/png", "a.png", "pic"),
			channel.QuickReply("Rate us", "Good", "Bad"), channel.CustomPayload(json.RawMessage(`{"a":[1,2]}`)), {Type: channel.MessageText}}
		ev := channel.NewEvent(channel.EventMessage, contents[i%len(contents)])
		ev.MID = fmt.Sprintf("in%d", i)
		wh := channel.NewWebhook(ch.ID, ct, &channel.Contact{FirstName: "Jo"}, ev)
		s.applyWebhook(ch.ID, &wh)
		m := Message{ChannelID: ch.ID, ContactID: ct, MID: fmt.Sprintf("out%d", i), Direction: Out, Origin: OriginPlatform,
			Type: channel.MessageText, Content: channel.Text("answer"), Status: channel.StatusSent, Timestamp: int64(1000 + i),
			Reply: &ReplyInfo{URL: "http://127.0.0.1:3030/message", HTTPStatus: 200, Body: `{"mId":"x"}`, LatencyMS: 1.5}}
		if i%5 == 0 {
			m.MID, m.Status, m.Reason = "", channel.StatusFailed, "HTTP 500"
		}
		m.Timeline = []StatusChange{{Status: m.Status, Reason: m.Reason, Timestamp: int64(1001 + i), Applied: true}}
		s.addOutgoing(m)
		for _, v := range []channel.StatusValue{channel.StatusDelivered, channel.StatusSent, channel.StatusRead} {
			wh := receipt(ch, ct, fmt.Sprintf("out%d", i-i%2), v, "")
			s.applyWebhook(ch.ID, &wh)
		}
	}
	s.addWarning(Warning{Rule: WarnValidation, Message: "w"})
	return s
}

func TestStateRoundTrip(t *testing.T) {
	s := richState(t)
	before := s.snapshot()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := writeStateFile(path, s); err != nil {
		t.Fatal(err)
	}
	loaded, err := loadStore(path, testClock())
	if err != nil {
		t.Fatal(err)
	}
	if after := loaded.snapshot(); !reflect.DeepEqual(after, before) {
		a, _ := json.Marshal(after)
		b, _ := json.Marshal(before)
		t.Fatalf("state after a save and load differs:\n%s\nwant\n%s", a, b)
	}
	checkConsistent(t, &Emulator{store: loaded})
	st, err := LoadState(path)
	if err != nil || !reflect.DeepEqual(st, before) {
		t.Fatalf("LoadState: %v, equal %v", err, reflect.DeepEqual(st, before))
	}
	// The file is what json.Marshal of the snapshot says, laid out a line an item.
	data, _ := os.ReadFile(path)
	var viaFile, viaMarshal any
	m, _ := json.Marshal(before)
	_ = json.Unmarshal(data, &viaFile)
	_ = json.Unmarshal(m, &viaMarshal)
	if !reflect.DeepEqual(viaFile, viaMarshal) {
		t.Fatal("the streamed state is not the JSON of the snapshot")
	}
	if n := bytes.Count(data, []byte("\n")); n < len(before.Messages) {
		t.Fatalf("%d lines for %d messages: one message a line", n, len(before.Messages))
	}
}

func TestStateFileErrorsLocated(t *testing.T) {
	s := richState(t)
	var buf bytes.Buffer
	if err := s.writeState(&buf, Filter{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	// Damage message line 40 (well inside the streamed array).
	lines[40] = lines[40][:10] + "}" + lines[40][10:]
	path := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
	_, err := LoadState(path)
	if err == nil || !strings.Contains(err.Error(), "bad.json:41:11 is not a ccx emulator state") {
		t.Fatalf("LoadState of a damaged file: %v", err)
	}
	if _, err := loadStore(path, time.Now); err == nil || !strings.Contains(err.Error(), ":41:11") {
		t.Fatalf("loadStore of a damaged file: %v", err)
	}
	// A message before the contact it needs is fine when contacts come later…
	ok := `{"version":1,"messages":[{"seq":1,"channelId":"c","contactId":"x","status":"received"}],"contacts":[{"channelId":"c","contactId":"x"}]}`
	if st, err := decodeState("f", []byte(ok)); err != nil || len(st.Messages) != 1 || len(st.Messages[0].Timeline) != 1 {
		t.Fatalf("messages before contacts: %v %+v", err, st)
	}
	// …and refused when they never come.
	for in, want := range map[string]string{
		`{"version":1,"messages":[{"seq":1,"channelId":"c","contactId":"x"}]}`: "which is not in contacts",
		`{"version":1,"messages":[],"messages":[]}`:                            `"messages" is given twice`,
		`{"version":1,"messages":{}}`:                                          "cannot unmarshal",
		`{"version":1} {}`:                                                     "after top-level value",
		`[]`:                                                                   "cannot unmarshal array",
		`  `:                                                                   "is empty",
		`{"version":2}`:                                                        "has version 2",
	} {
		if _, err := decodeState("f", []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// TestStateStreamWhileWriting reads /_emulator/state while posts arrive:
// every answer is a whole, consistent state, and a reader never holds up
// the webhook for the whole walk.
func TestStateStreamWhileWriting(t *testing.T) {
	ch := Channel{ID: "chan123", Token: "tokentokentokentokentoken0001"}
	e := start(t, Options{Channels: []Channel{ch}})
	for i := 0; i < 3000; i++ {
		wh := textIn(ch, fmt.Sprintf("+601778%04d", i%100), fmt.Sprintf("pre%d", i), "x")
		e.store.applyWebhook(ch.ID, &wh)
	}
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			b, _ := json.Marshal(textIn(ch, fmt.Sprintf("+602778%04d", i%50), fmt.Sprintf("live%d", i), "y"))
			if a, err := tryPostRaw(e.WebhookURL(), "Bearer "+ch.Token, "application/json", b); err != nil || a.status != 200 {
				errs <- fmt.Errorf("post %d: %v %d", i, err, a.status)
				return
			}
		}
	}()
	last := 0
	for i := 0; i < 5; i++ {
		resp, err := http.Get(e.URL() + APIPrefix + "state")
		if err != nil {
			t.Fatal(err)
		}
		var st State
		err = decodeStateStream("GET /state", resp.Body, &st, func(m Message) { st.Messages = append(st.Messages, m) })
		resp.Body.Close()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if len(st.Messages) < last || len(st.Messages) < 3000 {
			t.Fatalf("answer %d has %d messages, the one before %d", i, len(st.Messages), last)
		}
		last = len(st.Messages)
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, e)
}

// TestInboxAsksForOneContact: `ccx emulate inbox --contact X` has the
// emulator select X (by its index) instead of fetching everything.
func TestInboxAsksForOneContact(t *testing.T) {
	ch := Channel{ID: "chan123", Token: "tokentokentokentokentoken0001"}
	var mu sync.Mutex
	var queries []string
	e := start(t, Options{Channels: []Channel{ch}, Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			queries = append(queries, r.URL.Path+"?"+r.URL.RawQuery)
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}})
	for i := 0; i < 20; i++ {
		wh := textIn(ch, fmt.Sprintf("+60177872%03d", i%4), fmt.Sprintf("m%d", i), "x")
		e.store.applyWebhook(ch.ID, &wh)
	}
	e.store.addWarning(Warning{Rule: WarnValidation, Message: "a warning"})
	c := &Client{BaseURL: e.URL()}
	st, err := c.Inbox(context.Background(), "", "+60177872001")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Contacts) != 1 || len(st.Messages) != 5 || len(st.Warnings) != 1 {
		t.Fatalf("inbox of one contact: %d contacts, %d messages, %d warnings", len(st.Contacts), len(st.Messages), len(st.Warnings))
	}
	for _, m := range st.Messages {
		if m.ContactID != "+60177872001" {
			t.Fatalf("message of %s in the inbox of +60177872001", m.ContactID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 1 || queries[0] != "/_emulator/state?contactId=%2B60177872001" {
		t.Fatalf("requests: %v", queries)
	}
	if convs := Conversations(st, "", "+60177872001"); len(convs) != 1 || len(convs[0].Messages) != 5 {
		t.Fatalf("conversations: %+v", convs)
	}
}

// TestStateLoadErrorsInFileOrder: messages are decoded in parallel batches,
// yet the error reported is the first one in the file, as a sequential read
// finds it.
func TestStateLoadErrorsInFileOrder(t *testing.T) {
	st := State{Version: StateVersion, Contacts: []Contact{{ChannelID: "c", ID: "x"}}}
	for i := 1; i <= 3000; i++ {
		st.Messages = append(st.Messages, Message{Seq: int64(i), ChannelID: "c", ContactID: "x", MID: fmt.Sprint(i), Direction: In, Status: StatusReceived})
	}
	good, _ := json.Marshal(st)
	if back, err := decodeState("f", good); err != nil || !reflect.DeepEqual(seqs(back.Messages), seqs(st.Messages)) {
		t.Fatalf("3000 messages: %v, %d back", err, len(back.Messages))
	}
	st.Messages[1500].Seq = 1
	data, _ := json.Marshal(st)
	// A syntax error further on, and a broken message after that.
	cut := bytes.Index(data, []byte(`{"seq":2700,`))
	bad := append(append(append([]byte{}, data[:cut]...), []byte(`{"seq":2700,,`)...), data[cut+len(`{"seq":2700,`):]...)
	if _, err := decodeState("f", bad); err == nil || !strings.Contains(err.Error(), "messages[1500]: seq 1 does not follow 1500") {
		t.Fatalf("first error in the file: %v", err)
	}
	st.Messages[1500].Seq = 1501
	data, _ = json.Marshal(st)
	cut = bytes.Index(data, []byte(`{"seq":2700,`))
	bad = append(append(append([]byte{}, data[:cut]...), []byte(`{"seq":2700,,`)...), data[cut+len(`{"seq":2700,`):]...)
	if _, err := decodeState("f", bad); err == nil || !strings.Contains(err.Error(), "f:1:") || !strings.Contains(err.Error(), "invalid character ','") {
		t.Fatalf("syntax error late in the file: %v", err)
	}
}

// TestInboxOfAStranger: an answer that is no state is an error that names
// the URL, without the state file's advice.
func TestInboxOfAStranger(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"version":1,"messages":[{"seq":1,`))
	}))
	defer srv.Close()
	_, err := (&Client{BaseURL: srv.URL}).Inbox(context.Background(), "", "x")
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/_emulator/state?contactId=x did not answer like a ccx emulator") ||
		strings.Contains(err.Error(), "left untouched") {
		t.Fatalf("a truncated answer: %v", err)
	}
}
