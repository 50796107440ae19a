package cli

import (
	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config/setup"
	"github.com/ccx-cli/ccx/internal/prompt"
	"github.com/spf13/cobra"
)

type initOptions struct {
	f *Factory
	setup.Options
}

// newInitCmd builds `ccx init`; p is the prompter (nil: survey on the terminal).
func newInitCmd(f *Factory, p prompt.Prompter) *cobra.Command {
	o := &initOptions{f: f, Options: setup.Options{IO: f.IO, Prompter: p}}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Set up a profile: ID type, channel ID, API token, webhook URL",
		Long: `init asks for the values the platform shows when you create a Custom Channel
(Settings → Channels → Add Channel → Custom Channel): the ID type you chose,
the generated Channel ID and API Token, the Webhook URL to post events to, and
your server's API Base URL (the "destination Webhook URL"; the platform calls
<it>/message). A default contact ID for 'ccx send' is optional. Each answer is
checked as you type it. The profile is written to the config file (mode 0600)
and made active.

Flags given on the command line are not asked for. Without a terminal (piped,
or CI set) init never prompts: it takes every value from flags or CCX_*
variables and fails, naming what is missing.`,
		Example: `  ccx init
  ccx init --name staging
  ccx init --id-type phone --channel-id gfd8g7fd89dgfd --token "$CCX_API_TOKEN" \
    --webhook-url https://webhook.respond.io/custom/channel/webhook/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := f.Config()
			if err != nil {
				return Exit(ExitIO, err)
			}
			o.JSON, o.Profile = f.JSON, f.Profile
			return redactErr(setup.Run(file, &o.Options), o.Values.APIToken)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Name, "name", "", "profile name (default: the selected profile, else \"default\")")
	fl.StringVar(&o.Values.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE)")
	fl.StringVar(&o.Values.ChannelID, "channel-id", "", "Channel ID (env CCX_CHANNEL_ID)")
	fl.StringVar(&o.Values.APIToken, "token", "", "API Token (env CCX_API_TOKEN)")
	fl.StringVar(&o.Values.WebhookURL, "webhook-url", "", "IS-Messenger webhook URL (env CCX_WEBHOOK_URL)")
	fl.StringVar(&o.Values.APIBaseURL, "api-base-url", "", "your server's API Base URL (env CCX_API_BASE_URL)")
	fl.StringVar(&o.Values.ContactID, "contact-id", "", "default contact ID for ccx send (env CCX_CONTACT_ID)")
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	return cmd
}
