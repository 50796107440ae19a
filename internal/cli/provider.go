package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/provider/serve"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

func newProviderCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Play the provider face: a fake provider API, and provider webhooks to your server",
		Long: `An integration server has two faces: the platform's (ccx emulate, trigger, check)
and the provider's. 'ccx provider' plays the provider:

  serve   a local fake of the provider's API (Twilio, Telegram, ClickSend,
          Gupshup, Zalo) that
          records every send your server makes, answers like the real provider
          (failures on request) and fires its signed status callbacks
  send    post the provider's webhook to your server as a customer would
          (text, attachment, location, native types) or a delivery receipt,
          signed as the provider signs, and judge the answer
  list    the providers, their credentials and native message types

See docs/provider.md.`,
		Example: `  ccx provider serve --provider twilio --port 3040 --credentials-out twilio.env
  ccx provider send --provider twilio --credentials twilio.env --to http://127.0.0.1:3030/providers/twilio/inbound text "hi"
  ccx provider list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp("ccx provider", errors.New("provider needs a subcommand: serve, send or list"))
		},
	}
	cmd.AddCommand(newProviderServeCmd(f), newProviderSendCmd(f), newProviderListCmd(f))
	return cmd
}

// lookupProvider is the --provider check every subcommand shares.
func lookupProvider(name string) (emulators.Info, error) {
	info, err := emulators.Lookup(name)
	if err != nil {
		return info, UsageErrorf(fmt.Errorf("--provider: %v", err))
	}
	return info, nil
}

// providerCredentials reads the provider's credentials: env, then --credentials FILE.
func providerCredentials(ctx context.Context, f *Factory, info emulators.Info, path string) (map[string]string, error) {
	c, err := loadCredentials(ctx, path, f.IO.Getenv)
	if err != nil {
		return nil, readError(ctx, fmt.Errorf("--credentials: %v", err))
	}
	out := map[string]string{}
	for _, k := range info.Credentials {
		if v := c.get(k); v != "" {
			out[k] = v
		}
	}
	return out, nil
}

// secretValues are the credential values never to print.
func secretValues(info emulators.Info, creds map[string]string) []string {
	var out []string
	for k, v := range creds {
		if info.Secret[k] && v != "" {
			out = append(out, v)
		}
	}
	return out
}

func redactAll(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, ui.Redact(v))
			s = strings.ReplaceAll(s, url.PathEscape(v), ui.Redact(v))
		}
	}
	return s
}

// ProviderServeOptions are the flags of `ccx provider serve`.
type ProviderServeOptions struct {
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
	ready          func(base string) // tests: called once listening
}

func newProviderServeCmd(f *Factory) *cobra.Command {
	o := &ProviderServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve --provider NAME",
		Short: "Run a local fake of a provider's API that records what your server sends",
		Long: `Run a local fake of the provider's API, faithful to the real one: the same paths,
auth, content types and success, error and 429 bodies. Point your server's
provider base URL at it (ccx relay: CCX_PROVIDER_BASE_URL). Every call your
server makes is recorded with its exact bytes and decoded to what the customer
would get; each is logged on stderr as --> / <-- lines, and with --json as
NDJSON on stdout ({"event":"send"|"callback",...}). The record is also at
GET <url>/_provider/sends; the failure knobs can be changed at run time with
PUT <url>/_provider/faults; POST <url>/_provider/expire-token expires the Zalo
fake's access tokens (your server must then refresh: -220 until it does).

