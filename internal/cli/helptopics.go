package cli

import "github.com/spf13/cobra"

// helpTopics are `ccx help <topic>` pages that are not commands.
var helpTopics = map[string]struct{ short, long string }{
	"exit-codes": {
		short: "Exit codes ccx returns, for scripts",
		long: `ccx's exit codes are a contract; scripts and CI can branch on them.

  0    success
  1    the check or request failed: invalid payload, remote 4xx/5xx, a failed conformance check
  2    usage error: unknown command, bad flag or argument, missing required setting
  3    network or file I/O error: unreachable host, timeout, unreadable file
  4    authentication rejected: the remote answered 401 or 403
  70   internal error: a bug in ccx (please report it with the short report printed)
  130  interrupted by SIGINT or SIGTERM

Servers (listen, emulate, relay) stopped with SIGINT/SIGTERM shut down gracefully and exit 0.`,
	},
	"environment": {
		short: "Environment variables ccx reads",
		long: `Settings come from flags first, then these variables, then the active profile.

  CCX_PROFILE        profile to use (like --profile)
  CCX_CONFIG         config file path (default: <user config dir>/ccx/config.toml)
  CCX_WEBHOOK_URL    the channel's IS-Messenger webhook URL
  CCX_CHANNEL_ID     the channel ID
  CCX_API_TOKEN      the channel's API token (Bearer secret; never printed)
  CCX_ID_TYPE        contact ID type: phone or custom
  CCX_API_BASE_URL   your integration server's base URL (the platform calls <base>/message)
  CCX_NO_PROMPT      never prompt (also implied by CI)

Terminal manners:

  NO_COLOR           any value turns colour off
  CLICOLOR=0         turns colour off
  CLICOLOR_FORCE=1   colour even when output is not a terminal
  CI                 set in CI: ccx never prompts`,
	},
}

// addHelpTopics registers the topics as additional help commands.
func addHelpTopics(root *cobra.Command) {
	for name, t := range helpTopics {
		// Not runnable and without subcommands, so cobra lists them under
		// "Additional help topics" and `ccx help NAME` prints them.
		root.AddCommand(&cobra.Command{
			Use:   name,
			Short: t.short,
			Long:  t.long,
		})
	}
}
