package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

func newRelaySpoolCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spool",
		Short: "Check a relay spool file for damage, or salvage what is readable into a new one",
		Long: `Inspect and repair the relay's spool file (bbolt) while no relay holds it.

'ccx relay' refuses a spool whose pages are damaged (exit 3) rather than
risk a crash or a wrong delivery, and names these commands as the way out:
'check' says what is wrong; 'salvage' copies every readable record to a
new spool file, which the relay is then started on.`,
		Example: `  ccx relay spool check --spool ccx-relay.db
  ccx relay spool salvage --spool ccx-relay.db --to ccx-relay.salvaged.db`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRelaySpoolCheckCmd(f), newRelaySpoolSalvageCmd(f))
	return cmd
}

func newRelaySpoolCheckCmd(f *Factory) *cobra.Command {
	var spool string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check a spool file for damage without changing it",
		Long: `Read a spool file with ccx's own bounds-checked reader (not bbolt, which
trusts its file) and report:

  problems   damage the relay refuses to open: a bad page, a broken tree,
             a missing bucket. 'ccx relay spool salvage' recovers the rest.
  warnings   damage the relay survives: a damaged meta page (bbolt uses the
             other one), queued events that cannot be read (the relay moves
             them to the bad bucket and delivers the rest), a queue sequence
             behind its keys (repaired at start), quarantined events.

It also counts queued, in-flight, dead and quarantined events. The file is
opened read-only and must not be held by a running relay. --json prints one
object (ok, opens, problems, warnings, counts).

Exit status: 0 nothing found; 1 damage found (problems or warnings); 3 the
file cannot be read (missing, no permission, held by a running relay).`,
		Example: `  ccx relay spool check --spool ccx-relay.db
  ccx relay spool check --spool ccx-relay.db --json | jq .problems`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := relay.CheckSpool(spool)
			if err != nil {
				return Exit(ExitIO, err)
			}
			if f.JSON {
				_ = ui.WriteJSON(f.IO.Out, rep)
			} else {
				relay.WriteCheck(ui.WrapLines(f.IO.Out, f.IO.Width(), 12), rep)
			}
			if !rep.OK {
				return Silent(ExitFailure)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spool, "spool", "ccx-relay.db", "spool file to check")
	return cmd
}

func newRelaySpoolSalvageCmd(f *Factory) *cobra.Command {
	var spool, to string
	var force bool
	cmd := &cobra.Command{
		Use:   "salvage",
		Short: "Copy every readable record of a spool into a new spool file",
		Long: `Copy every record that can still be read from a (damaged) spool file into a
new spool file (mode 0600), reading the old file with ccx's own bounds-checked
reader so that no damage can stop it. The old file is never changed.

What is copied: queued events (with their in-flight marks), dead and
quarantined events, de-duplication keys, sent mIds, counters and the media
signing key. Queued entries that cannot be read go to the new spool's bad
bucket. When the newest tree is damaged, the previous transaction's tree
and the pages the tree no longer reaches are searched for the events the
damage cut off (only checksummed records); the latter can bring back an
older copy of an event delivered since, which is then posted again with
the same mId. The report counts each source.

Then stop using the old file: start the relay with --spool pointing at the
new one (keep the old one until it has drained).

--to must not exist unless --force is given. --json prints the report.

Exit status: 0 copied, no damage met; 1 copied, but damage was met (the
report says where: events on those pages may be missing), or nothing was
readable; 2 --to exists (no --force) or is the spool itself; 3 the spool
cannot be read or the new file cannot be written.`,
		Example: `  ccx relay spool salvage --spool ccx-relay.db --to ccx-relay.salvaged.db
  ccx relay spool salvage --spool ccx-relay.db --to relay.db --force --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return UsageErrorf(errors.New("--to NEW.db is required: the file to write the readable records to"))
			}
			if _, err := os.Stat(spool); err != nil {
				return Exit(ExitIO, fmt.Errorf("spool %s: %w", spool, err))
			}
			rep, err := relay.Salvage(spool, to, force)
			switch {
			case errors.Is(err, relay.ErrExists), errors.Is(err, relay.ErrSameFile):
				return UsageErrorf(err)
			case errors.Is(err, relay.ErrNothingReadable):
				if f.JSON {
					_ = ui.WriteJSON(f.IO.Out, rep)
				}
				return Exit(ExitFailure, err)
			case err != nil:
				return Exit(ExitIO, err)
			}
			if f.JSON {
				_ = ui.WriteJSON(f.IO.Out, rep)
			} else {
				relay.WriteSalvage(ui.WrapLines(f.IO.Out, f.IO.Width(), 12), rep)
			}
			if len(rep.Problems) > 0 {
				return Silent(ExitFailure)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spool, "spool", "ccx-relay.db", "spool file to read (never changed)")
	cmd.Flags().StringVar(&to, "to", "", "new spool file to write (required)")
	cmd.Flags().BoolVar(&force, "force", false, "replace --to if it exists")
	return cmd
}
