package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Main runs the demo (RunRelay with relay, else Run) with its progress on
// io.ErrOut, then prints the inbox it ended with (JSON with asJSON) and
// what to try next.
func Main(ctx context.Context, io *ui.IOStreams, asJSON, relay bool, provider string) error {
	st := io.Styles(io.ErrOut)
	progress := func(format string, args ...any) {
		fmt.Fprintln(io.ErrOut, st.Dim.Render(fmt.Sprintf(format, args...)))
	}
	run := Run
	if relay {
		run = RunRelay
	}
	res, err := run(ctx, Options{Progress: progress, Provider: provider})
	if err != nil {
		fmt.Fprintf(io.ErrOut, "%s %v\n", st.Error.Render("demo failed:"), err)
		switch {
		case ctx.Err() != nil:
			return fault.Silent(fault.Interrupted)
		case isNetworkErr(err):
			return fault.Silent(fault.IO)
		}
		return fault.Silent(fault.Failure)
	}
	if asJSON {
		return ui.WriteJSON(io.Out, res)
	}
	emulator.WriteInbox(io.Out, res.State, emulator.Conversations(res.State, "", ""), io.Styles(io.Out))
	if res.Relay != nil {
		fmt.Fprintf(io.ErrOut, "%s the loop works through the relay: %s, %s to /message, %s delivered from the spool, in %s.\n",
			st.OK.Render("done:"), ui.Plural(len(res.State.Messages), "message"), ui.Plural(res.Calls, "call"), ui.Plural(int(res.Relay.Delivered), "webhook post"), res.Elapsed.Round(1e6))
		if p := res.Relay.Provider; p != "loopback" {
			fmt.Fprintln(io.ErrOut, st.Dim.Render(fmt.Sprintf("Next: `ccx emulate --provider %s` and `ccx relay --provider %s --credentials <the env file it writes>` run the same pair as long-lived servers.", p, p)))
			return nil
		}
		fmt.Fprintln(io.ErrOut, st.Dim.Render("Next: `ccx emulate` and `ccx relay --provider loopback --local` run the same pair as long-lived servers."))
		return nil
	}
	fmt.Fprintf(io.ErrOut, "%s the loop works: %s, %s to /message, in %s.\n",
		st.OK.Render("done:"), ui.Plural(len(res.State.Messages), "message"), ui.Plural(res.Calls, "call"), res.Elapsed.Round(1e6))
	fmt.Fprintln(io.ErrOut, st.Dim.Render("Next: `ccx emulate` for a long-running emulator, `ccx listen` for your /message endpoint."))
	return nil
}

func isNetworkErr(err error) bool {
	var ne *platform.NetworkError
	return errors.As(err, &ne)
}
