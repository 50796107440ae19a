package web_test

// End-to-end tests of the inbox in a real headless Chromium, driven over the
// DevTools protocol with chromedp, so they run inside `go test ./...`.
//
// Chromium comes from the Debian packages chromium + chromium-driver
// (.ci/install-chromium.sh). Without it the tests skip, or fail when CI is
// set. CCX_CHROMIUM overrides the binary (default /usr/bin/chromium).
// Screenshots go to $CCX_ARTIFACTS, else to testdata/artifacts/ (ignored by git).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/platform"
)

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
	dir    string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.dir != "" {
		_ = os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

func chromiumPath() string {
	if p := os.Getenv("CCX_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// newTab opens a fresh tab in the shared headless browser (one Chromium
// process for the whole package keeps the tests quick).
func newTab(t *testing.T, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("Chromium not found at %s (%v): run .ci/install-chromium.sh (apt-get install chromium chromium-driver), or set CCX_CHROMIUM", path, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	browser.once.Do(func() {
		browser.dir, browser.err = os.MkdirTemp("", "ccx-chromium-")
		if browser.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			// The tests reach only 127.0.0.1: every other host name resolves
			// to nothing, and the browser's own services (updates, sync,
			// autofill, translate, safe browsing, metrics) stay off, so a run
			// sends no DNS query (checked with strace: 120 before, 0 after).
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-default-apps", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-client-side-phishing-detection", true),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.Flag("disable-breakpad", true),
			chromedp.Flag("safebrowsing-disable-auto-update", true),
			chromedp.Flag("metrics-recording-only", true),
			chromedp.Flag("no-pings", true),
			chromedp.Flag("dns-prefetch-disable", true),
			chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions"),
			chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-dev-shm-usage", true), // containers have a tiny /dev/shm
			chromedp.Flag("mute-audio", true),
			chromedp.NoDefaultBrowserCheck,
			chromedp.UserDataDir(browser.dir),
			chromedp.WindowSize(1280, 900),
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		if err := chromedp.Do(bctx); err != nil { // starts the browser
			browser.err = fmt.Errorf("start %s: %w", path, err)
		}
		browser.ctx, browser.cancel = bctx, func() { bcancel(); acancel() }
	})
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 20*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

// fixture is an emulator whose channel talks to ccx's own /message handler
// (the one `ccx listen` runs) on a loopback server.
type fixture struct {
	e     *emulator.Emulator
	ch    emulator.Channel
	mu    sync.Mutex
	calls []listen.Call
	media *httptest.Server
	state string // the emulator's --state file
}

func newFixture(t *testing.T, reply listen.ReplyPolicy) *fixture {
	t.Helper()
	f := &fixture{ch: emulator.GenerateChannel(channel.IDPhone, "")}
	h := listen.NewHandler(listen.Options{Token: f.ch.Token, ChannelID: f.ch.ID, IDType: channel.IDPhone, Reply: reply,
		OnCall: func(c listen.Call) {
			f.mu.Lock()
			f.calls = append(f.calls, c)
			f.mu.Unlock()
		}})
	srv := httptest.NewServer(listen.NewMux("/message", h))
	t.Cleanup(srv.Close)
	f.ch.APIBaseURL = srv.URL
	return f.start(t)
}

func (f *fixture) start(t *testing.T) *fixture {
	t.Helper()
	f.state = filepath.Join(t.TempDir(), "state.json")
	f.e = f.newEmulator(t)
	// A loopback media server, so image previews load without any network.
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			img.Set(x, y, color.RGBA{uint8(40 + x), uint8(90 + y), 200, 255})
		}
	}
	_ = png.Encode(&buf, img)
	f.media = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cat.png" {
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(buf.Bytes())
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(f.media.Close)
	return f
}

func (f *fixture) received() []listen.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]listen.Call(nil), f.calls...)
}

func (f *fixture) newEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{f.ch}, StatePath: f.state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// injectMessage stores c and m without validation, the way a hand-edited --state
// file would: stop the emulator (flushing its state), add m, start again.
func (f *fixture) injectMessage(t *testing.T, c emulator.Contact, m emulator.Message) {
	t.Helper()
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := emulator.LoadState(f.state)
	if err != nil {
		t.Fatal(err)
	}
	st.Seq++
	m.Seq = st.Seq
	st.Contacts = append(st.Contacts, c)
	st.Messages = append(st.Messages, m)
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.state, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f.e = f.newEmulator(t)
}

