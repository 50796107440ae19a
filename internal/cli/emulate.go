package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// LocalProfile is the profile `ccx emulate` writes and `--local` selects.
const LocalProfile = "local"

// EnvEmulatorURL overrides where `emulate send|inbox` find the emulator.
const EnvEmulatorURL = "CCX_EMULATOR_URL"

type emulateOptions struct {
	Host       string
	Port       int
	ChannelID  string
	Token      string
	IDType     string
	APIBaseURL string
	Extra      []string
	RateLimit  float64
	StatePath  string
	AllowHosts []string
	ShowToken  bool
	NoProfile  bool
	Quiet      bool
	// The provider face.
	Providers        []string
	ProviderWebhooks []string
	ProviderStatus   []string
	NoReceipts       bool
	ReceiptDelay     time.Duration
}

func newEmulateCmd(f *Factory, runF func(context.Context, *emulateOptions) error) *cobra.Command {
	opts := &emulateOptions{}
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Run a local IS-Messenger: webhook endpoint, inbox and outgoing calls",
		Long: `Run a local IS-Messenger (the platform side of a Custom Channel) on loopback.

Your integration server posts message, message_echo and message_status events to
the emulator's webhook URL, exactly as it would to the platform: the emulator
checks the Bearer token, validates the body (4xx with the findings when wrong),
applies the platform's rate limit of 20 requests/s per channel (429 with
Retry-After), creates contacts, stores messages and moves their status.
'ccx emulate send' makes the emulator call your server's <API base URL>/message
as the platform does when an agent writes; 'ccx emulate inbox' shows the
conversations.

The channel (ID, API token, ID type, API base URL) comes from the flags, then
CCX_* variables, then the profile named with --profile (or --local, or
CCX_PROFILE), then the 'local' profile of an earlier run; whatever is missing is
generated. The active profile is never adopted unnamed (it may hold a real
channel's token); the banner says where each value came from. Before it serves
or prints its banner, the emulator saves its settings as the profile 'local'
(webhook URL, channel ID, token, ID type, API base URL), so that
'ccx send text hi --local' reaches it with no set-up, even pasted in the same
block as 'ccx emulate &' (--local waits up to 5s for it). With --no-profile the
banner says how to reach this instance instead. The token is shown
redacted; read it with --show-token or from the config file.

Everything that happens is logged on stdout: readable lines on a terminal,
NDJSON with --json. The inspection API lives under /_emulator/: GET
/_emulator/state, /_emulator/contacts, /_emulator/messages?contactId=, the live
Server-Sent Events stream /_emulator/events, and POST
/_emulator/channels/{id}/send. State is in memory unless --state FILE keeps it
across restarts. Ctrl-C (SIGINT) or SIGTERM stops it gracefully.

Both faces: --provider NAME (repeatable: ` + strings.Join(emulators.Names(), ", ") + `) also plays that
messaging provider. Its fake API is served at <emulator>/_provider/NAME (your
server's provider base URL) and records every send your server makes; the web
inbox gains the customer's phone: what your server sent through the provider,
with the delivery receipts the fake posts back to your server, and a composer
to write as the customer (the fake posts its signed webhook to your server,
whose platform event then shows in the inbox). The request log ties every hop
of a message by a flow id and says where a message got lost. Customer
messages go to --provider-webhook NAME=URL (default: the path 'ccx relay'
serves under the API base URL, e.g. /providers/twilio/inbound); receipts of
sends that name no callback to --provider-status NAME=URL. The fake's
credentials are kept in provider-NAME.env next to the config file, with
CCX_PROVIDER_BASE_URL, ready for 'ccx relay --credentials'; secrets are shown
redacted.`,
		Example: `  ccx emulate
  ccx emulate --port 4747 --api-base-url http://127.0.0.1:3030 --state emulator.json
  ccx emulate --id-type custom --rate-limit 0 --json
  ccx emulate --provider twilio
  ccx relay --provider twilio --local --credentials ~/.config/ccx/provider-twilio.env
  ccx emulate --provider twilio --provider-webhook twilio=http://127.0.0.1:8080/twilio/sms
  ccx send text "Hello" --local
  ccx emulate send text "Hi from an agent"
  ccx emulate inbox`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Providers) == 0 && (len(opts.ProviderWebhooks) > 0 || len(opts.ProviderStatus) > 0) {
				return UsageErrorf(fmt.Errorf("--provider-webhook and --provider-status need --provider NAME"))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runEmulate(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Host, "host", "127.0.0.1", "interface to bind (loopback by default)")
	fl.IntVar(&opts.Port, "port", 4747, "port to listen on (0 picks a free one)")
	fl.StringVar(&opts.ChannelID, "channel-id", "", "channel ID (env CCX_CHANNEL_ID; default: profile, else generated)")
	fl.StringVar(&opts.Token, "token", "", "API token the server must send (env CCX_API_TOKEN; default: profile, else generated)")
	fl.StringVar(&opts.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE; default phone)")
	fl.StringVar(&opts.APIBaseURL, "api-base-url", "", "your integration server's base URL; outgoing calls go to <URL>/message (env CCX_API_BASE_URL; default "+emulator.DefaultAPIBaseURL+")")
	fl.StringArrayVar(&opts.Extra, "channel", nil, "an extra channel: id=ID,token=TOKEN,id-type=phone|custom,api-base-url=URL (missing id/token are generated; repeatable)")
	fl.Float64Var(&opts.RateLimit, "rate-limit", channel.RateLimitPerSec, "webhook requests per second per channel before 429 (0: no limit)")
	fl.StringVar(&opts.StatePath, "state", "", "keep contacts and messages in this JSON file across restarts")
	fl.StringArrayVar(&opts.AllowHosts, "allow-host", nil, "a host name the API and the inbox answer besides IP addresses and localhost, e.g. a docker service name (repeatable)")
	fl.BoolVar(&opts.ShowToken, "show-token", false, "print the full API token once on stderr")
	fl.BoolVar(&opts.NoProfile, "no-profile", false, "do not write the 'local' profile")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no live log on stdout (inspect with 'ccx emulate inbox' or /_emulator/events)")
	fl.StringArrayVar(&opts.Providers, "provider", nil, "also play this messaging provider: "+strings.Join(emulators.Names(), "|")+" (repeatable)")
	fl.StringArrayVar(&opts.ProviderWebhooks, "provider-webhook", nil, "NAME=URL: where your server takes that provider's webhooks (default: <API base URL>/providers/NAME/..., as ccx relay serves)")
	fl.StringArrayVar(&opts.ProviderStatus, "provider-status", nil, "NAME=URL: status callback URL for sends that name none (default: ccx relay's)")
	fl.BoolVar(&opts.NoReceipts, "no-receipts", false, "the provider fakes post no status callbacks by themselves (fire them from the inbox)")
	fl.DurationVar(&opts.ReceiptDelay, "receipt-delay", 250*time.Millisecond, "pause before each automatic status callback of a send")
	limitFlag(fl, "receipt-delay", 0, time.Minute, "0 to 1m, e.g. 250ms")
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	limitFlag(fl, "port", 0, 65535, usePort)
	limitFlag(fl, "rate-limit", 0, math.Inf(1), useRate)
	urlFlag(fl, "api-base-url")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(emulators.Names()))

	cmd.AddCommand(newEmulateSendCmd(f), newEmulateInboxCmd(f), newEmulateCustomerCmd(f))
	return cmd
}

