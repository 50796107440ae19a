package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// fakeProv is a tiny provider.Emulator: POST /send (form to, body,
// callback; Bearer token) answers 201 {"id"}, then posts sent and delivered
// callbacks with the client it was built with; webhooks are forms signed
// with an HMAC of the body in X-Sig.
type fakeProv struct {
	token  string
	client *http.Client
	mu     sync.Mutex
	n      int
	sends  []provider.Send
	subs   map[int]func(provider.Send)
	next   int
	fault  provider.Faults
	wg     sync.WaitGroup
	// gate, when set, holds each send's callbacks until the test lets them
	// go, so they cannot beat the /message reply to the platform.
	gate chan struct{}
}

const fakeFrom = "+15550001111"

// holdCallbacks makes the next send's callbacks wait for release.
func (f *fakeProv) holdCallbacks() (release func()) {
	g := make(chan struct{}, 1)
	f.mu.Lock()
	f.gate = g
	f.mu.Unlock()
	return func() { g <- struct{}{} }
}

func newFakeProv() *fakeProv {
	return &fakeProv{token: "sekret-token-value-1234", subs: map[int]func(provider.Send){}}
}

func (f *fakeProv) build(c *http.Client) (provider.Emulator, error) {
	f.client = c
	return f, nil
}

func (f *fakeProv) Name() string { return "fakeprov" }
func (f *fakeProv) Credentials() map[string]string {
	return map[string]string{"FAKE_TOKEN": f.token, "FAKE_FROM": fakeFrom}
}
func (f *fakeProv) SetFaults(x provider.Faults) { f.mu.Lock(); f.fault = x; f.mu.Unlock() }
func (f *fakeProv) Close()                      { f.wg.Wait() }

func (f *fakeProv) notify(s provider.Send) {
	f.mu.Lock()
	subs := make([]func(provider.Send), 0, len(f.subs))
	for _, fn := range f.subs {
		subs = append(subs, fn)
	}
	f.mu.Unlock()
	for _, fn := range subs {
		fn(s)
	}
}
func (f *fakeProv) Sends() []provider.Send {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]provider.Send(nil), f.sends...)
}
func (f *fakeProv) Subscribe(fn func(provider.Send)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	f.subs[id] = fn
	return func() { f.mu.Lock(); delete(f.subs, id); f.mu.Unlock() }
}

func (f *fakeProv) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/send" || r.Header.Get("Authorization") != "Bearer "+f.token {
			http.Error(w, `{"error":"no"}`, http.StatusUnauthorized)
			return
		}
		form, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		f.n++
		s := provider.Send{Seq: f.n, Time: time.Now(), Provider: "fakeprov", Method: r.Method, Path: r.URL.Path,
			ContentType: r.Header.Get("Content-Type"), Body: body, To: form.Get("to"), From: fakeFrom,
			Message: channel.Text(form.Get("body")), CallbackURL: form.Get("callback")}
		reject := false
		for _, a := range f.fault.Reject {
			reject = reject || a == s.To
		}
		if reject {
			s.Status, s.Error = 400, "invalid recipient "+s.To
		} else {
			s.Status, s.ID = 201, fmt.Sprintf("FP%04d", f.n)
		}
		f.sends = append(f.sends, s)
		f.mu.Unlock()
		f.notify(s)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.Status)
		if s.ID == "" {
			fmt.Fprintf(w, `{"error":%q}`, s.Error)
			return
		}
		fmt.Fprintf(w, `{"id":%q}`, s.ID)
		if s.CallbackURL == "" {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.mu.Lock()
			gate := f.gate
			f.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
				}
			}
			for _, st := range []channel.StatusValue{channel.StatusSent, channel.StatusDelivered} {
				req, _ := f.Receipt(s.CallbackURL, provider.ReceiptSpec{ProviderID: s.ID, Status: st})
				c := provider.Callback{Time: time.Now(), Status: st, URL: s.CallbackURL}
				if resp, err := f.client.Do(req); err != nil {
					c.Error = err.Error()
				} else {
					resp.Body.Close()
					c.Answer = resp.StatusCode
				}
				s.Callbacks = append(s.Callbacks, c)
				f.notify(s)
			}
		}()
	})
}

