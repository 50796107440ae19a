package ccxtest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Providers names the provider fakes NewProvider knows, sorted.
func Providers() []string { return emulators.Names() }

// ProviderOptions configure a Provider. The zero value is usable:
// generated credentials, automatic status callbacks to the URL each send
// names.
type ProviderOptions struct {
	// Credentials to accept and sign with, keyed as `ccx relay` reads them
	// (CCX_TWILIO_AUTH_TOKEN, ...); a missing one is generated.
	Credentials map[string]string
	// CallbackURL receives the status callbacks of sends that name none
	// (Twilio's Messaging Service callback, ClickSend's receipt rule).
	CallbackURL string
	// NoReceipts turns the automatic status callbacks off (post them with
	// PostReceipt).
	NoReceipts bool
	// Wait bounds each WaitSends call (0 → DefaultWait).
	Wait time.Duration
}

// Provider is a running provider fake: the provider's API (answering as the
// provider does, recording every call) on 127.0.0.1, and the webhooks the
// provider would post, signed as it signs.
type Provider struct {
	emu    provider.Emulator
	srv    *httptest.Server
	client *http.Client
	wait   time.Duration
}

// NewProvider starts the named provider fake (see Providers); t.Cleanup
// stops it.
func NewProvider(t testing.TB, name string, o ProviderOptions) *Provider {
	t.Helper()
	emu, err := emulators.New(name, emulators.Options{Credentials: maps.Clone(o.Credentials), CallbackURL: o.CallbackURL, NoReceipts: o.NoReceipts})
	if err != nil {
		t.Fatalf("ccxtest: NewProvider: %v", err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(func() {
		emu.Close() // the status callbacks in flight first
		srv.Close()
	})
	return &Provider{emu: emu, srv: srv, client: &http.Client{Timeout: 10 * time.Second}, wait: o.Wait}
}

// Name is the provider's name.
func (f *Provider) Name() string { return f.emu.Name() }

// BaseURL is the API base URL the server calls instead of the provider's
// (e.g. instead of https://api.twilio.com).
func (f *Provider) BaseURL() string { return f.srv.URL }

// Credentials are what the server needs to call the fake and verify its
// webhooks, keyed as `ccx relay` reads them (a copy).
func (f *Provider) Credentials() map[string]string { return maps.Clone(f.emu.Credentials()) }

// Env is Credentials as sorted KEY=value pairs, for a server run as a
// process (exec.Cmd.Env).
func (f *Provider) Env() []string {
	c := f.emu.Credentials()
	out := make([]string, 0, len(c))
	for _, k := range slices.Sorted(maps.Keys(c)) {
		out = append(out, k+"="+c[k])
	}
	return out
}

// SetFaults changes how later API calls are answered (errors, rate limits,
// refused recipients, bad credentials); the zero Faults heals it.
func (f *Provider) SetFaults(x Faults) { f.emu.SetFaults(x) }

// Sends lists the calls the server made to the fake's API, accepted or
// refused, oldest first.
func (f *Provider) Sends() []Send { return f.emu.Sends() }

// WaitSends waits until the server has made at least n calls to the fake's
// API and returns them all.
func (f *Provider) WaitSends(t testing.TB, n int) []Send {
	t.Helper()
	wake := make(chan struct{}, 1)
	cancel := f.emu.Subscribe(func(Send) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer cancel()
	var got []Send
	waitFor(t, f.wait, wake, func() bool {
		got = f.Sends()
		return len(got) >= n
	}, func() string {
		return fmt.Sprintf("%s to the %s fake at %s; the server made %d", ui.Plural(n, "call"), f.Name(), f.BaseURL(), len(got))
	})
	return got
}

// Response is the server's answer to a webhook a provider fake posted.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// PostInbound posts the webhook the provider sends for a customer's message
// to target (the server's webhook URL for this provider), signed as the
// provider signs (badly, with in.BadSignature), and returns the answer. It
// fails t only when no answer came.
func (f *Provider) PostInbound(t testing.TB, target string, in Inbound) Response {
	t.Helper()
	req, err := f.emu.Inbound(target, in)
	if err != nil {
		t.Fatalf("ccxtest: PostInbound: %v", err)
	}
	return f.post(t, "inbound webhook", req)
}

// PostReceipt posts the status callback the provider sends for a message
// it accepted (r.ProviderID: the id it answered the send with, Send.ID) to
// target ("" → the callback URL the send named, or CallbackURL). Providers
// without receipts (Telegram) fail t.
func (f *Provider) PostReceipt(t testing.TB, target string, r Receipt) Response {
	t.Helper()
	if target == "" {
		for _, s := range f.Sends() {
			if s.ID == r.ProviderID && s.CallbackURL != "" {
				target = s.CallbackURL
			}
		}
	}
	req, err := f.emu.Receipt(target, r)
	if errors.Is(err, provider.ErrNoReceipts) {
		t.Fatalf("ccxtest: PostReceipt: %s sends no delivery receipts", f.Name())
	}
	if err != nil {
		t.Fatalf("ccxtest: PostReceipt: %v", err)
	}
	return f.post(t, "status callback", req)
}

func (f *Provider) post(t testing.TB, what string, req *http.Request) Response {
	t.Helper()
	resp, err := f.client.Do(req.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("ccxtest: %s %s to %s: %v", f.Name(), what, f.scrub(req.URL.Redacted()), f.scrub(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("ccxtest: %s %s to %s: reading the answer: %v", f.Name(), what, f.scrub(req.URL.Redacted()), err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// scrub keeps the fake's credentials out of failure messages (a ClickSend
// webhook URL ends in its secret).
func (f *Provider) scrub(s string) string {
	for _, v := range f.emu.Credentials() {
		if len(v) >= 6 {
			s = strings.ReplaceAll(s, v, "[secret]")
		}
	}
	return s
}
