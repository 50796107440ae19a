package emulators

import (
	"fmt"

	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
)

// AdapterConfig builds the relay adapter that talks to an emulator: the
// adapter `ccx relay --provider NAME` runs, from the emulator's credentials
// (`ccx demo --relay --provider NAME`, tests).
type AdapterConfig struct {
	// BaseURL is where the emulator's API is served.
	BaseURL string
	// PublicURL is the relay's own URL (Twilio signs it; status callbacks).
	PublicURL   string
	Credentials map[string]string
	Media       netguard.Options
}

// adapters build a provider's relay adapter; providers with an emulator
// register theirs next to it (one file per provider).
var adapters = map[string]func(AdapterConfig) (provider.Adapter, error){
	"clicksend": func(c AdapterConfig) (provider.Adapter, error) {
		k := c.Credentials
		return clicksend.New(clicksend.Options{BaseURL: c.BaseURL, Username: k["CCX_CLICKSEND_USERNAME"], APIKey: k["CCX_CLICKSEND_API_KEY"],
			From: k["CCX_CLICKSEND_FROM"], Secret: k["CCX_CLICKSEND_SECRET"]}), nil
	},
	"telegram": func(c AdapterConfig) (provider.Adapter, error) {
		k := c.Credentials
		return telegram.New(telegram.Options{BaseURL: c.BaseURL, BotToken: k["CCX_TELEGRAM_BOT_TOKEN"], Secret: k["CCX_TELEGRAM_WEBHOOK_SECRET"], Media: c.Media}), nil
	},
	"twilio": func(c AdapterConfig) (provider.Adapter, error) {
		k := c.Credentials
		return twilio.New(twilio.Options{BaseURL: c.BaseURL, AccountSID: k["CCX_TWILIO_ACCOUNT_SID"], AuthToken: k["CCX_TWILIO_AUTH_TOKEN"],
			From: k["CCX_TWILIO_FROM"], PublicURL: c.PublicURL, Media: c.Media}), nil
	},
}

// Adapter builds the relay adapter for the named emulator's provider.
func Adapter(name string, c AdapterConfig) (provider.Adapter, error) {
	if _, err := Lookup(name); err != nil {
		return nil, err
	}
	build, ok := adapters[name]
	if !ok {
		return nil, fmt.Errorf("provider %s has an emulator but no relay adapter registered", name)
	}
	if c.Credentials == nil {
		c.Credentials = map[string]string{}
	}
	return build(c)
}