// addLocalFlag registers the global --local: shorthand for --profile local,
// the profile `ccx emulate` writes.
func addLocalFlag(fs *pflag.FlagSet, f *Factory) {
	fl := fs.VarPF(&localFlag{f: f}, "local", "", "use the 'local' profile written by 'ccx emulate' (same as --profile local)")
	fl.NoOptDefVal = "true"
}

type localFlag struct {
	f   *Factory
	set bool
}

func (l *localFlag) String() string { return strconv.FormatBool(l.set) }
func (l *localFlag) Type() string   { return "bool" }
func (l *localFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	if b {
		if l.f.Profile != "" && l.f.Profile != LocalProfile {
			return fmt.Errorf("--local conflicts with --profile %s", l.f.Profile)
		}
		l.f.Profile = LocalProfile
	}
	l.set = b
	return nil
}

// emulatedChannels resolves the primary channel and the --channel extras.
// The primary takes flags, then CCX_* env, then the profile named with
// --profile/--local/CCX_PROFILE, then the 'local' profile a previous run
// wrote; whatever is left is generated. The active profile is never adopted
// unnamed: it may hold a real channel's token. sources says where each of
// the primary's values came from, for the banner.
func emulatedChannels(f *Factory, opts *emulateOptions) ([]emulator.Channel, *config.File, map[string]string, error) {
	file, err := f.Config()
	if err != nil {
		return nil, nil, nil, Exit(ExitIO, err)
	}
	flags := config.Profile{ChannelID: opts.ChannelID, APIToken: opts.Token, IDType: opts.IDType, APIBaseURL: opts.APIBaseURL}
	named := f.Profile
	if named == "" {
		named = f.IO.Getenv(config.EnvProfile)
	}
	var p config.Profile
	if named != "" {
		p, err = f.Settings(flags)
	} else {
		// flags over env only (cleaned the same way): no profile underneath
		p, err = (&config.File{}).Resolve("", flags, f.IO.Getenv)
		if err != nil {
			err = UsageErrorf(err)
		}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	env := config.FromEnv(f.IO.Getenv)
	keys := []string{"channel_id", "api_token", "id_type", "api_base_url"}
	sources := map[string]string{}
	for _, k := range keys {
		fv, _ := flags.Get(k)
		ev, _ := env.Get(k)
		switch v, _ := p.Get(k); {
		case v == "":
		case strings.TrimSpace(fv) != "":
			sources[k] = "flag"
		case strings.TrimSpace(ev) != "":
			sources[k] = "env " + config.EnvVars[k]
		default:
			sources[k] = fmt.Sprintf("profile '%s'", named)
		}
	}
	if local, ok := file.Profiles[LocalProfile]; ok && p.ChannelID == "" && p.APIToken == "" {
		// Reuse the last run's channel (ccx's own, generated values), so a
		// server configured once keeps working.
		tok, err := config.CleanToken(local.APIToken)
		if err != nil {
			return nil, nil, nil, UsageErrorf(fmt.Errorf("the API token from profile %q in %s %v", LocalProfile, file.Path(), err))
		}
		local.ChannelID, local.APIToken = strings.TrimSpace(local.ChannelID), tok
		for _, k := range keys {
			if v, _ := p.Get(k); v != "" {
				continue
			}
			if v, _ := local.Get(k); v != "" {
				_ = p.Set(k, v)
				sources[k] = "the 'local' profile (last run)"
			}
		}
	}
	primary, err := channelFrom(p.ChannelID, p.APIToken, p.IDType, p.APIBaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, k := range keys {
		if sources[k] == "" {
			sources[k] = "generated"
			if k == "api_base_url" || k == "id_type" {
				sources[k] = "default"
			}
		}
	}
	chans := []emulator.Channel{primary}
	for _, spec := range opts.Extra {
		c, err := parseChannelSpec(spec)
		if err != nil {
			return nil, nil, nil, err
		}
		chans = append(chans, c)
	}
	return chans, file, sources, nil
}

func channelFrom(id, token, idType, baseURL string) (emulator.Channel, error) {
	t := channel.IDPhone
	if idType != "" {
		var err error
		if t, err = channel.ParseIDType(idType); err != nil {
			return emulator.Channel{}, UsageErrorf(fmt.Errorf("--id-type: %w", err))
		}
	}
	if baseURL == "" {
		baseURL = emulator.DefaultAPIBaseURL
	}
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return emulator.Channel{}, UsageErrorf(fmt.Errorf("--api-base-url %q is not an absolute http(s) URL", baseURL))
	}
	gen := emulator.GenerateChannel(t, baseURL)
	if id != "" {
		gen.ID = id
	}
	if token != "" {
		gen.Token = token
	}
	return gen, nil
}

func parseChannelSpec(spec string) (emulator.Channel, error) {
	var id, token, idType, base string
	shown := redactSpecToken(spec) // errors quote the spec, never its token
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return emulator.Channel{}, UsageErrorf(fmt.Errorf("--channel %q: %q is not key=value (keys: id, token, id-type, api-base-url)", shown, redactSpecToken(part)))
		}
		switch k {
		case "id":
			id = v
		case "token":
			var err error
			if token, err = config.CleanToken(v); err != nil {
				return emulator.Channel{}, UsageErrorf(fmt.Errorf("--channel %q: the API token from token= %v", shown, err))
			}
		case "id-type":
			idType = v
		case "api-base-url":
			base = v
		default:
			return emulator.Channel{}, UsageErrorf(fmt.Errorf("--channel %q: unknown key %q (keys: id, token, id-type, api-base-url)", shown, k))
		}
	}
	return channelFrom(id, token, idType, base)
}

