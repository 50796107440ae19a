package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/e2e"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
)

// broken is a relay adapter with one bug. It forwards the optional
// interfaces the relay looks for, so everything else stays correct.
type broken struct {
	provider.Adapter
	send   func(ctx context.Context, req channel.OutgoingRequest) (string, error)
	verify func(r *http.Request, body []byte) error
	parse  func(r *http.Request, body []byte) ([]provider.Inbound, error)
}

func (b *broken) Send(ctx context.Context, req channel.OutgoingRequest) (string, error) {
	if b.send != nil {
		return b.send(ctx, req)
	}
	return b.Adapter.Send(ctx, req)
}

func (b *broken) Verify(r *http.Request, body []byte) error {
	if b.verify != nil {
		return b.verify(r, body)
	}
	return b.Adapter.Verify(r, body)
}

func (b *broken) Parse(r *http.Request, body []byte) ([]provider.Inbound, error) {
	if b.parse != nil {
		return b.parse(r, body)
	}
	return b.Adapter.Parse(r, body)
}

func (b *broken) Ack(w http.ResponseWriter) {
	if a, ok := b.Adapter.(provider.Acker); ok {
		a.Ack(w)
		return
	}
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func (b *broken) OpenMedia(ctx context.Context, ref string) (*http.Response, error) {
	return b.Adapter.(provider.MediaOpener).OpenMedia(ctx, ref)
}

func (b *broken) SentOnAccept() bool {
	so, ok := b.Adapter.(provider.SentOnAccept)
	return ok && so.SentOnAccept()
}

func breakAdapter(f func(in provider.Adapter, b *broken)) func(provider.Adapter) provider.Adapter {
	return func(in provider.Adapter) provider.Adapter {
		b := &broken{Adapter: in}
		f(in, b)
		return b
	}
}

// syncForwarder is a server that posts the customer's message to the
// platform while the provider waits, once, and acknowledges the provider
// with 200 whatever the platform said.
func syncForwarder(next http.Handler, h *e2e.Harness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/inbound") {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		ad := adapterFor(h, "http://"+r.Host)
		if ad.Verify(r, body) != nil {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		ins, err := ad.Parse(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ch := h.Channel()
		for _, in := range ins {
			wh := channel.NewWebhook(ch.ID, in.ContactID, nil, channel.Event{Type: channel.EventMessage, MID: in.ProviderID,
				Timestamp: channel.NowMillis(), Message: in.Message})
			b, _ := json.Marshal(wh)
			req, _ := http.NewRequest(http.MethodPost, h.WebhookURL(), bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ch.Token)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close() // the bug: whatever it said
			}
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
	})
}

// Each bug class the issue names, in a server that is otherwise ccx relay:
// its check fails and says which hop, the checks around it still pass.
func TestBrokenServers(t *testing.T) {
	cases := []struct {
		name  string
		wrap  func(provider.Adapter) provider.Adapter
		front func(http.Handler, *e2e.Harness) http.Handler
		fails string
		// reason holds what the failure must say (the hop and what was seen).
		reason   []string
		security bool
		passes   []string
	}{
		{name: "200 + mId without calling the provider",
			wrap: breakAdapter(func(_ provider.Adapter, b *broken) {
				b.send = func(context.Context, channel.OutgoingRequest) (string, error) {
					return "SM" + strings.Repeat("0", 32), nil
				}
			}),
			fails: "out-text", reason: []string{"/message answered 200 + mId", "the provider received no call"}, passes: []string{"in-text"}},
		{name: "200 + mId after the provider failed",
			wrap: breakAdapter(func(in provider.Adapter, b *broken) {
				b.send = func(ctx context.Context, req channel.OutgoingRequest) (string, error) {
					if id, err := in.Send(ctx, req); err == nil {
						return id, nil
					}
					return "SM" + strings.Repeat("1", 32), nil
				}
			}),
			fails: "fail-provider-error", reason: []string{"/message answered 200 + mId", "although the provider failed"}, passes: []string{"out-text"}},
		{name: "literal undefined for an attachment",
			wrap: rewrite(func(m channel.Message) channel.Message {
				if m.Type == channel.MessageAttachment {
					return channel.Text("undefined")
				}
				return m
			}),
			fails: "out-attachment", reason: []string{`the provider received text "undefined" and no media URL`, "read the wrong field"}, passes: []string{"out-text"}},
		{name: "empty SMS for an attachment",
			wrap: rewrite(func(m channel.Message) channel.Message {
				if m.Type == channel.MessageAttachment {
					return channel.Text("")
				}
				return m
			}),
			// Twilio refuses an empty body (21602): the hop that breaks is /message.
			fails: "out-attachment", reason: []string{"/message answered 400", "Message body is required"}, passes: []string{"out-text"}},
		{name: "location dropped",
			wrap: rewrite(func(m channel.Message) channel.Message {
				if m.Type == channel.MessageLocation {
					return channel.Text("Location shared")
				}
				return m
			}),
			fails: "out-location", reason: []string{"the location was dropped", `"Location shared"`}, passes: []string{"out-quick-reply"}},
		{name: "inbound acked 200 while the platform refused it",
			front: syncForwarder,
			fails: "in-platform-down", reason: []string{"acknowledged the provider's webhook with 200", "refused the event (503)", "lost"}, passes: []string{"in-text"}},
		{name: "badly signed inbound accepted",
			wrap: breakAdapter(func(_ provider.Adapter, b *broken) {
				b.verify = func(*http.Request, []byte) error { return nil }
			}),
			fails: "in-bad-signature", reason: []string{"SECURITY", "badly signed webhook", "reached the platform"}, security: true, passes: []string{"in-text"}},
		{name: "provider retries forwarded twice",
			wrap: breakAdapter(func(in provider.Adapter, b *broken) {
				b.parse = func(r *http.Request, body []byte) ([]provider.Inbound, error) {
					ins, err := in.Parse(r, body)
					for i := range ins {
						ins[i].ProviderID = channel.NewMID() // a fresh id per webhook: no de-duplication
					}
					return ins, err
				}
			}),
			fails: "in-retry", reason: []string{"the provider's retry was forwarded again", "2 message events", "new mId"}, passes: []string{"in-text"}},
		{name: "receipts with the provider's id",
			wrap: breakAdapter(func(in provider.Adapter, b *broken) {
				b.send = func(ctx context.Context, req channel.OutgoingRequest) (string, error) {
					if _, err := in.Send(ctx, req); err != nil {
						return "", err
					}
					return "own-" + channel.NewMID(), nil // its own mId; receipts keep Twilio's sid
				}
			}),
			fails: "receipt-delivered", reason: []string{"message_status delivered carried the provider's id", "not the mId", "that /message returned"}, passes: []string{"out-text"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := harness(t, "twilio", emulators.Options{BusinessNumber: "whatsapp:+15005550006"}, channel.IDPhone)
			url := startRelay(t, h, c.wrap, c.front)
			rep := run(t, h, url, append([]string{c.fails}, c.passes...)...)
			r := result(t, rep, c.fails)
			if r.Verdict != conformance.Fail {
				t.Fatalf("%s: %s, want fail:\n%s", c.fails, r.Verdict, table(rep))
			}
			for _, s := range c.reason {
				if !strings.Contains(r.Reason, s) {
					t.Errorf("%s reason %q does not say %q", c.fails, r.Reason, s)
				}
			}
			if r.Security != c.security {
				t.Errorf("%s security = %v, want %v", c.fails, r.Security, c.security)
			}
			for _, id := range c.passes {
				if p := result(t, rep, id); p.Verdict != conformance.Pass {
					t.Errorf("%s: %s, want pass (%s)", id, p.Verdict, p.Reason)
				}
			}
			if rep.Failed != 1 {
				t.Errorf("%d failures, want 1:\n%s", rep.Failed, table(rep))
			}
		})
	}
}

// rewrite is a server that renders some message types wrongly.
func rewrite(f func(channel.Message) channel.Message) func(provider.Adapter) provider.Adapter {
	return breakAdapter(func(in provider.Adapter, b *broken) {
		b.send = func(ctx context.Context, req channel.OutgoingRequest) (string, error) {
			req.Message = f(req.Message)
			return in.Send(ctx, req)
		}
	})
}
