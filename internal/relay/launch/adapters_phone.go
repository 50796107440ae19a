package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/vonage"
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
)

// senderIDRE is an SMS alphanumeric sender id.
var senderIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ]{0,10}$`)

// buildPhoneAdapter makes the whatsapp or vonage adapter: phone-number
// channels, credentials read by the provider package itself.
func buildPhoneAdapter(opts *Options, c *config.Credentials, base string, idType channel.IDType, media netguard.Options) (provider.Adapter, []string, error) {
	if idType != channel.IDPhone {
		return nil, nil, fault.Usagef("--provider %s needs a Phone Number channel (--id-type phone): contact IDs are +E.164 numbers", opts.Provider)
	}
	missing := func(miss []string) error {
		return fault.Usagef("--provider %s needs %s (env or --credentials file)", opts.Provider, strings.Join(miss, ", "))
	}
	switch opts.Provider {
	case "whatsapp":
		o, miss := whatsapp.FromCredentials(c.Get)
		if len(miss) > 0 {
			return nil, nil, missing(miss)
		}
		o.BaseURL, o.Media = base, media
		return whatsapp.New(o), o.Secrets(), nil
	case "vonage":
		o, miss, err := vonage.FromCredentials(c.Get)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, nil, fault.New(fault.IO, fmt.Errorf("--provider vonage: %w", err))
		}
		if err != nil {
			return nil, nil, fault.Usagef("--provider vonage: %w", err)
		}
		if len(miss) > 0 {
			return nil, nil, missing(miss)
		}
		if !channel.IsE164("+"+vonage.Digits(o.From)) && !(o.Channel == "sms" && senderIDRE.MatchString(o.From)) {
			return nil, nil, fault.Usagef("--provider vonage: %s %q is not a phone number (E.164, with or without +; on sms also an alphanumeric sender id of up to 11 characters)", vonage.EnvFrom, o.From)
		}
		o.BaseURL, o.Media = base, media
		return vonage.New(o), o.Secrets(), nil
	}
	return nil, nil, fault.Usagef("--provider %s is not available", opts.Provider)
}
