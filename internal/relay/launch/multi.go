package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
)

// SingleChannelFlags are the flags of one channel, which a --config file
// replaces: giving both is a usage error.
var SingleChannelFlags = []string{"provider", "channel-id", "token", "webhook-url", "id-type", "credentials", "http-config", "spool", "provider-base-url"}

// DefaultSpoolDir holds a many-channel relay's spools: <dir>/<channel-id>.db.
const DefaultSpoolDir = "ccx-relay-spool"

// built is a config channel with its adapter.
type built struct {
	Channel
	idType channel.IDType
	ad     provider.Adapter
}

// RunConfig serves every channel of the --config file from one listener
// until ctx ends: an engine per channel behind a relay.Router, each with its
// own spool file in --spool-dir, or its subjects in JetStream (--queue). Every problem of the file is reported
// before anything starts (exit 2); --check-config stops after the checks
// (with asJSON, its report is one JSON object on out).
func RunConfig(ctx context.Context, out, errOut io.Writer, asJSON bool, getenv func(string) string, opts *Options) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return fault.Usagef("--log-level %q: use debug, info, warn or error", opts.LogLevel)
	}
	f, probs, err := LoadFile(opts.Config, getenv)
	if err != nil {
		return fault.New(fault.IO, fmt.Errorf("--config: %w", err))
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	provisional := opts.PublicURL
	if provisional == "" {
		provisional = "http://" + addr
	}
	chans, more, secrets := buildChannels(f, opts, provisional, netguard.Options{})
	probs = append(probs, more...)
	var queue *relay.NATSOptions
	if opts.Queue != "" {
		urls, qsecrets, err := relay.ParseQueueURLs(opts.Queue)
		if err != nil {
			return fault.New(fault.Usage, err)
		}
		opts.QueueOpts.URLs, secrets, queue = urls, append(secrets, qsecrets...), &opts.QueueOpts
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	if len(probs) > 0 {
		if asJSON && opts.CheckConfig {
			_ = ui.WriteJSON(out, CheckReport{File: f.Path, Problems: probs})
		}
		for _, p := range probs {
			fmt.Fprintln(errOut, p)
		}
		fmt.Fprintf(errOut, "%s: %d %s; nothing was started\n", f.Path, len(probs), plural(len(probs), "problem"))
		return fault.Silent(fault.Usage)
	}
	log := newLogger(errOut, asJSON, level, secrets)
	if opts.InsecureInbound {
		for _, c := range chans {
			if u, ok := c.ad.(provider.Unverified); ok && len(u.Unverified()) > 0 {
				log.Warn("--insecure-inbound: webhooks nothing verifies are accepted; anyone who finds the URL can store customer messages",
					"channel", c.ID, "unverified", strings.Join(u.Unverified(), "; "))
			}
		}
	}
	if opts.CheckConfig && asJSON {
		rep := CheckReport{OK: true, File: f.Path, Problems: []Problem{}}
		for _, c := range chans {
			rep.Channels = append(rep.Channels, CheckedChannel{ID: c.ID, Provider: c.ad.Name(), Token: ui.Redact(c.Token),
				Message: "/" + c.ID + "/message", Inbound: "/providers/" + c.ID + "/" + c.ad.Name() + "/"})
		}
		_ = ui.WriteJSON(out, rep)
	}
	if opts.CheckConfig {
		fmt.Fprintf(errOut, "relay config ok: %s, %d %s\n", f.Path, len(chans), plural(len(chans), "channel"))
		for _, c := range chans {
			fmt.Fprintf(errOut, "  %s  provider %s, webhook %s, token %s, routes /%s/message and /providers/%s/%s/\n",
				c.ID, c.ad.Name(), c.WebhookURL, ui.Redact(c.Token), c.ID, c.ID, c.ad.Name())
		}
		return nil
	}
	ln, adminLn, err := listeners(addr, opts.AdminAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if adminLn != nil {
		defer adminLn.Close()
	}
	public := opts.PublicURL
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	// The real adapters: the public URL is known now (Twilio signs it).
	chans, probs, _ = buildChannels(f, opts, public, netguard.Options{AllowPrivate: opts.AllowPrivateMedia, Logger: log})
	if len(probs) > 0 {
		return fault.Usagef("%s", probs[0])
	}
	// Each channel's queue: a spool file of its own in --spool-dir, or
	// JetStream, where the channel is in every subject and KV key.
	dir, storeKey := opts.SpoolDir, "spool"
	if dir == "" {
		dir = DefaultSpoolDir
	}
	if queue != nil {
		dir, storeKey = relay.RedactURLs(opts.Queue), "queue"
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fault.New(fault.IO, fmt.Errorf("--spool-dir: %w", err))
	}
	ros := make([]relay.Options, 0, len(chans))
	for _, c := range chans {
		spool := ""
		if queue == nil {
			spool = filepath.Join(dir, c.ID+".db")
			fsutil.MakePrivate(spool, logWriter{log}) // undelivered messages: personal data
		}
		ros = append(ros, relay.Options{NATS: queue, Adapter: c.ad, ChannelID: c.ID, Token: c.Token, IDType: c.idType,
			WebhookURL: c.WebhookURL, SpoolPath: spool, PublicURL: public, Workers: opts.Workers,
			RateLimit: opts.RateLimit, Backoff: opts.Backoff, MaxBackoff: opts.MaxBackoff, Logger: log, InsecureInbound: opts.InsecureInbound,
			Limits: relay.Limits{MaxEntries: opts.MaxEntries, MaxBytes: opts.MaxBytes, Window: opts.Window}})
	}
	rt, err := relay.NewRouter(ros)
	if errors.Is(err, relay.ErrQueueAuth) {
		return fault.New(fault.Auth, err)
	}
	if err != nil {
		return fault.New(fault.IO, err)
	}
	if err := rt.Start(); err != nil {
		rt.Close()
		return fault.New(fault.IO, err)
	}
	for i, c := range chans {
		where := ros[i].SpoolPath
		if queue != nil {
			where = dir
		}
		log.Info("channel ready", "channel", c.ID, "provider", c.ad.Name(), "message", public+"/"+c.ID+"/message",
			"inbound", public+"/providers/"+c.ID+"/"+c.ad.Name()+"/", "webhook", c.WebhookURL, "token", ui.Redact(c.Token),
			storeKey, where)
	}
	return serve(ctx, log, opts, ln, adminLn, rt, public, storeKey, dir)
}

// CheckReport is --check-config's --json answer.
type CheckReport struct {
	OK       bool             `json:"ok"`
	File     string           `json:"file"`
	Channels []CheckedChannel `json:"channels,omitempty"`
	Problems []Problem        `json:"problems"`
}

// CheckedChannel is a channel that passed, with its routes (token redacted).
type CheckedChannel struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Token    string `json:"token"`
	Message  string `json:"message"`
	Inbound  string `json:"inbound"`
}

// buildChannels makes each channel's adapter; the problems are located at
// the channel's provider (or credentials) lines. It also returns every
// secret the channels hold, for the log's redactor.
func buildChannels(f *File, opts *Options, public string, media netguard.Options) ([]built, []Problem, []string) {
	var out []built
	var probs []Problem
	var secrets []string
	for _, c := range f.Channels {
		secrets = append(secrets, c.Token)
		for _, v := range c.Credentials {
			secrets = append(secrets, v)
		}
		if !oneOf(c.Provider, Providers) || c.unresolved {
			continue // reported by LoadFile; a credential missing would only be reported twice
		}
		bad := func(key, format string, args ...any) {
			probs = append(probs, Problem{File: f.Path, Line: c.line(key), Channel: c.ID, Message: fmt.Sprintf(format, args...)})
		}
		idType := channel.IDPhone
		if t, err := channel.ParseIDType(c.IDType); err == nil && c.IDType != "" {
			idType = t
		}
		co := *opts
		co.Provider, co.HTTPConfig, co.channel = c.Provider, c.HTTPConfig, c.ID
		asked := map[string]bool{}
		creds := &config.Credentials{File: c.Credentials, Getenv: func(k string) string { asked[k] = true; return "" }}
		base := creds.Get(config.EnvProviderBaseURL)
		ad, adSecrets, err := BuildAdapter(&co, creds, base, public, idType, media)
		if err != nil {
			bad("provider", "%s", configWords(err.Error()))
			continue
		}
		secrets = append(secrets, adSecrets...)
		if _, err := checkInbound(&co, ad); err != nil {
			bad("provider", "%s", configWords(err.Error()))
		}
		if c.Provider != "http" { // templates read theirs when they render
			for k := range c.credKeys {
				if name := credName(c.Provider, k); !asked[name] {
					bad("credentials."+k, "credentials.%s: provider %s does not read %s", k, c.Provider, name)
				}
			}
		}
		out = append(out, built{Channel: c, idType: idType, ad: ad})
	}
	return out, probs, secrets
}

// configWords turns an adapter error's flag words into the file's.
var configWords = strings.NewReplacer(
	"--provider ", "provider ",
	"(env or --credentials file)", "(in [channel.credentials])",
	"--id-type custom", `id_type = "custom"`,
	"--id-type phone", `id_type = "phone"`,
	"--http-config FILE", "http_config",
	", or pass --insecure-inbound", " in [channel.credentials], or pass --insecure-inbound",
).Replace

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func newLogger(errOut io.Writer, asJSON bool, level slog.Level, secrets []string) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if asJSON {
		h = slog.NewJSONHandler(errOut, hopts)
	} else {
		h = slog.NewTextHandler(errOut, hopts)
	}
	return slog.New(&redactHandler{Handler: h, secrets: ui.Redactable(secrets)})
}

