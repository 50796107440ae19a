package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// With FetchMedia, an attachment the server posts is checked after the
// answer: the media server is held until the webhook has answered (so the
// answer cannot have waited for the fetch), then a forced download becomes
// a warning on the message, in the state and the event stream.
func TestFetchMediaWarnsAfterTheAnswer(t *testing.T) {
	answered := make(chan struct{})
	fetched := make(chan string, 4)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-answered:
		case <-time.After(10 * time.Second): // a deadline; the test fails below if it is hit
		}
		fetched <- r.Method
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Disposition", `attachment; filename="a.jpg"`)
	}))
	defer media.Close()

	e := start(t, Options{FetchMedia: true})
	events, cancel := e.Subscribe()
	defer cancel()
	ch := e.Channels()[0]
	ev := channel.NewEvent(channel.EventMessage, channel.NewAttachment(channel.AttachmentImage, media.URL+"/a.jpg", "", "", ""))
	ev.MID = "att-1"
	a := post(t, e, ch, channel.NewWebhook(ch.ID, "+60177872890", nil, ev))
	close(answered)
	if a.status != http.StatusOK {
		t.Fatalf("webhook answered %d %s", a.status, a.body)
	}
	select {
	case m := <-fetched:
		if m != http.MethodHead {
			t.Errorf("first request %s, want HEAD", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the attachment URL was never fetched")
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind != EventWarning || !strings.Contains(ev.Summary, "Content-Disposition") {
				continue
			}
			if ev.MID != "att-1" || !strings.Contains(ev.Summary, "forces a download") {
				t.Errorf("warning event %+v", ev)
			}
			var found bool
			for _, w := range e.Warnings() {
				if w.Rule == "media-disposition" && w.MID == "att-1" && w.ChannelID == ch.ID {
					found = true
				}
			}
			if !found {
				t.Errorf("no media-disposition warning in the state: %+v", e.Warnings())
			}
			return
		case <-deadline:
			t.Fatalf("no media warning; warnings %+v", e.Warnings())
		}
	}
}

// Without FetchMedia (the default) nothing is fetched.
func TestFetchMediaOffByDefault(t *testing.T) {
	hits := make(chan struct{}, 1)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- struct{}{} }))
	defer media.Close()
	e := start(t, Options{})
	ch := e.Channels()[0]
	ev := channel.NewEvent(channel.EventMessage, channel.NewAttachment(channel.AttachmentImage, media.URL+"/a.jpg", "", "", ""))
	if a := post(t, e, ch, channel.NewWebhook(ch.ID, "+60177872890", nil, ev)); a.status != http.StatusOK {
		t.Fatalf("webhook answered %d", a.status)
	}
	if err := e.Close(); err != nil { // waits for any background work
		t.Fatal(err)
	}
	select {
	case <-hits:
		t.Error("an attachment URL was fetched without FetchMedia")
	default:
	}
}
