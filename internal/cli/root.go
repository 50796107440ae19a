// Package cli is ccx's command tree: one file per command, each turning flags
// into an options struct and calling a run function. No business logic here.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ccx-cli/ccx/internal/build"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

// NewRootCmd builds the whole command tree around f.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "ccx",
		Short: "Build, test and run IS-Messenger Custom Channel integration servers",
		Long: `ccx helps you build custom integration servers for the IS-Messenger Custom Channel.

It sends webhook events to the platform, validates payloads and IDs, receives and
judges the platform's outgoing /message calls, emulates IS-Messenger locally, and
relays between IS-Messenger and messaging providers.`,
		Example: `  ccx demo
  ccx send text "Hello World" --dry-run
  ccx trigger text "Hi" --to http://127.0.0.1:3030
  ccx help exit-codes`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if f.NoColor {
				f.IO.SetColorEnabled(false)
			}
			if err := checkFlagBounds(cmd); err != nil {
				return err
			}
			if f.Profile == LocalProfile && waitsForLocal(cmd) {
				f.waitForLocal(cmd.Context())
			}
			return nil
		},
	}
	root.SetVersionTemplate("ccx {{.Version}}\n")
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageHelp(c.CommandPath(), err)
	})

	pf := root.PersistentFlags()
	pf.BoolVar(&f.JSON, "json", false, "machine-readable JSON output on stdout")
	pf.BoolVar(&f.NoColor, "no-color", false, "disable colour (also NO_COLOR=1 or CLICOLOR=0)")
	pf.StringVar(&f.Profile, "profile", "", "config profile to use (env CCX_PROFILE)")
	pf.BoolVarP(&f.Verbose, "verbose", "v", false, "show each HTTP request and response head, and each retry, on stderr (tokens redacted)")
	_ = root.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		file, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return file.Names(), cobra.ShellCompDirectiveNoFileComp
	})
	addLocalFlag(pf, f)

	root.AddCommand(
		newVersionCmd(f),
		newValidateCmd(f, nil), newSchemaCmd(f),
		newSendCmd(f), newConfigCmd(f), newInitCmd(f, nil),
		newListenCmd(f), newTriggerCmd(f), newReplayCmd(f), newCheckCmd(f),
		newEmulateCmd(f, nil), newDemoCmd(f, nil),
		newRelayCmd(f, nil), newProviderCmd(f),
	)
	// Commands that reach the emulator (or what it calls) through --local.
	for _, c := range root.Commands() {
		switch c.Name() {
		case "send", "listen", "trigger", "replay", "check", "relay":
			markWaitsForLocal(c)
		}
	}
	addHelpTopics(root)
	// Built now rather than at Execute so the reference and man pages include it.
	root.InitDefaultCompletionCmd()
	tuneCompletionCmd(root)
	return root
}

func versionString() string {
	v := build.Version
	if build.Commit != "" {
		v += " (" + build.Commit
		if build.Date != "" {
			v += ", " + build.Date
		}
		v += ")"
	}
	return v
}

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print ccx's version",
		Long: `Print ccx's version, and the commit and build date when the binary is a release
build (set at link time). --json prints {"version","commit","date"}.`,
		Example: "  ccx version\n  ccx version --json\n  ccx --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.JSON {
				return ui.WriteJSON(f.IO.Out, map[string]string{"version": build.Version, "commit": build.Commit, "date": build.Date})
			}
			_, err := fmt.Fprintf(f.IO.Out, "ccx %s\n", versionString())
			return err
		},
	}
}

// Run executes the command tree with args and returns the exit code. Errors
// go to stderr, located and with a hint where one helps. A panic is a bug:
// it is reported briefly and exits ExitInternal (70), not Go's 2, which
// scripts would read as a usage error.
func Run(ctx context.Context, f *Factory, args []string) (code int) {
	defer func() {
		if v := recover(); v != nil {
			code = reportPanic(f, args, v)
		}
	}()
	if PanicEnv != "" && f.IO.Getenv(PanicEnv) != "" {
		panic("deliberate panic (" + PanicEnv + "); token " + f.IO.Getenv(config.EnvVars["api_token"]))
	}
	root := NewRootCmd(f)
	root.SetArgs(protectNegativeNumbers(root, args))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	err = withSuggestions(root, err)
	code = exitCode(err)
	if ctx.Err() != nil && code != ExitOK && !isExitError(err) {
		code = ExitInterrupted
	}
	msg := err.Error()
	if code == ExitInterrupted && errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	if msg != "" {
		if noColorArg(args) { // errors before flag parsing (unknown command) still honour it
			f.IO.SetColorEnabled(false)
		}
		st := f.IO.Styles(f.IO.ErrOut)
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", st.Error.Render("error:"), msg)
	}
	return code
}

func isExitError(err error) bool {
	var ee *ExitError
	_, tagged := fault.KindOf(err)
	return errors.As(err, &ee) || tagged
}

// Main runs ccx as a process: system streams, signal-aware context.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &Factory{IO: ui.System()}
	return Run(ctx, f, os.Args[1:])
}
