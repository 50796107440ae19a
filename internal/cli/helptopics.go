package cli

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
)

// helpTopics are `ccx help <topic>` pages that are not commands.
var helpTopics = map[string]struct{ short, long string }{
	"exit-codes": {
		short: "Exit codes ccx returns, for scripts",
		long:  exitCodesHelp(),
	},
	"environment": {
		short: "Environment variables ccx reads",
		long:  config.EnvironmentHelp,
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

// answerMatrix says what each kind of network command reports when the
// remote answers one way. The exit-code test drives every command against
// every row and holds it to this table.
var answerMatrix = []struct {
	Answer                  string
	Message, Check, Webhook verdict.Verdict
}{
	{"200 with a valid body", verdict.OK, verdict.Failed, verdict.OK},
	{"400 with error.message", verdict.Refused, verdict.Failed, verdict.Refused},
	{"401 with error.message", verdict.Auth, verdict.Auth, verdict.Auth},
	{"403 with any body", verdict.Auth, verdict.Auth, verdict.Auth},
	{"404 Not Found", verdict.NoRoute, verdict.NoRoute, verdict.NoRoute},
	{"429 Too Many Requests", verdict.RateLimited, verdict.RateLimited, verdict.RateLimited},
	{"500", verdict.ServerError, verdict.Failed, verdict.ServerError},
	{"200 with an HTML page", verdict.WrongReply, verdict.Failed, verdict.WrongReply},
	{"no answer within --timeout", verdict.Timeout, verdict.Timeout, verdict.Timeout},
	{"connection refused", verdict.Network, verdict.Network, verdict.Network},
}

func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("ccx's exit codes are a contract; scripts and CI can branch on them.\n\n")
	for _, c := range exitCodes {
		fmt.Fprintf(&b, "  %-4d %s\n", c.Code, c.Meaning)
	}
	b.WriteString("\nNetwork commands also say how a call went in --json as \"verdict\", one word\nfrom this list, each with its exit code:\n\n")
	for _, e := range verdict.All {
		fmt.Fprintf(&b, "  %-13s %-4d %s\n", e.Verdict, exitFor(e.Verdict), e.Meaning)
	}
	b.WriteString("\nWhat each command reports when the remote answers every call one way:\n\n")
	cell := func(v verdict.Verdict) string { return fmt.Sprintf("%s (%d)", v, exitFor(v)) }
	fmt.Fprintf(&b, "  %-27s %-17s %-17s %s\n", "remote answer", "/message calls¹", "check²", "webhook and API³")
	for _, r := range answerMatrix {
		fmt.Fprintf(&b, "  %-27s %-17s %-17s %s\n", r.Answer, cell(r.Message), cell(r.Check), cell(r.Webhook))
	}
	b.WriteString(`
  ¹ trigger, replay, emulate send, listen --forward-to (the verdict of each call)
  ² check: the run's verdict; a server that accepts everything fails the auth checks
  ³ send, provider send, relay status --url

Servers (listen, emulate, relay) stopped with SIGINT/SIGTERM shut down gracefully and exit 0.`)
	return b.String()
}
