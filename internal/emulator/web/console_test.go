package web_test

// Browser tests of the inbox as a debugging console: resend, retry, copy as
// curl, filters, links with back/forward, and the request log across a
// restart with --state.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/platform"
)

// newFlakyFixture is newFixture whose server answers 503 while f.down is
// set, without reaching ccx listen's handler.
func newFlakyFixture(t *testing.T) (*fixture, *atomic.Bool) {
	t.Helper()
	f := &fixture{ch: emulator.GenerateChannel(channel.IDPhone, "")}
	h := listen.NewHandler(listen.Options{Token: f.ch.Token, ChannelID: f.ch.ID, IDType: channel.IDPhone,
		OnCall: func(c listen.Call) {
			f.mu.Lock()
			f.calls = append(f.calls, c)
			f.mu.Unlock()
		}})
	mux := listen.NewMux("/message", h)
	down := &atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"message":"busy, try again"}}`))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.ch.APIBaseURL = srv.URL
	return f.start(t), down
}

const visibleRequests = `[...document.querySelectorAll('#request-list > li')].filter(li => !li.hidden).length`

// setField sets a filter control and fires the event the page listens to.
func setField(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const n = document.querySelector(` + jsString(sel) + `);
		if (n.type === 'checkbox') n.checked = ` + jsString(value) + ` === 'on'; else n.value = ` + jsString(value) + `;
		n.dispatchEvent(new Event(n.tagName === 'SELECT' || n.type === 'checkbox' ? 'change' : 'input', {bubbles: true})); })()`)
}

func requestLI(seq int64) string { return `#request-list li[data-seq="` + itoa(seq) + `"]` }

