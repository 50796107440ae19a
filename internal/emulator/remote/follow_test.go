package remote

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/ui"
)

const sseMessage = `{"seq":3,"kind":"message.received","channelId":"ch","contactId":"+60177872890","mId":"m1","message":{"channelId":"ch","contactId":"+60177872890","mId":"m1","direction":"in","type":"text","message":{"type":"text","text":"hi <b>"},"timestamp":1,"status":"received"}}`

func kind(err error) fault.Kind { k, _ := fault.KindOf(err); return k }

// The stream ending (the emulator stopped) is an I/O error (exit 3) after
// the messages it carried; other events and other contacts are left out.
func TestFollowUntilTheEmulatorGoesAway(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": hello\n\n")
		fmt.Fprintf(w, "id: 1\nevent: contact.created\ndata: %s\n\n", `{"seq":1,"kind":"contact.created","contactId":"+60177872890"}`)
		fmt.Fprintf(w, "id: 3\nevent: message.received\ndata: %s\n\n", sseMessage)
		fmt.Fprintf(w, "id: 4\nevent: message.received\ndata: %s\n\n", strings.ReplaceAll(sseMessage, "+60177872890", "+60111111111"))
	}))
	defer srv.Close()
	io, _, out, errOut := ui.Test()
	err := Follow(context.Background(), io, true, srv.URL, "", "+60177872890")
	if kind(err) != fault.IO || !strings.Contains(err.Error(), "went away") {
		t.Fatalf("err = %v (kind %v), want an I/O error saying the emulator went away", err, kind(err))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"kind":"message.received"`) || !strings.Contains(lines[0], `"text":"hi <b>"`) {
		t.Errorf("NDJSON:\n%s", out)
	}
	if !strings.Contains(errOut.String(), "following messages at "+srv.URL) {
		t.Errorf("stderr: %q", errOut)
	}

	io2, _, out2, _ := ui.Test()
	_ = Follow(context.Background(), io2, false, srv.URL, "", "")
	if !strings.Contains(out2.String(), `+60177872890  `) || !strings.Contains(out2.String(), `← text "hi <b>"  received  mId m1`) || strings.Count(out2.String(), "\n") != 2 {
		t.Errorf("pretty:\n%s", out2)
	}
}

// Ctrl-C (the context ending) while following is an interruption (130).
func TestFollowInterrupted(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": hello\n\n")
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	io, _, _, _ := ui.Test()
	go func() { done <- Follow(ctx, io, true, srv.URL, "", "") }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("Follow never connected")
	}
	cancel()
	select {
	case err := <-done:
		if kind(err) != fault.Interrupted {
			t.Errorf("err = %v (kind %v), want interrupted", err, kind(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return after the context ended")
	}
}

// No emulator there: an I/O error naming it.
func TestFollowUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	io, _, _, _ := ui.Test()
	err := Follow(context.Background(), io, false, url, "", "")
	if kind(err) != fault.IO || !strings.Contains(err.Error(), "cannot reach the emulator") {
		t.Errorf("err = %v (kind %v)", err, kind(err))
	}
}
