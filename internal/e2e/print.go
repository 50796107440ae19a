package e2e

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
)

// PrintSetup tells the user what their server must be set to: the fakes' URLs,
// the channel, and where each credential came from.
func (h *Harness) PrintSetup(w io.Writer, st ui.Styles, info emulators.Info, given map[string]string, credFile string, idType channel.IDType) {
	ch := h.Channel()
	fmt.Fprintf(w, "platform fake   %s  webhook %s  channel %s (%s IDs), token %s\n", h.PlatformURL(), h.WebhookURL(), ch.ID, idType, ui.Redact(ch.Token))
	fmt.Fprintf(w, "%-15s %s  (your server's provider API base URL)\n", info.Name+" fake", h.ProviderURL())
	all := h.Provider().Credentials()
	var from, made, shown []string
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case given[k] != "":
			from = append(from, k)
		case info.Unneeded(k, given):
			// another set of credentials is given (Vonage: Basic, not the key)
		case info.Secret[k]:
			made = append(made, k)
		default:
			shown = append(shown, k+"="+all[k])
		}
	}
	if len(from) > 0 {
		src := "the environment"
		if credFile != "" {
			src += " or " + credFile
		}
		fmt.Fprintf(w, "credentials     %s (from %s)\n", strings.Join(from, ", "), src)
	}
	if len(shown) > 0 {
		fmt.Fprintf(w, "                %s (default; set it to use another)\n", strings.Join(shown, ", "))
	}
	if len(made) > 0 {
		fmt.Fprintf(w, "%s %s not set (environment or --credentials): the fake made up a value your server cannot know, so its calls will be refused\n",
			st.Warning.Render("warning:"), strings.Join(made, ", "))
	}
}

