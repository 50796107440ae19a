package cli

import (
	"context"
	"math"

	"github.com/ccx-cli/ccx/internal/replay"
	"github.com/spf13/cobra"
)

// ReplayOptions are the flags of `ccx replay`.
type ReplayOptions struct {
	OutgoingOptions
	Rate float64
}

func newReplayCmd(f *Factory) *cobra.Command {
	o := &ReplayOptions{}
	cmd := &cobra.Command{
		Use:   "replay FILE --to BASE_URL",
		Short: "Re-send recorded /message calls to your server and judge each reply",
		Long: `replay reads calls recorded by 'ccx listen --record FILE' (or its --json output;
FILE may be - for stdin) and sends each one again to <BASE_URL>/message: the same
body byte-for-byte and the same headers, re-signed with the configured token
(records only hold a redacted one). Other credential headers (Cookie, X-Api-Key
and the like, redacted in records) are not sent; where the record shows the
configured token redacted in the body, the token is put back. Each reply is
checked like 'ccx trigger' does and a summary ends the run. Calls are paced at --rate per second (the platform's
documented limit is 20).

Each reply gets trigger's verdict (--json "verdict"). A reply passes when it is
ok and, where the record says how the server answered with the right token, in
the same status class (2xx/4xx/5xx) as recorded. The summary counts valid
replies, refusals, auth refusals, wrong replies and network errors apart.

Exit codes: 0 every reply passed; 1 a reply was refused, wrong, or in another
status class than recorded; 2 bad FILE content; 3 FILE unreadable or a network
error/timeout; 4 a reply was an auth refusal (401/403).`,
		Example: `  ccx listen --record calls.ndjson      # then make the platform (or ccx trigger) call it
  ccx replay calls.ndjson --to http://127.0.0.1:8080
  ccx replay calls.ndjson --json | jq .status
  ccx replay calls.ndjson --to http://127.0.0.1:8080 -H "X-Env: staging" --timeout 3s`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), f, o, args[0])
		},
	}
	o.addFlags(cmd, false)
	cmd.Flags().StringVar(&o.To, "to", "", "base URL of your integration server; /message is appended (env CCX_API_BASE_URL, profile api_base_url)")
	cmd.Flags().Float64Var(&o.Rate, "rate", 20, "most calls per second (0: no limit)")
	urlFlag(cmd.Flags(), "to")
	limitFlag(cmd.Flags(), "rate", 0, math.Inf(1), useRate)
	_ = cmd.Flags().MarkHidden("contact-id")
	_ = cmd.Flags().MarkHidden("id-type")
	return cmd
}

func runReplay(ctx context.Context, f *Factory, o *ReplayOptions, path string) error {
	r, err := o.resolve(f, false)
	if err != nil {
		return err
	}
	calls, err := replay.Read(ctx, path, f.IO.In)
	if err != nil {
		return err
	}
	t, err := replay.Run(ctx, replay.Options{Client: r.client, Rate: o.Rate, IO: f.IO, JSON: f.JSON}, calls)
	if err != nil {
		return err
	}
	// A reply passes when it is valid and in the recorded status class;
	// network errors win, then auth refusals, then any other failure.
	switch {
	case t.Interrupted:
		return Silent(ExitInterrupted)
	case t.NetErr > 0:
		return Silent(ExitIO)
	case t.Auth > 0:
		return Silent(ExitAuth)
	case t.Refused > 0 || t.Wrong > 0 || t.Changed > 0:
		return Silent(ExitFailure)
	}
	return nil
}
