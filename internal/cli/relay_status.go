package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/relay/launch"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
)

func newRelayStatusCmd(f *Factory) *cobra.Command {
	var spool, dir, url string
	timeout := 10 * time.Second
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the relay spool: pending, dead, de-duplication keys, oldest event",
		Long: `Show the state of a relay spool. With --url it asks a running relay's
admin address (its --admin-addr, default http://127.0.0.1:3031) for
/admin/status; otherwise it opens the spool file read-only (which only works
while no relay holds it); --spool-dir reads every channel's spool of a relay
run with --config. A relay of many channels shows a line per channel and the
totals. --json prints one JSON object (with "verdict", see
'ccx help exit-codes'). Contact ids are redacted (+…890).

Exit status: 0, or 1 when events wait in the dead bucket, unreadable events
are quarantined in the bad bucket, or the relay answered something other than
its status (4xx, 5xx, an HTML page: verdicts refused, no-route, rate-limited,
server-error, wrong-reply); 3 when the spool cannot be read (a damaged spool
file: see 'ccx relay spool check|salvage') or the relay does not answer within
--timeout; 4 when it answered 401/403.`,
		Example: `  ccx relay status --spool ccx-relay.db
  ccx relay status --spool-dir ccx-relay-spool
  ccx relay status --url http://127.0.0.1:3031 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var st relay.MultiStats
			var err error
			v := verdict.OK
			if url != "" {
				st, v, err = launch.FetchStatus(cmd.Context(), url, timeout)
				if err != nil {
					if f.JSON {
						_ = ui.WriteJSON(f.IO.Out, map[string]any{"url": url, "verdict": v, "error": err.Error()})
					}
					return Exit(exitFor(v), err)
				}
			} else if dir != "" {
				if st, err = launch.ReadSpoolDir(dir); err != nil {
					return Exit(ExitIO, err)
				}
			} else {
				if _, serr := os.Stat(spool); serr != nil {
					return Exit(ExitIO, fmt.Errorf("spool %s: %w", spool, serr))
				}
				if st.Stats, err = relay.ReadStats(spool); err != nil {
					return Exit(ExitIO, err)
				}
			}
			st = st.Redacted()
			if f.JSON {
				_ = ui.WriteJSON(f.IO.Out, struct {
					relay.MultiStats
					Verdict verdict.Verdict `json:"verdict"`
				}{st, v})
			} else {
				relay.WriteMultiStats(ui.WrapLines(f.IO.Out, f.IO.Width(), 12), st)
			}
			if st.Dead > 0 || st.Bad > 0 {
				return Silent(ExitFailure)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spool, "spool", "ccx-relay.db", "spool file to read (when no relay is running)")
	cmd.Flags().StringVar(&dir, "spool-dir", "", "a many-channel relay's --spool-dir: every channel's spool (when no relay is running)")
	cmd.Flags().StringVar(&url, "url", "", "a running relay's admin URL (its --admin-addr, default http://"+defaultAdminAddr+"; asks /admin/status)")
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "with --url: give up on the relay after this long")
	limitFlag(cmd.Flags(), "timeout", time.Nanosecond, noMax, usePositive)
	urlFlag(cmd.Flags(), "url")
	return cmd
}
