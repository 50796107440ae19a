package emulator

import (
	"errors"
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

// Without FetchMedia (the default) only attachments on this machine are
// checked: a loopback URL is fetched, another host never is.
func TestFetchMediaDefaultStaysOnThisMachine(t *testing.T) {
	hits := make(chan string, 4)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- r.Host }))
	defer media.Close()
	// Any fetch of the outside URL would go through this transport, not the
	// network: the test sees it and nothing leaves the machine.
	outside := make(chan string, 4)
	e := start(t, Options{mediaTransport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() != "127.0.0.1" {
			outside <- r.URL.String()
			return nil, errors.New("no outside network in tests")
		}
		return http.DefaultTransport.RoundTrip(r)
	})})
	ch := e.Channels()[0]
	for _, u := range []string{media.URL + "/a.jpg", "http://media.example.com/b.jpg"} {
		ev := channel.NewEvent(channel.EventMessage, channel.NewAttachment(channel.AttachmentImage, u, "", "", ""))
		if a := post(t, e, ch, channel.NewWebhook(ch.ID, "+60177872890", nil, ev)); a.status != http.StatusOK {
			t.Fatalf("webhook answered %d", a.status)
		}
	}
	if err := e.Close(); err != nil { // waits for the background checks
		t.Fatal(err)
	}
	select {
	case <-hits:
	default:
		t.Error("the loopback attachment URL was not checked without FetchMedia")
	}
	select {
	case u := <-outside:
		t.Errorf("%s was fetched without FetchMedia", u)
	default:
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOnThisMachine(t *testing.T) {
	for u, want := range map[string]bool{
		"http://localhost:8080/a.jpg": true, "http://LOCALHOST./a": true, "http://app.localhost/a": true,
		"http://127.0.0.1/a": true, "http://127.9.9.9/a": true, "http://[::1]:80/a": true,
		"https://example.com/a": false, "http://10.0.0.1/a": false, "http://localhost.example.com/a": false,
		"http://[::ffff:8.8.8.8]/a": false, "::not a url": false,
	} {
		if got := onThisMachine(u); got != want {
			t.Errorf("onThisMachine(%q) = %v, want %v", u, got, want)
		}
	}
}
