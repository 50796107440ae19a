package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/payload"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/platform/bulk"
	"github.com/ccx-cli/ccx/internal/transport"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/spf13/cobra"
)

// One `ccx send`: settings resolved, the payload built, then handed to bulk.

func requireSetting(v, key, flag, what string) error {
	if v != "" {
		return nil
	}
	return UsageErrorf(fmt.Errorf("no %s: pass --%s, set %s, or run `ccx config set %s VALUE` (or `ccx init`)", what, flag, config.EnvVars[key], key))
}

// wrap resolves settings, builds the payload, and sends it; every error it
// returns has the token redacted.
func (o *sendOptions) wrap(cmd *cobra.Command, build func(config.Profile) (*payload.Payload, error)) error {
	err := o.run(cmd.Context(), build)
	return redactErr(err, o.token)
}

func (o *sendOptions) checkFlags() error {
	// Numeric flags are bounded where they are defined (limitFlag).
	switch {
	case len(o.mid) > channel.MaxMIDLen:
		return UsageErrorf(fmt.Errorf("--mid is %d characters; the maximum is %d", len(o.mid), channel.MaxMIDLen))
	}
	return nil
}

// sendHook lets tests see the parsed options (nil in production).
var sendHook func(*sendOptions)

func (o *sendOptions) run(ctx context.Context, build func(config.Profile) (*payload.Payload, error)) error {
	if sendHook != nil {
		sendHook(o)
	}
	if err := o.checkFlags(); err != nil {
		return err
	}
	s, err := o.f.Settings(o.settings)
	if err != nil {
		return err
	}
	o.token = s.APIToken
	var idType channel.IDType
	if s.IDType != "" {
		if idType, err = channel.ParseIDType(s.IDType); err != nil {
			return UsageErrorf(fmt.Errorf("id_type: %v (from --id-type, CCX_ID_TYPE or the profile)", err))
		}
	}
	if s.WebhookURL != "" {
		if err := config.CheckURL(s.WebhookURL); err != nil {
			return UsageErrorf(fmt.Errorf("webhook URL: %v", err))
		}
		if w := channel.WebhookURLWarning(o.settings.WebhookURL); w != "" { // entered here, as a flag
			fmt.Fprintln(o.f.IO.ErrOut, "warning: "+w)
		}
	}
	if !o.dryRun {
		if err := requireSetting(s.WebhookURL, "webhook_url", "webhook-url", "webhook URL"); err != nil {
			return err
		}
		if err := requireSetting(s.APIToken, "api_token", "token", "API token"); err != nil {
			return err
		}
	}
	p, err := build(s)
	if err != nil {
		return err
	}
	if !o.noValidate {
		vo := validate.Options{Kind: validate.KindWebhook, IDType: idType, ChannelID: s.ChannelID}
		if err := bulk.Check(o.f.IO, p.Body, vo, o.f.JSON); err != nil {
			return err
		}
	}
	p.Compact() // findings above point into the file as written; the wire gets it compact
	if o.dryRun {
		url := s.WebhookURL
		if url == "" {
			url = "<webhook URL>"
		}
		return bulk.DryRun(o.f.IO, url, o.shownToken(s), o.showToken && s.APIToken != "", p.Body, o.count, o.f.JSON)
	}
	client := platform.New(o.clientOptions(s))
	if o.count == 1 {
		return bulk.Explain(bulk.One(ctx, o.f.IO, client, p.Body, p.What, p.MID, o.token, o.f.JSON))
	}
	if o.mid != "" && len(o.mid)+1+len(strconv.Itoa(o.count)) > channel.MaxMIDLen {
		return UsageErrorf(fmt.Errorf("--mid %q with --count %d makes mIds longer than %d characters", o.mid, o.count, channel.MaxMIDLen))
	}
	sum, err := bulk.Run{
		Body: p.Body, MID: p.MID, MIDPaths: p.MIDPaths, TSPaths: p.TSPaths, MIDPrefix: o.mid,
		Count: o.count, Concurrency: o.concurrency, Rate: o.rate, Token: o.token, JSON: o.f.JSON,
	}.Do(ctx, o.f.IO, client)
	switch {
	case err != nil:
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return bulk.SummaryFailure(sum)
}

func (o *sendOptions) clientOptions(s config.Profile) platform.Options {
	// Retries show with --verbose, and on a terminal for a single send (a
	// bulk run has its progress bar).
	rp := &bulk.RetryPrinter{IO: o.f.IO, Token: o.token, Show: func() bool {
		return o.f.Verbose || (o.count == 1 && o.f.IO.IsStderrTTY())
	}}
	retries := o.retries // the flag's 0 is none; platform.Options' 0 is the default
	if retries == 0 {
		retries = -1
	}
	var hc *http.Client
	if o.f.Verbose { // the request and response heads too
		rt, _ := transport.Options{Verbose: o.f.IO.ErrOut, Secrets: []string{s.APIToken}, Base: platform.NewTransport(o.concurrency)}.RoundTripper()
		hc = &http.Client{Transport: rt}
	}
	return platform.Options{
		HTTPClient:  hc,
		WebhookURL:  s.WebhookURL,
		Token:       s.APIToken,
		Timeout:     o.timeout,
		MaxRetries:  retries,
		RateLimit:   o.rate,
		Concurrency: o.concurrency,
		Backoff:     o.backoff,
		OnRetry:     rp.OnRetry,
	}
}

func (o *sendOptions) shownToken(s config.Profile) string {
	switch {
	case s.APIToken == "":
		return "<API token>"
	case o.showToken:
		return s.APIToken
	}
	return ui.Redact(s.APIToken)
}

// redactErr rewrites err's message with the token redacted, keeping its exit code.
func redactErr(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	msg := errors.New(ui.RedactIn(err.Error(), token))
	var ee *ExitError
	if errors.As(err, &ee) {
		return Exit(ee.Code, msg)
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		return UsageErrorf(msg)
	}
	return Exit(exitCode(err), msg)
}