func itoa(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// A failed outgoing message is retried from the conversation; a webhook
// post and a /message call are resent from the Requests tab.
func TestBrowserRetryAndResend(t *testing.T) {
	f, down := newFlakyFixture(t)
	f.post(t, "+60177872890", &channel.Contact{FirstName: "Ana"}, channel.NewEvent(channel.EventMessage, channel.Text("hello there")))
	down.Store(true)
	failed, err := f.e.Send(t.Context(), f.ch.ID, "+60177872890", channel.Text("did you get this?"))
	if err != nil || failed.Status != channel.StatusFailed {
		t.Fatalf("send while down: %+v %v", failed, err)
	}
	down.Store(false)
	ctx := newTab(t)
	open(t, ctx, f)
	li := `#messages li[data-seq="` + itoa(failed.Seq) + `"]`
	run(t, ctx, "retry the failed message",
		chromedp.WaitVisible(li+` button.retry`),
		chromedp.Click(li+` button.retry`),
		waitJS(`(() => { const r = document.querySelector(`+jsString(li+` .retry-result`)+`); return r && r.dataset.kind === 'ok'; })()`),
		waitJS(`[...document.querySelectorAll('#messages > li')].some(li => li.dataset.status === 'sent' && li.textContent.includes('did you get this?'))`),
	)
	calls := f.received()
	if len(calls) != 1 || calls[0].Message == nil || calls[0].Message.Text != "did you get this?" {
		t.Fatalf("the server got %+v", calls)
	}
	if ms := f.e.Messages(emulator.Filter{}); len(ms) != 3 || ms[1].Status != channel.StatusFailed || ms[2].Status != channel.StatusSent {
		t.Fatalf("messages after retry: %+v", ms)
	}

	// Resend the webhook post: the handler takes it again (a duplicate mId).
	recs := f.e.Requests(0)
	var hook, call int64
	for _, r := range recs {
		switch {
		case r.Kind == emulator.RequestWebhook && hook == 0:
			hook = r.Seq
		case r.Kind == emulator.RequestMessage && r.Status == 200:
			call = r.Seq
		}
	}
	if hook == 0 || call == 0 {
		t.Fatalf("log: %+v", recs)
	}
	run(t, ctx, "resend the webhook post",
		chromedp.Click(`#tab-requests`),
		chromedp.WaitVisible(requestLI(hook)+` summary`),
		chromedp.Click(requestLI(hook)+` summary`),
		chromedp.Click(requestLI(hook)+` button.resend`),
		waitJS(`(() => { const r = document.querySelector(`+jsString(requestLI(hook)+` .action-result`)+`); return r && r.dataset.kind === 'ok' && /Resent as #\d+: HTTP 200/.test(r.textContent); })()`),
	)
	var again *emulator.RequestRecord
	for _, r := range f.e.Requests(0) {
		if r.ResendOf == hook {
			again = &r
		}
	}
	if again == nil || again.Kind != emulator.RequestWebhook || again.Status != 200 || !strings.Contains(again.ReplyBody, "already stored") {
		t.Fatalf("the resent post: %+v", again)
	}
	// Its link opens the new request, which says what it re-sent.
	run(t, ctx, "follow the link to the resend",
		chromedp.Click(requestLI(hook)+` .resent-link`),
		waitJS(`location.hash === '#/requests/`+itoa(again.Seq)+`'`),
		waitJS(`(() => { const li = document.querySelector(`+jsString(requestLI(again.Seq))+`);
			return li && li.classList.contains('target') && li.querySelector('details').open && li.textContent.includes('resend of #`+itoa(hook)+`'); })()`),
	)

	// Resend the /message call: the server gets it a second time.
	run(t, ctx, "resend the /message call",
		chromedp.Click(requestLI(call)+` summary`),
		chromedp.Click(requestLI(call)+` button.resend`),
		waitJS(`(() => { const r = document.querySelector(`+jsString(requestLI(call)+` .action-result`)+`); return r && r.dataset.kind === 'ok'; })()`),
	)
	if calls := f.received(); len(calls) != 2 || calls[1].Message == nil || calls[1].Message.Text != "did you get this?" || calls[1].Auth != listen.AuthOK {
		t.Fatalf("the server got %+v", calls)
	}
	screenshot(t, ctx, "requests-resend.png")
}

// Copy as curl shows (and copies) a command with $CCX_API_TOKEN in place of
// the token, the same the API hands out, and it runs.
func TestBrowserCopyAsCurl(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	text := `it's "quoted" $HOME` + " `id` \\ done"
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Text(text)))
	rec := f.e.Requests(0)[0]
	ctx := newTab(t)
	open(t, ctx, f)
	li := requestLI(rec.Seq)
	run(t, ctx, "copy as curl",
		chromedp.Click(`#tab-requests`),
		chromedp.WaitVisible(li+` summary`),
		chromedp.Click(li+` summary`),
		chromedp.Click(li+` button.copy-curl`),
		waitJS(`(() => { const p = document.querySelector(`+jsString(li+` pre.curl`)+`); return p && !p.hidden && window.ccxInbox.lastCopied() !== ''; })()`),
	)
	type shown struct {
		Pre, Copied, API string
		Visible          bool
	}
	got := eval[shown](t, ctx, `({Pre: document.querySelector(`+jsString(li+` pre.curl`)+`).textContent,
		Copied: window.ccxInbox.lastCopied(), API: window.ccxInbox.curlOf(`+itoa(rec.Seq)+`),
		Visible: document.querySelector(`+jsString(li+` pre.curl`)+`).offsetHeight > 0})`)
	if got.Pre != rec.Curl || got.Copied != rec.Curl || got.API != rec.Curl || !got.Visible {
		t.Fatalf("page shows %+v\nAPI curl:\n%s", got, rec.Curl)
	}
	if strings.Contains(got.Pre, f.ch.Token) || !strings.Contains(got.Pre, `"$CCX_API_TOKEN"`) {
		t.Fatalf("curl command:\n%s", got.Pre)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl to run the copied command with")
	}
	cmd := exec.Command("sh", "-c", got.Copied)
	cmd.Env = append(os.Environ(), "CCX_API_TOKEN="+f.ch.Token)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "already stored") {
		t.Fatalf("running the copied command: %v\n%s", err, out)
	}
	last := f.e.Requests(rec.Seq)
	if len(last) != 1 || last[0].Body != rec.Body || last[0].Status != 200 {
		t.Fatalf("the copied command posted %+v", last)
	}
}

