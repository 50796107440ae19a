package cli

import (
	"fmt"

	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/emulator/remote"
	"github.com/spf13/cobra"
)

func newEmulateInboxCmd(f *Factory) *cobra.Command {
	var emuURL, statePath, contact, channelID string
	var follow bool
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "Print the emulator's conversations",
		Long: `Print every conversation the emulator holds, as an inbox shows it: one block
per contact, one line per message (← from the contact, → to the contact) with
its current status and status timeline, then the warnings. It reads a running
emulator, or with --state the file a stopped one left. --json prints the
conversations and warnings as one JSON object.

--follow streams new messages and status changes as they arrive (the
emulator's event stream), one line each, or with --json one event per line
(NDJSON), until Ctrl-C (exit 130) or the emulator stops (exit 3).`,
		Example: `  ccx emulate inbox
  ccx emulate inbox --contact +60177872890 --json
  ccx emulate inbox --state emulator.json
  ccx emulate inbox --follow --json | jq -c '{kind, contactId, text: .message.message.text}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if statePath != "" && emuURL != "" {
				return UsageErrorf(fmt.Errorf("--state and --emulator are exclusive: read a file or a running emulator"))
			}
			if follow {
				if statePath != "" {
					return UsageErrorf(fmt.Errorf("--follow reads a running emulator, not --state"))
				}
				return remote.Follow(cmd.Context(), f.IO, f.JSON, emulatorURL(f, emuURL), channelID, contact)
			}
			var st emulator.State
			var err error
			if statePath != "" {
				if st, err = emulator.LoadState(statePath); err != nil {
					return Exit(ExitIO, err)
				}
			} else {
				if st, err = remote.Client(emulatorURL(f, emuURL)).Inbox(cmd.Context(), channelID, contact); err != nil {
					return remote.Error(err)
				}
			}
			return remote.PrintInbox(f.IO, f.JSON, st, channelID, contact)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&emuURL, "emulator", "", "URL of the running emulator (env "+EnvEmulatorURL+"; default: the 'local' profile, else "+emulator.DefaultURL+")")
	fl.StringVar(&statePath, "state", "", "read a state file instead of a running emulator")
	fl.StringVar(&contact, "contact", "", "only this contact's conversation")
	fl.StringVar(&channelID, "channel", "", "only this channel's conversations")
	fl.BoolVarP(&follow, "follow", "f", false, "stream new messages as they arrive, until Ctrl-C")
	urlFlag(fl, "emulator")
	return cmd
}
