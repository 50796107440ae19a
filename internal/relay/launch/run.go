// Package launch runs `ccx relay`: it checks the settings, builds the
// provider adapter from its credentials, serves the relay engine and its
// admin address, and asks a running relay for its status.
package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Options are the flags of `ccx relay`.
type Options struct {
	Provider    string
	Host        string
	Port        int
	Settings    config.Profile
	SpoolPath   string
	Queue       string // nats://… : JetStream instead of the spool
	QueueOpts   relay.NATSOptions
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
	MaxBackoff  time.Duration // hidden: and keep it fast after an outage
	LogLevel    string
	DrainFor    time.Duration
	CheckConfig bool
	// Security: where the admin routes listen, and the two opt-outs.
	AdminAddr         string
	AllowPrivateMedia bool
	InsecureInbound   bool
	// Config is a relay config file of many channels (multi.go); SpoolDir
	// holds their spools, one file per channel.
	Config   string
	SpoolDir string
	// channel is the config channel an adapter is built for: its webhooks
	// are under /providers/<channel>/<provider>/.
	channel string
}

// DefaultAdminAddr is where metrics and the spool state are served.
const DefaultAdminAddr = "127.0.0.1:3031"

// Providers are the adapters `--provider` accepts.
var Providers = []string{
	"clicksend", "twilio", "telegram", "http", "loopback",
	"whatsapp", "vonage",
	"gupshup", "zalo",
}