// listeners binds the relay's address and, unless off, the admin one.
func listeners(addr, admin string) (net.Listener, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fault.New(fault.IO, fmt.Errorf("%w (pick another --port, or 0 for a free one)", err))
		}
		return nil, nil, fault.New(fault.IO, err)
	}
	if adminOff(admin) {
		return ln, nil, nil
	}
	adminLn, err := net.Listen("tcp", admin)
	if err != nil {
		ln.Close()
		return nil, nil, fault.New(fault.IO, fmt.Errorf("--admin-addr: %w (pick another address, or off)", err))
	}
	return ln, adminLn, nil
}

// serve runs the router's servers until ctx ends, then shuts down as Run
// does: in-flight requests finish, deliveries get --drain, the rest stays
// queued.
func serve(ctx context.Context, log *slog.Logger, opts *Options, ln, adminLn net.Listener, rt *relay.Router, public, storeKey, store string) error {
	return serveUntil(ctx, log, opts, ln, adminLn, rt, public, []any{"channels", len(rt.Engines()), storeKey, store, "pending", rt.Stats().Depth},
		func() func() {
			st := rt.Stats()
			return func() {
				for _, c := range st.Channels {
					log.Info("channel stopped", "channel", c.Channel, "pending", c.Depth, "delivered", c.Delivered, "dead", c.Dead)
				}
				log.Info("relay stopped", "pending", st.Depth, "delivered", st.Delivered, "dead", st.Dead)
			}
		})
}