func (f *fakeProv) sign(body string, bad bool) string {
	key := f.token
	if bad {
		key = "wrong"
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func (f *fakeProv) signed(target string, form url.Values, bad bool) (*http.Request, error) {
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Sig", f.sign(body, bad))
	return req, nil
}

func (f *fakeProv) Inbound(target string, in provider.CustomerMessage) (*http.Request, error) {
	id := in.ID
	if id == "" {
		id = "IN" + channel.NewMID()[:8]
	}
	return f.signed(target, url.Values{"id": {id}, "from": {in.From}, "body": {in.Message.Text}}, in.BadSignature)
}

func (f *fakeProv) Receipt(target string, r provider.ReceiptSpec) (*http.Request, error) {
	if target == "" {
		return nil, fmt.Errorf("no callback URL")
	}
	return f.signed(target, url.Values{"id": {r.ProviderID}, "status": {string(r.Status)}}, r.BadSignature)
}

// userServer is an integration server over fakeProv, with switchable bugs.
type userServer struct {
	t       *testing.T
	srv     *httptest.Server
	prov    *fakeProv
	base    string // the fake's base URL, once the emulator runs
	webhook string
	ch      Channel
	bugs    struct {
		noProviderCall bool // /message answers 200 without calling the provider
		statusWithPID  bool // /message returns its own mId; receipts go out with the provider id
		dropInbound    bool // acks the customer's message, posts nothing
		wrongToken     bool // posts to the platform with a bad token
	}
	key string // the provider key the server verifies webhooks with
	mu  sync.Mutex
	ids map[string][2]string // provider id → mId, contact
}

func newUserServer(t *testing.T, prov *fakeProv) *userServer {
	u := &userServer{t: t, prov: prov, key: prov.token, ids: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /message", u.message)
	mux.HandleFunc("POST /inbound", u.inbound)
	mux.HandleFunc("POST /status", u.status)
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	u.ch = GenerateChannel(channel.IDPhone, u.srv.URL)
	return u
}

func (u *userServer) message(w http.ResponseWriter, r *http.Request) {
	var req channel.OutgoingRequest
	_ = json.NewDecoder(r.Body).Decode(&req)
	if u.bugs.noProviderCall {
		fmt.Fprintf(w, `{"mId":"made-up-%d"}`, time.Now().UnixNano())
		return
	}
	form := url.Values{"to": {req.ContactID}, "body": {req.Message.Text}, "callback": {u.srv.URL + "/status"}}
	hr, _ := http.NewRequest(http.MethodPost, u.base+"/send", strings.NewReader(form.Encode()))
	hr.Header.Set("Authorization", "Bearer "+u.prov.token)
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, err.Error())
		return
	}
	defer resp.Body.Close()
	var out struct{ ID, Error string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 201 {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, out.Error)
		return
	}
	mid := out.ID
	if u.bugs.statusWithPID {
		mid = "own-" + out.ID
	}
	u.mu.Lock()
	u.ids[out.ID] = [2]string{mid, req.ContactID}
	u.mu.Unlock()
	fmt.Fprintf(w, `{"mId":%q}`, mid)
}

func (u *userServer) verified(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, _ := io.ReadAll(r.Body)
	m := hmac.New(sha256.New, []byte(u.key))
	m.Write(body)
	if !hmac.Equal([]byte(r.Header.Get("X-Sig")), []byte(hex.EncodeToString(m.Sum(nil)))) {
		http.Error(w, "bad signature", http.StatusForbidden)
		return nil, false
	}
	f, _ := url.ParseQuery(string(body))
	return f, true
}

func (u *userServer) postPlatform(contact string, ev channel.Event) int {
	b, _ := json.Marshal(channel.NewWebhook(u.ch.ID, contact, nil, ev))
	req, _ := http.NewRequest(http.MethodPost, u.webhook, bytes.NewReader(b))
	tok := u.ch.Token
	if u.bugs.wrongToken {
		tok = "nope"
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (u *userServer) inbound(w http.ResponseWriter, r *http.Request) {
	f, ok := u.verified(w, r)
	if !ok {
		return
	}
	if !u.bugs.dropInbound {
		ev := channel.NewEvent(channel.EventMessage, channel.Text(f.Get("body")))
		ev.MID = f.Get("id")
		u.postPlatform(f.Get("from"), ev)
	}
	w.WriteHeader(200) // acked even when the platform refused: one of the bugs the report names
}

func (u *userServer) status(w http.ResponseWriter, r *http.Request) {
	f, ok := u.verified(w, r)
	if !ok {
		return
	}
	u.mu.Lock()
	sent := u.ids[f.Get("id")]
	u.mu.Unlock()
	mid := sent[0]
	if u.bugs.statusWithPID {
		mid = f.Get("id")
	}
	u.postPlatform(sent[1], channel.NewReceipt(mid, channel.StatusValue(f.Get("status")), ""))
}

// startWithProvider runs an emulator with fakeprov attached, wired to u.
func startWithProvider(t *testing.T, u *userServer) *Emulator {
	t.Helper()
	e := start(t, Options{Channels: []Channel{u.ch}, Providers: []Provider{{Build: u.prov.build, WebhookURL: u.srv.URL + "/inbound", Receipts: true, AutoReceipts: true}}})
	u.base, u.webhook = e.ProviderBaseURL("fakeprov"), e.WebhookURL()
	return e
}

// waitFor polls cond, woken by the emulator's events, for at most 10s.
func waitFor(t *testing.T, e *Emulator, what string, cond func() bool) {
	t.Helper()
	events, cancel := e.Subscribe()
	defer cancel()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-events:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func kinds(hops []RequestRecord) string {
	var ks []string
	for _, h := range hops {
		k := h.Kind
		if h.What != "" {
			k += "(" + h.What + ")"
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, " ")
}

func TestProviderFaceWholeLoop(t *testing.T) {
	u := newUserServer(t, newFakeProv())
	e := startWithProvider(t, u)
	ctx := context.Background()
	const who = "+60177872890"

	// The customer writes first: signed webhook → server → platform.
	pm, err := e.SendAsCustomer(ctx, "fakeprov", who, channel.Text("Hi, where is my order?"))
	if err != nil {
		t.Fatal(err)
	}
	if pm.Webhook == nil || pm.Webhook.Status != 200 || pm.Webhook.Error != "" || pm.Flow == "" {
		t.Fatalf("customer message: %+v", pm)
	}
	in := e.Messages(Filter{ContactID: who})
	if len(in) != 1 || in[0].Content.Text != "Hi, where is my order?" {
		t.Fatalf("agent inbox: %+v", in)
	}
	rep, ok := e.Flow(pm.Flow)
	if !ok || kinds(rep.Hops) != "provider.webhook(customer text) webhook(message text)" || len(rep.Problems) != 0 || rep.MID != in[0].MID {
		t.Fatalf("incoming flow: %s %+v", kinds(rep.Hops), rep)
	}
	if got := e.Phone("", who); len(got) != 1 || got[0].MID != in[0].MID {
		t.Fatalf("the phone message did not get the platform mId: %+v", got)
	}

	// The agent answers: /message → server → provider; receipts come back
	// (after the platform has the reply, as they would from a real provider).
	release := u.prov.holdCallbacks()
	out, err := e.Send(ctx, u.ch.ID, who, channel.Text("On its way!"))
	release()
	if err != nil || out.Status != channel.StatusSent {
		t.Fatalf("send: %+v %v", out, err)
	}
	waitFor(t, e, "delivered", func() bool {
		m, _ := e.MessageByMID(u.ch.ID, out.MID)
		return m.Status == channel.StatusDelivered
	})
	phone := e.Phone(u.ch.ID, who)
	if len(phone) != 2 {
		t.Fatalf("phone: %+v", phone)
	}
	sent := phone[1]
	if sent.Direction != FromBusiness || sent.Message.Text != "On its way!" || sent.ProviderID != out.MID || sent.MID != out.MID ||
		sent.API == nil || !sent.API.Accepted {
		t.Fatalf("business message on the phone: %+v", sent)
	}
	waitFor(t, e, "both receipts on the phone", func() bool { p, _ := e.side.get(sent.Seq); return len(p.Receipts) == 2 })
	sent, _ = e.side.get(sent.Seq)
	if sent.Receipts[0].Status != channel.StatusSent || sent.Receipts[1].Status != channel.StatusDelivered || sent.Receipts[1].HTTPStatus != 200 {
		t.Fatalf("receipts: %+v", sent.Receipts)
	}
	rep, _ = e.Flow(sent.Flow)
	want := "message provider.api(send text to +60177872890) provider.receipt(sent receipt) webhook(message_status sent) provider.receipt(delivered receipt) webhook(message_status delivered)"
	if kinds(rep.Hops) != want || len(rep.Problems) != 0 || rep.MID != out.MID || rep.ProviderID != out.MID {
		t.Fatalf("outgoing flow:\n got %s\nwant %s\n%+v", kinds(rep.Hops), want, rep.Problems)
	}

	// The customer reads it.
	got, err := e.FireReceipt(ctx, "fakeprov", sent.ProviderID, channel.StatusRead, "")
	if err != nil || len(got.Receipts) != 3 || got.Receipts[2].Status != channel.StatusRead {
		t.Fatalf("read: %+v %v", got, err)
	}
	waitFor(t, e, "read", func() bool { m, _ := e.MessageByMID(u.ch.ID, out.MID); return m.Status == channel.StatusRead })
	if _, err := e.FireReceipt(ctx, "fakeprov", sent.ProviderID, channel.StatusRead, ""); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a second read receipt: %v", err)
	}
	if len(e.Warnings()) != 0 {
		t.Fatalf("warnings: %+v", e.Warnings())
	}

	// Secrets never leave: not in the log, not in the API.
	all, _ := json.Marshal(map[string]any{"r": e.Requests(0), "p": e.Providers(), "i": e.info()})
	if bytes.Contains(all, []byte(u.prov.token)) {
		t.Fatal("the provider token is in the request log or the API")
	}
	if !bytes.Contains(all, []byte(fakeFrom)) || !bytes.Contains(all, []byte(`"FAKE_TOKEN"`)) {
		t.Fatalf("the settings a server needs are not shown: %+v", e.Providers())
	}
}

func TestProviderFaceFlowProblems(t *testing.T) {
	ctx := context.Background()
	const who = "+60177872890"
	problems := func(e *Emulator, flow string) string {
		t.Helper()
		rep, ok := e.Flow(flow)
		if !ok {
			t.Fatalf("no flow %s", flow)
		}
		return strings.Join(rep.Problems, "\n")
	}
	lastFlow := func(e *Emulator) string {
		p := e.Phone("", "")
		return p[len(p)-1].Flow
	}
	outFlow := func(e *Emulator) string { // the flow of the last /message call
		recs := e.Requests(0)
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].Kind == RequestMessage {
				return recs[i].Flows[0]
			}
		}
		t.Fatal("no /message call logged")
		return ""
	}

	t.Run("200 without a provider call", func(t *testing.T) {
		u := newUserServer(t, newFakeProv())
		u.bugs.noProviderCall = true
		e := startWithProvider(t, u)
		if _, err := e.Send(ctx, "", who, channel.Text("hello")); err != nil {
			t.Fatal(err)
		}
		if p := problems(e, outFlow(e)); !strings.Contains(p, "made no call to fakeprov") {
			t.Fatalf("problems: %q", p)
		}
	})
	t.Run("provider refused, /message failed honestly", func(t *testing.T) {
		u := newUserServer(t, newFakeProv())
		u.prov.SetFaults(provider.Faults{Reject: []string{who}})
		e := startWithProvider(t, u)
		m, _ := e.Send(ctx, "", who, channel.Text("hello"))
		if m.Status != channel.StatusFailed || !strings.Contains(m.Reason, "invalid recipient") {
			t.Fatalf("send: %+v", m)
		}
		ph := e.Phone("", who)
		if len(ph) != 1 || ph[0].API.Accepted || ph[0].API.Status != 400 {
			t.Fatalf("phone: %+v", ph)
		}
		if p := problems(e, outFlow(e)); p != "" {
			t.Fatalf("an honest failure has problems: %q", p)
		}
	})
	t.Run("receipts with the provider id", func(t *testing.T) {
		u := newUserServer(t, newFakeProv())
		u.bugs.statusWithPID = true
		e := startWithProvider(t, u)
		release := u.prov.holdCallbacks()
		m, _ := e.Send(ctx, "", who, channel.Text("hello"))
		release()
		waitFor(t, e, "two unknown-mid warnings", func() bool { return len(e.Warnings()) >= 2 })
		if p := problems(e, outFlow(e)); !strings.Contains(p, "the provider's id") || !strings.Contains(p, m.MID) {
			t.Fatalf("problems: %q", p)
		}
	})
	t.Run("customer message acked, never posted", func(t *testing.T) {
		u := newUserServer(t, newFakeProv())
		u.bugs.dropInbound = true
		e := startWithProvider(t, u)
		pm, _ := e.SendAsCustomer(ctx, "fakeprov", who, channel.Text("anyone?"))
		if p := problems(e, pm.Flow); !strings.Contains(p, "no message event reached the platform") {
			t.Fatalf("problems: %q", p)
		}
	})
	t.Run("platform rejected, provider told 200", func(t *testing.T) {
		u := newUserServer(t, newFakeProv())
		u.bugs.wrongToken = true
		e := startWithProvider(t, u)
		pm, _ := e.SendAsCustomer(ctx, "fakeprov", who, channel.Text("anyone?"))
		p := problems(e, pm.Flow)
		if !strings.Contains(p, "the message is lost") || !strings.Contains(p, "HTTP 401") {
			t.Fatalf("problems: %q", p)
		}
		if rep, _ := e.Flow(pm.Flow); kinds(rep.Hops) != "provider.webhook(customer text) webhook(message text)" {
			t.Fatalf("the rejected post is not in the flow: %s", kinds(rep.Hops))
		}
	})
	t.Run("server refuses the signature", func(t *testing.T) {
		u := newUserServer(t, newFakeProv())
		e := startWithProvider(t, u)
		u.key = "rotated-token-value-5678" // the server checks another key
		pm, _ := e.SendAsCustomer(ctx, "fakeprov", who, channel.Text("hi"))
		if pm.Webhook.Status != 403 || !strings.Contains(problems(e, lastFlow(e)), "refused the customer's message") {
			t.Fatalf("webhook %+v, problems %q", pm.Webhook, problems(e, pm.Flow))
		}
	})
}

func TestProviderFaceAPI(t *testing.T) {
	u := newUserServer(t, newFakeProv())
	e := startWithProvider(t, u)
	api := e.URL() + APIPrefix
	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"providers/nope/inbound", `{"contactId":"+60177872890","message":{"type":"text","text":"hi"}}`, 404, "unknown provider"},
		{"providers/fakeprov/inbound", `{"contactId":"not-a-phone","message":{"type":"text","text":"hi"}}`, 400, "contact"},
		{"providers/fakeprov/inbound", `{"contactId":"+60177872890","message":{"type":"quick_reply"}}`, 400, "a customer sends text, attachment or location"},
		{"providers/fakeprov/inbound", `{"contactId":"+60177872890","message":{"type":"attachment","attachment":{"type":"image","url":"javascript:x"}}}`, 400, "not an absolute http(s) URL"},
		{"providers/fakeprov/inbound", `not json`, 400, "body must be"},
		{"providers/fakeprov/receipt", `{"providerId":"FP9999","status":"read"}`, 404, "no accepted send"},
		{"providers/fakeprov/receipt", `{"providerId":"FP9999","status":"seen"}`, 400, "use sent, delivered, read or failed"},
		{"providers/fakeprov/inbound", `{"contactId":"+60177872890","message":{"type":"text","text":"hi there"}}`, 200, `"ok":true`},
	} {
		a := postRaw(t, api+c.path, "", "application/json", []byte(c.body))
		if a.status != c.status || !strings.Contains(a.body, c.want) {
			t.Errorf("POST %s %s: %d %s, want %d with %q", c.path, c.body, a.status, a.body, c.status, c.want)
		}
	}
	get := func(path string) answer {
		resp, err := http.Get(e.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	if a := get("/_emulator/phone?contactId=%2B60177872890"); a.status != 200 || !strings.Contains(a.body, `"text":"hi there"`) || !strings.Contains(a.body, `"mId"`) {
		t.Errorf("phone: %d %s", a.status, a.body)
	}
	if a := get("/_emulator/flows/f1"); a.status != 200 || !strings.Contains(a.body, `"direction":"incoming"`) || !strings.Contains(a.body, `"problems":[]`) {
		t.Errorf("flow: %d %s", a.status, a.body)
	}
	if a := get("/_emulator/flows/f999"); a.status != 404 {
		t.Errorf("unknown flow: %d %s", a.status, a.body)
	}
	if a := get("/_emulator/"); !strings.Contains(a.body, `"baseUrl":"`+e.URL()+`/_provider/fakeprov"`) || strings.Contains(a.body, u.prov.token) {
		t.Errorf("info: %s", a.body)
	}
	if a := get("/_provider/other/x"); a.status != 404 || !strings.Contains(a.body, "attached: fakeprov") {
		t.Errorf("unknown provider path: %d %s", a.status, a.body)
	}
	// The fake's own answers pass through, logged as a hop.
	if a := postRaw(t, e.ProviderBaseURL("fakeprov")+"/send", "Bearer wrong", "application/x-www-form-urlencoded", []byte("to=%2B1")); a.status != 401 {
		t.Errorf("fake with a bad token: %d %s", a.status, a.body)
	}
	recs := e.Requests(0)
	last := recs[len(recs)-1]
	if last.Kind != RequestProviderAPI || last.Status != 401 || last.URL != e.ProviderBaseURL("fakeprov")+"/send" || last.Header.Get("Authorization") != "Bearer ********" {
		t.Errorf("API hop: %+v", last)
	}
	e.Reset()
	if len(e.Phone("", "")) != 0 {
		t.Error("Reset kept the phone")
	}
}

func TestProviderOptionsRefused(t *testing.T) {
	ch := GenerateChannel(channel.IDPhone, "")
	for _, c := range []struct {
		ps   []Provider
		want string
	}{
		{[]Provider{{}}, "has no emulator"},
		{[]Provider{{Build: newFakeProv().build}, {Build: newFakeProv().build}}, "given twice"},
		{[]Provider{{Build: newFakeProv().build, ChannelID: "other"}}, "unknown channel"},
		{[]Provider{{Build: newFakeProv().build, WebhookURL: "ftp://x"}}, "not an absolute http(s) URL"},
		{[]Provider{{Build: func(*http.Client) (provider.Emulator, error) { return nil, fmt.Errorf("no such fake") }}}, "no such fake"},
	} {
		if _, err := New(Options{Channels: []Channel{ch}, Providers: c.ps}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.ps, err, c.want)
		}
	}
}

// FuzzProviderFaceWebhook posts arbitrary bodies to the webhook of an
// emulator that plays a provider, after a customer message is waiting: tying
// hops to flows never panics, never ties a post of another contact, and a
// flow report always answers.
func FuzzProviderFaceWebhook(f *testing.F) {
	prov := newFakeProv()
	ch := Channel{ID: "fuzzchan", Token: "fuzztokenfuzztokenfuzztoken", IDType: channel.IDPhone, APIBaseURL: "http://127.0.0.1:1"}
	e, err := newEmulator(Options{Channels: []Channel{ch}, MaxBody: 64 << 10, Providers: []Provider{{Build: prov.build, WebhookURL: "http://127.0.0.1:1/in"}}})
	if err != nil {
		f.Fatal(err)
	}
	defer e.stopHubs()
	h := e.Handler()
	pending := e.side.addCustomer(PhoneMessage{Provider: "fakeprov", ChannelID: ch.ID, ContactID: "+60177872890", Direction: FromCustomer, Message: channel.Text("hi")})
	for _, s := range []string{
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`,
		`{"channelId":"fuzzchan","contactId":"+1999","events":[{"type":"message","mId":"m2","timestamp":1732435200000,"message":{"type":"text","text":"x"}}]}`,
		`{"channelId":"fuzzchan","contactId":"+60177872890","events":[{"type":"message_status","mId":"m1","timestamp":1,"status":{"value":"read"}}]}`,
		`{"events":[{"type":"message"},{"type":"message_status","mId":[]}],"contactId":null}`, `{"events":"x"}`, `[]`, ``, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ch.Token)
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
		rep, ok := e.Flow(pending.Flow)
		if !ok || rep.Problems == nil || rep.Hops == nil {
			t.Fatalf("flow report: %+v %v", rep, ok)
		}
		for _, hop := range rep.Hops {
			if c := gjsonContact(hop.Body); c != "" && c != "+60177872890" {
				t.Fatalf("a post for %q was tied to the customer's flow: %s", c, hop.Body)
			}
		}
	})
}

func gjsonContact(body string) string {
	var v struct {
		ContactID any `json:"contactId"`
	}
	if json.Unmarshal([]byte(body), &v) != nil {
		return ""
	}
	s, _ := v.ContactID.(string)
	return s
}