// redactSpecToken hides the value of token= in a --channel spec.
func redactSpecToken(spec string) string {
	parts := strings.Split(spec, ",")
	for i, p := range parts {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "token" {
			parts[i] = "token=" + ui.Redact(v)
		}
	}
	return strings.Join(parts, ",")
}

func runEmulate(ctx context.Context, f *Factory, opts *emulateOptions) error {
	chans, file, sources, err := emulatedChannels(f, opts)
	if err != nil {
		return err
	}
	for _, c := range chans {
		warnMessageSuffix(f, c.APIBaseURL, "the API base URL of channel "+c.ID)
	}
	setups, err := providerSetups(file, chans, opts)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	errOut := f.IO.ErrOut
	st := f.IO.Styles(errOut)
	saved := ""
	// Save the profile before serving: once /_emulator/health answers,
	// `ccx send --local` must already work.
	beforeServe := func(e *emulator.Emulator) error {
		if opts.NoProfile {
			return nil
		}
		if err := saveLocalProfile(file, e); err != nil {
			fmt.Fprintf(errOut, "%s could not save the 'local' profile: %v\n", st.Warning.Render("warning:"), err)
		} else {
			saved = file.Path()
		}
		if err := saveProviderEnvs(e, setups); err != nil {
			fmt.Fprintf(errOut, "%s could not save the provider settings: %v\n", st.Warning.Render("warning:"), err)
		}
		return nil
	}
	if opts.StatePath != "" {
		fsutil.MakePrivate(opts.StatePath, errOut) // contacts and messages: personal data
	}
	e, err := emulator.New(emulator.Options{Addr: addr, Channels: chans, RateLimit: opts.RateLimit, StatePath: opts.StatePath, AllowedHosts: opts.AllowHosts, BeforeServe: beforeServe,
		Providers: emulatorProviders(setups, opts)})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return Exit(ExitIO, fmt.Errorf("%w (another emulator running? pick another --port, or 0 for a free one)", err))
		}
		return Exit(ExitIO, err)
	}
	// Subscribe before anything can happen, so the log misses nothing.
	var events <-chan emulator.Event
	if !opts.Quiet {
		var cancel func()
		events, cancel = e.Subscribe()
		defer cancel()
	}

	printBanner(f, e, opts, saved, sources)
	printProviders(f, e, setups, opts)
	if ip := net.ParseIP(opts.Host); opts.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(errOut, "%s listening on %s: the /_emulator/ API has no authentication and anyone who can reach this address can read the messages and make the emulator call your server\n", st.Warning.Render("warning:"), opts.Host)
	}

	out := f.IO.Out
	ost := f.IO.Styles(out)
	if f.JSON && !opts.Quiet {
		_ = ui.WriteJSON(out, emulator.Event{Time: time.Now().UTC(), Kind: "emulator.started", Summary: e.URL()})
	}
	print := func(ev emulator.Event) {
		if f.JSON {
			_ = ui.WriteJSON(out, ev)
		} else {
			fmt.Fprintln(out, emulator.FormatEvent(ev, ost))
		}
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			print(ev)
		case <-ctx.Done():
			fmt.Fprintln(errOut, st.Dim.Render("shutting down: finishing in-flight requests…"))
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			err := e.Shutdown(sctx)
			// Shutdown closed the subscription: log what is still buffered.
			if events != nil {
				for ev := range events {
					print(ev)
				}
			}
			if err != nil {
				return Exit(ExitIO, fmt.Errorf("shutdown: %w", err))
			}
			if opts.StatePath != "" {
				fmt.Fprintf(errOut, "state saved to %s\n", opts.StatePath)
			}
			fmt.Fprintln(errOut, "emulator stopped")
			return nil
		}
	}
}

