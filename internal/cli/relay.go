package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
	"github.com/ccx-cli/ccx/internal/relay/launch"
	"github.com/spf13/cobra"
)

type relayOptions = launch.Options

const defaultAdminAddr = launch.DefaultAdminAddr

var relayProviders = launch.Providers

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

Many channels: --config relay.toml serves every [[channel]] of the file
from one relay (an engine, a spool file in --spool-dir and a provider adapter
per channel). Routes carry the channel ID: POST /<channel-id>/message (so a
channel's API base URL is https://relay.example.com/<channel-id>) and
/providers/<channel-id>/<provider>/...; a channel's token is valid on its own
routes only. Values may be env:NAME references, resolved at start. Every
mistake of the file is reported with its line before anything starts (exit
2); the channel flags (--provider, --channel-id, --token, ...) are refused
with --config. See docs/relay.md and testdata/relay/relay.toml.

Several relays: --queue nats://host:4222[,…] keeps the events in a NATS
JetStream stream instead of the spool, so that any number of relays behind a
load balancer share them: an event is acknowledged to the provider once
JetStream stored it, de-duplicated by provider message id (Nats-Msg-Id, the
stream's duplicate window), and each contact's events are posted in order
across relays (16 partitions by contact, one event of a partition in flight in
the cluster). Credentials: user:pass@ or token@ in the URL, --queue-creds FILE,
--queue-tls-ca/--queue-tls-cert/--queue-tls-key; they are never printed.

Operations: GET /healthz; Prometheus metrics at /metrics and the spool state at
/admin/status (and 'ccx relay status --url') are on a separate admin address,
--admin-addr (127.0.0.1:3031; GET only, no authentication, so keep it on
loopback). Logs are structured (slog) on stderr, JSON with --json. SIGINT/SIGTERM finish in-flight requests and give pending
deliveries --drain to complete; what is left stays in the spool.

Channel settings come from flags, then CCX_* variables, then the profile.
Provider credentials come from the environment or --credentials FILE
(KEY=VALUE lines); they are never printed:
  clicksend  CCX_CLICKSEND_USERNAME, CCX_CLICKSEND_API_KEY, CCX_CLICKSEND_FROM, CCX_CLICKSEND_SECRET
  twilio     CCX_TWILIO_ACCOUNT_SID, CCX_TWILIO_AUTH_TOKEN, CCX_TWILIO_FROM, CCX_TWILIO_MESSAGING_SERVICE_SID
  telegram   CCX_TELEGRAM_BOT_TOKEN, CCX_TELEGRAM_WEBHOOK_SECRET
  gupshup    CCX_GUPSHUP_API_KEY, CCX_GUPSHUP_APP_NAME, CCX_GUPSHUP_SOURCE, CCX_GUPSHUP_SECRET
             (and/or CCX_GUPSHUP_WEBHOOK_HEADER + CCX_GUPSHUP_WEBHOOK_TOKEN)
  zalo       CCX_ZALO_APP_ID, CCX_ZALO_APP_SECRET, CCX_ZALO_OA_SECRET_KEY, CCX_ZALO_ACCESS_TOKEN,
             CCX_ZALO_REFRESH_TOKEN, CCX_ZALO_TOKEN_FILE (keeps refreshed tokens, 0600),
             CCX_ZALO_OAUTH_URL (default https://oauth.zaloapp.com)
  whatsapp   CCX_WHATSAPP_TOKEN, CCX_WHATSAPP_PHONE_NUMBER_ID, CCX_WHATSAPP_APP_SECRET,
             CCX_WHATSAPP_VERIFY_TOKEN (CCX_WHATSAPP_API_VERSION, default ` + whatsapp.DefaultAPIVersion + `)
  vonage     CCX_VONAGE_APPLICATION_ID + CCX_VONAGE_PRIVATE_KEY (or _PRIVATE_KEY_PATH), or
             CCX_VONAGE_API_KEY + CCX_VONAGE_API_SECRET; CCX_VONAGE_SIGNATURE_SECRET,
             CCX_VONAGE_FROM, CCX_VONAGE_CHANNEL (whatsapp|sms|mms, default whatsapp)
  http       --http-config FILE (templates and JSON paths; secrets via env references)
  loopback   none: every message comes back as the contact's reply
Webhooks nothing verifies are refused at start (exit 2): ClickSend and Gupshup
sign nothing, so they need CCX_CLICKSEND_SECRET / CCX_GUPSHUP_SECRET (or a
Gupshup header token); a generic http webhook needs an auth.
--insecure-inbound accepts them anyway, with a warning on every request.

Attachment and media URLs the relay fetches itself (Telegram document uploads,
provider media behind /media/) must resolve to public addresses: loopback,
private, link-local and metadata addresses are refused, redirects included,
unless --allow-private-media (tests, media on a private network).

See docs/relay.md for the message-type mapping of each provider and the
"Security" section.`,
		Example: `  ccx relay --provider loopback --spool relay.db
  CCX_CLICKSEND_USERNAME=me CCX_CLICKSEND_API_KEY=... CCX_CLICKSEND_SECRET=s3cr3t ccx relay --provider clicksend
  ccx relay --provider gupshup --credentials gupshup.env --public-url https://relay.example.com
  ccx relay --provider zalo --id-type custom --credentials zalo.env
  ccx relay --provider twilio --public-url https://relay.example.com --credentials twilio.env
  ccx relay --provider whatsapp --public-url https://relay.example.com --credentials whatsapp.env
  ccx relay --provider vonage --credentials vonage.env --check-config
  ccx relay --provider http --http-config testdata/relay/clicksend-http.json
  ccx relay --provider http --http-config testdata/relay/clicksend-http.json --check-config
  ccx relay --provider loopback --admin-addr 127.0.0.1:9100
  ccx relay --config relay.toml --spool-dir spool --public-url https://relay.example.com
  ccx relay --config relay.toml --check-config
  ccx relay --provider clicksend --credentials clicksend.env --queue nats://nats-1:4222,nats://nats-2:4222 --queue-creds relay.creds
  ccx relay status --spool relay.db --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Config != "" {
				for _, name := range launch.SingleChannelFlags {
					if cmd.Flags().Changed(name) {
						return UsageErrorf(fmt.Errorf("--%s and --config exclude each other: the config file sets each channel's", name))
					}
				}
			} else if cmd.Flags().Changed("spool-dir") {
				return UsageErrorf(errors.New("--spool-dir goes with --config (one spool per channel); one channel's spool is --spool"))
			} else if !oneOfString(opts.Provider, relayProviders) {
				return UsageErrorf(fmt.Errorf("--provider %q: use one of %s", opts.Provider, strings.Join(relayProviders, ", ")))
			}
			if err := launch.CheckAdminAddr(opts.AdminAddr); err != nil {
				return UsageErrorf(err)
			}
			if opts.Queue != "" && (cmd.Flags().Changed("spool") || cmd.Flags().Changed("spool-dir")) {
				return UsageErrorf(errors.New("--spool/--spool-dir and --queue exclude each other: with --queue the events are kept in JetStream"))
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
	fl.StringVar(&opts.Settings.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE; telegram and zalo need custom; whatsapp, vonage and gupshup phone)")
	fl.StringVar(&opts.SpoolPath, "spool", "ccx-relay.db", "spool file (bbolt) holding events until the platform accepts them")
	fl.StringVar(&opts.Config, "config", "", "relay config file (TOML) of many channels: each [[channel]] its ID, token, webhook URL, provider and credentials")
	fl.StringVar(&opts.SpoolDir, "spool-dir", launch.DefaultSpoolDir, "with --config: directory of the spools, one file <channel-id>.db per channel")
	fl.StringVar(&opts.Queue, "queue", "", "queue events in NATS JetStream shared by relays instead of the spool: nats://[user:pass@]host:4222[,nats://…]")
	fl.StringVar(&opts.QueueOpts.CredsFile, "queue-creds", "", "NATS credentials file (.creds: JWT and nkey seed)")
	fl.StringVar(&opts.QueueOpts.TLSCA, "queue-tls-ca", "", "CA bundle (PEM) that verifies the NATS servers")
	fl.StringVar(&opts.QueueOpts.TLSCert, "queue-tls-cert", "", "client certificate (PEM) for NATS mutual TLS, with --queue-tls-key")
	fl.StringVar(&opts.QueueOpts.TLSKey, "queue-tls-key", "", "client key (PEM) for NATS mutual TLS")
	fl.DurationVar(&opts.QueueOpts.AckWait, "queue-ack-wait", 10*time.Second, "how long a stopped relay's event in flight waits before another relay posts it")
	fl.IntVar(&opts.QueueOpts.Replicas, "queue-replicas", 1, "replicas of the JetStream stream and buckets (3 on a cluster of 3)")
	fl.StringVar(&opts.PublicURL, "public-url", "", "public base URL of this relay (webhook signatures, media URLs; default http://HOST:PORT)")
	fl.StringVar(&opts.Credentials, "credentials", "", "file of KEY=VALUE provider credentials (env wins)")
	fl.StringVar(&opts.HTTPConfig, "http-config", "", "config file of the generic http adapter")
	fl.StringVar(&opts.BaseURL, "provider-base-url", "", "provider API base URL (tests: point at a fake; env CCX_PROVIDER_BASE_URL)")
	_ = fl.MarkHidden("provider-base-url")
	fl.IntVar(&opts.MaxEntries, "max-entries", 100000, "spool bound in events; beyond it providers are answered 503")
	fl.Int64Var(&opts.MaxBytes, "max-bytes", 256<<20, "spool bound in bytes")
	fl.DurationVar(&opts.Window, "dedupe-window", 72*time.Hour, "how long provider message ids are remembered for de-duplication")
	fl.IntVar(&opts.Workers, "workers", 4, "parallel deliveries to the platform (one contact's events stay in order; with --queue the queue's 16 partitions set it)")
	fl.Float64Var(&opts.RateLimit, "rate-limit", channel.RateLimitPerSec, "webhook posts per second (0: unlimited)")
	fl.DurationVar(&opts.Backoff, "backoff", 500*time.Millisecond, "first redelivery delay")
	_ = fl.MarkHidden("backoff")
	fl.DurationVar(&opts.MaxBackoff, "max-backoff", 30*time.Second, "longest redelivery delay")
	_ = fl.MarkHidden("max-backoff")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "log level: debug|info|warn|error")
	fl.DurationVar(&opts.DrainFor, "drain", 5*time.Second, "on shutdown, how long pending deliveries may finish")
	fl.BoolVar(&opts.CheckConfig, "check-config", false, "check the settings, credentials and adapter config (http: render every template), then exit")
	fl.StringVar(&opts.AdminAddr, "admin-addr", defaultAdminAddr, "host:port of the admin listener (/metrics, /admin/status; GET only, no auth); off to disable")
	fl.BoolVar(&opts.AllowPrivateMedia, "allow-private-media", false, "let attachment and media fetches reach loopback, private and link-local addresses")
	fl.BoolVar(&opts.InsecureInbound, "insecure-inbound", false, "accept provider webhooks that nothing verifies (logs a warning on each)")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(relayProviders))
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	_ = cmd.RegisterFlagCompletionFunc("log-level", fixedCompletion([]string{"debug", "info", "warn", "error"}))
	limitFlag(fl, "port", 0, 65535, usePort)
	urlFlag(fl, "webhook-url")
	urlFlag(fl, "public-url")
	urlFlag(fl, "provider-base-url")
	limitFlag(fl, "max-entries", 1, noMax, "1 or more events")
	limitFlag(fl, "max-bytes", 1<<10, noMax, "1024 bytes or more")
	limitFlag(fl, "dedupe-window", time.Minute, 365*24*time.Hour, "1m to 8760h, e.g. 72h")
	limitFlag(fl, "workers", 1, 1000, "1-1000")
	limitFlag(fl, "rate-limit", 0, math.Inf(1), useRate)
	limitFlag(fl, "backoff", time.Millisecond, noMax, "1ms or more")
	limitFlag(fl, "max-backoff", time.Millisecond, noMax, "1ms or more")
	limitFlag(fl, "drain", 0, time.Hour, "0 to 1h, e.g. 5s")
	limitFlag(fl, "queue-ack-wait", time.Second, time.Hour, "1s to 1h, e.g. 10s")
	limitFlag(fl, "queue-replicas", 1, 5, "1-5")
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

// credentials are provider secrets: env first, then the file.
type credentials config.Credentials

// loadCredentials reads a --credentials file (config.LoadCredentials).
func loadCredentials(ctx context.Context, path string, getenv func(string) string) (*credentials, error) {
	c, err := config.LoadCredentials(ctx, path, getenv)
	return (*credentials)(c), err
}

func (c *credentials) get(k string) string { return (*config.Credentials)(c).Get(k) }

func runRelay(ctx context.Context, f *Factory, opts *relayOptions) error {
	if opts.Config != "" {
		return launch.RunConfig(ctx, f.IO.Out, f.IO.ErrOut, f.JSON, f.IO.Getenv, opts)
	}
	set, err := f.Settings(opts.Settings)
	if err != nil {
		return err // Settings picks the code: 3 unreadable config, 2 bad value
	}
	return launch.Run(ctx, f.IO.ErrOut, f.JSON, f.IO.Getenv, set, opts)
}
