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
		o, _ := clicksend.FromCredentials(c.get)
		o.BaseURL = c.BaseURL
		return clicksend.New(o), nil
	},
	"telegram": func(c AdapterConfig) (provider.Adapter, error) {
		o, _ := telegram.FromCredentials(c.get)
		o.BaseURL, o.Media = c.BaseURL, c.Media
		return telegram.New(o), nil
	},
	"twilio": func(c AdapterConfig) (provider.Adapter, error) {
		o, _ := twilio.FromCredentials(c.get)
		o.BaseURL, o.PublicURL, o.Media = c.BaseURL, c.PublicURL, c.Media
		return twilio.New(o), nil
	},
}

// get is the credentials lookup the providers' FromCredentials take.
func (c AdapterConfig) get(k string) string { return c.Credentials[k] }

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
