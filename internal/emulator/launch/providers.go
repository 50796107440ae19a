package launch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Setup is one --provider as resolved from the flags.
type Setup struct {
	name      string
	info      emulators.Info
	channel   emulator.Channel
	webhook   string // the server's URL for customer messages
	status    string // the server's URL for status callbacks of sends that name none
	envFile   string // where the credentials live ("" with --no-profile)
	saved     map[string]string
	credsFrom string // "generated" or the env file they were read from
}

// parseNamedURLs reads repeated NAME=URL flags.
func parseNamedURLs(flag string, specs []string, known []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		name, u, ok := strings.Cut(s, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" {
			return nil, fault.Usagef("%s %q: use NAME=URL (e.g. twilio=http://127.0.0.1:3030/providers/twilio/inbound)", flag, s)
		}
		if !slices.Contains(known, name) {
			return nil, fault.Usagef("%s %q: %q is not a --provider of this run (%s)", flag, s, name, strings.Join(known, ", "))
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fault.Usagef("%s %q: %q is not an absolute http(s) URL", flag, s, u)
		}
		out[name] = u
	}
	return out, nil
}

// Setups resolves --provider, --provider-webhook and
// --provider-status. Each provider serves the first channel whose contact
// IDs fit its customers (Telegram's chat ids need a Custom ID channel); its
// webhooks default to the paths `ccx relay` serves under that channel's API
// base URL. Credentials are read from the env file of an earlier run, so a
// server configured once keeps working.
func Setups(file *config.File, chans []emulator.Channel, opts *Options) ([]Setup, error) {
	var names []string
	for _, n := range opts.Providers {
		n = strings.ToLower(strings.TrimSpace(n))
		if _, err := emulators.Lookup(n); err != nil {
			return nil, fault.Usagef("--provider: %w", err)
		}
		if slices.Contains(names, n) {
			return nil, fault.Usagef("--provider %s is given twice", n)
		}
		names = append(names, n)
	}
	hooks, err := parseNamedURLs("--provider-webhook", opts.ProviderWebhooks, names)
	if err != nil {
		return nil, err
	}
	statuses, err := parseNamedURLs("--provider-status", opts.ProviderStatus, names)
	if err != nil {
		return nil, err
	}
	var out []Setup
	for _, n := range names {
		info, _ := emulators.Lookup(n)
		ps := Setup{name: n, info: info, credsFrom: "generated"}
		found := false
		for _, c := range chans {
			if channel.CheckContactID(info.DefaultCustomer, c.IDType) == nil {
				ps.channel, found = c, true
				break
			}
		}
		if !found {
			return nil, fault.Usagef("--provider %s: its customers (e.g. %s) do not fit any emulated channel's contact IDs: add a channel with the right ID type (--id-type custom, or --channel id-type=custom)", n, info.DefaultCustomer)
		}
		base := strings.TrimRight(ps.channel.APIBaseURL, "/")
		ps.webhook, ps.status = hooks[n], statuses[n]
		if ps.webhook == "" && len(info.Webhooks) > 0 {
			ps.webhook = base + info.Webhooks[0]
		}
		if ps.status == "" && len(info.Webhooks) > 1 {
			ps.status = base + info.Webhooks[1]
		} else if ps.status == "" && info.Receipts && len(info.Webhooks) == 1 {
			ps.status = ps.webhook // one webhook for messages and statuses (Meta's app webhook)
		}
		if ps.status == "" && len(info.Webhooks) == 1 && info.Receipts {
			ps.status = ps.webhook // one URL for messages and receipts (Gupshup, Zalo)
		}
		if !opts.NoProfile && file != nil {
			ps.envFile = filepath.Join(filepath.Dir(file.Path()), "provider-"+n+".env")
			if c, err := config.LoadCredentials(context.Background(), ps.envFile, func(string) string { return "" }); err == nil && len(c.File) > 0 {
				ps.saved, ps.credsFrom = c.File, ps.envFile
			}
		}
		out = append(out, ps)
	}
	return out, nil
}