// post sends one webhook event through internal/platform, as `ccx send` does.
func (f *fixture) post(t *testing.T, contactID string, contact *channel.Contact, ev channel.Event) {
	t.Helper()
	if err := f.postErr(t, contactID, contact, ev); err != nil {
		t.Fatalf("post webhook: %v", err)
	}
}

func (f *fixture) postErr(t *testing.T, contactID string, contact *channel.Contact, ev channel.Event) error {
	t.Helper()
	c := platform.New(platform.Options{WebhookURL: f.e.WebhookURL(), Token: f.ch.Token, MaxRetries: -1})
	body, _ := json.Marshal(channel.NewWebhook(f.ch.ID, contactID, contact, ev))
	_, err := c.Post(context.Background(), body)
	return err
}

// open loads the inbox and waits until its event stream is live.
func open(t *testing.T, ctx context.Context, f *fixture) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.e.URL()+"/"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
	); err != nil {
		t.Fatalf("open the inbox: %v", err)
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

// eval runs a JavaScript expression and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript condition in the page (no fixed sleeps).
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, tg)
		return chromedp.Void{}, err
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CCX_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 {
		t.Fatalf("screenshot %s is only %d bytes", name, len(png))
	}
	p := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

// Scenario 1: a message posted to the webhook appears in the open page
// without a reload, escaped, with an unread count on another contact.
func TestBrowserLiveMessage(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	ctx := newTab(t)
	open(t, ctx, f)
	run(t, ctx, "mark the document", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))

	hostile := `<img src=x onerror="window.__pwned=1"><b>Hello</b> & bye`
	f.post(t, "+60177872890", &channel.Contact{FirstName: "Ana", LastName: "Lima"}, channel.NewEvent(channel.EventMessage, channel.Text(hostile)))
	run(t, ctx, "the message appears live",
		waitJS(`[...document.querySelectorAll('#messages .text')].some(p => p.textContent === `+jsString(hostile)+`)`))
	type pageState struct {
		NoReload bool   `json:"noReload"`
		Pwned    bool   `json:"pwned"`
		Tags     int    `json:"tags"`
		Title    string `json:"title"`
		Log      string `json:"log"`
	}
	state := eval[pageState](t, ctx, `({noReload: window.__noReload === true, pwned: !!window.__pwned,
		tags: document.querySelectorAll('#messages b, #messages .text img').length,
		title: document.querySelector('#conv-title').textContent,
		log: document.querySelector('#messages').getAttribute('role') + '/' + document.querySelector('#messages').getAttribute('aria-live')})`)
	if !state.NoReload || state.Pwned || state.Tags != 0 || state.Title != "Ana Lima" || state.Log != "log/polite" {
		t.Fatalf("after a live message: %+v", state)
	}

	// A second contact writes: its row shows one unread message.
	f.post(t, "+60123456789", nil, channel.NewEvent(channel.EventMessage, channel.Text("are you there?")))
	run(t, ctx, "unread badge",
		waitJS(`(() => { const b = document.querySelector('#contact-list button[data-key$="+60123456789"] .unread'); return b && b.textContent === '1'; })()`))
}

