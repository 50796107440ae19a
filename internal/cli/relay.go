package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

// relayOptions are the flags of `ccx relay`.
type relayOptions struct {
	Provider    string
	Host        string
	Port        int
	Settings    config.Profile
	SpoolPath   string
	PublicURL   string
	Credentials string
	HTTPConfig  string
	BaseURL     string // hidden: point the adapter at a fake
	MaxEntries  int
	MaxBytes    int64
	Window      time.Duration
	Workers     int
	RateLimit   float64
	Backoff     time.Duration // hidden: tests make redelivery fast
	LogLevel    string
	DrainFor    time.Duration
	CheckConfig bool
}

// relayProviders are the adapters `--provider` accepts.
var relayProviders = []string{"clicksend", "twilio", "telegram", "http", "loopback"}

func newRelayCmd(f *Factory, runF func(context.Context, *relayOptions) error) *cobra.Command {
	opts := &relayOptions{}
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Run a working integration server between IS-Messenger and a messaging provider",
		Long: `Run a Custom Channel integration server over a provider adapter.

Outgoing: the platform's POST /message (Bearer token, validated like 'ccx listen')
goes to the provider; the answer is 200 {"mId": <provider message id>} or a 4xx
{"error":{"message":...}} that says what the provider said.

Inbound: the provider's webhooks arrive at /providers/<name>/..., are verified
(signature or secret), written to a durable on-disk spool (bbolt, fsync'd) and
only then acknowledged; a delivery loop posts them to the IS-Messenger webhook
with retries and backoff until accepted. A crash or kill -9 loses nothing, and
provider retries are de-duplicated by provider message id. When the spool is
full the provider is answered 503 so that it retries.

Operations: GET /healthz, Prometheus metrics at /metrics, spool state at
/admin/status (and 'ccx relay status'). Logs are structured (slog) on stderr,
JSON with --json. SIGINT/SIGTERM finish in-flight requests and give pending
deliveries --drain to complete; what is left stays in the spool.

Channel settings come from flags, then CCX_* variables, then the profile.
Provider credentials come from the environment or --credentials FILE
(KEY=VALUE lines); they are never printed:
  clicksend  CCX_CLICKSEND_USERNAME, CCX_CLICKSEND_API_KEY, CCX_CLICKSEND_FROM, CCX_CLICKSEND_SECRET
  twilio     CCX_TWILIO_ACCOUNT_SID, CCX_TWILIO_AUTH_TOKEN, CCX_TWILIO_FROM, CCX_TWILIO_MESSAGING_SERVICE_SID
  telegram   CCX_TELEGRAM_BOT_TOKEN, CCX_TELEGRAM_WEBHOOK_SECRET
  http       --http-config FILE (templates and JSON paths; secrets via env references)
  loopback   none: every message comes back as the contact's reply
See docs/relay.md for the message-type mapping of each provider.`,
		Example: `  ccx relay --provider loopback --spool relay.db
  CCX_CLICKSEND_USERNAME=me CCX_CLICKSEND_API_KEY=... CCX_CLICKSEND_SECRET=s3cr3t ccx relay --provider clicksend
  ccx relay --provider twilio --public-url https://relay.example.com --credentials twilio.env
  ccx relay --provider http --http-config testdata/relay/clicksend-http.json
  ccx relay --provider http --http-config testdata/relay/clicksend-http.json --check-config
  ccx relay status --spool relay.db --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !oneOfString(opts.Provider, relayProviders) {
				return UsageErrorf(fmt.Errorf("--provider %q: use one of %s", opts.Provider, strings.Join(relayProviders, ", ")))
			}
			if opts.Port < 0 || opts.Port > 65535 {
				return UsageErrorf(fmt.Errorf("invalid --port %d: use 0-65535", opts.Port))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRelay(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Provider, "provider", "", "provider adapter: "+strings.Join(relayProviders, "|")+" (required)")
	fl.StringVar(&opts.Host, "host", "127.0.0.1", "interface to bind (loopback by default)")
	fl.IntVar(&opts.Port, "port", 3030, "port to listen on (0 picks a free one)")
	fl.StringVar(&opts.Settings.WebhookURL, "webhook-url", "", "IS-Messenger webhook URL (env CCX_WEBHOOK_URL)")
	fl.StringVar(&opts.Settings.ChannelID, "channel-id", "", "channel ID (env CCX_CHANNEL_ID)")
	fl.StringVar(&opts.Settings.APIToken, "token", "", "channel API token (env CCX_API_TOKEN)")
	fl.StringVar(&opts.Settings.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE; telegram needs custom)")
	fl.StringVar(&opts.SpoolPath, "spool", "ccx-relay.db", "spool file (bbolt) holding events until the platform accepts them")
	fl.StringVar(&opts.PublicURL, "public-url", "", "public base URL of this relay (webhook signatures, media URLs; default http://HOST:PORT)")
	fl.StringVar(&opts.Credentials, "credentials", "", "file of KEY=VALUE provider credentials (env wins)")
	fl.StringVar(&opts.HTTPConfig, "http-config", "", "config file of the generic http adapter")
	fl.StringVar(&opts.BaseURL, "provider-base-url", "", "provider API base URL (tests: point at a fake; env CCX_PROVIDER_BASE_URL)")
	_ = fl.MarkHidden("provider-base-url")
	fl.IntVar(&opts.MaxEntries, "max-entries", 100000, "spool bound in events; beyond it providers are answered 503")
	fl.Int64Var(&opts.MaxBytes, "max-bytes", 256<<20, "spool bound in bytes")
	fl.DurationVar(&opts.Window, "dedupe-window", 72*time.Hour, "how long provider message ids are remembered for de-duplication")
	fl.IntVar(&opts.Workers, "workers", 4, "parallel deliveries to the platform (one contact's events stay in order)")
	fl.Float64Var(&opts.RateLimit, "rate-limit", channel.RateLimitPerSec, "webhook posts per second (0: unlimited)")
	fl.DurationVar(&opts.Backoff, "backoff", 500*time.Millisecond, "first redelivery delay")
	_ = fl.MarkHidden("backoff")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "log level: debug|info|warn|error")
	fl.DurationVar(&opts.DrainFor, "drain", 5*time.Second, "on shutdown, how long pending deliveries may finish")
	fl.BoolVar(&opts.CheckConfig, "check-config", false, "check the settings, credentials and adapter config (http: render every template), then exit")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(relayProviders))
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	_ = cmd.RegisterFlagCompletionFunc("log-level", fixedCompletion([]string{"debug", "info", "warn", "error"}))
	cmd.AddCommand(newRelayStatusCmd(f))
	cmd.AddCommand(newRelaySpoolCmd(f))
	return cmd
}

func oneOfString(s string, list []string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}

// credentials reads provider secrets: env first, then the file.
type credentials struct {
	file   map[string]string
	getenv func(string) string
}

func loadCredentials(path string, getenv func(string) string) (*credentials, error) {
	c := &credentials{file: map[string]string{}, getenv: getenv}
	if path == "" {
		return c, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		c.file[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return c, sc.Err()
}

func (c *credentials) get(k string) string {
	if v := c.getenv(k); v != "" {
		return v
	}
	return c.file[k]
}

func runRelay(ctx context.Context, f *Factory, opts *relayOptions) error {
	set, err := f.Settings(opts.Settings)
	if err != nil {
		return Exit(ExitIO, err)
	}
	var missing []string
	if set.WebhookURL == "" {
		missing = append(missing, "--webhook-url (CCX_WEBHOOK_URL)")
	}
	if set.ChannelID == "" {
		missing = append(missing, "--channel-id (CCX_CHANNEL_ID)")
	}
	if set.APIToken == "" {
		missing = append(missing, "--token (CCX_API_TOKEN)")
	}
	if len(missing) > 0 {
		return UsageErrorf(fmt.Errorf("missing %s: set them as flags, env or in the profile", strings.Join(missing, ", ")))
	}
	idType := channel.IDPhone
	if set.IDType != "" {
		if idType, err = channel.ParseIDType(set.IDType); err != nil {
			return UsageErrorf(err)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return UsageErrorf(fmt.Errorf("--log-level %q: use debug, info, warn or error", opts.LogLevel))
	}
	creds, err := loadCredentials(opts.Credentials, f.IO.Getenv)
	if err != nil {
		return Exit(ExitIO, fmt.Errorf("--credentials: %w", err))
	}
	secrets := []string{set.APIToken}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if f.JSON {
		h = slog.NewJSONHandler(f.IO.ErrOut, hopts)
	} else {
		h = slog.NewTextHandler(f.IO.ErrOut, hopts)
	}
	// Check the provider configuration before binding, so a missing
	// credential is a usage error even when the port is busy. The real
	// adapter is built once the listener's address (and so the public URL
	// Twilio signs) is known.
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	provisional := opts.PublicURL
	if provisional == "" {
		provisional = "http://" + addr
	}
	checked, _, err := buildAdapter(opts, creds, "", provisional, idType)
	if err != nil {
		return err
	}
	if opts.CheckConfig {
		fmt.Fprintf(f.IO.ErrOut, "relay config ok: provider %s, channel %s, webhook %s, token %s\n", checked.Name(), set.ChannelID, set.WebhookURL, ui.Redact(set.APIToken))
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return Exit(ExitIO, fmt.Errorf("%w (pick another --port, or 0 for a free one)", err))
		}
		return Exit(ExitIO, err)
	}
	defer ln.Close()
	public := opts.PublicURL
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	base := opts.BaseURL
	if base == "" {
		base = f.IO.Getenv("CCX_PROVIDER_BASE_URL")
	}
	ad, adSecrets, err := buildAdapter(opts, creds, base, public, idType)
	if err != nil {
		return err
	}
	secrets = append(secrets, adSecrets...)
	log := slog.New(&redactHandler{Handler: h, secrets: nonEmpty(secrets)})

	eng, err := relay.New(relay.Options{Adapter: ad, ChannelID: set.ChannelID, Token: set.APIToken, IDType: idType,
		WebhookURL: set.WebhookURL, SpoolPath: opts.SpoolPath, PublicURL: public, Workers: opts.Workers,
		RateLimit: opts.RateLimit, Backoff: opts.Backoff, Logger: log,
		Limits: relay.Limits{MaxEntries: opts.MaxEntries, MaxBytes: opts.MaxBytes, Window: opts.Window}})
	if err != nil {
		return Exit(ExitIO, err)
	}
	if err := eng.Start(); err != nil {
		eng.Close()
		return Exit(ExitIO, err)
	}
	srv := &http.Server{Handler: eng.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("relay listening", "url", "http://"+ln.Addr().String(), "public", public, "webhook", set.WebhookURL,
		"channelId", set.ChannelID, "token", ui.Redact(set.APIToken), "spool", opts.SpoolPath,
		"inbound", public+"/providers/"+ad.Name()+"/", "pending", eng.Spool().Stats().Depth)
	if ip := net.ParseIP(opts.Host); opts.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("listening beyond loopback: /admin/status and /metrics have no authentication; put the relay behind TLS", "host", opts.Host)
	}
	select {
	case err := <-errc:
		eng.Close()
		return Exit(ExitIO, err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serr := srv.Shutdown(sctx)
	dctx, dcancel := context.WithTimeout(context.Background(), opts.DrainFor)
	eng.Drain(dctx)
	dcancel()
	st := eng.Spool().Stats()
	if err := eng.Close(); err != nil {
		return Exit(ExitIO, err)
	}
	log.Info("relay stopped", "pending", st.Depth, "delivered", st.Delivered, "dead", st.Dead)
	if serr != nil {
		return Exit(ExitIO, fmt.Errorf("shutdown: %w", serr))
	}
	return nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// redactHandler keeps secrets out of log lines whatever attribute they hide in.
type redactHandler struct {
	slog.Handler
	secrets []string
}

func (r *redactHandler) scrub(s string) string {
	for _, sec := range r.secrets {
		s = ui.RedactIn(s, sec)
	}
	return s
}

func (r *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	n := slog.NewRecord(rec.Time, rec.Level, r.scrub(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindString || a.Value.Kind() == slog.KindAny {
			a.Value = slog.StringValue(r.scrub(a.Value.String()))
		}
		n.AddAttrs(a)
		return true
	})
	return r.Handler.Handle(ctx, n)
}

func (r *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for i, a := range as {
		if a.Value.Kind() == slog.KindString {
			as[i].Value = slog.StringValue(r.scrub(a.Value.String()))
		}
	}
	return &redactHandler{Handler: r.Handler.WithAttrs(as), secrets: r.secrets}
}

func (r *redactHandler) WithGroup(g string) slog.Handler {
	return &redactHandler{Handler: r.Handler.WithGroup(g), secrets: r.secrets}
}

func newRelayStatusCmd(f *Factory) *cobra.Command {
	var spool, url string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the relay spool: pending, dead, de-duplication keys, oldest event",
		Long: `Show the state of a relay spool. With --url it asks a running relay's
/admin/status; otherwise it opens the spool file read-only (which only works
while no relay holds it). --json prints one JSON object.

Exit status: 0, or 1 when events wait in the dead bucket or unreadable
events are quarantined in the bad bucket, 3 when the spool or relay cannot
be read (a damaged spool file: see 'ccx relay spool check|salvage').`,
		Example: `  ccx relay status --spool ccx-relay.db
  ccx relay status --url http://127.0.0.1:3030 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var st relay.Stats
			var err error
			if url != "" {
				st, err = fetchRelayStatus(cmd.Context(), url)
			} else {
				if _, serr := os.Stat(spool); serr != nil {
					return Exit(ExitIO, fmt.Errorf("spool %s: %w", spool, serr))
				}
				st, err = relay.ReadStats(spool)
			}
			if err != nil {
				return Exit(ExitIO, err)
			}
			if f.JSON {
				_ = ui.WriteJSON(f.IO.Out, st)
			} else {
				w := f.IO.Out
				fmt.Fprintf(w, "spool       %s\n", st.Path)
				fmt.Fprintf(w, "pending     %d (%d bytes)\n", st.Depth, st.Bytes)
				fmt.Fprintf(w, "delivered   %d\n", st.Delivered)
				fmt.Fprintf(w, "dead        %d\n", st.Dead)
				fmt.Fprintf(w, "bad         %d\n", st.Bad)
				fmt.Fprintf(w, "in flight   %d (%d posted again after restarts)\n", st.InFlight, st.Redelivered)
				fmt.Fprintf(w, "dedupe keys %d\n", st.DedupeKeys)
				fmt.Fprintf(w, "sent mIds   %d\n", st.SentMIDs)
				if st.Oldest != nil {
					fmt.Fprintf(w, "oldest      %s %s for %s, %s old, %d attempts\n", st.Oldest.Kind, st.Oldest.MID,
						st.Oldest.ContactID, (time.Duration(st.OldestAgeMS) * time.Millisecond).Round(time.Millisecond), st.Oldest.Attempts)
				}
			}
			if st.Dead > 0 || st.Bad > 0 {
				return Silent(ExitFailure)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spool, "spool", "ccx-relay.db", "spool file to read (when no relay is running)")
	cmd.Flags().StringVar(&url, "url", "", "a running relay's base URL (asks /admin/status)")
	return cmd
}

func fetchRelayStatus(ctx context.Context, base string) (relay.Stats, error) {
	var st relay.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/admin/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s/admin/status answered %d", base, resp.StatusCode)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s/admin/status: %w", base, err)
	}
	return st, nil
}
