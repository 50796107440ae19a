package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

// OutgoingOptions are the flags shared by trigger, replay and check: where
// the integration server is and what the platform would send it.
type OutgoingOptions struct {
	To, Token, ChannelID, ContactID, IDType string
	Timeout                                 time.Duration
	transport                               transportFlags
}

func (o *OutgoingOptions) addFlags(cmd *cobra.Command, persistent bool) {
	fl := cmd.Flags()
	if persistent {
		fl = cmd.PersistentFlags()
	}
	fl.StringVar(&o.Token, "token", "", "API token sent as Bearer (env CCX_API_TOKEN, profile api_token)")
	fl.StringVar(&o.ChannelID, "channel-id", "", "channelId to send (env CCX_CHANNEL_ID, profile channel_id)")
	fl.StringVar(&o.ContactID, "contact-id", "", "contactId to send (env CCX_CONTACT_ID, profile contact_id; default: a sample valid for the ID type)")
	fl.StringVar(&o.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE, profile id_type)")
	fl.DurationVar(&o.Timeout, "timeout", outgoing.DefaultTimeout, "give up on a call after this long")
	limitFlag(fl, "timeout", time.Nanosecond, noMax, usePositive)
	o.transport.add(fl, "your server")
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
}

// resolved is what an outgoing command needs after flags, env and profile.
type resolved struct {
	client    *outgoing.Client
	channelID string
	contactID string // "" when none is configured
	// contactFrom names where contactID came from (for check's banner).
	contactFrom string
	idType      channel.IDType
}

func (o *OutgoingOptions) resolve(f *Factory, needChannel bool) (*resolved, error) {
	flags := config.Profile{APIToken: o.Token, ChannelID: o.ChannelID, IDType: o.IDType, APIBaseURL: o.To, ContactID: o.ContactID}
	s, err := f.Settings(flags)
	if err != nil {
		return nil, err
	}
	if s.APIBaseURL == "" {
		return nil, UsageErrorf(fmt.Errorf("no base URL of your integration server: pass --to (or the BASE_URL argument), set %s, or save it in the profile (ccx config set api_base_url VALUE)", config.EnvVars["api_base_url"]))
	}
	if _, err := outgoing.MessageURL(s.APIBaseURL); err != nil {
		return nil, UsageErrorf(err)
	}
	warnMessageSuffix(f, s.APIBaseURL, "the API base URL")
	if s.APIToken == "" {
		return nil, missingSetting("API token", "token", "api_token")
	}
	if needChannel && s.ChannelID == "" {
		return nil, missingSetting("channel ID", "channel-id", "channel_id")
	}
	if o.Timeout <= 0 {
		return nil, UsageErrorf(fmt.Errorf("invalid --timeout %v", o.Timeout))
	}
	t, err := idTypeOf(s.IDType)
	if err != nil {
		return nil, err
	}
	hc, err := o.transport.options(f, s.APIToken).Client()
	if err != nil {
		return nil, err
	}
	r := &resolved{
		client:    &outgoing.Client{BaseURL: s.APIBaseURL, Token: s.APIToken, Timeout: o.Timeout, HTTP: hc},
		channelID: s.ChannelID, contactID: s.ContactID, idType: t,
	}
	if r.contactID != "" {
		if file, err := f.Config(); err == nil {
			r.contactFrom = map[string]string{"flag": "--contact-id", "env": config.EnvVars["contact_id"], "profile": "the profile"}[file.Source(f.Profile, "contact_id", flags, f.IO.Getenv)]
		}
	}
	return r, nil
}

// warnMessageSuffix says, on stderr, when a base URL ends in /message: ccx
// and the platform append /message, so the calls would miss the route.
func warnMessageSuffix(f *Factory, base, what string) {
	fixed, ok := channel.TrimMessagePath(base)
	if !ok {
		return
	}
	st := f.IO.Styles(f.IO.ErrOut)
	fmt.Fprintf(f.IO.ErrOut, "%s %s %s ends in /message; /message is appended to it, so calls go to %s/message (use %s)\n",
		st.Warning.Render("warning:"), what, base, strings.TrimRight(base, "/"), fixed)
}

// TriggerOptions are the flags of `ccx trigger`.
type TriggerOptions struct {
	OutgoingOptions
	DryRun bool
}

