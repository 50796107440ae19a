package cli

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
)

// buildAdapter makes the --provider adapter from credentials; it returns the
// secrets it uses so that logs can redact them.
func buildAdapter(opts *relayOptions, c *credentials, base, public string, idType channel.IDType) (provider.Adapter, []string, error) {
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
	return nil, nil, UsageErrorf(fmt.Errorf("--provider %s is not available", opts.Provider))
}
