package cli

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/httpadapter"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

// buildAdapter makes the --provider adapter from credentials; it returns the
// secrets it uses so that logs can redact them.
func buildAdapter(opts *relayOptions, c *credentials, base, public string, idType channel.IDType, media netguard.Options) (provider.Adapter, []string, error) {
	need := func(keys ...string) error {
		var miss []string
		for _, k := range keys {
			if c.get(k) == "" {
				miss = append(miss, k)
			}
		}
		if len(miss) > 0 {
			return UsageErrorf(fmt.Errorf("--provider %s needs %s (env or --credentials file)", opts.Provider, strings.Join(miss, ", ")))
		}
		return nil
	}
	switch opts.Provider {
	case "loopback":
		return loopback.New(), nil, nil
	case "clicksend":
		if err := need("CCX_CLICKSEND_USERNAME", "CCX_CLICKSEND_API_KEY"); err != nil {
			return nil, nil, err
		}
		o := clicksend.Options{BaseURL: base, Username: c.get("CCX_CLICKSEND_USERNAME"), APIKey: c.get("CCX_CLICKSEND_API_KEY"),
			From: c.get("CCX_CLICKSEND_FROM"), Secret: c.get("CCX_CLICKSEND_SECRET")}
		return clicksend.New(o), []string{o.APIKey, o.Secret}, nil
	}
	return buildMoreAdapters(opts, c, base, public, idType, media, need)
}

func buildMoreAdapters(opts *relayOptions, c *credentials, base, public string, idType channel.IDType, media netguard.Options, need func(...string) error) (provider.Adapter, []string, error) {
	switch opts.Provider {
	case "twilio":
		if err := need("CCX_TWILIO_ACCOUNT_SID", "CCX_TWILIO_AUTH_TOKEN"); err != nil {
			return nil, nil, err
		}
		o := twilio.Options{BaseURL: base, AccountSID: c.get("CCX_TWILIO_ACCOUNT_SID"), AuthToken: c.get("CCX_TWILIO_AUTH_TOKEN"),
			From: c.get("CCX_TWILIO_FROM"), MessagingServiceSID: c.get("CCX_TWILIO_MESSAGING_SERVICE_SID"), PublicURL: public, Media: media}
		if o.From == "" && o.MessagingServiceSID == "" {
			return nil, nil, UsageErrorf(fmt.Errorf("--provider twilio needs CCX_TWILIO_FROM or CCX_TWILIO_MESSAGING_SERVICE_SID"))
		}
		return twilio.New(o), []string{o.AuthToken}, nil
	case "telegram":
		if err := need("CCX_TELEGRAM_BOT_TOKEN", "CCX_TELEGRAM_WEBHOOK_SECRET"); err != nil {
			return nil, nil, err
		}
		if idType != channel.IDCustom {
			return nil, nil, UsageErrorf(fmt.Errorf("--provider telegram needs a Custom ID channel (--id-type custom): contact IDs are chat ids"))
		}
		o := telegram.Options{BaseURL: base, BotToken: c.get("CCX_TELEGRAM_BOT_TOKEN"), Secret: c.get("CCX_TELEGRAM_WEBHOOK_SECRET"), Media: media}
		return telegram.New(o), []string{o.BotToken, o.Secret}, nil
	case "whatsapp", "vonage":
		return buildPhoneAdapter(opts, c, base, idType, media)
	case "http":
		if opts.HTTPConfig == "" {
			return nil, nil, UsageErrorf(fmt.Errorf("--provider http needs --http-config FILE"))
		}
		cfg, err := httpadapter.Load(opts.HTTPConfig)
		if err != nil {
			return nil, nil, Exit(ExitIO, err)
		}
		if base != "" {
			cfg.BaseURL = base
		}
		a, err := httpadapter.New(cfg, c.get)
		if err != nil {
			return nil, nil, Exit(ExitFailure, fmt.Errorf("%s: %w", opts.HTTPConfig, err))
		}
		var secrets []string
		for _, h := range []*httpadapter.HookConfig{cfg.Inbound, cfg.Status} {
			if h != nil && h.Auth.SecretEnv != "" {
				secrets = append(secrets, c.get(h.Auth.SecretEnv))
			}
		}
		return a, secrets, nil
	}
	return buildChatAdapters(opts, c, base, idType, media, need)
}
