package emulators

import (
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/gupshup"
	"github.com/ccx-cli/ccx/internal/provider/zalo"
)

// The relay adapters of Gupshup and Zalo, built from their emulators'
// credentials (ccx demo --relay --provider gupshup|zalo, tests).
func init() {
	adapters["gupshup"] = func(c AdapterConfig) (provider.Adapter, error) {
		o, _ := gupshup.FromCredentials(c.get)
		o.BaseURL, o.Media = c.BaseURL, c.Media
		return gupshup.New(o), nil
	}
	adapters["zalo"] = func(c AdapterConfig) (provider.Adapter, error) {
		o, _ := zalo.FromCredentials(c.get)
		o.BaseURL, o.Media = c.BaseURL, c.Media
		return zalo.New(o)
	}
}
