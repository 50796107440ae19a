package launch

import (
	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/gupshup"
	"github.com/ccx-cli/ccx/internal/provider/zalo"
)

// buildChatAdapters makes the adapters of the chat-app providers reached
// through a BSP or an OA API: Gupshup (WhatsApp) and Zalo.
func buildChatAdapters(opts *Options, c *config.Credentials, base string, idType channel.IDType, media netguard.Options, need func([]string) error) (provider.Adapter, []string, error) {
	switch opts.Provider {
	case "gupshup":
		o, miss := gupshup.FromCredentials(c.Get)
		if err := need(miss); err != nil {
			return nil, nil, err
		}
		if idType != channel.IDPhone {
			return nil, nil, fault.Usagef("--provider gupshup needs a Phone Number channel (--id-type phone): contact IDs are WhatsApp numbers")
		}
		o.BaseURL, o.Media = base, media
		return gupshup.New(o), o.Secrets(), nil
	case "zalo":
		o, miss := zalo.FromCredentials(c.Get)
		if err := need(miss); err != nil {
			return nil, nil, err
		}
		if idType != channel.IDCustom {
			return nil, nil, fault.Usagef("--provider zalo needs a Custom ID channel (--id-type custom): contact IDs are Zalo user ids")
		}
		o.BaseURL, o.Media, o.Logger = base, media, media.Logger
		if o.AccessToken == "" && o.RefreshToken == "" && o.TokenFile == "" {
			return nil, nil, fault.Usagef("--provider zalo needs CCX_ZALO_ACCESS_TOKEN or CCX_ZALO_REFRESH_TOKEN (or CCX_ZALO_TOKEN_FILE from an earlier run)")
		}
		if o.RefreshToken != "" {
			if err := need(provider.Missing(c.Get, "CCX_ZALO_APP_SECRET")); err != nil {
				return nil, nil, err
			}
		}
		a, err := zalo.New(o)
		if err != nil {
			return nil, nil, fault.New(fault.IO, err)
		}
		t := a.Tokens() // the token file's, when newer
		return a, []string{o.AppSecret, o.OASecretKey, o.AccessToken, o.RefreshToken, t.AccessToken, t.RefreshToken}, nil
	}
	return nil, nil, fault.Usagef("--provider %s is not available", opts.Provider)
}
