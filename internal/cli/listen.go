package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/spf13/cobra"
)

// ListenOptions are the flags of `ccx listen`.
type ListenOptions struct {
	Host, Path        string
	Port              int
	Token, ChannelID  string
	IDType            string
	Lenient           bool
	MaxBody           int64
	ReplyStatus       int
	ReplyMessage      string
	FailRate          float64
	FailStatus        int
	Latency           time.Duration
	ForwardTo, Record string
	ForwardTimeout    time.Duration
	Grace             time.Duration
	transport         transportFlags
	ready             func(addr string) // tests: called once listening
	received          func()            // tests: called when a call has been read
}

func newListenCmd(f *Factory) *cobra.Command {
	o := &ListenOptions{}
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Run a local /message endpoint that checks, shows and answers the platform's calls",
		Long: `listen plays your integration server's /message route: the endpoint IS-Messenger
calls (POST <API base URL>/message) to send a message through your channel.

Each call is checked like the platform's contract says (Bearer token compared in
constant time, POST, application/json, body size, the message validated by type)
and shown: on a terminal as "-->" request and "<--" reply lines tied by an id;
with --json or when stdout is not a terminal, as one NDJSON object per call on
stdout and nothing else. Status lines go to stderr.

Replies: 200 {"mId": <fresh id>} by default; --reply-status/--reply-message script
an error, --fail-rate fails a share of calls, --latency slows every reply.
--forward-to passes each call byte-for-byte (same body, same headers, token
included) to your own server and sends back its reply, judged exactly as
'ccx trigger' judges it: the reply's findings and a verdict (ok, refused, auth,
no-route, rate-limited, server-error, wrong-reply, timeout, network) on the
"<--" line, and "verdict"/"replyFindings" in --json. A server that does not
answer within --forward-timeout gets the caller a 504.

The token is required (--token, CCX_API_TOKEN or the profile's api_token): listen
refuses to start without one rather than invent a secret it would have to print.
It binds 127.0.0.1 by default, answers GET /healthz, and on SIGINT/SIGTERM stops
accepting, finishes in-flight calls, prints a summary to stderr and exits 0.`,
		Example: `  ccx listen
  ccx listen --port 3030 --json > calls.ndjson
  ccx listen --reply-status 400 --reply-message "number blocked"
  ccx listen --fail-rate 0.2 --latency 300ms --record calls.ndjson
  ccx listen --forward-to http://127.0.0.1:8080/message
  ccx listen --forward-to https://127.0.0.1:8443/message --cacert ca.pem --forward-timeout 3s -v`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runListen(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Host, "host", "127.0.0.1", "address to bind (0.0.0.0 exposes the endpoint to your network)")
	fl.IntVar(&o.Port, "port", 3030, "port to listen on (0: any free port)")
	fl.StringVar(&o.Path, "path", channel.MessagePath, "route that receives the calls")
	fl.StringVar(&o.Token, "token", "", "API token the calls must carry (env CCX_API_TOKEN, profile api_token)")
	fl.StringVar(&o.ChannelID, "channel-id", "", "expected channelId; others get 400 (env CCX_CHANNEL_ID, profile channel_id)")
	fl.StringVar(&o.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE, profile id_type)")
	fl.BoolVar(&o.Lenient, "lenient", false, "accept invalid bodies with warnings instead of 400")
	fl.Int64Var(&o.MaxBody, "max-body", listen.DefaultMaxBody, "largest body accepted, in bytes (413 above)")
	fl.IntVar(&o.ReplyStatus, "reply-status", 200, "status to answer valid calls with; non-200 answers {\"error\":{\"message\":...}}")
	fl.StringVar(&o.ReplyMessage, "reply-message", "", "error.message for a non-200 --reply-status")
	fl.Float64Var(&o.FailRate, "fail-rate", 0, "share of valid calls (0..1) answered with --fail-status")
	fl.IntVar(&o.FailStatus, "fail-status", 500, "status used by --fail-rate")
	_ = cmd.RegisterFlagCompletionFunc("reply-status", fixedCompletion(replyStatuses))
	_ = cmd.RegisterFlagCompletionFunc("fail-status", fixedCompletion(replyStatuses))
	fl.DurationVar(&o.Latency, "latency", 0, "wait this long before each reply, e.g. 300ms")
	fl.StringVar(&o.ForwardTo, "forward-to", "", "URL of your own server: forward each call there byte-for-byte and relay its reply")
	fl.DurationVar(&o.ForwardTimeout, "forward-timeout", outgoing.DefaultTimeout, "with --forward-to: give up on your server after this long (504, verdict timeout)")
	fl.StringVar(&o.Record, "record", "", "append every call (token redacted) as NDJSON to this file, for ccx replay")
	fl.DurationVar(&o.Grace, "shutdown-grace", listen.ShutdownGrace, "how long shutdown waits for in-flight calls")
	_ = fl.MarkHidden("shutdown-grace")
	limitFlag(fl, "port", 0, 65535, usePort)
	limitFlag(fl, "max-body", 1, noMax, "a positive number of bytes, e.g. 1048576")
	limitFlag(fl, "reply-status", 200, 599, "200-599")
	limitFlag(fl, "fail-rate", 0, 1, "a share between 0 and 1, e.g. 0.2")
	limitFlag(fl, "fail-status", 200, 599, "200-599")
	limitFlag(fl, "latency", 0, time.Hour, "0 to 1h, e.g. 300ms")
	limitFlag(fl, "shutdown-grace", 0, noMax, useNonNeg)
	limitFlag(fl, "forward-timeout", time.Nanosecond, noMax, usePositive)
	urlFlag(fl, "forward-to")
	o.transport.add(fl, "--forward-to's server")
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	return cmd
}