func saveLocalProfile(file *config.File, e *emulator.Emulator) error {
	c := e.Channel()
	p := file.Profiles[LocalProfile]
	p.WebhookURL = e.WebhookURL()
	p.ChannelID = c.ID
	p.APIToken = c.Token
	p.IDType = string(c.IDType)
	p.APIBaseURL = c.APIBaseURL
	setSampleContact(&p, emulator.SampleContactID(c.IDType), c.IDType)
	file.Profiles[LocalProfile] = p
	return file.Save()
}

func printBanner(f *Factory, e *emulator.Emulator, opts *emulateOptions, savedTo string, sources map[string]string) {
	w := f.IO.ErrOut
	st := f.IO.Styles(w)
	fmt.Fprintf(w, "%s local IS-Messenger on %s\n", st.Bold.Render("ccx emulate:"), st.Path.Render(e.URL()))
	row := func(k, v string) { fmt.Fprintf(w, "  %-13s %s\n", k, v) }
	from := func(i int, key string) string {
		if i > 0 {
			return ""
		}
		return st.Dim.Render("  (" + sources[key] + ")")
	}
	row("webhook URL", e.WebhookURL())
	for i, c := range e.Channels() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		row("channel ID", c.ID+from(i, "channel_id"))
		tok := ui.Redact(c.Token)
		var notes []string
		if i == 0 {
			notes = append(notes, sources["api_token"])
		}
		if opts.ShowToken {
			tok = c.Token
		} else if savedTo != "" {
			notes = append(notes, "full token: --show-token, or api_token in the 'local' profile")
		} else {
			notes = append(notes, "full token: --show-token")
		}
		row("API token", tok+st.Dim.Render("  ("+strings.Join(notes, "; ")+")"))
		row("ID type", string(c.IDType)+from(i, "id_type"))
		row("API base URL", c.APIBaseURL+from(i, "api_base_url")+st.Dim.Render("  (outgoing calls go to <this>/message)"))
	}
	rl := "off"
	if opts.RateLimit > 0 {
		rl = fmt.Sprintf("%g requests/s per channel", opts.RateLimit)
	}
	row("rate limit", rl)
	if opts.StatePath != "" {
		row("state", opts.StatePath)
	} else {
		row("state", "in memory (--state FILE keeps it)")
	}
	row("inbox", e.URL()+"/  (web inbox: contacts, composer, request log)")
	row("inspect", e.URL()+emulator.APIPrefix+"  (events: "+emulator.APIPrefix+"events)")
	if savedTo != "" {
		row("profile", fmt.Sprintf("'%s' saved in %s", LocalProfile, savedTo))
		fmt.Fprintln(w, st.Dim.Render("Post events with `ccx send text hi --local`; call your server with `ccx emulate send text hi`. Ctrl-C stops."))
		return
	}
	// No profile to point at: say how to reach this very instance.
	c := e.Channel()
	fmt.Fprintln(w, st.Dim.Render(fmt.Sprintf("No 'local' profile written (--no-profile). Post events with\n  CCX_API_TOKEN=<the API token> ccx send text hi --webhook-url %s --channel-id %s --id-type %s --contact-id %s\n"+
		"and call your server with `ccx emulate send text hi --emulator %s`. Ctrl-C stops.",
		e.WebhookURL(), c.ID, c.IDType, emulator.SampleContactID(c.IDType), e.URL())))
}

