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
		k := c.Credentials
		return gupshup.New(gupshup.Options{BaseURL: c.BaseURL, APIKey: k["CCX_GUPSHUP_API_KEY"], AppName: k["CCX_GUPSHUP_APP_NAME"],
			Source: k["CCX_GUPSHUP_SOURCE"], Secret: k["CCX_GUPSHUP_SECRET"], Header: k["CCX_GUPSHUP_WEBHOOK_HEADER"],
			HeaderValue: k["CCX_GUPSHUP_WEBHOOK_TOKEN"], Media: c.Media}), nil
	}
	adapters["zalo"] = func(c AdapterConfig) (provider.Adapter, error) {
		k := c.Credentials
		return zalo.New(zalo.Options{BaseURL: c.BaseURL, OAuthURL: k["CCX_ZALO_OAUTH_URL"], AppID: k["CCX_ZALO_APP_ID"], AppSecret: k["CCX_ZALO_APP_SECRET"],
			OASecretKey: k["CCX_ZALO_OA_SECRET_KEY"], AccessToken: k["CCX_ZALO_ACCESS_TOKEN"], RefreshToken: k["CCX_ZALO_REFRESH_TOKEN"],
			Media: c.Media})
	}
}
