// Package launch sets up and runs `ccx emulate`: it resolves the emulated
// channels and the provider fakes from the flags and the profiles, saves
// the 'local' profile and the provider env files, prints the banner and
// logs the emulator's events until the context ends.
package launch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Options are the flags of `ccx emulate`.
type Options struct {
	Host       string
	Port       int
	ChannelID  string
	Token      string
	IDType     string
	APIBaseURL string
	Extra      []string
	RateLimit  float64
	StatePath  string
	AllowHosts []string
	ShowToken  bool
	NoProfile  bool
	Quiet      bool
	FetchMedia bool // fetch attachment URLs' headers (emulator.Options.FetchMedia)
	// The provider face.
	Providers        []string
	ProviderWebhooks []string
	ProviderStatus   []string
	NoReceipts       bool
	ReceiptDelay     time.Duration
}

// Channels completes the primary channel p (resolved from flags, env and
// a named profile; named is that profile's name, "" for none) and adds the
// --channel extras. An empty p reuses the 'local' profile a previous run
// wrote; whatever is left is generated. sources says where each of the
// primary's values came from, for the banner.
func Channels(file *config.File, flags, p config.Profile, named string, getenv func(string) string, extra []string) ([]emulator.Channel, map[string]string, error) {
	env := config.FromEnv(getenv)
	keys := []string{"channel_id", "api_token", "id_type", "api_base_url"}
	sources := map[string]string{}
	for _, k := range keys {
		fv, _ := flags.Get(k)
		ev, _ := env.Get(k)
		switch v, _ := p.Get(k); {
		case v == "":
		case strings.TrimSpace(fv) != "":
			sources[k] = "flag"
		case strings.TrimSpace(ev) != "":
			sources[k] = "env " + config.EnvVars[k]
		default:
			sources[k] = fmt.Sprintf("profile '%s'", named)
		}
	}
	if local, ok := file.Profiles[config.LocalProfile]; ok && p.ChannelID == "" && p.APIToken == "" {
		// Reuse the last run's channel (ccx's own, generated values), so a
		// server configured once keeps working.
		tok, err := config.CleanToken(local.APIToken)
		if err != nil {
			return nil, nil, fault.Usagef("the API token from profile %q in %s %v", config.LocalProfile, file.Path(), err)
		}
		local.ChannelID, local.APIToken = strings.TrimSpace(local.ChannelID), tok
		for _, k := range keys {
			if v, _ := p.Get(k); v != "" {
				continue
			}
			if v, _ := local.Get(k); v != "" {
				_ = p.Set(k, v)
				sources[k] = "the 'local' profile (last run)"
			}
		}
	}
	primary, err := channelFrom(p.ChannelID, p.APIToken, p.IDType, p.APIBaseURL)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		if sources[k] == "" {
			sources[k] = "generated"
			if k == "api_base_url" || k == "id_type" {
				sources[k] = "default"
			}
		}
	}
	chans := []emulator.Channel{primary}
	for _, spec := range extra {
		c, err := ParseChannelSpec(spec)
		if err != nil {
			return nil, nil, err
		}
		chans = append(chans, c)
	}
	return chans, sources, nil
}

func channelFrom(id, token, idType, baseURL string) (emulator.Channel, error) {
	t := channel.IDPhone
	if idType != "" {
		var err error
		if t, err = channel.ParseIDType(idType); err != nil {
			return emulator.Channel{}, fault.Usagef("--id-type: %w", err)
		}
	}
	if baseURL == "" {
		baseURL = emulator.DefaultAPIBaseURL
	}
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return emulator.Channel{}, fault.Usagef("--api-base-url %q is not an absolute http(s) URL", baseURL)
	}
	gen := emulator.GenerateChannel(t, baseURL)
	if id != "" {
		gen.ID = id
	}
	if token != "" {
		gen.Token = token
	}
	return gen, nil
}

// ParseChannelSpec reads a --channel id=…,token=…,id-type=…,api-base-url=….
func ParseChannelSpec(spec string) (emulator.Channel, error) {
	var id, token, idType, base string
	shown := redactSpecToken(spec) // errors quote the spec, never its token
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return emulator.Channel{}, fault.Usagef("--channel %q: %q is not key=value (keys: id, token, id-type, api-base-url)", shown, redactSpecToken(part))
		}
		switch k {
		case "id":
			id = v
		case "token":
			var err error
			if token, err = config.CleanToken(v); err != nil {
				return emulator.Channel{}, fault.Usagef("--channel %q: the API token from token= %v", shown, err)
			}
		case "id-type":
			idType = v
		case "api-base-url":
			base = v
		default:
			return emulator.Channel{}, fault.Usagef("--channel %q: unknown key %q (keys: id, token, id-type, api-base-url)", shown, k)
		}
	}
	return channelFrom(id, token, idType, base)
}

