package loopback

import (
	"context"
	"sync"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestSendComesBack(t *testing.T) {
	a := New()
	a.Delay = 0
	var mu sync.Mutex
	var got []provider.Inbound
	a.SetSink(func(_ context.Context, in []provider.Inbound) error {
		mu.Lock()
		got = append(got, in...)
		mu.Unlock()
		return nil
	})
	lat, lng := 1.0, 2.0
	for _, m := range []channel.Message{channel.Text("hi"), channel.QuickReply("Q", "A", "B"),
		{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng}, channel.NewAttachment(channel.AttachmentImage, "https://x/a", "", "", ""),
		channel.CustomPayload([]byte(`{"a":1}`))} {
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "+60177872890", Message: m})
		if err != nil || id == "" || len(id) > channel.MaxMIDLen {
			t.Fatalf("%s: %q %v", m.Type, id, err)
		}
	}
	a.Wait()
	if len(got) != 15 {
		t.Fatalf("got %d events, want 3 per send", len(got))
	}
	seen := map[string]int{}
	for _, in := range got {
		switch {
		case in.Status != nil:
			seen[string(in.Status.Value)]++
		case in.Message.Type == channel.MessageText:
			seen[in.Message.Text]++
		default:
			seen[string(in.Message.Type)]++
		}
	}
	for k, n := range map[string]int{"sent": 5, "delivered": 5, "echo: hi": 1, "A": 1, "location": 1, "attachment": 1, "echo: custom payload": 1} {
		if seen[k] != n {
			t.Errorf("%s: %d, want %d (%v)", k, seen[k], n, seen)
		}
	}
}

func FuzzParseInbound(f *testing.F) {
	f.Add(`{"id":"1","from":"+60177872890","text":"hi"}`)
	f.Add(`{"id":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		ins, err := ParseInbound([]byte(body))
		if err == nil && (len(ins) != 1 || ins[0].Message == nil) {
			t.Fatal("accepted without a message")
		}
	})
}