After an accepted send the fake fires the provider's status callbacks, shaped and
signed as the provider does: Twilio to the send's StatusCallback (or
--status-url), sent → delivered (→ read for whatsapp:); ClickSend a delivered
receipt to --status-url (its delivery-receipt rule URL); WhatsApp (Meta) sent →
delivered → read to --status-url (the app's one webhook, X-Hub-Signature-256);
Vonage submitted → delivered (→ read on WhatsApp) to --status-url (the
application's status URL, signed JWT); Gupshup message-events (enqueued, sent,
delivered, read) to --status-url (the app's callback URL); Zalo
user_received_message then user_seen_message, signed, to --status-url (the
app's webhook URL); Telegram has none.

Credentials: the fake accepts and signs with the provider's credentials, read
like 'ccx relay' reads them (env, then --credentials FILE; e.g.
CCX_TWILIO_AUTH_TOKEN). Missing ones are generated; secrets are never printed:
--credentials-out FILE writes them all (mode 0600, KEY=VALUE, with
CCX_PROVIDER_BASE_URL) for 'ccx relay --credentials FILE' and
'ccx provider send --credentials FILE'.

Failure modes: --fail-rate (the provider's 5xx), --reject-number (its invalid
recipient error), --rate-limit-next N with --retry-after (429; Telegram's
parameters.retry_after), --bad-credentials (401 for every call).

SIGINT/SIGTERM stop it gracefully (exit 0) after in-flight calls and callbacks.`,
		Example: `  ccx provider serve --provider twilio --port 3040 --credentials-out twilio.env
  ccx provider serve --provider telegram --rate-limit-next 2 --retry-after 3s
  ccx provider serve --provider clicksend --status-url 'http://127.0.0.1:3030/providers/clicksend/receipt/{secret}' --credentials-out cs.env
  ccx provider serve --provider twilio --reject-number +15550001111 --fail-rate 0.2 --json
  ccx provider serve --provider whatsapp --status-url http://127.0.0.1:3030/providers/whatsapp/webhook --credentials-out wa.env
  ccx provider serve --provider vonage --status-url http://127.0.0.1:3030/providers/vonage/status --credentials-out vonage.env`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProviderServe(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Provider, "provider", "", "provider to fake: "+strings.Join(emulators.Names(), "|")+" (required)")
	fl.StringVar(&o.Host, "host", "127.0.0.1", "interface to bind (loopback by default)")
	fl.IntVar(&o.Port, "port", 3040, "port to listen on (0 picks a free one)")
	fl.Float64Var(&o.FailRate, "fail-rate", 0, "share of sends answered with the provider's 5xx error (0..1)")
	fl.StringArrayVar(&o.Reject, "reject-number", nil, "refuse sends to this address with the provider's invalid-recipient error (repeatable)")
	fl.IntVar(&o.RateLimitNext, "rate-limit-next", 0, "answer the next N sends with 429")
	fl.DurationVar(&o.RetryAfter, "retry-after", time.Second, "the retry delay the 429 answers carry")
	fl.BoolVar(&o.BadCredentials, "bad-credentials", false, "answer every call as unauthenticated (401)")
	fl.StringVar(&o.StatusURL, "status-url", "", "status callbacks for sends that name none (Twilio) / the delivery-receipt URL (ClickSend); {secret} is the path secret")
	fl.StringVar(&o.BusinessNumber, "business-number", "", "the business's address at the provider (Twilio From, e.g. whatsapp:+14155238886; ClickSend sender)")
	fl.BoolVar(&o.NoReceipts, "no-receipts", false, "fire no status callbacks")
	fl.DurationVar(&o.ReceiptDelay, "receipt-delay", 0, "wait before each status callback")
	fl.StringVar(&o.WebhookType, "webhook-type", "", "ClickSend pushes: post (form, default), json or get")
	fl.StringVar(&o.Credentials, "credentials", "", "file of KEY=VALUE credentials to use (env wins); missing ones are generated")
	fl.StringVar(&o.CredentialsOut, "credentials-out", "", "write the fake's credentials and base URL to FILE (mode 0600)")
	fl.DurationVar(&o.Grace, "shutdown-grace", 5*time.Second, "how long shutdown waits for in-flight calls")
	limitFlag(fl, "port", 0, 65535, usePort)
	limitFlag(fl, "fail-rate", 0, 1, "a share between 0 and 1, e.g. 0.2")
	limitFlag(fl, "rate-limit-next", 0, noMax, "0 or more sends")
	limitFlag(fl, "retry-after", 0, time.Hour, "0 to 1h, e.g. 2s")
	limitFlag(fl, "receipt-delay", 0, time.Hour, "0 to 1h, e.g. 300ms")
	limitFlag(fl, "shutdown-grace", 0, noMax, useNonNeg)
	urlFlag(fl, "status-url")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(emulators.Names()))
	_ = cmd.RegisterFlagCompletionFunc("webhook-type", fixedCompletion([]string{"post", "json", "get"}))
	return cmd
}

func checkProviderAddress(info emulators.Info, flag, v string) error {
	if v == "" || info.Name == "telegram" || info.Name == "zalo" { // a chat id, an OA id
		return nil
	}
	bare := v
	if info.Name == "twilio" {
		bare = strings.TrimPrefix(v, "whatsapp:")
	}
	if !strings.HasPrefix(bare, "+") || len(bare) < 8 {
		return UsageErrorf(fmt.Errorf("invalid %s %q: use +E.164 (e.g. +15005550006)%s", flag, v, map[bool]string{true: " or whatsapp:+E.164"}[info.Name == "twilio"]))
	}
	return nil
}

func runProviderServe(ctx context.Context, f *Factory, o *ProviderServeOptions) error {
	info, err := lookupProvider(o.Provider)
	if err != nil {
		return err
	}
	faults := provider.Faults{FailRate: o.FailRate, Reject: o.Reject, RateLimit: o.RateLimitNext, RetryAfter: o.RetryAfter, BadCredentials: o.BadCredentials}
	switch {
	case o.Port < 0 || o.Port > 65535:
		return UsageErrorf(fmt.Errorf("invalid --port %d: use 0..65535", o.Port))
	case o.ReceiptDelay < 0:
		return UsageErrorf(fmt.Errorf("invalid --receipt-delay %v", o.ReceiptDelay))
	case o.WebhookType != "" && !oneOfString(o.WebhookType, []string{"post", "json", "get"}):
		return UsageErrorf(fmt.Errorf("invalid --webhook-type %q: use post, json or get", o.WebhookType))
	case o.WebhookType != "" && info.Name != "clicksend":
		return UsageErrorf(fmt.Errorf("--webhook-type is a ClickSend setting"))
	}
	if err := serve.CheckFaults(faults); err != nil {
		return UsageErrorf(err)
	}
	if o.StatusURL != "" {
		if _, err := parseHTTPURL(strings.ReplaceAll(o.StatusURL, "{secret}", "x")); err != nil {
			return UsageErrorf(fmt.Errorf("invalid --status-url: %v", err))
		}
		if !info.Receipts {
			return UsageErrorf(fmt.Errorf("--status-url: %s sends no status callbacks", info.Name))
		}
	}
	if err := checkProviderAddress(info, "--business-number", o.BusinessNumber); err != nil {
		return err
	}
	given, err := providerCredentials(ctx, f, info, o.Credentials)
	if err != nil {
		return err
	}
	emu, err := emulators.New(info.Name, emulators.Options{Credentials: given, BusinessNumber: o.BusinessNumber, CallbackURL: o.StatusURL,
		NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, WebhookType: o.WebhookType})
	if err != nil {
		return UsageErrorf(err)
	}
	srv := serve.New(emu)
	if err := srv.SetFaults(faults); err != nil {
		return UsageErrorf(err)
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return Exit(ExitIO, fmt.Errorf("cannot listen on %s: %w (pick another --port, or 0 for a free one)", addr, err))
		}
		return Exit(ExitIO, fmt.Errorf("cannot listen on %s: %v", addr, err))
	}
	base := "http://" + ln.Addr().String()
	creds := emu.Credentials()
	secrets := secretValues(info, creds)
	if o.CredentialsOut != "" {
		if err := fsutil.WritePrivate(o.CredentialsOut, credentialsFile(info, creds, base)); err != nil {
			ln.Close()
			return Exit(ExitIO, fmt.Errorf("--credentials-out: %v", err))
		}
	}
	p := &sendPrinter{f: f, secrets: secrets}
	p.header(info, base, creds, given, o)
	cancel := serve.Watch(emu, p.event)
	defer cancel()
	if o.ready != nil {
		o.ready(base)
	}
	err = srv.Serve(ctx, ln, o.Grace)
	p.summary(emu.Sends())
	if err != nil {
		return Exit(ExitIO, fmt.Errorf("server: %v", err))
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

// sendPrinter shows the fake's life: the header, each send and callback,
// the summary. Events come one at a time from the emulator.
type sendPrinter struct {
	f       *Factory
	secrets []string
	mu      sync.Mutex
}

func (p *sendPrinter) header(info emulators.Info, base string, creds, given map[string]string, o *ProviderServeOptions) {
	f := p.f
	if f.JSON {
		shown := map[string]string{}
		for k, v := range creds {
			if info.Secret[k] {
				v = ui.Redact(v)
			}
			shown[k] = v
		}
		_ = ui.WriteJSON(f.IO.Out, map[string]any{"event": "listening", "provider": info.Name, "url": base,
			"credentials": shown, "credentialsFile": o.CredentialsOut})
	}
	w := f.IO.ErrOut
	st := f.IO.Styles(w)
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
	fmt.Fprintf(w, "  record: GET %s%ssends   knobs: PUT %s%sfaults   (Ctrl-C stops)\n", base, serve.ControlPrefix, base, serve.ControlPrefix)
}

// providerEvent is one NDJSON line of --json.
type providerEvent struct {
	Event    string             `json:"event"`
	Send     *provider.Send     `json:"send,omitempty"`
	Seq      int                `json:"seq,omitempty"`
	ID       string             `json:"id,omitempty"`
	Callback *provider.Callback `json:"callback,omitempty"`
}

func (p *sendPrinter) event(ev serve.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.f
	if f.JSON {
		out := providerEvent{Event: ev.Kind}
		if ev.Kind == "send" {
			s := ev.Send
			s.Callbacks = nil
			out.Send = &s
		} else {
			out.Seq, out.ID, out.Callback = ev.Send.Seq, ev.Send.ID, ev.Callback
		}
		_ = ui.WriteJSON(f.IO.Out, out)
	}
	w := f.IO.ErrOut
	st := f.IO.Styles(w)
	s := ev.Send
	if ev.Kind == "callback" {
		c := ev.Callback
		res := st.OK.Render(strconv.Itoa(c.Answer))
		if c.Error != "" {
			res = st.Error.Render(c.Error)
		} else if c.Answer < 200 || c.Answer > 299 {
			res = st.Warning.Render(strconv.Itoa(c.Answer))
		}
		fmt.Fprintf(w, "%s #%d %s callback → %s  %s\n", st.Info.Render("==>"), s.Seq, st.Bold.Render(string(c.Status)), redactAll(c.URL, p.secrets), res)
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
	fmt.Fprintf(w, "%s #%d %s %s%s%s\n", st.Info.Render("-->"), s.Seq, s.Method, redactAll(s.Path, p.secrets), to, what)
	if s.ID != "" {
		cb := ""
		if s.CallbackURL != "" {
			cb = st.Dim.Render("  (status callbacks → " + redactAll(s.CallbackURL, p.secrets) + ")")
		}
		fmt.Fprintf(w, "%s #%d %s %s%s\n", st.Info.Render("<--"), s.Seq, statusStyle(st, s.Status), s.ID, cb)
		return
	}
	fmt.Fprintf(w, "%s #%d %s %s\n", st.Warning.Render("<--"), s.Seq, statusStyle(st, s.Status), redactAll(s.Error, p.secrets))
}

func (p *sendPrinter) summary(sends []provider.Send) {
	ok, refused, cbs := 0, 0, 0
	for _, s := range sends {
		if s.ID != "" {
			ok++
		} else {
			refused++
		}
		cbs += len(s.Callbacks)
	}
	fmt.Fprintf(p.f.IO.ErrOut, "stopped: %d sends (%d accepted, %d refused), %d status callbacks\n", ok+refused, ok, refused, cbs)
}

func newProviderListCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the provider fakes, their credentials and native message types",
		Long: `List the providers 'ccx provider serve' and 'ccx provider send' play: the
credentials a server reads (as 'ccx relay' names them; * marks secrets), whether
the provider posts status callbacks, the webhook paths 'ccx relay' serves for it,
and the provider-native customer messages 'ccx provider send native' builds.`,
		Example: "  ccx provider list\n  ccx provider list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			infos := emulators.Infos()
			if f.JSON {
				return ui.WriteJSON(f.IO.Out, infos)
			}
			st := f.IO.Styles(f.IO.Out)
			for _, i := range infos {
				creds := make([]string, len(i.Credentials))
				for n, k := range i.Credentials {
					creds[n] = k
					if i.Secret[k] {
						creds[n] += "*"
					}
				}
				receipts := "none"
				if i.Receipts {
					receipts = "yes"
				}
				fmt.Fprintf(f.IO.Out, "%s\n  credentials  %s\n  receipts     %s\n  webhooks     %s\n", st.Bold.Render(i.Name), strings.Join(creds, " "), receipts, strings.Join(i.Webhooks, " "))
				natives := make([]string, 0, len(i.NativeTypes))
				for _, n := range i.NativeTypes {
					natives = append(natives, n.Name)
				}
				sort.Strings(natives)
				if len(natives) == 0 {
					natives = []string{"none"}
				}
				fmt.Fprintf(f.IO.Out, "  natives      %s\n", strings.Join(natives, " "))
			}
			return nil
		},
	}
}
