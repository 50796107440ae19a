package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/e2e"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
)

// CheckOptions are the flags of `ccx check`.
type CheckOptions struct {
	OutgoingOptions
	Only, Skip []string
	E2E        E2EOptions
}

func newCheckCmd(f *Factory) *cobra.Command {
	o := &CheckOptions{}
	var list strings.Builder
	for _, c := range conformance.Checks {
		fmt.Fprintf(&list, "  %-17s %s\n", c.ID, c.Title)
	}
	cmd := &cobra.Command{
		Use:   "check [BASE_URL]",
		Short: "Run a conformance suite against your integration server (--e2e: the whole loop through a provider fake)",
		Long: `check calls <BASE_URL>/message the way IS-Messenger does, plus the ways an
attacker or a broken platform might, and judges every answer:

` + list.String() + `
Accepting a missing or wrong token, or the right token under a wrong scheme
(a server comparing authorization.substring(7), or looking for the token
anywhere in the header), is a security failure; "bearer" in lower case must be
accepted. Bodies without message, message.type or contactId must get a 4xx with
{"error":{"message"}}, not a 5xx or an HTML page.

Every call must answer within --timeout (default 10s): a hang is a failure,
never a frozen ccx. Calls run a few at a time. A 429 is rate limiting, never an
auth problem: the check is not judged (WARN) and the run says so. When every
call answered 404, one hint at the top shows the URL called (<base>/message
does not exist: the base URL is probably wrong, often ".../message" doubled);
when every call with the configured token is refused, one hint says the token
is probably wrong.

BASE_URL defaults to the profile's api_base_url (CCX_API_BASE_URL); the token
and channel ID come from flags, CCX_API_TOKEN/CCX_CHANNEL_ID or the profile
(without a channel ID, channel-mismatch is skipped). The contact comes from
--contact-id, CCX_CONTACT_ID or the profile's contact_id; without one, check
sends to the fictional +15555550100 (ccx_check_test_contact for Custom ID
channels), so a server wired to a real provider texts nobody real. The contact
used is printed on stderr.

With --e2e --provider NAME, check runs the platform fake and that provider's fake
and drives your server through the whole loop instead (see 'End to end' below).

Output: a table of checks with pass/fail/warn and the evidence, or with --json one
object {url, contactId, verdict, hints[], checks[], passed, failed, warned, skipped}.
The run's verdict: ok, failed, auth (every call with the token refused),
no-route (every call 404), rate-limited, timeout (no call answered in time) or
network (nothing reachable).
Exit codes: 0 ok (warnings allowed); 1 failed, no-route or rate-limited; 2 bad
flags or settings; 3 timeout or network (or, with --e2e, a fake's port is busy);
4 auth. See 'ccx help exit-codes'.
` + e2eHelp(),
		Example: `  ccx check http://127.0.0.1:8080
  ccx check http://127.0.0.1:8080 --only auth-missing,auth-wrong,auth-scheme
  ccx check http://127.0.0.1:8080 --contact-id +60123456789
  ccx check --skip custom-payload --timeout 3s --json
  ccx check http://127.0.0.1:8080 --cacert ca.pem -H "X-Env: staging"
  ccx check --e2e --provider twilio --credentials twilio.env http://127.0.0.1:3030
  ccx check --e2e --provider twilio --credentials twilio.env --only in-text,out-text,receipt-delivered --json
  ccx check --e2e --provider twilio --credentials twilio.env --provider-webhook http://127.0.0.1:3030/twilio/sms --timeout 3s`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return UsageErrorf(fmt.Errorf("check takes at most one argument: BASE_URL (got %d)", len(args)))
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.To = args[0]
			}
			if o.E2E.Enabled {
				return runCheckE2E(cmd.Context(), f, o)
			}
			if err := o.E2E.notWithout(cmd); err != nil {
				return err
			}
			return runCheck(cmd.Context(), f, o)
		},
	}
	o.addFlags(cmd, false)
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Only, "only", nil, "run only these checks (comma-separated ids)")
	fl.StringSliceVar(&o.Skip, "skip", nil, "skip these checks (comma-separated ids)")
	o.E2E.addFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("only", checkIDCompletion)
	_ = cmd.RegisterFlagCompletionFunc("skip", checkIDCompletion)
	return cmd
}

// checkIDCompletion completes the ids of the suite --e2e selects.
func checkIDCompletion(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ids := conformance.IDs()
	if on, _ := cmd.Flags().GetBool("e2e"); on {
		ids = e2e.IDs()
	}
	return listCompletion(ids)(cmd, args, toComplete)
}

func runCheck(ctx context.Context, f *Factory, o *CheckOptions) error {
	if err := conformance.Select(o.Only, o.Skip); err != nil {
		return UsageErrorf(err)
	}
	r, err := o.resolve(f, false)
	if err != nil {
		return err
	}
	conformance.PrintBanner(f.IO.ErrOut, r.client.BaseURL, r.client.Timeout, r.contactID, r.contactFrom, r.idType)
	rep, err := conformance.Run(ctx, conformance.Options{Client: r.client, ChannelID: r.channelID, ContactID: r.contactID,
		IDType: r.idType, Only: o.Only, Skip: o.Skip})
	if err != nil {
		return UsageErrorf(err)
	}
	if ctx.Err() != nil {
		return Silent(ExitInterrupted)
	}
	conformance.PrintHints(f.IO.ErrOut, f.IO.Styles(f.IO.ErrOut), rep)
	if rep.Verdict == verdict.Auth {
		authHint(f, "your server refused the configured token")
	}
	if f.JSON {
		if err := ui.WriteJSON(f.IO.Out, rep); err != nil {
			return Exit(ExitIO, err)
		}
	} else {
		conformance.PrintTable(f.IO.Out, f.IO.Styles(f.IO.Out), f.IO.Width(), rep.Results, rep.Passed, rep.Failed, rep.Warned, rep.Skipped)
	}
	if rep.Verdict == verdict.Network {
		fmt.Fprintf(f.IO.ErrOut, "cannot reach %s: %s\n", rep.URL, rep.FirstError())
	}
	return exitSilently(exitFor(rep.Verdict))
}