// The filters narrow the request log (and stay in the address, so a link
// keeps them); the contact search narrows the contact list.
func TestBrowserFilters(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", &channel.Contact{FirstName: "Ana", LastName: "Lima"}, channel.NewEvent(channel.EventMessage, channel.Text("first from ana")))
	f.post(t, "+60123456789", &channel.Contact{FirstName: "Ben"}, channel.NewEvent(channel.EventMessage, channel.Text("hi from ben")))
	sent, err := f.e.Send(t.Context(), f.ch.ID, "+60123456789", channel.Text("hello ben"))
	if err != nil {
		t.Fatal(err)
	}
	f.post(t, "+60123456789", nil, channel.NewReceipt(sent.MID, channel.StatusDelivered, ""))
	if err := f.postErr(t, "not-a-phone", nil, channel.NewEvent(channel.EventMessage, channel.Text("bad id"))); err == nil {
		t.Fatal("an invalid contact ID was accepted")
	}
	bad := f.ch
	bad.Token = strings.Repeat("x", 46)
	wrong := &fixture{ch: bad, e: f.e}
	if err := wrong.postErr(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Text("wrong token"))); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	// A post to a wrong path is logged too (a 404 naming the right one).
	stray := platform.New(platform.Options{WebhookURL: f.e.URL() + "/custom/webhook", Token: f.ch.Token, MaxRetries: -1})
	sb, _ := json.Marshal(channel.NewWebhook(f.ch.ID, "+60199999999", nil, channel.NewEvent(channel.EventMessage, channel.Text("lost post"))))
	if _, err := stray.Post(t.Context(), sb); err == nil {
		t.Fatal("a post to a wrong path was accepted")
	}
	// Webhook posts (200, 200, 200 receipt, 400, 401, 404) and one /message call.
	if n := len(f.e.Requests(0)); n != 7 {
		t.Fatalf("logged %d requests", n)
	}
	ctx := newTab(t)
	open(t, ctx, f)
	run(t, ctx, "all requests", chromedp.Click(`#tab-requests`), waitJS(visibleRequests+` === 7`))
	for _, c := range []struct {
		what    string
		actions []chromedp.Action[chromedp.Void]
		want    int
	}{
		{"4xx", []chromedp.Action[chromedp.Void]{setField(`#rf-status`, "4xx")}, 3},
		{"contact of a stray post", []chromedp.Action[chromedp.Void]{setField(`#rf-contact`, "+60199999999")}, 1},
		{"2xx webhook posts", []chromedp.Action[chromedp.Void]{setField(`#rf-status`, "2xx"), setField(`#rf-kind`, "webhook")}, 3},
		{"/message calls", []chromedp.Action[chromedp.Void]{setField(`#rf-kind`, "message")}, 1},
		{"contact", []chromedp.Action[chromedp.Void]{setField(`#rf-contact`, "+60123456789")}, 3},
		{"event type", []chromedp.Action[chromedp.Void]{setField(`#rf-type`, "message_status")}, 1},
		{"status value", []chromedp.Action[chromedp.Void]{setField(`#rf-type`, "delivered")}, 1},
		{"has findings", []chromedp.Action[chromedp.Void]{setField(`#rf-findings`, "on")}, 1},
		{"search a path", []chromedp.Action[chromedp.Void]{setField(`#rf-q`, "/custom/webhook")}, 1},
		{"search", []chromedp.Action[chromedp.Void]{setField(`#rf-q`, "from ana")}, 1},
		{"search the reply", []chromedp.Action[chromedp.Void]{setField(`#rf-q`, "does not match any emulated channel")}, 1},
	} {
		acts := append([]chromedp.Action[chromedp.Void]{chromedp.Click(`#rf-clear`), waitJS(visibleRequests + ` === 7`)}, c.actions...)
		acts = append(acts, waitJS(visibleRequests+` === `+itoa(int64(c.want))))
		run(t, ctx, "filter: "+c.what, acts...)
	}
	// The last filters are in the address: a new tab on it shows the same.
	run(t, ctx, "filters in the address",
		chromedp.Click(`#rf-clear`), setField(`#rf-status`, "4xx"), setField(`#rf-kind`, "webhook"),
		waitJS(visibleRequests+` === 3`),
		waitJS(`document.querySelector('#rf-count').textContent === '3 of 7 requests shown'`))
	link := eval[string](t, ctx, `location.href`)
	if !strings.Contains(link, "#/requests?") || !strings.Contains(link, "status=4xx") || !strings.Contains(link, "kind=webhook") {
		t.Fatalf("address with filters: %s", link)
	}
	ctx2 := newTab(t)
	run(t, ctx2, "open the filtered link", chromedp.Navigate(link), chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`!document.querySelector('#requests-view').hidden && document.querySelectorAll('#request-list > li').length === 7`),
		waitJS(visibleRequests+` === 3 && document.querySelector('#rf-status').value === '4xx'`))
	screenshot(t, ctx2, "requests-filtered.png")

	// Contacts: by name and by ID.
	const shownContacts = `[...document.querySelectorAll('#contact-list button')].map(b => b.querySelector('.contact-name').textContent).join(',')`
	run(t, ctx, "contact search by name", chromedp.Click(`#tab-inbox`), setField(`#contact-search`, "ben"),
		waitJS(shownContacts+` === 'Ben'`))
	run(t, ctx, "contact search by id", setField(`#contact-search`, "7787"), waitJS(shownContacts+` === 'Ana Lima'`))
	run(t, ctx, "contact search, no match", setField(`#contact-search`, "zzz"),
		waitJS(shownContacts+` === '' && !document.querySelector('#no-contact-match').hidden && document.querySelector('#no-contacts').hidden`))
}