// missingSetting is the usage error for a value found nowhere.
func missingSetting(what, flag, key string) error {
	return UsageErrorf(fmt.Errorf("no %s: pass --%s, set %s, or save it in the profile (ccx config set %s VALUE)", what, flag, config.EnvVars[key], key))
}

// idTypeOf parses an optional ID type setting.
func idTypeOf(s string) (channel.IDType, error) {
	if s == "" {
		return "", nil
	}
	t, err := channel.ParseIDType(s)
	if err != nil {
		return "", UsageErrorf(err)
	}
	return t, nil
}

func runListen(ctx context.Context, f *Factory, o *ListenOptions) error {
	s, err := f.Settings(config.Profile{APIToken: o.Token, ChannelID: o.ChannelID, IDType: o.IDType})
	if err != nil {
		return err
	}
	if s.APIToken == "" {
		return missingSetting("API token", "token", "api_token")
	}
	idType, err := idTypeOf(s.IDType)
	if err != nil {
		return err
	}
	// Numeric flags are bounded where they are defined (limitFlag).
	if !strings.HasPrefix(o.Path, "/") {
		return UsageErrorf(fmt.Errorf("invalid --path %q: it must start with /", o.Path))
	}
	var hc *http.Client
	if o.ForwardTo != "" {
		if u, err := parseHTTPURL(o.ForwardTo); err != nil {
			return UsageErrorf(fmt.Errorf("invalid --forward-to: %v", err))
		} else {
			o.ForwardTo = u
		}
		if hc, err = o.transport.options(f, s.APIToken).Client(); err != nil {
			return err
		}
	}

	err = listen.Run(ctx, listen.RunOptions{
		Handler: listen.Options{
			Token: s.APIToken, ChannelID: s.ChannelID, IDType: idType, Lenient: o.Lenient, MaxBody: o.MaxBody,
			Reply:     listen.ReplyPolicy{Status: o.ReplyStatus, Message: o.ReplyMessage, FailRate: o.FailRate, FailStatus: o.FailStatus, Latency: o.Latency},
			ForwardTo: o.ForwardTo, ForwardTimeout: o.ForwardTimeout, Client: hc,
		},
		Host: o.Host, Port: o.Port, Path: o.Path, Grace: o.Grace, Record: o.Record,
		IO: f.IO, JSON: f.JSON, Ready: o.ready, Received: o.received,
	})
	if err != nil {
		return Exit(ExitIO, err)
	}
	return nil
}

func parseHTTPURL(s string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, s, nil)
	if err != nil {
		return "", err
	}
	if (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return req.URL.String(), nil
}
