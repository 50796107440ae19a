package cli

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/payload"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/spf13/cobra"
)

// sendOptions are the flags shared by every `ccx send` subcommand.
type sendOptions struct {
	f *Factory

	settings config.Profile // flag values; resolved later over env and profile
	contact  channel.Contact
	timezone string
	mid      string
	ts       int64

	noValidate bool
	dryRun     bool
	showToken  bool

	count       int
	rate        float64
	concurrency int
	timeout     time.Duration
	retries     int
	backoff     time.Duration // hidden: tests make retries instant

	token string // resolved
}

func newSendCmd(f *Factory) *cobra.Command {
	o := &sendOptions{f: f}
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Post message, message_echo and message_status events to the IS-Messenger webhook",
		Long: `Send builds a webhook event through the wire model, validates it, and POSTs it to
the channel's IS-Messenger webhook URL with "authorization: Bearer <API token>".

Settings come from flags, then CCX_* environment variables, then the active
profile (see 'ccx config' and 'ccx init'): webhook URL, channel ID, API token,
ID type and the default contact ID.

Bulk and load: --count N sends N requests, each with its own mId, at --rate
requests/second (default 20, the platform's limit; 0 = unlimited) over
--concurrency connections, then prints a summary (sent, failed by status,
achieved rate, latency p50/p90/p99). A progress bar (percent, rate, ETA, failures,
retries) is drawn on stderr when it is a terminal. With --json a single send prints one result object; a bulk send
prints one NDJSON line per request ("type":"result") and a final
"type":"summary" line. A bulk run stops at the first 401/403.

Exit codes: 0 sent (all of them), 1 rejected by the platform (or the payload is
invalid), 2 usage, 3 network (no response), 4 authentication rejected (401/403),
130 interrupted.`,
		Example: `  ccx send text "Hello World"
  ccx send text hi --contact-id +60177872890 --first-name John --dry-run
  ccx send attachment https://example.com/cat.jpg --kind image --echo
  ccx send receipt 5f0c6a9e-3a47-4ea4-9a55-63e1f2c5a3b1 --status failed --reason "Invalid token"
  ccx send file payload.json --set events.0.message.text=hi
  ccx send text load --count 200 --rate 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp("ccx send", errors.New("send needs a subcommand: text, attachment, location, quick-reply, custom-payload, receipt or file"))
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.settings.WebhookURL, "webhook-url", "", "IS-Messenger webhook URL (env CCX_WEBHOOK_URL)")
	pf.StringVar(&o.settings.ChannelID, "channel-id", "", "channel ID (env CCX_CHANNEL_ID)")
	pf.StringVar(&o.settings.APIToken, "token", "", "API token (env CCX_API_TOKEN; prefer the env or a profile: flags end up in shell history)")
	pf.StringVar(&o.settings.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE)")
	pf.StringVar(&o.settings.ContactID, "contact-id", "", "contact ID, in the ID type's format (env CCX_CONTACT_ID)")
	pf.StringVar(&o.contact.FirstName, "first-name", "", "contact first name (contact.firstName)")
	pf.StringVar(&o.contact.LastName, "last-name", "", "contact last name")
	pf.StringVar(&o.contact.Email, "email", "", "contact e-mail")
	pf.StringVar(&o.contact.Phone, "phone", "", "contact phone, E.164")
	pf.StringVar(&o.contact.CountryCode, "country-code", "", "contact country, ISO 3166-1 alpha-2 (MY)")
	pf.StringVar(&o.contact.Language, "language", "", "contact language, ISO 639-1 (en)")
	pf.StringVar(&o.contact.ProfilePic, "profile-pic", "", "contact avatar URL")
	pf.StringVar(&o.contact.Locale, "locale", "", "contact locale, e.g. en_US (undocumented; sent by official tooling)")
	pf.StringVar(&o.timezone, "timezone", "", "contact UTC offset in hours, e.g. 8 (undocumented; sent by official tooling)")
	pf.StringVar(&o.mid, "mid", "", "event mId (default: a fresh UUID; with --count, <mid>-<n>)")
	pf.Int64Var(&o.ts, "timestamp", 0, "event timestamp, UNIX milliseconds (default: now)")
	pf.BoolVar(&o.noValidate, "no-validate", false, "send even if the payload is invalid (to test the platform's reaction)")
	pf.BoolVar(&o.dryRun, "dry-run", false, "print the payload and a runnable curl (token from $CCX_API_TOKEN); send nothing")
	pf.BoolVar(&o.showToken, "show-token", false, "put the API token itself in --dry-run output (the curl, the headers)")
	pf.IntVar(&o.count, "count", 1, "number of requests (bulk/load; each gets its own mId)")
	pf.Float64Var(&o.rate, "rate", channel.RateLimitPerSec, "requests per second, 0 = unlimited")
	pf.IntVar(&o.concurrency, "concurrency", 4, "requests in flight at once (bulk)")
	pf.DurationVar(&o.timeout, "timeout", platform.DefaultTimeout, "timeout per attempt")
	pf.IntVar(&o.retries, "retries", platform.DefaultMaxRetries, "retries on network errors, 429 and 5xx (0 = none)")
	pf.DurationVar(&o.backoff, "retry-backoff", 0, "first retry delay (hidden; tests)")
	_ = pf.MarkHidden("retry-backoff")
	urlFlag(pf, "webhook-url")
	limitFlag(pf, "timestamp", 0, noMax, "0 (now) or UNIX milliseconds, e.g. 1700000000000")
	limitFlag(pf, "count", 1, noMax, "1 or more")
	limitFlag(pf, "rate", 0, math.Inf(1), useRate)
	limitFlag(pf, "concurrency", 1, 1000, "1-1000")
	limitFlag(pf, "timeout", time.Nanosecond, noMax, usePositive)
	limitFlag(pf, "retries", 0, 100, "0-100")
	limitFlag(pf, "retry-backoff", 0, noMax, useNonNeg)
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))

	msgs := MessageCommands("Send", "ccx send", func(c *cobra.Command, m channel.Message) error {
		echo, _ := c.Flags().GetBool("echo")
		return o.runMessage(c, m, echo)
	})
	for _, c := range msgs {
		c.Flags().Bool("echo", false, "send as a message_echo (sent by the business outside the platform) instead of a message")
		c.Long = strings.TrimSpace(c.Long + "\n\nWithout --echo the event is a \"message\" (the contact wrote it); with --echo a\n\"message_echo\" (the business sent it outside the platform).")
	}
	cmd.AddCommand(msgs...)
	cmd.AddCommand(newSendReceiptCmd(o), newSendFileCmd(o))
	return cmd
}

func newSendReceiptCmd(o *sendOptions) *cobra.Command {
	var status, reason string
	cmd := &cobra.Command{
		Use:   "receipt MID --status sent|delivered|read|failed [--reason TEXT]",
		Short: "Send a message_status receipt for a message the platform asked you to send",
		Long: `A receipt (message_status event) reports the fate of a message the platform sent
through your /message endpoint: MID is the mId your server answered with.
Statuses normally move forward sent → delivered → read, or end in failed; give
--reason with failed. Any value may be sent, to test edge cases.`,
		Example: `  ccx send receipt 5f0c6a9e-3a47-4ea4-9a55-63e1f2c5a3b1 --status delivered
  ccx send receipt abc123 --status failed --reason "Number unreachable"`,
		Args: exactArgs(1, "MID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := channel.StatusValue(strings.ToLower(status))
			if status == "" {
				return UsageErrorf(fmt.Errorf("receipt needs --status sent|delivered|read|failed"))
			}
			if !oneOf(v, channel.StatusValues) {
				return UsageErrorf(fmt.Errorf("invalid --status %q: use sent, delivered, read or failed", status))
			}
			if o.mid != "" {
				return UsageErrorf(fmt.Errorf("receipt takes the mId as its argument; drop --mid"))
			}
			return o.wrap(cmd, func(s config.Profile) (*payload.Payload, error) {
				fl, err := o.fields(s)
				if err != nil {
					return nil, err
				}
				return payload.Receipt(fl, args[0], v, reason)
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "sent|delivered|read|failed")
	cmd.Flags().StringVar(&reason, "reason", "", "failure reason (status.message), expected with failed")
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(channel.StatusValues))
	return cmd
}

func newSendFileCmd(o *sendOptions) *cobra.Command {
	var sets, setStrings []string
	cmd := &cobra.Command{
		Use:   "file PAYLOAD.json|- [--set PATH=VALUE ...]",
		Short: "Send any webhook payload from a file or stdin, with overrides by path",
		Long: `Send a whole webhook body from a file ("-" reads stdin). --set PATH=VALUE overrides
a value by path (dots, array indexes as numbers: events.0.message.text=hi). The
value is a JSON literal when it parses as one (42, true, null, {"a":1}, "quoted"),
else a string; --set-string always sets a string. Missing channelId/contactId
are filled from the settings; --channel-id, --contact-id, --mid, --timestamp and
contact flags given explicitly override the file (--mid and --timestamp apply
to every event). With --count, every message/message_echo event gets a fresh
mId per request.`,
		Example: `  ccx send file payload.json
  ccx send file payload.json --set events.0.message.text=hi --set events.0.timestamp=1732435200000
  cat payload.json | ccx send file - --set-string contactId=+60123456789 --dry-run`,
		Args: exactArgs(1, "PAYLOAD.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			edits, err := payload.ParseSets(sets, setStrings)
			if err != nil {
				return err
			}
			data, err := payload.Read(cmd.Context(), args[0], o.f.IO.In)
			if err != nil {
				return readError(cmd.Context(), fmt.Errorf("cannot read payload: %w", err))
			}
			return o.wrap(cmd, func(s config.Profile) (*payload.Payload, error) {
				fl := cmd.Flags()
				p, err := payload.FromFile(args[0], data, payload.FileOptions{
					ChannelID: s.ChannelID, ContactID: s.ContactID, Contact: o.contact, Timezone: o.timezone,
					SetChannel: fl.Changed("channel-id"), SetContact: fl.Changed("contact-id"),
					MID: o.mid, Timestamp: o.ts, Count: o.count, Edits: edits,
				})
				return p, err
			})
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override PATH=VALUE (JSON literal, else string); repeatable")
	cmd.Flags().StringArrayVar(&setStrings, "set-string", nil, "override PATH=VALUE, always as a string; repeatable")
	return cmd
}

func (o *sendOptions) contactFields() (channel.Contact, error) {
	c := o.contact
	tz, err := payload.Timezone(o.timezone)
	c.Timezone = tz
	return c, err
}

// fields are the envelope's values from settings and flags.
func (o *sendOptions) fields(s config.Profile) (payload.Fields, error) {
	if err := requireSetting(s.ChannelID, "channel_id", "channel-id", "channel ID"); err != nil {
		return payload.Fields{}, err
	}
	if err := requireSetting(s.ContactID, "contact_id", "contact-id", "contact ID"); err != nil {
		return payload.Fields{}, err
	}
	contact, err := o.contactFields()
	return payload.Fields{ChannelID: s.ChannelID, ContactID: s.ContactID, Contact: contact, MID: o.mid, Timestamp: o.ts}, err
}

func (o *sendOptions) runMessage(cmd *cobra.Command, m channel.Message, echo bool) error {
	return o.wrap(cmd, func(s config.Profile) (*payload.Payload, error) {
		fl, err := o.fields(s)
		if err != nil {
			return nil, err
		}
		return payload.Message(fl, m, echo)
	})
}
