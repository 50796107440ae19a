package emukit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestBaseFireSteps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	var b Base
	b.Init("x", srv.Client(), 0, true)
	if !b.AutoReceipts() {
		t.Fatal("auto receipts off after Init(auto=true)")
	}
	b.SetAutoReceipts(false)
	if b.AutoReceipts() {
		t.Fatal("SetAutoReceipts(false) ignored")
	}
	s := b.Rec.Add(provider.Send{ID: "A", CallbackURL: srv.URL})
	steps := []channel.StatusValue{channel.StatusSent, channel.StatusDelivered, channel.StatusRead}
	b.FireSteps(s, steps, func(st channel.StatusValue) (*http.Request, error) {
		if st == channel.StatusRead {
			return nil, errors.New("no read receipt")
		}
		return http.NewRequest(http.MethodPost, srv.URL, nil)
	})
	b.WaitCallbacks()
	cbs := b.Sends()[0].Callbacks
	if len(cbs) != 3 || cbs[0].Status != channel.StatusSent || cbs[0].Answer != 204 || cbs[1].Status != channel.StatusDelivered ||
		cbs[2].Status != channel.StatusRead || cbs[2].Error != "no read receipt" {
		t.Fatalf("callbacks %+v", cbs)
	}
	b.Close()
	b.FireSteps(s, steps, func(channel.StatusValue) (*http.Request, error) { return nil, errors.New("not called") })
	cbs = b.Sends()[0].Callbacks
	if len(cbs) != 4 || cbs[3].Status != channel.StatusSent || cbs[3].Error != errQueueRefused {
		t.Fatalf("after Close: %+v", cbs)
	}
}

func TestStartSend(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/p?q=1", nil)
	r.Header.Set("Content-Type", "text/plain")
	body, s, err := StartSend(r, 10)
	if err != nil || len(body) != 0 || s.Method != "POST" || s.Path != "/p" || s.ContentType != "text/plain" {
		t.Fatalf("StartSend: %q %+v %v", body, s, err)
	}
}
