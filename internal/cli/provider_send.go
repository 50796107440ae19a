package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/deliver"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/spf13/cobra"
)

// ProviderSendOptions are the flags of `ccx provider send`.
type ProviderSendOptions = deliver.SendOptions

func newProviderSendCmd(f *Factory) *cobra.Command {
	o := &ProviderSendOptions{}
	cmd := &cobra.Command{
		Use:   "send TYPE [ARGS] --provider NAME --to WEBHOOK_URL",
		Short: "Post a provider webhook (customer message or receipt) to your server, signed as the provider signs",
		Long: `Act as the provider: post the webhook it would send to your server's provider
endpoint (--to, the full URL as configured at the provider), with the body the
real provider sends and signed the way it signs:
  twilio     form body, X-Twilio-Signature over the URL and the sorted parameters
             (sign with CCX_TWILIO_AUTH_TOKEN; the URL must be exactly the one
             your server reconstructs, e.g. its --public-url + path)
  telegram   an Update as JSON, X-Telegram-Bot-Api-Secret-Token
             (CCX_TELEGRAM_WEBHOOK_SECRET)
  clicksend  an inbound-SMS or receipt push (form; --webhook-type json|get);
             ClickSend signs nothing: the path secret is in the URL ({secret}
             in --to is replaced by CCX_CLICKSEND_SECRET)
  gupshup    a v2 callback as JSON (message or message-event); Gupshup signs
             nothing: the path secret ({secret} in --to, CCX_GUPSHUP_SECRET)
             and/or CCX_GUPSHUP_WEBHOOK_HEADER/_TOKEN
  zalo       a webhook event as JSON, X-ZEvent-Signature (sha256 of app id,
             body, timestamp and CCX_ZALO_OA_SECRET_KEY; needs CCX_ZALO_APP_ID)
  whatsapp   a Meta notification (messages or statuses) as JSON, non-ASCII
             escaped as Meta sends it, X-Hub-Signature-256 with
             CCX_WHATSAPP_APP_SECRET; 'native handshake' is the verification
             GET with CCX_WHATSAPP_VERIFY_TOKEN (the body must be hub.challenge)
  vonage     a Messages API webhook as JSON with an HS256 JWT in Authorization
             (CCX_VONAGE_SIGNATURE_SECRET; payload_hash over the body)
Credentials come from the environment or --credentials FILE, as for 'ccx relay'
(or the file 'ccx provider serve --credentials-out' wrote).

Types: text, attachment (Twilio MediaUrl0, Telegram photo/video/audio/document
with a file id that 'ccx provider serve' resolves, WhatsApp a media id that
'ccx provider serve' resolves behind the token, Vonage the media URL, Gupshup
image/video/audio/file, Zalo user_send_image/video/audio/file), location
(Twilio WhatsApp, Telegram location/venue, WhatsApp, Vonage WhatsApp, Gupshup,
Zalo), native (provider-native messages, see 'ccx provider list'), and receipt
(a status callback for a message your server sent: Twilio, ClickSend,
WhatsApp, Vonage, Gupshup, Zalo).

Negative tests: --bad-signature signs with a wrong key (a correct server
answers 401/403: exit 4; accepting it is exit 1), --repeat N posts the same
webhook N times with the same provider id, as a provider retry does.

The answer is judged as the provider reads it; --json "verdict" is one of the
words of 'ccx help exit-codes'. Exit codes: 0 ok (2xx); 1 refused, no-route,
rate-limited or server-error (another 4xx/5xx), wrong-reply (a redirect, a web
page, or a badly signed webhook accepted); 3 timeout or network (unreachable,
not HTTP); 4 auth (401/403); 2 bad input (unknown provider, a message the
provider cannot carry).`,
		Example: `  ccx provider send --provider twilio --credentials twilio.env --to http://127.0.0.1:3030/providers/twilio/inbound text "hi"
  ccx provider send --provider twilio --credentials twilio.env --to http://127.0.0.1:3030/providers/twilio/inbound attachment https://example.com/cat.jpg --kind image --description "my cat"
  ccx provider send --provider twilio --credentials twilio.env --business-number whatsapp:+14155238886 --to http://127.0.0.1:3030/providers/twilio/inbound location 3.139 101.6869 --address "KLCC"
  ccx provider send --provider telegram --credentials telegram.env --to http://127.0.0.1:3030/providers/telegram/webhook native voice https://example.com/v.ogg
  ccx provider send --provider clicksend --to 'http://127.0.0.1:3030/providers/clicksend/inbound/{secret}' text "STOP" --repeat 3
  ccx provider send --provider twilio --credentials twilio.env --to http://127.0.0.1:3030/providers/twilio/status receipt SM0123 --status delivered
  ccx provider send --provider telegram --credentials telegram.env --to http://127.0.0.1:3030/providers/telegram/webhook text hi --bad-signature; echo "exit $?"   # 4 from a server that checks
  ccx provider send --provider whatsapp --credentials wa.env --to http://127.0.0.1:3030/providers/whatsapp/webhook native button_reply Good
  ccx provider send --provider whatsapp --credentials wa.env --to http://127.0.0.1:3030/providers/whatsapp/webhook native handshake
  ccx provider send --provider vonage --credentials vonage.env --to http://127.0.0.1:3030/providers/vonage/inbound location 3.139 101.6869 --address "KLCC"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp("ccx provider send", errors.New("provider send needs a type: text, attachment, location, native or receipt"))
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.Provider, "provider", "", "provider to play: "+strings.Join(emulators.Names(), "|")+" (required)")
	pf.StringVar(&o.To, "to", "", "your server's webhook URL for this provider (required)")
	pf.StringVar(&o.From, "from", "", "the customer (+E.164; Telegram: chat id; Zalo: user id); for receipts the message's recipient")
	pf.StringVar(&o.Name, "name", "", "the customer's profile name (WhatsApp ProfileName, Telegram first_name)")
	pf.StringVar(&o.ID, "id", "", "the provider's message id (default: a fresh one; --repeat reuses it)")
	pf.StringVar(&o.BusinessNumber, "business-number", "", "the business's address (Twilio To, whatsapp:+E.164 for WhatsApp; ClickSend to)")
	pf.StringVar(&o.Credentials, "credentials", "", "file of KEY=VALUE provider credentials (env wins)")
	pf.StringVar(&o.WebhookType, "webhook-type", "", "ClickSend pushes: post (form, default), json or get")
	pf.BoolVar(&o.BadSignature, "bad-signature", false, "sign with a wrong key: the server must refuse it (401/403)")
	pf.IntVar(&o.Repeat, "repeat", 1, "post the same webhook N times (a provider retry: same id)")
	pf.DurationVar(&o.Timeout, "timeout", deliver.DefaultTimeout, "give up on a post after this long")
	pf.BoolVar(&o.DryRun, "dry-run", false, "print the signed request without sending it")
	limitFlag(pf, "repeat", 1, 100, "1-100")
	limitFlag(pf, "timeout", time.Nanosecond, noMax, usePositive)
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(emulators.Names()))
	_ = cmd.RegisterFlagCompletionFunc("webhook-type", fixedCompletion([]string{"post", "json", "get"}))

	example := "ccx provider send --provider twilio --credentials twilio.env --business-number whatsapp:+14155238886 --to http://127.0.0.1:3030/providers/twilio/inbound"
	for _, c := range MessageCommands("Send as the customer:", example, func(c *cobra.Command, m channel.Message) error {
		return runProviderSend(c.Context(), f, o, &provider.CustomerMessage{Message: m}, nil)
	}) {
		if n := c.Name(); n == "text" || n == "attachment" || n == "location" {
			cmd.AddCommand(c)
		}
	}
	cmd.AddCommand(newProviderNativeCmd(f, o), newProviderReceiptCmd(f, o))
	return cmd
}

func newProviderNativeCmd(f *Factory, o *ProviderSendOptions) *cobra.Command {
	var kind string
	var b strings.Builder
	for _, i := range emulators.Infos() {
		for _, n := range i.NativeTypes {
			fmt.Fprintf(&b, "  %-9s %-9s %s\n", i.Name, n.Name, n.Help)
		}
	}
	cmd := &cobra.Command{
		Use:   "native NAME [TEXT|URL]",
		Short: "Send as the customer: a provider-native message (button tap, voice note, sticker...)",
		Long: `A message type only this provider has. VALUE is the text, or for media an
http(s) URL (its kind from --kind or the extension):
` + b.String(),
		Example: `  ccx provider send --provider twilio --credentials twilio.env --business-number whatsapp:+14155238886 --to http://127.0.0.1:3030/providers/twilio/inbound native button "Good"
  ccx provider send --provider telegram --credentials telegram.env --to http://127.0.0.1:3030/providers/telegram/webhook native callback yes
  ccx provider send --provider telegram --credentials telegram.env --to http://127.0.0.1:3030/providers/telegram/webhook native voice https://example.com/v.ogg`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageHelp(cmd.CommandPath(), fmt.Errorf("%s takes NAME [TEXT|URL] (got %d arguments)", cmd.CommandPath(), len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && !oneOf(channel.AttachmentKind(kind), channel.AttachmentKinds) {
				return UsageErrorf(fmt.Errorf("invalid --kind %q: use image, video, audio or file", kind))
			}
			m := channel.Message{Type: channel.MessageText}
			if len(args) == 2 {
				v := args[1]
				if _, err := parseHTTPURL(v); err == nil && strings.Contains(v, "://") {
					k := channel.AttachmentKind(kind)
					if kind == "" {
						k = channel.AttachmentAudio
						if args[0] != "voice" {
							k = channel.AttachmentFile
						}
					}
					m = channel.NewAttachment(k, v, "", "", "")
				} else {
					m = channel.Text(v)
				}
			}
			return runProviderSend(cmd.Context(), f, o, &provider.CustomerMessage{Message: m, Native: args[0]}, nil)
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "attachment kind of a URL value: image|video|audio|file")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion(channel.AttachmentKinds))
	return cmd
}

