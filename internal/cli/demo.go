package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/emulator/demo"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

func newDemoCmd(f *Factory, runF func(context.Context) error) *cobra.Command {
	return &cobra.Command{
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

Progress goes to stderr, the inbox to stdout (--json: the final state as one
JSON object). It reads and writes no config: nothing of yours is touched.
Exit code 0 when every step worked, 1 (with the failing step) otherwise.`,
		Example: `  ccx demo
  go run ./cmd/ccx demo
  ccx demo --json | jq '.state.messages | length'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context())
			}
			return runDemo(cmd.Context(), f)
		},
	}
}

func runDemo(ctx context.Context, f *Factory) error {
	st := f.IO.Styles(f.IO.ErrOut)
	progress := func(format string, args ...any) {
		fmt.Fprintln(f.IO.ErrOut, st.Dim.Render(fmt.Sprintf(format, args...)))
	}
	res, err := demo.Run(ctx, demo.Options{Progress: progress})
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "%s %v\n", st.Error.Render("demo failed:"), err)
		switch {
		case ctx.Err() != nil:
			return Silent(ExitInterrupted)
		case isNetworkErr(err):
			return Silent(ExitIO)
		}
		return Silent(ExitFailure)
	}
	if f.JSON {
		return ui.WriteJSON(f.IO.Out, res)
	}
	emulator.WriteInbox(f.IO.Out, res.State, emulator.Conversations(res.State, "", ""), f.IO.Styles(f.IO.Out))
	fmt.Fprintf(f.IO.ErrOut, "%s the loop works: %d messages, %d calls to /message, in %s.\n",
		st.OK.Render("done:"), len(res.State.Messages), res.Calls, res.Elapsed.Round(1e6))
	fmt.Fprintln(f.IO.ErrOut, st.Dim.Render("Next: `ccx emulate` for a long-running emulator, `ccx listen` for your /message endpoint."))
	return nil
}

func isNetworkErr(err error) bool {
	var ne *platform.NetworkError
	return errors.As(err, &ne)
}
