package cli

import (
	"errors"
	"strings"
	"time"

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

// ProviderServeOptions are the flags of `ccx provider serve`.
type ProviderServeOptions = serve.Options

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
			return serve.Run(cmd.Context(), f.IO, f.JSON, o)
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
			emulators.WriteList(f.IO.Out, f.IO.Styles(f.IO.Out), infos)
			return nil
		},
	}
}
