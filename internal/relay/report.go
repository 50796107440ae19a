package relay

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ccx-cli/ccx/internal/ui"
)

// WriteStats prints a spool's state for a reader.
func WriteStats(w io.Writer, st Stats) {
	fmt.Fprintf(w, "spool       %s\n", st.Path)
	fmt.Fprintf(w, "pending     %d (%d bytes)\n", st.Depth, st.Bytes)
	fmt.Fprintf(w, "delivered   %d\n", st.Delivered)
	fmt.Fprintf(w, "dead        %d\n", st.Dead)
	fmt.Fprintf(w, "bad         %d\n", st.Bad)
	fmt.Fprintf(w, "in flight   %d (%d posted again after restarts)\n", st.InFlight, st.Redelivered)
	fmt.Fprintf(w, "dedupe keys %d\n", st.DedupeKeys)
	fmt.Fprintf(w, "sent mIds   %d\n", st.SentMIDs)
	if st.Oldest != nil {
		fmt.Fprintf(w, "oldest      %s %s for %s, %s old, %s\n", st.Oldest.Kind, st.Oldest.MID,
			st.Oldest.ContactID, (time.Duration(st.OldestAgeMS) * time.Millisecond).Round(time.Millisecond), ui.Plural(st.Oldest.Attempts, "attempt"))
	}
}

// WriteMultiStats prints a relay's state: a line per channel, then the
// totals; a single channel's as WriteStats does.
func WriteMultiStats(w io.Writer, m MultiStats) {
	if len(m.Channels) == 0 {
		WriteStats(w, m.Stats)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tPENDING\tBYTES\tDELIVERED\tDEAD\tBAD\tIN FLIGHT\tSENT MIDS\tOLDEST")
	row := func(name string, st Stats) {
		oldest := "-"
		if st.Oldest != nil {
			oldest = (time.Duration(st.OldestAgeMS) * time.Millisecond).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", name, st.Depth, st.Bytes, st.Delivered, st.Dead, st.Bad, st.InFlight, st.SentMIDs, oldest)
	}
	for _, c := range m.Channels {
		row(c.Channel, c.Stats)
	}
	row(fmt.Sprintf("all %d", len(m.Channels)), m.Stats)
	_ = tw.Flush()
}

// WriteCheck prints a spool check for a reader.
func WriteCheck(w io.Writer, r *CheckReport) {
	verdict := "ok: no damage found"
	switch {
	case !r.Opens:
		verdict = "damaged: the relay will not open it"
	case !r.OK:
		verdict = "damage the relay survives (see warnings)"
	}
	fmt.Fprintf(w, "spool       %s\n", r.Path)
	fmt.Fprintf(w, "verdict     %s\n", verdict)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem     %s\n", p)
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(w, "warning     %s\n", p)
	}
	fmt.Fprintf(w, "queued      %d readable (%d bytes), %d unreadable\n", r.Queue, r.Bytes, r.Unreadable)
	fmt.Fprintf(w, "in flight   %d\n", r.InFlight)
	fmt.Fprintf(w, "dead        %d\n", r.Dead)
	fmt.Fprintf(w, "bad         %d\n", r.Bad)
	fmt.Fprintf(w, "dedupe keys %d\n", r.DedupeKeys)
	fmt.Fprintf(w, "sent mIds   %d\n", r.SentMIDs)
	if !r.Opens {
		fmt.Fprintf(w, "next        ccx relay spool salvage --spool %s --to NEW.db, then start the relay with --spool NEW.db\n", r.Path)
	}
}

// WriteSalvage prints a salvage report for a reader.
func WriteSalvage(w io.Writer, r *SalvageReport) {
	fmt.Fprintf(w, "salvaged    %s → %s (mode 0600)\n", r.From, r.To)
	fmt.Fprintf(w, "queued      %d copied, %d unreadable (in the new bad bucket)\n", r.Queue, r.Quarantined)
	if r.FromPrevious > 0 || r.FromFreePages > 0 {
		fmt.Fprintf(w, "recovered   %d from the previous transaction, %d from free pages (may repeat delivered events: same mId)\n", r.FromPrevious, r.FromFreePages)
	}
	fmt.Fprintf(w, "in flight   %d\n", r.InFlight)
	fmt.Fprintf(w, "dead        %d\n", r.Dead)
	fmt.Fprintf(w, "bad         %d\n", r.Bad)
	fmt.Fprintf(w, "dedupe keys %d\n", r.DedupeKeys)
	fmt.Fprintf(w, "sent mIds   %d\n", r.SentMIDs)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "damage      %s\n", p)
	}
	fmt.Fprintf(w, "next        start the relay with --spool %s\n", r.To)
}
