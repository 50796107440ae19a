package launch

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/httpadapter"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

// BuildAdapter makes the --provider adapter from credentials; it returns the
// secrets it uses so that logs can redact them.
func BuildAdapter(opts *Options, c *config.Credentials, base, public string, idType channel.IDType, media netguard.Options) (provider.Adapter, []string, error) {
	need := func(miss []string) error {
		if len(miss) > 0 {
			return fault.Usagef("--provider %s needs %s (env or --credentials file)", opts.Provider, strings.Join(miss, ", "))
		}
		return nil
	}
	switch opts.Provider {
	case "loopback":
		return loopback.New(), nil, nil
	case "clicksend":
		o, miss := clicksend.FromCredentials(c.Get)
		if err := need(miss); err != nil {
			return nil, nil, err
		}
		o.BaseURL = base
		return clicksend.New(o), o.Secrets(), nil
	}
	return buildMoreAdapters(opts, c, base, public, idType, media, need)
}

func buildMoreAdapters(opts *Options, c *config.Credentials, base, public string, idType channel.IDType, media netguard.Options, need func([]string) error) (provider.Adapter, []string, error) {
	switch opts.Provider {
	case "twilio":
		o, miss := twilio.FromCredentials(c.Get)
		if err := need(miss); err != nil {
			return nil, nil, err
		}
		o.BaseURL, o.PublicURL, o.Media = base, public, media
		if opts.channel != "" {
			o.WebhookPath = "/providers/" + opts.channel + "/twilio"
		}
		if o.From == "" && o.MessagingServiceSID == "" {
			return nil, nil, fault.Usagef("--provider twilio needs CCX_TWILIO_FROM or CCX_TWILIO_MESSAGING_SERVICE_SID")
		}
		return twilio.New(o), o.Secrets(), nil
	case "telegram":
		o, miss := telegram.FromCredentials(c.Get)
		if err := need(miss); err != nil {
			return nil, nil, err
		}
		if idType != channel.IDCustom {
			return nil, nil, fault.Usagef("--provider telegram needs a Custom ID channel (--id-type custom): contact IDs are chat ids")
		}
		o.BaseURL, o.Media = base, media
		return telegram.New(o), o.Secrets(), nil
	case "whatsapp", "vonage":
		return buildPhoneAdapter(opts, c, base, idType, media)
	case "http":
		if opts.HTTPConfig == "" {
			return nil, nil, fault.Usagef("--provider http needs --http-config FILE")
		}
		cfg, err := httpadapter.Load(opts.HTTPConfig)
		if err != nil {
			return nil, nil, fault.New(fault.IO, err)
		}
		if base != "" {
			cfg.BaseURL = base
		}
		a, err := httpadapter.New(cfg, c.Get)
		if err != nil {
			return nil, nil, fault.New(fault.Failure, fmt.Errorf("%s: %w", opts.HTTPConfig, err))
		}
		var secrets []string
		for _, h := range []*httpadapter.HookConfig{cfg.Inbound, cfg.Status} {
			if h != nil && h.Auth.SecretEnv != "" {
				secrets = append(secrets, c.Get(h.Auth.SecretEnv))
			}
		}
		return a, secrets, nil
	}
	return buildChatAdapters(opts, c, base, idType, media, need)
}