// The view is in the address: a link opens the same conversation or
// request, and back/forward walk the views.
func TestBrowserLinksAndHistory(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", &channel.Contact{FirstName: "Ana"}, channel.NewEvent(channel.EventMessage, channel.Text("from ana")))
	f.post(t, "+60123456789", &channel.Contact{FirstName: "Ben"}, channel.NewEvent(channel.EventMessage, channel.Text("from ben")))
	seq := f.e.Requests(0)[0].Seq
	ctx := newTab(t)
	open(t, ctx, f)
	title := `document.querySelector('#conv-title').textContent`
	run(t, ctx, "walk: Ana, Ben, Requests, one request",
		chromedp.Click(`#contact-list button[data-key$="+60177872890"]`),
		waitJS(`location.hash === '#/contacts/%2B60177872890' && `+title+` === 'Ana'`),
		chromedp.Click(`#contact-list button[data-key$="+60123456789"]`),
		waitJS(`location.hash === '#/contacts/%2B60123456789' && `+title+` === 'Ben'`),
		chromedp.Click(`#tab-requests`),
		waitJS(`location.hash === '#/requests' && !document.querySelector('#requests-view').hidden`),
		chromedp.WaitVisible(requestLI(seq)+` summary`),
		chromedp.Click(requestLI(seq)+` summary`),
		waitJS(`location.hash === '#/requests/`+itoa(seq)+`'`),
	)
	run(t, ctx, "back to the list of requests",
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		waitJS(`location.hash === '#/requests' && !document.querySelector('#requests-view').hidden`))
	run(t, ctx, "back to Ben",
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		waitJS(`location.hash === '#/contacts/%2B60123456789' && document.querySelector('#requests-view').hidden && `+title+` === 'Ben'`))
	run(t, ctx, "back to Ana",
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		waitJS(`location.hash === '#/contacts/%2B60177872890' && `+title+` === 'Ana' &&
			document.querySelector('#contact-list button[aria-current="true"]').dataset.key.endsWith('+60177872890')`))
	run(t, ctx, "forward to Ben, Requests, the request",
		chromedp.Evaluate[chromedp.Void](`history.forward()`),
		waitJS(title+` === 'Ben'`),
		chromedp.Evaluate[chromedp.Void](`history.forward()`),
		waitJS(`!document.querySelector('#requests-view').hidden`),
		chromedp.Evaluate[chromedp.Void](`history.forward()`),
		waitJS(`location.hash === '#/requests/`+itoa(seq)+`' && document.querySelector(`+jsString(requestLI(seq))+`).classList.contains('target')`))

	// Links opened fresh: a conversation, a request, a request no longer kept.
	ctx2 := newTab(t)
	run(t, ctx2, "link to Ben", chromedp.Navigate(f.e.URL()+"/#/contacts/%2B60123456789"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(title+` === 'Ben' && [...document.querySelectorAll('#messages .text')].some(p => p.textContent === 'from ben')`))
	run(t, ctx2, "link to a request", chromedp.Navigate(f.e.URL()+"/#/requests/"+itoa(seq)),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`(() => { const li = document.querySelector(`+jsString(requestLI(seq))+`);
			return li && li.querySelector('details').open && li.classList.contains('target') && li.textContent.includes('from ana'); })()`))
	run(t, ctx2, "link to a request not kept", chromedp.Navigate(f.e.URL()+"/#/requests/9999"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`!document.querySelector('#request-gone').hidden && document.querySelector('#request-gone').textContent.includes('#9999')`))
}