func newTriggerCmd(f *Factory) *cobra.Command {
	o := &TriggerOptions{}
	cmd := &cobra.Command{
		Use:   "trigger TYPE [args] --to BASE_URL",
		Short: "Act as IS-Messenger: send one /message call to your server and judge its reply",
		Long: `trigger sends what the platform sends when an agent, workflow or broadcast writes
to a contact: POST <BASE_URL>/message with "Authorization: Bearer <API token>" and
{"channelId", "contactId", "message"}. It then checks the reply against the contract:
200 must carry a string "mId" of at most 50 characters, 4xx must carry
{"error":{"message": ...}}; anything else is wrong.

--to defaults to the profile's api_base_url (env CCX_API_BASE_URL); the token and
channel ID come from --token/--channel-id, CCX_API_TOKEN/CCX_CHANNEL_ID or the profile.

A base URL ending in /message is warned about: /message is appended to it.

--json prints one object with "verdict", one word a script can trust: ok,
refused (a well-formed 4xx), auth (401/403, whatever the body; the body's
problems are still listed), no-route (404), rate-limited (429), server-error
(5xx), wrong-reply (the reply breaks the contract), timeout or network.
Exit codes: 0 ok; 1 refused, no-route, rate-limited, server-error or
wrong-reply; 3 timeout or network; 4 auth. See 'ccx help exit-codes'.`,
		Example: `  ccx trigger text "Hello from an agent" --to http://127.0.0.1:3030
  ccx trigger attachment https://example.com/cat.jpg --kind image --to http://127.0.0.1:3030
  ccx trigger location 3.139003 101.686855 --address "Kuala Lumpur" --json
  ccx trigger quick-reply "Rate us" --reply Good --reply Bad --dry-run
  ccx trigger text "Hi" --to http://127.0.0.1:3030 -H "X-Env: staging" -v`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp("ccx trigger", errors.New("trigger needs a message type: text, attachment, location, quick-reply or custom-payload"))
		},
	}
	o.addFlags(cmd, true)
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.To, "to", "", "base URL of your integration server; /message is appended (env CCX_API_BASE_URL, profile api_base_url)")
	pf.BoolVar(&o.DryRun, "dry-run", false, "print the request (and an equivalent curl) without sending it")
	urlFlag(pf, "to")
	cmd.AddCommand(MessageCommands("Trigger", "ccx trigger", func(c *cobra.Command, m channel.Message) error {
		return runTrigger(c.Context(), f, o, m)
	})...)
	return cmd
}

func runTrigger(ctx context.Context, f *Factory, o *TriggerOptions, m channel.Message) error {
	r, err := o.resolve(f, false)
	if err != nil {
		return err
	}
	if r.contactID == "" {
		r.contactID = outgoing.SampleContact(r.idType)
	}
	if r.channelID == "" {
		// The platform always sends one; a placeholder keeps quick local tries
		// working against servers that do not check it.
		r.channelID = outgoing.PlaceholderChannel
		fmt.Fprintf(f.IO.ErrOut, "note: no channel ID configured; sending channelId %q (set --channel-id, CCX_CHANNEL_ID or profile key channel_id)\n", r.channelID)
	}
	body := outgoing.Body(r.channelID, r.contactID, m)
	url, _ := outgoing.MessageURL(r.client.BaseURL)
	if o.DryRun {
		return outgoing.PrintDryRun(f.IO.Out, url, body, r.client.Token, f.JSON)
	}
	out, res, err := r.client.Trigger(ctx, url, body)
	if err != nil {
		return UsageErrorf(err)
	}
	code := exitFor(out.Verdict)
	if code == ExitAuth {
		defer authHint(f, "your server refused the token ccx sent")
	}
	if f.JSON {
		if err := ui.WriteJSON(f.IO.Out, out); err != nil {
			return Exit(ExitIO, err)
		}
		return exitSilently(code)
	}
	outgoing.PrintTrigger(f.IO.Out, f.IO.Styles(f.IO.Out), out, res, string(m.Type), listen.RenderMessage(&m))
	return exitSilently(code)
}

func exitSilently(code int) error {
	if code == ExitOK {
		return nil
	}
	return Silent(code)
}