// Scenario 2: an agent reply typed in the composer reaches the /message
// endpoint (ccx listen's handler); the page shows it as sent, then a receipt
// moves its status timeline live.
func TestBrowserComposerReachesListener(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", &channel.Contact{FirstName: "Ana"}, channel.NewEvent(channel.EventMessage, channel.Text("hi")))
	ctx := newTab(t)
	open(t, ctx, f)
	run(t, ctx, "type and send",
		chromedp.WaitVisible(`#contact-list button[aria-current="true"]`),
		chromedp.SendKeys(`#composer-text`, "Hello from the agent"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'ok'`),
	)
	calls := f.received()
	if len(calls) != 1 || calls[0].Auth != listen.AuthOK || calls[0].Message == nil || calls[0].Message.Text != "Hello from the agent" ||
		calls[0].ContactID != "+60177872890" || calls[0].Status != 200 {
		t.Fatalf("listener got %+v", calls)
	}
	out := f.e.Messages(emulator.Filter{ContactID: "+60177872890"})
	mid := out[len(out)-1].MID
	run(t, ctx, "shown as sent",
		waitJS(`(() => { const li = document.querySelector('#messages li[data-mid=`+jsString(mid)+`]');
			return li && li.dataset.status === 'sent' && li.querySelector('.timeline').textContent.includes('sent') &&
				document.querySelector('#send-result').textContent.includes(`+jsString(mid)+`); })()`))

	f.post(t, "+60177872890", nil, channel.NewReceipt(mid, channel.StatusRead, ""))
	run(t, ctx, "receipt moves the timeline",
		waitJS(`(() => { const li = document.querySelector('#messages li[data-mid=`+jsString(mid)+`]');
			return li.dataset.status === 'read' && li.querySelector('.timeline .st-read') !== null; })()`))

	// Other outgoing types go through the same API.
	run(t, ctx, "send a location",
		chromedp.SetValue(`#composer-type`, "location"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#composer-type').dispatchEvent(new Event('change'))`),
		chromedp.SendKeys(`#composer-lat`, "3.139"),
		chromedp.SendKeys(`#composer-lng`, "101.6869"),
		chromedp.SendKeys(`#composer-address`, "Kuala Lumpur"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelectorAll('#messages .location').length === 1 && document.querySelector('#send-result').dataset.kind === 'ok'`),
	)
	calls = f.received()
	if len(calls) != 2 || calls[1].Message == nil || calls[1].Message.Type != channel.MessageLocation ||
		calls[1].Message.Latitude == nil || *calls[1].Message.Latitude != 3.139 || calls[1].Message.Address != "Kuala Lumpur" {
		t.Fatalf("location call: %+v", calls[len(calls)-1])
	}
}

// Scenario 3: a send the server rejects, or one to a server that is down,
// shows its reason in the page.
func TestBrowserFailedSendShowsReason(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{Status: 400, Message: "number is blocked by the provider"})
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Text("hi")))
	ctx := newTab(t)
	open(t, ctx, f)
	run(t, ctx, "rejected send",
		chromedp.SendKeys(`#composer-text`, "this will fail"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'error' &&
			document.querySelector('#send-result').textContent.includes('number is blocked by the provider')`),
		waitJS(`[...document.querySelectorAll('#messages > li.failed .reason')].some(p => p.textContent.includes('HTTP 400: number is blocked by the provider'))`),
	)
	if calls := f.received(); len(calls) != 1 || calls[0].Status != 400 {
		t.Fatalf("listener got %+v", calls)
	}

	// The request log shows the /message call with its reply and redacted token.
	run(t, ctx, "request log",
		chromedp.Click(`#tab-requests`),
		waitJS(`document.querySelector('#request-list li[data-kind="message"]') !== null`),
		chromedp.Click(`#request-list li[data-kind="message"] summary`),
	)
	logText := eval[string](t, ctx, `document.querySelector('#request-list li[data-kind="message"]').innerText`)
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	for _, want := range []string{"HTTP 400", "number is blocked", "Authorization: Bearer " + f.ch.Token[:4] + "…", `"text": "this will fail"`} {
		if !strings.Contains(logText, want) {
			t.Errorf("request log lacks %q:\n%s", want, logText)
		}
	}
	if strings.Contains(html, f.ch.Token) {
		t.Fatal("the page contains the API token")
	}

	// A message the platform would not send never reaches the server: the
	// validator's findings are listed.
	run(t, ctx, "invalid contact ID",
		chromedp.Click(`#tab-inbox`),
		// The route the tab sets is applied on hashchange; type after it.
		waitJS(`document.body.dataset.view === 'inbox' && document.body.dataset.route === location.hash`),
		chromedp.SetValue(`#composer-to`, "not-a-phone"),
		chromedp.SendKeys(`#composer-text`, "to nobody"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'error' &&
			document.querySelector('#send-result').textContent.includes('HTTP 400') &&
			[...document.querySelectorAll('#send-result .findings li')].some(li => li.textContent.includes('contactId'))`),
	)
	if calls := f.received(); len(calls) != 1 {
		t.Fatalf("an invalid message reached the server: %d calls", len(calls))
	}

	// A Custom ID channel cannot start a conversation (spec §1.2).
	custom := &fixture{ch: emulator.GenerateChannel(channel.IDCustom, f.ch.APIBaseURL)}
	custom.start(t)
	ctx3 := newTab(t)
	open(t, ctx3, custom)
	run(t, ctx3, "custom ID refusal",
		chromedp.Click(`#new-conversation`),
		chromedp.SendKeys(`#composer-to`, "someone_new"),
		chromedp.SendKeys(`#composer-text`, "hello?"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'error' &&
			document.querySelector('#send-result').textContent.includes('cannot start a conversation')`),
	)

	// A server that is down.
	down := &fixture{ch: emulator.GenerateChannel(channel.IDPhone, "http://127.0.0.1:1")}
	down.start(t)
	ctx2 := newTab(t)
	open(t, ctx2, down)
	run(t, ctx2, "send to a server that is down",
		chromedp.SendKeys(`#composer-to`, "+60177872890"),
		chromedp.SendKeys(`#composer-text`, "anyone?"),
		chromedp.Click(`#send`),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'error' &&
			/refused|connect/i.test(document.querySelector('#send-result').textContent)`),
	)
}

// Scenario 4: every message type rendered, screenshots at desktop and phone
// widths saved as artifacts; the page loads nothing from outside loopback.
// Scenario 5 (phone part): the phone layout shows one pane at a time.
func TestBrowserRendersEveryTypeAndScreenshots(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	ana := &channel.Contact{FirstName: "Ana", LastName: "Lima", Phone: "+60177872890"}
	// The validator refuses a javascript: URL at the webhook; the page's own
	// http(s)-only rule is defence in depth for data that skips validation
	// (a hand-edited --state file), so the message is injected that way,
	// first, because the restart clears the in-memory request log.
	evil := channel.NewEvent(channel.EventMessage, channel.NewAttachment(channel.AttachmentFile, "javascript:alert(1)", "", "evil.pdf", ""))
	if err := f.postErr(t, "+60177872890", nil, evil); err == nil || !strings.Contains(err.Error(), "url-invalid") {
		t.Fatalf("webhook accepted a javascript: attachment URL: %v", err)
	}
	f.injectMessage(t, emulator.Contact{ChannelID: f.ch.ID, ID: "+60177872890", Profile: ana, CreatedAt: time.Now(), LastActivity: time.Now()},
		emulator.Message{ChannelID: f.ch.ID, ContactID: "+60177872890", MID: evil.MID,
			Direction: emulator.In, Origin: emulator.OriginContact, Type: channel.MessageAttachment,
			Content: *evil.Message, Timestamp: evil.Timestamp, Status: emulator.StatusReceived})
	f.post(t, "+60177872890", ana, channel.NewEvent(channel.EventMessage, channel.Text("Hi! Do you ship to Penang?")))
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage,
		channel.NewAttachment(channel.AttachmentImage, f.media.URL+"/cat.png", "image/png", "cat.png", "a cat")))
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Location(5.4141, 100.3288, "George Town, Penang")))
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.CustomPayload(json.RawMessage(`{"order":{"id":42,"items":["tea"]}}`))))
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventEcho, channel.Text("Yes, we do (sent from the provider's app)")))
	ctx0 := context.Background()
	if _, err := f.e.Send(ctx0, f.ch.ID, "+60177872890", channel.QuickReply("Which size?", "Small", "Large")); err != nil {
		t.Fatal(err)
	}
	sent, err := f.e.Send(ctx0, f.ch.ID, "+60177872890", channel.NewAttachment(channel.AttachmentFile, f.media.URL+"/invoice.pdf", "application/pdf", "invoice.pdf", ""))
	if err != nil {
		t.Fatal(err)
	}
	f.post(t, "+60177872890", nil, channel.NewReceipt(sent.MID, channel.StatusDelivered, ""))
	f.post(t, "+60177872890", nil, channel.NewReceipt(sent.MID, channel.StatusFailed, "recipient phone is switched off"))
	f.post(t, "+60123456789", &channel.Contact{FirstName: "Ben"}, channel.NewEvent(channel.EventMessage, channel.Text("Hello?")))

	var mu sync.Mutex
	var urls []string
	ctx := newTab(t, chromedp.WithListener(func(ev any) {
		var u string
		switch r := ev.(type) {
		case *network.EventRequestWillBeSent:
			u = r.Request.URL
		case network.EventRequestWillBeSent:
			u = r.Request.URL
		default:
			return
		}
		mu.Lock()
		urls = append(urls, u)
		mu.Unlock()
	}))
	open(t, ctx, f)
	run(t, ctx, "open Ana",
		chromedp.Click(`#contact-list button[data-key$="+60177872890"]`),
		waitJS(`document.querySelectorAll('#messages > li').length === 8`),
		waitJS(`(() => { const i = document.querySelector('#messages img.media'); return i && i.complete && i.naturalWidth === 120; })()`),
	)
	type rendered struct {
		Chips     []string `json:"chips"`
		Loc       string   `json:"loc"`
		Pre       string   `json:"pre"`
		Links     []string `json:"links"`
		Unsafe    string   `json:"unsafe"`
		Reason    string   `json:"reason"`
		Timeline  string   `json:"timeline"`
		Direction []string `json:"direction"`
		Echo      string   `json:"echo"`
	}
	r := eval[rendered](t, ctx, `({
		chips: [...document.querySelectorAll('#messages .chips li')].map(li => li.textContent),
		loc: document.querySelector('#messages .location').textContent,
		pre: document.querySelector('#messages pre code').textContent,
		links: [...document.querySelectorAll('#messages a')].map(a => a.getAttribute('href')),
		unsafe: document.querySelector('#messages .unsafe').parentElement.textContent,
		reason: document.querySelector('#messages > li.failed .reason').textContent,
		timeline: document.querySelector('#messages > li.failed .timeline').textContent,
		direction: [...document.querySelectorAll('#messages > li')].map(li => li.className),
		echo: document.querySelectorAll('#messages > li')[5].querySelector('.meta').textContent,
	})`)
	if strings.Join(r.Chips, ",") != "Small,Large" {
		t.Errorf("quick reply chips: %q", r.Chips)
	}
	if !strings.Contains(r.Loc, "5.4141") || !strings.Contains(r.Loc, "100.3288") || !strings.Contains(r.Loc, "George Town, Penang") {
		t.Errorf("location card: %q", r.Loc)
	}
	if !strings.Contains(r.Pre, "\"order\": {\n") || !strings.Contains(r.Pre, `"id": 42`) {
		t.Errorf("custom payload not pretty-printed: %q", r.Pre)
	}
	for _, l := range r.Links {
		if !strings.HasPrefix(l, "http://127.0.0.1:") {
			t.Errorf("link to %q", l)
		}
	}
	if !strings.Contains(r.Unsafe, "javascript:alert(1)") || !strings.Contains(r.Unsafe, "not linked") {
		t.Errorf("non-http attachment: %q", r.Unsafe)
	}
	if r.Reason != "Failed: recipient phone is switched off" || !strings.Contains(r.Timeline, "delivered") {
		t.Errorf("failed receipt: reason %q timeline %q", r.Reason, r.Timeline)
	}
	if len(r.Direction) != 8 || !strings.HasPrefix(r.Direction[0], "msg in") || !strings.HasPrefix(r.Direction[5], "msg out") ||
		!strings.HasPrefix(r.Direction[6], "msg out") || !strings.Contains(r.Echo, "Echo") {
		t.Errorf("directions: %q", r.Direction)
	}
	screenshot(t, ctx, "inbox-desktop.png")
	run(t, ctx, "scroll to the first message", chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages').scrollTop = 0`))
	screenshot(t, ctx, "inbox-desktop-top.png")
	run(t, ctx, "request log view", chromedp.Click(`#tab-requests`),
		waitJS(`document.querySelectorAll('#request-list > li').length >= 10`),
		chromedp.Click(`#request-list li[data-kind="webhook"] summary`))
	screenshot(t, ctx, "requests-desktop.png")

	// Phone width: one pane at a time, no horizontal scrolling.
	type phoneLayout struct {
		ConvHidden, ListHidden, Overflow bool
	}
	layoutJS := `({ConvHidden: getComputedStyle(document.querySelector('#conversation')).display === 'none',
			ListHidden: getComputedStyle(document.querySelector('#contacts')).display === 'none',
			Overflow: document.documentElement.scrollWidth > window.innerWidth})`
	run(t, ctx, "phone viewport",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(f.e.URL()+"/"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`document.querySelectorAll('#contact-list li').length === 2`))
	layout := eval[phoneLayout](t, ctx, layoutJS)
	if !layout.ConvHidden || layout.ListHidden || layout.Overflow {
		t.Fatalf("phone list layout: %+v", layout)
	}
	screenshot(t, ctx, "inbox-phone-list.png")
	run(t, ctx, "phone conversation",
		chromedp.Click(`#contact-list button[data-key$="+60177872890"]`),
		waitJS(`document.querySelectorAll('#messages > li').length === 8`))
	layout = eval[phoneLayout](t, ctx, layoutJS)
	if layout.ConvHidden || !layout.ListHidden || layout.Overflow {
		t.Fatalf("phone conversation layout: %+v", layout)
	}
	screenshot(t, ctx, "inbox-phone-conversation.png")
	run(t, ctx, "phone request log", chromedp.Click(`#tab-requests`),
		waitJS(`document.querySelectorAll('#request-list > li').length >= 10`),
		chromedp.Click(`#request-list li[data-kind="message"] summary`))
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the phone request log scrolls sideways")
	}
	screenshot(t, ctx, "requests-phone.png")

	mu.Lock()
	defer mu.Unlock()
	if len(urls) == 0 {
		t.Fatal("no request seen")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, f.e.URL()+"/") && !strings.HasPrefix(u, f.media.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s (only the emulator and the test's media server are allowed)", u)
		}
	}
}

// Scenario 5: the composer is reached and submitted with the keyboard only,
// through the skip link, with a visible focus indicator.
func TestBrowserKeyboardOnly(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Text("hi")))
	ctx := newTab(t)
	open(t, ctx, f)
	var active string
	run(t, ctx, "tab to the skip link", chromedp.KeyEvent(kb.Tab))
	active = eval[string](t, ctx, `document.activeElement.className`)
	if active != "skip" {
		t.Fatalf("first Tab focused %q, want the skip link", active)
	}
	run(t, ctx, "follow it", chromedp.KeyEvent(kb.Enter), waitJS(`document.activeElement.id === 'composer'`))
	found := false
	for i := 0; i < 10 && !found; i++ {
		run(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
		active = eval[string](t, ctx, `document.activeElement.id`)
		found = active == "composer-text"
	}
	if !found {
		t.Fatalf("Tab never reached the message field (last focus: %q)", active)
	}
	outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`)
	if outline == "none" || outline == "" {
		t.Errorf("the focused field has no visible outline (%q)", outline)
	}
	run(t, ctx, "type and press Enter",
		chromedp.KeyEvent("typed with the keyboard"),
		chromedp.KeyEvent(kb.Enter),
		waitJS(`document.querySelector('#send-result').dataset.kind === 'ok'`))
	if calls := f.received(); len(calls) != 1 || calls[0].Message == nil || calls[0].Message.Text != "typed with the keyboard" {
		t.Fatalf("listener got %+v", calls)
	}
}

// Another page (here another loopback port: same-site, cross-origin) makes
// the browser POST to the emulator as a form would: reset and send are
// refused, so nothing is wiped and no message reaches the server.
func TestBrowserForeignPageCannotChangeState(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Text("keep me")))
	emu := f.e.URL()
	page := `<!doctype html><title>elsewhere</title><script>
const emu = ` + jsString(emu) + `;
window.__results = [];
Promise.allSettled([
  fetch(emu + '/_emulator/reset', {method: 'POST', mode: 'no-cors'}),
  fetch(emu + '/_emulator/channels/' + ` + jsString(f.ch.ID) + ` + '/send', {method: 'POST', mode: 'no-cors',
    headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({contactId: '+60177872890', message: {type: 'text', text: 'forged'}})}),
  fetch(emu + '/_emulator/channels/' + ` + jsString(f.ch.ID) + ` + '/send', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({contactId: '+60177872890', message: {type: 'text', text: 'forged'}})}),
]).then(r => { window.__results = r.map(x => x.status); window.__done = true; });
</script>`
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	defer foreign.Close()
	ctx := newTab(t)
	run(t, ctx, "open the foreign page", chromedp.Navigate(foreign.URL+"/"), waitJS(`window.__done === true`))
	if ms := f.e.Messages(emulator.Filter{}); len(ms) != 1 || ms[0].Content.Text != "keep me" {
		t.Fatalf("a foreign page changed the state: %+v", ms)
	}
	f.mu.Lock()
	calls := len(f.calls)
	f.mu.Unlock()
	if calls != 0 {
		t.Fatalf("a foreign page made the emulator call the server %d times", calls)
	}
}