// Run checks the settings set (resolved from flags, env and profile) and
// the provider's, then serves the relay until ctx ends; it logs on errOut
// (JSON with asJSON). With --check-config it stops after the checks.
func Run(ctx context.Context, errOut io.Writer, asJSON bool, getenv func(string) string, set config.Profile, opts *Options) error {
	var err error
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
		return fault.Usagef("missing %s: set them as flags, env or in the profile", strings.Join(missing, ", "))
	}
	idType := channel.IDPhone
	if set.IDType != "" {
		if idType, err = channel.ParseIDType(set.IDType); err != nil {
			return fault.New(fault.Usage, err)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return fault.Usagef("--log-level %q: use debug, info, warn or error", opts.LogLevel)
	}
	creds, err := config.LoadCredentials(ctx, opts.Credentials, getenv)
	if err != nil {
		if ctx.Err() != nil {
			return fault.New(fault.Interrupted, errors.New("interrupted"))
		}
		return fault.New(fault.IO, fmt.Errorf("--credentials: %w", err))
	}
	secrets := []string{set.APIToken}
	if opts.Queue != "" {
		urls, qsecrets, err := relay.ParseQueueURLs(opts.Queue)
		if err != nil {
			return fault.New(fault.Usage, err)
		}
		opts.QueueOpts.URLs, secrets = urls, append(secrets, qsecrets...)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if asJSON {
		h = slog.NewJSONHandler(errOut, hopts)
	} else {
		h = slog.NewTextHandler(errOut, hopts)
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
	checked, adSecrets, err := BuildAdapter(opts, creds, "", provisional, idType, netguard.Options{})
	if err != nil {
		return err
	}
	unverified, err := checkInbound(opts, checked)
	if err != nil {
		return err
	}
	log := slog.New(&redactHandler{Handler: h, secrets: ui.Redactable(append(secrets, adSecrets...))})
	if len(unverified) > 0 {
		log.Warn("--insecure-inbound: webhooks nothing verifies are accepted; anyone who finds the URL can store customer messages",
			"unverified", strings.Join(unverified, "; "))
	}
	if opts.CheckConfig {
		fmt.Fprintf(errOut, "relay config ok: provider %s, channel %s, webhook %s, token %s\n", checked.Name(), set.ChannelID, set.WebhookURL, ui.Redact(set.APIToken))
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fault.New(fault.IO, fmt.Errorf("%w (pick another --port, or 0 for a free one)", err))
		}
		return fault.New(fault.IO, err)
	}
	defer ln.Close()
	var adminLn net.Listener
	if !adminOff(opts.AdminAddr) {
		if adminLn, err = net.Listen("tcp", opts.AdminAddr); err != nil {
			return fault.New(fault.IO, fmt.Errorf("--admin-addr: %w (pick another address, or off)", err))
		}
		defer adminLn.Close()
	}
	public := opts.PublicURL
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	base := opts.BaseURL
	if base == "" {
		// env, then the credentials file (ccx emulate --provider and ccx
		// provider serve --credentials-out write it)
		base = creds.Get(config.EnvProviderBaseURL)
	}
	// Same credentials as the checked adapter, so the same secrets to redact.
	ad, _, err := BuildAdapter(opts, creds, base, public, idType, netguard.Options{AllowPrivate: opts.AllowPrivateMedia, Logger: log})
	if err != nil {
		return err
	}

	storeKey, store := "spool", opts.SpoolPath
	var queue *relay.NATSOptions
	if opts.Queue != "" {
		queue, storeKey, store = &opts.QueueOpts, "queue", relay.RedactURLs(opts.Queue)
	} else {
		fsutil.MakePrivate(opts.SpoolPath, logWriter{log}) // undelivered messages: personal data
	}
	eng, err := relay.New(relay.Options{NATS: queue, Adapter: ad, ChannelID: set.ChannelID, Token: set.APIToken, IDType: idType,
		WebhookURL: set.WebhookURL, SpoolPath: opts.SpoolPath, PublicURL: public, Workers: opts.Workers,
		RateLimit: opts.RateLimit, Backoff: opts.Backoff, MaxBackoff: opts.MaxBackoff, Logger: log, InsecureInbound: opts.InsecureInbound,
		Limits: relay.Limits{MaxEntries: opts.MaxEntries, MaxBytes: opts.MaxBytes, Window: opts.Window}})
	if errors.Is(err, relay.ErrQueueAuth) {
		return fault.New(fault.Auth, err)
	}
	if err != nil {
		return fault.New(fault.IO, err)
	}
	if err := eng.Start(); err != nil {
		eng.Close()
		return fault.New(fault.IO, err)
	}
	return serveUntil(ctx, log, opts, ln, adminLn, eng, public, []any{"webhook", set.WebhookURL,
		"channelId", set.ChannelID, "token", ui.Redact(set.APIToken), storeKey, store,
		"inbound", public + "/providers/" + ad.Name() + "/", "pending", eng.Stats().Depth},
		func() func() {
			st := eng.Stats()
			return func() { log.Info("relay stopped", "pending", st.Depth, "delivered", st.Delivered, "dead", st.Dead) }
		})
}

// served is what serveUntil runs: one channel's engine or the router of many.
type served interface {
	Handler() http.Handler
	AdminHandler() http.Handler
	Drain(ctx context.Context)
	Close() error
}

// serveUntil serves s on ln (and its admin routes on adminLn, unless nil)
// until ctx ends or a server fails; then in-flight requests get 10 s,
// deliveries --drain, and the rest stays queued. public and listening go
// on the start line; stopping is called after the drain, before Close, and
// the func it returns logs once s is closed.
func serveUntil(ctx context.Context, log *slog.Logger, opts *Options, ln, adminLn net.Listener, s served, public string, listening []any, stopping func() func()) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	adminURL := "off"
	var adminSrv *http.Server
	if adminLn != nil {
		adminSrv = &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
		go func() { errc <- adminSrv.Serve(adminLn) }()
		adminURL = "http://" + adminLn.Addr().String()
	}
	log.Info("relay listening", append([]any{"url", "http://" + ln.Addr().String(), "public", public, "admin", adminURL}, listening...)...)
	if !loopbackHost(opts.Host) {
		log.Warn("listening beyond loopback: put the relay behind TLS", "host", opts.Host)
	}
	if adminLn != nil && !loopbackHost(adminLn.Addr().(*net.TCPAddr).IP.String()) {
		log.Warn("the admin address is beyond loopback: /metrics and /admin/status have no authentication", "admin", adminURL)
	}
	select {
	case err := <-errc:
		s.Close()
		return fault.New(fault.IO, err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if adminSrv != nil {
		_ = adminSrv.Shutdown(sctx)
	}
	serr := srv.Shutdown(sctx)
	dctx, dcancel := context.WithTimeout(context.Background(), opts.DrainFor)
	s.Drain(dctx)
	dcancel()
	stopped := stopping()
	if err := s.Close(); err != nil {
		return fault.New(fault.IO, err)
	}
	stopped()
	if serr != nil {
		return fault.New(fault.IO, fmt.Errorf("shutdown: %w", serr))
	}
	return nil
}

func loopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}

func adminOff(a string) bool { return a == "" || a == "off" }

// CheckAdminAddr accepts off or host:port.
func CheckAdminAddr(a string) error {
	if adminOff(a) {
		return nil
	}
	_, port, err := net.SplitHostPort(a)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid --admin-addr %q: use host:port (127.0.0.1:3031, port 0-65535) or off", a)
	}
	return nil
}

// checkInbound refuses an adapter with webhooks nothing verifies unless
// --insecure-inbound; it returns those webhooks (for the start-up warning).
func checkInbound(opts *Options, ad provider.Adapter) ([]string, error) {
	u, ok := ad.(provider.Unverified)
	if !ok || len(u.Unverified()) == 0 {
		return nil, nil
	}
	if !opts.InsecureInbound {
		return nil, fault.Usagef("--provider %s would store webhooks nothing verifies as customer messages (%s): %s, or pass --insecure-inbound to accept that",
			opts.Provider, strings.Join(u.Unverified(), "; "), unverifiedRemedy[opts.Provider])
	}
	return u.Unverified(), nil
}

// unverifiedRemedy says how to make each provider's webhooks verified.
var unverifiedRemedy = map[string]string{
	"clicksend": "set CCX_CLICKSEND_SECRET (the push URLs' path secret; ClickSend signs nothing)",
	"gupshup":   "set CCX_GUPSHUP_SECRET (the callback URL's path secret; Gupshup signs nothing) or CCX_GUPSHUP_WEBHOOK_TOKEN",
	"http":      "give every webhook an auth (shared_secret_header, hmac, basic or path_secret) in the --http-config file",
}

// logWriter turns the lines written to it into warnings of log.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimSpace(strings.TrimPrefix(string(p), "warning: ")))
	return len(p), nil
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
