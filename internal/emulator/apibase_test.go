package emulator

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// A platform started before its server is pointed at it later.
func TestSetAPIBaseURL(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Send(ctx, "", "+60177872890", channel.Text("hi")); !errors.Is(err, ErrNoAPIBaseURL) {
		t.Fatalf("Send without a base URL: %v, want ErrNoAPIBaseURL", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"mId":"m-1"}`))
	}))
	defer srv.Close()
	if err := e.SetAPIBaseURL("", srv.URL); err != nil {
		t.Fatal(err)
	}
	if got := e.Channel().APIBaseURL; got != srv.URL {
		t.Fatalf("Channel().APIBaseURL = %q, want %q", got, srv.URL)
	}
	m, err := e.Send(ctx, "", "+60177872890", channel.Text("hi"))
	if err != nil || m.MID != "m-1" || m.Status != channel.StatusSent {
		t.Fatalf("Send after SetAPIBaseURL: %+v, %v", m, err)
	}
	if err := e.SetAPIBaseURL("nope", srv.URL); !errors.Is(err, ErrUnknownChannel) {
		t.Fatalf("unknown channel: %v", err)
	}
	if err := e.SetAPIBaseURL("", "not a url"); err == nil {
		t.Fatal("a bad URL was taken")
	}
}
