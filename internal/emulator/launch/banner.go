package launch

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/ui"
)

func printBanner(io *ui.IOStreams, e *emulator.Emulator, opts *Options, savedTo string, sources map[string]string) {
	w := io.ErrOut
	st := io.Styles(w)
	fmt.Fprintf(w, "%s local IS-Messenger on %s\n", st.Bold.Render("ccx emulate:"), st.Path.Render(e.URL()))
	row := func(k, v string) { fmt.Fprintf(w, "  %-13s %s\n", k, v) }
	from := func(i int, key string) string {
		if i > 0 {
			return ""
		}
		return st.Dim.Render("  (" + sources[key] + ")")
	}
	row("webhook URL", e.WebhookURL())
	for i, c := range e.Channels() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		row("channel ID", c.ID+from(i, "channel_id"))
		tok := ui.Redact(c.Token)
		var notes []string
		if i == 0 {
			notes = append(notes, sources["api_token"])
		}
		if opts.ShowToken {
			tok = c.Token
		} else if savedTo != "" {
			notes = append(notes, "full token: --show-token, or api_token in the 'local' profile")
		} else {
			notes = append(notes, "full token: --show-token")
		}
		row("API token", tok+st.Dim.Render("  ("+strings.Join(notes, "; ")+")"))
		row("ID type", string(c.IDType)+from(i, "id_type"))
		row("API base URL", c.APIBaseURL+from(i, "api_base_url")+st.Dim.Render("  (outgoing calls go to <this>/message)"))
	}
	rl := "off"
	if opts.RateLimit > 0 {
		rl = fmt.Sprintf("%g requests/s per channel", opts.RateLimit)
	}
	row("rate limit", rl)
	if opts.StatePath != "" {
		row("state", opts.StatePath)
	} else {
		row("state", "in memory (--state FILE keeps it)")
	}
	row("inbox", e.URL()+"/  (web inbox: contacts, composer, request log)")
	row("inspect", e.URL()+emulator.APIPrefix+"  (events: "+emulator.APIPrefix+"events)")
	if savedTo != "" {
		row("profile", fmt.Sprintf("'%s' saved in %s", config.LocalProfile, savedTo))
		fmt.Fprintln(w, st.Dim.Render("Post events with `ccx send text hi --local`; call your server with `ccx emulate send text hi`. Ctrl-C stops."))
		return
	}
	// No profile to point at: say how to reach this very instance.
	c := e.Channel()
	fmt.Fprintln(w, st.Dim.Render(fmt.Sprintf("No 'local' profile written (--no-profile). Post events with\n  CCX_API_TOKEN=<the API token> ccx send text hi --webhook-url %s --channel-id %s --id-type %s --contact-id %s\n"+
		"and call your server with `ccx emulate send text hi --emulator %s`. Ctrl-C stops.",
		e.WebhookURL(), c.ID, c.IDType, emulator.SampleContactID(c.IDType), e.URL())))
}
