package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/e2e"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

// E2EOptions are the flags of `ccx check --e2e`.
type E2EOptions struct {
	Enabled           bool
	Provider          string
	PlatformPort      int
	ProviderWebhook   string
	ProviderStatusURL string
	Credentials       string
}

// defaultPlatformPort is `ccx emulate`'s: the fakes are laid out as `ccx
// emulate --provider` lays them out, so a server set up for it needs no change.
const defaultPlatformPort = 4747

var e2eOnlyFlags = []string{"provider", "platform-port", "provider-webhook", "provider-status-url", "credentials"}

func (o *E2EOptions) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&o.Enabled, "e2e", false, "drive the whole loop through the platform fake and a provider fake (needs --provider)")
	fl.StringVar(&o.Provider, "provider", "", "e2e: the provider your server calls: "+strings.Join(emulators.Names(), "|"))
	fl.IntVar(&o.PlatformPort, "platform-port", defaultPlatformPort, "e2e: port of the fakes on 127.0.0.1, the provider's under /_provider/NAME (0: a free one)")
	fl.StringVar(&o.ProviderWebhook, "provider-webhook", "", "e2e: URL where your server takes the provider's webhooks (default: ccx relay's route under BASE_URL)")
	fl.StringVar(&o.ProviderStatusURL, "provider-status-url", "", "e2e: URL for status callbacks when a send names none (default: ccx relay's route)")
	fl.StringVar(&o.Credentials, "credentials", "", "e2e: KEY=VALUE file of the provider credentials your server uses (env wins; default: the provider-NAME.env 'ccx emulate --provider' wrote)")
	limitFlag(fl, "platform-port", 0, 65535, usePort)
	urlFlag(fl, "provider-webhook")
	urlFlag(fl, "provider-status-url")
	_ = cmd.RegisterFlagCompletionFunc("provider", fixedCompletion(emulators.Names()))
	_ = cmd.MarkFlagFilename("credentials")
}

// notWithout refuses e2e flags on a plain check: they would do nothing.
func (o *E2EOptions) notWithout(cmd *cobra.Command) error {
	for _, n := range e2eOnlyFlags {
		if cmd.Flags().Changed(n) {
			return UsageErrorf(fmt.Errorf("--%s needs --e2e", n))
		}
	}
	return nil
}

func e2eHelp() string {
	var list strings.Builder
	for _, c := range e2e.Checks {
		fmt.Fprintf(&list, "  %-20s %s\n", c.ID, c.Title)
	}
	return `
End to end (--e2e --provider ` + strings.Join(emulators.Names(), "|") + `):
check starts the platform fake on 127.0.0.1:--platform-port (default 4747, like
'ccx emulate') with a fake of the provider's API under /_provider/NAME (like
'ccx emulate --provider NAME'), then drives the server at BASE_URL through every
hop and judges each one. Configure your server once:
  platform webhook URL  http://127.0.0.1:4747/custom/channel/webhook/
  channel ID and token  the ones check uses (--channel-id/--token, CCX_*, profile)
  provider API base URL http://127.0.0.1:4747/_provider/NAME (ccx relay: CCX_PROVIDER_BASE_URL)
  provider credentials  a KEY=VALUE file given to both (--credentials; env wins), e.g.
                        CCX_TWILIO_ACCOUNT_SID, CCX_TWILIO_AUTH_TOKEN, CCX_TWILIO_FROM;
                        by default the provider-NAME.env next to the config file
                        that 'ccx emulate --provider NAME' writes
Customer messages are posted, signed as the provider signs, to --provider-webhook
(default: ccx relay's route under BASE_URL, e.g. /providers/twilio/inbound);
status callbacks go to the URL each send named, else --provider-status-url.

` + list.String() + `
A check that must see nothing arrive (a forged webhook, a provider retry) waits
for a later message of the same customer instead; every wait ends after
--timeout. --only/--skip take these ids with --e2e.`
}