// emulatorURL picks the emulator to talk to: --emulator, CCX_EMULATOR_URL,
// the 'local' profile's webhook origin, then the default port.
func emulatorURL(f *Factory, flag string) string {
	if flag != "" {
		return flag
	}
	if v := f.IO.Getenv(EnvEmulatorURL); v != "" {
		return v
	}
	if file, err := f.Config(); err == nil {
		if p, ok := file.Profiles[LocalProfile]; ok && p.WebhookURL != "" {
			if u, err := url.Parse(p.WebhookURL); err == nil && u.Host != "" && strings.HasSuffix(u.Path, strings.TrimSuffix(emulator.WebhookPath, "/")+"/") {
				return u.Scheme + "://" + u.Host
			}
		}
	}
	return emulator.DefaultURL
}

// emulatorError maps client errors to exit codes.
func emulatorError(err error) error {
	var ue *emulator.UnreachableError
	if errors.As(err, &ue) {
		return Exit(ExitIO, err)
	}
	if errors.Is(err, context.Canceled) {
		return Exit(ExitInterrupted, err)
	}
	return Exit(ExitFailure, err)
}

func newEmulateSendCmd(f *Factory) *cobra.Command {
	var emuURL, to, channelID string
	cmd := &cobra.Command{
		Use:   "send TYPE [ARGS]",
		Short: "Make the running emulator send a message to your server's /message",
		Long: `Make a running 'ccx emulate' do what the platform does when an agent writes:
POST {channelId, contactId, message} with the channel's Bearer token to the
integration server's <API base URL>/message. The reply is judged like the
platform would: 200 {"mId": ...} stores the message as sent (receipts for that
mId then move its status), anything else stores it as failed with the reason.

Without --to the message goes to the channel's most recently active contact.
When the API base URL is on this machine and nothing listens there yet, it
waits up to 5s for your server (one started a moment ago with &), saying so.
A failure shows the URL that was called and the verdict on the reply (--json:
"verdict", as 'ccx trigger' judges it).
Exit codes: 0 sent, 1 rejected by your server (or invalid), 3 emulator or
server unreachable, 4 your server answered 401/403.`,
		Example: `  ccx emulate send text "Hi from an agent"
  ccx emulate send quick-reply "Rate us" --reply Good --reply Bad --to +60177872890
  ccx emulate send attachment https://example.com/cat.jpg --mime image/jpeg --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp(cmd.CommandPath(), errors.New("name a message type: text, attachment, location, quick-reply or custom-payload"))
		},
	}
	cmd.PersistentFlags().StringVar(&emuURL, "emulator", "", "URL of the running emulator (env "+EnvEmulatorURL+"; default: the 'local' profile, else "+emulator.DefaultURL+")")
	cmd.PersistentFlags().StringVar(&to, "to", "", "contact ID to send to (default: the most recently active contact)")
	cmd.PersistentFlags().StringVar(&channelID, "channel", "", "channel ID (default: the emulator's first channel)")
	urlFlag(cmd.PersistentFlags(), "emulator")
	for _, sub := range MessageCommands("Send", "ccx emulate send", func(cmd *cobra.Command, m channel.Message) error {
		return runEmulateSend(cmd.Context(), f, emulatorURL(f, emuURL), channelID, to, m)
	}) {
		cmd.AddCommand(sub)
	}
	return cmd
}

// emulateSendJSON is emulate send's --json: the emulator's answer with the
// verdict on your server's reply.
type emulateSendJSON struct {
	emulator.SendResponse
	Verdict verdict.Verdict `json:"verdict"`
}

func runEmulateSend(ctx context.Context, f *Factory, base, channelID, to string, m channel.Message) error {
	c := &emulator.Client{BaseURL: base, HTTP: &httpClientWithTimeout}
	if info, err := c.Info(ctx); err == nil {
		for i, ch := range info.Channels {
			if ch.ID == channelID || (channelID == "" && i == 0) {
				f.waitForServer(ctx, ch.APIBaseURL)
			}
		}
	}
	res, err := c.Send(ctx, channelID, to, m)
	if err != nil {
		return emulatorError(err)
	}
	msg := res.Message
	v := verdict.OK
	status, latency, url := 0, 0.0, ""
	if msg.Reply != nil {
		status, latency, url = msg.Reply.HTTPStatus, msg.Reply.LatencyMS, msg.Reply.URL
		if msg.Reply.Verdict != "" {
			v = msg.Reply.Verdict
		}
	}
	if !res.OK && v == verdict.OK { // an emulator without verdicts
		v = verdict.WrongReply
	}
	if f.JSON {
		if err := ui.WriteJSON(f.IO.Out, emulateSendJSON{SendResponse: res, Verdict: v}); err != nil {
			return err
		}
	}
	st := f.IO.Styles(f.IO.ErrOut)
	if res.OK {
		if !f.JSON {
			fmt.Fprintln(f.IO.Out, msg.MID)
		}
		fmt.Fprintf(f.IO.ErrOut, "%s %s to %s: your server answered %d in %.1fms, mId %s\n", st.OK.Render("sent"), emulator.Describe(msg.Content), msg.ContactID, status, latency, msg.MID)
		return nil
	}
	fmt.Fprintf(f.IO.ErrOut, "%s %s to %s: %s\n", st.Error.Render("failed"), emulator.Describe(msg.Content), msg.ContactID, msg.Reason)
	if url != "" {
		label, text := outgoing.Explain(v, status, nil)
		fmt.Fprintf(f.IO.ErrOut, "  called POST %s: %s (%s)\n", url, label, text)
		warnMessageSuffix(f, strings.TrimSuffix(url, channel.MessagePath), "the emulator's API base URL")
	}
	if v == verdict.Auth {
		fmt.Fprintf(f.IO.ErrOut, "hint: the emulator sends the channel's token ('ccx emulate' prints it once with --show-token; 'ccx config get api_token --profile local --show-token'); make your server expect that token, or restart 'ccx emulate --token TOKEN' with yours\n")
	}
	return Silent(exitFor(v))
}

// httpClientWithTimeout bounds calls to the emulator API; a send waits for
// the integration server, whose own timeout is 10s.
var httpClientWithTimeout = http15s()

func newEmulateInboxCmd(f *Factory) *cobra.Command {
	var emuURL, statePath, contact, channelID string
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "Print the emulator's conversations",
		Long: `Print every conversation the emulator holds, as an inbox shows it: one block
per contact, one line per message (← from the contact, → to the contact) with
its current status and status timeline, then the warnings. It reads a running
emulator, or with --state the file a stopped one left. --json prints the
conversations and warnings as one JSON object.`,
		Example: `  ccx emulate inbox
  ccx emulate inbox --contact +60177872890 --json
  ccx emulate inbox --state emulator.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if statePath != "" && emuURL != "" {
				return UsageErrorf(fmt.Errorf("--state and --emulator are exclusive: read a file or a running emulator"))
			}
			var st emulator.State
			var err error
			if statePath != "" {
				if st, err = emulator.LoadState(statePath); err != nil {
					return Exit(ExitIO, err)
				}
			} else {
				c := &emulator.Client{BaseURL: emulatorURL(f, emuURL), HTTP: &httpClientWithTimeout}
				if st, err = c.Inbox(cmd.Context(), channelID, contact); err != nil {
					return emulatorError(err)
				}
			}
			return printInbox(f, st, channelID, contact)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&emuURL, "emulator", "", "URL of the running emulator (env "+EnvEmulatorURL+"; default: the 'local' profile, else "+emulator.DefaultURL+")")
	fl.StringVar(&statePath, "state", "", "read a state file instead of a running emulator")
	fl.StringVar(&contact, "contact", "", "only this contact's conversation")
	fl.StringVar(&channelID, "channel", "", "only this channel's conversations")
	urlFlag(fl, "emulator")
	return cmd
}

// inboxJSON is the --json form of the inbox.
type inboxJSON struct {
	Conversations []emulator.Conversation `json:"conversations"`
	Warnings      []emulator.Warning      `json:"warnings"`
}

func printInbox(f *Factory, st emulator.State, channelID, contact string) error {
	convs := emulator.Conversations(st, channelID, contact)
	if f.JSON {
		if convs == nil {
			convs = []emulator.Conversation{}
		}
		ws := st.Warnings
		if ws == nil {
			ws = []emulator.Warning{}
		}
		return ui.WriteJSON(f.IO.Out, inboxJSON{Conversations: convs, Warnings: ws})
	}
	emulator.WriteInbox(f.IO.Out, st, convs, f.IO.Styles(f.IO.Out))
	return nil
}

func http15s() http.Client { return http.Client{Timeout: 15 * time.Second} }

// setSampleContact gives the 'local' profile a contact to send as, keeping
// the user's own when it fits the channel's ID type.
func setSampleContact(p *config.Profile, id string, t channel.IDType) {
	if p.ContactID == "" || channel.CheckContactID(p.ContactID, t) != nil {
		p.ContactID = id
	}
}
