package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/listen"
)

// A post to a wrong path and a refused post repeated are in the Requests
// tab with their bodies: the 404 names the webhook path, the 401 shows what
// it carried, and the repeat is marked.
func TestBrowserRequestsShowStrayAndRefusedPosts(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	ctx := newTab(t)
	open(t, ctx, f)
	run(t, ctx, "requests tab", chromedp.Click(`#tab-requests`))

	postTo := func(path, auth, mid string) int {
		body, _ := json.Marshal(channel.NewWebhook(f.ch.ID, "+60177872890", nil,
			channel.Event{Type: channel.EventMessage, MID: mid, Timestamp: channel.NowMillis(), Message: &channel.Message{Type: channel.MessageText, Text: "hello " + mid}}))
		req, _ := http.NewRequest(http.MethodPost, f.e.URL()+path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := postTo("/custom/webhook", "Bearer "+f.ch.Token, "m-stray"); st != http.StatusNotFound {
		t.Fatalf("/custom/webhook: %d", st)
	}
	for i := 0; i < 2; i++ {
		if st := postTo("/custom/channel/webhook/", "Bearer wrong-token", "m-refused"); st != http.StatusUnauthorized {
			t.Fatalf("wrong token: %d", st)
		}
	}
	run(t, ctx, "three requests listed",
		waitJS(`document.querySelectorAll('#request-list > li[data-kind="webhook"]').length === 3`),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#request-list > li details').forEach(d => d.open = true)`))
	// Newest first: the repeated 401, the first 401, the stray post.
	texts := eval[[]string](t, ctx, `[...document.querySelectorAll('#request-list > li')].map(li => li.innerText)`)
	if len(texts) != 3 {
		t.Fatalf("%d requests", len(texts))
	}
	stray, first, repeat := texts[2], texts[1], texts[0]
	for _, want := range []string{"POST /custom/webhook", "HTTP 404", "did you mean POST /custom/channel/webhook/?", "hello m-stray", "+60177872890 · message"} {
		if !strings.Contains(stray, want) {
			t.Errorf("stray post lacks %q:\n%s", want, stray)
		}
	}
	for _, want := range []string{"HTTP 401", "hello m-refused"} {
		if !strings.Contains(first, want) || !strings.Contains(repeat, want) {
			t.Errorf("refused posts lack %q:\n%s\n---\n%s", want, first, repeat)
		}
	}
	if strings.Contains(first, "body not read") || strings.Contains(first, "repeat ") {
		t.Errorf("first 401:\n%s", first)
	}
	if !strings.Contains(repeat, "repeat 2") || !strings.Contains(repeat, `mId m-refused posted again (attempt 2`) {
		t.Errorf("the repeat is not marked:\n%s", repeat)
	}
	if html := eval[string](t, ctx, `document.documentElement.outerHTML`); strings.Contains(html, f.ch.Token) {
		t.Fatal("the page contains the API token")
	}
}