// With --state the request log survives a restart: same numbers, same
// bodies, links still open them, and they can be resent.
func TestBrowserRequestLogSurvivesRestart(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", nil, channel.NewEvent(channel.EventMessage, channel.Text("kept across restarts")))
	if _, err := f.e.Send(t.Context(), f.ch.ID, "+60177872890", channel.Text("and the reply")); err != nil {
		t.Fatal(err)
	}
	before := f.e.Requests(0)
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), f.ch.Token) {
		t.Fatal("the state file holds the API token")
	}
	f.e = f.newEmulator(t)
	ctx := newTab(t)
	run(t, ctx, "open the first request after the restart", chromedp.Navigate(f.e.URL()+"/#/requests/"+itoa(before[0].Seq)),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`document.querySelectorAll('#request-list > li').length === 2`),
		waitJS(`(() => { const li = document.querySelector(`+jsString(requestLI(before[0].Seq))+`);
			return li && li.querySelector('details').open && li.textContent.includes('kept across restarts'); })()`))
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	if strings.Contains(html, f.ch.Token) {
		t.Fatal("the page holds the API token")
	}
	li := requestLI(before[0].Seq)
	run(t, ctx, "resend it", chromedp.Click(li+` button.resend`),
		waitJS(`(() => { const r = document.querySelector(`+jsString(li+` .action-result`)+`); return r && r.dataset.kind === 'ok' && r.textContent.includes('HTTP 200'); })()`),
		waitJS(`document.querySelectorAll('#request-list > li').length === 3`))
	after := f.e.Requests(0)
	if len(after) != 3 || after[2].Seq != before[1].Seq+1 || after[2].ResendOf != before[0].Seq {
		t.Fatalf("log after restart and resend: %+v", after)
	}
}

// The address moves on while a request the page opened is still opening:
// the toggle event that follows must not drag the address back to it
// (under load it did, and a link to a request no longer kept showed the
// old one instead).
func TestBrowserOpenedRequestDoesNotPullTheAddressBack(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	f.post(t, "+60177872890", &channel.Contact{FirstName: "Ana"}, channel.NewEvent(channel.EventMessage, channel.Text("from ana")))
	seq := f.e.Requests(0)[0].Seq
	ctx := newTab(t)
	run(t, ctx, "the request list", chromedp.Navigate(f.e.URL()+"/#/requests"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		chromedp.WaitVisible(requestLI(seq)+` summary`))
	// The page's hashchange handler runs first and opens the request; ours,
	// in the same dispatch, moves on before the toggle event is handled.
	run(t, ctx, "open it, move on at once", chromedp.Evaluate[chromedp.Void](`
		window.addEventListener('hashchange', () => { location.hash = '#/requests/9999'; }, { once: true });
		location.hash = '#/requests/`+itoa(seq)+`';`),
		waitJS(`!document.querySelector('#request-gone').hidden && document.querySelector('#request-gone').textContent.includes('#9999')`))
	if h := eval[string](t, ctx, `location.hash`); h != "#/requests/9999" {
		t.Errorf("the address went back to %s", h)
	}
}