// emulatorProviders turns the setups into the emulator's options.
func emulatorProviders(setups []Setup, opts *Options) []emulator.Provider {
	var out []emulator.Provider
	for _, ps := range setups {
		ps := ps
		creds := map[string]string{}
		for _, k := range ps.info.Credentials {
			if v := ps.saved[k]; v != "" {
				creds[k] = v
			}
		}
		o := emulators.Options{Credentials: creds, CallbackURL: ps.status, NoReceipts: opts.NoReceipts, ReceiptDelay: opts.ReceiptDelay}
		out = append(out, emulator.Provider{
			Build: func(c *http.Client) (provider.Emulator, error) {
				o.Client = c
				return emulators.New(ps.name, o)
			},
			ChannelID: ps.channel.ID, WebhookURL: ps.webhook, StatusURL: ps.status,
			Receipts: ps.info.Receipts, AutoReceipts: ps.info.Receipts && !opts.NoReceipts, Secret: ps.info.Secret, EnvFile: ps.envFile,
		})
	}
	return out
}

// providerEnv is the env file a server reads: the fake's credentials and
// its API base URL, as `ccx relay --credentials FILE` takes them.
func providerEnv(e *emulator.Emulator, name string) []byte {
	creds := e.ProviderCredentials(name)
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "# ccx emulate --provider %s: the settings your server needs (ccx relay --credentials this-file)\n", name)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, creds[k])
	}
	fmt.Fprintf(&b, "%s=%s\n", config.EnvProviderBaseURL, e.ProviderBaseURL(name))
	return []byte(b.String())
}

func saveProviderEnvs(e *emulator.Emulator, setups []Setup) error {
	for _, ps := range setups {
		if ps.envFile == "" {
			continue
		}
		if err := fsutil.WritePrivate(ps.envFile, providerEnv(e, ps.name)); err != nil {
			return fmt.Errorf("write %s: %w", ps.envFile, err)
		}
	}
	return nil
}

// relayPortFlag is the --port `ccx relay` needs to answer at the API base
// URL, when that is not its default.
func relayPortFlag(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Port() == "" || u.Port() == "3030" {
		return ""
	}
	return " --port " + u.Port()
}

// printProviders adds the provider face to the banner: where the fake
// answers, where it posts, what the server must be told (secrets redacted
// unless --show-token) and the command that runs ccx relay against it.
func printProviders(io *ui.IOStreams, e *emulator.Emulator, setups []Setup, opts *Options) {
	w := io.ErrOut
	st := io.Styles(w)
	row := func(k, v string) { fmt.Fprintf(w, "  %-13s %s\n", k, v) }
	for _, ps := range setups {
		fmt.Fprintln(w)
		row("provider", st.Bold.Render(ps.name)+"  fake API at "+st.Path.Render(e.ProviderBaseURL(ps.name))+st.Dim.Render("  (your server's provider base URL)"))
		row("  channel", ps.channel.ID)
		if ps.webhook != "" {
			row("  webhook", ps.webhook+st.Dim.Render("  (customer messages go here: --provider-webhook "+ps.name+"=URL)"))
		}
		switch {
		case !ps.info.Receipts:
			row("  receipts", "none ("+ps.name+" sends no delivery receipts)")
		case opts.NoReceipts:
			row("  receipts", "off (--no-receipts); fire them from the inbox")
		case ps.status != "":
			row("  receipts", "to the StatusCallback each send names, else "+ps.status)
		default:
			row("  receipts", "to the StatusCallback each send names")
		}
		creds := e.ProviderCredentials(ps.name)
		keys := make([]string, 0, len(creds))
		for k := range creds {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			v := creds[k]
			if (ps.info.Secret[k] || emulator.IsSecretName(k)) && !opts.ShowToken {
				v = ui.Redact(v)
			}
			parts = append(parts, k+"="+v)
		}
		row("  settings", strings.Join(parts, " "))
		if ps.envFile != "" {
			from := "new credentials"
			if ps.credsFrom != "generated" {
				from = "credentials kept from the last run"
			}
			row("  env file", ps.envFile+st.Dim.Render("  ("+from+", with "+config.EnvProviderBaseURL+"; mode 0600)"))
			row("  run", fmt.Sprintf("ccx relay --provider %s --local --credentials %s%s", ps.name, ps.envFile, relayPortFlag(ps.channel.APIBaseURL)))
		} else if !opts.ShowToken {
			row("  run", st.Dim.Render("(--no-profile: no env file; --show-token prints the secrets once)"))
		}
	}
	if len(setups) > 0 {
		fmt.Fprintln(w, st.Dim.Render("Write as a customer from the inbox's phone pane, or POST "+emulator.APIPrefix+"providers/NAME/inbound."))
	}
}