func runCheckE2E(ctx context.Context, f *Factory, o *CheckOptions) error {
	if err := e2e.Select(o.Only, o.Skip); err != nil {
		return UsageErrorf(err)
	}
	if t := o.transport; len(t.headers) > 0 || t.insecure || t.cacert != "" {
		return UsageErrorf(fmt.Errorf("--header, --insecure and --cacert apply to check's own calls, not to --e2e (the emulated platform calls your server itself)"))
	}
	info, err := emulators.Lookup(o.E2E.Provider)
	if err != nil {
		return UsageErrorf(fmt.Errorf("--provider: %w", err))
	}
	r, err := o.resolve(f, true)
	if err != nil {
		return err
	}
	idType, contact, err := e2e.Customer(info, r.idType, o.ContactID)
	if err != nil {
		return UsageErrorf(err)
	}
	credFile := o.E2E.Credentials
	if credFile == "" {
		credFile = emulatedCredentials(f, info.Name)
	}
	creds, err := loadCredentials(ctx, credFile, f.IO.Getenv)
	if err != nil {
		return readError(ctx, fmt.Errorf("--credentials: %w", err))
	}
	given := map[string]string{}
	for _, k := range info.Credentials {
		if v := creds.get(k); v != "" {
			given[k] = v
		}
	}
	prov, err := emulators.New(info.Name, emulators.Options{Credentials: given, NoReceipts: true})
	if err != nil {
		return UsageErrorf(err)
	}
	h, err := e2e.Start(e2e.Config{Provider: prov,
		PlatformAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(o.E2E.PlatformPort)),
		Channel:      emulator.Channel{ID: r.channelID, Token: r.client.Token, IDType: idType, APIBaseURL: r.client.BaseURL}})
	if err != nil {
		var le *e2e.ListenError
		if errors.As(err, &le) {
			return Exit(ExitIO, fmt.Errorf("%w (is 'ccx emulate' or another check running? stop it, or pick another --platform-port and point your server at it)", err))
		}
		return Exit(ExitIO, err)
	}
	defer h.Close()
	h.PrintSetup(f.IO.ErrOut, f.IO.Styles(f.IO.ErrOut), info, given, credFile, idType)
	ro := e2e.Options{ServerURL: r.client.BaseURL, ContactID: contact, Timeout: o.Timeout, Only: o.Only, Skip: o.Skip,
		Webhooks: e2e.Webhooks{Inbound: o.E2E.ProviderWebhook, Status: o.E2E.ProviderStatusURL}}
	t := h.Targets(ro)
	e2e.PrintTargets(f.IO.ErrOut, r.client.BaseURL, contact, t, o.Timeout)
	if f.IO.IsStderrTTY() && !f.JSON {
		ro.Progress = func(id string) { fmt.Fprintf(f.IO.ErrOut, "  … %s\n", id) }
	}
	rep, err := h.Run(ctx, ro)
	if err != nil {
		return UsageErrorf(err)
	}
	if ctx.Err() != nil {
		return Silent(ExitInterrupted)
	}
	if f.JSON {
		if err := ui.WriteJSON(f.IO.Out, rep); err != nil {
			return Exit(ExitIO, err)
		}
	} else if !rep.Unreachable {
		conformance.PrintTable(f.IO.Out, f.IO.Styles(f.IO.Out), f.IO.Width(), rep.Results, rep.Passed, rep.Failed, rep.Warned, rep.Skipped)
	}
	if rep.OutgoingAuthRefused() {
		authHint(f, "your server refused the channel token on /message")
	}
	switch {
	case rep.Unreachable:
		fmt.Fprintf(f.IO.ErrOut, "%s\n", rep.Error)
		return Silent(ExitIO)
	case rep.Failed > 0:
		return Silent(ExitFailure)
	}
	return nil
}

// emulatedCredentials is the provider-NAME.env that `ccx emulate --provider`
// keeps next to the config file, when there is one: a server set up for the
// emulator then needs no change.
func emulatedCredentials(f *Factory, name string) string {
	path, err := config.DefaultPath(f.IO.Getenv)
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(path), "provider-"+name+".env")
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return ""
}