// redactSpecToken hides the value of token= in a --channel spec.
func redactSpecToken(spec string) string {
	parts := strings.Split(spec, ",")
	for i, p := range parts {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "token" {
			parts[i] = "token=" + ui.Redact(v)
		}
	}
	return strings.Join(parts, ",")
}

// Run starts the emulator for chans and logs its events on io.Out (NDJSON
// with asJSON) until ctx ends, then shuts it down gracefully.
func Run(ctx context.Context, io *ui.IOStreams, asJSON bool, file *config.File, chans []emulator.Channel, sources map[string]string, opts *Options) error {
	setups, err := Setups(file, chans, opts)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	errOut := io.ErrOut
	st := io.Styles(errOut)
	saved := ""
	// Save the profile before serving: once /_emulator/health answers,
	// `ccx send --local` must already work.
	beforeServe := func(e *emulator.Emulator) error {
		if opts.NoProfile {
			return nil
		}
		if err := SaveLocalProfile(file, e); err != nil {
			fmt.Fprintf(errOut, "%s could not save the 'local' profile: %v\n", st.Warning.Render("warning:"), err)
		} else {
			saved = file.Path()
		}
		if err := saveProviderEnvs(e, setups); err != nil {
			fmt.Fprintf(errOut, "%s could not save the provider settings: %v\n", st.Warning.Render("warning:"), err)
		}
		return nil
	}
	if opts.StatePath != "" {
		fsutil.MakePrivate(opts.StatePath, errOut) // contacts and messages: personal data
	}
	e, err := emulator.New(emulator.Options{Addr: addr, Channels: chans, RateLimit: opts.RateLimit, StatePath: opts.StatePath, AllowedHosts: opts.AllowHosts, BeforeServe: beforeServe, FetchMedia: opts.FetchMedia,
		Providers: emulatorProviders(setups, opts)})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fault.New(fault.IO, fmt.Errorf("%w (another emulator running? pick another --port, or 0 for a free one)", err))
		}
		return fault.New(fault.IO, err)
	}
	// Subscribe before anything can happen, so the log misses nothing.
	var events <-chan emulator.Event
	if !opts.Quiet {
		var cancel func()
		events, cancel = e.Subscribe()
		defer cancel()
	}

	printBanner(io, e, opts, saved, sources)
	printProviders(io, e, setups, opts)
	if ip := net.ParseIP(opts.Host); opts.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(errOut, "%s listening on %s: the /_emulator/ API has no authentication and anyone who can reach this address can read the messages and make the emulator call your server\n", st.Warning.Render("warning:"), opts.Host)
	}

	out := io.Out
	ost := io.Styles(out)
	if asJSON && !opts.Quiet {
		_ = ui.WriteJSON(out, emulator.Event{Time: time.Now().UTC(), Kind: "emulator.started", Summary: e.URL()})
	}
	print := func(ev emulator.Event) {
		if asJSON {
			_ = ui.WriteJSON(out, ev)
		} else {
			fmt.Fprintln(out, emulator.FormatEvent(ev, ost))
		}
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			print(ev)
		case <-ctx.Done():
			fmt.Fprintln(errOut, st.Dim.Render("shutting down: finishing in-flight requests…"))
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			err := e.Shutdown(sctx)
			// Shutdown closed the subscription: log what is still buffered.
			if events != nil {
				for ev := range events {
					print(ev)
				}
			}
			if err != nil {
				return fault.New(fault.IO, fmt.Errorf("shutdown: %w", err))
			}
			if opts.StatePath != "" {
				fmt.Fprintf(errOut, "state saved to %s\n", opts.StatePath)
			}
			fmt.Fprintln(errOut, "emulator stopped")
			return nil
		}
	}
}

// SaveLocalProfile writes e's primary channel as the 'local' profile.
func SaveLocalProfile(file *config.File, e *emulator.Emulator) error {
	c := e.Channel()
	p := file.Profiles[config.LocalProfile]
	p.WebhookURL = e.WebhookURL()
	p.ChannelID = c.ID
	p.APIToken = c.Token
	p.IDType = string(c.IDType)
	p.APIBaseURL = c.APIBaseURL
	setSampleContact(&p, emulator.SampleContactID(c.IDType), c.IDType)
	file.Profiles[config.LocalProfile] = p
	return file.Save()
}

// setSampleContact gives the 'local' profile a contact to send as, keeping
// the user's own when it fits the channel's ID type.
func setSampleContact(p *config.Profile, id string, t channel.IDType) {
	if p.ContactID == "" || channel.CheckContactID(p.ContactID, t) != nil {
		p.ContactID = id
	}
}
