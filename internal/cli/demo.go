package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/demo"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/spf13/cobra"
)

type demoOptions struct {
	// Relay runs a real relay engine (loopback provider) as the integration
	// server instead of listen's /message handler.
	Relay bool
	// Provider is the relay's adapter: loopback, or a provider played by its
	// emulator (implies Relay).
	Provider string
}

func newDemoCmd(f *Factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	opts := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole Custom Channel loop locally, no account needed",
		Long: `Run the whole Custom Channel loop in one process, on free loopback ports:

  1. start ccx's /message endpoint as a stand-in integration server,
  2. start an emulated IS-Messenger (ccx emulate) pointing at it,
  3. post one of each inbound event and message type to the emulator's webhook,
     as 'ccx send' does (message: text, attachment, location, quick_reply,
     custom_payload; one message_echo),
  4. have the emulator send one of each outgoing type to the server's /message,
  5. post receipts for them (delivered, read, and one failed with a reason),
  6. print the conversation as the emulator's inbox shows it.

With --relay the integration server is a real relay engine (what 'ccx relay'
runs) with the loopback provider and a spool in a temporary directory that
is removed afterwards:

  1. start the relay and an emulated IS-Messenger wired to each other,
  2. the contact writes through the provider webhook
     (POST /providers/loopback/inbound), which the relay delivers,
  3. the emulator sends one of each outgoing type to the relay's /message;
     the loopback provider answers each with sent and delivered receipts and
     the contact's reply, which the relay delivers from its spool,
  4. wait (at most 10s) until the inbox holds every reply and status and the
     spool is empty, then print the conversation.

With --provider NAME (implies --relay) the relay runs that provider's real
adapter against its local fake (` + "`ccx provider list`" + `), hosted by the emulator as
'ccx emulate --provider' does, with the credentials the fake generated: the
customer writes through the fake's signed webhooks, each agent reply goes out
through the provider's API (quick replies as its native buttons or the
documented fallback; a custom_payload not in the provider's format is refused
with a reason), the fake's signed status callbacks come back as receipts, and
the customer answers each. Nothing leaves loopback.

Progress goes to stderr, the inbox to stdout (--json: the final state as one
JSON object; with --relay it adds "relay": what the relay delivered). It reads
and writes no config: nothing of yours is touched. Exit code 0 when every step
worked, 1 (with the failing step) otherwise, 130 when interrupted.`,
		Example: `  ccx demo
  go run ./cmd/ccx demo
  ccx demo --json | jq '.state.messages | length'
  ccx demo --relay
  ccx demo --relay --json | jq .relay
  ccx demo --relay --provider whatsapp
  ccx demo --relay --provider vonage --json | jq .relay`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Provider != "" {
				opts.Provider = strings.ToLower(strings.TrimSpace(opts.Provider))
				if _, err := emulators.Lookup(opts.Provider); err != nil && opts.Provider != "loopback" {
					return UsageErrorf(fmt.Errorf("--provider: %w, or loopback", err))
				}
				opts.Relay = true
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDemo(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Relay, "relay", false, "use a real relay engine (loopback provider, temporary spool) as the integration server")
	cmd.Flags().StringVar(&opts.Provider, "provider", "", "with --relay: the provider adapter, played by its local fake: loopback|"+strings.Join(emulators.Names(), "|")+" (implies --relay)")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(append([]string{"loopback"}, emulators.Names()...)))
	return cmd
}

func runDemo(ctx context.Context, f *Factory, opts *demoOptions) error {
	return demo.Main(ctx, f.IO, f.JSON, opts.Relay, opts.Provider)
}
