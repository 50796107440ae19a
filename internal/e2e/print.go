package e2e

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

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

// Customer picks the contact type and ID a run uses: the given ones, else
// the provider fake's default customer where it fits (Telegram chat ids,
// Zalo user ids are custom IDs), else a sample. The error is a contact that
// breaks the ID type's rule.
func Customer(info emulators.Info, idType channel.IDType, contact string) (channel.IDType, string, error) {
	if idType == "" {
		idType = channel.IDPhone
		if channel.CheckContactID(info.DefaultCustomer, channel.IDPhone) != nil {
			idType = channel.IDCustom
		}
	}
	if contact == "" {
		contact = SampleContact(idType)
		if info.DefaultCustomer != "" && channel.CheckContactID(info.DefaultCustomer, idType) == nil {
			contact = info.DefaultCustomer
		}
	}
	if err := channel.CheckContactID(contact, idType); err != nil {
		return idType, contact, fmt.Errorf("--contact-id %q: %v", contact, err)
	}
	return idType, contact, nil
}

// PrintTargets says where the run posts as the provider, and its timeout.
func PrintTargets(w io.Writer, serverURL, contact string, t Webhooks, timeout time.Duration) {
	fmt.Fprintf(w, "checking %s: customer %s, provider webhooks to %s", strings.TrimRight(serverURL, "/"), contact, t.Inbound)
	if t.Status != "" {
		fmt.Fprintf(w, ", status callbacks to the send's URL or %s", t.Status)
	}
	fmt.Fprintf(w, " (timeout %v per wait)\n", timeout)
}

// OutgoingAuthRefused says whether the server refused the channel token on /message.
func (r *Report) OutgoingAuthRefused() bool {
	for _, res := range r.Results {
		if res.Hop == HopOutgoing && (res.Status == 401 || res.Status == 403) {
			return true
		}
	}
	return false
}
