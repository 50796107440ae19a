package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Options are the flags of `ccx provider serve`.
type Options struct {
	Provider       string
	Host           string
	Port           int
	FailRate       float64
	Reject         []string
	RateLimitNext  int
	RetryAfter     time.Duration
	BadCredentials bool
	StatusURL      string
	BusinessNumber string
	NoReceipts     bool
	ReceiptDelay   time.Duration
	WebhookType    string
	Credentials    string
	CredentialsOut string
	Grace          time.Duration
	Ready          func(base string) // tests: called once listening
}

// Run serves the fake of o.Provider until ctx ends, logging each send and
// callback on io.ErrOut (and as NDJSON on io.Out with asJSON).
func Run(ctx context.Context, io *ui.IOStreams, asJSON bool, o *Options) error {
	info, err := emulators.LookupFlag(o.Provider)
	if err != nil {
		return err
	}
	faults := provider.Faults{FailRate: o.FailRate, Reject: o.Reject, RateLimit: o.RateLimitNext, RetryAfter: o.RetryAfter, BadCredentials: o.BadCredentials}
	switch {
	case o.Port < 0 || o.Port > 65535:
		return fault.Usagef("invalid --port %d: use 0..65535", o.Port)
	case o.ReceiptDelay < 0:
		return fault.Usagef("invalid --receipt-delay %v", o.ReceiptDelay)
	}
	if err := emulators.CheckWebhookType(info, o.WebhookType); err != nil {
		return err
	}
	if err := CheckFaults(faults); err != nil {
		return fault.New(fault.Usage, err)
	}
	if o.StatusURL != "" {
		if err := emulators.CheckURL("--status-url", o.StatusURL); err != nil {
			return err
		}
		if !info.Receipts {
			return fault.Usagef("--status-url: %s sends no status callbacks", info.Name)
		}
	}
	if err := emulators.CheckAddress(info, "--business-number", o.BusinessNumber); err != nil {
		return err
	}
	given, err := emulators.ReadCredentials(ctx, info, o.Credentials, io.Getenv)
	if err != nil {
		return err
	}
	emu, err := emulators.New(info.Name, emulators.Options{Credentials: given, BusinessNumber: o.BusinessNumber, CallbackURL: o.StatusURL,
		NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, WebhookType: o.WebhookType})
	if err != nil {
		return fault.New(fault.Usage, err)
	}
	srv := New(emu)
	if err := srv.SetFaults(faults); err != nil {
		return fault.New(fault.Usage, err)
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fault.New(fault.IO, fmt.Errorf("cannot listen on %s: %w (pick another --port, or 0 for a free one)", addr, err))
		}
		return fault.New(fault.IO, fmt.Errorf("cannot listen on %s: %v", addr, err))
	}
	base := "http://" + ln.Addr().String()
	creds := emu.Credentials()
	secrets := emulators.SecretValues(info, creds)
	if o.CredentialsOut != "" {
		if err := fsutil.WritePrivate(o.CredentialsOut, credentialsFile(info, creds, base)); err != nil {
			ln.Close()
			return fault.New(fault.IO, fmt.Errorf("--credentials-out: %v", err))
		}
	}
	p := &printer{io: io, json: asJSON, secrets: secrets}
	p.header(info, base, creds, given, o)
	cancel := Watch(emu, p.event)
	defer cancel()
	if o.Ready != nil {
		o.Ready(base)
	}
	err = srv.Serve(ctx, ln, o.Grace)
	p.summary(emu.Sends())
	if err != nil {
		return fault.New(fault.IO, fmt.Errorf("server: %v", err))
	}
	return nil
}

