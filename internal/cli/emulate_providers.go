package cli

import (
	"context"
	"errors"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/emulator/remote"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/spf13/cobra"
)

// EnvProviderBaseURL is where `ccx relay` takes a provider fake's API base URL from.
const EnvProviderBaseURL = config.EnvProviderBaseURL

func newEmulateCustomerCmd(f *Factory) *cobra.Command {
	var emuURL, prov, from string
	cmd := &cobra.Command{
		Use:   "customer TYPE [ARGS]",
		Short: "Write to your server as a customer, through a running emulator's provider fake",
		Long: `Make a running 'ccx emulate --provider NAME' play a customer: the provider fake
builds its webhook for the message (signed as the provider signs) and the
emulator posts it to your server's provider webhook URL, exactly as the phone
pane of the web inbox does. The platform event your server then posts is tied
to it in the request log (its flow). What a customer can send depends on the
provider: Twilio SMS carries text and media (a location only from a WhatsApp
sender), Telegram text, photos and files, and locations.

stdout is the flow id (GET /_emulator/flows/ID shows every hop); --json prints
the phone message with your server's answer. Without --provider the
emulator's only provider is used; without --from the provider's sample
customer (+60177872890 for Twilio). Exit codes: 0 your server took it (2xx),
1 it refused it (or the message is not one a customer can send), 3 emulator or
server unreachable, 4 your server answered 401/403 (a signature it did not
accept).`,
		Example: `  ccx emulate customer text "Hi, where is my order?"
  ccx emulate customer text "hello" --from +60123456789 --provider twilio
  ccx emulate customer attachment https://example.com/photo.jpg --kind image --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp(cmd.CommandPath(), errors.New("name a message type: text, attachment or location"))
		},
	}
	cmd.PersistentFlags().StringVar(&emuURL, "emulator", "", "URL of the running emulator (env "+EnvEmulatorURL+"; default: the 'local' profile, else "+emulator.DefaultURL+")")
	cmd.PersistentFlags().StringVar(&prov, "provider", "", "provider to write through (default: the emulator's only one)")
	cmd.PersistentFlags().StringVar(&from, "from", "", "the customer, as a contact ID (default: the provider's sample customer)")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(emulators.Names()))
	for _, sub := range MessageCommands("Write", "ccx emulate customer", func(cmd *cobra.Command, m channel.Message) error {
		return runEmulateCustomer(cmd.Context(), f, emulatorURL(f, emuURL), prov, from, m)
	}) {
		if n := sub.Name(); n == "text" || n == "attachment" || n == "location" {
			cmd.AddCommand(sub)
		}
	}
	return cmd
}

func runEmulateCustomer(ctx context.Context, f *Factory, base, prov, from string, m channel.Message) error {
	return remote.Customer(ctx, f.IO, f.JSON, base, prov, from, m)
}