func newProviderReceiptCmd(f *Factory, o *ProviderSendOptions) *cobra.Command {
	var status, reason string
	cmd := &cobra.Command{
		Use:   "receipt PROVIDER_ID --status delivered|read|failed|sent",
		Short: "Send a delivery receipt (status callback) for a message your server sent",
		Long: `Post the provider's status callback for a message your server sent through it:
PROVIDER_ID is the provider's id for it (Twilio's SM.../MM... sid, ClickSend's
message_id: what your server's /message should have answered as mId).
Twilio: MessageStatus sent|delivered|read|undelivered (failed; --reason a numeric
ErrorCode such as 30003, or a WhatsApp ChannelStatusMessage); ClickSend:
status_code 200|201|301 (no read receipts); WhatsApp: statuses[] sent|delivered|
read|failed (--reason a numeric error code such as 131047, or the details of
131026) for a wamid; Vonage: submitted|delivered|read|rejected (--reason a
numeric code such as 1330, or the detail) for a message_uuid; Gupshup: a
message-event keyed by the gsId (--reason a code such as 1002, or a text); Zalo:
delivered is user_received_message, read user_seen_message (no sent or failed
events). Telegram has no receipts. --to is the callback URL (Twilio: the send's
StatusCallback; ClickSend: the delivery-receipt rule URL; WhatsApp, Gupshup,
Zalo: the app's one webhook URL; Vonage: the application's status URL); --from
names the recipient.`,
		Example: `  ccx provider send --provider twilio --credentials twilio.env --to http://127.0.0.1:3030/providers/twilio/status --from +60177872890 receipt SM0123 --status read
  ccx provider send --provider clicksend --to 'http://127.0.0.1:3030/providers/clicksend/receipt/{secret}' receipt 1ABC-... --status failed --reason "absent subscriber"
  ccx provider send --provider whatsapp --credentials wa.env --to http://127.0.0.1:3030/providers/whatsapp/webhook receipt wamid.HBgL... --status failed --reason 131047`,
		Args: exactArgs(1, "PROVIDER_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := channel.StatusValue(status)
			if !oneOf(v, channel.StatusValues) {
				return UsageErrorf(fmt.Errorf("invalid --status %q: use sent, delivered, read or failed", status))
			}
			return runProviderSend(cmd.Context(), f, o, nil, &provider.ReceiptSpec{ProviderID: args[0], Status: v, Reason: reason})
		},
	}
	cmd.Flags().StringVar(&status, "status", "delivered", "sent|delivered|read|failed")
	cmd.Flags().StringVar(&reason, "reason", "", "why it failed (provider error code or text)")
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(channel.StatusValues))
	return cmd
}

func runProviderSend(ctx context.Context, f *Factory, o *ProviderSendOptions, in *provider.CustomerMessage, rs *provider.ReceiptSpec) error {
	v, err := deliver.Send(ctx, f.IO, f.JSON, o, in, rs)
	if err != nil {
		return err
	}
	code := exitFor(v)
	if ctx.Err() != nil {
		code = ExitInterrupted
	}
	return exitSilently(code)
}