func credentialsFile(info emulators.Info, creds map[string]string, base string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# ccx provider serve --provider %s: a fake's test credentials (not real ones)\n", info.Name)
	fmt.Fprintf(&b, "CCX_PROVIDER_BASE_URL=%s\n", base)
	for _, k := range info.Credentials {
		if v, ok := creds[k]; ok {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	}
	return []byte(b.String())
}

// printer shows the fake's life: the header, each send and callback,
// the summary. Events come one at a time from the emulator.
type printer struct {
	io      *ui.IOStreams
	json    bool
	secrets []string
	mu      sync.Mutex
}

func (p *printer) header(info emulators.Info, base string, creds, given map[string]string, o *Options) {
	if p.json {
		shown := map[string]string{}
		for k, v := range creds {
			if info.Secret[k] {
				v = ui.Redact(v)
			}
			shown[k] = v
		}
		_ = ui.WriteJSON(p.io.Out, map[string]any{"event": "listening", "provider": info.Name, "url": base,
			"credentials": shown, "credentialsFile": o.CredentialsOut})
	}
	w := p.io.ErrOut
	st := p.io.Styles(w)
	fmt.Fprintf(w, "%s %s fake on %s\n", st.OK.Render("listening:"), info.Name, base)
	if ip := net.ParseIP(o.Host); o.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(w, "warning: listening on %s, not loopback: anyone who can reach it can read the record\n", o.Host)
	}
	fmt.Fprintf(w, "  your server's provider base URL: CCX_PROVIDER_BASE_URL=%s\n", base)
	keys := make([]string, 0, len(creds))
	for _, k := range info.Credentials {
		if _, ok := creds[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		v, origin := creds[k], "generated"
		if _, ok := given[k]; ok {
			origin = "yours"
		}
		if info.Secret[k] {
			v = ui.Redact(v)
		}
		fmt.Fprintf(w, "  %s=%s  %s\n", k, v, st.Dim.Render("("+origin+")"))
	}
	if o.CredentialsOut != "" {
		fmt.Fprintf(w, "  credentials written to %s (0600): ccx relay --provider %s --credentials %s\n", o.CredentialsOut, info.Name, o.CredentialsOut)
	} else if len(given) < len(keys) {
		fmt.Fprintln(w, st.Dim.Render("  generated secrets are shown redacted: --credentials-out FILE hands them to your server, or give yours with --credentials FILE or CCX_* env"))
	}
	fmt.Fprintf(w, "  record: GET %s%ssends   knobs: PUT %s%sfaults   (Ctrl-C stops)\n", base, ControlPrefix, base, ControlPrefix)
}

// providerEvent is one NDJSON line of --json.
type providerEvent struct {
	Event    string             `json:"event"`
	Send     *provider.Send     `json:"send,omitempty"`
	Seq      int                `json:"seq,omitempty"`
	ID       string             `json:"id,omitempty"`
	Callback *provider.Callback `json:"callback,omitempty"`
}

func (p *printer) event(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		out := providerEvent{Event: ev.Kind}
		if ev.Kind == "send" {
			s := ev.Send
			s.Callbacks = nil
			out.Send = &s
		} else {
			out.Seq, out.ID, out.Callback = ev.Send.Seq, ev.Send.ID, ev.Callback
		}
		_ = ui.WriteJSON(p.io.Out, out)
	}
	w := p.io.ErrOut
	st := p.io.Styles(w)
	s := ev.Send
	if ev.Kind == "callback" {
		c := ev.Callback
		res := st.OK.Render(strconv.Itoa(c.Answer))
		if c.Error != "" {
			res = st.Error.Render(c.Error)
		} else if c.Answer < 200 || c.Answer > 299 {
			res = st.Warning.Render(strconv.Itoa(c.Answer))
		}
		fmt.Fprintf(w, "%s #%d %s callback → %s  %s\n", st.Info.Render("==>"), s.Seq, st.Bold.Render(string(c.Status)), ui.RedactValues(c.URL, p.secrets), res)
		return
	}
	to := ""
	if s.To != "" {
		to = "  to " + s.To
	}
	what := ""
	if s.Message.Type != "" {
		what = "  " + st.Bold.Render(string(s.Message.Type)) + " " + listen.RenderMessage(&s.Message)
	}
	fmt.Fprintf(w, "%s #%d %s %s%s%s\n", st.Info.Render("-->"), s.Seq, s.Method, ui.RedactValues(s.Path, p.secrets), to, what)
	if s.ID != "" {
		cb := ""
		if s.CallbackURL != "" {
			cb = st.Dim.Render("  (status callbacks → " + ui.RedactValues(s.CallbackURL, p.secrets) + ")")
		}
		fmt.Fprintf(w, "%s #%d %s %s%s\n", st.Info.Render("<--"), s.Seq, ui.HTTPStatus(st, s.Status), s.ID, cb)
		return
	}
	fmt.Fprintf(w, "%s #%d %s %s\n", st.Warning.Render("<--"), s.Seq, ui.HTTPStatus(st, s.Status), ui.RedactValues(s.Error, p.secrets))
}

func (p *printer) summary(sends []provider.Send) {
	ok, refused, cbs := 0, 0, 0
	for _, s := range sends {
		if s.ID != "" {
			ok++
		} else {
			refused++
		}
		cbs += len(s.Callbacks)
	}
	fmt.Fprintf(p.io.ErrOut, "stopped: %s (%d accepted, %d refused), %s\n", ui.Plural(ok+refused, "send"), ok, refused, ui.Plural(cbs, "status callback"))
}
