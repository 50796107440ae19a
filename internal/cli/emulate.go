package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/emulator/launch"
	"github.com/ccx-cli/ccx/internal/emulator/remote"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// LocalProfile is the profile `ccx emulate` writes and `--local` selects.
const LocalProfile = config.LocalProfile

// EnvEmulatorURL overrides where `emulate send|inbox` find the emulator.
const EnvEmulatorURL = remote.EnvURL

type emulateOptions = launch.Options

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
/_emulator/channels/{id}/send. --state FILE keeps the state (and the last 200
requests) across restarts. Ctrl-C or SIGTERM stops it gracefully. The web inbox
resends requests, retries failed messages, copies requests as curl ($CCX_API_TOKEN
for the token), filters the log and links to any view (#/requests/N).

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
	fl.StringVar(&opts.StatePath, "state", "", "keep contacts, messages and the request log in this JSON file across restarts")
	fl.StringArrayVar(&opts.AllowHosts, "allow-host", nil, "a host name the API and the inbox answer besides IP addresses and localhost, e.g. a docker service name (repeatable)")
	fl.BoolVar(&opts.ShowToken, "show-token", false, "print the full API token once on stderr")
	fl.BoolVar(&opts.NoProfile, "no-profile", false, "do not write the 'local' profile")
	fl.BoolVar(&opts.FetchMedia, "fetch-media", false, "check every attachment URL your server posts, not only those on this machine, and warn when the platform could not show it (needs the network)")
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
	chans, sources, err := launch.Channels(file, flags, p, named, f.IO.Getenv, opts.Extra)
	return chans, file, sources, err
}

func runEmulate(ctx context.Context, f *Factory, opts *emulateOptions) error {
	chans, file, sources, err := emulatedChannels(f, opts)
	if err != nil {
		return err
	}
	for _, c := range chans {
		warnMessageSuffix(f, c.APIBaseURL, "the API base URL of channel "+c.ID)
	}
	return launch.Run(ctx, f.IO, f.JSON, file, chans, sources, opts)
}

// emulatorURL picks the emulator to talk to: --emulator, CCX_EMULATOR_URL,
// the 'local' profile's webhook origin, then the default port.
func emulatorURL(f *Factory, flag string) string {
	file, _ := f.Config()
	return remote.URL(flag, f.IO.Getenv, file)
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

func runEmulateSend(ctx context.Context, f *Factory, base, channelID, to string, m channel.Message) error {
	v, err := remote.Send(ctx, f.IO, f.JSON, base, channelID, to, m,
		func(base string) { f.waitForServer(ctx, base) },
		func(base, what string) { warnMessageSuffix(f, base, what) })
	if err != nil || v == verdict.OK {
		return err
	}
	return Silent(exitFor(v))
}
